"""The diagnosis records (bottlenecks.diagnose, handoffs.diagnose, compare.compare): each holds exactly what the
fine-grained functions return, and its as_dict is strict JSON — what the CLI's --json prints, with a missing
number as null (a one-case log has no hand-off cost slope, no wait before its first step, an empty cohort)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from analysis import bottlenecks, compare, handoffs, store
from analysis.filters import ALL, CaseFilter
from analysis.importer import ImportOptions, import_file
from analysis.records import plain
from analysis.working_time import WorkCalendar
from tests.test_compare import COHORT_LOG
from tests.test_handoffs import COLUMNS, LOG

ONE_CASE = """case,activity,start,end,resource,department
1,A,2024-03-04 09:00,2024-03-04 10:00,Ann,X
1,B,2024-03-04 12:00,2024-03-04 13:00,Bob,Y
"""
RESOURCES_ONLY = """case,activity,timestamp,resource
1,A,2024-03-04 09:00,Ann
1,B,2024-03-04 12:00,Bob
"""
CALENDAR = WorkCalendar(holidays=("2024-03-06",))


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    """A store with the hand-off log (1), the cohort log (2), a one-case log (3) and a resource-only log (4)."""
    folder = tmp_path_factory.mktemp("records")
    path = folder / "records.duckdb"
    files = {"handoffs.csv": LOG, "cohorts.csv": COHORT_LOG, "one.csv": ONE_CASE, "resources.csv": RESOURCES_ONLY}
    with store.connect(path) as con:
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
            options = ImportOptions(columns=COLUMNS, timestamp_format="%Y-%m-%d %H:%M") \
                if name == "handoffs.csv" else ImportOptions()
            import_file(con, folder / name, options)
    (folder / "calendar.json").write_text(CALENDAR.to_json(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def con(store_path):
    with store.connect(store_path, read_only=True) as connection:
        yield connection


def same_value(a, b) -> None:
    """a equals b: frames exactly, floats with NaN equal to NaN, containers element by element."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            same_value(a[key], b[key])
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b)
    else:
        assert a == b


def close(a, b) -> None:
    """JSON values equal, floats to 1e-9 relative (the CLI and the record may round differently)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            close(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            close(x, y)
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-9)
    else:
        assert a == b


def strict(data) -> dict:
    """The value through strict JSON and back (raises on NaN or infinity)."""
    return json.loads(json.dumps(data, ensure_ascii=False, allow_nan=False))


def test_bottlenecks_record_holds_the_fine_grained_tables(con):
    for calendar in (None, CALENDAR):
        found = bottlenecks.diagnose(con, 1, CaseFilter(activities_present=("Fix",)), calendar)
        same_value(found.activities, bottlenecks.activity_stats(con, 1, CaseFilter(activities_present=("Fix",)),
                                                                calendar))
        same_value(found.edges, bottlenecks.edge_stats(con, 1, CaseFilter(activities_present=("Fix",)), calendar))
        assert (found.working_time, found.has_start) == (calendar is not None, True)
        data = found.as_dict()
        assert data == {"activities": plain(found.activities), "edges": plain(found.edges),
                        "time": "working" if calendar else "calendar"}
        assert strict(data) == data
    assert not bottlenecks.diagnose(con, 4).has_start


def test_handoffs_record_holds_the_fine_grained_results(con):
    found = handoffs.diagnose(con, 1, level="department", calendar=CALENDAR, front=["Branch"])
    same_value(found.matrix, handoffs.handoff_matrix(con, 1, None, "department", CALENDAR))
    same_value(found.pingpong, handoffs.pingpong(con, 1, None, "department"))
    same_value(found.cost, handoffs.handoff_cost(handoffs.handoffs_per_case(con, 1, None, "department")))
    assert found.wait_share == handoffs.handoff_wait_share(con, 1, None, "department", CALENDAR)
    same_value(found.front_line, handoffs.front_line_waits(con, 1, ["Branch"], None, CALENDAR))
    assert (found.level, found.front) == ("department", ("Branch",))
    data = found.as_dict()
    assert list(data) == ["level", "matrix", "pingpong", "per_case", "front_line"]
    assert list(data["per_case"]) == ["seconds_per_handoff", "low_seconds", "high_seconds", "cases",
                                      "median_cycle_by_handoffs", "share_of_cycle_time_waiting_at_handoffs"]
    assert data["matrix"] == plain(found.matrix) and data["front_line"] == plain(found.front_line)
    # Four cases: a slope, but too few cases for its interval (NaN in the frame, null in the record).
    assert math.isnan(found.cost["low"]) and data["per_case"]["low_seconds"] is None
    assert strict(data) == data
    # Without a front line there is none; the level follows the log (department, else resource) when not given.
    resources = handoffs.diagnose(con, 1, level="resource")
    assert resources.front_line is None and "front_line" not in resources.as_dict()
    same_value(resources.matrix, handoffs.handoff_matrix(con, 1, level="resource"))
    assert (handoffs.diagnose(con, 1, level=None).level, handoffs.diagnose(con, 4, level=None).level) == (
        "department", "resource")


def test_comparison_record_holds_the_three_tables_and_the_findings(con):
    cohorts = compare.by_attribute(ALL, "region", ["N"], ["S"])
    found = compare.compare(con, 2, cohorts, CALENDAR)
    same_value(found.kpis, compare.kpi_table(con, 2, cohorts))
    same_value(found.steps, compare.activity_table(con, 2, cohorts, CALENDAR))
    same_value(found.paths, compare.path_table(con, 2, cohorts))
    assert found.cohorts == cohorts
    for lang in ("en", "zh"):
        said = compare.findings(cohorts, found.kpis, found.steps, found.paths, lang)
        assert found.findings(lang) == said
        data = found.as_dict(lang)
        assert (data["a"], data["b"], data["findings"]) == (cohorts.label("a", lang), cohorts.label("b", lang), said)
        assert data["steps"] == plain(found.steps) and data["paths"] == plain(found.paths)
        assert strict(data) == data
    assert found.as_dict()["kpis"]["median_cycle_seconds"] == {"a": 3.5 * 3600, "b": 15.5 * 3600, "delta": 12 * 3600}


def test_records_are_strict_json_where_a_one_case_log_has_no_number(con):
    cost = handoffs.diagnose(con, 3)
    assert math.isnan(cost.cost["seconds_per_handoff"])   # one case: one hand-off count, no slope
    assert cost.as_dict()["per_case"]["seconds_per_handoff"] is None
    waits = bottlenecks.diagnose(con, 3)
    assert math.isnan(waits.activities.set_index("activity").loc["A", "median_wait_seconds"])
    assert waits.as_dict()["activities"][1]["median_wait_seconds"] is None
    # Cohort B (started on 5 March or later) has no case: its KPIs are missing.
    empty = compare.compare(con, 3, compare.by_period(ALL, "2024-03-05"))
    assert empty.as_dict()["kpis"]["median_cycle_seconds"]["b"] is None
    for data in (cost.as_dict(), waits.as_dict(), empty.as_dict(), empty.as_dict("zh")):
        assert strict(data) == data


def test_as_dict_is_what_the_cli_prints(cli, store_path, con):
    calendar = store_path.parent / "calendar.json"
    runs = [(("bottlenecks", "1", "--calendar", calendar), bottlenecks.diagnose(con, 1, None, CALENDAR).as_dict()),
            (("handoffs", "1", "--front", "Branch", "--calendar", calendar),
             handoffs.diagnose(con, 1, None, "department", CALENDAR, ["Branch"]).as_dict()),
            (("compare", "2", "--by", "attribute", "--attribute", "region", "--a", "N", "--b", "S", "--lang", "zh"),
             compare.compare(con, 2, compare.by_attribute(ALL, "region", ["N"], ["S"])).as_dict("zh"))]
    for args, expected in runs:
        code, out, err = cli(*args, "--json", db=store_path)
        assert code == 0, err
        close(plain(json.loads(out)), expected)
