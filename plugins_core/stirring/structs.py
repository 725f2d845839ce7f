"""The messages stirring publishes: ``measured_rpm``.

msgspec structs, JSON on the wire, in upstream's shapes (see :mod:`pioreactor.sdk.structs`).
"""

from __future__ import annotations

import msgspec
from pioreactor.sdk.structs import NonNegative, Timestamp


class MeasuredRPM(msgspec.Struct):
    """The stirrer speed the hall sensor measured."""

    measured_rpm: NonNegative
    timestamp: Timestamp
