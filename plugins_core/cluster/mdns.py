"""Finding units on the local network by mDNS (python-zeroconf): every web server advertises
``<unit>._pio-worker._tcp.local.`` with its port and unit name; ``pio workers discover`` lists
what answers, so a new worker can be added without knowing its address."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

SERVICE_TYPE = "_pio-worker._tcp.local."


def _addresses(host: str) -> list[bytes]:
    """The IPv4 addresses to advertise: the one the server listens on, or every one of this
    machine (for 0.0.0.0)."""
    if host not in ("", "0.0.0.0"):  # noqa: S104 (a comparison, not a bind)
        return [socket.inet_aton(socket.gethostbyname(host))]
    import ifaddr

    found = [ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips if isinstance(ip.ip, str)]
    return [socket.inet_aton(ip) for ip in found if not ip.startswith("169.254.")] or [socket.inet_aton("127.0.0.1")]


def advertise(unit: str, host: str, port: int, on_error: Callable[[str], None] | None = None) -> Callable[[], None]:
    """Advertise this unit's web server (in a background thread: mDNS probing takes a second or
    two); returns a function that withdraws it."""
    state: dict[str, Any] = {}
    stopped = threading.Event()

    def register() -> None:
        try:
            from pioreactor.sdk import software_version
            from zeroconf import IPVersion, ServiceInfo, Zeroconf

            info = ServiceInfo(
                SERVICE_TYPE,
                f"{unit}.{SERVICE_TYPE}",
                addresses=_addresses(host),
                port=port,
                properties={"pioreactor_unit": unit, "version": software_version()},
                server=f"{unit}.local.",
            )
            zeroconf = Zeroconf(ip_version=IPVersion.V4Only)
            state["zeroconf"], state["info"] = zeroconf, info
            if stopped.is_set():
                return
            zeroconf.register_service(info, allow_name_change=True)
        except Exception as err:  # no multicast on this network: the unit still works, unlisted
            if on_error is not None:
                on_error(f"{type(err).__name__}: {err}")

    thread = threading.Thread(target=register, name="mdns_advertise", daemon=True)
    thread.start()

    def withdraw() -> None:
        stopped.set()
        thread.join(0.5)  # still probing: the process's exit ends it, nothing to withdraw yet
        zeroconf = state.get("zeroconf")
        if zeroconf is not None:
            try:
                zeroconf.unregister_service(state["info"])
            except Exception:  # noqa: S110 (already gone; closing is what matters)
                pass
            zeroconf.close()

    return withdraw


def discover(seconds: float = 3.0) -> list[dict[str, Any]]:
    """The units that answer within ``seconds``: ``[{"pioreactor_unit", "address", "version"}]``."""
    from zeroconf import IPVersion, ServiceBrowser, ServiceListener, Zeroconf

    found: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    class Listener(ServiceListener):
        def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
            info = zc.get_service_info(type_, name, timeout=int(seconds * 1000))
            if info is None or not info.parsed_addresses():
                return
            props = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
            unit = props.get("pioreactor_unit") or name.removesuffix(f".{SERVICE_TYPE}")
            with lock:
                found[unit] = {
                    "pioreactor_unit": unit,
                    "address": f"{info.parsed_addresses()[0]}:{info.port}",
                    "version": props.get("version", ""),
                }

        def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
            self.add_service(zc, type_, name)

        def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
            pass

    zeroconf = Zeroconf(ip_version=IPVersion.V4Only)
    try:
        browser = ServiceBrowser(zeroconf, SERVICE_TYPE, Listener())
        time.sleep(seconds)  # browsing is listening for a while: answers come when they come
        browser.cancel()
    finally:
        zeroconf.close()
    with lock:
        return sorted(found.values(), key=lambda row: row["pioreactor_unit"])
