"""``pioreactor.utils.networking``: this unit's address, and how to reach another unit."""

from __future__ import annotations

import ipaddress
import socket


def get_ip() -> str:
    """This machine's address on the local network (127.0.0.1 if it has none)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def resolve_to_address(hostname: str) -> str:
    """Where to reach ``hostname``: an IP or a dotted name as given, this unit as localhost,
    another unit as ``<name>.local`` (mDNS, as upstream)."""
    from pioreactor.whoami import get_unit_name

    try:
        ipaddress.ip_address(hostname)
        return hostname
    except ValueError:
        pass
    if hostname in (get_unit_name(), "localhost") or "." in hostname:
        return "localhost" if hostname == get_unit_name() else hostname
    return f"{hostname}.local"


def is_using_local_access_point() -> bool:
    return False
