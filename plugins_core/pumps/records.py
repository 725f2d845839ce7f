"""Rows of ``dosing_events`` from what every dose publishes."""

from __future__ import annotations

from typing import Any

import msgspec
from pioreactor.sdk.database import reading_row
from pioreactor.sdk.structs import DosingEvent

_dosing = msgspec.json.Decoder(DosingEvent)


def dosing_event(topic: str, payload: bytes) -> dict[str, Any]:
    """``dosing_events`` -> ``dosing_events``: volume_change_ml, event, source_of_event."""
    r = _dosing.decode(payload)
    return reading_row(
        topic, r.timestamp, volume_change_ml=r.volume_change, event=r.event, source_of_event=r.source_of_event
    )
