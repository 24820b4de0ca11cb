"""The redesign's result record and its hand-offs: the as-is replay counts hand-offs as Overview does (department,
else resource), `evaluate` returns the CLI's JSON in one record, and conformance's scenario / BPMN fits."""

from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest

from analysis import conformance, importer, overview, process_model, redesign
from analysis.filters import CaseFilter
from analysis.records import to_json
from analysis.redesign import Scenario

# No department column. Case 1: Ann → Bob → Ann (2 hand-offs, 2 people); case 2: Ann, Ann (0, 1);
# case 3: Cy → Bob → Dee (2, 3). Mean 4/3 hand-offs and 2 people per case.
RESOURCE_LOG = """case,activity,start,end,resource
1,A,2024-03-04 09:00,2024-03-04 10:00,Ann
1,B,2024-03-04 11:00,2024-03-04 12:00,Bob
1,C,2024-03-04 12:00,2024-03-04 14:00,Ann
2,A,2024-03-05 09:00,2024-03-05 10:00,Ann
2,B,2024-03-05 10:30,2024-03-05 11:00,Ann
3,A,2024-03-06 09:00,2024-03-06 09:30,Cy
3,B,2024-03-06 10:00,2024-03-06 11:00,Bob
3,C,2024-03-06 13:00,2024-03-06 14:00,Dee
"""
# The same cases with departments as well: the department is the unit, the people do not count.
# Case 1: Sales, Sales, Finance (1 hand-off, 2 departments); case 2: Sales → Finance (1, 2); case 3: Legal × 3
# (0, 1). Mean 2/3 hand-offs and 5/3 departments per case.
DEPARTMENT_LOG = """case,activity,start,end,resource,department
1,A,2024-03-04 09:00,2024-03-04 10:00,Ann,Sales
1,B,2024-03-04 11:00,2024-03-04 12:00,Bob,Sales
1,C,2024-03-04 12:00,2024-03-04 14:00,Ann,Finance
2,A,2024-03-05 09:00,2024-03-05 10:00,Ann,Sales
2,B,2024-03-05 10:30,2024-03-05 11:00,Ann,Finance
3,A,2024-03-06 09:00,2024-03-06 09:30,Cy,Legal
3,B,2024-03-06 10:00,2024-03-06 11:00,Bob,Legal
3,C,2024-03-06 13:00,2024-03-06 14:00,Dee,Legal
"""
BY_HAND = {"resource": ({"1": 2, "2": 0, "3": 2}, {"1": 2, "2": 1, "3": 3}),
           "department": ({"1": 1, "2": 1, "3": 0}, {"1": 2, "2": 2, "3": 1})}
NO_C = Scenario.of("no C", [{"op": "remove", "activities": ["C"]}])


@pytest.fixture(params=["resource", "department"])
def log(request, db, write):
    """(connection, log id, unit) for the resource-only log and for the department log."""
    text = RESOURCE_LOG if request.param == "resource" else DEPARTMENT_LOG
    return db, importer.import_file(db, write(f"{request.param}.csv", text)).log_id, request.param


def test_the_as_is_replay_counts_hand_offs_as_overview_does(log):
    con, log_id, unit = log
    handoffs, units = BY_HAND[unit]
    as_is = redesign.replay(con, log_id).set_index("case_id")
    assert as_is["handoffs"].to_dict() == handoffs
    assert as_is["departments"].to_dict() == units
    kpis = overview.kpis(con, log_id)
    assert kpis["handoff_unit"] == unit
    per_case = sum(handoffs.values()) / len(handoffs)
    table = redesign.compare_scenario(con, log_id, NO_C).set_index("kpi")
    assert table.loc["handoffs_per_case", "as_is"] == pytest.approx(kpis["handoffs_per_case"]) == pytest.approx(per_case)
    assert table.loc["departments_per_case", "as_is"] == pytest.approx(kpis["departments_per_case"])


def test_to_be_hand_offs_follow_the_unit(db, write):
    # Resource-only log: merging A + B keeps A's person, so case 1 is Ann, Ann (0), case 2 Ann (0), case 3 Cy → Dee (1).
    log_id = importer.import_file(db, write("r.csv", RESOURCE_LOG)).log_id
    merged = redesign.replay(db, log_id, Scenario.of("m", [{"op": "merge", "activities": ["A", "B"]}]))
    assert merged.set_index("case_id")["handoffs"].to_dict() == {"1": 0, "2": 0, "3": 1}
    # Department log: moving C to Sales ends case 1's only hand-off; department operations work as before.
    log_id = importer.import_file(db, write("d.csv", DEPARTMENT_LOG)).log_id
    moved = redesign.replay(db, log_id, Scenario.of("r", [{"op": "reassign", "activities": ["C"], "department": "Sales"}]))
    assert moved.set_index("case_id")["handoffs"].to_dict() == {"1": 0, "2": 1, "3": 1}
    team = redesign.replay(db, log_id, Scenario.of("t", [{"op": "shared_team", "departments": ["Sales", "Finance"]}]))
    assert team.set_index("case_id")["handoffs"].to_dict() == {"1": 0, "2": 0, "3": 0}


def test_operations_of_one_kind_keep_their_own_values(db, write):
    # Two operations of one kind in one scenario (each with its own named parameters) and a filter together.
    log_id = importer.import_file(db, write("d.csv", DEPARTMENT_LOG)).log_id
    flt = CaseFilter(activities_present=("C",))
    twice = Scenario.of("2x", [{"op": "speed_up", "activities": ["C"], "factor": 2},
                               {"op": "speed_up", "department": "Legal", "factor": 3},
                               {"op": "cap_wait", "activities": ["C"], "hours": 1.5},
                               {"op": "cap_wait", "activities": ["B", "C"], "hours": 0.25}])
    # Case 1: A 1 h; B's 1 h wait → 15 min, 1 h work; C no wait, 2 h / 2 = 1 h: 3 h 15 min. Case 3 (Legal): A 30 min
    # / 3 = 10 min; B's 30 min wait → 15 min, 1 h / 3 = 20 min; C's 2 h wait → 1 h 30 min → 15 min, 1 h / 2 / 3 =
    # 10 min: 70 min. (Case 2 has no C: the filter leaves it out.)
    cycle = redesign.replay(db, log_id, twice, flt).set_index("case_id")["cycle_seconds"].to_dict()
    assert cycle == {"1": 3.25 * 3600, "3": 70 * 60}


def test_evaluate_is_the_record_the_cli_prints(log):
    con, log_id, unit = log
    ev = redesign.evaluate(con, log_id, NO_C)
    assert ev == redesign.evaluate(con, log_id, NO_C)               # a record: compared in one ==
    assert pickle.loads(pickle.dumps(ev)) == ev                      # the page caches it
    pd.testing.assert_frame_equal(ev.table(), redesign.compare_scenario(con, log_id, NO_C))
    data = json.loads(to_json(ev.as_dict()), parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert data == ev.as_dict()
    assert set(data) == {"scenario", "as_is", "to_be", "delta", "conformance"} and data["scenario"] == "no C"
    # Cycle times 5 h, 2 h, 5 h. Without C case 1 ends at B (12:00: 3 h), case 2 is unchanged, case 3 ends at B
    # (11:00: 2 h): median 5 h → 2 h.
    assert data["as_is"]["median_cycle_seconds"] == 5 * 3600 and data["to_be"]["median_cycle_seconds"] == 2 * 3600
    assert data["delta"]["median_cycle_seconds"] == {"value": -3 * 3600, "low": None, "high": None}  # < 10 cases
    assert data["as_is"]["handoffs_per_case"] == pytest.approx(sum(BY_HAND[unit][0].values()) / 3)
    fit = data["conformance"]
    assert fit["method"] == "alignments" and fit["fitting_cases_share"] == pytest.approx(1 / 3)  # case 2 has no C
    department = {"resource": None, "department": "Finance"}[unit]  # C: Finance once, Legal once → by name
    assert fit["deviations"] == [{"activity": "C", "department": department, "kind": "extra", "cases": 2}]
    assert fit == conformance.fit_summary(conformance.scenario_fit(con, log_id, NO_C))


def test_no_case_kept(log):
    con, log_id, _ = log
    nothing = CaseFilter(activities_present=("nobody did this",))
    assert conformance.scenario_fit(con, log_id, NO_C, nothing) is None
    ev = redesign.evaluate(con, log_id, NO_C, nothing)
    assert ev.conformance is None
    data = json.loads(to_json(ev.as_dict()))
    assert data["conformance"] == {"fitness": None, "fitting_cases_share": None, "cases_checked_share": None,
                                   "deviations": []}
    assert set(data["as_is"].values()) == {None} and data["delta"]["waiting_share"]["value"] is None


def test_deviations_name_the_activity_department_by_the_one_rule(db, write):
    # C is done by Finance once and by Legal once: the tie goes to the first by name (Finance).
    log_id = importer.import_file(db, write("d.csv", DEPARTMENT_LOG)).log_id
    result = conformance.scenario_fit(db, log_id, NO_C)
    assert [(d.activity, d.department, d.kind, d.cases) for d in result.deviations] == [("C", "Finance", "extra", 2)]


def test_bpmn_fit_of_the_log_s_own_model(db, write):
    log_id = importer.import_file(db, write("d.csv", DEPARTMENT_LOG)).log_id
    model = process_model.discover_model(db, log_id)
    result = conformance.bpmn_fit(db, log_id, model.bpmn_xml)
    assert (result.fitness, result.fitting_cases_share, result.cases, result.deviations) == (1.0, 1.0, 3, ())
    with pytest.raises(ValueError, match="empty"):
        conformance.bpmn_fit(db, log_id, "")
