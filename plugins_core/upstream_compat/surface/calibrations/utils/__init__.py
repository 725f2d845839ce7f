"""``pioreactor.calibrations.utils``: curve helpers in upstream's 25.x form."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def curve_to_functional_form(curve_type: Any, curve_data: Sequence[float] | None = None) -> str:
    """``"poly"`` and coefficients (highest power first) as text, e.g. ``2.0x^2 + 1.0``.

    Also accepts a calibration struct (26.x form) with ``curve_type`` and ``curve_data_``."""
    if curve_data is None:
        curve_data = list(getattr(curve_type, "curve_data_", []))
        curve_type = getattr(curve_type, "curve_type", "poly")
    if curve_type != "poly":
        raise ValueError(f"unknown curve type {curve_type!r}: only 'poly' is supported")
    degree = len(curve_data) - 1
    terms = []
    for i, c in enumerate(curve_data):
        power = degree - i
        terms.append(f"{c:0.3f}" if power == 0 else f"{c:0.3f}x" if power == 1 else f"{c:0.3f}x^{power}")
    return " + ".join(terms)


def curve_to_callable(curve_type: str, curve_data: Sequence[float]) -> Callable[[float], float]:
    if curve_type != "poly":
        raise ValueError(f"unknown curve type {curve_type!r}: only 'poly' is supported")
    coefficients = list(curve_data)

    def curve(x: float) -> float:
        value = 0.0
        for c in coefficients:
            value = value * x + c
        return value

    return curve
