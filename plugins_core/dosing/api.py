"""The dosing plugin's public API: the base of dosing automations and what they return.

    from pioreactor.plugins_core.dosing.api import DilutionEvent, DosingAutomationJob

    class Dilute(DosingAutomationJob):
        automation_name = "dilute"

        def execute(self):
            self.execute_io_action(media_ml=1.0, waste_ml=1.0)
            return DilutionEvent("diluted 1 ml")

``DosingAutomationJob`` splits doses into sub-doses, tracks the vial's volume and alt-media
fraction, refuses to overfill, and reads OD and growth rate from MQTT (``JobRequiredError``
when they are missing or stale).
"""

from __future__ import annotations

from pioreactor.plugins_core.dosing.automation import (
    AddAltMediaEvent,
    AddMediaEvent,
    AutomationEvent,
    DilutionEvent,
    DosingAutomationJob,
    ErrorOccurred,
    JobRequiredError,
    NoEvent,
)
from pioreactor.plugins_core.dosing.records import alt_media_fraction, liquid_volume

__all__ = [
    "AddAltMediaEvent",
    "AddMediaEvent",
    "AutomationEvent",
    "DilutionEvent",
    "DosingAutomationJob",
    "ErrorOccurred",
    "JobRequiredError",
    "NoEvent",
    "alt_media_fraction",
    "liquid_volume",
]
