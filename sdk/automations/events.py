"""What every automation kind stores: its ``latest_event`` as the time series
``<kind>_automation_events`` (declared by the plugin that owns the kind)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from pioreactor.sdk.database import reading_row


class _AutomationEventRecord(msgspec.Struct):
    event_name: str
    message: str | None = None
    data: Any = None


_automation_event = msgspec.json.Decoder(_AutomationEventRecord)


def automation_event(topic: str, payload: bytes) -> dict[str, Any]:
    """``<kind>_automation/latest_event`` -> ``<kind>_automation_events``: event_name, message,
    data (JSON text). The payload has no timestamp: the row gets the time it was received."""
    r = _automation_event.decode(payload)
    data = json.dumps(r.data, sort_keys=True) if r.data is not None else None
    return reading_row(topic, None, event_name=r.event_name, message=r.message, data=data)


def add_automation_events(registry: Any, kind: str, description: str) -> None:
    """Declare the time series of ``kind`` automations' events, from a plugin's
    ``pioreactor_register_timeseries(registry)``."""
    registry.add(
        f"{kind}_automation_events",
        topics=f"pioreactor/+/+/{kind}_automation/latest_event",
        parser=f"{__name__}:automation_event",
        columns={"event_name": "TEXT NOT NULL", "message": "TEXT", "data": "TEXT"},
        key=None,  # stamped on receipt: rows are indexed by time, redeliveries recognised by content
        timestamped=False,
        description=description,
    )
