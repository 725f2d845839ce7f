"""Old home of experiments: its names now live in :mod:`pioreactor.plugins_core.data.api` and :mod:`pioreactor.sdk`, and still import from here."""

from typing import Any

from pioreactor.sdk import _forward


def __getattr__(name: str) -> Any:
    return _forward(__name__, name, "pioreactor.plugins_core.data.api", "pioreactor.sdk")
