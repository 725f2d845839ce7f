"""The messages od_reading publishes: each channel's reading (``od1``..., ``raw_od1``...) and all of them at once (``ods``).

msgspec structs, JSON on the wire, in upstream's shapes (see :mod:`pioreactor.sdk.structs`).
"""

from __future__ import annotations

import msgspec
from pioreactor.sdk.structs import PdAngle, PdChannel, Timestamp


class ODReading(msgspec.Struct):
    """One channel's reading: ``od`` (the signal, or OD600 when calibrated), its ``angle`` and ``channel``."""

    timestamp: Timestamp
    angle: PdAngle
    od: float
    channel: PdChannel
    ir_led_intensity: float | None = None


class ODReadings(msgspec.Struct):
    """Every channel of one reading (``od_reading/ods``)."""

    timestamp: Timestamp
    ods: dict[PdChannel, ODReading]


class CalibratedODReading(ODReading):
    """An OD reading as od_reading publishes it (``ods``, ``od1``...): ``calibrated`` is 1 when
    ``od`` is OD600 through the active calibration of its angle, 0 when ``od`` is the
    photodiode's signal (relative to the REF photodiode). Upstream's shape; a consumer that
    decodes it as a plain ``ODReading`` ignores the extra field."""

    calibrated: int = 0


class RelativeIntensityOfIrLed(msgspec.Struct):
    """``od_reading/relative_intensity_of_ir_led``: the REF photodiode's smoothed signal relative
    to its first reading (1.0: the IR LED as bright as at the start)."""

    relative_intensity_of_ir_led: float
    timestamp: Timestamp

