"""Charts drawn by the server as inline SVG: no script, nothing fetched from elsewhere, and
they scale with the page (a `viewBox`, no fixed width), so they read on a phone too.

Each function returns markup ready for a template, or None when there is nothing to draw.
Every text that goes into the SVG is escaped; numbers are formatted here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 36
MAX_BAR_LABELS = 12


def _value(value: float) -> str:
    return f"{value:.4g}"


def _frame(title: str, body: list[str], low: float, high: float) -> Markup:
    """The SVG around `body`: its title, the value axis from `low` to `high`."""
    inner_height = HEIGHT - TOP - BOTTOM
    grid = []
    for step in range(3):
        value = low + (high - low) * step / 2
        y = TOP + inner_height * (1 - step / 2)
        grid.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_value(value)}</text>'
        )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(grid)}{''.join(body)}</svg>"
    )


def _bounds(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if low == high:
        low, high = low - (abs(low) or 1) * 0.1, high + (abs(high) or 1) * 0.1
    if low > 0 and low < (high - low):  # close to zero: start the axis there
        low = 0.0
    return low, high


def _y(value: float, low: float, high: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (value - low) / (high - low))


def line(title: str, points: Sequence[tuple[str, float]]) -> Markup | None:
    """Values in order (a project's score over its runs), each a dot labelled below."""
    if not points:
        return None
    low, high = _bounds([value for _label, value in points])
    span = WIDTH - LEFT - RIGHT
    step = span / max(1, len(points) - 1)
    coordinates = [
        (LEFT + (index * step if len(points) > 1 else span / 2), _y(value, low, high))
        for index, (_label, value) in enumerate(points)
    ]
    every = max(1, math.ceil(len(points) / MAX_BAR_LABELS))
    body = [
        '<polyline class="series" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        + '"/>'
    ]
    for index, ((label, value), (x, y)) in enumerate(zip(points, coordinates, strict=True)):
        body.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="4">'
            f"<title>{escape(label)}: {_value(value)}</title></circle>"
        )
        if index % every == 0:
            body.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return _frame(title, body, low, high)


def bars(title: str, values: Sequence[tuple[str, float]]) -> Markup | None:
    """One bar per labelled value (a run's score per moon), from zero or the lowest value."""
    if not values:
        return None
    low, high = _bounds([value for _label, value in values])
    low, high = min(low, 0.0), max(high, 0.0)
    width = (WIDTH - LEFT - RIGHT) / len(values)
    zero = _y(0.0, low, high)
    every = max(1, math.ceil(len(values) / MAX_BAR_LABELS))
    body = []
    for index, (label, value) in enumerate(values):
        x = LEFT + index * width
        y = _y(value, low, high)
        top, height = min(y, zero), abs(zero - y)
        kind = "bar" if value >= 0 else "bar negative"
        body.append(
            f'<rect class="{kind}" x="{x + width * 0.1:.1f}" y="{top:.1f}" '
            f'width="{width * 0.8:.1f}" height="{max(height, 0.5):.1f}">'
            f"<title>{escape(label)}: {_value(value)}</title></rect>"
        )
        if index % every == 0:
            body.append(
                f'<text x="{x + width / 2:.1f}" y="{HEIGHT - BOTTOM + 18}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _frame(title, body, low, high)


def histogram(title: str, values: Sequence[float], bins: int = 10) -> Markup | None:
    """How many values fall in each of `bins` equal ranges (the leaderboard's scores)."""
    if not values:
        return None
    low, high = min(values), max(values)
    if low == high:
        return bars(title, [(_value(low), float(len(values)))])
    width = (high - low) / bins
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / width))] += 1
    return bars(
        title, [(_value(low + width * (index + 0.5)), float(n)) for index, n in enumerate(counts)]
    )
