"""Exceptions the kernel raises; each message says what is wrong and how to fix it."""

from __future__ import annotations


class PioreactorError(Exception):
    """Base class: the CLI prints these as one clear line instead of a traceback."""


class ConfigError(PioreactorError):
    """A config file is malformed, a key is missing, or a value has the wrong type."""


class JobAlreadyRunningError(PioreactorError):
    """The job is already running on this unit."""


class JobNotFoundError(PioreactorError):
    """No plugin registered a job under that name."""


class HardwareNotFoundError(PioreactorError, OSError):
    """The hardware a backend needs is not present."""


class RegistrationError(PioreactorError):
    """A plugin registered something that collides with, or is invalid against, another plugin."""


class InvalidNameError(PioreactorError, ValueError):
    """A unit or experiment name that cannot be an MQTT topic segment (``/``, ``+``, ``#``...)."""
