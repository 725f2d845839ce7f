"""Old home of dodging OD readings: its names now live in :mod:`pioreactor.plugins_core.od_reading.api`, and still import from here."""

from typing import Any

from pioreactor.sdk import _forward


def __getattr__(name: str) -> Any:
    return _forward(__name__, name, "pioreactor.plugins_core.od_reading.api")
