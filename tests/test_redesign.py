"""The redesign replay: by hand on tiny logs, properties on random logs, and the shipped sample scenario
recomputed independently from the generator's frame."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import defaults, importer, redesign, sample
from analysis.redesign import Scenario
from analysis.store import connect

H = 3600.0
# One case, sequential: A 00-01, wait 1 h, B 02-03, wait 1 h, C 04-06, D 06-07 (no wait). Cycle 7 h.
# Departments X, Y, Z, X: 3 hand-offs.
SEQ = """case,activity,start,end,department
c,A,2024-03-05 00:00,2024-03-05 01:00,X
c,B,2024-03-05 02:00,2024-03-05 03:00,Y
c,C,2024-03-05 04:00,2024-03-05 06:00,Z
c,D,2024-03-05 06:00,2024-03-05 07:00,X
"""
# Overlap: B runs inside A (05-07 within 00-10), C 08-09. Cycle = max end − first start = 10 h.
OVERLAP = """case,activity,start,end,department
o,A,2024-03-05 00:00,2024-03-05 10:00,X
o,B,2024-03-05 05:00,2024-03-05 07:00,Y
o,C,2024-03-05 08:00,2024-03-05 09:00,X
"""


def replayed(db, write, text: str, *operations: dict) -> dict:
    log_id = importer.import_file(db, write("log.csv", text)).log_id
    frame = redesign.replay(db, log_id, Scenario.of("s", list(operations)) if operations else None)
    return frame.set_index("case_id").to_dict("index")


def test_as_is_replay_equals_the_stored_cycle_time(db, write, tiny_log):
    for text in (SEQ, OVERLAP, tiny_log.read_text()):
        log_id = importer.import_file(db, write("x.csv", text)).log_id
        ours = redesign.replay(db, log_id).set_index("case_id")["cycle_seconds"]
        stored = dict(db.execute("SELECT case_id, cycle_seconds FROM cases WHERE log_id = ?", [log_id]).fetchall())
        assert ours.to_dict() == stored
    assert replayed(db, write, OVERLAP)["o"]["cycle_seconds"] == 10 * H


def test_parallel_by_hand(db, write):
    # B and C side by side: B's branch = its wait 1 h + 1 h work = 2 h; C's = 1 h + 2 h = 3 h; the block takes
    # 3 h. Cycle = A 1 h + 3 h + D (0 + 1 h) = 5 h (as-is 7 h).
    assert replayed(db, write, SEQ, {"op": "parallel", "activities": ["B", "C"]})["c"]["cycle_seconds"] == 5 * H
    # Branches of several steps: [A, B] against [C] after A... the block is B, C only when A is not listed:
    # [B] vs [C, D]: C+D = 1 h + 2 h + 0 + 1 h = 4 h > B's 2 h → cycle 1 + 4 = 5 h.
    assert replayed(db, write, SEQ, {"op": "parallel", "branches": [["B"], ["C", "D"]]})["c"]["cycle_seconds"] == 5 * H


def test_remove_merge_reassign_speed_cap_team_by_hand(db, write):
    assert replayed(db, write, SEQ)["c"] == {"cycle_seconds": 7 * H, "handoffs": 3, "departments": 3,
                                             "touch_seconds": 5 * H, "wait_seconds": 2 * H, "events": 4}
    # Remove B: its wait and work (2 h) go; C keeps its own 1 h wait → 5 h. Hand-offs X→Z→X: 2.
    removed = replayed(db, write, SEQ, {"op": "remove", "activities": ["B"]})["c"]
    assert (removed["cycle_seconds"], removed["handoffs"], removed["events"]) == (5 * H, 2, 3)
    # Merge B + C into one owner (Y): B's wait, both works (1 h + 2 h), C's wait gone → 1 + 1 + 3 + 1 = 6 h.
    merged = replayed(db, write, SEQ, {"op": "merge", "activities": ["B", "C"]})["c"]
    assert (merged["cycle_seconds"], merged["events"], merged["handoffs"], merged["departments"]) == (6 * H, 3, 2, 2)
    # Reassign C to Y: X, Y, Y, X → 2 hand-offs, durations kept.
    moved = replayed(db, write, SEQ, {"op": "reassign", "activities": ["C"], "department": "Y"})["c"]
    assert (moved["cycle_seconds"], moved["handoffs"]) == (7 * H, 2)
    # C twice as fast: 2 h → 1 h.
    assert replayed(db, write, SEQ, {"op": "speed_up", "activities": ["C"], "factor": 2})["c"]["cycle_seconds"] == 6 * H
    # Waits before Y's events at most 30 min: B's 1 h wait → 30 min.
    capped = replayed(db, write, SEQ, {"op": "cap_wait", "department": "Y", "hours": 0.5})["c"]
    assert capped["cycle_seconds"] == 6.5 * H
    # X and Y as one team: hand-offs left are XY→Z and Z→XY (2); the X→Y wait (1 h) is capped at the median wait
    # between two events of one department — none here, so 0 → 6 h.
    team = replayed(db, write, SEQ, {"op": "shared_team", "departments": ["X", "Y"]})["c"]
    assert (team["cycle_seconds"], team["handoffs"], team["departments"]) == (6 * H, 2, 2)


def test_removing_an_event_that_ran_inside_its_predecessor_saves_nothing(db, write):
    # B (05-07) ran inside A (00-10): without it the case still ends at 10 h.
    assert replayed(db, write, OVERLAP, {"op": "remove", "activities": ["B"]})["o"]["cycle_seconds"] == 10 * H


events = st.lists(st.tuples(st.integers(0, 3), st.integers(-120, 600), st.integers(0, 300), st.sampled_from("XY")),
                  min_size=1, max_size=6)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(events, min_size=1, max_size=4), removed=st.sampled_from("ABCD"),
       cap=st.integers(0, 300))
def test_remove_and_cap_never_lengthen_a_case(tmp_path_factory, cases, removed, cap):
    # Random logs with start timestamps, overlaps included (negative gaps).
    rows = ["case,activity,start,end,department"]
    for n, case in enumerate(cases):
        clock = dt.datetime(2024, 3, 5)
        for act, gap, work, dept in case:
            start = clock + dt.timedelta(minutes=gap)
            end = start + dt.timedelta(minutes=work)
            rows.append(f"c{n},{'ABCD'[act]},{start:%Y-%m-%d %H:%M},{end:%Y-%m-%d %H:%M},{dept}")
            clock = end
    path = tmp_path_factory.mktemp("r") / "log.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with connect(tmp_path_factory.mktemp("db") / "r.duckdb") as con:
        log_id = importer.import_file(con, path).log_id
        as_is = redesign.replay(con, log_id).set_index("case_id")["cycle_seconds"]
        for op in ({"op": "remove", "activities": [removed]}, {"op": "cap_wait", "activities": [removed], "hours": cap / 60}):
            to_be = redesign.replay(con, log_id, Scenario.of("s", [op])).set_index("case_id")["cycle_seconds"]
            assert (to_be.loc[as_is.index] <= as_is + 1e-6).all(), op


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("rd") / "s.duckdb")
    return con, defaults.ensure_sample(con)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """The sample's events per case in order, with wait before and processing of each (pandas only)."""
    f = sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh").reset_index(drop=True)
    f["row"] = np.arange(len(f))
    f["s"] = pd.to_datetime(f["开始时间"])
    f["e"] = pd.to_datetime(f["完成时间"])
    f = f.sort_values(["案例编号", "s", "e", "row"], kind="stable")
    f["wait"] = (f["s"] - f.groupby("案例编号")["e"].shift()).dt.total_seconds().fillna(0)
    f["proc"] = (f["e"] - f["s"]).dt.total_seconds()
    return f


def test_empty_scenario_gives_the_as_is_kpis(sample_store):
    con, log_id = sample_store
    as_is = redesign.replay(con, log_id)
    table = redesign.compare(as_is, redesign.replay(con, log_id, Scenario.of("nothing", [])))
    assert (table["delta"] == 0).all() and (table["as_is"] == table["to_be"]).all()
    assert (table["delta_low"] == 0).all() and (table["delta_high"] == 0).all()


def test_cap_shortens_exactly_the_cases_that_waited_longer(sample_store, frame):
    con, log_id = sample_store
    cap = 48 * H
    as_is = redesign.replay(con, log_id).set_index("case_id")["cycle_seconds"]
    to_be = redesign.replay(con, log_id, Scenario.of("s", [{"op": "cap_wait", "activities": ["预算审批"], "hours": 48}]))
    shortened = set(to_be.set_index("case_id")["cycle_seconds"].loc[lambda s: s < as_is[s.index] - 1e-6].index)
    waited = frame[(frame["活动"] == "预算审批") & (frame["wait"] > cap)]
    assert shortened == set(waited["案例编号"]) and 0 < len(shortened) < len(as_is)
    # And by exactly the excess waiting of those approvals.
    saved = (as_is - to_be.set_index("case_id")["cycle_seconds"]).loc[sorted(shortened)]
    excess = (waited["wait"] - cap).groupby(waited["案例编号"]).sum().loc[sorted(shortened)]
    assert saved.tolist() == pytest.approx(excess.tolist())


def hand_replay(case: pd.DataFrame, team_wait: float) -> float:
    """SAMPLE_SCENARIO_OPERATIONS recomputed in plain Python for one (strictly sequential) case."""
    team = {"市场部-策划室", "财务部"}
    creative, buying = ("广告创意设计", "定稿", "法务审核"), ("物资采购",)
    total, block, prev_dept = 0.0, None, None
    for i, ev in enumerate(case.itertuples()):
        wait = 0.0 if i == 0 else ev.wait
        if ev.部门 in team and prev_dept in team and ev.部门 != prev_dept:
            wait = min(wait, team_wait)
        if ev.活动 == "预算审批":
            wait = min(wait, 24 * H)
        prev_dept = ev.部门
        if ev.活动 in creative + buying:
            block = block or {"creative": 0.0, "buying": 0.0}
            block["creative" if ev.活动 in creative else "buying"] += wait + ev.proc
            continue
        if block:
            total += max(block.values())
            block = None
        total += wait + ev.proc
    return total + (max(block.values()) if block else 0.0)


def test_shipped_scenario_shortens_cycle_and_cuts_handoffs_as_computed_by_hand(sample_store, frame):
    con, log_id = sample_store
    stored = dict(redesign.list_scenarios(con))
    scenario = next(s for s in stored.values() if s.name.startswith("端到端活动团队"))
    assert json.loads(scenario.operations_json) == defaults.SAMPLE_SCENARIO_OPERATIONS
    as_is, to_be = redesign.replay(con, log_id), redesign.replay(con, log_id, scenario)
    table = redesign.compare(as_is, to_be).set_index("kpi")
    assert table.loc["median_cycle_seconds", "delta_high"] < 0  # shorter, and the whole interval says so
    assert table.loc["handoffs_per_case", "delta"] < 0
    # The wait inside one department, independently: consecutive events of one department.
    same = frame["部门"] == frame.groupby("案例编号")["部门"].shift()
    team_wait = float(np.quantile(frame.loc[same, "wait"], 0.5))
    ours = to_be.set_index("case_id")["cycle_seconds"]
    for case_id in ("MC-2024-00001", "MC-2024-00002", "MC-2024-00050", "MC-2025-00100"):
        assert ours[case_id] == pytest.approx(hand_replay(frame[frame["案例编号"] == case_id], team_wait)), case_id


def test_scenario_json_round_trip_and_errors():
    s = Scenario.of("团队", [{"op": "remove", "activities": ["A"]}, {"op": "cap_wait", "department": "法务部", "hours": 8}])
    assert Scenario.from_json(s.to_json()) == s
    for bad, message in (
            ({"op": "delete", "activities": ["A"]}, '"op" must be one of'),
            ({"op": "remove", "activities": "A"}, '"activities" must be a list'),
            ({"op": "merge", "activities": ["A", "B", "C"]}, "two consecutive activities"),
            ({"op": "cap_wait", "activities": ["A"], "department": "X", "hours": 1}, 'either "activities" or'),
            ({"op": "speed_up", "activities": ["A"], "factor": 0}, '"factor" must be a positive number'),
            ({"op": "parallel", "branches": [["A"]]}, "at least two lists"),
            ({"op": "reassign", "activities": ["A"]}, "new owner")):
        with pytest.raises(ValueError, match=message):
            Scenario.of("x", [{"op": "remove", "activities": ["Z"]}, bad])
    with pytest.raises(ValueError, match="operation 2"):
        Scenario.of("x", [{"op": "remove", "activities": ["Z"]}, {"op": "delete"}])


def test_scenarios_are_stored_replaced_and_deleted(db):
    first = redesign.save_scenario(db, Scenario.of("a", []))
    again = redesign.save_scenario(db, Scenario.of("a", [{"op": "remove", "activities": ["X"]}]))
    assert first == again
    assert [(i, s.operations) for i, s in redesign.list_scenarios(db)] == [(first, [{"activities": ["X"], "op": "remove"}])]
    redesign.delete_scenario(db, first)
    assert redesign.list_scenarios(db) == []
