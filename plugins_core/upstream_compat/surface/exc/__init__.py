"""``pioreactor.exc``: upstream's exception names."""

from __future__ import annotations

from pioreactor.sdk import HardwareNotFoundError, JobAlreadyRunningError, PioreactorError


class PWMError(PioreactorError):
    """A PWM channel cannot be used (e.g. another job drives it)."""


class CalibrationError(PioreactorError):
    pass


class JobRequiredError(PioreactorError):
    pass


class JobNotRunningError(PioreactorError):
    pass


class MQTTValueError(ValueError):
    pass


class NotActiveWorkerError(PioreactorError):
    pass


class NotAssignedAnExperimentError(PioreactorError):
    pass


class NoWorkersFoundError(PioreactorError):
    pass


class BashScriptError(PioreactorError):
    pass


class RsyncError(PioreactorError):
    pass


class DodgingTimingError(PioreactorError):
    pass


class UnknownCalibrationError(CalibrationError):
    pass


__all__ = [
    "BashScriptError",
    "CalibrationError",
    "DodgingTimingError",
    "HardwareNotFoundError",
    "JobAlreadyRunningError",
    "JobNotRunningError",
    "JobRequiredError",
    "MQTTValueError",
    "NoWorkersFoundError",
    "NotActiveWorkerError",
    "NotAssignedAnExperimentError",
    "PWMError",
    "RsyncError",
    "UnknownCalibrationError",
]
