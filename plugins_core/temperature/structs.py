"""The messages temperature_automation publishes: ``temperature``.

msgspec structs, JSON on the wire, in upstream's shapes (see :mod:`pioreactor.sdk.structs`).
"""

from __future__ import annotations

import msgspec
from pioreactor.sdk.structs import Timestamp


class Temperature(msgspec.Struct):
    """The vial's temperature (°C)."""

    temperature: float
    timestamp: Timestamp
