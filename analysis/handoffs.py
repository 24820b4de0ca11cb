"""Hand-offs between departments (or resources): the matrix, ping-pong, their cost, whom the front line waits on.

Definitions (DESIGN.md): a hand-off is a pair of consecutive events of a case whose department (or
resource) differs; events without one are skipped, so X, (blank), Y is one hand-off X→Y. Its wait is
the start of the second event − the end of the first. Ping-pong: three consecutive events X, Y, X with
X ≠ Y, after consecutive events of one unit are merged into one block (X, Y, Y, X is a ping-pong);
it is counted per unordered pair {X, Y}.

What lives where: the pairs, the hand-off flag and the per-case counts come from `pairs` (`steps`,
`per_case`: the one hand-off rule); this module aggregates them. `diagnose` is the bundle the CLI, the
Hand-offs page and the report share (`Handoffs`, with `as_dict` = `handoffs --json`); the findings in
words are `diagnosis.handoff_findings`; `front_line_default` is the front line the page and the report start from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analysis import pairs
from analysis.filters import AnyFilter, kept_cases
from analysis.pairs import checked_unit
from analysis.records import plain
from analysis.sql import in_list, query
from analysis.working_time import WorkCalendar

LEVELS = pairs.UNITS   # the levels a hand-off can be counted at (the page's choice)
# The departments that serve customers, by name (the sample's regional branches): the default front line.
FRONT_WORDS = ("分公司", "branch", "门店", "store", "区域")


@dataclass(frozen=True)
class Handoffs:
    """The Hand-offs diagnosis of the kept cases at one level (department or resource).

    matrix, pingpong: handoff_matrix, pingpong; cost: handoff_cost's dict; wait_share: handoff_wait_share;
    front_line: front_line_waits of the `front` departments (None when none were named)."""

    level: str
    matrix: pd.DataFrame
    pingpong: pd.DataFrame
    cost: dict
    wait_share: float | None
    front: tuple[str, ...] = ()
    front_line: pd.DataFrame | None = None

    def as_dict(self) -> dict:
        """What `handoffs --json` prints (strict: a missing number is None)."""
        data = {"level": self.level, "matrix": self.matrix, "pingpong": self.pingpong,
                "per_case": {"seconds_per_handoff": self.cost["seconds_per_handoff"],
                             "low_seconds": self.cost["low"], "high_seconds": self.cost["high"],
                             "cases": self.cost["cases"], "median_cycle_by_handoffs": self.cost["by_handoffs"],
                             "share_of_cycle_time_waiting_at_handoffs": self.wait_share}}
        if self.front_line is not None:
            data["front_line"] = self.front_line
        return plain(data)


def diagnose(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
             level: str | None = "department", calendar: WorkCalendar | None = None,
             front: Sequence[str] = ()) -> Handoffs:
    """The Hand-offs diagnosis at `level` (None: the log's own unit), with who the `front` departments wait on.

    Waits are in working time with a calendar; ping-pong and the cost use calendar cycle times, as the page."""
    level = checked_unit(level or pairs.handoff_unit(con, log_id) or "department")
    front = tuple(front)
    return Handoffs(
        level=level, matrix=handoff_matrix(con, log_id, flt, level, calendar),
        pingpong=pingpong(con, log_id, flt, level), cost=handoff_cost_of(con, log_id, flt, level),
        wait_share=handoff_wait_share(con, log_id, flt, level, calendar), front=front,
        front_line=front_line_waits(con, log_id, list(front), flt, calendar) if front else None)


def front_line_default(departments: Sequence[str]) -> list[str]:
    """The default front line: the departments whose name says branch, store or region (FRONT_WORDS)."""
    return [d for d in departments if any(w in d.lower() for w in FRONT_WORDS)]


def handoff_matrix(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
                   level: str = "department", calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Hand-offs from → to, most frequent first: count, cases, median/p90 and total wait seconds.

    Only positive waits add to the total (an overlap is parallel work)."""
    ctes = pairs.steps(con, log_id, flt, calendar, checked_unit(level))
    return query(
        f"""{ctes.text}
        SELECT prev_who AS "from", who AS "to", count(*) AS count, count(DISTINCT case_id) AS cases,
               quantile_cont(wait_s, 0.5) AS median_wait_seconds, quantile_cont(wait_s, 0.9) AS p90_wait_seconds,
               sum(greatest(wait_s, 0)) AS total_wait_seconds
        FROM steps WHERE handoff
        GROUP BY ALL ORDER BY count DESC, "from", "to" """,
        ctes).df(con)


def handoffs_per_case(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
                      level: str = "department") -> pd.DataFrame:
    """Per kept case: case_id, handoffs, cycle_seconds (cases without any unit value have 0 hand-offs)."""
    per_case = pairs.per_case(log_id, flt, checked_unit(level))
    return query(f"SELECT case_id, handoffs, cycle_seconds FROM ({per_case.text}) ORDER BY case_id",
                 per_case).df(con)


def _theil_sen(x: np.ndarray, y: np.ndarray) -> float:
    """Median of pairwise slopes, computed on the distinct x values (exact for integer hand-off counts, and fast).

    Each pair of groups (x_i, median y) is weighted by the product of their sizes."""
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
    """What one extra hand-off costs in cycle time: a robust slope with a 90 % interval, and medians by count.

    Keys: seconds_per_handoff (Theil–Sen style), low and high (bootstrap over cases), cases, by_handoffs
    (handoffs, median_cycle_seconds, cases). Each resample draws min(n, `subsample`) cases: above that size the interval is that of a 10,000-case
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


def handoff_cost_of(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
                    level: str = "department") -> dict:
    """handoff_cost over the kept cases of a log (one call the pages can cache)."""
    return handoff_cost(handoffs_per_case(con, log_id, flt, level))


def pingpong(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
             level: str = "department", top: int = 50) -> pd.DataFrame:
    """X→Y→X per unordered pair, the `top` most frequent first, and what it adds to the median cycle time.

    Columns: pair_a, pair_b (a < b), occurrences, cases, median_cycle_with_seconds (cases with it),
    median_cycle_without_seconds (the kept cases without it), extra_cycle_seconds (the difference)."""
    ctes = pairs.steps(con, log_id, flt, None, checked_unit(level))
    cases = kept_cases(log_id, flt)
    return query(
        f"""{ctes.text},
        -- Runs of one unit collapse to one block first: X, Y, Y, X is a ping-pong too.
        blocks AS (SELECT case_id, pos, who AS u FROM steps WHERE prev_who IS NULL OR prev_who <> who),
        triples AS (SELECT case_id, u AS z, lag(u) OVER w AS y, lag(u, 2) OVER w AS x
                    FROM blocks WINDOW w AS (PARTITION BY case_id ORDER BY pos)),
        hits AS (SELECT case_id, least(x, y) AS pair_a, greatest(x, y) AS pair_b FROM triples
                 WHERE x = z AND x <> y),
        kept AS ({cases.text}),
        per AS (SELECT pair_a, pair_b, count(*) AS occurrences, count(DISTINCT case_id) AS cases FROM hits
                GROUP BY ALL ORDER BY occurrences DESC, pair_a, pair_b LIMIT $top),
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
        ctes, cases, top=int(top)).df(con)


def front_line_waits(con: duckdb.DuckDBPyConnection, log_id: int, front: list[str],
                     flt: AnyFilter | None = None, calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Who the front line waits on: the time each back-office department holds a case after the front line.

    Held = the wait before its events plus their processing, once the case has been at a front-line department.
    Per back-office department, most time first: department, cases, events, median_wait_seconds (before
    picking work up), median/p90 held seconds per case, total_held_seconds, share_of_front_line_wait.
    """
    ctes = pairs.steps(con, log_id, flt, calendar, "department")
    listed, names = in_list("front", list(front))
    is_front = f"department IN {listed}" if front else "false"   # `IN ()` is not SQL
    return query(
        f"""{ctes.text},
        marked AS (SELECT *, {is_front} AS is_front,
                          bool_or({is_front}) OVER (PARTITION BY case_id ORDER BY pos
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
        ctes, **names).df(con)


def handoff_wait_share(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
                       level: str = "department", calendar: WorkCalendar | None = None) -> float | None:
    """Share of all cycle time spent waiting at hand-offs (positive waits before an event of another unit)."""
    ctes = pairs.steps(con, log_id, flt, calendar, checked_unit(level))
    return query(
        f"""{ctes.text}
        SELECT sum(greatest(wait_s, 0)) FILTER (WHERE handoff) / nullif((SELECT total FROM cycle), 0)
        FROM steps""",
        ctes).scalar(con)
