"""Per-channel OD statistics that normalise the readings: a robust mean and a detrended variance.

The culture grows while the samples are taken, so the variance is that of the residuals around a
straight line through the samples (growth would otherwise count as noise). Both statistics drop
the smallest and the largest sample, so one glitch does not skew them.
"""

from __future__ import annotations

from collections.abc import Sequence


def _trimmed_indices(values: Sequence[float]) -> list[int]:
    """Indices of ``values`` without (one of) the smallest and the largest, when there are ≥ 3."""
    indices = list(range(len(values)))
    if len(values) < 3:
        return indices
    lowest = min(indices, key=lambda i: values[i])
    highest = max(indices, key=lambda i: values[i])
    if lowest == highest:  # all equal
        return indices[1:-1]
    return [i for i in indices if i not in (lowest, highest)]


def trimmed_mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("no samples")
    kept = [values[i] for i in _trimmed_indices(values)]
    return sum(kept) / len(kept)


def detrended_variance(values: Sequence[float]) -> float:
    """Variance of the residuals of a least-squares line through the (trimmed) samples over their index."""
    kept = _trimmed_indices(values)
    n = len(kept)
    if n < 3:
        return 0.0
    xs = [float(i) for i in kept]
    ys = [values[i] for i in kept]
    x_mean = sum(xs) / n
    y_mean = sum(ys) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    residuals = [y - (y_mean + slope * (x - x_mean)) for x, y in zip(xs, ys, strict=True)]
    return sum(r * r for r in residuals) / (n - 2)  # two fitted parameters


class StatisticsCollector:
    """Gathers ``n_samples`` readings per channel after skipping the first ``skip`` readings.

    :param n_samples: how many readings each channel needs.
    :param skip: how many whole readings to ignore first (the OD job's start-up ones).
    """

    def __init__(self, n_samples: int, skip: int = 5) -> None:
        if n_samples < 3:
            raise ValueError(f"samples_for_od_statistics must be at least 3, got {n_samples}")
        self.n_samples = n_samples
        self.skip = skip
        self.seen = 0
        self.samples: dict[str, list[float]] = {}
        self.angles: dict[str, str] = {}

    def add(self, ods: dict[str, tuple[str, float]]) -> None:
        """One reading: channel → (angle, od)."""
        self.seen += 1
        if self.seen <= self.skip:
            return
        for channel, (angle, od) in ods.items():
            self.angles.setdefault(channel, angle)
            self.samples.setdefault(channel, []).append(od)

    @property
    def percent_done(self) -> int:
        if not self.samples:
            return 0
        fewest = min(len(values) for values in self.samples.values())
        return min(100, int(100 * fewest / self.n_samples))

    @property
    def done(self) -> bool:
        return bool(self.samples) and all(len(v) >= self.n_samples for v in self.samples.values())

    def means(self) -> dict[str, float]:
        return {channel: trimmed_mean(values) for channel, values in self.samples.items()}

    def variances(self) -> dict[str, float]:
        return {channel: detrended_variance(values) for channel, values in self.samples.items()}
