"""Database rows of the data plugin's own sink, ``logs``. Each plugin keeps the parsers of its own
time series beside it (``od_reading``'s in ``od_reading/records.py``, ...).

A sink parser is called as ``parser(topic, payload)`` and returns a row (column -> value), a list
of rows, or None. Every row starts with ``experiment`` and ``pioreactor_unit`` (from the topic
``pioreactor/<unit>/<experiment>/...``) and a ``timestamp`` in the canonical UTC form, so rows
sort in time order as text (:func:`pioreactor.sdk.database.reading_row` builds that start).
"""

from __future__ import annotations

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


_log = msgspec.json.Decoder(_LogRecord)


def log(topic: str, payload: bytes) -> Row:
    """``logs/<source>/<level>`` -> ``logs``: message, task, level, source."""
    r = _log.decode(payload)
    return reading_row(topic, r.timestamp, message=r.message, task=r.task, level=r.level.upper(), source=r.source)
