"""Database rows of the data plugin's own sinks (``logs``) and the parser every automation kind
shares for its ``latest_event`` (``automation_event``). Each plugin keeps the parsers of its own
time series beside it (``od_reading``'s in ``od_reading/records.py``, ...).

A sink parser is called as ``parser(topic, payload)`` and returns a row (column -> value), a list
of rows, or None. Every row starts with ``experiment`` and ``pioreactor_unit`` (from the topic
``pioreactor/<unit>/<experiment>/...``) and a ``timestamp`` in the canonical UTC form, so rows
sort in time order as text (:func:`pioreactor.sdk.database.reading_row` builds that start).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from pioreactor.sdk.database import reading_row

Row = dict[str, Any]


class _LogRecord(msgspec.Struct):
    message: str
    level: str
    task: str
    timestamp: str
    source: str = "app"


class _AutomationEventRecord(msgspec.Struct):
    event_name: str
    message: str | None = None
    data: Any = None


_log = msgspec.json.Decoder(_LogRecord)
_automation_event = msgspec.json.Decoder(_AutomationEventRecord)


def log(topic: str, payload: bytes) -> Row:
    """``logs/<source>/<level>`` -> ``logs``: message, task, level, source."""
    r = _log.decode(payload)
    return reading_row(topic, r.timestamp, message=r.message, task=r.task, level=r.level.upper(), source=r.source)


def automation_event(topic: str, payload: bytes) -> Row:
    """``<kind>_automation/latest_event`` -> ``<kind>_automation_events``: event_name, message,
    data (JSON text). The payload has no timestamp: the row gets the time it was received."""
    r = _automation_event.decode(payload)
    data = json.dumps(r.data, sort_keys=True) if r.data is not None else None
    return reading_row(topic, None, event_name=r.event_name, message=r.message, data=data)
