"""Log-level numbers over a log's kept cases, each one SQL query: THE summary, THE directly-follows graph, THE variants.

- `summary`: cases, events, distinct activities / variants / resources / departments, cycle-time mean, median
  and p90, time span (overview.kpis builds on it);
- `dfg`: the directly-follows graph with start and end activities, on all activities (from the successor
  columns fixed at import) or on the events of chosen activities only (process_map.discover_map draws it);
- `variant_stats`: per variant of the kept cases its cases, share, rank, median and p90 cycle time, the one
  query behind `variants` (pm4py's input, the CLI) and cases.variant_table (the Variants page).
Definitions are DESIGN.md's; tests/test_crosscheck_pm4py.py holds them to pm4py's on real logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from analysis.filters import AnyFilter, kept_cases, kept_events
from analysis.records import plain
from analysis.sql import Query, in_list, query


@dataclass(frozen=True)
class Summary:
    """Headline figures of one log (durations in seconds)."""

    cases: int
    events: int
    activities: int
    variants: int
    resources: int
    departments: int
    cycle_time_seconds: dict
    first_timestamp: str | None
    last_timestamp: str | None

    def as_dict(self) -> dict:
        """A JSON-ready record."""
        return plain(self)


def summary(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None) -> Summary:
    """Cases, events, distinct activities/variants/resources/departments, cycle time and time span."""
    events = kept_events(log_id, flt)
    cases = kept_cases(log_id, flt)
    row = query(
        f"""SELECT * FROM
               (SELECT count(*), count(DISTINCT activity), count(DISTINCT resource), count(DISTINCT department),
                       strftime(min(coalesce(start_ts, ts)), '%Y-%m-%dT%H:%M:%S'),
                       strftime(max(ts), '%Y-%m-%dT%H:%M:%S')
                FROM ({events.text})) ev,
               (SELECT count(*), count(DISTINCT variant_id), avg(cycle_seconds),
                       quantile_cont(cycle_seconds, 0.5), quantile_cont(cycle_seconds, 0.9)
                FROM ({cases.text})) cs""",
        events, cases).one(con)
    n_events, activities, resources, departments, first, last, n_cases, variants, mean, median, p90 = row
    return Summary(
        cases=int(n_cases), events=int(n_events), activities=int(activities), variants=int(variants),
        resources=int(resources), departments=int(departments),
        cycle_time_seconds={"mean": mean, "median": median, "p90": p90},
        first_timestamp=first, last_timestamp=last,
    )


@dataclass(frozen=True)
class Edge:
    """One directly-follows edge a -> b (durations timestamp(b) − timestamp(a), in seconds)."""

    source: str
    target: str
    frequency: int
    cases: int
    mean_seconds: float
    median_seconds: float
    # Left out of equality and of as_dict: records compare, and the CLI prints, the pm4py-checked figures.
    p90_seconds: float | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DFG:
    """The directly-follows graph with start and end activities (counted in cases)."""

    edges: list[Edge]
    start_activities: dict[str, int]
    end_activities: dict[str, int]

    def as_dict(self) -> dict:
        """A JSON-ready record (edges without their p90, as the CLI's `dfg --json` has always printed them)."""
        edges = [{k: v for k, v in plain(e).items() if k != "p90_seconds"} for e in self.edges]
        return plain({"edges": edges, "start_activities": self.start_activities,
                      "end_activities": self.end_activities})


def successions(log_id: int, flt: AnyFilter | None, activities: list[str] | None = None) -> Query:
    """A query: every kept event (of `activities` only, when given) beside its successor in the case.

    Columns: case_id, activity, next_activity, d (seconds from the event to its successor), is_first, is_last.
    """
    events = kept_events(log_id, flt)
    if activities is None:
        # next_activity/next_ts were computed at import in canonical order; filters keep or drop whole cases.
        return query(
            f"""SELECT case_id, activity, next_activity, (epoch_us(next_ts) - epoch_us(ts)) / 1e6 AS d,
                       pos = 1 AS is_first, next_activity IS NULL AS is_last
                FROM ({events.text})""", events)
    # Hidden activities are left out before the pairs are drawn, so A→(hidden X)→B becomes A→B.
    listed, names = in_list("activity", list(activities)) if activities else ("(NULL)", {})
    return query(
        f"""SELECT case_id, activity, lead(activity) OVER w AS next_activity,
                   (epoch_us(lead(ts) OVER w) - epoch_us(ts)) / 1e6 AS d,
                   row_number() OVER w = 1 AS is_first, lead(activity) OVER w IS NULL AS is_last
            FROM ({events.text}) WHERE activity IN {listed}
            WINDOW w AS (PARTITION BY case_id ORDER BY pos)""", events, **names)


def dfg(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
        activities: list[str] | None = None) -> DFG:
    """THE directly-follows graph: edges (most frequent first) with mean/median/p90 duration, start and end activities.

    With `activities`, the graph of the events of those activities only (hidden ones are skipped over).
    """
    ev = successions(log_id, flt, activities)
    # One query: the edges and both ends (a start row has no source, an end row no target).
    rows = query(
        f"""WITH ev AS ({ev.text}),
            edges AS (SELECT activity AS source, next_activity AS target, count(*) AS frequency,
                             count(DISTINCT case_id) AS cases, avg(d) AS mean_s, quantile_cont(d, 0.5) AS median_s,
                             quantile_cont(d, 0.9) AS p90_s
                      FROM ev WHERE next_activity IS NOT NULL GROUP BY activity, next_activity),
            ends AS (SELECT activity, count(*) FILTER (WHERE is_first) AS starts,
                            count(*) FILTER (WHERE is_last) AS finals
                     FROM ev WHERE is_first OR is_last GROUP BY activity)
            SELECT 'edge' AS kind, * FROM edges
            UNION ALL SELECT 'start', NULL, activity, starts, starts, NULL, NULL, NULL FROM ends WHERE starts > 0
            UNION ALL SELECT 'end', activity, NULL, finals, finals, NULL, NULL, NULL FROM ends WHERE finals > 0
            ORDER BY frequency DESC, source, target""", ev).rows(con)
    edges = [Edge(a, b, int(n), int(c), float(mean), float(median), float(p90))
             for kind, a, b, n, c, mean, median, p90 in rows if kind == "edge"]
    starts = {b: int(n) for kind, _, b, n, *_ in rows if kind == "start"}
    finals = {a: int(n) for kind, a, _, n, *_ in rows if kind == "end"}
    return DFG(edges, starts, finals)


@dataclass(frozen=True)
class Variant:
    """One variant: its activity sequence, how many cases follow it, and their cycle times."""

    activities: list[str]
    cases: int
    share: float
    median_seconds: float
    p90_seconds: float


def variant_stats(log_id: int, flt: AnyFilter | None = None) -> Query:
    """A query: the statistics of every variant of the kept cases, in rank order.

    Columns: variant_id, cases, share (of the kept cases), rank (1 = most cases; ties: the lower variant id),
    median_seconds and p90_seconds (cycle time).
    """
    cases = kept_cases(log_id, flt)
    return query(
        f"""SELECT variant_id, cases, share, row_number() OVER (ORDER BY cases DESC, variant_id) AS rank,
                   median_seconds, p90_seconds
            FROM (SELECT variant_id, count(*) AS cases, count(*) / sum(count(*)) OVER () AS share,
                         quantile_cont(cycle_seconds, 0.5) AS median_seconds,
                         quantile_cont(cycle_seconds, 0.9) AS p90_seconds
                  FROM ({cases.text}) GROUP BY variant_id)
            ORDER BY rank""", cases)


def variants(con: duckdb.DuckDBPyConnection, log_id: int, top: int | None = None,
             flt: AnyFilter | None = None) -> list[Variant]:
    """Variants by number of kept cases (most frequent first), with median and p90 cycle time."""
    stats = variant_stats(log_id, flt)
    limit = " LIMIT $top" if top is not None else ""
    rows = query(
        f"""SELECT v.activities, s.cases, s.share, s.median_seconds, s.p90_seconds
            FROM ({stats.text}) s JOIN variants v ON v.log_id = $log_id AND v.variant_id = s.variant_id
            ORDER BY s.rank{limit}""",
        stats, log_id=log_id, **({"top": top} if top is not None else {})).rows(con)
    return [Variant(list(r[0]), int(r[1]), float(r[2]), float(r[3]), float(r[4])) for r in rows]
