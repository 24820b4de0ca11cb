"""Waiting, processing and transition times per activity and edge: by hand on tiny logs, by an independent
pandas computation on the real logs with start timestamps, and the sample's injected truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import bottlenecks, defaults, importer, sample
from analysis.filters import CaseFilter
from analysis.importer import ImportOptions
from analysis.working_time import WorkCalendar, sample_calendar

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
H = 3600.0

# c1: A 08:00-09:00, wait 2 h, B 11:00-11:30, wait 30 min, C 12:00-13:00.
# c2: A 08:00-09:00, B 08:30-10:00 (overlaps A by 30 min), wait 4 h, C 14:00-15:00.
STARTS = """case,activity,start,end,department
c1,A,2024-03-05 08:00,2024-03-05 09:00,Sales
c1,B,2024-03-05 11:00,2024-03-05 11:30,Finance
c1,C,2024-03-05 12:00,2024-03-05 13:00,Sales
c2,A,2024-03-06 08:00,2024-03-06 09:00,Sales
c2,B,2024-03-06 08:30,2024-03-06 10:00,Finance
c2,C,2024-03-06 14:00,2024-03-06 15:00,Sales
"""


@pytest.fixture
def starts(db, write):
    return db, importer.import_file(db, write("s.csv", STARTS)).log_id


def by(frame: pd.DataFrame, key: str) -> dict:
    return frame.set_index(key).to_dict("index")


def test_activity_stats_by_hand(starts):
    db, log_id = starts
    stats = bottlenecks.activity_stats(db, log_id)
    assert stats["activity"].tolist() == ["C", "B", "A"]  # most waiting first: C 4.5 h, B 2 h, A none
    row = by(stats, "activity")
    assert row["B"]["median_wait_seconds"] == (2 * H - 0.5 * H) / 2       # waits 2 h and −30 min
    assert row["B"]["total_wait_seconds"] == 2 * H                          # the overlap is not waiting
    assert row["B"]["median_processing_seconds"] == (0.5 * H + 1.5 * H) / 2
    assert row["C"]["total_wait_seconds"] == 0.5 * H + 4 * H
    assert row["C"]["p90_wait_seconds"] == pytest.approx(0.5 * H + 0.9 * 3.5 * H)
    assert row["A"]["total_wait_seconds"] == 0 and np.isnan(row["A"]["median_wait_seconds"])
    assert row["C"]["share_of_waiting"] == pytest.approx(4.5 / 6.5)
    # Cycle times: c1 08:00-13:00 = 5 h, c2 08:00-15:00 = 7 h.
    assert row["C"]["share_of_cycle_time"] == pytest.approx(4.5 / 12)
    assert (row["A"]["department"], row["B"]["department"]) == ("Sales", "Finance")


def test_edge_stats_by_hand(starts):
    db, log_id = starts
    edges = bottlenecks.edge_stats(db, log_id)
    row = {(r.source, r.target): r for r in edges.itertuples()}
    assert set(row) == {("A", "B"), ("B", "C")}
    assert row["A", "B"].median_transition_seconds == (2.5 * H + 1 * H) / 2  # 09:00→11:30, 09:00→10:00
    assert row["A", "B"].total_wait_seconds == 2 * H
    assert row["B", "C"].median_wait_seconds == (0.5 * H + 4 * H) / 2


def test_an_activitys_department_is_its_most_frequent_among_the_kept_events(db, write):
    # A: Y in cases 1 and 3, X in 2 and 4, blank in 5 (no vote): a tie, broken by name -> X. B: Z twice, Y once -> Z.
    # Keeping the cases that touch Y (1 and 3), A's events are all Y.
    log = ("case,activity,timestamp,department\n1,A,2024-03-04 09:00,Y\n1,B,2024-03-04 10:00,Z\n"
           "2,A,2024-03-04 09:00,X\n2,B,2024-03-04 10:00,Z\n3,A,2024-03-04 09:00,Y\n3,B,2024-03-04 10:00,Y\n"
           "4,A,2024-03-04 09:00,X\n5,A,2024-03-04 09:00,\n")
    log_id = importer.import_file(db, write("d.csv", log)).log_id
    assert by(bottlenecks.activity_stats(db, log_id), "activity")["A"]["department"] == "X"
    assert by(bottlenecks.activity_stats(db, log_id), "activity")["B"]["department"] == "Z"
    assert by(bottlenecks.activity_stats(db, log_id, CaseFilter(departments=("Y",))), "activity")["A"][
        "department"] == "Y"


def test_working_time_changes_the_waits(db, write):
    # Friday 17:00 → Monday 10:00 is 2 working hours; Monday is a holiday for the second variant.
    log = "case,activity,start,end\nc,A,2024-03-08 16:00,2024-03-08 17:00\nc,B,2024-03-11 10:00,2024-03-11 11:00\n"
    log_id = importer.import_file(db, write("w.csv", log)).log_id
    calendar_row = by(bottlenecks.activity_stats(db, log_id), "activity")["B"]
    assert calendar_row["median_wait_seconds"] == 65 * H
    working = by(bottlenecks.activity_stats(db, log_id, calendar=WorkCalendar()), "activity")["B"]
    assert working["median_wait_seconds"] == 2 * H
    holiday = by(bottlenecks.activity_stats(db, log_id, calendar=WorkCalendar(holidays=("2024-03-11",))),
                 "activity")["B"]
    assert holiday["median_wait_seconds"] == 1 * H  # 17:00-18:00 Friday only; Monday does not count
    assert holiday["share_of_cycle_time"] == pytest.approx(1 / 2)  # cycle: Fri 16-18 = 2 working hours


def test_pareto():
    stats = pd.DataFrame({"share_of_waiting": [0.5, 0.2, 0.2, 0.1]})
    assert bottlenecks.pareto(stats, 0.6) == (2, pytest.approx(0.7))
    assert bottlenecks.pareto(stats, 0.5) == (1, 0.5)


def expected_from_pandas(path: Path, case: str, activity: str, start: str, end: str, **read) -> pd.DataFrame:
    """Per activity: median/p90 wait and processing, total positive wait — pandas only, canonical order
    (start, then end, then file row)."""
    f = pd.read_csv(path, dtype=str, keep_default_na=False, **read)
    f["row"] = np.arange(len(f))
    f["s"] = pd.to_datetime(f[start], utc=True, format="ISO8601")
    f["e"] = pd.to_datetime(f[end], utc=True, format="ISO8601")
    f = f.sort_values([case, "s", "e", "row"], kind="stable")
    f["wait"] = (f["s"] - f.groupby(case)["e"].shift()).dt.total_seconds()
    f["proc"] = (f["e"] - f["s"]).dt.total_seconds()
    g = f.groupby(activity)
    return pd.DataFrame({
        "median_wait_seconds": g["wait"].quantile(0.5), "p90_wait_seconds": g["wait"].quantile(0.9),
        "median_processing_seconds": g["proc"].quantile(0.5), "p90_processing_seconds": g["proc"].quantile(0.9),
        "total_wait_seconds": g["wait"].apply(lambda w: w.clip(lower=0).sum()), "frequency": g.size(),
    })


REAL = {
    "production": ("production.csv", ImportOptions(columns={"activity": "concept:name", "resource": "org:resource"}),
                   ("case:concept:name", "concept:name", "start_timestamp", "time:timestamp"), {}),
    "bpic2017w": ("bpic2017_w.csv.gz", ImportOptions(), ("case_id", "activity", "start_time", "end_time"), {}),
}


@pytest.mark.slow
@pytest.mark.parametrize("key", list(REAL))
def test_waiting_and_processing_equal_pandas_on_real_logs(db, key):
    if not DATA.is_dir():
        pytest.skip(f"real logs not found in {DATA}")
    file, options, columns, read = REAL[key]
    log_id = importer.import_file(db, DATA / file, options).log_id
    ours = bottlenecks.activity_stats(db, log_id).set_index("activity")
    theirs = expected_from_pandas(DATA / file, *columns, **read)
    assert sorted(ours.index) == sorted(theirs.index)
    for column in theirs.columns:
        assert ours.loc[theirs.index, column].tolist() == pytest.approx(theirs[column].tolist(), rel=1e-9,
                                                                         nan_ok=True), column
    assert ours["total_wait_seconds"].sum() > 0


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from analysis.store import connect

    con = connect(tmp_path_factory.mktemp("bn") / "s.duckdb")
    return con, defaults.ensure_sample(con)


def test_sample_finance_queue_holds_most_waiting_and_procurement_is_next(sample_store):
    # SAMPLE_TRUTH.md: budget approval 49.0 % of all waiting (22,157 case-days), median 5.0 days;
    # materials purchasing next with 21.8 %, median wait 3.0 days (a pure hand-off delay).
    con, log_id = sample_store
    stats = bottlenecks.activity_stats(con, log_id)
    first, second = stats.iloc[0], stats.iloc[1]
    assert (first["activity"], second["activity"]) == ("预算审批", "物资采购")
    # Independently from the generator's frame: wait = start − the previous event's end in the case (rows are
    # in step order), summed per activity.
    frame = sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh")
    start, end = pd.to_datetime(frame["开始时间"]), pd.to_datetime(frame["完成时间"])
    wait = (start - end.groupby(frame["案例编号"]).shift()).dt.total_seconds().clip(lower=0)
    per_activity = wait.groupby(frame["活动"]).sum()
    assert first["total_wait_seconds"] == pytest.approx(per_activity["预算审批"])
    assert first["share_of_waiting"] == pytest.approx(per_activity["预算审批"] / per_activity.sum())
    assert round(first["share_of_waiting"], 3) == 0.490 and round(first["total_wait_seconds"] / 86400) == 22157
    assert round(first["median_wait_seconds"] / 86400, 1) == 5.0
    assert round(second["share_of_waiting"], 3) == 0.218 and round(second["median_wait_seconds"] / 86400, 1) == 3.0
    # In working time the purchasing wait is the injected 2 working days (9 h each).
    working = bottlenecks.activity_stats(con, log_id, calendar=sample_calendar()).set_index("activity")
    assert working.loc["物资采购", "median_wait_seconds"] / (9 * H) == pytest.approx(2.0, rel=0.05)
    assert working.index[0] == "预算审批"


def test_sample_legal_is_slow_only_for_innovation_pilots(sample_store):
    # SAMPLE_TRUTH.md: median legal review (end − start) pilot 11.9 days; launch 7 h, brand 18 h; routine 1 h.
    con, log_id = sample_store
    medians = {}
    for kind in ("创新试点", "新品上市", "品牌活动", "常规促销"):
        stats = bottlenecks.activity_stats(con, log_id, CaseFilter(attributes=(("活动类型", (kind,)),)))
        medians[kind] = stats.set_index("activity").loc["法务审核", "median_processing_seconds"]
    frame = sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh")
    legal = frame[frame["活动"] == "法务审核"]
    by_hand = (pd.to_datetime(legal["完成时间"]) - pd.to_datetime(legal["开始时间"])).dt.total_seconds()
    assert medians == pytest.approx(by_hand.groupby(legal["活动类型"]).median().to_dict())
    assert round(medians["创新试点"] / 86400, 1) == 11.9
    assert round(medians["新品上市"] / H) == 7 and round(medians["品牌活动"] / H) == 18
    assert round(medians["常规促销"] / H) == 1
    assert medians["创新试点"] > 10 * max(medians["新品上市"], medians["品牌活动"], medians["常规促销"])
    heat = bottlenecks.wait_by_attribute(con, log_id, "活动类型")
    assert set(heat["value"]) == {"创新试点", "新品上市", "品牌活动", "常规促销"}


def test_sample_procurement_wait_is_a_handoff_wait(sample_store):
    # SAMPLE_TRUTH.md finding 4: procurement's wait (median 3.0 days) follows legal review — a hand-off
    # between departments, second only to the finance queue among the busy hand-offs by median wait.
    from analysis import handoffs

    con, log_id = sample_store
    matrix = handoffs.handoff_matrix(con, log_id)
    busy = matrix[matrix["count"] >= 1000].sort_values("median_wait_seconds", ascending=False)
    assert list(zip(busy["from"], busy["to"], strict=True))[:2] == [("市场部-策划室", "财务部"), ("法务部", "采购部")]
    assert round(busy.iloc[1]["median_wait_seconds"] / 86400, 1) == 3.0
    assert busy.iloc[1]["count"] == busy.iloc[1]["cases"] == 3000  # every case, once


def test_sample_marketing_finance_is_first_in_pingpong(sample_store):
    # SAMPLE_TRUTH.md finding 2: X→Y→X triples Finance | Marketing - Planning 2,098 (712 cases returned),
    # then Legal | Marketing - Advertising 642; returned plans make cases slower.
    from analysis import handoffs

    con, log_id = sample_store
    pings = handoffs.pingpong(con, log_id)
    # Independently from the generator's frame: cases with a legal rework (legal review twice or more), and
    # each rework (final creative → legal → final creative → legal) is two advertising/legal triples.
    frame = sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh")
    reviews = frame[frame["活动"] == "法务审核"].groupby("案例编号").size()
    approvals = frame[frame["活动"] == "预算审批"].groupby("案例编号").size()   # each return: two triples
    assert ((reviews >= 2).sum(), 2 * (reviews - 1).sum()) == (285, 642)
    assert ((approvals >= 2).sum(), 2 * (approvals - 1).sum()) == (712, 2098)
    assert list(zip(pings["pair_a"], pings["pair_b"], pings["occurrences"], pings["cases"], strict=True)) == [
        ("市场部-策划室", "财务部", 2098, 712), ("市场部-广告室", "法务部", 642, 285)]
    assert (pings["extra_cycle_seconds"] > 0).all()
