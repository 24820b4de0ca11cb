"""Comparing two cohorts: splits, KPIs, time per case by step, paths and findings, worked out by hand.

COHORT_LOG (hours; waiting = start − previous end, processing = end − start, DESIGN.md):
  case 1 (N): A 09–10, B 12–13, C 13–14          cycle 5 h, departments X Y X (2 hand-offs)
  case 2 (N): A 09–09:30, C 10:30–11             cycle 2 h, X X (0)
  case 3 (S): A 09–10, B 14–15, B 09–10 (+1 day), C 11–12   cycle 27 h, X Y Y X (2), B repeated
  case 4 (S): A 09–10, B 11–12, C 12–13          cycle 4 h, X Y X (2)
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from analysis import compare, importer, store
from analysis.errors import UserError, error_text
from analysis.filters import ALL, AllOf, CaseFilter, case_ids

H = 3600.0
COHORT_LOG = """case,activity,start,complete,department,region
1,A,2024-03-04 09:00,2024-03-04 10:00,X,N
1,B,2024-03-04 12:00,2024-03-04 13:00,Y,N
1,C,2024-03-04 13:00,2024-03-04 14:00,X,N
2,A,2024-03-05 09:00,2024-03-05 09:30,X,N
2,C,2024-03-05 10:30,2024-03-05 11:00,X,N
3,A,2024-03-06 09:00,2024-03-06 10:00,X,S
3,B,2024-03-06 14:00,2024-03-06 15:00,Y,S
3,B,2024-03-07 09:00,2024-03-07 10:00,Y,S
3,C,2024-03-07 11:00,2024-03-07 12:00,X,S
4,A,2024-03-08 09:00,2024-03-08 10:00,X,S
4,B,2024-03-08 11:00,2024-03-08 12:00,Y,S
4,C,2024-03-08 12:00,2024-03-08 13:00,X,S
"""


@pytest.fixture
def log(db, write):
    result = importer.import_file(db, write("cohorts.csv", COHORT_LOG))
    return db, result.log_id


def kept(con, log_id, flt) -> set[str]:
    return {r[0] for r in case_ids(log_id, flt).rows(con)}


def test_cohorts_by_attribute_period_and_speed_keep_the_right_cases(log):
    con, log_id = log
    by_region = compare.by_attribute(ALL, "region", ["N"], ["S"])
    assert (kept(con, log_id, by_region.a), kept(con, log_id, by_region.b)) == ({"1", "2"}, {"3", "4"})
    # Started before 2024-03-07 / on it or later: case 3 started on 03-06 and ended on 03-07.
    by_date = compare.by_period(ALL, "2024-03-07")
    assert (kept(con, log_id, by_date.a), kept(con, log_id, by_date.b)) == ({"1", "2", "3"}, {"4"})
    # Cycle times 2, 4, 5, 27 h: p50 = 4.5 h, p90 = 5 + 0.7 × 22 = 20.4 h (linear interpolation).
    by_speed = compare.by_speed(con, log_id, ALL, 50, 90)
    assert by_speed.param("fast_max_seconds") == pytest.approx(4.5 * H)
    assert by_speed.param("slow_min_seconds") == pytest.approx(20.4 * H)
    assert (kept(con, log_id, by_speed.a), kept(con, log_id, by_speed.b)) == ({"2", "4"}, {"3"})
    # Inside the global filter: cases with a B are 1, 3, 4 (5, 27, 4 h): p50 = 5 h, p90 = 5 + 0.8 × 22 = 22.6 h.
    with_b = CaseFilter(activities_present=("B",))
    inside = compare.by_speed(con, log_id, with_b, 50, 90)
    assert inside.param("slow_min_seconds") == pytest.approx(22.6 * H)
    assert (kept(con, log_id, inside.a), kept(con, log_id, inside.b)) == ({"1", "4"}, {"3"})
    assert kept(con, log_id, compare.by_attribute(with_b, "region", ["N"], ["S"]).a) == {"1"}


def test_all_of_intersects_its_parts_and_an_empty_one_keeps_everything(log):
    con, log_id = log
    assert kept(con, log_id, AllOf((ALL, ALL))) == {"1", "2", "3", "4"}
    both = AllOf((CaseFilter(activities_present=("B",)), CaseFilter(cycle_max_seconds=5 * H)))
    assert kept(con, log_id, both) == {"1", "4"}
    assert both.active() == ["activities_present", "cycle_time"] and not both.is_empty


def test_kpis_side_by_side(log):
    con, log_id = log
    table = compare.kpi_table(con, log_id, compare.by_attribute(ALL, "region", ["N"], ["S"])).set_index("kpi")
    expected = {  # (A, B), by hand from the docstring
        "cases": (2, 2), "events_per_case": (2.5, 3.5), "variants": (2, 2),
        "median_cycle_seconds": (3.5 * H, 15.5 * H),
        "p90_cycle_seconds": ((2 + 0.9 * 3) * H, (4 + 0.9 * 23) * H),
        "mean_cycle_seconds": (3.5 * H, 15.5 * H),
        "handoffs_per_case": (1.0, 2.0), "departments_per_case": (1.5, 2.0), "rework_share": (0.0, 0.5),
    }
    assert list(table.index) == list(expected)
    for kpi, (a, b) in expected.items():
        assert (table.loc[kpi, "a"], table.loc[kpi, "b"]) == (pytest.approx(a), pytest.approx(b)), kpi
        assert table.loc[kpi, "delta"] == pytest.approx(b - a), kpi
    assert table.loc["median_cycle_seconds", "ratio"] == pytest.approx(15.5 / 3.5)
    # The period split at 2024-03-06 makes the same cohorts.
    by_date = compare.kpi_table(con, log_id, compare.by_period(ALL, "2024-03-06")).set_index("kpi")
    assert by_date[["a", "b"]].equals(table[["a", "b"]])


def test_time_per_case_by_step(log):
    con, log_id = log
    table = compare.activity_table(con, log_id, compare.by_attribute(ALL, "region", ["N"], ["S"]))
    rows = table.set_index("activity")
    # N: A processes 1 + 0.5 h; B (case 1 only) waits 2 h, processes 1 h; C waits 0 + 1 h, processes 1 + 0.5 h.
    # S: A processes 1 + 1 h; B waits 4 + 18 + 1 h, processes 3 h; C waits 1 + 0 h, processes 2 h. Per case: / 2.
    expected = {"A": (0, 0.75, 0, 1.0), "B": (1.0, 0.5, 11.5, 1.5), "C": (0.5, 0.75, 0.5, 1.0)}
    for activity, (wait_a, proc_a, wait_b, proc_b) in expected.items():
        row = rows.loc[activity]
        assert row["wait_per_case_a"] == pytest.approx(wait_a * H) and row["processing_per_case_a"] == pytest.approx(proc_a * H)
        assert row["wait_per_case_b"] == pytest.approx(wait_b * H) and row["processing_per_case_b"] == pytest.approx(proc_b * H)
        assert row["delta_per_case"] == pytest.approx((wait_b + proc_b - wait_a - proc_a) * H)
    assert (rows.loc["B", "share_a"], rows.loc["B", "share_b"]) == (0.5, 1.0)
    assert list(table["activity"]) == ["B", "A", "C"]   # B's extra time first; A and C tie at +0.25 h
    # In a strictly sequential log, the steps' time per case adds up to the mean cycle time.
    assert table["time_per_case_a"].sum() == pytest.approx(3.5 * H)
    assert table["time_per_case_b"].sum() == pytest.approx(15.5 * H)


def test_paths_by_share_of_cases(log):
    con, log_id = log
    table = compare.path_table(con, log_id, compare.by_attribute(ALL, "region", ["N"], ["S"]))
    got = {(r.source, r.target): (r.share_a, r.share_b, r.median_seconds_a, r.median_seconds_b)
           for r in table.itertuples()}
    nan = pytest.approx(float("nan"), nan_ok=True)
    assert got == {
        ("A", "B"): (0.5, 1.0, 3 * H, 3.5 * H), ("B", "C"): (0.5, 1.0, 1 * H, 1.5 * H),
        ("A", "C"): (0.5, 0.0, 1.5 * H, nan), ("B", "B"): (0.0, 0.5, nan, 19 * H),
    }
    assert (table["delta_share"].abs() == 0.5).all()


def test_findings_in_both_languages(log):
    con, log_id = log
    cohorts = compare.by_attribute(ALL, "region", ["N"], ["S"])
    parts = (compare.kpi_table(con, log_id, cohorts), compare.activity_table(con, log_id, cohorts),
             compare.path_table(con, log_id, cohorts))
    en = compare.findings(cohorts, *parts, "en")
    assert en[0] == "A = region: N (2 cases); B = region: S (2 cases)."
    assert en[1] == "**B** takes **12.0 h longer** at the median than A (15.5 h against 3.5 h)."
    assert en[2] == "Steps where **B** spends more time per case than A: B (+11.5 h), A (+15 min), C (+15 min)."
    assert "Path A → B: 50% of A's cases, 100% of B's." in en
    assert en[-1] == "Cases with rework (an activity repeated): 0% in A, 50% in B."
    zh = compare.findings(cohorts, *parts, "zh")
    assert zh[1] == "**B 组**的周期时间中位数比 A 组**长 12.0 小时**（15.5 小时，对比 3.5 小时）。"
    empty = compare.by_attribute(CaseFilter(activities_absent=("B",)), "region", ["N"], ["S"])
    parts = (compare.kpi_table(con, log_id, empty), compare.activity_table(con, log_id, empty),
             compare.path_table(con, log_id, empty))
    assert compare.findings(empty, *parts, "en") == ["Group “region: S” has no cases under the current filter."]


def test_cohorts_from_saved_params_check_their_shape(log):
    con, log_id = log
    saved = compare.by_speed(con, log_id, ALL, 50, 90).as_params()
    assert saved == {"split": "speed", "fast_pct": 50, "slow_pct": 90}
    assert kept(con, log_id, compare.cohorts_from(con, log_id, ALL, saved).b) == {"3"}
    for bad, message in (({"split": "speed", "fast_pct": None}, "fast percentile"),
                         ({"split": "attribute", "name": "region", "values_a": "N", "values_b": ["S"]}, "each cohort"),
                         ({"split": "weekday"}, "Unknown split 'weekday'")):
        with pytest.raises(UserError, match=message):
            compare.cohorts_from(con, log_id, ALL, bad)
    # A timestamp splits at its day, like the date itself.
    at_noon = compare.by_period(ALL, dt.datetime(2024, 3, 7, 12, 0))
    assert (kept(con, log_id, at_noon.a), kept(con, log_id, at_noon.b)) == ({"1", "2", "3"}, {"4"})


def test_without_departments_the_groups_count_people(db, write):
    text = "case,activity,timestamp,resource\n1,A,2024-03-05 09:00,Ann\n1,B,2024-03-05 10:00,Bob\n" \
           "2,A,2024-03-06 09:00,Ann\n2,B,2024-03-06 11:00,Ann\n"
    log_id = importer.import_file(db, write("people.csv", text)).log_id
    table = compare.kpi_table(db, log_id, compare.by_period(ALL, "2024-03-06")).set_index("kpi")
    assert "departments_per_case" not in table.index
    assert (table.loc["resources_per_case", "a"], table.loc["resources_per_case", "b"]) == (2.0, 1.0)


@pytest.mark.parametrize(("make", "message"), [
    (lambda con, log_id: compare.by_attribute(ALL, "region", ["N"], []), "at least one value for each cohort"),
    (lambda con, log_id: compare.by_attribute(ALL, "region", ["N", "S"], ["S"]), "cannot be in both cohorts: S"),
    (lambda con, log_id: compare.by_period(ALL, "2024-13-01"), "'2024-13-01' is not a date"),
    (lambda con, log_id: compare.by_speed(con, log_id, ALL, 90, 50), "must be below the slow one"),
    (lambda con, log_id: compare.by_speed(con, log_id, CaseFilter(activities_absent=("A",)), 50, 90),
     "do not differ enough"),
])
def test_impossible_splits_say_why_in_both_languages(log, make, message):
    con, log_id = log
    with pytest.raises(UserError) as caught:
        make(con, log_id)
    assert message in str(caught.value)
    assert error_text(caught.value, "zh") != str(caught.value)


def test_sample_innovation_pilots_lose_their_time_at_legal_review(sample_db):
    # SAMPLE_TRUTH.md: legal review is slow only for innovation pilots.
    with store.connect(sample_db, read_only=True) as con:
        log_id = store.list_logs(con)[0].log_id
        cohorts = compare.by_attribute(ALL, "活动类型", ["常规促销"], ["创新试点"])
        steps = compare.activity_table(con, log_id, cohorts)
        kpis = compare.kpi_table(con, log_id, cohorts).set_index("kpi")
        assert steps["activity"].iloc[0] == "法务审核"
        legal = steps.set_index("activity").loc["法务审核"]
        assert legal["time_per_case_b"] > 10 * legal["time_per_case_a"]
        # The sample is strictly sequential: time per case over the steps adds up to the mean cycle time.
        for which in "ab":
            assert steps[f"time_per_case_{which}"].sum() == pytest.approx(kpis.loc["mean_cycle_seconds", which], rel=1e-9)


def test_cli_compare(cli, write, tmp_path):
    path = write("cohorts.csv", COHORT_LOG)
    assert cli("import", path)[0] == 0
    code, out, err = cli("compare", "1", "--by", "attribute", "--attribute", "region", "--a", "N", "--b", "S", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["a"], data["b"]) == ("region: N", "region: S")
    assert data["kpis"]["median_cycle_seconds"] == {"a": 3.5 * H, "b": 15.5 * H, "delta": 12 * H}
    assert [s["activity"] for s in data["steps"]] == ["B", "A", "C"]
    assert data["findings"][1] == "**B** takes **12.0 h longer** at the median than A (15.5 h against 3.5 h)."
    # Inside a filter file, and in Chinese words; a bad split is a plain error.
    only_b = tmp_path / "b.json"
    only_b.write_text('{"activities_present": ["B"]}', encoding="utf-8")
    code, out, err = cli("compare", "1", "--by", "speed", "--filter", only_b, "--lang", "zh")
    assert code == 0, err
    assert out.splitlines()[0] == "A = 最快的 50%（≤ 5.0 小时）（2 个案例）；B = 最慢的 10%（≥ 22.6 小时）（1 个案例）。"
    code, out, err = cli("compare", "1", "--by", "period", "--date", "5 March")
    assert code == 2 and err.strip() == "'5 March' is not a date YYYY-MM-DD" and "Traceback" not in err
