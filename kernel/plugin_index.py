"""A small on-disk index of the plugins, so most commands skip entry-point scanning.

Scanning entry points means importing importlib.metadata and stevedore (about 30 ms and 8 MB
per process on our kind of machine). The index stores what the last scan found (the entry
points, the registered jobs, the failures) with a fingerprint of everything that could change
the answer: the modification times of the package folders (site-packages, ``PYTHONPATH``) (installing or removing a
package changes them), of each plugin's module file, and of ``$PIO_HOME/plugins``, plus the
switches in the environment. Any difference means a fresh scan. ``PIO_NO_PLUGIN_INDEX=1``
turns the index off.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pioreactor.kernel import paths
from pioreactor.kernel.version import __version__

ENV_SWITCHES = ("PIO_SKIP_PLUGINS", "PIO_DISABLED_PLUGINS", "PIO_STRICT_PLUGINS")


def index_path() -> Path:
    return paths.pio_home() / "storage" / "plugin_index.json"


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def package_folders() -> list[str]:
    """Where distributions (and so entry points) can be installed: site folders and PYTHONPATH."""
    import site

    folders = list(site.getsitepackages())
    user = site.getusersitepackages()
    if isinstance(user, str):
        folders.append(user)
    folders.extend(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    return folders


def fingerprint(module_files: list[str]) -> dict[str, Any]:
    plugins_dir = paths.plugins_dir()
    local_files = sorted(str(p) for p in plugins_dir.glob("*.py")) if plugins_dir.is_dir() else []
    return {
        "version": __version__,
        "env": {name: os.environ.get(name, "") for name in ENV_SWITCHES},
        "package_folders": {folder: _mtime(folder) for folder in package_folders()},
        "files": {path: _mtime(path) for path in sorted(set(module_files) | set(local_files))},
        "plugins_dir": _mtime(str(plugins_dir)),
    }


def enabled() -> bool:
    return os.environ.get("PIO_NO_PLUGIN_INDEX", "") != "1"


def load() -> dict[str, Any] | None:
    """The stored index if it still describes this environment, else None."""
    if not enabled():
        return None
    try:
        stored = json.loads(index_path().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("fingerprint") != fingerprint(
        stored.get("module_files", [])
    ):
        return None
    return stored


def save(contents: dict[str, Any], module_files: list[str]) -> None:
    if not enabled():
        return
    data = dict(contents, module_files=module_files, fingerprint=fingerprint(module_files))
    path = index_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only PIO_HOME only costs speed
