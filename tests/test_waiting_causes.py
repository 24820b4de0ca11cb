"""Why it waits: each cause on a hand-made log worked out by hand, the precedence rules, the groupings, and a
property test against an independent plain-Python sweep over every instant (`reference_parts`)."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import importer, records, store
from analysis import waiting_causes as wc
from analysis.errors import UserError
from analysis.filters import CaseFilter
from analysis.working_time import WorkCalendar, working_seconds

H, M = 3600.0, 60.0
OFFICE = WorkCalendar()                     # Mon–Fri 09:00–18:00, no holidays
HEADER = "case,activity,start,end,resource,department\n"


def load(db, write, body: str, name: str = "log.csv") -> int:
    return importer.import_file(db, write(name, HEADER + body)).log_id


WORKING = ["working_wait", *(f"{c}_working" for c in wc.CAUSES)]


def parts(db, log_id, calendar=None, flt=None, **kw) -> dict[tuple[str, str], dict]:
    """{(case, activity): {'wait', 'batching', …, 'working_wait', 'batching_working', …}} for every event
    with a start, a resource and a predecessor."""
    frame = wc.event_causes(db, log_id, flt, calendar, **kw).df(db)
    names = ["wait", *wc.CAUSES, *WORKING]
    return {(r.case_id, r.activity): {n: getattr(r, f"{n}_seconds") for n in names} for r in frame.itertuples()}


def only(**figures) -> dict:
    """The five parts with the given ones set (seconds) and the rest zero, plus their sum as the wait."""
    out = {c: 0.0 for c in wc.CAUSES}
    out.update(figures)
    return {"wait": sum(out.values()), **out}


def calendar_time(p: dict) -> dict:
    return {k: v for k, v in p.items() if k not in WORKING}


def working_time(p: dict) -> dict:
    """The working-time split in only()'s shape."""
    return {"wait": p["working_wait"], **{c: p[f"{c}_working"] for c in wc.CAUSES}}


# --- one log per cause, figures by hand (2024-03-05 is a Tuesday) --------------------------------------------

def test_extraneous_idle_and_on_duty(db, write):
    # Ann's A ends 10:00; Bob has nothing else to do yet starts B at 11:00: one hour, on duty, free.
    log_id = load(db, write, "c1,A,2024-03-05 09:00,2024-03-05 10:00,Ann,Sales\n"
                             "c1,B,2024-03-05 11:00,2024-03-05 12:00,Bob,Finance\n")
    p = parts(db, log_id, OFFICE)
    assert calendar_time(p["c1", "B"]) == only(extraneous=1 * H)
    assert working_time(p["c1", "B"]) == only(extraneous=1 * H)      # all of it on duty


def test_unavailability_overnight_idle(db, write):
    # A ends Tue 17:00, B starts Wed 10:00 (17 h): Tue 17–18 and Wed 9–10 on duty (2 h extraneous),
    # 18:00–09:00 off duty and idle (15 h unavailability).
    log_id = load(db, write, "c1,A,2024-03-05 16:00,2024-03-05 17:00,Ann,Sales\n"
                             "c1,B,2024-03-06 10:00,2024-03-06 11:00,Bob,Finance\n")
    p = parts(db, log_id, OFFICE)
    assert calendar_time(p["c1", "B"]) == only(extraneous=2 * H, unavailability=15 * H)
    assert working_time(p["c1", "B"]) == only(extraneous=2 * H)      # off duty is no working time


def test_unavailability_counts_holidays_and_the_departments_own_hours(db, write):
    # Wed 6 March a holiday: Tue 17:00 → Thu 10:00 = 41 h, on duty Tue 17–18 and Thu 9–10 (2 h), 39 h off.
    log_id = load(db, write, "c1,A,2024-03-05 16:00,2024-03-05 17:00,Ann,Sales\n"
                             "c1,B,2024-03-07 10:00,2024-03-07 11:00,Bob,Finance\n")
    holiday = WorkCalendar(holidays=("2024-03-06",))
    assert calendar_time(parts(db, log_id, holiday)["c1", "B"]) == only(extraneous=2 * H, unavailability=39 * H)
    # Finance works 10:00–16:00 (Bob's department): none of Tue 17:00 → Thu 10:00 is on duty.
    finance = WorkCalendar(holidays=("2024-03-06",), departments=(
        ("Finance", WorkCalendar(day_start="10:00", day_end="16:00", holidays=("2024-03-06",))),))
    assert calendar_time(parts(db, log_id, finance)["c1", "B"]) == only(unavailability=41 * H)


def test_contention_a_queue_of_earlier_work_is_not_a_batch(db, write):
    # Bob does c1's B 10:00–12:00 (enabled 10:00). c2's B is enabled 10:30 and starts when he is done, 12:00:
    # 1.5 h contention. The two B's run back to back, but only c1 was ready when the run began: no batch.
    log_id = load(db, write, "c1,A,2024-03-05 09:00,2024-03-05 10:00,Ann,Sales\n"
                             "c1,B,2024-03-05 10:00,2024-03-05 12:00,Bob,Finance\n"
                             "c2,A,2024-03-05 09:30,2024-03-05 10:30,Ann,Sales\n"
                             "c2,B,2024-03-05 12:00,2024-03-05 13:00,Bob,Finance\n")
    p = parts(db, log_id, OFFICE)
    assert calendar_time(p["c2", "B"]) == only(contention=1.5 * H)
    assert calendar_time(p["c1", "B"]) == only()          # started when enabled: no wait


def test_prioritization_newer_work_first(db, write):
    # c1's B is enabled 09:30, c2's C at 10:00; Bob does C 10:00–11:00 first, then B at 11:00.
    # c1 waits 09:30–10:00 with Bob free (extraneous), 10:00–11:00 while he works on newer C (prioritisation).
    log_id = load(db, write, "c1,A,2024-03-05 09:00,2024-03-05 09:30,Ann,Sales\n"
                             "c1,B,2024-03-05 11:00,2024-03-05 12:00,Bob,Finance\n"
                             "c2,A,2024-03-05 09:00,2024-03-05 10:00,Ann,Sales\n"
                             "c2,C,2024-03-05 10:00,2024-03-05 11:00,Bob,Finance\n")
    p = parts(db, log_id, OFFICE)
    assert calendar_time(p["c1", "B"]) == only(extraneous=0.5 * H, prioritization=1 * H)


def test_batching_until_the_batch_starts_then_the_queue_inside_it(db, write):
    # Fay approves three plans in one sitting on Tue 10:00–11:30 (B back to back); they were ready Mon 10:00,
    # Mon 14:00 and Tue 09:30. c1 waits 24 h, all batching (the night too: batching comes first). c2 waits
    # Mon 14:00 → Tue 10:00 for the batch (20 h), then 30 min while Fay approves c1 (enabled earlier:
    # contention). c3: 30 min batching, then 1 h behind c1 and c2.
    log_id = load(db, write, "c1,A,2024-03-04 09:00,2024-03-04 10:00,Ann,Sales\n"
                             "c1,B,2024-03-05 10:00,2024-03-05 10:30,Fay,Finance\n"
                             "c2,A,2024-03-04 13:00,2024-03-04 14:00,Ann,Sales\n"
                             "c2,B,2024-03-05 10:30,2024-03-05 11:00,Fay,Finance\n"
                             "c3,A,2024-03-05 09:00,2024-03-05 09:30,Ann,Sales\n"
                             "c3,B,2024-03-05 11:00,2024-03-05 11:30,Fay,Finance\n")
    p = parts(db, log_id, OFFICE)
    assert calendar_time(p["c1", "B"]) == only(batching=24 * H)
    assert calendar_time(p["c2", "B"]) == only(batching=20 * H, contention=0.5 * H)
    assert calendar_time(p["c3", "B"]) == only(batching=0.5 * H, contention=1 * H)
    # In working time: Mon 10–18 and Tue 9–10 (9 h); Mon 14–18 and Tue 9–10 (5 h) then 30 min; all on duty.
    assert working_time(p["c1", "B"]) == only(batching=9 * H)
    assert working_time(p["c2", "B"]) == only(batching=5 * H, contention=0.5 * H)
    # A gap longer than batch_gap between two approvals breaks the run: no batch.
    far = parts(db, log_id, OFFICE, batch_gap=0)
    assert far["c1", "B"]["batching"] == 24 * H                # 0 s gap: still back to back
    split = load(db, write, "c1,A,2024-03-04 09:00,2024-03-04 10:00,Ann,Sales\n"
                            "c1,B,2024-03-05 10:00,2024-03-05 10:30,Fay,Finance\n"
                            "c2,A,2024-03-04 13:00,2024-03-04 14:00,Ann,Sales\n"
                            "c2,B,2024-03-05 10:40,2024-03-05 11:00,Fay,Finance\n", "split.csv")
    assert parts(db, split, OFFICE)["c1", "B"]["batching"] == 0     # 10 min > 5 min: two runs of one


def test_batching_precedes_prioritization(db, write):
    # Bob does c2's B (enabled 10:00) 10:00–11:00 and then c1's B (enabled 09:30) 11:00–12:00: one run in
    # which both were ready at 10:00, a batch. c1: 09:30–10:00 batching, 10:00–11:00 busy on newer c2.
    log_id = load(db, write, "c1,A,2024-03-05 09:00,2024-03-05 09:30,Ann,Sales\n"
                             "c1,B,2024-03-05 11:00,2024-03-05 12:00,Bob,Finance\n"
                             "c2,A,2024-03-05 09:00,2024-03-05 10:00,Ann,Sales\n"
                             "c2,B,2024-03-05 10:00,2024-03-05 11:00,Bob,Finance\n")
    assert calendar_time(parts(db, log_id, OFFICE)["c1", "B"]) == only(batching=0.5 * H, prioritization=1 * H)


def test_contention_precedes_unavailability_busy_at_night(db, write):
    # Bob's X for c1 runs Tue 17:00 → Wed 10:00 (enabled 17:00). c2's C is enabled Tue 17:30 and starts Wed
    # 10:00: Bob was busy with earlier work the whole 16.5 h, night included: contention, not unavailability.
    log_id = load(db, write, "c1,A,2024-03-05 16:00,2024-03-05 17:00,Ann,Sales\n"
                             "c1,X,2024-03-05 17:00,2024-03-06 10:00,Bob,Finance\n"
                             "c2,A,2024-03-05 16:30,2024-03-05 17:30,Ann,Sales\n"
                             "c2,C,2024-03-06 10:00,2024-03-06 11:00,Bob,Finance\n")
    p = parts(db, log_id, OFFICE)
    assert calendar_time(p["c2", "C"]) == only(contention=16.5 * H)
    assert working_time(p["c2", "C"]) == only(contention=1.5 * H)    # Tue 17:30–18:00 and Wed 09:00–10:00


def test_contention_precedes_prioritization_when_multitasking(db, write):
    # e (c1's B) is enabled 09:30 and starts 12:00. Bob runs older X (c0, enabled 09:00) 09:00–12:00 and newer
    # Y (c2, enabled 10:00) 10:00–11:00 at the same time: while earlier work runs, it is contention.
    log_id = load(db, write, "c0,A,2024-03-05 08:00,2024-03-05 09:00,Ann,Sales\n"
                             "c0,X,2024-03-05 09:00,2024-03-05 12:00,Bob,Finance\n"
                             "c1,A,2024-03-05 08:30,2024-03-05 09:30,Ann,Sales\n"
                             "c1,B,2024-03-05 12:00,2024-03-05 13:00,Bob,Finance\n"
                             "c2,A,2024-03-05 09:00,2024-03-05 10:00,Ann,Sales\n"
                             "c2,Y,2024-03-05 10:00,2024-03-05 11:00,Bob,Finance\n")
    assert calendar_time(parts(db, log_id, OFFICE)["c1", "B"]) == only(contention=2.5 * H)


def test_prioritization_keeps_counting_after_the_first_queue_jump(db, write):
    # The documented limit of the rule: e (c1's B) enabled 09:00, starts 11:00. Bob does newer Y (c2, enabled
    # 09:30) 09:30–10:00, then older X (c0, enabled 08:00) 10:00–11:00. After the first jump (09:30) and with
    # nothing older in hand, all busy time counts as prioritisation (1.5 h); 09:00–09:30 Bob was free.
    log_id = load(db, write, "c0,A,2024-03-05 07:00,2024-03-05 08:00,Ann,Sales\n"
                             "c0,X,2024-03-05 10:00,2024-03-05 11:00,Bob,Finance\n"
                             "c1,A,2024-03-05 08:00,2024-03-05 09:00,Ann,Sales\n"
                             "c1,B,2024-03-05 11:00,2024-03-05 12:00,Bob,Finance\n"
                             "c2,A,2024-03-05 08:30,2024-03-05 09:30,Ann,Sales\n"
                             "c2,Y,2024-03-05 09:30,2024-03-05 10:00,Bob,Finance\n")
    assert calendar_time(parts(db, log_id, OFFICE)["c1", "B"]) == only(extraneous=0.5 * H, prioritization=1.5 * H)


def test_an_instance_enabled_at_the_same_time_counts_as_earlier(db, write):
    # c1's B and c2's C are both enabled at 10:00; Bob does C first: contention, not prioritisation.
    log_id = load(db, write, "c1,A,2024-03-05 09:00,2024-03-05 10:00,Ann,Sales\n"
                             "c1,B,2024-03-05 11:00,2024-03-05 12:00,Bob,Finance\n"
                             "c2,A,2024-03-05 09:00,2024-03-05 10:00,Cy,Sales\n"
                             "c2,C,2024-03-05 10:00,2024-03-05 11:00,Bob,Finance\n")
    assert calendar_time(parts(db, log_id, OFFICE)["c1", "B"]) == only(contention=1 * H)


def test_overlaps_and_first_events_have_no_causes(db, write):
    # B starts before A ends (parallel work): a wait of 0 with no causes; A (first of its case) is not listed.
    log_id = load(db, write, "c1,A,2024-03-05 09:00,2024-03-05 10:00,Ann,Sales\n"
                             "c1,B,2024-03-05 09:30,2024-03-05 11:00,Bob,Finance\n")
    p = parts(db, log_id, OFFICE)
    assert set(p) == {("c1", "B")}
    assert p["c1", "B"] == {**only(), **dict.fromkeys(WORKING, 0.0)}


def test_the_resources_work_in_filtered_out_cases_still_counts(db, write):
    # The contention log, filtered to c2 only: Bob was still busy with c1 (a case the filter drops).
    log_id = load(db, write, "c1,A,2024-03-05 09:00,2024-03-05 10:00,Ann,Sales\n"
                             "c1,B,2024-03-05 10:00,2024-03-05 12:00,Bob,Finance\n"
                             "c2,A,2024-03-05 09:30,2024-03-05 10:30,Ann,Sales\n"
                             "c2,B,2024-03-05 12:00,2024-03-05 13:00,Bob,Finance\n")
    flt = CaseFilter(end_activities=("B",), cycle_min_seconds=3.5 * H)   # c2: 09:30–13:00, c1: 09:00–12:00
    p = parts(db, log_id, OFFICE, flt)
    assert set(p) == {("c2", "B")}
    assert calendar_time(p["c2", "B"]) == only(contention=1.5 * H)


# --- the log cannot tell -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("log", "key"), [
    ("case,activity,timestamp,resource\nc1,A,2024-03-05 09:00,Ann\nc1,B,2024-03-05 11:00,Bob\n", "err.why_no_start"),
    ("case,activity,start,end\nc1,A,2024-03-05 09:00,2024-03-05 10:00\nc1,B,2024-03-05 11:00,2024-03-05 12:00\n",
     "err.why_no_resource"),
    ("case,activity,timestamp\nc1,A,2024-03-05 09:00\nc1,B,2024-03-05 11:00\n", "err.why_no_start_resource"),
])
def test_a_log_without_starts_or_resources_cannot_tell(db, write, log, key):
    log_id = importer.import_file(db, write("x.csv", log)).log_id
    with pytest.raises(UserError) as exc:
        wc.diagnose(db, log_id)
    assert exc.value.key == key


# --- groupings ---------------------------------------------------------------------------------------------

BATCH_LOG = ("c1,A,2024-03-04 09:00,2024-03-04 10:00,Ann,Sales\n"
             "c1,B,2024-03-05 10:00,2024-03-05 10:30,Fay,Finance\n"
             "c1,C,2024-03-05 11:00,2024-03-05 12:00,Fay,Finance\n"
             "c2,A,2024-03-04 13:00,2024-03-04 14:00,Ann,Sales\n"
             "c2,B,2024-03-05 10:30,2024-03-05 11:00,Fay,Finance\n"
             "c3,A,2024-03-05 09:00,2024-03-05 09:30,Ann,Sales\n"
             "c3,B,2024-03-05 12:00,2024-03-05 12:30,Fay,\n")


def test_groupings_add_up_and_keys_read_a_to_b(db, write):
    # Fay works B c1 10:00–10:30, B c2 10:30–11:00 (a batch: both ready before 10:00), C c1 11:00–12:00 and
    # B c3 12:00–12:30 (runs of their own: the activity changed). By hand:
    # B c1: Mon 10:00 → Tue 10:00, 24 h batching. B c2: Mon 14:00 → Tue 10:30, 20 h batching + 0.5 h busy
    # with B c1 (earlier: contention). C c1: enabled 10:30, Fay busy with B c2 (earlier) until 11:00: 0.5 h
    # contention. B c3 (no department): enabled 09:30, Fay free until 10:00 (extraneous 0.5 h), busy with
    # earlier B c1, B c2 until 11:00 (contention 1 h), then with C c1, enabled 10:30, after B c3 (1 h prio).
    log_id = load(db, write, BATCH_LOG)
    p = parts(db, log_id, OFFICE)
    assert calendar_time(p["c1", "B"]) == only(batching=24 * H)
    assert calendar_time(p["c2", "B"]) == only(batching=20 * H, contention=0.5 * H)
    assert calendar_time(p["c1", "C"]) == only(contention=0.5 * H)
    assert calendar_time(p["c3", "B"]) == only(extraneous=0.5 * H, contention=1 * H, prioritization=1 * H)
    total = wc.diagnose(db, log_id, calendar=OFFICE).total
    assert (total["events"], total["cases"], total["wait_seconds"]) == (4, 3, 47.5 * H)
    for by in wc.BY:
        result = wc.diagnose(db, log_id, calendar=OFFICE, by=by)
        assert result.by == by and result.calendar == "given"
        assert result.total == total                                   # the total never depends on `by`
        if by != "handoff":                                            # every event has exactly one key
            assert result.rows["events"].sum() == total["events"]
            for c in ("wait", *wc.CAUSES):
                assert result.rows[f"{c}_seconds"].sum() == pytest.approx(total[f"{c}_seconds"])
    activity = wc.diagnose(db, log_id, calendar=OFFICE).rows.set_index("key")
    assert activity.index.tolist() == ["B", "C"]                       # most waiting first
    assert activity.loc["B", ["wait_seconds", "batching_seconds", "contention_seconds", "prioritization_seconds",
                              "extraneous_seconds"]].tolist() == [47 * H, 44 * H, 1.5 * H, 1 * H, 0.5 * H]
    handoff = wc.diagnose(db, log_id, calendar=OFFICE, by="handoff").rows
    assert handoff["key"].tolist() == ["Sales → Finance"]               # C c1 stays in Finance; B c3 has no department
    assert handoff.loc[0, ["events", "wait_seconds", "batching_seconds"]].tolist() == [2, 44.5 * H, 44 * H]
    department = wc.diagnose(db, log_id, calendar=OFFICE, by="department").rows
    assert records.plain(department["key"]) == ["Finance", None]               # events without a department: own row
    assert wc.diagnose(db, log_id, calendar=OFFICE, by="resource").rows["key"].tolist() == ["Fay"]
    with pytest.raises(ValueError):
        wc.diagnose(db, log_id, by="case")


def test_row_figures_shares_medians_and_strict_json(db, write):
    log_id = load(db, write, BATCH_LOG)
    result = wc.diagnose(db, log_id, calendar=OFFICE)
    b = result.rows.set_index("key").loc["B"]
    assert (b["events"], b["waits"], b["cases"]) == (3, 3, 3)
    assert b["share_batching"] == pytest.approx(b["batching_seconds"] / b["wait_seconds"])
    assert b["median_batching_seconds"] == 22 * H        # c1 24 h, c2 20 h; c3's B (a run of its own) none
    assert b["median_wait_seconds"] == 20.5 * H
    data = json.loads(records.to_json(result.as_dict()))
    assert data["by"] == "activity"
    first = data["rows"][0]
    assert list(first)[:8] == ["key", "events", "waits", "cases", "wait_seconds", "median_wait_seconds",
                               "batching_seconds", "median_batching_seconds"]
    assert {"key", "events", "wait_seconds", *(f"{c}_seconds" for c in wc.CAUSES)} <= set(first)


def test_observed_hours_from_the_resources_own_instants(db, write):
    # Bob starts and ends work between 08:00 and 16:45 on Mon–Thu for two weeks; once on a Saturday.
    rows, day = [], dt.date(2024, 3, 4)
    for week in range(2):
        for weekday in range(4):
            d = day + dt.timedelta(days=7 * week + weekday)
            for case, (a, b) in enumerate([("08:00", "09:00"), ("10:00", "12:30"), ("14:00", "16:45")]):
                rows.append(f"w{week}{weekday}{case},A,{d} {a},{d} {b},Bob,Finance")
    rows.append("sat,A,2024-03-09 10:00,2024-03-09 11:00,Bob,Finance")
    log_id = load(db, write, "\n".join(rows) + "\n")
    hours = wc.observed_hours(db, log_id)
    assert hours == {"Bob": WorkCalendar(workdays=(0, 1, 2, 3), day_start="08:00", day_end="17:00")}


def test_without_a_calendar_off_duty_is_the_resources_observed_hours(db, write):
    # Bob's observed hours (as above) are Mon–Thu 08:00–17:00; a plan enabled Thu 16:00 and started Mon
    # 09:00 waits 89 h: on duty Thu 16–17 and Mon 08–09 (Bob busy neither time): 2 h extraneous, 87 h away.
    rows, day = [], dt.date(2024, 3, 4)
    for week in range(2):
        for weekday in range(4):
            d = day + dt.timedelta(days=7 * week + weekday)
            for case, (a, b) in enumerate([("08:00", "09:00"), ("10:00", "12:30"), ("14:00", "16:45")]):
                rows.append(f"w{week}{weekday}{case},A,{d} {a},{d} {b},Bob,Finance")
    rows += ["late,A,2024-03-21 15:00,2024-03-21 16:00,Ann,Sales",
             "late,B,2024-03-25 09:00,2024-03-25 10:00,Bob,Finance"]
    log_id = load(db, write, "\n".join(rows) + "\n")
    p = parts(db, log_id)
    assert calendar_time(p["late", "B"]) == only(extraneous=2 * H, unavailability=87 * H)
    assert wc.diagnose(db, log_id).calendar == "observed"


# --- the reference: the documented rules instant by instant, in plain Python ----------------------------------

def reference_parts(items: pd.DataFrame, duty: dict, gap: float = wc.BATCH_GAP, only=None) -> pd.DataFrame:
    """The five parts of each event's wait, by sweeping the elementary pieces of its waiting interval.

    items: one row per event with a start and a resource: case, pos, activity, resource, start, end, enabled
    (Timestamps; enabled NaT for the first event of a case). duty: resource → WorkCalendar (missing: always
    on duty). only: the (case, pos) to compute (default: all). Returns case, pos, wait, the five parts, and
    the same in working time (working_wait, `<cause>_working`), in seconds."""
    out = []
    for resource, group in items.groupby("resource", sort=False):
        if only is None or not only.isdisjoint(zip(group["case"], group["pos"], strict=True)):
            out += _reference_resource(group, duty.get(resource), gap, only)
    return pd.DataFrame(out, columns=["case", "pos", "wait", *wc.CAUSES, *WORKING])


def _us(values) -> np.ndarray:
    return pd.to_datetime(pd.Series(values)).to_numpy("datetime64[us]").astype(np.int64)


def _reference_resource(group: pd.DataFrame, calendar, gap: float, only) -> list[tuple]:
    g = group.sort_values(["start", "end", "case", "pos"]).reset_index(drop=True)
    start, end = _us(g["start"]), _us(g["end"])
    has_enabled = g["enabled"].notna().to_numpy()
    enabled = np.where(has_enabled, _us(g["enabled"].fillna(g["start"])), 0)
    ready = np.where(has_enabled, np.minimum(enabled, start), start)
    activity = g["activity"].to_numpy()
    # Each instance's run, as the index of its first instance: a run continues while the activity stays
    # the same and the next start comes at most `gap` after the previous end.
    same = np.r_[False, (activity[1:] == activity[:-1]) & (start[1:] <= end[:-1] + round(gap * 1e6))]
    first = np.maximum.accumulate(np.where(same, 0, np.arange(len(g))))
    batch = np.bincount(first, weights=ready <= start[first], minlength=len(g)) >= 2
    rows, keys = [], list(zip(g["case"], g["pos"], strict=True))
    for i, key in enumerate(keys):
        if not has_enabled[i] or (only is not None and key not in only):
            continue
        en, s = enabled[i], start[i]
        if en >= s:
            rows.append((*key, *[0.0] * 12))
            continue
        b = start[first[i]] if batch[first[i]] and start[first[i]] > en else en
        younger = np.flatnonzero(ready > en)              # the resource's instances enabled after this one
        k = max(start[younger[0]], end[:younger[0]].max(initial=start[younger[0]])) if len(younger) else None
        figures = dict.fromkeys(wc.CAUSES, 0.0)
        working = dict.fromkeys(wc.CAUSES, 0.0)                 # each part's on-duty seconds

        def on_duty(lo, hi):
            return (hi - lo) / 1e6 if calendar is None else working_seconds(calendar, _dt(lo), _dt(hi))

        figures["batching"], working["batching"] = (b - en) / 1e6, on_duty(en, b)
        near = (start < s) & (end > b)
        near[i] = False                                   # the other instances that overlap [b, s)
        s_near, e_near = start[near], end[near]
        inside = np.concatenate([s_near, e_near])
        cuts = sorted({b, s, *inside[(inside > b) & (inside < s)].tolist(),
                       *([k] if k is not None and b < k < s else [])})
        for lo, hi in itertools.pairwise(cuts):
            mid, length = (lo + hi) / 2, (hi - lo) / 1e6
            on = on_duty(lo, hi)
            if ((s_near <= mid) & (mid < e_near)).any():
                cause = "contention" if k is None or hi <= k else "prioritization"
                figures[cause] += length
                working[cause] += on
            else:
                figures["unavailability"] += length - on
                figures["extraneous"] += on
                working["extraneous"] += on
        rows.append((*key, (s - en) / 1e6, *figures.values(), on_duty(en, s), *working.values()))
    return rows


def _dt(us) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(us))


def store_events(db, log_id: int) -> pd.DataFrame:
    """Every event, with the end of its case predecessor (canonical pos) as `enabled`."""
    return db.execute("""SELECT case_id AS "case", pos, activity, resource, department, start_ts AS start, ts AS "end",
                                lag(ts) OVER (PARTITION BY case_id ORDER BY pos) AS enabled
                         FROM events WHERE log_id = $log_id""", {"log_id": log_id}).df()


def store_items(db, log_id: int) -> pd.DataFrame:
    """The events with a start and a resource (the ones whose waits are split and whose work is busy time)."""
    frame = store_events(db, log_id)
    return frame[frame["start"].notna() & frame["resource"].notna()]


def home_calendars(events: pd.DataFrame, calendar: WorkCalendar) -> dict:
    """resource → its department's calendar: the department its events carry most often, ties → first by name."""
    counts = events.dropna(subset=["resource", "department"]).groupby(["resource", "department"]).size()
    counts = counts.reset_index(name="n").sort_values(["resource", "n", "department"], ascending=[True, False, True])
    home = counts.drop_duplicates("resource").set_index("resource")["department"].to_dict()
    return {r: calendar.for_department(home.get(r)) for r in events["resource"].dropna().unique()}


def assert_matches_reference(db, log_id: int, calendar: WorkCalendar | None, duty: dict | None = None) -> pd.DataFrame:
    ours = wc.event_causes(db, log_id, calendar=calendar).df(db).rename(columns={"case_id": "case"})
    items = store_items(db, log_id)
    if duty is None:
        duty = home_calendars(store_events(db, log_id), calendar) if calendar else wc.observed_hours(db, log_id)
    ref = reference_parts(items, duty)
    both = ours.merge(ref, on=["case", "pos"], how="outer", indicator=True, validate="one_to_one")
    assert (both["_merge"] == "both").all()
    for name in ("wait", *wc.CAUSES, *WORKING):
        assert np.allclose(both[f"{name}_seconds"], both[name], atol=1e-6), name
    return ours


def test_the_hand_logs_agree_with_the_reference(db, write):
    log_id = load(db, write, BATCH_LOG)
    assert_matches_reference(db, log_id, OFFICE)
    assert_matches_reference(db, log_id, None)


# --- property: every part ≥ 0, the parts add up to the wait, and they equal the reference --------------------

@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    con = store.connect(tmp_path_factory.mktemp("wc") / "wc.duckdb")
    yield con, tmp_path_factory.mktemp("logs")
    con.close()


event = st.tuples(st.integers(0, 3 * 24 * 60), st.integers(0, 6 * 60), st.sampled_from("ABC"),
                  st.sampled_from(["Ann", "Bob", "Cy", ""]), st.sampled_from(["Sales", "Finance", ""]),
                  st.booleans())
cases = st.lists(st.lists(event, min_size=1, max_size=4), min_size=1, max_size=6)
hours = st.sampled_from([None, OFFICE, WorkCalendar(day_start="10:00", day_end="15:30", holidays=("2024-03-06",)),
                         WorkCalendar(departments=(("Finance", WorkCalendar(workdays=(0, 2, 4), day_start="08:00",
                                                                            day_end="12:00")),))])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=cases, calendar=hours, gap=st.sampled_from([0.0, wc.BATCH_GAP, 2 * H]))
def test_parts_are_never_negative_add_up_to_the_wait_and_equal_the_reference(scratch, log, calendar, gap):
    con, folder = scratch
    base = dt.datetime(2024, 3, 4, 0, 0)
    lines = [HEADER.strip()]
    for c, trace in enumerate(log):
        at = 0
        for offset, length, activity, resource, department, has_start in trace:
            at += offset // 4 + 1                 # later and later starts (the store orders each case)
            s, e = base + dt.timedelta(minutes=at), base + dt.timedelta(minutes=at + length)
            lines.append(f"c{c},{activity},{s if has_start else ''},{e},{resource},{department}")
    path = folder / "random.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log_id = importer.import_file(con, path).log_id
    try:
        frame = wc.event_causes(con, log_id, calendar=calendar, batch_gap=gap).df(con)
    except UserError:
        return                                    # no event with a start and a resource: nothing to split
    if frame.empty:
        return
    for total, names in (("wait", wc.CAUSES), ("working_wait", [f"{c}_working" for c in wc.CAUSES])):
        values = frame[[f"{n}_seconds" for n in names]].to_numpy()
        assert (values >= 0).all()
        assert np.allclose(values.sum(axis=1), frame[f"{total}_seconds"], atol=1e-6)
    assert (frame["working_wait_seconds"] <= frame["wait_seconds"] + 1e-6).all()
    steps = con.execute("""SELECT case_id, pos, greatest(epoch(start_ts) - epoch(lag(ts) OVER w), 0) AS w
                           FROM events WHERE log_id = $l WINDOW w AS (PARTITION BY case_id ORDER BY pos)""",
                        {"l": log_id}).df()
    merged = frame.merge(steps, on=["case_id", "pos"])
    assert np.allclose(merged["wait_seconds"], merged["w"], atol=1e-6)
    items = store_items(con, log_id)
    duty = home_calendars(store_events(con, log_id), calendar) if calendar else wc.observed_hours(con, log_id)
    ref = reference_parts(items, duty, gap)
    both = frame.rename(columns={"case_id": "case"}).merge(ref, on=["case", "pos"])
    assert len(both) == len(frame) == len(ref)
    for name in (*wc.CAUSES, *WORKING):
        assert np.allclose(both[f"{name}_seconds"], both[name], atol=1e-6), name


# --- the page's path: the split computed once (event_parts), grouped under each filter ----------------------

def pandas_groups(frame: pd.DataFrame, by: str, unit: str) -> tuple[dict, dict]:
    """{key: figures} and the total, grouped with pandas from event_causes' per-event rows (independent of
    diagnose's SQL): events, waits, cases, sums, medians over the events a part delays, shares."""
    def figures(g: pd.DataFrame) -> dict:
        waiting = g["wait_seconds"] > 0
        out = {"events": len(g), "waits": int(waiting.sum()), "cases": g.loc[waiting, "case_id"].nunique(),
               "wait_seconds": g["wait_seconds"].sum(), "median_wait_seconds": g.loc[waiting, "wait_seconds"].median()}
        for c in wc.CAUSES:
            values = g[f"{c}_seconds"]
            out |= {f"{c}_seconds": values.sum(), f"median_{c}_seconds": values[values > 0].median(),
                    f"share_{c}": values.sum() / out["wait_seconds"] if out["wait_seconds"] else np.nan}
        return out | {f"{n}_seconds": g[f"{n}_seconds"].sum() for n in WORKING}

    keyed = frame.copy()
    if by == "handoff":
        prev, here = keyed[f"prev_{unit}"], keyed[unit]
        keyed = keyed[prev.notna() & here.notna() & (prev != here)]
        keyed = keyed.assign(key=keyed[f"prev_{unit}"] + " → " + keyed[unit])
    else:
        keyed = keyed.assign(key=keyed[by])
    groups = {k if isinstance(k, str) else None: figures(g) for k, g in keyed.groupby("key", dropna=False)}
    return groups, figures(frame)


def assert_figures(ours: dict, expected: dict) -> None:
    for name, value in expected.items():
        got = ours[name]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            assert got is None or np.isnan(got), name
        else:
            assert got == pytest.approx(value, rel=1e-9, abs=1e-6), name


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    """A small sample campaign log (departments, people, hand-offs, batches) in a store of its own."""
    from analysis import sample

    folder = tmp_path_factory.mktemp("why_sample")
    sample.write_sample_csv(folder / "sample.csv", n_cases=80)
    con = store.connect(folder / "s.duckdb")
    yield con, importer.import_file(con, folder / "sample.csv").log_id
    con.close()


def sample_filters(con, log_id: int) -> list:
    """Filters that keep all, some, one department's and none of the sample's cases."""
    first, last = con.execute("SELECT min(start_ts), max(end_ts) FROM cases WHERE log_id = $l", {"l": log_id}).fetchone()
    middle = (first + (last - first) / 2).date().isoformat()
    department = con.execute("SELECT department FROM events WHERE log_id = $l AND department IS NOT NULL "
                             "GROUP BY ALL ORDER BY count(*), department LIMIT 1", {"l": log_id}).fetchone()[0]
    return [None, CaseFilter(time_from=first.date().isoformat(), time_to=middle),
            CaseFilter(departments=(department,)), CaseFilter(variants_top=2),
            CaseFilter(activities_present=("no such activity",))]


@pytest.mark.parametrize("calendar", [OFFICE, None], ids=["calendar", "observed"])
def test_cached_parts_give_the_same_figures_under_every_filter_and_grouping(sample_store, calendar):
    con, log_id = sample_store
    parts = wc.event_parts(con, log_id, calendar)
    unit = con.execute("SELECT CASE WHEN count(department) > 0 THEN 'department' ELSE 'resource' END FROM events "
                       "WHERE log_id = $l", {"l": log_id}).fetchone()[0]
    filters = sample_filters(con, log_id)
    kept_sizes = set()
    for flt in filters:
        frame = wc.event_causes(con, log_id, flt, calendar).df(con)
        kept_sizes.add(len(frame))
        for by in wc.BY:
            fresh = wc.diagnose(con, log_id, flt, calendar, by)
            cached = wc.diagnose(con, log_id, flt, calendar, by, parts=parts)
            pd.testing.assert_frame_equal(cached.rows, fresh.rows)
            assert cached.total == fresh.total and cached.calendar == fresh.calendar and cached.by == by
            groups, total = pandas_groups(frame, by, unit)
            if frame.empty:                     # nothing kept: no rows, a total of 0 events and 0 s of waiting
                assert cached.rows.empty and (cached.total["events"], cached.total["wait_seconds"]) == (0, 0)
                continue
            assert_figures(cached.total, total)
            assert set(records.plain(cached.rows["key"])) == set(groups)
            for row in records.plain(cached.rows):
                assert_figures(row, groups[row["key"]])
            waits = cached.rows["wait_seconds"].tolist()
            assert waits == sorted(waits, reverse=True)                     # most waiting first
    assert 0 in kept_sizes and len(kept_sizes) >= 4                        # the filters really differ


def test_parts_of_another_log_or_calendar_are_refused(sample_store):
    con, log_id = sample_store
    parts = wc.event_parts(con, log_id, OFFICE)
    assert parts.num_rows == len(wc.event_causes(con, log_id, calendar=OFFICE).df(con))
    assert set(wc.PART_COLUMNS) <= set(parts.column_names)
    for other in ({"log_id": log_id + 1}, {"calendar": None}, {"batch_gap": 2 * H}):
        args = {"log_id": log_id, "calendar": OFFICE, "batch_gap": wc.BATCH_GAP} | other
        with pytest.raises(ValueError):
            wc.diagnose(con, args["log_id"], calendar=args["calendar"], batch_gap=args["batch_gap"], parts=parts)


# --- the split saved in the store (save_parts): what a page groups on a first visit -----------------------

def _forget_saved(con, log_id: int) -> None:
    for table in ("wait_parts", "wait_part_sets"):
        con.execute(f"DELETE FROM {table} WHERE log_id = $l", {"l": log_id})


@pytest.mark.parametrize("calendar", [OFFICE, None], ids=["calendar", "observed"])
def test_the_saved_split_gives_the_figures_of_computing_it(sample_store, calendar):
    # diagnose on the split saved in the store equals diagnose computing the split itself (which the test
    # above checks against pandas), under every filter and grouping.
    con, log_id = sample_store
    _forget_saved(con, log_id)
    assert wc.saved_parts(con, log_id, calendar) is None
    filters = sample_filters(con, log_id)
    fresh = {(i, by): wc.diagnose(con, log_id, flt, calendar, by) for i, flt in enumerate(filters) for by in wc.BY}
    set_id = wc.save_parts(con, log_id, calendar)
    assert wc.saved_parts(con, log_id, calendar)[0] == set_id
    stored = con.execute("SELECT count(*) FROM wait_parts WHERE set_id = $s", {"s": set_id}).fetchone()[0]
    assert stored == len(wc.event_causes(con, log_id, calendar=calendar).df(con)) > 0
    for (i, by), expected in fresh.items():
        got = wc.diagnose(con, log_id, filters[i], calendar, by)
        pd.testing.assert_frame_equal(got.rows, expected.rows)
        assert got.total == expected.total and got.calendar == expected.calendar
    _forget_saved(con, log_id)


def test_a_saved_split_is_kept_once_replaced_by_new_code_and_deleted_with_its_log(tmp_path, monkeypatch):
    from analysis import sample

    sample.write_sample_csv(tmp_path / "s.csv", n_cases=30)
    con = store.connect(tmp_path / "s.duckdb")
    log_id = importer.import_file(con, tmp_path / "s.csv").log_id
    other = importer.import_file(con, tmp_path / "s.csv", importer.ImportOptions(name="again")).log_id

    def counts() -> tuple[int, int]:
        return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("wait_part_sets", "wait_parts"))

    first = wc.save_parts(con, log_id)
    rows = counts()[1]
    assert wc.save_parts(con, log_id) == first and counts() == (1, rows)          # saved once, not twice
    office = wc.save_parts(con, log_id, OFFICE)                                     # each calendar its own set
    assert office != first and counts() == (2, 2 * rows)
    wc.save_parts(con, other)
    assert counts() == (3, 3 * rows)
    # Other code (a changed rule): the old split is never read, and saving replaces this log's old sets.
    monkeypatch.setattr(wc, "code_version", lambda: "changed")
    assert wc.saved_parts(con, log_id) is None
    again = wc.save_parts(con, log_id)
    assert again not in (first, office) and counts() == (2, 2 * rows)
    monkeypatch.undo()
    assert wc.saved_parts(con, other) is not None
    store.delete_log(con, other)
    assert counts() == (1, rows)
    con.close()


def test_a_store_made_before_the_split_tables(tmp_path, write):
    # An older store has no wait_parts tables: read-only, diagnose computes the split itself; opened for
    # writing, the tables are added and the split can be saved.
    path = tmp_path / "old.duckdb"
    con = store.connect(path)
    log_id = load(con, write, "1,a,2024-03-04 09:00,2024-03-04 10:00,x,D\n1,b,2024-03-04 12:00,2024-03-04 13:00,x,D\n")
    con.execute("DROP TABLE wait_parts")
    con.execute("DROP TABLE wait_part_sets")
    con.close()
    with store.connect(path, read_only=True) as ro:
        assert wc.saved_parts(ro, log_id) is None
        assert wc.diagnose(ro, log_id).total["wait_seconds"] == 2 * H
    with store.connect(path) as rw:
        wc.save_parts(rw, log_id)
        assert wc.saved_parts(rw, log_id) is not None
        total = wc.diagnose(rw, log_id).total
        assert total["wait_seconds"] == sum(total[f"{c}_seconds"] for c in wc.CAUSES) == 2 * H


@pytest.mark.parametrize("unit", ["department", "resource"])
def test_hand_offs_between_departments_or_people(sample_store, unit):
    # The Hand-offs page counts hand-offs between departments or people: the split grouped by either pair
    # equals the per-event rows grouped with pandas, computed, from the Arrow table and from the saved split.
    con, log_id = sample_store
    frame = wc.event_causes(con, log_id).df(con)
    groups, total = pandas_groups(frame, "handoff", unit)
    assert groups and all(" → " in k for k in groups)
    _forget_saved(con, log_id)
    computed = wc.diagnose(con, log_id, by="handoff", unit=unit)
    cached = wc.diagnose(con, log_id, by="handoff", unit=unit, parts=wc.event_parts(con, log_id))
    wc.save_parts(con, log_id)
    saved = wc.diagnose(con, log_id, by="handoff", unit=unit)
    for found in (computed, cached, saved):
        assert set(records.plain(found.rows["key"])) == set(groups)
        for row in records.plain(found.rows):
            assert_figures(row, groups[row["key"]])
        assert_figures(found.total, total)
    people = set(frame["resource"].dropna())
    first, second = next(iter(groups)).split(" → ")
    assert (first in people) == (unit == "resource")
    _forget_saved(con, log_id)


def test_a_saved_split_table_of_another_shape_is_made_again(tmp_path, write):
    # wait_parts is derived data: a store whose table has other columns (an earlier version) gets it anew.
    path = tmp_path / "shape.duckdb"
    with store.connect(path) as con:
        log_id = load(con, write, "1,a,2024-03-04 09:00,2024-03-04 10:00,x,D\n1,b,2024-03-04 12:00,2024-03-04 13:00,x,D\n")
        con.execute("DROP TABLE wait_parts")
        con.execute("CREATE TABLE wait_parts (set_id INTEGER, log_id INTEGER, prev_unit VARCHAR)")
    with store.connect(path) as con:
        wc.save_parts(con, log_id)
        assert wc.diagnose(con, log_id).total["wait_seconds"] == 2 * H
        assert "prev_unit" not in {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'wait_parts'").fetchall()}
