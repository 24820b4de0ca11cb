"""Removing a waiting cause in a redesign scenario (reduce_wait_cause): by hand on tiny logs whose causes are
worked out below, the cycle times after recomputed in pandas by moving the events; on the sample against
waiting_causes.diagnose; the JSON round trip; and the errors a user can make."""

from __future__ import annotations

import re
from io import StringIO

import pandas as pd
import pytest

from analysis import defaults, importer, redesign, redesign_causes, waiting_causes
from analysis.errors import UserError
from analysis.filters import CaseFilter
from analysis.redesign import Scenario
from analysis.store import connect

H = 3600.0
# Bob works approval B for cases 1, 2, 3 back to back from 10:00 (one run; case 2 was ready at 09:30, before
# the run began, so it is a batch). By hand (each wait: previous end → B's start):
# case 1: enabled 09:00, batch starts 10:00 → 1 h batching.
# case 2: enabled 09:30 → 30 min batching, then 10:00-10:30 Bob works case 1 (enabled 09:00, earlier): 30 min
#         contention.
# case 3: enabled 08:30 → 1 h 30 min batching, then 10:00-11:00 Bob works cases 1 and 2, both enabled after
#         08:30: they jumped the queue, 1 h prioritisation.
# case 4: C waits 13:00 → 14:00 while Eve is free and (fewer than 20 instants: always) on duty: 1 h extraneous.
LOG = """case,activity,start,end,resource,department
1,A,2024-03-04 08:00,2024-03-04 09:00,Ann,Sales
1,B,2024-03-04 10:00,2024-03-04 10:30,Bob,Finance
2,A,2024-03-04 08:00,2024-03-04 09:30,Cy,Sales
2,B,2024-03-04 10:30,2024-03-04 11:00,Bob,Finance
3,A,2024-03-04 08:00,2024-03-04 08:30,Dee,Sales
3,B,2024-03-04 11:00,2024-03-04 11:30,Bob,Finance
4,A,2024-03-04 12:00,2024-03-04 13:00,Ann,Sales
4,C,2024-03-04 14:00,2024-03-04 14:30,Eve,Legal
"""
BY_HAND = {  # (case, activity) → seconds per cause
    ("1", "B"): {"batching": 1 * H},
    ("2", "B"): {"batching": 0.5 * H, "contention": 0.5 * H},
    ("3", "B"): {"batching": 1.5 * H, "prioritization": 1 * H},
    ("4", "C"): {"extraneous": 1 * H},
}


def _hours_log() -> str:
    """Ivy fixes what Sam asks, Monday 4 to Friday 8 March 2024, at 09-10 and 16-17 each day: 20 instants,
    so her observed duty hours are Monday to Friday 09:00-17:00. Every fix starts as its ask ends (no wait),
    except case u: asked on Friday 1 March until 17:00, fixed on Monday 09:00 — 64 h with Ivy idle and off
    duty: 64 h unavailability."""
    rows = ["case,activity,start,end,resource,department",
            "u,Ask,2024-03-01 16:00,2024-03-01 17:00,Sam,Front", "u,Fix,2024-03-04 09:00,2024-03-04 10:00,Ivy,IT"]
    for day in range(4, 9):
        for n, (start, end) in enumerate(((9, 10), (16, 17))):
            if (day, n) == (4, 0):
                continue
            case = f"d{day}{n}"
            rows.append(f"{case},Ask,2024-03-{day:02d} {start - 1:02d}:00,2024-03-{day:02d} {start:02d}:00,Sam,Front")
            rows.append(f"{case},Fix,2024-03-{day:02d} {start:02d}:00,2024-03-{day:02d} {end:02d}:00,Ivy,IT")
    return "\n".join(rows) + "\n"


def _frame(text: str) -> pd.DataFrame:
    """The log read by pandas, in case order."""
    frame = pd.read_csv(StringIO(text), dtype={"case": str}, parse_dates=["start", "end"])
    return frame.sort_values(["case", "start", "end"], kind="stable").reset_index(drop=True)


def cycle_after(frame: pd.DataFrame, cuts: dict[tuple[str, str], float]) -> dict[str, float]:
    """Each case's cycle time (max end − first start) after its events (case, activity) in `cuts` start that
    many seconds earlier, and so does every later event of the case (the wait before them shrinks)."""
    moved = frame.copy()
    for (case, activity), seconds in cuts.items():
        rows = moved.index[(moved["case"] == case) & (moved["activity"] == activity)]
        later = (moved["case"] == case) & (moved.index >= rows.min())
        moved.loc[later, ["start", "end"]] -= pd.Timedelta(seconds=seconds)
    per_case = moved.groupby("case").agg(first=("start", "min"), last=("end", "max"))
    return ((per_case["last"] - per_case["first"]).dt.total_seconds()).to_dict()


@pytest.fixture
def hand(db, write):
    """(connection, log id, pandas frame) of LOG."""
    return db, importer.import_file(db, write("causes.csv", LOG)).log_id, _frame(LOG)


def cycles(con, log_id, *operations: dict, flt=None) -> dict[str, float]:
    scenario = Scenario.of("s", list(operations)) if operations else None
    return redesign.replay(con, log_id, scenario, flt).set_index("case_id")["cycle_seconds"].to_dict()


def test_the_hand_log_splits_as_worked_out(hand):
    con, log_id, _ = hand
    parts = waiting_causes.event_causes(con, log_id).df(con)
    for row in parts.itertuples():
        expected = BY_HAND[row.case_id, row.activity]
        assert {c: getattr(row, f"{c}_seconds") for c in waiting_causes.CAUSES} == {
            c: expected.get(c, 0.0) for c in waiting_causes.CAUSES}, row.case_id
    assert len(parts) == len(BY_HAND)


@pytest.mark.parametrize(("preset", "share"), [("batching", 1.0), ("batching", 0.5), ("capacity", 1.0),
                                               ("capacity", 0.25)])
def test_each_affected_case_is_shorter_by_share_times_the_causes(hand, preset, share):
    con, log_id, frame = hand
    causes = redesign_causes.PRESETS[preset]
    cuts = {key: share * sum(split.get(c, 0.0) for c in causes) for key, split in BY_HAND.items() if key[1] == "B"}
    before, after = cycles(con, log_id), cycles(con, log_id, redesign_causes.preset_operation("B", preset, share))
    assert before == cycle_after(frame, {})
    assert after == pytest.approx(cycle_after(frame, cuts))
    assert after["4"] == before["4"]  # case 4 has no B: untouched
    # The same by department (Finance owns B), and what is left of the wait is what the other causes hold.
    by_department = {"op": "reduce_wait_cause", "department": "Finance", "causes": list(causes), "share": share}
    assert cycles(con, log_id, by_department) == after


def test_an_earlier_cap_is_never_undercut(hand):
    # B's waits capped at 30 min first (1 h, 1 h, 2 h 30 min → 30 min each), then all batching removed: case 3
    # would lose 1 h 30 min of a 30-min wait; it loses the 30 min, and its A (30 min) + B (30 min) take 1 h.
    con, log_id, frame = hand
    after = cycles(con, log_id, {"op": "cap_wait", "activities": ["B"], "hours": 0.5},
                   redesign_causes.preset_operation("B", "batching"))
    waits = {"1": 1 * H, "2": 1 * H, "3": 2.5 * H}
    assert after == pytest.approx(cycle_after(frame, {(c, "B"): w for c, w in waits.items()}))
    assert after["3"] == 1 * H


def test_extended_hours_remove_the_off_duty_wait(db, write):
    text = _hours_log()
    log_id = importer.import_file(db, write("hours.csv", text)).log_id
    parts = waiting_causes.event_causes(db, log_id).df(db).set_index("case_id")
    assert parts.loc["u", "unavailability_seconds"] == 64 * H and parts.loc["u", "wait_seconds"] == 64 * H
    assert (parts.drop(index="u")["wait_seconds"] == 0).all()
    after = cycles(db, log_id, redesign_causes.preset_operation("Fix", "hours", 0.5))
    assert after == pytest.approx(cycle_after(_frame(text), {("u", "Fix"): 32 * H}))
    assert after["u"] == 34 * H  # Friday 16:00 → Monday 10:00 is 66 h, 32 h of it gone


def test_the_to_be_flow_is_unchanged(hand):
    con, log_id, _ = hand
    scenario = Scenario.of("s", [redesign_causes.preset_operation("B", "capacity")])
    assert redesign.to_be_variants(con, log_id, scenario) == redesign.to_be_variants(con, log_id)
    assert redesign.to_be_map(con, log_id, scenario) == redesign.to_be_map(con, log_id)
    assert redesign.evaluate(con, log_id, scenario).conformance.fitness == 1.0


# --- On the sample: against waiting_causes.diagnose. --------------------------------------------------------

@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("rdc") / "s.duckdb")
    return con, defaults.ensure_sample(con)


def total_wait(con, log_id, scenario=None, flt=None) -> float:
    return float(redesign.replay(con, log_id, scenario, flt)["wait_seconds"].sum())


@pytest.mark.parametrize("flt", [None, CaseFilter(departments=("法务部",))])
def test_batching_removed_on_budget_approval_saves_what_diagnose_calls_batching(sample_store, flt):
    con, log_id = sample_store
    row = waiting_causes.diagnose(con, log_id, flt).rows.set_index("key").loc["预算审批"]
    assert row["batching_seconds"] > 0.5 * row["wait_seconds"]  # the sample's budget approval is a batch queue
    scenario = Scenario.of("daily", [redesign_causes.preset_operation("预算审批", "batching")])
    saved = total_wait(con, log_id, None, flt) - total_wait(con, log_id, scenario, flt)
    assert saved == pytest.approx(row["batching_seconds"], rel=1e-9)
    table = redesign.evaluate(con, log_id, scenario, flt).table().set_index("kpi")
    assert table.loc["median_cycle_seconds", "delta"] < 0 and table.loc["waiting_share", "delta"] < 0


def test_every_preset_at_its_largest_step_saves_its_causes_seconds(sample_store):
    con, log_id = sample_store
    rows = waiting_causes.diagnose(con, log_id).rows
    before = total_wait(con, log_id)
    for preset, causes in redesign_causes.PRESETS.items():
        held = rows[[f"{c}_seconds" for c in causes]].sum(axis=1)
        if held.max() <= 0:
            continue
        key = rows.loc[held.idxmax(), "key"]
        scenario = Scenario.of(preset, [redesign_causes.preset_operation(key, preset, 0.5)])
        assert before - total_wait(con, log_id, scenario) == pytest.approx(0.5 * held.max(), rel=1e-9), preset


def test_the_page_helpers_on_the_sample(sample_store):
    con, log_id = sample_store
    steps = redesign_causes.waiting_steps(waiting_causes.diagnose(con, log_id).rows)
    assert steps["wait_seconds"].is_monotonic_decreasing and (steps["wait_seconds"] > 0).all()
    row = steps[steps["key"] == "预算审批"].iloc[0]
    share = 100 * row["batching_seconds"] / row["wait_seconds"]
    shown = re.fullmatch(r"预算审批 — (\d+)% batching, \d+% \w+", redesign_causes.step_label(row, "en"))
    assert shown and abs(int(shown[1]) - share) < 1
    assert redesign_causes.step_label(row, "zh").startswith(f"预算审批 — 批处理 {shown[1]}%")
    assert "batching" in redesign_causes.presets_present(row)
    assert redesign_causes.preset_share(row, "batching") == pytest.approx(share / 100)


def test_presets_only_where_their_causes_are():
    row = {"key": "X", "wait_seconds": 10.0, "batching_seconds": 0.0, "prioritization_seconds": 0.0,
           "contention_seconds": 4.0, "unavailability_seconds": 0.0, "extraneous_seconds": 6.0}
    assert redesign_causes.presets_present(row) == ["capacity"]
    assert redesign_causes.preset_share(row, "capacity") == 0.4
    assert redesign_causes.step_label(row, "en") == "X — 60% extraneous, 40% contention"
    assert redesign_causes.presets_present({**row, "contention_seconds": 0.0, "extraneous_seconds": 10.0}) == []


# --- The format: JSON round trip, words, errors. -------------------------------------------------------------

def test_json_round_trip_and_storage(db):
    ops = [redesign_causes.preset_operation("预算审批", "capacity", 0.5),
           {"op": "reduce_wait_cause", "department": "财务部", "causes": ["unavailability"]}]
    s = Scenario.of("更多人手", ops)
    again = Scenario.from_json(s.to_json())
    assert again == s and again.operations == ops
    assert again.operations[0] == {"op": "reduce_wait_cause", "activities": ["预算审批"],
                                   "causes": ["contention", "prioritization"], "share": 0.5}
    saved_id = redesign.save_scenario(db, s)
    assert dict(redesign.list_scenarios(db))[saved_id].operations == ops
    assert redesign.describe_operation(ops[0], "en") == \
        "Remove a waiting cause: 预算审批 − 50% of contention + prioritisation"
    assert redesign.describe_operation(ops[1], "zh") == "消除等待原因: 财务部 − 不在岗的 100%"


@pytest.mark.parametrize(("bad", "message", "zh"), [
    ({"causes": ["queueing"]}, 'unknown waiting cause queueing ("causes" are some of batching, prioritization',
     "未知的等待原因 queueing"),
    ({"causes": []}, '"causes" must be a list of at least 1 names', '"causes" 必须是至少 1 个名称的列表'),
    ({"causes": "batching"}, '"causes" must be a list', '"causes" 必须是'),
    ({"share": 1.5}, '"share" must be a number from 0 to 1', '"share" 必须是 0 到 1 之间的数'),
    ({"share": -0.1}, '"share" must be a number from 0 to 1', "0 到 1"),
    ({"share": "1"}, '"share" must be a number from 0 to 1', "0 到 1"),
    ({"share": True}, '"share" must be a number from 0 to 1', "0 到 1"),
    ({"department": "Finance"}, 'give either "activities" or "department"', "其中之一"),
])
def test_a_wrong_operation_is_a_clear_error_in_both_languages(bad, message, zh):
    op = {**redesign_causes.preset_operation("B", "batching"), **bad}
    with pytest.raises(UserError, match="operation 2 \\(reduce_wait_cause\\)") as found:
        Scenario.of("x", [{"op": "remove", "activities": ["Z"]}, op])
    assert message in str(found.value)
    assert found.value.message("zh").startswith("第 2 个操作（reduce_wait_cause）") and zh in found.value.message("zh")


def test_an_activity_or_department_not_in_the_log_is_named(hand):
    con, log_id, _ = hand
    for op, field, name in ((redesign_causes.preset_operation("Approve", "batching"), "activities", "Approve"),
                            ({"op": "reduce_wait_cause", "department": "Legl", "causes": ["batching"]},
                             "department", "Legl")):
        with pytest.raises(UserError) as found:
            redesign.evaluate(con, log_id, Scenario.of("x", [{"op": "remove", "activities": ["C"]}, op]))
        assert found.value.key == "rd.why_err_not_in_log"
        assert str(found.value) == f'operation 2 (reduce_wait_cause): not in this log ("{field}"): {name}'
        assert found.value.message("zh") == f"第 2 个操作（reduce_wait_cause）：此日志中没有（\"{field}\"）：{name}"


@pytest.mark.parametrize(("columns", "key"), [
    ("case,activity,timestamp,resource", "err.why_no_start"),
    ("case,activity,start,timestamp", "err.why_no_resource"),
    ("case,activity,timestamp", "err.why_no_start_resource"),
])
def test_a_log_that_cannot_tell_says_what_it_needs(db, write, columns, key):
    values = {"case": "1", "activity": "B", "start": "2024-03-04 09:00", "timestamp": "2024-03-04 10:00",
              "resource": "Bob"}
    names = columns.split(",")
    lines = [columns, ",".join(values[c] for c in names),
             ",".join({**values, "activity": "C", "start": "2024-03-04 11:00", "timestamp": "2024-03-04 12:00"}[c]
                      for c in names)]
    log_id = importer.import_file(db, write("x.csv", "\n".join(lines) + "\n")).log_id
    scenario = Scenario.of("x", [redesign_causes.preset_operation("B", "batching")])
    with pytest.raises(UserError) as found:
        redesign.replay(db, log_id, scenario)
    assert found.value.key == key
    assert found.value.message("zh").startswith("此日志无法说明等待的原因")
    # The to-be flow needs no split: it is still drawn.
    assert redesign.to_be_variants(db, log_id, scenario) == redesign.to_be_variants(db, log_id)
