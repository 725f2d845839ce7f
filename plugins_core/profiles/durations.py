"""Times in profiles: a number is hours; a string is a number with a unit (``30s``, ``2m``, ``1.5h``, ``2d``)."""

from __future__ import annotations

import math
import re

DURATION = re.compile(r"^\s*(?P<number>[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(?P<unit>[smhd])\s*$", re.I)
SECONDS_PER_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
EXAMPLES = "a number of hours (0.5) or a number with a unit: 30s, 2m, 1.5h, 2d"


class DurationError(ValueError):
    """A time that is not a duration, or a negative one (``code`` says which)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def parse_duration(value: object) -> float:
    """Seconds from a profile time (a number of hours, or ``"30s"``, ``"2m"``, ``"1.5h"``, ``"2d"``)."""
    if isinstance(value, bool) or value is None:
        raise DurationError(f"{value!r} is not a duration", "time.invalid")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise DurationError(f"{value!r} is not a duration", "time.invalid")
        if value < 0:
            raise DurationError(f"{value:g} is negative: times count forward from the start", "time.negative")
        return float(value) * 3600.0
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-") and DURATION.match(text[1:]):
            raise DurationError(f"{value!r} is negative: times count forward from the start", "time.negative")
        match = DURATION.match(text)
        if match is None:
            raise DurationError(f"{value!r} is not a duration", "time.invalid")
        return float(match["number"]) * SECONDS_PER_UNIT[match["unit"].lower()]
    raise DurationError(f"{value!r} is not a duration", "time.invalid")


def format_duration(seconds: float) -> str:
    """``0s``, ``30s``, ``1.5m``, ``2h``, ``1d 2h``: short and exact enough for a timeline."""
    if seconds < 60:
        return f"{round(seconds, 2):g}s"
    if seconds < 3600:
        return f"{round(seconds / 60, 2):g}m"
    if seconds < 86400 * 4:
        return f"{round(seconds / 3600, 3):g}h"
    days, rest = divmod(seconds, 86400)
    return f"{int(days)}d" + (f" {round(rest / 3600, 2):g}h" if rest >= 36 else "")
