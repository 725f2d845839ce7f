"""Rows of ``liquid_volumes`` and ``alt_media_fractions`` from what a dosing automation
publishes (plain numbers with no timestamp: rows are stamped on receipt)."""

from __future__ import annotations

import math
from typing import Any

from pioreactor.sdk.database import reading_row


def _number(payload: bytes) -> float:
    value = float(payload)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {payload[:40]!r}")
    return value


def liquid_volume(topic: str, payload: bytes) -> dict[str, Any]:
    """``dosing_automation/current_volume_ml`` -> ``liquid_volumes``: liquid_volume (mL), stamped on receipt."""
    return reading_row(topic, None, liquid_volume=_number(payload))


def alt_media_fraction(topic: str, payload: bytes) -> dict[str, Any]:
    """``dosing_automation/alt_media_fraction`` -> ``alt_media_fractions``, stamped on receipt."""
    return reading_row(topic, None, alt_media_fraction=_number(payload))
