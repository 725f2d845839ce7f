"""Message structs: JSON on the wire (msgspec), and the types their fields use.

A plugin defines the structs of the messages it publishes (``ODReadings`` in the od_reading
plugin's ``api``, ...); here are what every automation publishes, ``encode`` and ``decode``.
Field names and shapes follow upstream Pioreactor, so dashboards and scripts keep working.
Timestamps are timezone-aware UTC datetimes, written as ``2026-11-21T09:48:57.496123Z``.

    from pioreactor.plugins_core.od_reading.api import ODReadings
    readings = decode(message.payload, ODReadings)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from pioreactor.sdk import _forwarder

Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
PdChannel = Literal["1", "2", "3", "4"]
PdAngle = Literal["45", "90", "135", "180"]
LedChannel = Literal["A", "B", "C", "D"]

T = TypeVar("T")
_MOVED_TO = ("od_reading", "growth_rate", "temperature", "stirring", "leds")  # the plugins that publish them
__getattr__ = _forwarder(__name__, *(f"pioreactor.plugins_core.{p}.api" for p in _MOVED_TO))


class DosingEvent(msgspec.Struct):
    """A dose, published before the pump starts. A dose cut short is followed by a second event
    of the same kind with a negative ``volume_change`` (what was not pumped), as upstream does,
    so the sum of the events is what was pumped."""

    volume_change: float
    event: str
    source_of_event: str | None
    timestamp: Timestamp


class AutomationEvent(msgspec.Struct, tag=True, tag_field="event_name"):
    """What an automation's ``execute()`` returns; published as ``latest_event``."""

    message: str | None = None
    data: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{type(self).__name__}: {self.message}" if self.message else type(self).__name__


class NoEvent(AutomationEvent):
    """Nothing was done this run."""


class ChangedLedIntensity(AutomationEvent):
    """An LED automation changed LED intensities."""


class UpdatedHeaterDC(AutomationEvent):
    """A temperature automation changed the heater's duty cycle."""


class ErrorOccurred(AutomationEvent):
    """The run failed; ``message`` says why."""


class DilutionEvent(AutomationEvent):
    """A dosing automation exchanged media (or alt-media) for waste."""


class AddMediaEvent(AutomationEvent):
    """A dosing automation added media."""


class AddAltMediaEvent(AutomationEvent):
    """A dosing automation added alt-media."""


class BioreactorValue(msgspec.Struct):
    """``bioreactor/<variable>`` (current_volume_ml, alt_media_fraction, ...): upstream 26.11's
    retained ``{"timestamp", "value"}`` (a bare number before)."""

    timestamp: Timestamp
    value: float


class AutomationSettings(msgspec.Struct):
    """``<kind>_automation/<kind>_automation_settings``: an automation's settings when it starts,
    at each change, and when it ends (``ended_at``). ``settings`` holds the JSON of
    ``{setting: value}``; as bytes it goes on the wire base64-encoded, as upstream's does."""

    pioreactor_unit: str
    experiment: str
    started_at: Timestamp
    ended_at: Timestamp | None
    automation_name: str
    settings: bytes


def encode(value: Any) -> bytes:
    return msgspec.json.encode(value)


def decode(payload: bytes | str, kind: type[T]) -> T:
    """Decode JSON into ``kind``; raises ``msgspec.ValidationError``/``DecodeError`` with the reason."""
    return msgspec.json.decode(payload, type=kind)
