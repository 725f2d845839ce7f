"""A small plain-text plotter: measured points and a fitted curve, in any terminal (ASCII only)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

POINT = "o"
CURVE = "."


def number(value: float) -> str:
    """A short label for an axis tick."""
    if value == 0:
        return "0"
    return f"{value:.4g}"


def _range(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    return low, high


def text_plot(
    x: Sequence[float],
    y: Sequence[float],
    curve: Callable[[float], float] | None = None,
    *,
    x_label: str = "x",
    y_label: str = "y",
    title: str = "",
    width: int = 60,
    height: int = 15,
) -> str:
    """The points ``(x, y)`` as ``o`` and ``curve`` (sampled at every column) as ``.``, with
    the axes' ends and middles labelled. Returns the plot as lines of text."""
    if not x or len(x) != len(y):
        return "(nothing to plot)"
    width, height = max(width, 10), max(height, 5)
    x_low, x_high = _range(x)
    columns = [x_low + (x_high - x_low) * c / (width - 1) for c in range(width)]
    data_low, data_high = _range(y)
    span = data_high - data_low
    curve_y: list[float | None] = []
    if curve is not None:
        for value in columns:
            try:
                v = curve(value)
            except (ArithmeticError, ValueError):
                v = math.nan
            # a wild curve may leave the data's range a little, never squash the data
            curve_y.append(min(max(v, data_low - 0.5 * span), data_high + 0.5 * span) if math.isfinite(v) else None)
    y_low, y_high = _range([*y, *(v for v in curve_y if v is not None)])

    def row(value: float) -> int:
        return round((y_high - value) / (y_high - y_low) * (height - 1))

    def column(value: float) -> int:
        return round((value - x_low) / (x_high - x_low) * (width - 1))

    grid = [[" "] * width for _ in range(height)]
    previous: int | None = None
    for c, sample in enumerate(curve_y):
        if sample is None:
            previous = None
            continue
        r = row(sample)
        # join steep stretches, so the curve reads as a line
        if previous is None or r == previous:
            low, high = r, r
        elif r > previous:
            low, high = previous + 1, r
        else:
            low, high = r, previous - 1
        for rr in range(max(0, low), min(height - 1, high) + 1):
            grid[rr][c] = CURVE
        previous = r
    for xi, yi in zip(x, y, strict=True):
        grid[row(yi)][column(xi)] = POINT

    y_ticks = {0: number(y_high), height // 2: number(y_high - (y_high - y_low) * (height // 2) / (height - 1)), height - 1: number(y_low)}
    margin = max(len(label) for label in y_ticks.values())
    lines = []
    if title:
        lines.append(title.center(margin + 2 + width).rstrip())
    lines.append(f"{y_label:>{margin}}")
    for r in range(height):
        lines.append(f"{y_ticks.get(r, ''):>{margin}} |" + "".join(grid[r]).rstrip())
    lines.append(" " * margin + " +" + "-" * width)
    left, middle, right = number(x_low), number((x_low + x_high) / 2), number(x_high)
    ticks = [" "] * (width + len(right))
    for position, label in ((0, left), (width // 2 - len(middle) // 2, middle), (width - len(right), right)):
        ticks[position : position + len(label)] = list(label)
    lines.append(" " * (margin + 2) + "".join(ticks).rstrip())
    lines.append(" " * (margin + 2) + x_label.center(width).rstrip())
    legend = f"{POINT} measured" + (f"   {CURVE} fitted curve" if curve is not None else "")
    lines.append(" " * (margin + 2) + legend)
    return "\n".join(lines)


def polynomial_text(coefficients: Sequence[float], x_name: str = "x", y_name: str = "y") -> str:
    """``y = 1.2 * x^2 - 0.5 * x + 0.01``, highest degree first."""
    degree = len(coefficients) - 1
    terms = []
    for power, c in zip(range(degree, -1, -1), coefficients, strict=True):
        if c == 0 and degree > 0:
            continue
        sign = "-" if c < 0 else "+"
        magnitude = f"{abs(c):.6g}"
        term = magnitude if power == 0 else f"{magnitude} * {x_name}" + (f"^{power}" if power > 1 else "")
        terms.append((sign, term))
    if not terms:
        return f"{y_name} = 0"
    first_sign, first = terms[0]
    text = ("-" if first_sign == "-" else "") + first
    for sign, term in terms[1:]:
        text += f" {sign} {term}"
    return f"{y_name} = {text}"
