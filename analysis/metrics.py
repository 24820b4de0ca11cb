"""Log-level numbers: summary, directly-follows graph and variants, each one SQL query over a log's events."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb

from analysis.filters import CaseFilter, kept_cases_sql, kept_events_sql


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
        return asdict(self)


def summary(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None) -> Summary:
    """Cases, events, distinct activities/variants/resources/departments, cycle time and time span."""
    events, params = kept_events_sql(log_id, flt)
    ev = con.execute(
        f"""SELECT count(*), count(DISTINCT activity), count(DISTINCT resource), count(DISTINCT department),
                  strftime(min(coalesce(start_ts, ts)), '%Y-%m-%dT%H:%M:%S'), strftime(max(ts), '%Y-%m-%dT%H:%M:%S')
           FROM ({events})""",
        params,
    ).fetchone()
    cases, params = kept_cases_sql(log_id, flt)
    cs = con.execute(
        f"""SELECT count(*), count(DISTINCT variant_id), avg(cycle_seconds),
                  quantile_cont(cycle_seconds, 0.5), quantile_cont(cycle_seconds, 0.9)
           FROM ({cases})""",
        params,
    ).fetchone()
    return Summary(
        cases=int(cs[0]), events=int(ev[0]), activities=int(ev[1]), variants=int(cs[1]),
        resources=int(ev[2]), departments=int(ev[3]),
        cycle_time_seconds={"mean": cs[2], "median": cs[3], "p90": cs[4]},
        first_timestamp=ev[4], last_timestamp=ev[5],
    )


@dataclass(frozen=True)
class Edge:
    """One directly-follows edge a -> b."""

    source: str
    target: str
    frequency: int
    cases: int
    mean_seconds: float
    median_seconds: float


@dataclass(frozen=True)
class DFG:
    """The directly-follows graph with start and end activities (counted in cases)."""

    edges: list[Edge]
    start_activities: dict[str, int]
    end_activities: dict[str, int]

    def as_dict(self) -> dict:
        """A JSON-ready record."""
        return {"edges": [asdict(e) for e in self.edges], "start_activities": self.start_activities,
                "end_activities": self.end_activities}


def dfg(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None) -> DFG:
    """Directly-follows edges in canonical event order; duration = timestamp(b) - timestamp(a)."""
    events, params = kept_events_sql(log_id, flt)
    rows = con.execute(
        f"""WITH pairs AS (
               SELECT case_id, activity AS source, ts,
                      lead(activity) OVER w AS target, lead(ts) OVER w AS next_ts
               FROM ({events})
               WINDOW w AS (PARTITION BY case_id ORDER BY pos))
           SELECT source, target, count(*) AS frequency, count(DISTINCT case_id) AS cases,
                  avg((epoch_us(next_ts) - epoch_us(ts)) / 1e6) AS mean_seconds,
                  quantile_cont((epoch_us(next_ts) - epoch_us(ts)) / 1e6, 0.5) AS median_seconds
           FROM pairs WHERE target IS NOT NULL
           GROUP BY source, target ORDER BY frequency DESC, source, target""",
        params,
    ).fetchall()
    starts = dict(con.execute(
        f"SELECT activity, count(*) FROM ({events}) WHERE pos = 1 GROUP BY activity ORDER BY 2 DESC, 1",
        params).fetchall())
    cases, case_params = kept_cases_sql(log_id, flt)
    finals = dict(con.execute(
        f"""SELECT e.activity, count(*) FROM ({events}) e JOIN ({cases}) c ON e.case_id = c.case_id
           WHERE e.pos = c.n_events GROUP BY e.activity ORDER BY 2 DESC, 1""",
        params + case_params).fetchall())
    return DFG([Edge(r[0], r[1], int(r[2]), int(r[3]), float(r[4]), float(r[5])) for r in rows], starts, finals)


@dataclass(frozen=True)
class Variant:
    """One variant: its activity sequence, how many cases follow it, and their cycle times."""

    activities: list[str]
    cases: int
    share: float
    median_seconds: float
    p90_seconds: float


def variants(con: duckdb.DuckDBPyConnection, log_id: int, top: int | None = None,
             flt: CaseFilter | None = None) -> list[Variant]:
    """Variants by number of kept cases (most frequent first), with median and p90 cycle time."""
    cases, params = kept_cases_sql(log_id, flt)
    rows = con.execute(
        f"""SELECT v.activities, count(*) AS n, count(*) / sum(count(*)) OVER (),
                  quantile_cont(c.cycle_seconds, 0.5), quantile_cont(c.cycle_seconds, 0.9)
           FROM ({cases}) c JOIN variants v ON v.log_id = ? AND c.variant_id = v.variant_id
           GROUP BY v.variant_id, v.activities
           ORDER BY n DESC, v.variant_id
           LIMIT ?""",
        [*params, log_id, top if top is not None else 2**62],
    ).fetchall()
    return [Variant(list(r[0]), int(r[1]), float(r[2]), float(r[3]), float(r[4])) for r in rows]
