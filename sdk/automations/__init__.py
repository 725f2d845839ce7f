"""Automations: bases to subclass, their events, and the command that runs them.

    from pioreactor.sdk.automations import TemperatureAutomationJob, UpdatedHeaterDC

    class HoldAt(TemperatureAutomationJob):
        automation_name = "hold_at"
        ...
"""

from pioreactor.sdk.automations.base import AutomationJob
from pioreactor.sdk.automations.command import automation_command
from pioreactor.sdk.structs import (
    AutomationEvent,
    ChangedLedIntensity,
    ErrorOccurred,
    NoEvent,
    UpdatedHeaterDC,
)

__all__ = [
    "AutomationEvent",
    "AutomationJob",
    "ChangedLedIntensity",
    "ErrorOccurred",
    "NoEvent",
    "UpdatedHeaterDC",
    "automation_command",
]


def __getattr__(name: str) -> object:
    # the kind bases pull in hardware and config: load them only when asked for
    if name == "TemperatureAutomationJob":
        from pioreactor.sdk.automations.temperature import TemperatureAutomationJob

        return TemperatureAutomationJob
    if name == "LEDAutomationJob":
        from pioreactor.sdk.automations.led import LEDAutomationJob

        return LEDAutomationJob
    if name == "DosingAutomationJob":
        from pioreactor.sdk.automations.dosing import DosingAutomationJob

        return DosingAutomationJob
    raise AttributeError(f"module 'pioreactor.sdk.automations' has no attribute {name!r}")
