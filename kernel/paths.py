"""Where a unit keeps its files: everything hangs off ``$PIO_HOME`` (default ``~/.pioreactor``)."""

from __future__ import annotations

import functools
import os
from pathlib import Path


def pio_home() -> Path:
    """The folder holding config.ini, plugins/, storage/ and logs (``$PIO_HOME``)."""
    return _home(os.environ.get("PIO_HOME"), os.environ.get("HOME"))


# storage is reached on every reading of every job: the paths are built once per environment
# (a pathlib.Path costs a dozen small objects to build and to hash)
@functools.lru_cache(maxsize=16)
def _home(pio_home_variable: str | None, home_variable: str | None) -> Path:
    # $HOME is part of the key only: Path.home() reads it
    return Path(pio_home_variable or Path.home() / ".pioreactor").expanduser()


def storage_dir() -> Path:
    return _storage_dir(pio_home())


@functools.lru_cache(maxsize=16)
def _storage_dir(home: Path) -> Path:
    path = home / "storage"
    path.mkdir(parents=True, exist_ok=True)  # once per process and home
    return path


def storage_file(name: str) -> Path:
    """The file ``name`` in the storage folder."""
    return _in_folder(storage_dir(), name)


@functools.lru_cache(maxsize=64)
def _in_folder(folder: Path, name: str) -> Path:
    return folder / name


def plugins_dir() -> Path:
    """Single-file plugins: every ``*.py`` in here is loaded as a plugin."""
    return pio_home() / "plugins"


def global_config_path() -> Path:
    return pio_home() / "config.ini"


def unit_config_path() -> Path:
    return pio_home() / "unit_config.ini"


def default_log_file() -> Path:
    return pio_home() / "logs" / "pioreactor.log"
