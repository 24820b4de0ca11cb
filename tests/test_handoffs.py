"""Hand-offs on a tiny hand-made log, every expected value worked out by hand (DESIGN.md's definitions).

Hand-off: consecutive events of a case (by start) whose department (resource) differs; events without one
are skipped, so X, (blank), Y is one hand-off X→Y; its wait = start(second) − end(first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import handoffs
from analysis.importer import ImportOptions, import_file

H = 3600.0
DAY = 86400.0

# Branch is the front line; Finance and Legal the back office. Times are start–end on one day per case.
#
# case 1 (Mon 4 Mar): Branch/Ann 09–10, Finance/Bob 12–13, (no dept)/Bob 13:30–14, Legal/Lee 16–17,
#                     Branch/Ann 17–18                                                   cycle 9 h
# case 2 (Tue 5 Mar): Branch/Ann 09–09:30, Finance/Bob 10:30–11, Branch/Ann 11–12, Finance/Cy 14–15,
#                     Branch/Ann 20–21   (ping-pong Branch↔Finance)                       cycle 12 h
# case 3 (Wed 6 Mar): Branch/Dee 08–09, Finance/Bob 13–14, Legal/(no resource) 14–16,
#                     Branch/Dee 16:30–17                                                 cycle 9 h
# case 4 (Thu 7 Mar): Branch/Ann 09–10, Branch/Dee 10–11  (no department hand-off)       cycle 2 h
LOG = """case,activity,start,end,resource,department
1,Request,2024-03-04 09:00,2024-03-04 10:00,Ann,Branch
1,Budget,2024-03-04 12:00,2024-03-04 13:00,Bob,Finance
1,Note,2024-03-04 13:30,2024-03-04 14:00,Bob,
1,Review,2024-03-04 16:00,2024-03-04 17:00,Lee,Legal
1,Launch,2024-03-04 17:00,2024-03-04 18:00,Ann,Branch
2,Request,2024-03-05 09:00,2024-03-05 09:30,Ann,Branch
2,Budget,2024-03-05 10:30,2024-03-05 11:00,Bob,Finance
2,Fix,2024-03-05 11:00,2024-03-05 12:00,Ann,Branch
2,Budget,2024-03-05 14:00,2024-03-05 15:00,Cy,Finance
2,Launch,2024-03-05 20:00,2024-03-05 21:00,Ann,Branch
3,Request,2024-03-06 08:00,2024-03-06 09:00,Dee,Branch
3,Budget,2024-03-06 13:00,2024-03-06 14:00,Bob,Finance
3,Review,2024-03-06 14:00,2024-03-06 16:00,,Legal
3,Launch,2024-03-06 16:30,2024-03-06 17:00,Dee,Branch
4,Request,2024-03-07 09:00,2024-03-07 10:00,Ann,Branch
4,Launch,2024-03-07 10:00,2024-03-07 11:00,Dee,Branch
"""
COLUMNS = {"case": "case", "activity": "activity", "start": "start", "timestamp": "end",
           "resource": "resource", "department": "department"}
CYCLE = {"1": 9 * H, "2": 12 * H, "3": 9 * H, "4": 2 * H}   # total 32 h = 115,200 s


@pytest.fixture
def log(db, write):
    path = write("handoffs.csv", LOG)
    options = ImportOptions(columns=COLUMNS, timestamp_format="%Y-%m-%d %H:%M")
    return db, import_file(db, path, options).log_id


def _rows(df: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(r) for r in df[columns].itertuples(index=False)]


# --- the matrix --------------------------------------------------------------------------------


def test_department_matrix_counts_cases_and_waits(log):
    # Department sequences with blanks skipped, and the wait of each hand-off (start of next − end of prev):
    #   1: Branch→Finance 12−10 = 2 h; Finance→Legal 16−13 = 3 h (the blank Note is skipped, so the gap runs
    #      from Finance's end); Legal→Branch 17−17 = 0
    #   2: Branch→Finance 10:30−9:30 = 1 h; Finance→Branch 11−11 = 0; Branch→Finance 14−12 = 2 h;
    #      Finance→Branch 20−15 = 5 h
    #   3: Branch→Finance 13−9 = 4 h; Finance→Legal 14−14 = 0; Legal→Branch 16:30−16 = 0.5 h
    #   4: none (Branch, Branch)
    # Branch→Finance: 4 hand-offs in cases 1, 2, 3; waits 1, 2, 2, 4 h: median 2 h; p90 (linear, position
    #   0.9·3 = 2.7) = 2 + 0.7·(4 − 2) = 3.4 h; total 9 h.
    # Finance→Branch: 2 in case 2; waits 0, 5 h: median 2.5 h, p90 0.9·5 = 4.5 h, total 5 h.
    # Finance→Legal: 2 in cases 1, 3; waits 3 h, 0: median 1.5 h, p90 2.7 h, total 3 h.
    # Legal→Branch: 2 in cases 1, 3; waits 0, 0.5 h: median 0.25 h, p90 0.45 h, total 0.5 h.
    con, log_id = log
    m = handoffs.handoff_matrix(con, log_id, level="department")
    assert _rows(m, ["from", "to", "count", "cases"]) == [
        ("Branch", "Finance", 4, 3), ("Finance", "Branch", 2, 1), ("Finance", "Legal", 2, 2),
        ("Legal", "Branch", 2, 2)]
    assert m["median_wait_seconds"].tolist() == pytest.approx([2 * H, 2.5 * H, 1.5 * H, 0.25 * H])
    assert m["p90_wait_seconds"].tolist() == pytest.approx([3.4 * H, 4.5 * H, 2.7 * H, 0.45 * H])
    assert m["total_wait_seconds"].tolist() == pytest.approx([9 * H, 5 * H, 3 * H, 0.5 * H])


def test_resource_matrix_skips_the_event_without_a_resource(log):
    # Resource sequences: 1: Ann, Bob, Bob, Lee, Ann -> Ann→Bob (12−10 = 2 h), Bob→Lee (16−14 = 2 h: the
    #   second Bob event, Note, has a resource), Lee→Ann (0)
    # 2: Ann, Bob, Ann, Cy, Ann -> Ann→Bob (1 h), Bob→Ann (0), Ann→Cy (2 h), Cy→Ann (5 h)
    # 3: Dee, Bob, (blank), Dee -> Dee→Bob (13−9 = 4 h), Bob→Dee (16:30 − 14 = 2.5 h)
    # 4: Ann, Dee -> Ann→Dee (0)
    # Ann→Bob twice (cases 1, 2; waits 2 h, 1 h: median 1.5 h); every other pair once, by name.
    con, log_id = log
    m = handoffs.handoff_matrix(con, log_id, level="resource")
    assert _rows(m, ["from", "to", "count", "cases", "median_wait_seconds"]) == [
        ("Ann", "Bob", 2, 2, 1.5 * H), ("Ann", "Cy", 1, 1, 2 * H), ("Ann", "Dee", 1, 1, 0.0),
        ("Bob", "Ann", 1, 1, 0.0), ("Bob", "Dee", 1, 1, 2.5 * H), ("Bob", "Lee", 1, 1, 2 * H),
        ("Cy", "Ann", 1, 1, 5 * H), ("Dee", "Bob", 1, 1, 4 * H), ("Lee", "Ann", 1, 1, 0.0)]


def test_unknown_level_is_refused(log):
    con, log_id = log
    with pytest.raises(ValueError):
        handoffs.handoff_matrix(con, log_id, level="activity; DROP TABLE events")


# --- per case, and their cost --------------------------------------------------------------------


def test_handoffs_per_case(log):
    # Department: case 1 three (B→F, F→L, L→B), case 2 four, case 3 three, case 4 none.
    # Resource: case 1 three, case 2 four, case 3 two (Dee→Bob, Bob→Dee), case 4 one (Ann→Dee).
    con, log_id = log
    dept = handoffs.handoffs_per_case(con, log_id, level="department")
    assert _rows(dept, ["case_id", "handoffs"]) == [("1", 3), ("2", 4), ("3", 3), ("4", 0)]
    assert dict(zip(dept["case_id"], dept["cycle_seconds"], strict=True)) == pytest.approx(CYCLE)
    res = handoffs.handoffs_per_case(con, log_id, level="resource")
    assert _rows(res, ["case_id", "handoffs"]) == [("1", 3), ("2", 4), ("3", 2), ("4", 1)]


def _synthetic_per_case(seed: int) -> pd.DataFrame:
    """450 cases, 50 with each of 0..8 hand-offs: cycle = 1 day + 2 days × hand-offs + noise in ±0.25 day.
    In each group with ≥ 5 hand-offs, 10 of the 50 cases are outliers: 5 stuck (+30 to +90 days) and 5
    closed at once (cycle 0.01–0.1 day) -- as many above the line as below, fewer than half of the group."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.arange(9), 50)
    y = DAY + 2 * DAY * x + rng.uniform(-0.25, 0.25, len(x)) * DAY
    k = np.tile(np.arange(50), 9)
    stuck, closed = (x >= 5) & (k < 5), (x >= 5) & (k >= 5) & (k < 10)
    y[stuck] += rng.uniform(30, 90, stuck.sum()) * DAY
    y[closed] = rng.uniform(0.01, 0.1, closed.sum()) * DAY
    return pd.DataFrame({"case_id": [str(i) for i in range(len(x))], "handoffs": x, "cycle_seconds": y})


TRUTH = 2 * DAY


def test_handoff_cost_is_robust_to_outliers():
    per_case = _synthetic_per_case(seed=0)
    # The premise: least squares is pulled off by the outliers. By hand: at 5..8 hand-offs the stuck cases add
    # 5/50 × 60 days = +6 days on average and the closed ones take 5/50 × (11..17 days) ≈ −1.4 days, a step of
    # ≈ +4.6 days on the upper half of x, i.e. ≈ +0.75 day per hand-off.
    assert np.polyfit(per_case["handoffs"], per_case["cycle_seconds"], 1)[0] > TRUTH + 0.5 * DAY
    cost = handoffs.handoff_cost(per_case)
    # Bound by hand: fewer than half of each group are outliers on either side, so every group's median lies
    # among its inliers, within ±0.25 day of the line; a slope between groups ≥ 1 hand-off apart is then
    # within 2 ± 0.5 days, and so is any weighted median of those slopes.
    assert abs(cost["seconds_per_handoff"] - TRUTH) <= 0.5 * DAY
    assert cost["low"] <= TRUTH <= cost["high"]
    assert cost["low"] <= cost["seconds_per_handoff"] <= cost["high"]
    assert cost["high"] - cost["low"] < 0.5 * DAY
    assert cost["cases"] == 450
    by = cost["by_handoffs"]
    assert by["handoffs"].tolist() == list(range(9)) and by["cases"].tolist() == [50] * 9
    # Median cycle of the groups without outliers: 1 + 2x days give or take the noise.
    assert by["median_cycle_seconds"][:5].tolist() == pytest.approx([DAY + TRUTH * x for x in range(5)],
                                                                    abs=0.25 * DAY)


def test_handoff_cost_interval_covers_the_true_slope():
    # A 90 % interval: over 10 independent synthetic logs it should miss about once; 3 misses would have a
    # probability of about 7 % under 90 % coverage, so at most 2 are allowed.
    covered = 0
    for seed in range(10):
        cost = handoffs.handoff_cost(_synthetic_per_case(seed))
        assert abs(cost["seconds_per_handoff"] - TRUTH) <= 0.5 * DAY
        covered += cost["low"] <= TRUTH <= cost["high"]
    assert covered >= 8


def test_handoff_cost_without_spread_in_handoffs_is_undefined():
    per_case = pd.DataFrame({"case_id": list("abcdefghijkl"), "handoffs": [2] * 12,
                             "cycle_seconds": np.arange(12) * DAY})
    cost = handoffs.handoff_cost(per_case)
    assert np.isnan(cost["seconds_per_handoff"]) and np.isnan(cost["low"]) and np.isnan(cost["high"])


# --- ping-pong -----------------------------------------------------------------------------------


def test_department_pingpong(log):
    # Case 2: Branch, Finance, Branch, Finance, Branch has three X→Y→X triples, all the pair {Branch, Finance};
    # no other case has one (1 and 3 go Branch, Finance, Legal, Branch). Median cycle with it: case 2, 12 h;
    # without: cases 1, 3, 4 = 9, 9, 2 h -> 9 h. Extra: 3 h.
    con, log_id = log
    p = handoffs.pingpong(con, log_id, level="department")
    assert _rows(p, ["pair_a", "pair_b", "occurrences", "cases"]) == [("Branch", "Finance", 3, 1)]
    assert p["median_cycle_with_seconds"].tolist() == pytest.approx([12 * H])
    assert p["median_cycle_without_seconds"].tolist() == pytest.approx([9 * H])
    assert p["extra_cycle_seconds"].tolist() == pytest.approx([3 * H])


def test_resource_pingpong(log):
    # Case 2: Ann, Bob, Ann, Cy, Ann -> {Ann, Bob} and {Ann, Cy} once each; case 3: Dee, Bob, (blank), Dee ->
    # {Bob, Dee} once (the blank is skipped). Case 1: Ann, Bob, Bob, Lee, Ann has none (Bob, Bob is no hand-off).
    # {Bob, Dee}: with = case 3, 9 h; without = cases 1, 2, 4 = 9, 12, 2 h -> 9 h; extra 0.
    # {Ann, Bob} / {Ann, Cy}: with = case 2, 12 h; without = 9, 9, 2 h -> 9 h; extra 3 h.
    con, log_id = log
    p = handoffs.pingpong(con, log_id, level="resource")
    assert _rows(p, ["pair_a", "pair_b", "occurrences", "cases"]) == [
        ("Ann", "Bob", 1, 1), ("Ann", "Cy", 1, 1), ("Bob", "Dee", 1, 1)]
    assert p["extra_cycle_seconds"].tolist() == pytest.approx([3 * H, 3 * H, 0.0])
    assert handoffs.pingpong(con, log_id, level="resource", top=1)["pair_b"].tolist() == ["Bob"]


# --- who the front line waits on ------------------------------------------------------------------


def test_front_line_waits_held_seconds(log):
    # Back-office events after the case has been at Branch; held = positive wait before it + its processing
    # (the event without a department, Note, is skipped: Legal's wait in case 1 runs from Finance's end, 13:00).
    #   Finance: case 1 2 h + 1 h = 3 h; case 2 (1 h + 0.5 h) + (2 h + 1 h) = 4.5 h; case 3 4 h + 1 h = 5 h
    #            -> 3 cases, 4 events, waits 1, 2, 2, 4 h (median 2 h), held median 4.5 h,
    #               p90 (position 1.8) 4.5 + 0.8·0.5 = 4.9 h, total 12.5 h
    #   Legal:   case 1 3 h + 1 h = 4 h; case 3 0 + 2 h = 2 h
    #            -> 2 cases, 2 events, waits 3 h, 0 (median 1.5 h), held median 3 h, p90 3.8 h, total 6 h
    # Shares of the 18.5 h: 12.5/18.5 and 6/18.5.
    con, log_id = log
    f = handoffs.front_line_waits(con, log_id, ["Branch"])
    assert _rows(f, ["department", "cases", "events"]) == [("Finance", 3, 4), ("Legal", 2, 2)]
    assert f["median_wait_seconds"].tolist() == pytest.approx([2 * H, 1.5 * H])
    assert f["median_held_seconds"].tolist() == pytest.approx([4.5 * H, 3 * H])
    assert f["p90_held_seconds"].tolist() == pytest.approx([4.9 * H, 3.8 * H])
    assert f["total_held_seconds"].tolist() == pytest.approx([12.5 * H, 6 * H])
    assert f["share_of_front_line_wait"].tolist() == pytest.approx([12.5 / 18.5, 6 / 18.5])


def test_front_line_waits_for_another_front_line(log):
    # With Finance as the front line, only what follows a Finance event counts:
    #   case 1: Legal (wait 16−13 = 3 h + 1 h) = 4 h, then Branch (0 + 1 h) = 1 h
    #   case 2: Branch 11–12 (0 + 1 h), Branch 20–21 (5 h + 1 h) = 7 h
    #   case 3: Legal (0 + 2 h) = 2 h, Branch (0.5 h + 0.5 h) = 1 h
    # Branch: 3 cases, 4 events, held 1, 7, 1 h -> total 9 h; Legal: 2 cases, held 4, 2 h -> total 6 h.
    con, log_id = log
    f = handoffs.front_line_waits(con, log_id, ["Finance"])
    assert _rows(f, ["department", "cases", "events"]) == [("Branch", 3, 4), ("Legal", 2, 2)]
    assert f["total_held_seconds"].tolist() == pytest.approx([9 * H, 6 * H])
    assert f["median_held_seconds"].tolist() == pytest.approx([1 * H, 3 * H])


# --- share of cycle time waiting at hand-offs ---------------------------------------------------


def test_handoff_wait_share(log):
    # Department hand-off waits: 9 + 5 + 3 + 0.5 = 17.5 h of 32 h of cycle time -> 0.546875.
    # Resource hand-off waits: case 1 2 + 2 + 0, case 2 1 + 0 + 2 + 5, case 3 4 + 2.5, case 4 0 = 18.5 h
    #   -> 18.5 / 32 = 0.578125.
    con, log_id = log
    assert handoffs.handoff_wait_share(con, log_id, level="department") == pytest.approx(17.5 / 32)
    assert handoffs.handoff_wait_share(con, log_id, level="resource") == pytest.approx(18.5 / 32)
