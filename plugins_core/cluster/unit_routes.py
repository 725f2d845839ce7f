"""What a unit does for its leader on ``/unit_api``: reboot or shut down (through the hardware
backend's board, which a simulated unit only records), and receive or remove a file under its
``$PIO_HOME`` (``pios cp``, ``pios rm``)."""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path, PurePosixPath
from typing import Any

from flask import request
from pioreactor.plugins_core.web.api import ApiError, json_body, unit_name


def power_here(action: str) -> dict[str, Any]:
    from pioreactor.sdk import get_hardware

    backend = get_hardware()
    board = backend.board() if hasattr(backend, "board") else None
    if board is None or not hasattr(board, "power"):
        raise ApiError(
            501,
            f"the {backend.name!r} hardware backend of {unit_name()} cannot {action}",
            remediation=f"{action.capitalize()} the unit by hand.",
        )
    return {"unit": unit_name(), "action": action, "result": board.power(action)}


def reboot() -> Any:
    """Reboot this unit (a simulated unit records the request and leaves the machine alone)."""
    return power_here("reboot")


def shutdown() -> Any:
    """Shut this unit down (a simulated unit records the request and leaves the machine alone)."""
    return power_here("shutdown")


def home_relative(path: str) -> Path:
    """``path`` (relative to ``$PIO_HOME``) as a path inside this unit's ``$PIO_HOME``; 400 for an
    absolute path, a ``..`` part, or one that resolves outside (a symlink)."""
    from pioreactor.sdk.unit import pio_home

    parts = PurePosixPath(path.replace("\\", "/")).parts
    if not path or path.startswith(("/", "\\")) or not parts or any(p in ("..", ".", "") for p in parts) or "\x00" in path:
        raise ApiError(
            400,
            f"path {path!r} is not allowed",
            cause="give a path relative to $PIO_HOME, without '..'",
            remediation="e.g. plugins/my_plugin.py",
        )
    home = Path(pio_home()).resolve()
    target = (home / Path(*parts)).resolve()
    if home not in target.parents:
        raise ApiError(400, f"path {path!r} is not allowed", cause="it resolves outside $PIO_HOME")
    return target


def put_file() -> Any:
    """Write a file under ``$PIO_HOME``: ``{"path": "plugins/x.py", "content_base64": "..."}``."""
    body = json_body({"path": str, "content_base64": str})
    target = home_relative(body["path"])
    try:
        data = base64.b64decode(body["content_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "field 'content_base64' is not base64") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)  # a reader sees the old file or the new one
    return {"unit": unit_name(), "path": body["path"], "bytes": len(data)}


def delete_file() -> Any:
    """Remove a file under ``$PIO_HOME``: ``?path=plugins/x.py`` (or ``{"path"}``); 404 if absent."""
    path = request.args.get("path") or json_body(optional={"path": str}, allow_empty=True).get("path")
    if not path:
        raise ApiError(400, "say which file: ?path=<path relative to $PIO_HOME>")
    target = home_relative(str(path))
    if target.is_dir():
        raise ApiError(400, f"{path!r} is a folder; only files are removed")
    if not target.exists():
        raise ApiError(404, f"no file {path!r} under $PIO_HOME of {unit_name()}")
    target.unlink()
    return {"unit": unit_name(), "path": path, "removed": True}
