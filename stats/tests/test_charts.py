"""Chart layout: round gridline steps, one point per day inside the plot area, a few
date labels, lines in day order."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from stats.charts import build_chart, nice_step
from stats.selectors import DayRow


@pytest.mark.parametrize(
    ("maximum", "step"),
    [(0, 1), (1, 1), (3, 1), (7, 2), (10, 5), (40, 10), (95, 50), (1234, 500), (20000, 5000)],
)
def test_steps_are_round(maximum, step):
    assert nice_step(maximum) == step


def rows(values: list[tuple[int, int]]) -> list[DayRow]:
    start = date(2026, 11, 1)  # fixed date: layout only, no clock; the labels below name it
    return [DayRow(start + timedelta(days=i), pv, uv, live=False) for i, (pv, uv) in enumerate(values)]


def test_points_fill_the_plot_area_and_scale_to_the_top_gridline():
    chart = build_chart(rows([(0, 0), (50, 20), (100, 40)]))
    xs = [point.x for point in chart.points]
    assert xs == sorted(xs) and xs[0] == chart.left and xs[-1] == chart.right
    assert chart.points[0].y_pv == chart.bottom
    assert chart.points[-1].y_pv == pytest.approx(chart.top)
    assert [tick.label for tick in chart.y_ticks] == ["0", "50", "100"]
    assert chart.pv_path.startswith(f"{chart.left:.1f},{chart.bottom:.1f}")
    assert len(chart.uv_path.split()) == 3


def test_ninety_days_get_a_handful_of_date_labels_including_the_last():
    chart = build_chart(rows([(n, n // 2) for n in range(90)]))
    labels = [tick.label for tick in chart.x_ticks]
    assert 6 <= len(labels) <= 8 and labels[0] == "11-01" and labels[-1] == "01-29"


def test_a_quiet_period_and_a_single_day_still_draw():
    quiet = build_chart(rows([(0, 0)] * 7))
    assert all(point.y_pv == quiet.bottom for point in quiet.points)
    single = build_chart(rows([(5, 2)]))
    assert single.points[0].x == (single.left + single.right) / 2
    assert build_chart([]).points == []
