"""Database rows of the data plugin's own sink, ``logs``. Each plugin keeps the parsers of its own
time series beside it (``od_reading``'s in ``od_reading/records.py``, ...).

A sink parser is called as ``parser(topic, payload)`` and returns a row (column -> value), a list
of rows, or None. Every row starts with ``experiment`` and ``pioreactor_unit`` (from the topic
``pioreactor/<unit>/<experiment>/...``) and a ``timestamp`` in the canonical UTC form, so rows
sort in time order as text (:func:`pioreactor.sdk.database.reading_row` builds that start).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from pioreactor.sdk.database import canonical_timestamp, reading_row

Row = dict[str, Any]


class _LogRecord(msgspec.Struct):
    message: str
    level: str
    task: str
    timestamp: str
    source: str = "app"


_log = msgspec.json.Decoder(_LogRecord)


def log(topic: str, payload: bytes) -> Row:
    """``logs/<source>/<level>`` -> ``logs``: message, task, level, source."""
    r = _log.decode(payload)
    return reading_row(topic, r.timestamp, message=r.message, task=r.task, level=r.level.upper(), source=r.source)


def unit_label(topic: str, payload: bytes) -> Row | None:
    """``<unit>/<experiment>/unit_label`` -> ``pioreactor_unit_labels``: label, created_at (on receipt)."""
    row = reading_row(topic, None)
    label = payload.decode("utf-8").strip()
    if not label:
        return None
    return {
        "experiment": row["experiment"],
        "pioreactor_unit": row["pioreactor_unit"],
        "label": label,
        "created_at": row["timestamp"],
    }


class _AutomationSettingsRecord(msgspec.Struct):
    pioreactor_unit: str
    experiment: str
    started_at: datetime
    automation_name: str
    settings: str
    ended_at: datetime | None = None


_automation_settings = msgspec.json.Decoder(_AutomationSettingsRecord)


def automation_settings(topic: str, payload: bytes) -> Row:
    """``<kind>_automation/<kind>_automation_settings`` -> ``<kind>_automation_settings``: one row per
    run and settings (started_at, ended_at, automation_name, settings as upstream's base64 JSON)."""
    r = _automation_settings.decode(payload)
    row = reading_row(topic, r.started_at)
    return {
        "pioreactor_unit": row["pioreactor_unit"],
        "experiment": row["experiment"],
        "started_at": row["timestamp"],
        "ended_at": canonical_timestamp(r.ended_at) if r.ended_at is not None else None,
        "automation_name": r.automation_name,
        "settings": r.settings,
    }

