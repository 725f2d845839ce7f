"""Message structs: one per kind of message, JSON on the wire (msgspec).

Field names and shapes follow upstream Pioreactor, so dashboards, scripts and the database
parsers that read these topics keep working. Timestamps are timezone-aware UTC datetimes,
written as ``2026-11-21T09:48:57.496123Z``.

    from pioreactor.sdk.structs import ODReadings, decode
    readings = decode(message.payload, ODReadings)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec

Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
PdChannel = Literal["1", "2", "3", "4"]
PdAngle = Literal["45", "90", "135", "180"]
LedChannel = Literal["A", "B", "C", "D"]

T = TypeVar("T")


class ODReading(msgspec.Struct):
    timestamp: Timestamp
    angle: PdAngle
    od: float
    channel: PdChannel
    ir_led_intensity: float | None = None


class ODReadings(msgspec.Struct):
    timestamp: Timestamp
    ods: dict[PdChannel, ODReading]


class RelativeIntensityOfIrLed(msgspec.Struct):
    """od_reading's ``relative_intensity_of_ir_led``: the REF photodiode's smoothed signal
    relative to its first reading (1.0: the IR LED as bright as at the start)."""

    relative_intensity_of_ir_led: float
    timestamp: Timestamp


class GrowthRate(msgspec.Struct):
    growth_rate: float
    timestamp: Timestamp


class ODFiltered(msgspec.Struct):
    od_filtered: float
    timestamp: Timestamp


class KalmanFilterOutput(msgspec.Struct):
    state: list[float]
    covariance_matrix: list[list[float]]
    timestamp: Timestamp


class Temperature(msgspec.Struct):
    temperature: float
    timestamp: Timestamp


class MeasuredRPM(msgspec.Struct):
    measured_rpm: NonNegative
    timestamp: Timestamp


class LEDsIntensity(msgspec.Struct):
    A: float = 0.0
    B: float = 0.0
    C: float = 0.0
    D: float = 0.0


class LEDChangeEvent(msgspec.Struct):
    channel: LedChannel
    intensity: Percent
    source_of_event: str | None
    timestamp: Timestamp


class DosingEvent(msgspec.Struct):
    """A dose, published before the pump starts. A dose cut short is followed by a second event
    of the same kind with a negative ``volume_change`` (what was not pumped), as upstream does,
    so the sum of the events is what was pumped."""

    volume_change: float
    event: str
    source_of_event: str | None
    timestamp: Timestamp


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


def encode(value: Any) -> bytes:
    return msgspec.json.encode(value)


def decode(payload: bytes | str, kind: type[T]) -> T:
    """Decode JSON into ``kind``; raises ``msgspec.ValidationError``/``DecodeError`` with the reason."""
    return msgspec.json.decode(payload, type=kind)
