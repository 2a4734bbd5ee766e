"""The dashboard's chart, laid out on the server as SVG coordinates.

No JavaScript: the template draws two lines (PV solid, UV dashed, so they differ without
colour) with a point per day whose ``<title>`` gives the exact numbers, a y axis with round
steps, and a few date labels. The page also shows the same figures as a table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .selectors import DayRow

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


@dataclass(frozen=True)
class Point:
    x: float
    y_pv: float
    y_uv: float
    row: DayRow


@dataclass(frozen=True)
class Tick:
    position: float
    label: str
    anchor: str = "middle"  # the first and last date labels stay inside the picture


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    points: list[Point] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)

    @property
    def pv_path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y_pv:.1f}" for p in self.points)

    @property
    def uv_path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y_uv:.1f}" for p in self.points)


def nice_step(maximum: int, steps: int = 4) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving about ``steps`` gridlines."""
    if maximum <= 0:
        return 1
    raw = maximum / steps
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return max(1, int(factor * magnitude))
    return int(10 * magnitude)


def build_chart(rows: Sequence[DayRow]) -> Chart:
    chart = Chart()
    if not rows:
        return chart
    step = nice_step(max(max(row.pv, row.uv) for row in rows))
    top_value = step * max(1, math.ceil(max(max(row.pv, row.uv) for row in rows) / step))
    span_y = chart.bottom - chart.top
    span_x = chart.right - chart.left

    def y(value: int) -> float:
        return chart.bottom - span_y * value / top_value

    def x(index: int) -> float:
        return chart.left + (span_x * index / (len(rows) - 1) if len(rows) > 1 else span_x / 2)

    chart.points = [Point(x(i), y(row.pv), y(row.uv), row) for i, row in enumerate(rows)]
    chart.y_ticks = [Tick(y(value), f"{value:,}") for value in range(0, top_value + 1, step)]
    label_every = max(1, math.ceil(len(rows) / 6))
    last = len(rows) - 1
    chart.x_ticks = [
        Tick(
            x(i),
            row.date.strftime("%m-%d"),
            "start" if i == 0 < last else "end" if i == last > 0 else "middle",
        )
        for i, row in enumerate(rows)
        if i % label_every == 0 or i == last
    ]
    return chart
