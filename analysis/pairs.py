"""Event pairs: every event beside its predecessor in the case — the one home of waits, hand-offs and their unit.

Definitions (DESIGN.md):
- the predecessor of an event is the previous event of its case in canonical order (`pos`, fixed at import);
- waiting before an event = its start (its timestamp when it has none) − the predecessor's end (`wait_s`,
  negative when the two overlap); processing = end − start (`proc_s`, NULL without a start); the
  transition a→b = timestamp(b) − timestamp(a) (`trans_s`);
- a **hand-off** is a pair of consecutive events whose unit differs. The unit is the department, or the
  resource when the log has no departments at all (`handoff_unit`: the log's, never a filtered subset's,
  so a filter cannot switch it). Events without a unit value are skipped first, so X, (blank), Y is one
  hand-off X → Y, and its wait runs from X's end.

Every page, the CLI and the report count waits and hand-offs through `steps` and `handoff_counts`.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from analysis.filters import AnyFilter, kept_cases, kept_events
from analysis.sql import Query, query
from analysis.working_time import WorkCalendar, calendars, w_sql

UNITS = ("department", "resource")

# The hand-off test on a row of `steps` (or of `handoff_counts`' inner rows): the unit changed.
HANDOFF = "prev_who IS NOT NULL AND who IS NOT NULL AND prev_who <> who"


def checked_unit(unit: str) -> str:
    """`unit` when it is an events column a hand-off can be counted in (it goes into SQL as an identifier)."""
    if unit not in UNITS:
        raise ValueError(f"level must be one of {', '.join(UNITS)}")
    return unit


def handoff_unit(con: duckdb.DuckDBPyConnection, log_id: int) -> str | None:
    """'department' when the log has departments, else 'resource' when it has resources, else None."""
    has_dept, has_res = con.execute(
        "SELECT count(department) > 0, count(resource) > 0 FROM events WHERE log_id = $log_id",
        {"log_id": log_id}).fetchone()
    return "department" if has_dept else "resource" if has_res else None


def log_span(con: duckdb.DuckDBPyConnection, log_id: int) -> tuple[dt.date, dt.date]:
    """The first and last day of the log (the range the working-time lists cover)."""
    first, last = con.execute("SELECT min(start_ts), max(end_ts) FROM cases WHERE log_id = $log_id",
                              {"log_id": log_id}).fetchone()
    return first.date(), last.date()


def _seconds(a: str, b: str) -> str:
    """SQL for b − a in seconds (calendar time)."""
    return f"(epoch_us({b}) - epoch_us({a})) / 1e6"


def steps(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None,
          calendar: WorkCalendar | None = None, unit: str | None = None) -> Query:
    """CTEs (`WITH …`) ending in `steps`: one row per kept event with its predecessor's activity,
    department and resource (prev_*), begin_ts, wait_s, proc_s, trans_s, who / prev_who (the unit's value)
    and `handoff`; and `cycle` holding the total cycle time (total) and count (n) of the kept cases.
    Durations are in calendar seconds, or working seconds of the event's department with a calendar
    (cycle times in the default calendar).

    With `unit` ('department' or 'resource'), events without that value are left out first, so the
    predecessor is the previous event that has one.
    """
    events = kept_events(log_id, flt)
    cases = kept_cases(log_id, flt)
    who = checked_unit(unit) if unit else "NULL::VARCHAR"
    where = f"WHERE {unit} IS NOT NULL" if unit else ""
    base = f"""ev AS (SELECT case_id, activity, department, resource, pos, ts, start_ts,
                          coalesce(start_ts, ts) AS begin_ts, {who} AS who,
                          lag(ts) OVER w AS prev_end, lag(activity) OVER w AS prev_activity,
                          lag(department) OVER w AS prev_department, lag(resource) OVER w AS prev_resource,
                          lag({who}) OVER w AS prev_who
                   FROM ({events.text}) {where} WINDOW w AS (PARTITION BY case_id ORDER BY pos))"""
    if calendar is None:
        text = f"""WITH {base},
            steps AS (SELECT *, {_seconds('prev_end', 'begin_ts')} AS wait_s,
                             CASE WHEN start_ts IS NULL THEN NULL ELSE {_seconds('start_ts', 'ts')} END AS proc_s,
                             {_seconds('prev_end', 'ts')} AS trans_s, {HANDOFF} AS handoff FROM ev),
            cycle AS (SELECT sum(cycle_seconds) AS total, count(*) AS n FROM ({cases.text}))"""
        return query(text, events, cases)
    cal = calendars(calendar, *log_span(con, log_id))
    own = ("coalesce(k.c, g.c)", "coalesce(k.base, g.base)", "coalesce(k.s, g.s)", "coalesce(k.l, g.l)")
    default = ("g.c", "g.base", "g.s", "g.l")

    def working(a: str, b: str, cols=own) -> str:
        return f"({w_sql(b, *cols)} - {w_sql(a, *cols)})"

    text = f"""WITH {cal.text}, {base},
        steps AS (SELECT ev.*, {working('prev_end', 'begin_ts')} AS wait_s,
                         CASE WHEN start_ts IS NULL THEN NULL ELSE {working('start_ts', 'ts')} END AS proc_s,
                         {working('prev_end', 'ts')} AS trans_s, {HANDOFF} AS handoff
                  FROM ev CROSS JOIN (SELECT * FROM cal WHERE dept IS NULL) g LEFT JOIN cal k ON k.dept = ev.department),
        cycle AS (SELECT sum({working('cs.start_ts', 'cs.end_ts', default)}) AS total, count(*) AS n
                  FROM ({cases.text}) cs CROSS JOIN (SELECT * FROM cal WHERE dept IS NULL) g)"""
    return query(text, cal, events, cases)


def handoff_counts(relation: str, unit_column: str) -> str:
    """SQL over `relation` (columns case_id, pos and `unit_column`): per case with a unit value, its hand-offs
    and the number of distinct units (departments or people) it touched. The one counting rule, also used
    on the redesign's transformed events."""
    return f"""SELECT case_id, count(*) FILTER (WHERE {HANDOFF}) AS handoffs, count(DISTINCT who) AS units
               FROM (SELECT case_id, {unit_column} AS who,
                            lag({unit_column}) OVER (PARTITION BY case_id ORDER BY pos) AS prev_who
                     FROM {relation} WHERE {unit_column} IS NOT NULL)
               GROUP BY case_id"""


def per_case(log_id: int, flt: AnyFilter | None, unit: str | None) -> Query:
    """One row per kept case, by case id: case_id, handoffs, units, cycle_seconds (0 hand-offs and 0 units
    for a case without any unit value, and for every case when `unit` is None)."""
    events = kept_events(log_id, flt)
    cases = kept_cases(log_id, flt)
    counts = handoff_counts("ev", checked_unit(unit)) if unit else \
        "SELECT NULL::VARCHAR AS case_id, 0 AS handoffs, 0 AS units WHERE false"
    return query(
        f"""WITH ev AS ({events.text}), counts AS ({counts})
            SELECT c.case_id, coalesce(n.handoffs, 0) AS handoffs, coalesce(n.units, 0) AS units, c.cycle_seconds
            FROM ({cases.text}) c LEFT JOIN counts n USING (case_id) ORDER BY c.case_id""",
        events, cases)
