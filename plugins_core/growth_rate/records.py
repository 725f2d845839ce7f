"""Rows of the growth-rate time series from what ``growth_rate_calculating`` publishes."""

from __future__ import annotations

from typing import Any

import msgspec
from pioreactor.plugins_core.growth_rate.structs import GrowthRate, KalmanFilterOutput, ODFiltered
from pioreactor.sdk.database import reading_row

_growth_rate = msgspec.json.Decoder(GrowthRate)
_od_filtered = msgspec.json.Decoder(ODFiltered)
_kalman = msgspec.json.Decoder(KalmanFilterOutput)


def growth_rate(topic: str, payload: bytes) -> dict[str, Any]:
    """``growth_rate_calculating/growth_rate`` -> ``growth_rates``: rate (per hour)."""
    r = _growth_rate.decode(payload)
    return reading_row(topic, r.timestamp, rate=r.growth_rate)


def od_filtered(topic: str, payload: bytes) -> dict[str, Any]:
    """``growth_rate_calculating/od_filtered`` -> ``od_readings_filtered``: normalized_od_reading."""
    r = _od_filtered.decode(payload)
    return reading_row(topic, r.timestamp, normalized_od_reading=r.od_filtered)


def kalman_filter_output(topic: str, payload: bytes) -> dict[str, Any]:
    """``growth_rate_calculating/kalman_filter_outputs`` -> ``kalman_filter_outputs``:
    state_0..state_2 and the upper triangle of the covariance, cov_00 ... cov_22."""
    r = _kalman.decode(payload)
    row = reading_row(topic, r.timestamp)
    for i in range(3):
        row[f"state_{i}"] = r.state[i] if i < len(r.state) else None
    for i in range(3):
        for j in range(i, 3):
            inside = i < len(r.covariance_matrix) and j < len(r.covariance_matrix[i])
            row[f"cov_{i}{j}"] = r.covariance_matrix[i][j] if inside else None
    return row
