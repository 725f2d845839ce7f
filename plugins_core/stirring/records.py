"""Rows of ``stirring_rates`` from what ``stirring`` publishes."""

from __future__ import annotations

from typing import Any

import msgspec
from pioreactor.plugins_core.stirring.structs import MeasuredRPM
from pioreactor.sdk.database import reading_row

_rpm = msgspec.json.Decoder(MeasuredRPM)


def measured_rpm(topic: str, payload: bytes) -> dict[str, Any]:
    """``stirring/measured_rpm`` -> ``stirring_rates``: measured_rpm."""
    r = _rpm.decode(payload)
    return reading_row(topic, r.timestamp, measured_rpm=r.measured_rpm)
