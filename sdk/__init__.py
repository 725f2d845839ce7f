"""The public API for plugins. Built-in plugins import only this package, as third-party ones do.

Keep plugin top-level modules light: ``from pioreactor.sdk import hookimpl`` is cheap, and the
heavier names below (``BackgroundJob``, the clock, config, hardware) are imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

hookimpl = pluggy.HookimplMarker("pioreactor")
"""Marks a function as a hook implementation, e.g. ``@hookimpl def pioreactor_register_jobs(registry)``."""

hookspec = pluggy.HookspecMarker("pioreactor")
"""Marks a hook specification a plugin adds through ``pioreactor_addhooks(pluginmanager)``."""

# public name -> module that defines it (imported lazily)
_LAZY = {
    "BackgroundJob": "pioreactor.kernel.job",
    "RepeatedTimer": "pioreactor.kernel.timers",
    "Clock": "pioreactor.kernel.clock",
    "get_clock": "pioreactor.kernel.clock",
    "Config": "pioreactor.kernel.config",
    "get_config": "pioreactor.kernel.config",
    "REQUIRED": "pioreactor.kernel.config",
    "Limits": "pioreactor.kernel.config",
    "FiniteFloatRange": "pioreactor.kernel.cli.job_command",
    "protected_config_reason": "pioreactor.kernel.config",
    "get_unit_name": "pioreactor.kernel.identity",
    "check_unit_name": "pioreactor.kernel.identity",
    "check_experiment_name": "pioreactor.kernel.identity",
    "InvalidNameError": "pioreactor.kernel.errors",
    "get_assigned_experiment": "pioreactor.kernel.identity",
    "assign_experiment": "pioreactor.kernel.identity",
    "DEFAULT_EXPERIMENT": "pioreactor.kernel.identity",
    "am_i_leader": "pioreactor.kernel.identity",
    "get_leader_hostname": "pioreactor.kernel.identity",
    "UNIVERSAL_UNIT": "pioreactor.kernel.identity",
    "UNIVERSAL_EXPERIMENT": "pioreactor.kernel.identity",
    "get_logger": "pioreactor.kernel.logs",
    "setup_command_logging": "pioreactor.kernel.logs",
    "NOTICE": "pioreactor.kernel.logs",
    "local_persistent_storage": "pioreactor.kernel.storage",
    "local_intermittent_storage": "pioreactor.kernel.storage",
    "get_hardware": "pioreactor.kernel.hardware",
    "PioreactorError": "pioreactor.kernel.errors",
    "ConfigError": "pioreactor.kernel.errors",
    "DecodeError": "msgspec",
    "ValidationError": "msgspec",
    "HardwareNotFoundError": "pioreactor.kernel.errors",
    "JobAlreadyRunningError": "pioreactor.kernel.errors",
    "Message": "pioreactor.kernel.bus",
    "get_bus": "pioreactor.kernel.bus",
    "storage_dir": "pioreactor.kernel.paths",
    "software_version": "pioreactor.kernel.version",
    "call_hook": "pioreactor.kernel.plugins",
    "HookOutcome": "pioreactor.kernel.hook_calls",
    "PioLogger": "pioreactor.kernel.logs",
    "is_process_alive": "pioreactor.kernel.job_registry",
    "pio_home": "pioreactor.kernel.paths",
}

__all__ = ["hookimpl", "hookspec", *_LAZY]

if TYPE_CHECKING:
    from msgspec import DecodeError, ValidationError
    from pioreactor.kernel.bus import Message, get_bus
    from pioreactor.kernel.cli.job_command import FiniteFloatRange
    from pioreactor.kernel.clock import Clock, get_clock
    from pioreactor.kernel.config import REQUIRED, Config, Limits, get_config, protected_config_reason
    from pioreactor.kernel.errors import (
        ConfigError,
        HardwareNotFoundError,
        InvalidNameError,
        JobAlreadyRunningError,
        PioreactorError,
    )
    from pioreactor.kernel.hardware import get_hardware
    from pioreactor.kernel.hook_calls import HookOutcome
    from pioreactor.kernel.identity import (
        DEFAULT_EXPERIMENT,
        UNIVERSAL_EXPERIMENT,
        UNIVERSAL_UNIT,
        am_i_leader,
        assign_experiment,
        check_experiment_name,
        check_unit_name,
        get_assigned_experiment,
        get_leader_hostname,
        get_unit_name,
    )
    from pioreactor.kernel.job import BackgroundJob
    from pioreactor.kernel.job_registry import is_process_alive
    from pioreactor.kernel.logs import NOTICE, PioLogger, get_logger, setup_command_logging
    from pioreactor.kernel.paths import pio_home, storage_dir
    from pioreactor.kernel.plugins import call_hook
    from pioreactor.kernel.storage import local_intermittent_storage, local_persistent_storage
    from pioreactor.kernel.timers import RepeatedTimer
    from pioreactor.kernel.version import software_version


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pioreactor.sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _forwarder(module: str, *targets: str) -> Callable[[str], Any]:
    """The ``__getattr__`` of an old SDK module whose names moved to plugins' ``api`` modules (or
    another SDK module): each name is looked up in ``targets`` on first use, so the old path
    costs nothing until used."""

    def forward(name: str) -> Any:
        for target in targets if not name.startswith("__") else ():  # __path__ & co: no imports
            found = importlib.import_module(target)
            if name in getattr(found, "__all__", ()):
                return getattr(found, name)
        raise AttributeError(f"module {module!r} has no attribute {name!r} (see {' and '.join(targets)})")

    return forward


def __dir__() -> list[str]:
    return sorted(__all__)
