"""Log-level numbers: summary, directly-follows graph and variants, each one SQL query over a log's events."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb


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


def summary(con: duckdb.DuckDBPyConnection, log_id: int) -> Summary:
    """Cases, events, distinct activities/variants/resources/departments, cycle time and time span."""
    ev = con.execute(
        """SELECT count(*), count(DISTINCT activity), count(DISTINCT resource), count(DISTINCT department),
                  strftime(min(coalesce(start_ts, ts)), '%Y-%m-%dT%H:%M:%S'), strftime(max(ts), '%Y-%m-%dT%H:%M:%S')
           FROM events WHERE log_id = ?""",
        [log_id],
    ).fetchone()
    cs = con.execute(
        """SELECT count(*), count(DISTINCT variant_id), avg(cycle_seconds),
                  quantile_cont(cycle_seconds, 0.5), quantile_cont(cycle_seconds, 0.9)
           FROM cases WHERE log_id = ?""",
        [log_id],
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


def dfg(con: duckdb.DuckDBPyConnection, log_id: int) -> DFG:
    """Directly-follows edges in canonical event order; duration = timestamp(b) - timestamp(a)."""
    rows = con.execute(
        """WITH pairs AS (
               SELECT case_id, activity AS source, ts,
                      lead(activity) OVER w AS target, lead(ts) OVER w AS next_ts
               FROM events WHERE log_id = ?
               WINDOW w AS (PARTITION BY case_id ORDER BY pos))
           SELECT source, target, count(*) AS frequency, count(DISTINCT case_id) AS cases,
                  avg((epoch_us(next_ts) - epoch_us(ts)) / 1e6) AS mean_seconds,
                  quantile_cont((epoch_us(next_ts) - epoch_us(ts)) / 1e6, 0.5) AS median_seconds
           FROM pairs WHERE target IS NOT NULL
           GROUP BY source, target ORDER BY frequency DESC, source, target""",
        [log_id],
    ).fetchall()
    starts = dict(con.execute(
        "SELECT activity, count(*) FROM events WHERE log_id = ? AND pos = 1 GROUP BY activity ORDER BY 2 DESC, 1",
        [log_id]).fetchall())
    finals = dict(con.execute(
        """SELECT e.activity, count(*) FROM events e JOIN cases c ON e.log_id = c.log_id AND e.case_id = c.case_id
           WHERE e.log_id = ? AND e.pos = c.n_events GROUP BY e.activity ORDER BY 2 DESC, 1""",
        [log_id]).fetchall())
    return DFG([Edge(r[0], r[1], int(r[2]), int(r[3]), float(r[4]), float(r[5])) for r in rows], starts, finals)


@dataclass(frozen=True)
class Variant:
    """One variant: its activity sequence, how many cases follow it, and their cycle times."""

    activities: list[str]
    cases: int
    share: float
    median_seconds: float
    p90_seconds: float


def variants(con: duckdb.DuckDBPyConnection, log_id: int, top: int | None = None) -> list[Variant]:
    """Variants by number of cases (most frequent first), with median and p90 cycle time."""
    rows = con.execute(
        """SELECT v.activities, v.n_cases, v.n_cases / sum(v.n_cases) OVER (),
                  quantile_cont(c.cycle_seconds, 0.5), quantile_cont(c.cycle_seconds, 0.9)
           FROM variants v JOIN cases c ON c.log_id = v.log_id AND c.variant_id = v.variant_id
           WHERE v.log_id = ?
           GROUP BY v.variant_id, v.activities, v.n_cases
           ORDER BY v.n_cases DESC, v.variant_id
           LIMIT ?""",
        [log_id, top if top is not None else 2**62],
    ).fetchall()
    return [Variant(list(r[0]), int(r[1]), float(r[2]), float(r[3]), float(r[4])) for r in rows]
