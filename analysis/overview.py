"""Overview figures: THE KPIs, the cycle-time distribution, weekly throughput, cycle time by case attribute, and
the case attributes themselves (their names in file order, their values).

- `kpis` is metrics.summary plus the hand-offs of pairs.per_case (the one hand-off rule); the Overview page,
  the report, the findings and the comparison all read their KPIs from it;
- `case_attribute_order` reads the attributes' file order from the log's import mapping (no `rowid`), and
  triage.find_budget_attribute breaks its ties with it too.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from analysis import metrics, pairs
from analysis.filters import AnyFilter, kept_cases
from analysis.sql import query


def kpis(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None) -> dict:
    """Cases, events, activities, variants, median/p90/mean cycle time, hand-offs and departments per case.

    A hand-off is a pair of consecutive events of a case whose department differs (resource when
    the log has no departments); see DESIGN.md and analysis.pairs.
    """
    s = metrics.summary(con, log_id, flt)
    unit = pairs.handoff_unit(con, log_id)
    handoffs = units = None
    if unit:
        per_case = pairs.per_case(log_id, flt, unit)
        handoffs, units = query(f"SELECT avg(handoffs), avg(units) FROM ({per_case.text})", per_case).one(con)
    cycle = s.cycle_time_seconds
    return {
        "cases": s.cases, "events": s.events, "activities": s.activities, "variants": s.variants,
        "median_cycle_seconds": cycle["median"], "p90_cycle_seconds": cycle["p90"], "mean_cycle_seconds": cycle["mean"],
        "handoffs_per_case": handoffs, "departments_per_case": units, "handoff_unit": unit,
    }


def case_count(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None) -> int:
    """How many cases the filter keeps (cheap: no event is read)."""
    cases = kept_cases(log_id, flt)
    return int(query(f"SELECT count(*) FROM ({cases.text})", cases).scalar(con))


def cycle_times(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None) -> pd.DataFrame:
    """One row per kept case: case_id, start, end, cycle_seconds, n_events."""
    cases = kept_cases(log_id, flt)
    return query(f"""SELECT case_id, start_ts, end_ts, cycle_seconds, n_events FROM ({cases.text})
                     ORDER BY cycle_seconds DESC, case_id""", cases).df(con)


def weekly_throughput(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None) -> pd.DataFrame:
    """Cases started and finished per ISO week (Monday): columns week, started, finished."""
    cases = kept_cases(log_id, flt)
    return query(
        f"""WITH c AS ({cases.text}),
           s AS (SELECT date_trunc('week', start_ts) AS week, count(*) AS started FROM c GROUP BY 1),
           f AS (SELECT date_trunc('week', end_ts) AS week, count(*) AS finished FROM c GROUP BY 1)
           SELECT coalesce(s.week, f.week) AS week, coalesce(started, 0) AS started, coalesce(finished, 0) AS finished
           FROM s FULL OUTER JOIN f ON s.week = f.week ORDER BY week""",
        cases).df(con)


def case_attribute_order(con: duckdb.DuckDBPyConnection, log_id: int) -> list[str]:
    """The log's case attribute names in file order, as the import recorded them in the log's mapping."""
    text = query("SELECT mapping FROM logs WHERE log_id = $log_id", log_id=log_id).scalar(con)
    record = json.loads(text or "{}")
    # An XES log's case attributes are stored without the "case:" prefix their source columns carry.
    xes = record.get("kind") == "xes"
    names = [c.removeprefix("case:") if xes else c for c in record.get("case_attributes") or []]
    return list(dict.fromkeys(names))


def in_attribute_order(con: duckdb.DuckDBPyConnection, log_id: int, names) -> list[str]:
    """`names` (case attributes of the log) in file order; any the mapping does not list come last, by name."""
    order = {name: i for i, name in enumerate(case_attribute_order(con, log_id))}
    return sorted(dict.fromkeys(names), key=lambda n: (n not in order, order.get(n, 0), n))


def case_attribute_names(con: duckdb.DuckDBPyConnection, log_id: int, max_values: int = 60) -> list[str]:
    """Case attributes with few enough distinct values to group or filter by (type, region, not budget), in file order."""
    rows = query("""SELECT name FROM case_attributes WHERE log_id = $log_id GROUP BY name
                    HAVING count(DISTINCT value) <= $max_values""", log_id=log_id, max_values=max_values).rows(con)
    return in_attribute_order(con, log_id, [r[0] for r in rows])


def case_attribute_values(con: duckdb.DuckDBPyConnection, log_id: int, name: str) -> list[str]:
    """The distinct values of one case attribute, most frequent first."""
    rows = query("""SELECT value FROM case_attributes WHERE log_id = $log_id AND name = $name
                    GROUP BY value ORDER BY count(*) DESC, value""", log_id=log_id, name=name).rows(con)
    return [r[0] for r in rows]


def cycle_by_attribute(con: duckdb.DuckDBPyConnection, log_id: int, name: str,
                       flt: AnyFilter | None = None) -> pd.DataFrame:
    """Box-plot statistics of cycle time per value of a case attribute (computed in SQL, not per case).

    Columns: value, cases, min, q1, median, q3, p90, max, lower_fence, upper_fence (seconds).
    Fences follow Tukey: the most extreme values within 1.5 IQR of the quartiles.
    """
    cases = kept_cases(log_id, flt)
    return query(
        f"""WITH c AS (SELECT k.cycle_seconds AS s, a.value
                      FROM ({cases.text}) k JOIN case_attributes a
                        ON a.log_id = k.log_id AND a.case_id = k.case_id AND a.name = $name),
           q AS (SELECT value, count(*) AS cases, min(s) AS min, quantile_cont(s, 0.25) AS q1,
                        quantile_cont(s, 0.5) AS median, quantile_cont(s, 0.75) AS q3,
                        quantile_cont(s, 0.9) AS p90, max(s) AS max
                 FROM c GROUP BY value)
           SELECT q.*, (SELECT min(s) FROM c WHERE c.value = q.value AND s >= q.q1 - 1.5 * (q.q3 - q.q1)) AS lower_fence,
                  (SELECT max(s) FROM c WHERE c.value = q.value AND s <= q.q3 + 1.5 * (q.q3 - q.q1)) AS upper_fence
           FROM q ORDER BY median DESC, value""",
        cases, name=name).df(con)


def time_span(con: duckdb.DuckDBPyConnection, log_id: int) -> tuple:
    """(first case start, last case end) of the whole log, for the time-range filter."""
    return query("SELECT min(start_ts), max(end_ts) FROM cases WHERE log_id = $log_id", log_id=log_id).one(con)
