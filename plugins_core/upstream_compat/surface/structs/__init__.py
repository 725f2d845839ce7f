"""``pioreactor.structs``: upstream's message structs (the SDK's, plus a few upstream-only ones)."""

from __future__ import annotations

from typing import Any

import msgspec
from pioreactor.sdk.structs import (
    AutomationEvent,
    AutomationSettings,
    DosingEvent,
    GrowthRate,
    KalmanFilterOutput,
    LEDChangeEvent,
    LEDsIntensity,
    MeasuredRPM,
    ODFiltered,
    ODReading,
    ODReadings,
    Temperature,
    Timestamp,
)

__all__ = [
    "AutomationEvent",
    "AutomationSettings",
    "CalibrationBase",
    "DosingEvent",
    "EstimatorBase",
    "GrowthRate",
    "KalmanFilterOutput",
    "LEDChangeEvent",
    "LEDsIntensity",
    "MeasuredRPM",
    "ODFiltered",
    "ODFused",
    "ODReading",
    "ODReadings",
    "RawODReading",
    "Temperature",
    "Voltage",
    "subclass_union",
]

RawODReading = ODReading


class ODFused(msgspec.Struct):
    od_fused: float
    timestamp: Timestamp


class Voltage(msgspec.Struct):
    voltage: float
    timestamp: Timestamp


class EstimatorBase(msgspec.Struct, tag_field="estimator_type", kw_only=True):
    """Base of upstream's stored estimators (subclasses give ``tag=...``)."""

    estimator_name: str = ""
    created_at: Timestamp | None = None


class CalibrationBase(msgspec.Struct, tag_field="calibration_type", kw_only=True):
    """Base of upstream's 25.x calibration structs (the fields plugins read and set)."""

    calibration_name: str = ""
    calibrated_on_pioreactor_unit: str = ""
    created_at: Timestamp | None = None
    curve_data_: list[float] = []
    curve_type: str = "poly"
    x: str = ""
    y: str = ""
    recorded_data: dict[str, list[float]] = {}


def subclass_union(cls: type) -> Any:
    """Union of every subclass of ``cls`` (for msgspec decoding of tagged structs)."""
    from typing import Union

    subclasses: tuple[type, ...] = tuple(cls.__subclasses__())
    return Union[subclasses] if subclasses else cls  # noqa: UP007
