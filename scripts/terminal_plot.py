"""A small scatter chart drawn with characters, for the demo's summary (no plotting library needed).

``chart([Series("estimate", "*", points), ...])`` returns the chart as text: one character cell
per (column, row), later series drawn over earlier ones, a linear or logarithmic y axis.
``save_png`` writes the same charts with matplotlib, if it happens to be installed.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

Point = tuple[float, float]


@dataclass
class Series:
    label: str
    marker: str
    points: list[Point]


def unicode_ok() -> bool:
    return "utf" in (getattr(sys.stdout, "encoding", "") or "").lower()


def _ticks(low: float, high: float, log: bool) -> list[float]:
    """Round values between ``low`` and ``high`` to label the y axis with (3 to about 6 of them)."""
    if log:
        first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
        for mantissas in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
            ticks = [m * 10.0**e for e in range(first, last + 1) for m in mantissas]
            ticks = [t for t in ticks if low <= t <= high]
            if len(ticks) >= 3:
                return ticks
        return ticks or [low, high]
    raw = (high - low) / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(low / step), math.floor(high / step) + 1)]


def chart(
    series: list[Series],
    *,
    title: str,
    width: int = 64,
    height: int = 14,
    log_y: bool = False,
    x_min: float | None = None,
    x_label: str = "simulated hours",
) -> str:
    """The series as a character chart (title, plot with a labelled y axis, x axis, legend)."""
    usable = [(s, [(x, y) for x, y in s.points if math.isfinite(y) and (y > 0 or not log_y)]) for s in series]
    xs = [x for _, pts in usable for x, _ in pts]
    ys = [y for _, pts in usable for _, y in pts]
    if not xs:
        return f"{title}\n  (no data)\n"
    x0, x1 = min(xs) if x_min is None else min(x_min, *xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if log_y:
        y0, y1 = y0 / 1.1, y1 * 1.1
    else:
        pad = (y1 - y0) * 0.05 or abs(y1) * 0.1 or 1.0
        y0, y1 = y0 - pad, y1 + pad
    x1 = x1 if x1 > x0 else x0 + 1.0

    def scale(y: float) -> float:
        return math.log(y) if log_y else y

    def row_of(y: float) -> int:
        frac = (scale(y) - scale(y0)) / (scale(y1) - scale(y0))
        return height - 1 - min(height - 1, max(0, round(frac * (height - 1))))

    def col_of(x: float) -> int:
        return min(width - 1, max(0, round((x - x0) / (x1 - x0) * (width - 1))))

    grid = [[" "] * width for _ in range(height)]
    for s, pts in usable:
        for x, y in pts:
            grid[row_of(y)][col_of(x)] = s.marker
    labels = {row_of(t): f"{t:.3g}" for t in _ticks(y0, y1, log_y)}  # later ticks win a shared row
    fancy = unicode_ok()
    vertical, corner, horizontal = ("│", "└", "─") if fancy else ("|", "+", "-")
    lines = [title]
    for r, cells in enumerate(grid):
        lines.append(f"{labels.get(r, ''):>8} {vertical}{''.join(cells)}")
    lines.append(f"{'':>8} {corner}{horizontal * width}")
    axis = [" "] * (width + 8)
    for i in range(5):
        x = x0 + (x1 - x0) * i / 4
        text = f"{x:.1f}"
        start = min(len(axis) - len(text), max(0, col_of(x) - len(text) // 2))
        axis[start : start + len(text)] = text
    lines.append(f"{'':>9}{''.join(axis).rstrip()}   {x_label}")
    lines.append(f"{'':>9}" + "   ".join(f"{s.marker} {s.label}" for s in series))
    return "\n".join(lines) + "\n"


def save_png(path: Path, panels: list[tuple[str, list[Series], bool]]) -> bool:
    """Write ``panels`` (title, series, log y) one above the other; False if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return False
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 3.2 * len(panels)), sharex=True)
    for ax, (title, series, log_y) in zip(axes, panels, strict=True):
        for s in series:
            xs, ys = zip(*s.points, strict=True) if s.points else ((), ())
            style = {"s": 2, "alpha": 0.4} if s.marker in ".·" else {"s": 6}
            ax.scatter(xs, ys, label=s.label, **style)
        ax.set_title(title)
        if log_y:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.legend(loc="upper left")
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("simulated hours")
    axes[-1].set_xlim(left=0)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
