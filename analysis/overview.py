"""Overview figures: KPIs, cycle-time distribution, weekly throughput, cycle time by case attribute."""

from __future__ import annotations

import duckdb
import pandas as pd

from analysis.filters import CaseFilter, kept_cases_sql, kept_events_sql


def kpis(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None) -> dict:
    """Cases, events, activities, variants, median/p90 cycle time, hand-offs and departments per case.

    A hand-off is a pair of consecutive events of a case whose department differs (resource when
    the log has no departments); see DESIGN.md.
    """
    events, params = kept_events_sql(log_id, flt)
    cases, case_params = kept_cases_sql(log_id, flt)
    # The unit is the log's, not the filtered subset's, so a filter never switches it silently.
    has_dept, has_res = con.execute(
        "SELECT count(department) > 0, count(resource) > 0 FROM events WHERE log_id = ?", [log_id]).fetchone()
    unit = "department" if has_dept else "resource" if has_res else None
    who = unit or "NULL::VARCHAR"
    row = con.execute(
        f"""WITH ev AS ({events}),
           -- An event without a department is skipped, not a break: X, (blank), Y is one hand-off.
           steps AS (SELECT case_id, {who} AS who,
                            lag({who} IGNORE NULLS) OVER (PARTITION BY case_id ORDER BY pos) AS prev
                     FROM ev),
           per_case AS (
               SELECT case_id, count(*) FILTER (WHERE prev IS NOT NULL AND who IS NOT NULL AND who <> prev) AS handoffs,
                      count(DISTINCT who) AS units
               FROM steps GROUP BY case_id)
           SELECT (SELECT count(*) FROM ev), (SELECT count(DISTINCT activity) FROM ev), avg(handoffs), avg(units)
           FROM per_case""",
        params,
    ).fetchone()
    cs = con.execute(
        f"""SELECT count(*), count(DISTINCT variant_id), quantile_cont(cycle_seconds, 0.5),
                  quantile_cont(cycle_seconds, 0.9), avg(cycle_seconds)
           FROM ({cases})""",
        case_params,
    ).fetchone()
    return {
        "cases": int(cs[0]), "events": int(row[0] or 0), "activities": int(row[1] or 0), "variants": int(cs[1]),
        "median_cycle_seconds": cs[2], "p90_cycle_seconds": cs[3], "mean_cycle_seconds": cs[4],
        "handoffs_per_case": row[2] if unit else None, "departments_per_case": row[3] if unit else None,
        "handoff_unit": unit,
    }


def case_count(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None) -> int:
    """How many cases the filter keeps (cheap: no event is read)."""
    cases, params = kept_cases_sql(log_id, flt)
    return int(con.execute(f"SELECT count(*) FROM ({cases})", params).fetchone()[0])


def cycle_times(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None) -> pd.DataFrame:
    """One row per kept case: case_id, start, end, cycle_seconds, n_events."""
    cases, params = kept_cases_sql(log_id, flt)
    return con.execute(
        f"SELECT case_id, start_ts, end_ts, cycle_seconds, n_events FROM ({cases}) ORDER BY cycle_seconds DESC, case_id",
        params,
    ).fetchdf()


def weekly_throughput(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None) -> pd.DataFrame:
    """Cases started and finished per ISO week (Monday): columns week, started, finished."""
    cases, params = kept_cases_sql(log_id, flt)
    return con.execute(
        f"""WITH c AS ({cases}),
           s AS (SELECT date_trunc('week', start_ts) AS week, count(*) AS started FROM c GROUP BY 1),
           f AS (SELECT date_trunc('week', end_ts) AS week, count(*) AS finished FROM c GROUP BY 1)
           SELECT coalesce(s.week, f.week) AS week, coalesce(started, 0) AS started, coalesce(finished, 0) AS finished
           FROM s FULL OUTER JOIN f ON s.week = f.week ORDER BY week""",
        params,
    ).fetchdf()


def case_attribute_names(con: duckdb.DuckDBPyConnection, log_id: int, max_values: int = 60) -> list[str]:
    """Case attributes with few enough distinct values to group or filter by (type, region, not budget)."""
    rows = con.execute(
        """SELECT name FROM case_attributes WHERE log_id = ? GROUP BY name
           HAVING count(DISTINCT value) <= ? ORDER BY min(rowid)""",
        [log_id, max_values],
    ).fetchall()
    return [r[0] for r in rows]


def case_attribute_values(con: duckdb.DuckDBPyConnection, log_id: int, name: str) -> list[str]:
    """The distinct values of one case attribute, most frequent first."""
    rows = con.execute(
        "SELECT value FROM case_attributes WHERE log_id = ? AND name = ? GROUP BY value ORDER BY count(*) DESC, value",
        [log_id, name],
    ).fetchall()
    return [r[0] for r in rows]


def cycle_by_attribute(con: duckdb.DuckDBPyConnection, log_id: int, name: str,
                       flt: CaseFilter | None = None) -> pd.DataFrame:
    """Box-plot statistics of cycle time per value of a case attribute (computed in SQL, not per case).

    Columns: value, cases, min, q1, median, q3, p90, max, lower_fence, upper_fence (seconds).
    Fences follow Tukey: the most extreme values within 1.5 IQR of the quartiles.
    """
    cases, params = kept_cases_sql(log_id, flt)
    return con.execute(
        f"""WITH c AS (SELECT k.cycle_seconds AS s, a.value
                      FROM ({cases}) k JOIN case_attributes a
                        ON a.log_id = k.log_id AND a.case_id = k.case_id AND a.name = ?),
           q AS (SELECT value, count(*) AS cases, min(s) AS min, quantile_cont(s, 0.25) AS q1,
                        quantile_cont(s, 0.5) AS median, quantile_cont(s, 0.75) AS q3,
                        quantile_cont(s, 0.9) AS p90, max(s) AS max
                 FROM c GROUP BY value)
           SELECT q.*, (SELECT min(s) FROM c WHERE c.value = q.value AND s >= q.q1 - 1.5 * (q.q3 - q.q1)) AS lower_fence,
                  (SELECT max(s) FROM c WHERE c.value = q.value AND s <= q.q3 + 1.5 * (q.q3 - q.q1)) AS upper_fence
           FROM q ORDER BY median DESC""",
        [*params, name],
    ).fetchdf()


def time_span(con: duckdb.DuckDBPyConnection, log_id: int) -> tuple:
    """(first case start, last case end) of the whole log, for the time-range filter."""
    return con.execute("SELECT min(start_ts), max(end_ts) FROM cases WHERE log_id = ?", [log_id]).fetchone()
