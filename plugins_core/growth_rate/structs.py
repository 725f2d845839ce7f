"""The messages growth_rate_calculating publishes: ``growth_rate``, ``od_filtered``, ``kalman_filter_outputs``.

msgspec structs, JSON on the wire, in upstream's shapes (see :mod:`pioreactor.sdk.structs`).
"""

from __future__ import annotations

import msgspec
from pioreactor.sdk.structs import Timestamp


class GrowthRate(msgspec.Struct):
    """The estimated growth rate (per hour)."""

    growth_rate: float
    timestamp: Timestamp


class ODFiltered(msgspec.Struct):
    """The filtered, normalised OD (1.0 at the start)."""

    od_filtered: float
    timestamp: Timestamp


class KalmanFilterOutput(msgspec.Struct):
    """The filter's state and covariance."""

    state: list[float]
    covariance_matrix: list[list[float]]
    timestamp: Timestamp
