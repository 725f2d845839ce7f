"""Rows of ``led_change_events`` from what the LED actions publish."""

from __future__ import annotations

from typing import Any

import msgspec
from pioreactor.plugins_core.leds.structs import LEDChangeEvent
from pioreactor.sdk.database import reading_row

_led_change = msgspec.json.Decoder(LEDChangeEvent)


def led_change_event(topic: str, payload: bytes) -> dict[str, Any]:
    """``led_change_events`` -> ``led_change_events``: channel, intensity, source_of_event."""
    r = _led_change.decode(payload)
    return reading_row(topic, r.timestamp, channel=r.channel, intensity=r.intensity, source_of_event=r.source_of_event)
