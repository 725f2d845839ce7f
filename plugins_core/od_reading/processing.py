"""Turning photodiode samples into one clean voltage.

Samples of a channel are spread over whole periods of the mains frequency; mains hum shows
up in them as a sinusoid. After dropping the highest and lowest sample (an outlier guard), a
least-squares fit of ``v = c + a·sin(2πft) + b·cos(2πft)`` gives ``c``, the signal without the
hum. No numpy: the normal equations are 3x3.
"""

from __future__ import annotations

import math


def _solve3(m: list[list[float]], v: list[float]) -> list[float]:
    """Solve a 3x3 linear system by Gaussian elimination with partial pivoting."""
    a = [row[:] + [v[i]] for i, row in enumerate(m)]
    for col in range(3):
        pivot = max(range(col, 3), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-15:
            raise ZeroDivisionError("singular system")
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, 3):
            factor = a[r][col] / a[col][col]
            for k in range(col, 4):
                a[r][k] -= factor * a[col][k]
    x = [0.0, 0.0, 0.0]
    for r in (2, 1, 0):
        x[r] = (a[r][3] - sum(a[r][k] * x[k] for k in range(r + 1, 3))) / a[r][r]
    return x


def remove_mains_hum(times: list[float], values: list[float], mains_hz: float) -> float:
    """The constant part of ``values`` sampled at ``times`` (seconds), hum at ``mains_hz`` removed."""
    if len(values) < 5:
        return sum(values) / len(values)
    ordered = sorted(range(len(values)), key=values.__getitem__)
    keep = ordered[1:-1]  # drop the min and the max
    m = [[0.0] * 3 for _ in range(3)]
    rhs = [0.0, 0.0, 0.0]
    for i in keep:
        phase = 2 * math.pi * mains_hz * times[i]
        row = (1.0, math.sin(phase), math.cos(phase))
        for r in range(3):
            rhs[r] += row[r] * values[i]
            for c in range(3):
                m[r][c] += row[r] * row[c]
    try:
        return _solve3(m, rhs)[0]
    except ZeroDivisionError:
        return sum(values[i] for i in keep) / len(keep)


class ReferenceTracker:
    """Smooths the REF photodiode (the IR LED's own output) with an exponential moving average.

    Dividing each reading by it cancels drifts of the LED's brightness (temperature, ageing).
    ``alpha`` is the weight on history, as in upstream's ``pd_reference_ema``.
    """

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.value: float | None = None

    def update(self, reading: float) -> float:
        if self.value is None:
            self.value = reading
        else:
            self.value = (1 - self.alpha) * reading + self.alpha * self.value
        return self.value
