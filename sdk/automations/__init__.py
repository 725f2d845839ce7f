"""Automations: bases to subclass, their events, and the command that runs them.

    from pioreactor.sdk.automations import TemperatureAutomationJob, UpdatedHeaterDC

    class HoldAt(TemperatureAutomationJob):
        automation_name = "hold_at"
        ...
"""

import importlib

from pioreactor.sdk.automations.base import AutomationJob
from pioreactor.sdk.automations.command import automation_command
from pioreactor.sdk.automations.events import add_automation_events, automation_event
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
    "add_automation_events",
    "automation_command",
    "automation_event",
]


_KIND_BASES = {
    "TemperatureAutomationJob": "pioreactor.plugins_core.temperature.api",
    "LEDAutomationJob": "pioreactor.plugins_core.leds.api",
    "DosingAutomationJob": "pioreactor.plugins_core.dosing.api",
}


def __getattr__(name: str) -> object:
    # the kind bases live in their plugins and pull in hardware and config: load them when asked
    if name in _KIND_BASES:
        return getattr(importlib.import_module(_KIND_BASES[name]), name)
    raise AttributeError(f"module 'pioreactor.sdk.automations' has no attribute {name!r}")
