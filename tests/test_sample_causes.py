"""The sample's injected waiting causes, found by `waiting_causes.diagnose` on the shipped sample.

The expected figures come from the generator's own frame (`sample.injected_waits`: what it drew for every
event, in working seconds), never from the code under test. Where the diagnosis's rule necessarily reads a
little of an injected part as another cause, the test derives that little from the same frame and says why
(SAMPLE_TRUTH.md, "Why it waits", has the same account).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import defaults, sample, store
from analysis import waiting_causes as wc
from analysis.working_time import WorkCalendar, expand_ranges, sample_calendar, working_seconds

DAY_S = sample.DAY * 60                        # working seconds in an office day
OFFICE = WorkCalendar(holidays=expand_ranges(sample.HOLIDAYS))   # the sample calendar without IT's hours
CAUSES = wc.CAUSES


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    con = store.connect(tmp_path_factory.mktemp("why") / "s.duckdb")
    log_id = defaults.ensure_sample(con)
    yield con, log_id
    con.close()


@pytest.fixture(scope="module")
def injected() -> pd.DataFrame:
    return sample.injected_waits(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED)


@pytest.fixture(scope="module")
def why(sample_store) -> pd.DataFrame:
    con, log_id = sample_store
    return wc.diagnose(con, log_id, calendar=sample_calendar()).rows.set_index("key")


def of(injected: pd.DataFrame, code: str) -> pd.DataFrame:
    return injected[injected["activity"] == code]


def row(why: pd.DataFrame, code: str) -> pd.Series:
    return why.loc[sample.ACTIVITY_NAMES["zh"][code]]


def working_share(r: pd.Series, cause: str) -> float:
    return r[f"{cause}_working_seconds"] / r["working_wait_seconds"]


def rule_batching(frame: pd.DataFrame) -> pd.Series:
    """Batching by waiting_causes' documented rule, recomputed on the frame of ONE activity whose people do
    nothing else: a run breaks when an instance starts more than BATCH_GAP after the previous one ended (in
    calendar time); a run is a batch when an instance besides its first was enabled by the run's start; each
    instance of a batch is batching from its enablement to the run's start (working seconds)."""
    f = frame.sort_values(["resource", "start", "end", "case_id"])
    prev_end = f.groupby("resource")["end"].shift()
    new_run = prev_end.isna() | (f["start"] > prev_end + pd.Timedelta(seconds=wc.BATCH_GAP))
    run = new_run.cumsum()
    run_start = f.groupby(run)["start_ws"].transform("first")
    later_ready = f["enabled_ws"].where(~new_run).groupby(run).transform("min")
    is_batch = later_ready <= run_start
    return ((run_start - f["enabled_ws"]).clip(lower=0) * is_batch).reindex(frame.index)


def test_injected_parts_add_up_and_describe_the_log(injected):
    parts = injected[[*sample.COMPONENTS, "other_wait"]]
    assert (parts >= 0).all().all()
    assert (parts.sum(axis=1) == injected["wait_seconds"]).all()
    # Each cause sits where SAMPLE_TRUTH.md puts it, and nowhere else.
    where = {"batch_wait": {"budget_approval"}, "external_delay": {"materials_purchasing", "it_setup"},
             "it_hours_shift": {"it_setup"}, "queue_wait": {"budget_approval", "legal_review",
                                                            "materials_purchasing", "it_setup"}}
    for part, codes in where.items():
        assert set(injected.loc[injected[part] > 0, "activity"]) == codes, part
    assert (of(injected, "legal_review")["queue_wait"] == of(injected, "legal_review")["wait_seconds"]).all()
    # The frame is the log: same events in the same order, and its working-time waits are the log's, read off
    # the log's timestamps with the plain-Python reference (office calendar) for a sample of events.
    log = sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh")
    assert log["案例编号"].tolist() == injected["case_id"].tolist()
    assert log["活动"].tolist() == injected["activity_zh"].tolist()
    assert log["执行人"].tolist() == injected["resource"].tolist()
    assert (pd.to_datetime(log["开始时间"]) == injected["start"]).all()
    prev_end = pd.to_datetime(log["完成时间"]).groupby(log["案例编号"]).shift()
    picked = injected[prev_end.notna()].sample(300, random_state=1)
    by_hand = [working_seconds(OFFICE, prev_end[i].to_pydatetime(), injected.loc[i, "start"].to_pydatetime())
               for i in picked.index]
    assert by_hand == picked["wait_seconds"].tolist()


def test_waits_in_working_time_are_the_injected_waits(why, injected):
    # Finance, legal and procurement keep office hours: the diagnosis's working wait is the injected wait.
    for code in ("budget_approval", "legal_review", "materials_purchasing"):
        assert row(why, code)["working_wait_seconds"] == of(injected, code)["wait_seconds"].sum(), code


def test_budget_approval_waits_for_its_batch(why, injected):
    approvals = of(injected, "budget_approval")
    r = row(why, "budget_approval")
    assert r["share_batching"] > 0.9 and working_share(r, "batching") > 0.9
    # A batch is one approver's approvals of one batch day. An approver with a single approval that day has
    # no batch by the rule (nothing else was waiting), so that approval's batch wait reads as idle time.
    size = approvals.groupby([approvals["resource"], approvals["start_ws"] // DAY_S])["case_id"].transform("size")
    batched = approvals.loc[size >= 2, "batch_wait"].sum()
    assert r["batching_working_seconds"] == batched == rule_batching(approvals).sum()
    assert batched == pytest.approx(approvals["batch_wait"].sum(), rel=0.005)
    # Within the batch the approver works the earlier approvals: busy time, all of the injected queue wait.
    # A lone approval (first of its batch, no queue wait) is instead busy while its approver works other days'
    # batches before its own.
    busy = r["contention_working_seconds"] + r["prioritization_working_seconds"]
    lone = (size == 1).to_numpy()
    assert approvals.loc[lone, "queue_wait"].sum() == 0
    assert busy == approvals["queue_wait"].sum() + busy_during_wait(approvals)[lone].sum()


def test_legal_review_waits_in_a_queue(why, injected):
    reviews = of(injected, "legal_review")
    r = row(why, "legal_review")
    assert r["share_contention"] > 0.95 and working_share(r, "contention") > 0.95
    # FIFO: nobody enabled later is ever reviewed first, and a waiting draft always finds its reviewer busy.
    assert r["prioritization_working_seconds"] == 0 and r["extraneous_working_seconds"] == 0
    # A review that ends at 18:00 sharp while others queue breaks the run (the next starts at 09:00, more than
    # BATCH_GAP later in calendar time, though no working time passed): the rule then sees the queued drafts
    # as collected into a batch and reads their wait until that morning as batching. A handful of events.
    boundary = rule_batching(reviews)
    assert (boundary > 0).sum() < 0.01 * len(reviews)
    assert boundary.sum() < 0.01 * reviews["queue_wait"].sum()
    assert r["batching_working_seconds"] == boundary.sum()
    assert r["contention_working_seconds"] == reviews["queue_wait"].sum() - boundary.sum()
    # A review stays open after its reviewer's effort (a pilot's outside counsel: days), so by the rule's
    # "busy" (any review of theirs open) a reviewer is busy far more than they work. The injected queue wait
    # and the diagnosis's contention still describe the same time: a draft waits only while its reviewer
    # WORKS on earlier drafts (effort one at a time, FIFO), so every second of its wait is the reviewer's
    # effort on other reviews, which the rule counts as busy too.
    assert (reviews["end_ws"] > reviews["effort_end_ws"]).mean() > 0.3    # many reviews are held open
    effort = busy_during_wait(reviews, end="effort_end_ws")
    assert (effort == reviews["queue_wait"].to_numpy()).all()


def busy_during_wait(frame: pd.DataFrame, end: str = "end_ws") -> np.ndarray:
    """Per instance, the working seconds its person spent on their other instances while it waited (their
    work on each lasting from its start to `end`). The person's work intervals must not overlap (one at a
    time) and be all their work."""
    busy = np.zeros(len(frame))
    for _, g in frame.groupby("resource"):
        s, e = g["start_ws"].to_numpy(), g[end].to_numpy()
        order = np.argsort(s)
        s, e = s[order], e[order]
        assert (s[1:] >= e[:-1]).all()
        done = np.concatenate(([0], np.cumsum(e - s)))

        def before(t, s=s, e=e, done=done):  # busy seconds of this person before t
            k = np.searchsorted(s, t, side="right")       # instances started at or before t
            last = np.maximum(k - 1, 0)
            return done[last] + np.where(k > 0, np.clip(t - s[last], 0, e[last] - s[last]), 0)

        busy[frame.index.get_indexer(g.index)] = before(g["start_ws"].to_numpy()) - before(g["enabled_ws"].to_numpy())
    return busy


def test_materials_purchasing_waits_on_something_outside(why, injected):
    orders = of(injected, "materials_purchasing")
    r = row(why, "materials_purchasing")
    shares = {c: working_share(r, c) for c in CAUSES}
    assert max(shares, key=shares.get) == "extraneous" and shares["extraneous"] > 0.6
    assert r["batching_seconds"] == 0          # ORDER_GAP: a buyer's orders never run back to back
    # The buyer is free and on duty for all of the wait except the time spent on other orders meanwhile.
    busy = busy_during_wait(orders)
    assert r["extraneous_working_seconds"] == (orders["wait_seconds"] - busy).sum()
    assert r["contention_working_seconds"] + r["prioritization_working_seconds"] == busy.sum()
    # That busy time is about the buyers' utilisation times the hand-off delay: a delay is over at a moment
    # unrelated to the buyer's other orders, so on average it overlaps them in proportion to how busy the
    # buyer is (±0.03: 3000 delays of ~2 days, orders of ~1 h). Every case places one order, so orders come
    # at the rate of submissions: utilisation = effort over the submissions' working days (not over the span
    # of the orders, whose thin tail after the last submission — pilots' weeks at legal — would dilute it).
    days = sample.working_days()
    submission_days = int(np.searchsorted(days, np.datetime64(sample.LAST_ARRIVAL), side="right"))
    office_seconds = submission_days * DAY_S * orders["resource"].nunique()
    utilisation = (orders["end_ws"] - orders["start_ws"]).sum() / office_seconds
    assert 0.1 < utilisation < 0.4
    delay = orders["external_delay"].sum()
    assert r["extraneous_working_seconds"] / delay == pytest.approx(1 - utilisation, abs=0.03)


def test_it_setup_waits_for_it_hours(sample_store, why, injected):
    con, log_id = sample_store
    setups = of(injected, "it_setup")
    r = row(why, "it_setup")
    shares = {c: r[f"share_{c}"] for c in CAUSES}
    assert max(shares, key=shares.get) == "unavailability" and shares["unavailability"] > 0.5
    assert r["batching_seconds"] == 0          # one ticket at a time, ORDER_GAP apart: no batch
    # IT never works outside its hours, so in the office hours outside IT hours (09–10, 16–18) an IT person
    # is idle: with IT's own hours that time is unavailability, with office hours it is not. The difference
    # is exactly the injected IT-hours shift.
    office = wc.diagnose(con, log_id, calendar=OFFICE).rows.set_index("key").loc[r.name]
    assert r["wait_seconds"] == office["wait_seconds"]
    assert r["unavailability_seconds"] - office["unavailability_seconds"] == setups["it_hours_shift"].sum()
    assert setups["it_hours_shift"].sum() > 0.2 * setups["wait_seconds"].sum()


def test_dominant_causes_are_the_documented_ones(why):
    for code, expected in sample.TRUTH["expected"]["waiting_cause"].items():
        r = row(why, code)
        calendar = {c: r[f"share_{c}"] for c in CAUSES}
        working = {c: working_share(r, c) for c in CAUSES}
        assert (max(calendar, key=calendar.get), max(working, key=working.get)) == (
            expected["calendar"], expected["working"]), code
