"""The public API for plugins. Built-in plugins import only this package, as third-party ones do.

Keep plugin top-level modules light: ``from pioreactor.sdk import hookimpl`` is cheap, and the
heavier names below (``BackgroundJob``, the clock, config, hardware) are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pluggy

hookimpl = pluggy.HookimplMarker("pioreactor")
"""Marks a function as a hook implementation, e.g. ``@hookimpl def pioreactor_register_jobs(registry)``."""

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
    "am_i_leader": "pioreactor.kernel.identity",
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
}

__all__ = ["hookimpl", *_LAZY]

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
    from pioreactor.kernel.identity import (
        UNIVERSAL_EXPERIMENT,
        UNIVERSAL_UNIT,
        am_i_leader,
        check_experiment_name,
        check_unit_name,
        get_assigned_experiment,
        get_unit_name,
    )
    from pioreactor.kernel.job import BackgroundJob
    from pioreactor.kernel.logs import NOTICE, get_logger, setup_command_logging
    from pioreactor.kernel.storage import local_intermittent_storage, local_persistent_storage
    from pioreactor.kernel.timers import RepeatedTimer


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pioreactor.sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
