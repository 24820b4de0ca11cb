"""The same figure on every page is the same number: hand-offs and units per case on a department log and on a
resource-only log, worked out by hand, as Overview, Hand-offs, Project or routine, Compare and Redesign count them."""

from __future__ import annotations

import pytest

from analysis import compare, handoffs, importer, overview, pairs, redesign, triage
from analysis.filters import ALL

# Case 1: Sales → Finance → Sales (2 hand-offs, 2 units); case 2: Sales, (blank), Finance (1 hand-off: the blank
# is skipped; 2 units); case 3: Sales, Sales (0 hand-offs, 1 unit). Mean 1.0 hand-off and 5/3 units per case.
# Matrix: Sales → Finance 2 (cases 1 and 2), Finance → Sales 1.
DEPARTMENT_LOG = """case,activity,timestamp,department
1,A,2024-03-04 09:00,Sales
1,B,2024-03-04 10:00,Finance
1,C,2024-03-04 12:00,Sales
2,A,2024-03-05 09:00,Sales
2,X,2024-03-05 10:00,
2,C,2024-03-05 11:00,Finance
3,A,2024-03-06 09:00,Sales
3,B,2024-03-06 11:00,Sales
"""
# The same shape with people and no department column: Ann → Bob → Ann; Ann, (blank), Cy; Bob, Bob.
RESOURCE_LOG = """case,activity,timestamp,resource
1,A,2024-03-04 09:00,Ann
1,B,2024-03-04 10:00,Bob
1,C,2024-03-04 12:00,Ann
2,A,2024-03-05 09:00,Ann
2,X,2024-03-05 10:00,
2,C,2024-03-05 11:00,Cy
3,A,2024-03-06 09:00,Bob
3,B,2024-03-06 11:00,Bob
"""

HANDOFFS = {"1": 2, "2": 1, "3": 0}
UNITS = {"1": 2, "2": 2, "3": 1}


@pytest.fixture(params=["department", "resource"])
def log(request, db, write):
    """(connection, log id, unit) for the department log and for the resource-only log."""
    text = DEPARTMENT_LOG if request.param == "department" else RESOURCE_LOG
    log_id = importer.import_file(db, write(f"{request.param}.csv", text)).log_id
    return db, log_id, request.param


def test_the_resource_log_is_what_the_comment_says(db, write):
    log_id = importer.import_file(db, write("r.csv", RESOURCE_LOG)).log_id
    rows = db.execute("SELECT case_id, resource, department FROM events WHERE log_id = ? ORDER BY case_id, pos",
                      [log_id]).fetchall()
    assert rows == [("1", "Ann", None), ("1", "Bob", None), ("1", "Ann", None), ("2", "Ann", None),
                    ("2", None, None), ("2", "Cy", None), ("3", "Bob", None), ("3", "Bob", None)]


def test_the_unit_falls_back_from_department_to_resource(log):
    con, log_id, unit = log
    assert pairs.handoff_unit(con, log_id) == unit


def test_overview_counts_the_hand_made_figures(log):
    con, log_id, unit = log
    k = overview.kpis(con, log_id)
    assert k["handoff_unit"] == unit
    assert k["handoffs_per_case"] == pytest.approx(1.0)
    assert k["departments_per_case"] == pytest.approx(5 / 3)


def test_every_page_counts_the_same_hand_offs(log):
    con, log_id, unit = log
    per_case = handoffs.handoffs_per_case(con, log_id, ALL, unit).set_index("case_id")["handoffs"].to_dict()
    assert per_case == HANDOFFS                                               # Hand-offs page: per case
    matrix = handoffs.handoff_matrix(con, log_id, ALL, unit)
    assert int(matrix["count"].sum()) == sum(HANDOFFS.values())               # Hand-offs page: the matrix
    features = triage.case_features(con, log_id).set_index("case_id")
    assert features["handoffs"].to_dict() == HANDOFFS                         # Project or routine
    assert features["departments"].to_dict() == UNITS
    as_is = redesign.replay(con, log_id).set_index("case_id")
    assert as_is["handoffs"].to_dict() == HANDOFFS                            # Redesign: the as-is replay
    assert as_is["departments"].to_dict() == UNITS
    cohorts = compare.by_period(ALL, "2024-03-05")                            # Compare: case 1 | cases 2, 3
    kpis = compare.kpi_table(con, log_id, cohorts).set_index("kpi")
    assert kpis.loc["handoffs_per_case", "a"] == pytest.approx(2.0)
    assert kpis.loc["handoffs_per_case", "b"] == pytest.approx(0.5)


def test_the_redesign_table_shows_the_overview_figure_as_is(log):
    con, log_id, unit = log
    scenario = redesign.Scenario.of("nothing", [{"op": "speed_up", "activities": ["A"], "factor": 1.0}])
    table = redesign.compare_scenario(con, log_id, scenario).set_index("kpi")
    assert table.loc["handoffs_per_case", "as_is"] == pytest.approx(overview.kpis(con, log_id)["handoffs_per_case"])
