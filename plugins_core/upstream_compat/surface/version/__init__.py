"""``pioreactor.version``: the software version, in upstream's names."""

from __future__ import annotations

import importlib.metadata

try:
    __version__ = importlib.metadata.version("pioreactor")
except importlib.metadata.PackageNotFoundError:
    __version__ = "0.0.0"

software_version_info = tuple(int(p) if p.isdigit() else p for p in __version__.split("."))


def get_firmware_version() -> tuple[int, int]:
    return (0, 0)


def get_hardware_version() -> tuple[int, int]:
    return (1, 1)
