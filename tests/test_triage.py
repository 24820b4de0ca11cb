"""Campaign triage (project or routine): features, score and track on a log checked by hand, and on the sample."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import defaults, importer, sample, store, triage
from analysis.filters import CaseFilter

DAY = 86400

# Five campaigns. Departments: B = branch, M = marketing, F = finance, L = legal, I = IT.
# The usual path is Request → Plan → Approve → Launch (cases 1–3; case 3's Plan has no department).
#
# case  path (departments)            depts  hand-offs  rework  path share  budget   cycle
#  1    R P A L (B M F B)               3       3         0       3/5       10,000   3 days
#  2    R P A L (B M F B)               3       3         0       3/5       12,000   4 days
#  3    R P A L (B – F B)               2       2         0       3/5       20,000   2 days   (blank skipped: B→F→B)
#  4    R P A P A L (B M F M F B)       3       5         2       1/5       50,000  10 days   (plan returned once)
#  5    R P G I A L (B M L I F B)       5       5         0       1/5      900,000  20 days   (new: legal and IT)
#
# Automatic thresholds: departments median(3,3,2,3,5) = 3; hand-offs median(3,3,2,5,5) = 3;
# budget p75 of (10k, 12k, 20k, 50k, 900k) = the 4th value = 50,000 (so only 900,000 is "above").
# Default scores (1 per department / hand-off above, 2 rework, 2 rare path < 2 %, 3 budget; project from 3):
#   cases 1–3: 0 → routine
#   case 4: hand-offs 5 − 3 = +2, rework +2                       = 4 → project
#   case 5: departments 5 − 3 = +2, hand-offs +2, budget +3        = 7 → project
LOG = """case,activity,timestamp,department,budget
1,Request,2024-03-04 09:00,B,10000
1,Plan,2024-03-05 09:00,M,10000
1,Approve,2024-03-06 09:00,F,10000
1,Launch,2024-03-07 09:00,B,10000
2,Request,2024-03-04 09:00,B,12000
2,Plan,2024-03-05 09:00,M,12000
2,Approve,2024-03-07 09:00,F,12000
2,Launch,2024-03-08 09:00,B,12000
3,Request,2024-03-04 09:00,B,20000
3,Plan,2024-03-05 09:00,,20000
3,Approve,2024-03-05 12:00,F,20000
3,Launch,2024-03-06 09:00,B,20000
4,Request,2024-03-04 09:00,B,50000
4,Plan,2024-03-05 09:00,M,50000
4,Approve,2024-03-06 09:00,F,50000
4,Plan,2024-03-08 09:00,M,50000
4,Approve,2024-03-11 09:00,F,50000
4,Launch,2024-03-14 09:00,B,50000
5,Request,2024-03-04 09:00,B,900000
5,Plan,2024-03-06 09:00,M,900000
5,Legal check,2024-03-10 09:00,L,900000
5,IT setup,2024-03-14 09:00,I,900000
5,Approve,2024-03-18 09:00,F,900000
5,Launch,2024-03-24 09:00,B,900000
"""


@pytest.fixture
def campaigns(db, write) -> int:
    """LOG imported into a fresh store; returns its log id."""
    return importer.import_file(db, write("campaigns.csv", LOG)).log_id


def by_case(frame: pd.DataFrame, column: str) -> dict:
    return dict(zip(frame["case_id"], frame[column], strict=True))


def test_features_by_hand(db, campaigns):
    assert triage.find_budget_attribute(db, campaigns) == "budget"
    f = triage.case_features(db, campaigns)
    assert list(f["case_id"]) == ["1", "2", "3", "4", "5"]
    assert list(f["departments"]) == [3, 3, 2, 3, 5]
    assert list(f["handoffs"]) == [3, 3, 2, 5, 5]
    assert list(f["rework"]) == [0, 0, 0, 2, 0]
    assert list(f["variant_share"]) == pytest.approx([0.6, 0.6, 0.6, 0.2, 0.2])
    assert list(f["budget"]) == [10000, 12000, 20000, 50000, 900000]
    assert list(f["cycle_seconds"]) == [3 * DAY, 4 * DAY, 2 * DAY, 10 * DAY, 20 * DAY]


def test_default_score_track_and_reasons(db, campaigns):
    f = triage.case_features(db, campaigns)
    assert triage.resolve(f) == triage.Thresholds(departments=3, handoffs=3, budget=50000.0)
    t = triage.triage(f)
    assert by_case(t, "score") == {"1": 0, "2": 0, "3": 0, "4": 4, "5": 7}
    assert by_case(t, "track") == {"1": "routine", "2": "routine", "3": "routine", "4": "project", "5": "project"}
    assert by_case(t, "reasons") == {"1": [], "2": [], "3": [], "4": ["handoffs", "rework"],
                                     "5": ["departments", "handoffs", "budget"]}
    # The score is the sum of the points each reason earned, so the page can show why.
    assert (t[[f"pts_{r}" for r in triage.REASONS]].sum(axis=1) == t["score"]).all()
    assert t.loc[t["case_id"] == "5", ["pts_departments", "pts_handoffs", "pts_budget"]].values.tolist() == [[2, 2, 3]]


@pytest.mark.parametrize("thresholds, weights, scores, projects", [
    # A rare path is one fewer than 25 % of the cases follow: cases 4 and 5 (1/5 each) earn 2 more.
    (triage.Thresholds(rare_share=0.25), triage.Weights(), {"4": 6, "5": 9}, {"4", "5"}),
    # Cut-off 5: case 4 (4 points) is routine again.
    (triage.Thresholds(cutoff=5), triage.Weights(), {"4": 4, "5": 7}, {"5"}),
    # Hand-offs count from 5: case 4 keeps only its rework (2), case 5 departments 2 + budget 3.
    (triage.Thresholds(handoffs=5), triage.Weights(), {"4": 2, "5": 5}, {"5"}),
    # A budget above 1,000,000 and departments above 10: case 5 keeps its hand-offs only (2).
    (triage.Thresholds(budget=1_000_000, departments=10), triage.Weights(), {"4": 4, "5": 2}, {"4"}),
    # Nothing but rework counts, and rework weighs 3: case 4 alone.
    (triage.Thresholds(departments=10, handoffs=10, budget=1e9), triage.Weights(rework=3), {"4": 3, "5": 0}, {"4"}),
    # Cut-off 1 and low thresholds: every case with a point is a project; cases 1–2 have 3 departments (> 2).
    (triage.Thresholds(departments=2, cutoff=1), triage.Weights(), {"1": 1, "3": 0}, {"1", "2", "4", "5"}),
])
def test_thresholds_move_cases_between_tracks(db, campaigns, thresholds, weights, scores, projects):
    t = triage.triage(triage.case_features(db, campaigns), thresholds, weights)
    assert {c: s for c, s in by_case(t, "score").items() if c in scores} == scores
    assert set(t.loc[t["track"] == "project", "case_id"]) == projects


def test_segment_kpis_by_hand(db, campaigns):
    k = triage.segment_kpis(triage.triage(triage.case_features(db, campaigns))).set_index("track")
    assert list(k.index) == ["project", "routine"]
    project, routine = k.loc["project"], k.loc["routine"]
    # Project: cases 4, 5. Routine: cases 1, 2, 3.
    assert (project["cases"], project["share"], routine["cases"], routine["share"]) == (2, 0.4, 3, 0.6)
    assert project["median_cycle_seconds"] == 15 * DAY
    assert project["p90_cycle_seconds"] == pytest.approx(19 * DAY)  # 10 + 0.9 · (20 − 10)
    assert routine["median_cycle_seconds"] == 3 * DAY
    assert routine["p90_cycle_seconds"] == pytest.approx(3.8 * DAY)  # (2, 3, 4): 3 + 0.8 · 1
    assert (project["mean_handoffs"], project["mean_departments"], project["rework_share"]) == (5, 4, 0.5)
    assert routine["mean_handoffs"] == pytest.approx(8 / 3) and routine["mean_departments"] == pytest.approx(8 / 3)
    assert (routine["rework_share"], project["mean_budget"], routine["mean_budget"]) == (0, 475000, 14000)


def test_an_empty_track_still_has_its_row(db, campaigns):
    k = triage.segment_kpis(triage.triage(triage.case_features(db, campaigns), triage.Thresholds(cutoff=99)))
    assert k[["track", "cases", "share"]].values.tolist() == [["project", 0, 0.0], ["routine", 5, 1.0]]
    assert k["median_cycle_seconds"].iloc[0] is None or pd.isna(k["median_cycle_seconds"].iloc[0])


def test_filter_changes_shares_and_automatic_thresholds(db, campaigns):
    # Without case 5 (cycle > 15 days): the usual path is 3 of 4 cases, case 4 is 1/4; budget p75 of
    # (10k, 12k, 20k, 50k) = 20,000 + 0.25 · 30,000 = 27,500, so case 4's 50,000 now counts: 2 + 2 + 3 = 7.
    f = triage.case_features(db, campaigns, CaseFilter(cycle_max_seconds=15 * DAY))
    assert list(f["case_id"]) == ["1", "2", "3", "4"]
    assert list(f["variant_share"]) == [0.75, 0.75, 0.75, 0.25]
    assert triage.resolve(f).budget == 27500
    assert by_case(triage.triage(f), "score") == {"1": 0, "2": 0, "3": 0, "4": 7}


def test_track_by_value(db, campaigns):
    t = triage.triage(triage.case_features(db, campaigns))
    values = pd.DataFrame({"case_id": ["1", "2", "3", "4", "5"], "value": ["a", "a", "b", "b", "b"]})
    out = triage.track_by_value(t, values)
    assert out[["value", "cases"]].values.tolist() == [["b", 3], ["a", 2]]
    assert out["project_share"].tolist() == pytest.approx([2 / 3, 0])
    assert out["median_cycle_project"].iloc[0] == 15 * DAY and out["median_cycle_routine"].iloc[1] == 3.5 * DAY


def test_without_budget_attribute_budget_earns_nothing(db, write):
    text = "\n".join(line.rsplit(",", 1)[0] for line in LOG.strip().splitlines()).replace(
        "department", "department,region", 1)
    text = "\n".join(line if i == 0 else line + ",North" for i, line in enumerate(text.splitlines()))
    log_id = importer.import_file(db, write("nobudget.csv", text + "\n")).log_id
    assert triage.find_budget_attribute(db, log_id) is None
    f = triage.case_features(db, log_id)
    assert f["budget"].isna().all()
    t = triage.triage(f)
    assert triage.resolve(f).budget is None
    assert (t["pts_budget"] == 0).all()
    assert by_case(t, "score") == {"1": 0, "2": 0, "3": 0, "4": 4, "5": 4}  # case 5 loses its 3 budget points


def test_budget_attribute_can_be_named(db, write):
    text = LOG.replace("department,budget", "department,ref_number", 1)
    log_id = importer.import_file(db, write("named.csv", text)).log_id
    # Not a budget by its name (no word of BUDGET_NAMES) ... unless named explicitly.
    assert triage.find_budget_attribute(db, log_id) is None
    assert triage.case_features(db, log_id)["budget"].isna().all()
    assert triage.case_features(db, log_id, budget_attribute="ref_number")["budget"].tolist()[-1] == 900000


# --- The sample: routine discounts are standard work; launches and pilots spread. ---

COLS = sample.COLUMNS["zh"]


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("triage") / "s.duckdb"
    con = store.connect(path)
    log_id = defaults.ensure_sample(con)
    yield con, log_id
    con.close()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """The generator's own events (in case and time order, as written)."""
    return sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh")


def test_sample_features_match_the_generator(sample_store, frame):
    con, log_id = sample_store
    f = triage.case_features(con, log_id).set_index("case_id")
    g = frame.groupby(COLS["case"], sort=False)
    dept = frame[COLS["department"]]
    changes = (dept != g[COLS["department"]].shift()) & g[COLS["department"]].shift().notna()
    paths = g[COLS["activity"]].agg(tuple)
    expected = pd.DataFrame({
        "departments": g[COLS["department"]].nunique(),
        "handoffs": changes.groupby(frame[COLS["case"]], sort=False).sum(),
        "rework": g.size() - g[COLS["activity"]].nunique(),
        "variant_share": paths.map(paths.value_counts() / len(paths)),
        "budget": g[COLS["budget"]].first().astype(float),
    })
    pd.testing.assert_frame_equal(f.loc[expected.index, expected.columns], expected, check_dtype=False,
                                  check_names=False)


def test_sample_routine_discounts_are_routine_launches_and_pilots_projects(sample_store, frame):
    con, log_id = sample_store
    t = triage.triage(triage.case_features(con, log_id))
    types = frame.groupby(COLS["case"])[COLS["type"]].first()
    share = (t.set_index("case_id")["track"] == "project").groupby(types).mean()
    assert share["常规促销"] < 0.25     # 13 % in the default sample: the ones with rework or an unusual path
    assert share["新品上市"] > 0.75     # 90 %: big budgets, many hand-offs
    assert share["创新试点"] > 0.5      # 66 %: IT and legal involved, rework, rare paths
    assert share["品牌活动"] > 0.5      # 71 %
    assert types[t.loc[t["track"] == "routine", "case_id"]].eq("常规促销").mean() > 0.75  # routine track: mostly discounts
    k = triage.segment_kpis(t).set_index("track")
    assert k.loc["project", "median_cycle_seconds"] > 1.5 * k.loc["routine", "median_cycle_seconds"]
    assert k.loc["project", "mean_handoffs"] > k.loc["routine", "mean_handoffs"]
