"""``pioreactor.automations.events``: what an automation's ``execute()`` returns."""

from pioreactor.sdk.structs import (
    AddAltMediaEvent,
    AddMediaEvent,
    AutomationEvent,
    ChangedLedIntensity,
    DilutionEvent,
    ErrorOccurred,
    NoEvent,
    UpdatedHeaterDC,
)

ChangedLuminosity = ChangedLedIntensity

__all__ = [
    "AddAltMediaEvent",
    "AddMediaEvent",
    "AutomationEvent",
    "ChangedLedIntensity",
    "ChangedLuminosity",
    "DilutionEvent",
    "ErrorOccurred",
    "NoEvent",
    "UpdatedHeaterDC",
]
