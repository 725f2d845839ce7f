"""Where a unit keeps its files: everything hangs off ``$PIO_HOME`` (default ``~/.pioreactor``)."""

from __future__ import annotations

import os
from pathlib import Path


def pio_home() -> Path:
    """The folder holding config.ini, plugins/, storage/ and logs (``$PIO_HOME``)."""
    return Path(os.environ.get("PIO_HOME") or Path.home() / ".pioreactor").expanduser()


_made: set[Path] = set()


def storage_dir() -> Path:
    path = pio_home() / "storage"
    if path not in _made:  # called on every storage access: create it once per process
        path.mkdir(parents=True, exist_ok=True)
        _made.add(path)
    return path


def plugins_dir() -> Path:
    """Single-file plugins: every ``*.py`` in here is loaded as a plugin."""
    return pio_home() / "plugins"


def global_config_path() -> Path:
    return pio_home() / "config.ini"


def unit_config_path() -> Path:
    return pio_home() / "unit_config.ini"


def default_log_file() -> Path:
    return pio_home() / "logs" / "pioreactor.log"
