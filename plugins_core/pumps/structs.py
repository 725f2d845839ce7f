"""The messages every dose publishes on ``dosing_events``, before the pump starts.

msgspec structs, JSON on the wire, in upstream's shapes (see :mod:`pioreactor.sdk.structs`).
"""

from __future__ import annotations

import msgspec
from pioreactor.sdk.structs import NonNegative, Timestamp


class DosingEvent(msgspec.Struct):
    """A dose, published before the pump starts: ``event`` (``add_media``...) and ``volume_change`` (ml)."""

    volume_change: NonNegative
    event: str
    source_of_event: str | None
    timestamp: Timestamp
