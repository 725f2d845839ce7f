"""Rows of ``temperature_readings`` from what the temperature automation publishes."""

from __future__ import annotations

from typing import Any

import msgspec
from pioreactor.plugins_core.temperature.structs import Temperature
from pioreactor.sdk.database import reading_row

_temperature = msgspec.json.Decoder(Temperature)


def temperature(topic: str, payload: bytes) -> dict[str, Any]:
    """``temperature_automation/temperature`` -> ``temperature_readings``: temperature_c."""
    r = _temperature.decode(payload)
    return reading_row(topic, r.timestamp, temperature_c=r.temperature)
