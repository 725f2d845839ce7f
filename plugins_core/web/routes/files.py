"""``/unit_api/system/path/...``: browse the files of ``$PIO_HOME`` (read-only), as upstream's
Leader page does. Nothing outside ``$PIO_HOME`` is reachable, whatever the path says; the file
``$PIO_HOME/DISALLOW_UI_FILE_SYSTEM`` turns the route off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import send_file
from pioreactor.plugins_core.web.api import ApiError
from pioreactor.sdk.unit import pio_home

SWITCH = "DISALLOW_UI_FILE_SYSTEM"


def _inside(root: Path, req_path: str) -> Path:
    target = (root / req_path).resolve()
    if target != root and root not in target.parents:
        raise ApiError(400, f"path {req_path!r} leaves $PIO_HOME", remediation="Give a path inside $PIO_HOME.")
    return target


def browse(req_path: str = "") -> Any:
    """A folder of ``$PIO_HOME`` as ``{"current", "dirs", "files"}``, or a file's content."""
    root = pio_home().resolve()
    if (root / SWITCH).exists():
        raise ApiError(403, "browsing files is turned off on this unit", cause=f"{root / SWITCH} exists")
    target = _inside(root, req_path)
    if not target.exists():
        raise ApiError(404, f"no such file or folder: {req_path!r}")
    if target.is_file():
        return send_file(target, mimetype="text/plain")
    entries = sorted(target.iterdir(), key=lambda p: p.name)
    return {
        "current": str(target.relative_to(root)) if target != root else "",
        "dirs": [p.name for p in entries if p.is_dir()],
        "files": [p.name for p in entries if p.is_file()],
    }
