"""The messages the LEDs publish: ``leds/intensity`` (retained) and each change on ``led_change_events``.

msgspec structs, JSON on the wire, in upstream's shapes (see :mod:`pioreactor.sdk.structs`).
"""

from __future__ import annotations

import msgspec
from pioreactor.sdk.structs import LedChannel, Percent, Timestamp


class LEDsIntensity(msgspec.Struct):
    """Every LED channel's intensity (percent)."""

    A: float = 0.0
    B: float = 0.0
    C: float = 0.0
    D: float = 0.0


class LEDChangeEvent(msgspec.Struct):
    """One channel's change, and who made it."""

    channel: LedChannel
    intensity: Percent
    source_of_event: str | None
    timestamp: Timestamp
