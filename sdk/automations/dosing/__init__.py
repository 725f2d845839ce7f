"""Old home of the dosing automation base: its names now live in :mod:`pioreactor.plugins_core.dosing.api`, and still import from here."""

from typing import Any

from pioreactor.sdk import _forward


def __getattr__(name: str) -> Any:
    return _forward(__name__, name, "pioreactor.plugins_core.dosing.api")
