"""Tests for the seeded sample generator: shape, calendar, and that the injected truth is findable."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from analysis.sample import (
    ACTIVITY_NAMES,
    COLUMNS,
    DEPARTMENT_NAMES,
    HOLIDAYS,
    TRUTH,
    TYPE_NAMES,
    generate_sample,
    injected_waits,
    staff_copies,
    write_sample_csv,
)

N_CASES = 4000
EN = COLUMNS["en"]


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """English sample with parsed timestamps, event order per DESIGN.md, and waiting before each event."""
    df = generate_sample(N_CASES, seed=11, lang="en").rename(columns={v: k for k, v in EN.items()})
    df["row"] = np.arange(len(df))
    df["start"] = pd.to_datetime(df["start"], format="%Y-%m-%d %H:%M:%S")
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="%Y-%m-%d %H:%M:%S")
    df = df.sort_values(["case", "start", "timestamp", "row"], kind="stable").reset_index(drop=True)
    df["wait"] = df["start"] - df.groupby("case")["timestamp"].shift()
    return df


def _name(table: dict, code: str) -> str:
    return table["en"][code]


def _case_types(log: pd.DataFrame) -> pd.Series:
    return log.groupby("case")["type"].first()


def test_same_seed_same_log_other_seed_other_log():
    a = generate_sample(300, seed=3)
    assert a.equals(generate_sample(300, seed=3))
    assert not a.equals(generate_sample(300, seed=4))


def test_column_names_in_both_languages():
    assert list(generate_sample(50, lang="zh").columns) == [
        "案例编号", "活动", "部门", "执行人", "开始时间", "完成时间", "活动类型", "区域", "预算", "计划上线日期"]
    assert list(generate_sample(50, lang="en").columns) == [
        "Case ID", "Activity", "Department", "Resource", "Start Timestamp", "Complete Timestamp",
        "Campaign type", "Region", "Budget", "Planned launch"]


def test_languages_differ_only_in_names():
    zh, en = generate_sample(200, lang="zh"), generate_sample(200, lang="en")
    assert len(zh) == len(en)
    assert (zh["开始时间"] == en["Start Timestamp"]).all() and (zh["预算"] == en["Budget"]).all()
    assert set(zh["活动"]) <= set(ACTIVITY_NAMES["zh"].values())
    assert set(en["Department"]) <= set(DEPARTMENT_NAMES["en"].values())
    assert "王芳" in set(zh["执行人"]) and "Wang Fang" in set(en["Resource"])


def test_unknown_language_is_rejected():
    with pytest.raises(ValueError):
        generate_sample(10, lang="fr")


def test_text_formats():
    df = generate_sample(300, lang="zh")
    assert df["案例编号"].str.fullmatch(r"MC-20\d\d-\d{5}").all()
    assert df["案例编号"].iloc[0] == "MC-2024-00001"
    assert df["开始时间"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert df["计划上线日期"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert df["预算"].dtype.kind == "i"


def test_write_csv_round_trips(tmp_path):
    path = tmp_path / "sample.csv"
    rows = write_sample_csv(path, n_cases=200, lang="zh")
    expected = generate_sample(200, lang="zh")
    assert rows == len(expected)
    with open(path, encoding="utf-8", newline="") as f:
        read = list(csv.reader(f))
    assert read[0] == list(COLUMNS["zh"].values())
    assert len(read) == rows + 1
    assert read[1] == [str(v) for v in expected.iloc[0]]


def test_size_of_default_sample():
    df = generate_sample()
    assert df["案例编号"].nunique() == 3000
    assert 30_000 <= len(df) <= 40_000


def test_events_in_office_hours_on_working_days(log):
    holidays = {d for a, b in HOLIDAYS for d in pd.date_range(a, b).date}
    for col in ("start", "timestamp"):
        t = log[col]
        minutes = t.dt.hour * 60 + t.dt.minute
        assert (t.dt.second == 0).all()
        assert minutes.between(9 * 60, 18 * 60).all()
        assert (t.dt.day_of_week < 5).all()
        assert not t.dt.date.isin(holidays).any()
    assert (log["start"] <= log["timestamp"]).all()
    assert log["start"].min() >= pd.Timestamp("2024-01-02 09:00")


def test_events_are_emitted_in_time_order_per_case():
    df = generate_sample(500, lang="en")
    assert df["Case ID"].is_monotonic_increasing
    ordered = df.groupby("Case ID", sort=False)["Start Timestamp"].apply(lambda s: s.is_monotonic_increasing)
    assert ordered.all()
    # Sequential as-is flow: nothing starts before the previous event of its case ended.
    prev_end = df.groupby("Case ID")["Complete Timestamp"].shift()
    assert (prev_end.isna() | (df["Start Timestamp"] >= prev_end)).all()


def test_case_attributes_constant_within_case(log):
    per_case = log.groupby("case")[["type", "region", "budget", "planned_launch"]].nunique()
    assert (per_case == 1).all().all()


def test_campaign_type_shares(log):
    shares = _case_types(log).value_counts(normalize=True)
    for code, share in TRUTH["type_shares"].items():
        assert shares[_name(TYPE_NAMES, code)] == pytest.approx(share, abs=0.03)


def test_budget_skewed_by_type(log):
    budget = log.groupby("case")[["type", "budget"]].first().groupby("type")["budget"].median()
    assert budget[_name(TYPE_NAMES, "routine_discount")] < budget[_name(TYPE_NAMES, "innovation_pilot")]
    assert budget[_name(TYPE_NAMES, "innovation_pilot")] < budget[_name(TYPE_NAMES, "product_launch")]


def test_budget_approval_holds_the_largest_total_waiting(log):
    total = log.groupby("activity")["wait"].sum().sort_values(ascending=False)
    assert total.index[0] == _name(ACTIVITY_NAMES, TRUTH["expected"]["largest_total_waiting_activity"])
    assert total.iloc[0] > 1.3 * total.iloc[1]


def test_budget_approvals_start_on_batch_days(log):
    approvals = log[log["activity"] == _name(ACTIVITY_NAMES, "budget_approval")]
    assert set(approvals["start"].dt.day_of_week) == set(TRUTH["finance"]["batch_weekdays"])
    # Staff grows with the log (one copy of everyone per 3000 cases): 4000 cases have two of each approver.
    assert staff_copies(N_CASES) == 2
    assert approvals["resource"].nunique() == TRUTH["finance"]["approvers"] * 2
    # A batch is worked one approval after another within its day: no overlap, never past 18:00.
    assert (approvals["start"].dt.date == approvals["timestamp"].dt.date).all()
    by_start = approvals.sort_values(["resource", "start"])
    prev_end = by_start.groupby("resource")["timestamp"].shift()
    assert (prev_end.isna() | (by_start["start"] >= prev_end)).all()
    same_day = prev_end.dt.date == by_start["start"].dt.date
    assert (by_start["start"] == prev_end)[same_day].mean() > 0.8  # mostly back to back


def test_staff_copies_keep_each_persons_load():
    assert [staff_copies(n) for n in (1, 3000, 3001, 6000, 90_000)] == [1, 1, 2, 2, 30]
    people = generate_sample(3001, lang="en").groupby("Department")["Resource"].nunique()
    assert people[_name(DEPARTMENT_NAMES, "legal")] == 4
    assert {"Zheng Jie", "Zheng Jie-2"} <= set(generate_sample(3001, lang="en")["Resource"])


def test_effort_departments_work_one_instance_at_a_time(log):
    # Orders and IT tickets of one person never overlap (finance's batches are checked above).
    for code in ("materials_purchasing", "it_setup"):
        rows = log[log["activity"] == _name(ACTIVITY_NAMES, code)].sort_values(["resource", "start"])
        prev_end = rows.groupby("resource")["timestamp"].shift()
        assert (prev_end.isna() | (rows["start"] >= prev_end)).all(), code
    # A legal review stays open after the reviewer's effort (until the sign-off comes back), so reviews of one
    # person overlap in the log; the reviewer's efforts (the generator's frame) never do, and the reviewer
    # takes the drafts in the order they became ready (FIFO).
    frame = injected_waits(N_CASES, seed=11)
    reviews = frame[frame["activity"] == "legal_review"].sort_values(["resource", "start_ws"])
    assert (reviews["end_ws"] >= reviews["effort_end_ws"]).all()
    assert (reviews["effort_end_ws"] > reviews["start_ws"]).all()
    prev_effort_end = reviews.groupby("resource")["effort_end_ws"].shift()
    assert (prev_effort_end.isna() | (reviews["start_ws"] >= prev_effort_end)).all()
    assert (reviews.groupby("resource")["enabled_ws"].diff().dropna() >= 0).all()
    overlapping = reviews["start"] < reviews.groupby("resource")["end"].shift()
    assert overlapping.mean() > 0.1       # the log shows a reviewer with several reviews open


def test_it_works_only_in_it_hours(log):
    it = log[log["activity"] == _name(ACTIVITY_NAMES, "it_setup")]
    first, last = (pd.Timestamp(f"2024-01-01 {t}").time() for t in TRUTH["it"]["hours"])
    assert it["start"].dt.time.between(first, last).all() and it["timestamp"].dt.time.between(first, last).all()
    assert (it["start"].dt.date == it["timestamp"].dt.date).all()   # finished the day it was started


def test_about_a_quarter_of_plans_are_returned(log):
    revised = log[log["activity"] == _name(ACTIVITY_NAMES, "plan_revision")].groupby("case").size()
    share = len(revised) / log["case"].nunique()
    assert share == pytest.approx(TRUTH["expected"]["returned_case_share"], abs=0.03)
    assert share == pytest.approx(0.25, abs=0.04)
    assert revised.max() <= TRUTH["finance"]["max_revisions"]


def _pingpong_pairs(log: pd.DataFrame, collapse: bool) -> pd.Series:
    """Count X→Y→X department triples per unordered pair, on events or on collapsed hand-offs."""
    d = log[["case", "department"]]
    if collapse:  # drop consecutive events of the same department within a case
        same = (d["case"] == d["case"].shift()) & (d["department"] == d["department"].shift())
        d = d[~same]
    x, y, case = d["department"], d["department"].shift(-1), d["case"]
    hit = (x == d["department"].shift(-2)) & (x != y) & (case == case.shift(-2))
    pairs = [" | ".join(sorted(p)) for p in zip(x[hit], y[hit], strict=True)]
    return pd.Series(pairs).value_counts()


@pytest.mark.parametrize("collapse", [False, True])
def test_planning_finance_has_the_most_pingpong(log, collapse):
    counts = _pingpong_pairs(log, collapse)
    top = " | ".join(sorted(_name(DEPARTMENT_NAMES, d) for d in TRUTH["expected"]["top_pingpong_departments"]))
    assert counts.index[0] == top
    assert counts.iloc[0] > 1.5 * counts.iloc[1]


def test_legal_review_slow_only_for_innovation_pilots(log):
    legal = log[log["activity"] == _name(ACTIVITY_NAMES, "legal_review")]
    median = (legal["timestamp"] - legal["start"]).groupby(legal["type"]).median()
    pilot = median.pop(_name(TYPE_NAMES, "innovation_pilot"))
    # A pilot's review stays open for days to weeks (outside counsel; median 8 working days, about 12 calendar
    # days); launches and brand events for a few working hours, routine reviews about an hour.
    assert pilot >= pd.Timedelta(days=7)
    assert pilot > 10 * median.max()
    assert median[_name(TYPE_NAMES, "routine_discount")] <= pd.Timedelta(hours=2)


def test_materials_purchasing_waits_before_it_starts(log):
    purchasing = _name(ACTIVITY_NAMES, "materials_purchasing")
    prev = log.groupby("case")["activity"].shift()
    before = prev[log["activity"] == purchasing]
    assert (before == _name(ACTIVITY_NAMES, TRUTH["expected"]["predecessor_of_materials_purchasing"])).all()
    # Second-largest median wait after finance's queue, and at least a working day.
    median = log.groupby("activity")["wait"].median().sort_values(ascending=False)
    assert median.index[1] == purchasing
    assert median[purchasing] >= pd.Timedelta(days=1)


def test_routine_discounts_are_standard_work(log):
    variants = log.groupby("case")["activity"].agg(tuple)
    types = _case_types(log)
    routine, pilot = _name(TYPE_NAMES, "routine_discount"), _name(TYPE_NAMES, "innovation_pilot")
    per_case = {t: variants[types == t].nunique() / (types == t).sum() for t in (routine, pilot)}
    assert per_case[routine] * 3 < per_case[pilot]
    top_share = {t: variants[types == t].value_counts(normalize=True).iloc[0] for t in (routine, pilot)}
    assert top_share[routine] > 0.4 > top_share[pilot]
    # Cycle time spread (p90 / p10) is low for routine work and wide for pilots and launches.
    cycle = log.groupby("case")["timestamp"].max() - log.groupby("case")["start"].min()
    spread = cycle.groupby(types).apply(lambda c: c.quantile(0.9) / c.quantile(0.1))
    assert spread[routine] < 2 < spread[pilot]
    assert spread[routine] < spread[_name(TYPE_NAMES, "product_launch")]
