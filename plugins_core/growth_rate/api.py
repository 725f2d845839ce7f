"""The growth-rate plugin's public API: the parsers of its time series, for reuse or as examples.

    from pioreactor.plugins_core.growth_rate.api import growth_rate

    row = growth_rate("pioreactor/unit1/exp1/growth_rate_calculating/growth_rate", payload)
"""

from __future__ import annotations

from pioreactor.plugins_core.growth_rate.records import growth_rate, kalman_filter_output, od_filtered
from pioreactor.plugins_core.growth_rate.structs import GrowthRate, KalmanFilterOutput, ODFiltered

__all__ = [
    "GrowthRate",
    "KalmanFilterOutput",
    "ODFiltered",
    "growth_rate",
    "kalman_filter_output",
    "od_filtered",
]
