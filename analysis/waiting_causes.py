"""Why it waits: the wait before every event split into batching, prioritisation, contention, unavailability
and extraneous time (Lashkevich, Milani, Chapela-Campa, Suvorau, Dumas, CAiSE 2023, "Why am I waiting?").

The waiting interval of an event e is [enabled, start): enabled = the end of the previous event of its case
(canonical order `pos`, `pairs.steps`), start = e's start. Only events with a start timestamp and a
resource are split; the first event of a case has no wait; a negative wait is an overlap (parallel work)
and has no causes. The resource's other work comes from the WHOLE log (all cases, never only the kept
ones): a filter chooses which waits are added up, not how busy a person was, so an event's split is the
same under every filter. Every instant of [enabled, start) gets exactly one cause, in this precedence:

1. **batching** — e belongs to a batch of its resource and the batch had not started. A *run* is a
   maximal sequence of consecutive instances in the resource's start order (start, end, case, pos) with
   the same activity, each starting at most `batch_gap` seconds after the previous one ended (or while it
   was still running). A run is a *batch* when, besides its first instance, at least one more was ready
   when the first started (ready = enabled, or the instance's own start if earlier or unknown): the
   resource collected them and worked them off together or one after another. Batching = [enabled, batch
   start) ∩ the wait (zero for an instance enabled after its batch began). The paper counts only the time
   until the batch is complete (its last instance enabled); here the whole time until the batch starts is
   batching, because that is what a batching policy costs and what "approve daily" removes.
2. **contention** — the resource was busy (any of its other instances running) before its *first queue
   jump*. Let J = the first start of an instance of the same resource enabled AFTER e (enabled strictly
   later; the same instant counts as before), and K = the later of J and the end of everything the
   resource had started before J. Busy time in [batch end, K) is contention: before J every running
   instance was enabled no later than e, and [J, K) is covered by such instances.
3. **prioritisation** — busy time from K on: the resource has passed over e for newer work and finished
   what it held before. Where the resource afterwards works on older instances again (it interleaves old
   and new work), that time still counts as prioritisation. The paper's instant-by-instant rule (contention
   while any earlier-enabled instance runs) needs every pair of instances; this rule is exact for FIFO
   queues, LIFO queues and multitasking on long instances, needs only ordered passes over the log, and
   moved about 1 % of all waiting between contention and prioritisation on samples of the BPIC 2017 and
   production logs.
4. **unavailability** — the resource was idle and off duty. Duty hours: with a WorkCalendar, the calendar
   of the resource's department (the department its events carry most often, ties → first by name; days,
   office hours and holidays); without one, the resource's own observed hours (`observed_hours`).
5. **extraneous** — idle and on duty: the resource was free yet did not start (waiting for the requester,
   a supplier, a signature outside the log).

So for multitasking (several instances running at once) "busy" means at least one other instance runs;
busy time during off hours is contention or prioritisation, never unavailability. Events without a start
timestamp are never "busy" (their work has no interval). All interval arithmetic is in integer
microseconds, so the five parts are each ≥ 0 and add up exactly to the wait (`pairs.steps`' wait_s) in
calendar time. The same split in working time (`*_working_seconds`: each part's on-duty seconds, so
unavailability is 0 there) adds up to the wait's on-duty part, the working-time wait Bottlenecks shows
when the event's department calendar is its resource's.

How it runs: one DuckDB query, no pairs of events. Three ordered window passes over the whole log: the
instances in each resource's start order (runs; the end of everything started before each instance), the
same order with every enablement merged in (running busy time B(t) and its on-duty part BW(t), read only
as differences within one resource), and the instances in order of enablement (the first-started one
enabled after e, for J and K). Each pass is ONE window ordered by (resource number, time) without
PARTITION BY: a running max or min over `(rid << shift) + value` restarts at each resource by itself, and
DuckDB stays on its single-sort path. Duty hours enter through a per-resource table of days (W(t), the
working microseconds since the calendar's first day, as in working_time.w_sql), joined before any window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from analysis import pairs
from analysis.errors import UserError
from analysis.filters import AnyFilter, case_ids
from analysis.formatting import MINUTE
from analysis.records import plain
from analysis.sql import Query, query
from analysis.working_time import WorkCalendar, calendars

CAUSES = ("batching", "prioritization", "contention", "unavailability", "extraneous")
BY = ("activity", "department", "handoff", "resource")
BATCH_GAP = 5 * MINUTE        # a run of one activity breaks when the next start is later than this after an end
ALWAYS_ON = WorkCalendar(workdays=(0, 1, 2, 3, 4, 5, 6), day_start="00:00", day_end="24:00")
# Observed hours: a weekday is a working day when it holds at least this share of the busiest weekday's
# start/end instants; office hours run from the 5 % to the 95 % quantile of their times of day, widened to
# whole hours; a resource with fewer instants than MIN_INSTANTS is taken as always on duty.
WEEKDAY_SHARE = 0.25
HOUR_QUANTILES = (0.05, 0.95)
MIN_INSTANTS = 20


@dataclass(frozen=True)
class WaitingCauses:
    """The waits of the kept cases split into causes, grouped `by` activity, department, hand-off or resource.

    rows: one row per key, most waiting first (see `diagnose`); total: the same figures over every kept event;
    calendar: 'given' (the WorkCalendar decided duty hours) or 'observed' (each resource's own hours)."""

    by: str
    rows: pd.DataFrame
    total: dict
    calendar: str

    def as_dict(self) -> dict:
        """What `why --json` prints: {"by", "rows": [{"key", "events", "wait_seconds", "<cause>_seconds", …}]}."""
        return plain({"by": self.by, "rows": self.rows})


def check_columns(con: duckdb.DuckDBPyConnection, log_id: int) -> None:
    """Raise a UserError naming what is missing when the log has no event with both a start and a resource."""
    starts, resources, both = query(
        """SELECT count(start_ts), count(resource), count(*) FILTER (WHERE start_ts IS NOT NULL
                  AND resource IS NOT NULL) FROM events WHERE log_id = $log_id""", log_id=log_id).one(con)
    if not both:
        raise UserError("err.why_no_start_resource" if not starts and not resources
                        else "err.why_no_start" if not starts else "err.why_no_resource")


def observed_hours(con: duckdb.DuckDBPyConnection, log_id: int) -> dict[str, WorkCalendar]:
    """Each resource's own duty hours, read off the start and end instants of its events (whole log):
    working weekdays and one office-hours interval per day, no holidays (see WEEKDAY_SHARE, HOUR_QUANTILES).
    Resources with fewer than MIN_INSTANTS instants are left out (always on duty)."""
    lo, hi = HOUR_QUANTILES
    tod = "(epoch_us(i.t) - epoch_us(date_trunc('day', i.t))) / 1e6"
    rows = query(
        f"""WITH inst AS (SELECT resource, start_ts AS t FROM events WHERE log_id = $log_id AND resource IS NOT NULL
                                 AND start_ts IS NOT NULL
                          UNION ALL SELECT resource, ts FROM events WHERE log_id = $log_id AND resource IS NOT NULL),
                 day AS (SELECT resource, isodow(t) - 1 AS wd, count(*) AS n FROM inst GROUP BY ALL),
                 work AS (SELECT resource, wd FROM day
                          QUALIFY n >= $share * max(n) OVER (PARTITION BY resource))
            SELECT i.resource, list_sort(list(DISTINCT w.wd)) AS days, count(*) AS n,
                   quantile_disc({tod}, {lo}) AS first_s, quantile_disc({tod}, {hi}) AS last_s
            FROM inst i JOIN work w ON w.resource = i.resource AND w.wd = isodow(i.t) - 1
            GROUP BY i.resource ORDER BY i.resource""",
        log_id=log_id, share=WEEKDAY_SHARE).rows(con)
    hours = {}
    for resource, days, n, first_s, last_s in rows:
        if n < MIN_INSTANTS:
            continue
        start_h = int(first_s // 3600)
        end_h = min(24, max(start_h + 1, math.ceil(last_s / 3600)))
        hours[resource] = WorkCalendar(workdays=tuple(days), day_start=f"{start_h:02d}:00", day_end=f"{end_h:02d}:00")
    return hours


def _duty(con: duckdb.DuckDBPyConnection, log_id: int, calendar: WorkCalendar | None) -> tuple[Query, str]:
    """The `cal` CTE of duty calendars and the `wc_res` column naming a resource's row in it."""
    first, last = pairs.log_span(con, log_id)
    if calendar is None:
        own = replace(ALWAYS_ON, departments=tuple(sorted(observed_hours(con, log_id).items())))
        return calendars(own, first, last), "resource"
    return calendars(calendar, first, last), "home"


def _layout(con: duckdb.DuckDBPyConnection, log_id: int) -> tuple[int, str, int]:
    """t0 (µs; every time is stored as µs since t0, so ≥ 0), the composite `(rid << shift)` SQL and 2^shift.
    BIGINT when the resource numbers and the log's span fit in 62 bits (fast), else HUGEINT."""
    first, last, resources = query(
        """SELECT epoch_us(min(least(ts, coalesce(start_ts, ts)))), epoch_us(max(ts)), count(DISTINCT resource)
           FROM events WHERE log_id = $log_id""", log_id=log_id).one(con)
    t0 = first - 2 * 86_400_000_000          # W counts from the calendar's day before the first: keep it ≥ 0 too
    shift = (last - t0 + 3 * 86_400_000_000).bit_length()
    if shift + (resources + 1).bit_length() > 62:
        shift = 64
    kind = "BIGINT" if shift < 64 else "HUGEINT"
    return t0, f"(rid::{kind} << {shift})", 1 << shift


def _w_us(ts: str, day: str) -> str:
    """W(ts) in whole µs from the `wc_days` row `day` of ts's date: the formula of working_time.w_sql, with
    the day's cumulative counts joined in rather than read from a list (no list is copied per event)."""
    tod = f"(epoch_us({ts}) - epoch_us(date_trunc('day', {ts})))"
    return f"({day}.c0 * {day}.l_us + ({day}.c1 - {day}.c0) * least(greatest({tod} - {day}.s_us, 0), {day}.l_us))"


def _day_join(alias: str, ts: str, kind: str = "JOIN") -> str:
    """Join the `wc_days` row of ts's date for the row's resource as `alias` (one BIGINT key: a join the
    optimizer cannot split into a day-only join)."""
    return (f"{kind} wc_days {alias} ON {alias}.dk = r.rid * 1000000 "
            f"+ date_diff('day', DATE '1970-01-01', CAST({ts} AS DATE))")


def _items_sql(calkey: str) -> str:
    """CTEs wc_home, wc_res, wc_days, wc_it: every event with a start and a resource, its enablement (en),
    ready time (µs since t0) and W (working µs) at its start, end and enablement."""
    return f"""
    wc_home AS (SELECT resource, department FROM (
                    SELECT resource, department, row_number() OVER (PARTITION BY resource
                                                                    ORDER BY count(*) DESC, department) AS rank_no
                    FROM steps WHERE resource IS NOT NULL AND department IS NOT NULL
                    GROUP BY resource, department)
                WHERE rank_no = 1),
    wc_res AS MATERIALIZED (
        SELECT r.resource, row_number() OVER (ORDER BY r.resource) AS rid, h.department AS home
        FROM (SELECT DISTINCT resource FROM steps WHERE resource IS NOT NULL AND start_ts IS NOT NULL) r
        LEFT JOIN wc_home h USING (resource)),
    wc_days AS MATERIALIZED (
        SELECT rid * 1000000 + cbase + i - 1 AS dk, cc[i] AS c0, cc[i + 1] AS c1, s_us, l_us
        FROM (SELECT r.rid, coalesce(k.c, g.c) AS cc, coalesce(k.base, g.base) AS cbase,
                     coalesce(k.s, g.s) * 1000000 AS s_us, coalesce(k.l, g.l) * 1000000 AS l_us,
                     unnest(generate_series(1, len(coalesce(k.c, g.c)) - 1)) AS i
              FROM wc_res r CROSS JOIN (SELECT * FROM cal WHERE dept IS NULL) g
              LEFT JOIN cal k ON k.dept = r.{calkey})),
    wc_it AS (SELECT s.case_id, s.pos, s.activity, s.department, s.resource, s.prev_department,
                     s.prev_resource, r.rid, epoch_us(s.start_ts) - $t0 AS st, epoch_us(s.ts) - $t0 AS ct,
                     epoch_us(s.prev_end) - $t0 AS en,
                     least(coalesce(epoch_us(s.prev_end), epoch_us(s.start_ts)), epoch_us(s.start_ts)) - $t0 AS ready,
                     {_w_us('s.start_ts', 'd1')} AS w_st, {_w_us('s.ts', 'd2')} AS w_ct,
                     CASE WHEN s.prev_end < s.start_ts THEN {_w_us('s.prev_end', 'd3')} END AS w_en
              FROM steps s JOIN wc_res r ON r.resource = s.resource {_day_join('d1', 's.start_ts')}
                   {_day_join('d2', 's.ts')} {_day_join('d3', 's.prev_end', 'LEFT JOIN')}
              WHERE s.start_ts IS NOT NULL)"""


def _start_order_sql(hi: str) -> str:
    """CTEs wc_ord, wc_sw, wc_item: the start order (runs, the busy union) with the enablements merged in.
    B(t) = busy µs of the resource before t and BW(t) its on-duty part are running sums that only
    differences within one resource read; rm0 = the end of everything started before an instance (or its
    start, if later), wm0 = W(rm0) (W is monotone, so a running max of W(end) is W of the running max)."""
    return f"""
    wc_ord AS MATERIALIZED (
        SELECT *, row_number() OVER o AS idx,
               (lag(rid) OVER o IS DISTINCT FROM rid OR lag(activity) OVER o IS DISTINCT FROM activity
                OR st > lag(ct) OVER o + $batch_gap) AS new_run,
               CAST(greatest(max({hi} + ct) OVER p - {hi}, st) AS BIGINT) AS rm0,
               CAST(greatest(max({hi} + w_ct) OVER p - {hi}, w_st) AS BIGINT) AS wm0
        FROM wc_it WINDOW o AS (ORDER BY rid, st, ct, case_id, pos),
                          p AS (ORDER BY rid, st, ct, case_id, pos ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
    wc_sw AS MATERIALIZED (
        SELECT *, sum(added) OVER q AS cb, sum(added_on) OVER q AS cbw,
               CAST(max({hi} + ct) OVER q - {hi} AS BIGINT) AS rmx,
               CAST(max({hi} + w_ct) OVER q - {hi} AS BIGINT) AS wmx,
               max(CASE WHEN new_run THEN idx END) OVER q AS run_id    -- idx grows across resources: no composite
        FROM (SELECT rid, st AS t, 0 AS kind, idx, new_run, st, ct, ready, w_st, w_ct, w_en, rm0, wm0,
                     greatest(ct - rm0, 0) AS added, greatest(w_ct - wm0, 0) AS added_on FROM wc_ord
              UNION ALL
              SELECT rid, en, 1, idx, NULL, NULL, NULL, NULL, NULL, NULL, w_en, NULL, NULL, 0, 0
              FROM wc_ord WHERE en < st)
        WINDOW q AS (ORDER BY rid, t, kind, idx)),   -- unique order: the default frame is the running one
    wc_item AS MATERIALIZED (
        SELECT rid, idx, st, ready, w_st, rm0, wm0, run_id,
               cb - added - (rm0 - st) AS b_st, cbw - added_on - (wm0 - w_st) AS bw_st
        FROM wc_sw WHERE kind = 0)"""


def _ready_order_sql(hi: str, limit: int) -> str:
    """CTEs wc_runs, wc_jump: each run's start figures and whether it is a batch (an instance besides the
    first was ready when the first started); per wait, B and BW at its enablement and, in order of
    enablement, the first-started instance of its resource enabled after it (jid)."""
    return f"""
    wc_runs AS (SELECT run_id, min(st) AS run_start, min(ready) FILTER (WHERE idx > run_id) <= min(st) AS is_batch,
                       arg_min(b_st, idx) AS b_rs, arg_min(bw_st, idx) AS bw_rs, arg_min(w_st, idx) AS w_rs
                FROM wc_item GROUP BY run_id),
    wc_jump AS (SELECT wid, t AS en, w_en, b_en, bw_en,
                       CASE WHEN nxt - {hi} < {limit} THEN CAST(nxt - {hi} AS BIGINT) END AS jid
                FROM (SELECT *, min({hi} + jid) OVER (ORDER BY rid DESC, t DESC, kind DESC
                                                      ROWS UNBOUNDED PRECEDING) AS nxt
                      FROM (SELECT rid, ready AS t, 0 AS kind, idx AS jid, NULL::BIGINT AS wid, NULL::BIGINT AS w_en,
                                   NULL::HUGEINT AS b_en, NULL::HUGEINT AS bw_en FROM wc_item
                            UNION ALL
                            SELECT rid, t, 1, NULL, idx, w_en, cb - greatest(rmx - t, 0), cbw - greatest(wmx - w_en, 0)
                            FROM wc_sw WHERE kind = 1))
                WHERE kind = 1)"""


def _parts_sql() -> str:
    """CTEs wc_w, wc_split, wc_parts: per wait, the batch end b, busy and on-duty µs, K, and the five parts
    in calendar µs and in working µs (their on-duty part; unavailability has none by definition)."""
    batched = "(u.is_batch AND u.run_start > j.en)"
    return f"""
    wc_w AS (SELECT e.idx, j.en, e.st, e.w_st, j.w_en, e.b_st, e.bw_st, x.rm0 AS k,
                    x.b_st + (x.rm0 - x.st) AS b_k, x.bw_st + (x.wm0 - x.w_st) AS bw_k,
                    CASE WHEN {batched} THEN u.run_start ELSE j.en END AS b,
                    CASE WHEN {batched} THEN u.b_rs ELSE j.b_en END AS b_b,
                    CASE WHEN {batched} THEN u.bw_rs ELSE j.bw_en END AS bw_b,
                    CASE WHEN {batched} THEN u.w_rs ELSE j.w_en END AS w_b
             FROM wc_item e JOIN wc_jump j ON j.wid = e.idx JOIN wc_runs u ON u.run_id = e.run_id
             LEFT JOIN wc_item x ON x.idx = j.jid),
    wc_split AS (SELECT *, b_st - b_b AS busy, bw_st - bw_b AS busy_on, w_st - w_b AS on_duty,
                        CASE WHEN k IS NULL OR k >= st THEN b_st - b_b WHEN k <= b THEN 0 ELSE b_k - b_b END AS cont,
                        CASE WHEN k IS NULL OR k >= st THEN bw_st - bw_b WHEN k <= b THEN 0
                             ELSE bw_k - bw_b END AS cont_on
                 FROM wc_w),
    wc_parts AS (SELECT idx, st - en AS wait_us, b - en AS batching_us, busy - cont AS prioritization_us,
                        cont AS contention_us,
                        (st - b - on_duty) - (busy - busy_on) AS unavailability_us, on_duty - busy_on AS extraneous_us,
                        w_st - w_en AS working_wait_us, w_b - w_en AS batching_working_us,
                        busy_on - cont_on AS prioritization_working_us, cont_on AS contention_working_us,
                        0 AS unavailability_working_us, on_duty - busy_on AS extraneous_working_us
                 FROM wc_split)"""


def event_causes(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
                 calendar: WorkCalendar | None = None, batch_gap: float = BATCH_GAP) -> Query:
    """One row per kept event with a start, a resource and a predecessor: case_id, pos, activity, department,
    resource, prev_department, prev_resource, wait_seconds (0 for an overlap), the five `<cause>_seconds`
    (adding up to wait_seconds), and the same in working time: working_wait_seconds (the wait's on-duty
    part) and `<cause>_working_seconds` (adding up to it). Raises UserError when the log cannot tell."""
    check_columns(con, log_id)
    steps = pairs.steps(con, log_id, None)
    cal, calkey = _duty(con, log_id, calendar)
    t0, hi, limit = _layout(con, log_id)
    kept = case_ids(log_id, flt)
    where = "" if flt is None or flt.is_empty else f"AND o.case_id IN ({kept.text})"
    seconds = ", ".join(f"coalesce(p.{c}_us, 0) / 1e6 AS {c}_seconds"
                        for c in ("wait", *CAUSES, "working_wait", *(f"{c}_working" for c in CAUSES)))
    text = f"""{steps.text}, {cal.text}, {_items_sql(calkey)}, {_start_order_sql(hi)}, {_ready_order_sql(hi, limit)},
               {_parts_sql()}
        SELECT o.case_id, o.pos, o.activity, o.department, o.resource, o.prev_department, o.prev_resource,
               {seconds}
        FROM wc_ord o LEFT JOIN wc_parts p ON p.idx = o.idx
        WHERE o.en IS NOT NULL {where}"""
    return query(text, steps, cal, *([kept] if where else []), batch_gap=int(round(batch_gap * 1e6)), t0=t0)


def _key_sql(by: str, unit: str | None) -> tuple[str, str]:
    """The grouping key of a `by` and the condition an event must meet to have one."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}")
    if by != "handoff":
        return by, "true"
    if unit is None:
        return "NULL::VARCHAR", "false"
    prev = f"prev_{pairs.checked_unit(unit)}"
    return f"{prev} || ' → ' || {unit}", f"{prev} IS NOT NULL AND {unit} IS NOT NULL AND {prev} <> {unit}"


def _figures_sql() -> str:
    """The aggregate columns of one group of event_causes rows."""
    per_cause = ",\n".join(
        f"sum({c}_seconds) AS {c}_seconds, "
        f"quantile_cont({c}_seconds, 0.5) FILTER (WHERE {c}_seconds > 0) AS median_{c}_seconds, "
        f"sum({c}_seconds) / nullif(sum(wait_seconds), 0) AS share_{c}"
        for c in CAUSES)
    return f"""count(*) AS events, count(*) FILTER (WHERE wait_seconds > 0) AS waits,
               count(DISTINCT case_id) FILTER (WHERE wait_seconds > 0) AS cases,
               coalesce(sum(wait_seconds), 0) AS wait_seconds,
               quantile_cont(wait_seconds, 0.5) FILTER (WHERE wait_seconds > 0) AS median_wait_seconds,
               {per_cause}, sum(working_wait_seconds) AS working_wait_seconds,
               {", ".join(f"sum({c}_working_seconds) AS {c}_working_seconds" for c in CAUSES)}"""


def diagnose(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
             calendar: WorkCalendar | None = None, by: str = "activity",
             batch_gap: float = BATCH_GAP) -> WaitingCauses:
    """The kept cases' waits split into causes, per activity, department, hand-off ('A → B', in the log's
    hand-off unit: department, else resource) or resource.

    Row columns: key, events (with a start, a resource and a predecessor), waits (> 0), cases (with a wait),
    wait_seconds (positive waits), median_wait_seconds, and per cause c: c_seconds, median_c_seconds (over
    the events c delays), share_c (of wait_seconds); working_wait_seconds and c_working_seconds (the same
    in working time: on-duty seconds only). Most waiting first."""
    key, where = _key_sql(by, pairs.handoff_unit(con, log_id) if by == "handoff" else None)
    parts = event_causes(con, log_id, flt, calendar, batch_gap)
    # One pass: the keyed groups and the grand total (every kept event, hand-off or not) as grouping sets.
    both = query(f"""SELECT grouping(has_key, key) = 3 AS is_total, key, {_figures_sql()}
                     FROM (SELECT *, {key} AS key, {where} AS has_key FROM ({parts.text}))
                     GROUP BY GROUPING SETS ((has_key, key), ())
                     HAVING is_total OR has_key
                     ORDER BY is_total, wait_seconds DESC, events DESC, key""", parts).df(con)
    rows = both[~both.pop("is_total")].reset_index(drop=True)
    total = both.iloc[[-1]].drop(columns="key")
    return WaitingCauses(by=by, rows=rows, total=plain(total)[0],
                         calendar="observed" if calendar is None else "given")
