"""The chart builders (analysis/charts.py): each draws the traces its page shows, with values in days, from a frame
small enough to check by hand; names from the log are escaped for plotly's label markup."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis import charts
from analysis.formatting import DAY, HOUR, duration

BOLD = "<b>Fin</b>"
BOLD_SHOWN = "&lt;b&gt;Fin&lt;/b&gt;"  # plotly decodes the entities when it draws the label


def values(seq) -> list:
    """A trace's x or y as a plain list (plotly keeps tuples or numpy arrays)."""
    return [v.item() if hasattr(v, "item") else v for v in seq]


def test_label_escapes_plotly_markup():
    assert charts.label(BOLD) == BOLD_SHOWN
    assert charts.label("A & B") == "A &amp; B" and charts.label(3) == "3"


def test_cycle_time_histogram_in_days_with_median_and_p90():
    fig = charts.cycle_time_histogram(pd.Series([DAY, 2 * DAY, 4 * DAY]), "en", 2 * DAY, 4 * DAY)
    assert isinstance(fig, go.Figure) and [tr.type for tr in fig.data] == ["histogram"]
    assert values(fig.data[0].x) == [1.0, 2.0, 4.0] and fig.data[0].nbinsx == 60
    assert [s.x0 for s in fig.layout.shapes] == [2.0, 4.0]
    assert [a.text for a in fig.layout.annotations] == [f"median {duration(2 * DAY, 'en')}",
                                                        f"P90 {duration(4 * DAY, 'en')}"]
    assert fig.layout.title.text == "Cycle-time distribution"
    assert not charts.cycle_time_histogram(pd.Series([DAY]), "en", None, math.nan).layout.shapes


def test_throughput_started_and_finished_per_week():
    weekly = pd.DataFrame({"week": pd.to_datetime(["2024-03-04", "2024-03-11"]), "started": [3, 1],
                           "finished": [0, 4]})
    fig = charts.throughput(weekly, "en")
    assert [tr.name for tr in fig.data] == ["started", "finished"]
    assert values(fig.data[0].y) == [3, 1] and values(fig.data[1].y) == [0, 4]


def test_cycle_by_attribute_one_box_per_value():
    stats = pd.DataFrame({"value": ["North", BOLD], "q1": [DAY, 2 * DAY], "median": [2 * DAY, 3 * DAY],
                          "q3": [3 * DAY, 4 * DAY], "lower_fence": [0.0, DAY], "upper_fence": [4 * DAY, 6 * DAY]})
    fig = charts.cycle_by_attribute(stats, "Region", "en")
    assert [tr.name for tr in fig.data] == ["North", BOLD_SHOWN]
    assert all(tr.type == "box" and values(tr.x) == [tr.name] for tr in fig.data)
    assert values(fig.data[1].median) == [3.0] and values(fig.data[1].upperfence) == [6.0]
    assert "Region" in fig.layout.title.text and fig.layout.xaxis.title.text == "Region"


ACTIVITIES = pd.DataFrame({
    "activity": ["Approve", BOLD, "Ship"], "share_of_waiting": [0.5, 0.3, 0.2],
    "total_wait_seconds": [5 * DAY, 3 * DAY, 2 * DAY], "total_processing_seconds": [DAY, math.nan, 0.5 * DAY],
})


def test_pareto_bars_and_running_total():
    fig = charts.pareto(ACTIVITIES, "en")
    bars, line = fig.data
    assert (bars.type, line.type) == ("bar", "scatter")
    assert values(bars.x) == ["Approve", BOLD_SHOWN, "Ship"] and values(bars.y) == pytest.approx([50, 30, 20])
    assert values(line.y) == pytest.approx([50, 80, 100])
    assert [s.y0 for s in fig.layout.shapes] == [60]
    assert values(charts.pareto(ACTIVITIES, "en", top=2).data[0].y) == pytest.approx([50, 30])


def test_wait_vs_work_in_case_days():
    fig = charts.wait_vs_work(ACTIVITIES, "en")
    waiting, processing = fig.data
    assert (waiting.name, processing.name) == ("waiting before the step", "processing")
    assert values(waiting.y) == ["Approve", BOLD_SHOWN, "Ship"] and values(waiting.x) == [5.0, 3.0, 2.0]
    assert values(processing.x)[0] == 1.0 and math.isnan(values(processing.x)[1])
    assert fig.layout.yaxis.autorange == "reversed"


def test_wait_trend_one_line_per_step():
    monthly = pd.DataFrame({"month": pd.to_datetime(["2024-03-01", "2024-04-01", "2024-03-01"]),
                            "activity": ["A", "A", "B"], "median_wait_seconds": [DAY, 2 * DAY, 12 * HOUR]})
    fig = charts.wait_trend(monthly, "en")
    assert [tr.name for tr in fig.data] == ["A", "B"]
    assert values(fig.data[0].y) == [1.0, 2.0] and values(fig.data[1].y) == [0.5]


def test_wait_heatmap_values_by_steps_in_order():
    heat = pd.DataFrame({"value": ["pilot", "pilot", "routine"], "activity": ["A", "B", "A"],
                         "median_wait_seconds": [DAY, 3 * DAY, 2 * DAY]})
    fig = charts.wait_heatmap(heat, "Type", "en", ["B", "A", "C"])
    (grid,) = fig.data
    assert values(grid.x) == ["B", "A"] and values(grid.y) == ["pilot", "routine"]
    assert grid.z[0].tolist() == [3.0, 1.0] and math.isnan(grid.z[1][0]) and grid.z[1][1] == 2.0


def test_path_waits_biggest_at_the_top():
    edges = pd.DataFrame({"source": ["A", BOLD], "target": ["B", "C"], "total_wait_seconds": [4 * DAY, DAY],
                          "frequency": [10, 3]})
    (bars,) = charts.path_waits(edges, "en").data
    assert values(bars.y) == [f"{BOLD_SHOWN} → C", "A → B"]  # drawn bottom-up: the biggest last, at the top
    assert values(bars.x) == [1.0, 4.0]


MATRIX = pd.DataFrame({"from": ["Sales", "Sales", BOLD], "to": [BOLD, "Legal", "Sales"], "count": [5, 2, 1],
                       "median_wait_seconds": [DAY, 2 * DAY, 3 * DAY], "cases": [4, 2, 1]})


def test_handoff_heatmap_counts_and_waits_in_days():
    (grid,) = charts.handoff_heatmap(MATRIX, "en").data
    names = [BOLD_SHOWN, "Legal", "Sales"]  # sorted by the names as written: "<" before letters
    assert values(grid.x) == names and values(grid.y) == names
    z = pd.DataFrame(grid.z, index=names, columns=names)
    assert z.loc["Sales", BOLD_SHOWN] == 5 and z.loc["Sales", "Legal"] == 2 and z.loc[BOLD_SHOWN, "Sales"] == 1
    assert math.isnan(z.loc["Legal", "Sales"])
    waits = pd.DataFrame(charts.handoff_heatmap(MATRIX, "en", "median_wait_seconds").data[0].z, index=names,
                         columns=names)
    assert waits.loc["Sales", "Legal"] == 2.0
    top = charts.handoff_heatmap(MATRIX, "en", top=1).data[0]
    assert values(top.x) == [BOLD_SHOWN, "Sales"]


def test_handoff_cost_points_fit_and_band():
    groups = pd.DataFrame({"handoffs": [1, 2, 3], "median_cycle_seconds": [DAY, 2 * DAY, 3 * DAY],
                           "cases": [1, 5, 1]})
    cost = {"by_handoffs": groups, "seconds_per_handoff": DAY, "low": 0.5 * DAY, "high": 1.5 * DAY}
    fig = charts.handoff_cost(cost, "en")
    assert [tr.mode for tr in fig.data] == ["markers", "lines", "lines", "lines"]
    assert values(fig.data[0].y) == [1.0, 2.0, 3.0]
    # Through the median case (2 hand-offs, 2 days), one day more per hand-off; the band half a day either way.
    assert values(fig.data[1].y) == [1.0, 2.0, 3.0] and values(fig.data[2].y) == [1.5, 2.0, 2.5]
    cost |= {"seconds_per_handoff": math.nan}
    assert len(charts.handoff_cost(cost, "en").data) == 1


def test_front_line_held_in_days():
    front = pd.DataFrame({"department": ["Finance", BOLD], "median_held_seconds": [3 * DAY, DAY]})
    (bars,) = charts.front_line_held(front, "en").data
    assert values(bars.y) == [BOLD_SHOWN, "Finance"] and values(bars.x) == [1.0, 3.0]


def test_redesign_distribution_as_is_and_to_be():
    fig = charts.redesign_distribution(pd.DataFrame({"cycle_seconds": [2 * DAY, 4 * DAY]}),
                                       pd.DataFrame({"cycle_seconds": [DAY, 2 * DAY]}), "en")
    assert [(tr.type, tr.name) for tr in fig.data] == [("histogram", "As-is"), ("histogram", "To-be")]
    assert values(fig.data[0].x) == [2.0, 4.0] and values(fig.data[1].x) == [1.0, 2.0]
    assert fig.layout.barmode == "overlay"


def test_compare_steps_biggest_difference_first():
    steps = pd.DataFrame({"activity": ["A", BOLD, "C"], "time_per_case_a": [DAY, 2 * DAY, DAY],
                          "time_per_case_b": [DAY, 5 * DAY, 0.0], "delta_per_case": [0.0, 3 * DAY, -DAY]})
    a, b = charts.compare_steps(steps, "en").data
    assert (a.name, b.name) == ("A", "B")
    assert values(a.y) == [BOLD_SHOWN, "C", "A"]
    assert values(a.x) == [2.0, 1.0, 1.0] and values(b.x) == [5.0, 0.0, 1.0]


def test_triage_scatter_one_colour_per_track():
    triaged = pd.DataFrame({"case_id": ["c1", "c2", BOLD], "handoffs": [9, 2, 3],
                            "cycle_seconds": [10 * DAY, DAY, 2 * DAY], "score": [5, 0, 1],
                            "track": ["project", "routine", "routine"]})
    fig = charts.triage_scatter(triaged, "en")
    points = [tr for tr in fig.data if tr.type == "scatter"]
    assert [tr.name for tr in points] == ["project", "routine"]
    assert values(points[1].y) == [1.0, 2.0] and values(points[1].hovertext) == ["c2", BOLD_SHOWN]
    assert [tr.type for tr in fig.data].count("box") == 2


def test_variant_chart_cases_and_cumulative_share():
    table = pd.DataFrame({"rank": [1, 2, 3], "cases": [6, 3, 1], "cumulative_share": [0.6, 0.9, 1.0],
                          "median_seconds": [DAY, DAY, DAY]})
    fig = charts.variant_chart(table, "en", top=2)
    bars, line = fig.data
    assert values(bars.y) == [6, 3] and values(line.y) == pytest.approx([60, 90]) and line.yaxis == "y2"


def test_case_timeline_waits_and_work_by_department():
    t0 = pd.Timestamp("2024-03-05 09:00")
    timeline = pd.DataFrame({
        "pos": [1, 2], "activity": ["Ask", BOLD], "department": ["Sales", None], "resource": ["ann", None],
        "wait_from": [pd.NaT, t0 + pd.Timedelta(hours=1)], "start": [t0, t0 + pd.Timedelta(hours=3)],
        "end": [t0 + pd.Timedelta(hours=1), t0 + pd.Timedelta(hours=3)],
        "wait_seconds": [math.nan, 2 * HOUR], "processing_seconds": [HOUR, math.nan]})
    fig = charts.case_timeline(timeline, "en", ["Legal", "Sales"], 3 * HOUR)
    kinds = {tr.name: tr for tr in fig.data}
    assert set(kinds) == {"Sales", "waiting", "(no department)"}
    assert values(kinds["waiting"].y) == [f"2. {BOLD_SHOWN}"]
    assert kinds["Sales"].marker.color == charts.process_map.PALETTE[1]  # the log's departments in name order
    assert values(kinds["Sales"].hovertext) == [f"ann · worked {duration(HOUR, 'en')}"]
    assert values(kinds["(no department)"].hovertext) == [" · worked –"]
