"""Rows of the OD time series (``od_readings``, ``raw_od_readings``, ``od_blanks``) from what
``od_reading`` and ``od_blank`` publish."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from pioreactor.sdk.database import reading_row


class _ODRecord(msgspec.Struct):
    """An OD reading as od_reading publishes it (``od1``..., ``raw_od1``..., ``od_blank/mean/<ch>``)."""

    timestamp: datetime
    angle: str
    od: float
    channel: str
    calibrated: int = 0


_od = msgspec.json.Decoder(_ODRecord)


def od_reading(topic: str, payload: bytes) -> dict[str, Any]:
    """``od_reading/od<N>`` -> ``od_readings``: od_reading, angle, channel, calibrated (0 or 1)."""
    r = _od.decode(payload)
    return reading_row(
        topic, r.timestamp, od_reading=r.od, angle=int(r.angle), channel=int(r.channel), calibrated=r.calibrated
    )


def raw_od_reading(topic: str, payload: bytes) -> dict[str, Any]:
    """``od_reading/raw_od<N>`` -> ``raw_od_readings`` (the signal before any OD calibration)."""
    r = _od.decode(payload)
    return reading_row(topic, r.timestamp, od_reading=r.od, angle=int(r.angle), channel=int(r.channel))


def od_blank(topic: str, payload: bytes) -> dict[str, Any]:
    """``od_blank/mean/<channel>`` -> ``od_blanks`` (the payload has the shape of a raw reading)."""
    return raw_od_reading(topic, payload)


class _RelativeIntensity(msgspec.Struct):
    relative_intensity_of_ir_led: float
    timestamp: datetime


_relative_ir = msgspec.json.Decoder(_RelativeIntensity)


def ir_led_intensity(topic: str, payload: bytes) -> dict[str, Any]:
    """``od_reading/relative_intensity_of_ir_led`` -> ``ir_led_intensities``: relative_intensity."""
    r = _relative_ir.decode(payload)
    return reading_row(topic, r.timestamp, relative_intensity=r.relative_intensity_of_ir_led)

