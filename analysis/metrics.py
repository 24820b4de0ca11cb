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
    # next_activity/next_ts were computed at import in canonical order; filters keep or drop whole cases.
    rows = con.execute(
        f"""SELECT activity, next_activity, count(*) AS frequency, count(DISTINCT case_id) AS cases,
                  avg(d), quantile_cont(d, 0.5)
           FROM (SELECT activity, next_activity, case_id, (epoch_us(next_ts) - epoch_us(ts)) / 1e6 AS d
                 FROM ({events}) WHERE next_activity IS NOT NULL)
           GROUP BY activity, next_activity ORDER BY frequency DESC, activity, next_activity""",
        params,
    ).fetchall()
    # A case starts with its pos-1 event and ends with the event that has no next one.
    ends = con.execute(
        f"""SELECT activity, count(*) FILTER (WHERE pos = 1), count(*) FILTER (WHERE next_activity IS NULL)
           FROM ({events}) WHERE pos = 1 OR next_activity IS NULL GROUP BY activity ORDER BY activity""",
        params).fetchall()
    starts = {a: int(n) for a, n, _ in sorted(ends, key=lambda r: -r[1]) if n}
    finals = {a: int(n) for a, _, n in sorted(ends, key=lambda r: -r[2]) if n}
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
