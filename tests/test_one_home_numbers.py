"""One home per number: the map is metrics.dfg, the KPIs are metrics.summary plus pairs.per_case, the variant
table is metrics.variant_stats, and case attributes keep their file order (issue 12)."""

from __future__ import annotations

import pytest

from analysis import cases, importer, metrics, overview, pairs, process_map, triage
from analysis.filters import CaseFilter

# Columns in a non-alphabetical file order; two budget-like numeric attributes with as many numbers each.
ATTRS = """case,activity,timestamp,resource,region,cost,budget,kind
1,A,2024-03-05 09:00,ann,North,10,20,x
1,B,2024-03-05 10:00,bob,North,10,20,x
1,C,2024-03-05 11:00,ann,North,10,20,x
2,A,2024-03-06 09:00,ann,South,30,40,y
2,B,2024-03-07 09:00,ann,South,30,40,y
"""


@pytest.fixture
def tiny(db, tiny_log):
    return db, importer.import_file(db, tiny_log).log_id


def test_dfg_on_chosen_activities_is_the_map(tiny):
    db, log_id = tiny
    graph = metrics.dfg(db, log_id, activities=["A", "C"])
    # Hiding B: every case becomes A→C (cases 1, 3, 4 skip over their B events).
    assert [(e.source, e.target, e.frequency, e.cases) for e in graph.edges] == [("A", "C", 4, 4)]
    assert (graph.start_activities, graph.end_activities) == ({"A": 4}, {"C": 4})
    pm = process_map.discover_map(db, log_id, ["A", "C"])
    assert [(e.source, e.target, e.frequency) for e in pm.edges] == [("A", "C", 4), ("C", "■", 4), ("▶", "A", 4)]
    assert [e.mean_seconds for e in pm.edges][1:] == [None, None]
    assert pm.edges[0].mean_seconds == graph.edges[0].mean_seconds == pytest.approx((3 + 0.5 + 6 + 20 / 60) * 3600 / 4)


def test_all_activities_give_the_fast_path_graph_with_its_p90(tiny):
    db, log_id = tiny
    fast = metrics.dfg(db, log_id)
    listed = metrics.dfg(db, log_id, activities=["C", "B", "A"])
    assert fast == listed  # equality leaves p90 out, so compare it on its own
    assert {(e.source, e.target): e.p90_seconds for e in fast.edges} == pytest.approx(
        {(e.source, e.target): e.p90_seconds for e in listed.edges})
    assert {(e.source, e.target): e.p90_seconds for e in fast.edges}[("A", "B")] == pytest.approx(54 * 60)
    assert all("p90_seconds" not in e for e in fast.as_dict()["edges"])  # the CLI's `dfg --json` keeps its keys
    assert metrics.dfg(db, log_id, activities=[]) == metrics.DFG([], {}, {})


def test_map_counts_events_of_the_kept_activities(tiny):
    db, log_id = tiny
    pm = process_map.discover_map(db, log_id, ["B", "A", "nope"])
    assert pm.activities == {"B": 5, "A": 4}
    assert pm.departments == {"B": "Finance", "A": "Sales"}


def test_kpis_are_the_summary_plus_per_case_handoffs(tiny):
    db, log_id = tiny
    flt = CaseFilter(activities_present=("B",))
    k, s = overview.kpis(db, log_id, flt), metrics.summary(db, log_id, flt)
    assert (k["cases"], k["events"], k["activities"], k["variants"]) == (s.cases, s.events, s.activities, s.variants)
    assert (k["median_cycle_seconds"], k["p90_cycle_seconds"], k["mean_cycle_seconds"]) == (
        s.cycle_time_seconds["median"], s.cycle_time_seconds["p90"], s.cycle_time_seconds["mean"])
    per_case = pairs.per_case(log_id, flt, "department").df(db)
    assert (k["handoffs_per_case"], k["departments_per_case"]) == (per_case["handoffs"].mean(), per_case["units"].mean())


def test_resource_only_log_counts_handoffs_the_same_in_kpis_and_triage(db, write):
    log_id = importer.import_file(db, write("a.csv", ATTRS)).log_id
    k = overview.kpis(db, log_id)
    f = triage.case_features(db, log_id)
    # Case 1: ann → bob → ann (2 hand-offs, 2 people); case 2: ann, ann (none, 1 person).
    assert k["handoff_unit"] == "resource"
    assert list(f["handoffs"]) == [2, 0] and list(f["departments"]) == [2, 1]
    assert (k["handoffs_per_case"], k["departments_per_case"]) == (f["handoffs"].mean(), f["departments"].mean())


def test_variant_table_builds_on_the_variant_statistics(tiny):
    db, log_id = tiny
    flt = CaseFilter(activities_present=("B",))
    table = cases.variant_table(db, log_id, flt)
    ours = metrics.variants(db, log_id, flt=flt)
    assert [list(a) for a in table["activities"]] == [v.activities for v in ours]
    assert table[["cases", "share", "median_seconds", "p90_seconds"]].values.tolist() == [
        [v.cases, v.share, v.median_seconds, v.p90_seconds] for v in ours]
    assert [v.activities for v in metrics.variants(db, log_id, top=1)] == [["A", "B", "C"]]


def test_variant_departments_break_ties_by_name(db, write):
    # B's events are once in Finance, once in Audit: the tie goes to the first by name, Audit.
    text = ("case,activity,timestamp,department\n1,A,2024-03-05 09:00,Sales\n1,B,2024-03-05 10:00,Finance\n"
            "2,A,2024-03-06 09:00,Sales\n2,B,2024-03-06 10:00,Audit\n")
    log_id = importer.import_file(db, write("t.csv", text)).log_id
    assert cases.variant_table(db, log_id)["departments"].map(list).tolist() == [["Audit", "Sales"]]
    assert process_map.discover_map(db, log_id, ["A", "B"]).departments == {"A": "Sales", "B": "Audit"}


def test_case_attributes_keep_their_file_order(db, write):
    log_id = importer.import_file(db, write("a.csv", ATTRS)).log_id
    assert overview.case_attribute_order(db, log_id) == ["region", "cost", "budget", "kind"]
    assert overview.case_attribute_names(db, log_id) == ["region", "cost", "budget", "kind"]
    # cost and budget both look like a budget and have two numbers each: the first in the file wins.
    assert triage.find_budget_attribute(db, log_id) == "cost"


def test_xes_case_attributes_lose_their_prefix(db, write):
    xes = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0">
 <trace><string key="concept:name" value="c1"/><string key="zone" value="N"/><string key="amount" value="5"/>
  <event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-03-05T09:00:00"/></event>
  <event><string key="concept:name" value="B"/><date key="time:timestamp" value="2024-03-05T10:00:00"/></event>
 </trace>
</log>
"""
    log_id = importer.import_file(db, write("l.xes", xes)).log_id
    assert overview.case_attribute_order(db, log_id) == ["zone", "amount"]
    assert overview.case_attribute_names(db, log_id) == ["zone", "amount"]
    assert triage.find_budget_attribute(db, log_id) == "amount"


def test_cycle_by_attribute_breaks_median_ties_by_value(db, write):
    text = ("case,activity,timestamp,region\n1,A,2024-03-05 09:00,South\n1,B,2024-03-05 10:00,South\n"
            "2,A,2024-03-05 09:00,North\n2,B,2024-03-05 10:00,North\n")
    log_id = importer.import_file(db, write("r.csv", text)).log_id
    assert overview.cycle_by_attribute(db, log_id, "region")["value"].tolist() == ["North", "South"]
