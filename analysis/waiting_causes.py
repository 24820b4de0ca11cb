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

How it runs: one DuckDB query, no pairs of events. Four ordered window passes over the whole log: the
instances in each resource's start order (idx; runs; the latest end of everything started before each
instance), the same order again by idx alone (running busy time B(t) and its on-duty part BW(t) just after
each instance, read only as differences within one resource), the start order with every enablement merged
in (the last instance started by then: B and BW at the enablement), and the instances in order of
enablement (the first-started one enabled after e, for J and K). Each pass is ONE window ordered by
(resource number, time) without PARTITION BY, and reads only the columns it orders or aggregates: a running
max or min over `(rid << shift) + value` restarts at each resource by itself, and DuckDB stays on its
single-sort path (frames are always `ROWS UNBOUNDED PRECEDING`-like: a RANGE or FOLLOWING frame is 10–20×
slower there). Duty hours enter through a table of days per calendar (W(t), the working microseconds since
the calendar's first day, as in working_time.w_sql), joined before any window; resources with the same
observed hours share one calendar. bench/README.md ("Why it waits") has the costs at 1M events.

For a page: the split of an event does not depend on the filter or on `by`, so it is computed once for the
whole log and then only grouped under the filter (0.1-0.3 s at 1M events instead of 4-5 s). Two homes for
that one split: `save_parts` writes it into the store (tables wait_parts / wait_part_sets, keyed by log,
calendar, batch gap and a hash of the code that computes it, so a changed rule never reads an old split),
and `diagnose` groups the saved split whenever there is one; `event_parts` returns it as a compact pyarrow
Table for a store that cannot be written (viewer mode) and `diagnose(..., parts=)` groups that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from analysis import pairs, store
from analysis.errors import UserError
from analysis.filters import AnyFilter, case_ids
from analysis.formatting import MINUTE
from analysis.records import plain
from analysis.sql import Query, query
from analysis.working_time import WorkCalendar, calendars

if TYPE_CHECKING:  # pyarrow is imported where a table is built (the CLI starts faster without it)
    import pyarrow as pa

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


def _duty(con: duckdb.DuckDBPyConnection, log_id: int, calendar: WorkCalendar | None) -> tuple[Query, Query]:
    """The `cal` CTE of duty calendars and the `wc_key` CTE (resource, calname): the `cal` row (dept) that
    holds each resource's hours; a resource without one keeps the default row (dept NULL)."""
    first, last = pairs.log_span(con, log_id)
    if calendar is not None:
        return calendars(calendar, first, last), query(
            "wc_key AS (SELECT resource, department AS calname FROM wc_home)")
    hours = observed_hours(con, log_id)
    # Resources share a handful of observed calendars (899 people, 4 calendars on the 1M-event sample): one
    # `cal` row per distinct calendar, so its day list is built and bound once, not once per person.
    names = {cal: str(i) for i, cal in enumerate(dict.fromkeys(hours.values()))}
    own = replace(ALWAYS_ON, departments=tuple((name, cal) for cal, name in names.items()))
    keys = [{"resource": resource, "calname": names[cal]} for resource, cal in hours.items()]
    return calendars(own, first, last), query(
        "wc_key AS (SELECT unnest($wc_keys::STRUCT(resource VARCHAR, calname VARCHAR)[], recursive := true))",
        wc_keys=keys)


def _layout(con: duckdb.DuckDBPyConnection, log_id: int) -> tuple[int, str, int, str]:
    """t0 (µs; every time is stored as µs since t0, so ≥ 0), the composite `(rid << shift)` SQL, 2^shift and
    the integer type of the composites and running sums: BIGINT when the resource numbers and the log's span
    fit in 62 bits (fast), else HUGEINT."""
    first, last, resources = query(
        """SELECT epoch_us(min(least(ts, coalesce(start_ts, ts)))), epoch_us(max(ts)), count(DISTINCT resource)
           FROM events WHERE log_id = $log_id""", log_id=log_id).one(con)
    t0 = first - 2 * 86_400_000_000          # W counts from the calendar's day before the first: keep it ≥ 0 too
    shift = (last - t0 + 3 * 86_400_000_000).bit_length()
    if shift + (resources + 1).bit_length() > 62:
        shift = 64
    kind = "BIGINT" if shift < 64 else "HUGEINT"
    return t0, f"(rid::{kind} << {shift})", 1 << shift, kind


def _w_us(ts: str, day: str) -> str:
    """W(ts) in whole µs from the `wc_days` row `day` of ts's date: the formula of working_time.w_sql, with
    the day's cumulative counts joined in rather than read from a list (no list is copied per event)."""
    tod = f"(epoch_us({ts}) - epoch_us(date_trunc('day', {ts})))"
    return f"({day}.c0 * {day}.l_us + ({day}.c1 - {day}.c0) * least(greatest({tod} - {day}.s_us, 0), {day}.l_us))"


def _day_join(alias: str, ts: str, kind: str = "JOIN") -> str:
    """Join the `wc_days` row of ts's date in the row's calendar as `alias` (one BIGINT key: a join the
    optimizer cannot split into a day-only join)."""
    return (f"{kind} wc_days {alias} ON {alias}.dk = r.cno * 1000000 "
            f"+ date_diff('day', DATE '1970-01-01', CAST({ts} AS DATE))")


def _items_sql(keys: str) -> str:
    """CTEs wc_home, wc_key, wc_cal, wc_res, wc_days, wc_it: every event with a start and a resource, its
    enablement (en), ready time (µs since t0) and W (working µs) at its start, end and enablement. wc_days
    has one row per calendar and day (a few thousand), not per resource and day."""
    return f"""
    wc_home AS (SELECT resource, department FROM (
                    SELECT resource, department, row_number() OVER (PARTITION BY resource
                                                                    ORDER BY count(*) DESC, department) AS rank_no
                    FROM steps WHERE resource IS NOT NULL AND department IS NOT NULL
                    GROUP BY resource, department)
                WHERE rank_no = 1),
    {keys},
    wc_cal AS MATERIALIZED (SELECT row_number() OVER (ORDER BY dept NULLS FIRST) - 1 AS cno, * FROM cal),
    wc_res AS MATERIALIZED (
        SELECT r.resource, row_number() OVER (ORDER BY r.resource) AS rid, coalesce(k.cno, 0) AS cno
        FROM (SELECT DISTINCT resource FROM steps WHERE resource IS NOT NULL AND start_ts IS NOT NULL) r
        LEFT JOIN wc_key m USING (resource) LEFT JOIN wc_cal k ON k.dept = m.calname),
    wc_days AS MATERIALIZED (
        SELECT cno * 1000000 + base + i - 1 AS dk, c[i] AS c0, c[i + 1] AS c1, s * 1000000 AS s_us,
               l * 1000000 AS l_us
        FROM (SELECT *, unnest(generate_series(1, len(c) - 1)) AS i FROM wc_cal)),
    wc_it AS (SELECT s.case_id, s.pos, s.activity, s.department, s.resource, s.prev_department,
                     s.prev_resource, r.rid, epoch_us(s.start_ts) - $t0 AS st, epoch_us(s.ts) - $t0 AS ct,
                     epoch_us(s.prev_end) - $t0 AS en,
                     least(coalesce(epoch_us(s.prev_end), epoch_us(s.start_ts)), epoch_us(s.start_ts)) - $t0 AS ready,
                     {_w_us('s.start_ts', 'd1')} AS w_st, {_w_us('s.ts', 'd2')} AS w_ct,
                     CASE WHEN s.prev_end < s.start_ts THEN {_w_us('s.prev_end', 'd3')} END AS w_en
              FROM steps s JOIN wc_res r ON r.resource = s.resource {_day_join('d1', 's.start_ts')}
                   {_day_join('d2', 's.ts')} {_day_join('d3', 's.prev_end', 'LEFT JOIN')}
              WHERE s.start_ts IS NOT NULL)"""


def _start_order_sql(hi: str, kind: str) -> str:
    """CTEs wc_ord, wc_item: the start order (runs, the busy union). rmp / wmp = the latest end (its W) of
    everything the resource started before an instance (−1 when nothing), rm0 / wm0 the same or its start,
    if later (W is monotone, so a running max of W(end) is W of the running max). cb / cbw = B and BW
    just after each instance's end is merged in: running sums of the busy µs each instance adds to the
    resource's union, over ONE window ordered by idx (they grow across resources too; only differences
    within one resource are read), so b_st = B(start) = busy µs before the instance started."""
    return f"""
    wc_ord AS MATERIALIZED (
        SELECT * EXCLUDE (mp, wp), greatest(mp, st) AS rm0, greatest(wp, w_st) AS wm0, mp AS rmp, wp AS wmp
        FROM (SELECT *, row_number() OVER o AS idx,
                     (lag(rid) OVER o IS DISTINCT FROM rid OR lag(activity) OVER o IS DISTINCT FROM activity
                      OR st > lag(ct) OVER o + $batch_gap) AS new_run,
                     CAST(greatest(max({hi} + ct) OVER p - {hi}, -1) AS BIGINT) AS mp,
                     CAST(greatest(max({hi} + w_ct) OVER p - {hi}, -1) AS BIGINT) AS wp
              FROM wc_it WINDOW o AS (ORDER BY rid, st, ct, case_id, pos),
                                p AS (ORDER BY rid, st, ct, case_id, pos
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))),
    wc_item AS MATERIALIZED (
        SELECT rid, idx, st, ct, en, ready, w_st, w_ct, w_en, rm0, wm0, rmp, wmp, run_id,
               cb - greatest(ct - rm0, 0) - (rm0 - st) AS b_st, cbw - greatest(w_ct - wm0, 0) - (wm0 - w_st) AS bw_st,
               cb, cbw
        FROM (SELECT rid, idx, st, ct, en, ready, w_st, w_ct, w_en, rm0, wm0, rmp, wmp,
                     CAST(sum(greatest(ct - rm0, 0)) OVER q AS {kind}) AS cb,
                     CAST(sum(greatest(w_ct - wm0, 0)) OVER q AS {kind}) AS cbw,
                     max(CASE WHEN new_run THEN idx END) OVER q AS run_id   -- idx grows across resources
              FROM wc_ord WINDOW q AS (ORDER BY idx ROWS UNBOUNDED PRECEDING)))"""


def _ready_order_sql(hi: str, limit: int) -> str:
    """CTEs wc_runs, wc_look, wc_jump: per run, the earliest ready time of its instances after the first
    (a batch when it is no later than the run's start); per wait, the last instance its resource started
    at or before its enablement (p: B(en) and BW(en) follow from p's figures), and, in order of
    enablement, the first-started instance of its resource enabled after it (jid). Each pass reads only
    the columns it orders or aggregates; the figures are joined back by idx."""
    return f"""
    wc_runs AS (SELECT run_id, min(ready) FILTER (WHERE idx > run_id) AS later_ready FROM wc_item GROUP BY run_id),
    wc_look AS (SELECT idx AS wid, p
                FROM (SELECT *, max(CASE WHEN kind = 0 THEN idx END) OVER (ORDER BY rid, t, kind, idx
                                                                           ROWS UNBOUNDED PRECEDING) AS p
                      FROM (SELECT rid, st AS t, 0 AS kind, idx FROM wc_item
                            UNION ALL SELECT rid, en, 1, idx FROM wc_item WHERE en < st))
                WHERE kind = 1),
    wc_jump AS (SELECT wid, CASE WHEN nxt - {hi} < {limit} THEN CAST(nxt - {hi} AS BIGINT) END AS jid
                FROM (SELECT *, min({hi} + jid) OVER (ORDER BY rid DESC, t DESC, kind DESC
                                                      ROWS UNBOUNDED PRECEDING) AS nxt
                      FROM (SELECT rid, ready AS t, 0 AS kind, idx AS jid, NULL::BIGINT AS wid FROM wc_item
                            UNION ALL SELECT rid, en, 1, NULL, idx FROM wc_item WHERE en < st))
                WHERE kind = 1)"""


def _parts_sql() -> str:
    """CTEs wc_w, wc_split, wc_parts: per wait, B and BW at its enablement, the batch end b, busy and on-duty
    µs, K, and the five parts in calendar µs and in working µs (their on-duty part; unavailability has
    none by definition)."""
    batched = "(u.later_ready <= f.st AND f.st > e.en)"
    return f"""
    wc_w AS (SELECT e.idx, e.en, e.st, e.w_st, e.w_en, e.b_st, e.bw_st, x.rm0 AS k,
                    x.b_st + (x.rm0 - x.st) AS b_k, x.bw_st + (x.wm0 - x.w_st) AS bw_k,
                    CASE WHEN {batched} THEN f.st ELSE e.en END AS b,
                    CASE WHEN {batched} THEN f.b_st
                         ELSE coalesce(p.cb, 0) - CASE WHEN p.rid = e.rid
                                                       THEN greatest(greatest(p.rmp, p.ct) - e.en, 0) ELSE 0 END
                    END AS b_b,
                    CASE WHEN {batched} THEN f.bw_st
                         ELSE coalesce(p.cbw, 0) - CASE WHEN p.rid = e.rid
                                                        THEN greatest(greatest(p.wmp, p.w_ct) - e.w_en, 0) ELSE 0 END
                    END AS bw_b,
                    CASE WHEN {batched} THEN f.w_st ELSE e.w_en END AS w_b
             FROM wc_item e JOIN wc_look l ON l.wid = e.idx JOIN wc_jump j ON j.wid = e.idx
             JOIN wc_item f ON f.idx = e.run_id JOIN wc_runs u ON u.run_id = e.run_id
             LEFT JOIN wc_item p ON p.idx = l.p LEFT JOIN wc_item x ON x.idx = j.jid),
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


def _split(con: duckdb.DuckDBPyConnection, log_id: int, calendar: WorkCalendar | None,
           batch_gap: float) -> Query:
    """The CTEs (`WITH …`) ending in wc_ord (every event with a start and a resource, by idx) and wc_parts
    (the split of each wait, by idx), over the whole log. Raises UserError when the log cannot tell."""
    check_columns(con, log_id)
    steps = pairs.steps(con, log_id, None)
    cal, keys = _duty(con, log_id, calendar)
    t0, hi, limit, kind = _layout(con, log_id)
    text = f"""{steps.text}, {cal.text}, {_items_sql(keys.text)}, {_start_order_sql(hi, kind)},
               {_ready_order_sql(hi, limit)}, {_parts_sql()}"""
    return query(text, steps, cal, keys, batch_gap=int(round(batch_gap * 1e6)), t0=t0)


def event_causes(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
                 calendar: WorkCalendar | None = None, batch_gap: float = BATCH_GAP) -> Query:
    """One row per kept event with a start, a resource and a predecessor: case_id, pos, activity, department,
    resource, prev_department, prev_resource, wait_seconds (0 for an overlap), the five `<cause>_seconds`
    (adding up to wait_seconds), and the same in working time: working_wait_seconds (the wait's on-duty
    part) and `<cause>_working_seconds` (adding up to it). Raises UserError when the log cannot tell."""
    split = _split(con, log_id, calendar, batch_gap)
    kept = case_ids(log_id, flt)
    where = "" if flt is None or flt.is_empty else f"AND o.case_id IN ({kept.text})"
    seconds = ", ".join(f"coalesce(p.{c}_us, 0) / 1e6 AS {c}_seconds"
                        for c in ("wait", *CAUSES, "working_wait", *(f"{c}_working" for c in CAUSES)))
    text = f"""{split.text}
        SELECT o.case_id, o.pos, o.activity, o.department, o.resource, o.prev_department, o.prev_resource,
               {seconds}
        FROM wc_ord o LEFT JOIN wc_parts p ON p.idx = o.idx
        WHERE o.en IS NOT NULL {where}"""
    return query(text, split, *([kept] if where else []))


# The integer µs columns of event_parts: the five parts and their working-time parts (unavailability has
# none). The wait and the working-time wait are their sums, so they are not stored.
PART_COLUMNS = (*(f"{c}_us" for c in CAUSES), *(f"{c}_working_us" for c in CAUSES if c != "unavailability"))
_PARTS_META = b"waiting_causes"
# Cases by number (their rank by case id): event_parts stores numbers, diagnose keeps the filter's by number.
_CASE_NUMBERS = ("SELECT case_id, CAST(row_number() OVER (ORDER BY case_id) AS INTEGER) AS case_no "
                 "FROM cases WHERE log_id = $log_id")
BITMAP_BITS = 1 << 30        # counting a group's cases in a bitmap of case numbers while all bitmaps fit 128 MB


def _parts_key(log_id: int, calendar: WorkCalendar | None, batch_gap: float) -> dict:
    """What an event_parts table was computed for (kept in its schema metadata, checked by diagnose)."""
    return {"log_id": log_id, "calendar": None if calendar is None else calendar.to_json(),
            "batch_gap_us": int(round(batch_gap * 1e6))}


@cache
def code_version() -> str:
    """A hash of the code a split comes from (this module, the steps and the calendars): a saved split made
    by other rules is never read, it is replaced."""
    digest = hashlib.sha256()
    for module in (__file__, pairs.__file__, Path(__file__).with_name("working_time.py")):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:16]


def _set_key(calendar: WorkCalendar | None, batch_gap: float) -> str:
    """The key of a saved split of one log (wait_part_sets.key)."""
    key = {k: v for k, v in _parts_key(0, calendar, batch_gap).items() if k != "log_id"}
    return json.dumps({**key, "version": code_version()}, sort_keys=True)


def saved_parts(con: duckdb.DuckDBPyConnection, log_id: int, calendar: WorkCalendar | None = None,
                batch_gap: float = BATCH_GAP) -> tuple[int, dict] | None:
    """(set id, metadata) of the log's split saved in the store for this calendar and batch gap by the
    current code, or None (also in a store from before the tables existed, opened read-only)."""
    try:
        row = query("SELECT set_id, meta FROM wait_part_sets WHERE log_id = $log_id AND key = $key",
                    log_id=log_id, key=_set_key(calendar, batch_gap)).one(con)
    except duckdb.CatalogException:
        return None
    return (int(row[0]), json.loads(row[1])) if row else None


def save_parts(con: duckdb.DuckDBPyConnection, log_id: int, calendar: WorkCalendar | None = None,
               batch_gap: float = BATCH_GAP) -> int:
    """Compute the split of every wait of the log and save it in the store (one transaction: all of it or
    nothing); splits of this log made by other code are deleted with it. Returns the set id; a split saved
    already is kept. Raises UserError when the log cannot tell. About 4-5 s at 1M events (bench/why.py)."""
    found = saved_parts(con, log_id, calendar, batch_gap)
    if found is not None:
        return found[0]
    rows, meta = _parts_query(con, log_id, calendar, batch_gap)
    key = _set_key(calendar, batch_gap)
    with store.transaction(con):
        set_id = int(con.execute("SELECT nextval('wait_part_ids')").fetchone()[0])
        # Splits of this log by other code, and of logs deleted while a split was being saved.
        stale = query("""SELECT set_id FROM wait_part_sets
                         WHERE (log_id = $log_id AND json_extract_string(key, '$.version') <> $version)
                            OR log_id NOT IN (SELECT log_id FROM logs)""", log_id=log_id, version=code_version())
        for table in ("wait_parts", "wait_part_sets"):
            query(f"DELETE FROM {table} WHERE set_id IN ({stale.text})", stale).run(con)
        query(f"""INSERT INTO wait_parts BY NAME {rows.text}
                  SELECT $set_id AS set_id, $log_id AS log_id, * FROM wc_rows""", rows, set_id=set_id).run(con)
        query("""INSERT INTO wait_part_sets VALUES ($set_id, $log_id, $key, $meta, $at)""", set_id=set_id,
              log_id=log_id, key=key, meta=json.dumps(meta),
              at=dt.datetime.now(dt.UTC).replace(tzinfo=None)).run(con)
    return set_id


def _parts_query(con: duckdb.DuckDBPyConnection, log_id: int, calendar: WorkCalendar | None,
                 batch_gap: float) -> tuple[Query, dict]:
    """The CTEs (`WITH …`) ending in `wc_rows`, event_parts' rows (strings not yet dictionary-encoded), and
    what the rows were computed for (the metadata of event_parts, with the hand-off unit and the number of
    cases)."""
    split = _split(con, log_id, calendar, batch_gap)
    unit = pairs.handoff_unit(con, log_id)
    figures = ", ".join(f"coalesce(p.{c}, 0) AS {c}" for c in PART_COLUMNS)
    n_cases = query("SELECT count(*) FROM cases WHERE log_id = $log_id", log_id=log_id).scalar(con)
    # At most this many groups per `by` (the bitmap count of cases in diagnose must stay small).
    keys = dict(zip(("activity", "department", "resource"), query(
        """SELECT count(DISTINCT activity) + 1, count(DISTINCT department) + 1, count(DISTINCT resource) + 1
           FROM events WHERE log_id = $log_id""", log_id=log_id).one(con), strict=True))
    return query(f"""{split.text}, wc_cno AS ({_CASE_NUMBERS}),
        wc_rows AS MATERIALIZED (
            SELECT n.case_no, o.activity, o.department, o.resource, o.prev_department, o.prev_resource,
                   {figures}
            FROM wc_ord o JOIN wc_cno n USING (case_id) LEFT JOIN wc_parts p ON p.idx = o.idx
            WHERE o.en IS NOT NULL)""", split), {**_parts_key(log_id, calendar, batch_gap), "unit": unit,
                                                 "cases": n_cases, "keys": keys}


def event_parts(con: duckdb.DuckDBPyConnection, log_id: int, calendar: WorkCalendar | None = None,
                batch_gap: float = BATCH_GAP) -> pa.Table:
    """The split of every wait of the WHOLE log (it depends on neither a filter nor `by`) as a compact
    pyarrow Table for `diagnose(..., parts=)`: one row per event with a start, a resource and a predecessor;
    case_no (the case's rank by case id), activity, department, resource, prev_department and prev_resource
    (the previous event's) as dictionary-encoded strings, and PART_COLUMNS (integer µs). Its
    schema metadata names the log, calendar, batch gap, hand-off unit and number of cases. About 90 bytes
    per event. Raises UserError when the log cannot tell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found, meta = _parts_query(con, log_id, calendar, batch_gap)
    with con.cursor() as cur:        # a relation streams Arrow without the copy an execute() result makes
        table = cur.sql(f"{found.text} SELECT * FROM wc_rows", params=found.bound()).to_arrow_reader().read_all()
    # Keys repeat (a dozen activities over 900,000 rows): dictionaries keep the table small.
    strings = ("activity", "department", "resource", "prev_department", "prev_resource")
    table = pa.table({n: pc.dictionary_encode(table[n]) if n in strings else table[n]
                      for n in table.column_names}).unify_dictionaries()      # one dictionary per column
    return table.replace_schema_metadata({_PARTS_META: json.dumps(meta)})


def _key_sql(by: str, unit: str | None) -> tuple[str, str]:
    """The grouping key of a `by` and the condition an event must meet to have one (over event_parts rows)."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}")
    if by != "handoff":
        return by, "true"
    if unit is None:
        return "NULL::VARCHAR", "false"
    unit = pairs.checked_unit(unit)
    return (f"prev_{unit} || ' → ' || {unit}",
            f"prev_{unit} IS NOT NULL AND {unit} IS NOT NULL AND prev_{unit} <> {unit}")


def _figures_sql(cases: str) -> str:
    """The aggregate columns of one group of event_parts rows (`wait_us`, `working_wait_us` added; `cases`
    counts the distinct cases with a wait). Sums are exact integer µs, turned into seconds at the end;
    medians are over the events' seconds."""
    per_cause = ",\n".join(
        f"sum({c}_us) / 1e6 AS {c}_seconds, "
        f"quantile_cont({c}_us / 1e6, 0.5) FILTER (WHERE {c}_us > 0) AS median_{c}_seconds, "
        f"sum({c}_us) / nullif(sum(wait_us), 0) AS share_{c}"
        for c in CAUSES)
    return f"""count(*) AS events, count(*) FILTER (WHERE wait_us > 0) AS waits, {cases} AS cases,
               coalesce(sum(wait_us), 0) / 1e6 AS wait_seconds,
               quantile_cont(wait_us / 1e6, 0.5) FILTER (WHERE wait_us > 0) AS median_wait_seconds,
               {per_cause}, sum(working_wait_us) / 1e6 AS working_wait_seconds,
               {", ".join(f"sum({c}_working_us) / 1e6 AS {c}_working_seconds" for c in CAUSES)}"""


def _cases_sql(by: str, meta: dict, unit: str | None) -> tuple[str, dict]:
    """Distinct cases with a wait in a group, and its parameters: a bitmap over the case numbers (no hash of
    every (key, case) pair: about twice as fast at 1M events) while the groups' bitmaps stay small, else
    count(DISTINCT)."""
    groups = (meta["keys"][unit] ** 2 if unit else 1) if by == "handoff" else meta["keys"][by]
    if (groups + 1) * max(meta["cases"], 1) > BITMAP_BITS:
        return "count(DISTINCT case_no) FILTER (WHERE wait_us > 0)", {}
    return ("coalesce(bit_count(bitstring_agg(case_no, 1, $n_cases) FILTER (WHERE wait_us > 0)), 0)",
            {"n_cases": max(meta["cases"], 1)})


def _parts_meta(parts: pa.Table, log_id: int, calendar: WorkCalendar | None, batch_gap: float) -> dict:
    """An event_parts table's metadata; ValueError when it was computed for another log, calendar or batch
    gap (its figures would silently answer another question)."""
    meta = json.loads((parts.schema.metadata or {}).get(_PARTS_META, b"{}"))
    if {k: meta.get(k) for k in ("log_id", "calendar", "batch_gap_us")} != _parts_key(log_id, calendar, batch_gap):
        raise ValueError("parts were computed by event_parts for another log, calendar or batch gap")
    return meta


def diagnose(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
             calendar: WorkCalendar | None = None, by: str = "activity",
             batch_gap: float = BATCH_GAP, parts: pa.Table | None = None,
             unit: str | None = None) -> WaitingCauses:
    """The kept cases' waits split into causes, per activity, department, hand-off ('A → B', between
    departments or people: `unit`, by default the log's hand-off unit, department, else resource) or
    resource. `parts`: `event_parts(con, log_id, calendar,
    batch_gap)` computed before (a read-only page caches it per log and calendar); then only the grouping
    runs. Without `parts`, the split saved in the store (save_parts) is grouped when there is one.

    Row columns: key, events (with a start, a resource and a predecessor), waits (> 0), cases (with a wait),
    wait_seconds (positive waits), median_wait_seconds, and per cause c: c_seconds, median_c_seconds (over
    the events c delays), share_c (of wait_seconds); working_wait_seconds and c_working_seconds (the same
    in working time: on-duty seconds only). Most waiting first."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}")
    saved = saved_parts(con, log_id, calendar, batch_gap) if parts is None else None
    if saved is not None:              # the split saved in the store (save_parts)
        source = query("""WITH wc_rows AS (SELECT * EXCLUDE (set_id, log_id) FROM wait_parts
                                           WHERE set_id = $set_id)""", set_id=saved[0])
        meta = saved[1]
    elif parts is None:                # the same rows as event_parts, grouped where they are made
        source, meta = _parts_query(con, log_id, calendar, batch_gap)
    else:
        source = query("WITH wc_rows AS (SELECT * FROM wc_parts)")
        meta = _parts_meta(parts, log_id, calendar, batch_gap)
    unit = meta["unit"] if unit is None else pairs.checked_unit(unit)
    key, where = _key_sql(by, unit)
    kept = case_ids(log_id, flt)
    keep = ("" if flt is None or flt.is_empty else
            f"WHERE case_no IN (SELECT case_no FROM ({_CASE_NUMBERS}) WHERE case_id IN ({kept.text}))")
    src = f"""(SELECT *, {key} AS key, {where} AS has_key, {" + ".join(f"{c}_us" for c in CAUSES)} AS wait_us,
                      {" + ".join(c for c in PART_COLUMNS if "_working" in c)} AS working_wait_us,
                      0 AS unavailability_working_us
               FROM wc_rows {keep})"""
    cases, bitmap = _cases_sql(by, meta, unit)
    figures = _figures_sql(cases)
    # The keyed groups, then the grand total (every kept event, hand-off or not): two scans of the rows.
    grouped = query(f"""{source.text}
        SELECT * FROM (SELECT false AS is_total, key, {figures} FROM {src} WHERE has_key GROUP BY key
                       UNION ALL SELECT true, NULL, {figures} FROM {src})
        ORDER BY is_total, wait_seconds DESC, events DESC, key""", source, *([kept] if keep else []), **bitmap)
    with con.cursor() as cur:     # a cursor of its own: the table's view stays private to this call
        if parts is not None:
            cur.register("wc_parts", parts)
        both = grouped.df(cur)
    rows = both[~both.pop("is_total")].reset_index(drop=True)
    total = both.iloc[[-1]].drop(columns="key")
    return WaitingCauses(by=by, rows=rows, total=plain(total)[0],
                         calendar="observed" if calendar is None else "given")
