"""Hand-offs between departments (or resources): the matrix, ping-pong, their cost in cycle time, and who
the front line waits on.

Definitions (DESIGN.md): a hand-off is a pair of consecutive events of a case whose department (or
resource) differs; events without one are skipped, so X, (blank), Y is one hand-off X→Y. Its wait is
the start of the second event − the end of the first. Ping-pong: three consecutive events X, Y, X with
X ≠ Y, after consecutive events of one unit are merged into one block (X, Y, Y, X is a ping-pong);
it is counted per unordered pair {X, Y}.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analysis.bottlenecks import steps_sql
from analysis.filters import CaseFilter, kept_cases_sql
from analysis.working_time import WorkCalendar

LEVELS = ("department", "resource")


def _unit(level: str) -> str:
    """The events column of a level (checked: it is put into SQL as an identifier)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    return level


def handoff_matrix(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
                   level: str = "department", calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Hand-offs from → to, most frequent first: count, cases, median/p90 and total wait (seconds; only
    positive waits add to the total)."""
    unit = _unit(level)
    ctes, params = steps_sql(con, log_id, flt, calendar, unit)
    return con.execute(
        f"""{ctes}
        SELECT prev_{unit} AS "from", {unit} AS "to", count(*) AS count, count(DISTINCT case_id) AS cases,
               quantile_cont(wait_s, 0.5) AS median_wait_seconds, quantile_cont(wait_s, 0.9) AS p90_wait_seconds,
               sum(greatest(wait_s, 0)) AS total_wait_seconds
        FROM steps WHERE prev_{unit} IS NOT NULL AND prev_{unit} <> {unit}
        GROUP BY ALL ORDER BY count DESC, "from", "to" """,
        params,
    ).df()


def handoffs_per_case(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
                      level: str = "department") -> pd.DataFrame:
    """Per kept case: case_id, handoffs, cycle_seconds (cases without any unit value have 0 hand-offs)."""
    unit = _unit(level)
    ctes, params = steps_sql(con, log_id, flt, None, unit)
    cases, case_params = kept_cases_sql(log_id, flt)
    return con.execute(
        f"""{ctes},
        per AS (SELECT case_id, count(*) FILTER (WHERE prev_{unit} IS NOT NULL AND prev_{unit} <> {unit}) AS handoffs
                FROM steps GROUP BY case_id)
        SELECT c.case_id, coalesce(p.handoffs, 0) AS handoffs, c.cycle_seconds
        FROM ({cases}) c LEFT JOIN per p USING (case_id) ORDER BY c.case_id""",
        [*params, *case_params],
    ).df()


def _theil_sen(x: np.ndarray, y: np.ndarray) -> float:
    """Median of pairwise slopes, computed on the distinct x values: each pair of groups (x_i, median y)
    weighted by the product of their sizes (exact for integer hand-off counts, and fast)."""
    values, inverse = np.unique(x, return_inverse=True)
    if len(values) < 2:
        return float("nan")
    medians = np.array([np.median(y[inverse == i]) for i in range(len(values))])
    sizes = np.bincount(inverse).astype(float)
    i, j = np.triu_indices(len(values), k=1)
    slopes = (medians[j] - medians[i]) / (values[j] - values[i])
    weights = sizes[i] * sizes[j]
    order = np.argsort(slopes)
    cumulative = np.cumsum(weights[order])
    return float(slopes[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def handoff_cost(per_case: pd.DataFrame, resamples: int = 200, seed: int = 0, subsample: int = 10_000) -> dict:
    """What one extra hand-off costs in cycle time: a robust (Theil–Sen style) slope in seconds per hand-off,
    with a 90 % bootstrap interval over cases, and the median cycle time per number of hand-offs.

    Each resample draws min(n, `subsample`) cases: above that size the interval is that of a 10,000-case
    sample, a little wider than the full log's (conservative), and the page stays fast at any size."""
    x = per_case["handoffs"].to_numpy(dtype=float)
    y = per_case["cycle_seconds"].to_numpy(dtype=float)
    slope = _theil_sen(x, y)
    rng = np.random.default_rng(seed)
    n = len(x)
    boot = []
    if n >= 10 and slope == slope:
        for _ in range(resamples):
            pick = rng.integers(0, n, min(n, subsample))
            value = _theil_sen(x[pick], y[pick])
            if value == value:
                boot.append(value)
    low, high = (np.quantile(boot, [0.05, 0.95]).tolist() if boot else (float("nan"), float("nan")))
    groups = per_case.groupby("handoffs")["cycle_seconds"].agg(["median", "size"]).reset_index()
    return {"seconds_per_handoff": slope, "low": low, "high": high, "cases": n,
            "by_handoffs": groups.rename(columns={"median": "median_cycle_seconds", "size": "cases"})}


def handoff_cost_of(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
                    level: str = "department") -> dict:
    """handoff_cost over the kept cases of a log (one call the pages can cache)."""
    return handoff_cost(handoffs_per_case(con, log_id, flt, level))


def pingpong(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
             level: str = "department", top: int = 50) -> pd.DataFrame:
    """X→Y→X per unordered pair, most frequent first (the `top` pairs): pair_a, pair_b (a < b), occurrences,
    cases, median cycle of the cases with it and of the kept cases without it, and the extra (difference)."""
    unit = _unit(level)
    ctes, params = steps_sql(con, log_id, flt, None, unit)
    cases, case_params = kept_cases_sql(log_id, flt)
    return con.execute(
        f"""{ctes},
        -- Runs of one unit collapse to one block first: X, Y, Y, X is a ping-pong too.
        blocks AS (SELECT case_id, pos, {unit} AS u FROM steps WHERE prev_{unit} IS NULL OR prev_{unit} <> {unit}),
        triples AS (SELECT case_id, u AS z, lag(u) OVER w AS y, lag(u, 2) OVER w AS x
                    FROM blocks WINDOW w AS (PARTITION BY case_id ORDER BY pos)),
        hits AS (SELECT case_id, least(x, y) AS pair_a, greatest(x, y) AS pair_b FROM triples
                 WHERE x = z AND x <> y),
        kept AS ({cases}),
        per AS (SELECT pair_a, pair_b, count(*) AS occurrences, count(DISTINCT case_id) AS cases FROM hits
                GROUP BY ALL ORDER BY occurrences DESC, pair_a, pair_b LIMIT ?),
        pair_cases AS (SELECT DISTINCT pair_a, pair_b, case_id FROM hits),
        with_it AS (SELECT pc.pair_a, pc.pair_b, quantile_cont(k.cycle_seconds, 0.5) AS m
                    FROM pair_cases pc JOIN kept k USING (case_id) GROUP BY ALL),
        without_it AS (SELECT p.pair_a, p.pair_b, quantile_cont(k.cycle_seconds, 0.5) AS m
                       FROM per p CROSS JOIN kept k
                       LEFT JOIN pair_cases pc ON pc.pair_a = p.pair_a AND pc.pair_b = p.pair_b
                                              AND pc.case_id = k.case_id
                       WHERE pc.case_id IS NULL GROUP BY ALL)
        SELECT per.*, w.m AS median_cycle_with_seconds, wo.m AS median_cycle_without_seconds,
               w.m - wo.m AS extra_cycle_seconds
        FROM per JOIN with_it w USING (pair_a, pair_b) LEFT JOIN without_it wo USING (pair_a, pair_b)
        ORDER BY occurrences DESC, pair_a, pair_b""",
        [*params, *case_params, top],
    ).df()


def front_line_waits(con: duckdb.DuckDBPyConnection, log_id: int, front: list[str],
                     flt: CaseFilter | None = None, calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Who the front line waits on: once a case has left a front-line department, the time each back-office
    department holds it (the wait before its events plus their processing) until it is back.

    Per back-office department, most time first: department, cases, events, median_wait_seconds (before
    picking work up), median/p90 held seconds per case, total_held_seconds, share_of_front_line_wait.
    """
    ctes, params = steps_sql(con, log_id, flt, calendar, "department")
    return con.execute(
        f"""{ctes},
        marked AS (SELECT *, list_contains(?, department) AS is_front,
                          bool_or(list_contains(?, department)) OVER (PARTITION BY case_id ORDER BY pos
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS after_front
                   FROM steps),
        held AS (SELECT case_id, department, wait_s,
                        greatest(coalesce(wait_s, 0), 0) + coalesce(proc_s, 0) AS held_s
                 FROM marked WHERE NOT is_front AND after_front),
        per_case AS (SELECT department, case_id, sum(held_s) AS held_s, count(*) AS events FROM held GROUP BY ALL),
        waits AS (SELECT department, quantile_cont(wait_s, 0.5) AS median_wait_seconds FROM held GROUP BY ALL)
        SELECT p.department, count(*) AS cases, sum(p.events) AS events, any_value(w.median_wait_seconds)
                   AS median_wait_seconds,
               quantile_cont(p.held_s, 0.5) AS median_held_seconds, quantile_cont(p.held_s, 0.9) AS p90_held_seconds,
               sum(p.held_s) AS total_held_seconds,
               sum(p.held_s) / nullif(sum(sum(p.held_s)) OVER (), 0) AS share_of_front_line_wait
        FROM per_case p JOIN waits w USING (department)
        GROUP BY p.department ORDER BY total_held_seconds DESC, p.department""",
        [*params, list(front), list(front)],
    ).df()


def handoff_wait_share(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
                       level: str = "department", calendar: WorkCalendar | None = None) -> float | None:
    """Share of all cycle time spent waiting at hand-offs (positive waits before an event whose unit differs
    from the previous one's)."""
    unit = _unit(level)
    ctes, params = steps_sql(con, log_id, flt, calendar, unit)
    return con.execute(
        f"""{ctes}
        SELECT sum(greatest(wait_s, 0)) FILTER (WHERE prev_{unit} <> {unit}) / nullif((SELECT total FROM cycle), 0)
        FROM steps""",
        params,
    ).fetchone()[0]
