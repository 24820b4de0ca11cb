"""Where cycle time is lost: waiting and processing per activity and per directly-follows edge, ranked by impact.

Definitions (DESIGN.md): processing time of an event = end − start (only where it has a start);
waiting before an event = its start (its timestamp when it has none) − the previous event's end in the
case, negative when the two overlap; the duration of an edge a→b = timestamp(b) − timestamp(a).
Without start timestamps the whole gap between two events counts as waiting before the second: the
log cannot tell waiting from working, and the page says so.

Impact = total waiting an activity (or edge) holds over the kept cases, counting only positive waits
(an overlap is parallel work, not waiting), and its share of all waiting and of the total cycle time.
Medians and p90s are over the raw values.

Every function takes an optional WorkCalendar: durations then count working seconds only, each event's
in its department's calendar, cycle times in the default calendar.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analysis.filters import CaseFilter, kept_cases_sql, kept_events_sql
from analysis.working_time import CALENDARS_CTE, WorkCalendar, calendar_param, w_sql


def _span(con: duckdb.DuckDBPyConnection, log_id: int) -> tuple[dt.date, dt.date]:
    """The first and last day of the log (for the working-time lists)."""
    first, last = con.execute("SELECT min(start_ts), max(end_ts) FROM cases WHERE log_id = ?", [log_id]).fetchone()
    return first.date(), last.date()


def steps_sql(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None,
              calendar: WorkCalendar | None, unit: str | None = None) -> tuple[str, list]:
    """CTEs ending in `steps`: one row per kept event with its predecessor's activity, department and
    resource (prev_*), wait_s, proc_s, trans_s, and `cycle` holding the total cycle time of the kept cases
    (all in calendar or working seconds).

    With `unit` ('department' or 'resource'), events without that value are left out first, so the
    predecessor is the previous event that has one (X, blank, Y is one hand-off X→Y).
    """
    events, params = kept_events_sql(log_id, flt)
    cases, case_params = kept_cases_sql(log_id, flt)
    where = {None: "", "department": "WHERE department IS NOT NULL", "resource": "WHERE resource IS NOT NULL"}[unit]
    base = f"""ev AS (SELECT case_id, activity, department, resource, pos, ts, start_ts,
                          coalesce(start_ts, ts) AS begin_ts,
                          lag(ts) OVER w AS prev_end, lag(activity) OVER w AS prev_activity,
                          lag(department) OVER w AS prev_department, lag(resource) OVER w AS prev_resource
                   FROM ({events}) {where} WINDOW w AS (PARTITION BY case_id ORDER BY pos))"""
    if calendar is None:
        def dur(a: str, b: str) -> str:
            return f"(epoch_us({b}) - epoch_us({a})) / 1e6"
        sql = f"""WITH {base},
            steps AS (SELECT *, {dur('prev_end', 'begin_ts')} AS wait_s,
                             CASE WHEN start_ts IS NULL THEN NULL ELSE {dur('start_ts', 'ts')} END AS proc_s,
                             {dur('prev_end', 'ts')} AS trans_s FROM ev),
            cycle AS (SELECT sum(cycle_seconds) AS total, count(*) AS n FROM ({cases}))"""
        return sql, [*params, *case_params]
    first, last = _span(con, log_id)
    k = ("coalesce(k.c, g.c)", "coalesce(k.base, g.base)", "coalesce(k.s, g.s)", "coalesce(k.l, g.l)")
    gk = ("g.c", "g.base", "g.s", "g.l")

    def wdur(a: str, b: str, cols=k) -> str:
        return f"({w_sql(b, *cols)} - {w_sql(a, *cols)})"
    sql = f"""WITH {CALENDARS_CTE}, {base},
        steps AS (SELECT ev.*, {wdur('prev_end', 'begin_ts')} AS wait_s,
                         CASE WHEN start_ts IS NULL THEN NULL ELSE {wdur('start_ts', 'ts')} END AS proc_s,
                         {wdur('prev_end', 'ts')} AS trans_s
                  FROM ev CROSS JOIN (SELECT * FROM cal WHERE dept IS NULL) g LEFT JOIN cal k ON k.dept = ev.department),
        cycle AS (SELECT sum({wdur('cs.start_ts', 'cs.end_ts', gk)}) AS total, count(*) AS n
                  FROM ({cases}) cs CROSS JOIN (SELECT * FROM cal WHERE dept IS NULL) g)"""
    return sql, [calendar_param(calendar, first, last), *params, *case_params]


def activity_stats(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
                   calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Per activity, most waiting first: activity, department (its most frequent), frequency, cases,
    median/p90 processing and waiting seconds, total_wait_seconds, share_of_waiting, share_of_cycle_time."""
    ctes, params = steps_sql(con, log_id, flt, calendar)
    return con.execute(
        f"""{ctes},
        per AS (SELECT activity, mode(department) AS department, count(*) AS frequency,
                       count(DISTINCT case_id) AS cases,
                       quantile_cont(proc_s, 0.5) AS median_processing_seconds,
                       quantile_cont(proc_s, 0.9) AS p90_processing_seconds,
                       sum(proc_s) AS total_processing_seconds,
                       quantile_cont(wait_s, 0.5) AS median_wait_seconds,
                       quantile_cont(wait_s, 0.9) AS p90_wait_seconds,
                       coalesce(sum(greatest(wait_s, 0)), 0) AS total_wait_seconds
                FROM steps GROUP BY activity)
        SELECT per.*, total_wait_seconds / nullif(sum(total_wait_seconds) OVER (), 0) AS share_of_waiting,
               total_wait_seconds / nullif((SELECT total FROM cycle), 0) AS share_of_cycle_time
        FROM per ORDER BY total_wait_seconds DESC, frequency DESC, activity""",
        params,
    ).df()


def edge_stats(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
               calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Per directly-follows edge, most waiting first: source, target, frequency, cases, median/p90
    transition seconds (timestamp(b) − timestamp(a)), median/p90 waiting seconds (start(b) − end(a)),
    total_wait_seconds, share_of_waiting, share_of_cycle_time."""
    ctes, params = steps_sql(con, log_id, flt, calendar)
    return con.execute(
        f"""{ctes},
        per AS (SELECT prev_activity AS source, activity AS target, count(*) AS frequency,
                       count(DISTINCT case_id) AS cases,
                       quantile_cont(trans_s, 0.5) AS median_transition_seconds,
                       quantile_cont(trans_s, 0.9) AS p90_transition_seconds,
                       quantile_cont(wait_s, 0.5) AS median_wait_seconds,
                       quantile_cont(wait_s, 0.9) AS p90_wait_seconds,
                       sum(greatest(wait_s, 0)) AS total_wait_seconds
                FROM steps WHERE prev_activity IS NOT NULL GROUP BY prev_activity, activity)
        SELECT per.*, total_wait_seconds / nullif(sum(total_wait_seconds) OVER (), 0) AS share_of_waiting,
               total_wait_seconds / nullif((SELECT total FROM cycle), 0) AS share_of_cycle_time
        FROM per ORDER BY total_wait_seconds DESC, frequency DESC, source, target""",
        params,
    ).df()


def monthly_wait(con: duckdb.DuckDBPyConnection, log_id: int, activities: list[str],
                 flt: CaseFilter | None = None, calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Median wait before each of `activities` per calendar month of the event's start: month, activity,
    median_wait_seconds, events."""
    ctes, params = steps_sql(con, log_id, flt, calendar)
    return con.execute(
        f"""{ctes}
        SELECT date_trunc('month', begin_ts) AS month, activity, quantile_cont(wait_s, 0.5) AS median_wait_seconds,
               count(*) AS events
        FROM steps WHERE list_contains(?, activity) AND wait_s IS NOT NULL
        GROUP BY ALL ORDER BY month, activity""",
        [*params, list(activities)],
    ).df()


def wait_by_attribute(con: duckdb.DuckDBPyConnection, log_id: int, attribute: str,
                      flt: CaseFilter | None = None, calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Median wait before each activity per value of a case attribute: value, activity,
    median_wait_seconds, events (the heatmap 'campaign type × step')."""
    ctes, params = steps_sql(con, log_id, flt, calendar)
    return con.execute(
        f"""{ctes}
        SELECT a.value, s.activity, quantile_cont(s.wait_s, 0.5) AS median_wait_seconds, count(*) AS events
        FROM steps s JOIN case_attributes a ON a.log_id = ? AND a.name = ? AND a.case_id = s.case_id
        WHERE s.wait_s IS NOT NULL GROUP BY ALL ORDER BY a.value, s.activity""",
        [*params, log_id, attribute],
    ).df()


def pareto(stats: pd.DataFrame, share: float = 0.6) -> tuple[int, float]:
    """How few activities (ranked by waiting) hold at least `share` of all waiting, and their exact share."""
    running = 0.0
    for n, value in enumerate(stats["share_of_waiting"].fillna(0).tolist(), start=1):
        running += value
        if running >= share - 1e-12:
            return n, running
    return len(stats), running
