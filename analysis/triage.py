"""Campaign triage: which campaigns should run as projects with a cross-department team, which as standard work.

The source practice: big or new campaigns that cross many departments run as projects (a campaign team, a
plan, one owner); frequent routine ones run as standard work. This module scores each kept case on five
complexity signals a manager can check by hand, and recommends a track:

| signal | points (default) | when |
|---|---|---|
| departments touched | +1 per department above the threshold | default threshold: the kept cases' median |
| hand-offs between departments | +1 per hand-off above the threshold | default threshold: the kept cases' median |
| rework (an activity done again) | +2 | at least 1 repeated event |
| rare path (variant) | +2 | fewer than 2 % of the kept cases follow the same variant |
| budget | +3 | above the threshold; default: the kept cases' 75th percentile |

A case with score ≥ 3 (the cut-off) is recommended for the project track. A big budget alone is enough (the
source practice: big campaigns run as projects); rework, a rare path or more departments and hand-offs than
usual each need company, or must be strong (three hand-offs more than usual). Cycle time is deliberately *not* a
signal: it is the outcome the two tracks are compared on afterwards.

Per-event work is one DuckDB query (`case_features`: departments and hand-offs from pairs.per_case, the one
hand-off rule; rework; the variant's share; the budget); the scoring runs in pandas on one row per case.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd

from analysis import pairs
from analysis.filters import AnyFilter, kept_cases
from analysis.formatting import MISSING
from analysis.overview import in_attribute_order
from analysis.sql import query

# Case attribute names (lower-cased substrings) taken for the budget when none is named.
BUDGET_NAMES = ("预算", "budget", "金额", "amount", "费用", "cost")

TRACKS = ("project", "routine")
REASONS = ("departments", "handoffs", "rework", "rare_variant", "budget")


@dataclass(frozen=True)
class Thresholds:
    """Where each signal starts to count, and the score from which a case is a project.

    None means "derived from the kept cases" (see `resolve`), so the defaults fit any log: the typical
    (median) campaign earns no department or hand-off points, the top quarter by budget earns budget points.
    """

    departments: float | None = None   # +points per department above this; None: median of the kept cases
    handoffs: float | None = None      # +points per hand-off above this; None: median of the kept cases
    rework: int = 1                    # rework points when a case has at least this many repeated events
    rare_share: float = 0.02           # rarity points when the case's variant share is below this
    budget: float | None = None        # budget points when the budget is above this; None: 75th percentile
    cutoff: int = 3                    # project track when the score reaches this


@dataclass(frozen=True)
class Weights:
    """Points per signal: one per extra department or hand-off, two for rework or a rare path, three for a big budget."""

    department: int = 1
    handoff: int = 1
    rework: int = 2
    rare_variant: int = 2
    budget: int = 3


def find_budget_attribute(con: duckdb.DuckDBPyConnection, log_id: int) -> str | None:
    """The numeric case attribute that looks like a budget (预算, budget, amount, 金额 …), or None.

    Among the attributes whose name matches, the one with the most numeric values wins (ties: the first imported).
    """
    numbers = dict(query("""SELECT name, count(number) FROM case_attributes WHERE log_id = $log_id
                            GROUP BY name HAVING count(number) > 0""", log_id=log_id).rows(con))
    budgets = [n for n in in_attribute_order(con, log_id, numbers) if any(w in n.lower() for w in BUDGET_NAMES)]
    # sorted() is stable: among equal counts the file order stays.
    return sorted(budgets, key=lambda n: -numbers[n])[0] if budgets else None


def case_features(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
                  budget_attribute: str | None = None) -> pd.DataFrame:
    """One row per kept case: case_id, departments, handoffs, rework, variant_id, variant_share, budget, cycle_seconds.

    departments = distinct departments touched and handoffs = consecutive events whose department differs
    (pairs.per_case: events without a department skipped, resources standing in when the log has no
    departments); rework = events − distinct activities; variant_share = share of the kept cases following the
    same variant; budget = the numeric value of the budget attribute (auto-detected when not named; NaN when
    the log has none or the case's value is not a number).
    """
    per_case = pairs.per_case(log_id, flt, pairs.handoff_unit(con, log_id))
    cases = kept_cases(log_id, flt)
    name = budget_attribute or find_budget_attribute(con, log_id)
    # A case's rework depends on its activity sequence only, so it is read from its variant: no event scan.
    return query(
        f"""WITH per_case AS ({per_case.text}),
           kc AS ({cases.text}),
           budget AS (SELECT case_id, number FROM case_attributes WHERE log_id = $log_id AND name = $budget_name)
           SELECT kc.case_id, p.units::INTEGER AS departments, p.handoffs::INTEGER AS handoffs,
                  (len(v.activities) - len(list_distinct(v.activities)))::INTEGER AS rework, kc.variant_id,
                  count(*) OVER (PARTITION BY kc.variant_id) / count(*) OVER () AS variant_share,
                  b.number AS budget, kc.cycle_seconds
           FROM kc JOIN per_case p ON p.case_id = kc.case_id
           JOIN variants v ON v.log_id = $log_id AND v.variant_id = kc.variant_id
           LEFT JOIN budget b ON b.case_id = kc.case_id
           ORDER BY kc.case_id""",
        per_case, cases, log_id=log_id, budget_name=name).df(con).astype({"budget": "float64"})


def resolve(features: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> Thresholds:
    """The thresholds with every automatic (None) value replaced by the one derived from these cases."""
    def quantile(column: str, q: float) -> float | None:
        values = features[column].dropna()
        return float(values.quantile(q)) if len(values) else None

    return replace(
        thresholds,
        departments=thresholds.departments if thresholds.departments is not None else _ceil(quantile("departments", 0.5)),
        handoffs=thresholds.handoffs if thresholds.handoffs is not None else _ceil(quantile("handoffs", 0.5)),
        budget=thresholds.budget if thresholds.budget is not None else quantile("budget", 0.75),
    )


def _ceil(value: float | None) -> int | None:
    """A median of counts as a whole number, rounded up: at least half the cases are at or below it."""
    return None if value is None else int(np.ceil(value))


def triage(features: pd.DataFrame, thresholds: Thresholds = Thresholds(), weights: Weights = Weights()) -> pd.DataFrame:
    """The features plus points per signal (pts_<reason>), score, track ('project'|'routine') and reasons.

    reasons lists the codes of REASONS that earned points, in that order; score is the sum of the pts_ columns.
    Automatic thresholds are resolved on these features first (see `resolve`).
    """
    th = resolve(features, thresholds)
    out = features.copy()
    zero = pd.Series(0, index=out.index, dtype="int64")

    def above(column: str, limit: float | None) -> pd.Series:
        if limit is None:
            return zero
        # Whole units above: with a threshold of 7.5, 8 departments earn one point and 9 earn two.
        return np.ceil((out[column] - limit).clip(lower=0).fillna(0)).astype("int64")

    out["pts_departments"] = above("departments", th.departments) * weights.department
    out["pts_handoffs"] = above("handoffs", th.handoffs) * weights.handoff
    out["pts_rework"] = (out["rework"] >= max(th.rework, 1)).astype("int64") * weights.rework
    out["pts_rare_variant"] = (out["variant_share"] < th.rare_share).astype("int64") * weights.rare_variant
    # A missing budget earns nothing: no evidence of size is not evidence of a big campaign.
    out["pts_budget"] = (zero if th.budget is None else (out["budget"] > th.budget).astype("int64")) * weights.budget
    points = out[[f"pts_{r}" for r in REASONS]]
    out["score"] = points.sum(axis=1).astype("int64")
    out["track"] = (out["score"] >= th.cutoff).map({True: "project", False: "routine"})
    out["reasons"] = [[r for r, p in zip(REASONS, row, strict=True) if p > 0] for row in points.itertuples(index=False)]
    return out


def segment_kpis(triaged: pd.DataFrame) -> pd.DataFrame:
    """Per track (project first): cases, share, cycle time, hand-offs, departments, rework share, budget.

    Columns: track, cases, share, median_cycle_seconds, p90_cycle_seconds, mean_handoffs, mean_departments,
    rework_share (cases with any rework), mean_budget. A track without cases has a row with cases = 0.
    """
    total = len(triaged)
    rows = []
    for track in TRACKS:
        part = triaged[triaged["track"] == track]
        cycle = part["cycle_seconds"]
        rows.append({
            "track": track, "cases": len(part), "share": len(part) / total if total else 0.0,
            "median_cycle_seconds": cycle.median() if len(part) else None,
            "p90_cycle_seconds": cycle.quantile(0.9) if len(part) else None,
            "mean_handoffs": part["handoffs"].mean() if len(part) else None,
            "mean_departments": part["departments"].mean() if len(part) else None,
            "rework_share": (part["rework"] > 0).mean() if len(part) else None,
            "mean_budget": part["budget"].mean() if part["budget"].notna().any() else None,
        })
    return pd.DataFrame(rows)


def attribute_values(con: duckdb.DuckDBPyConnection, log_id: int, name: str,
                     flt: AnyFilter | None = None) -> pd.DataFrame:
    """One row per kept case: case_id and its value of one case attribute (NULL when the case has none)."""
    cases = kept_cases(log_id, flt)
    return query(
        f"""SELECT kc.case_id, a.value FROM ({cases.text}) kc
            LEFT JOIN case_attributes a ON a.log_id = kc.log_id AND a.case_id = kc.case_id AND a.name = $name
            ORDER BY kc.case_id""",
        cases, name=name).df(con)


def track_by_value(triaged: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Per attribute value (values: case_id, value): cases, project_share, median cycle seconds of each track.

    Sorted by project share, highest first: which kinds of campaign the rule sends to the project track.
    """
    both = triaged[["case_id", "track", "cycle_seconds"]].merge(values, on="case_id", how="left")
    both["value"] = both["value"].fillna(MISSING)
    grouped = both.groupby("value")
    out = pd.DataFrame({
        "cases": grouped.size(),
        "project_share": grouped["track"].apply(lambda s: (s == "project").mean()),
        "median_cycle_project": both[both["track"] == "project"].groupby("value")["cycle_seconds"].median(),
        "median_cycle_routine": both[both["track"] == "routine"].groupby("value")["cycle_seconds"].median(),
    })
    return out.reset_index().sort_values(["project_share", "cases"], ascending=[False, False], ignore_index=True)
