"""Where cycle time is lost: waiting and processing per activity and per directly-follows edge, ranked by impact.

Definitions (DESIGN.md): processing time of an event = end − start (only where it has a start);
waiting before an event = its start (its timestamp when it has none) − the previous event's end in the
case, negative when the two overlap; the duration of an edge a→b = timestamp(b) − timestamp(a).
Without start timestamps the whole gap between two events counts as waiting before the second: the
log cannot tell waiting from working, and the page says so.

Impact = total waiting an activity (or edge) holds over the kept cases, counting only positive waits
(an overlap is parallel work, not waiting), and its share of all waiting and of the total cycle time.
Medians and p90s are over the raw values.

What lives where: the waits themselves come from `pairs.steps` (the one home of event pairs), an
activity's department from `departments` (the one tie rule); this module aggregates them. `diagnose`
is the bundle the CLI, the Bottlenecks page and the report share (`Bottlenecks`, with `as_dict` =
`bottlenecks --json`); the findings in words are `diagnosis.bottleneck_findings`.

Every function takes an optional WorkCalendar: durations then count working seconds only, each event's
in its department's calendar, cycle times in the default calendar.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from analysis import pairs
from analysis.departments import most_frequent_sql
from analysis.filters import AnyFilter
from analysis.records import plain
from analysis.sql import in_list, query
from analysis.working_time import WorkCalendar

# Shares of all waiting and of the kept cases' total cycle time, over a relation `per` with total_wait_seconds.
_SHARES = """total_wait_seconds / nullif(sum(total_wait_seconds) OVER (), 0) AS share_of_waiting,
             total_wait_seconds / nullif((SELECT total FROM cycle), 0) AS share_of_cycle_time"""


@dataclass(frozen=True)
class Bottlenecks:
    """The Bottlenecks diagnosis: activity_stats, edge_stats, and whether it is working time and the log has starts."""

    activities: pd.DataFrame
    edges: pd.DataFrame
    working_time: bool
    has_start: bool

    def as_dict(self) -> dict:
        """What `bottlenecks --json` prints: activities, edges (rows), time ('working' or 'calendar')."""
        return plain({"activities": self.activities, "edges": self.edges,
                      "time": "working" if self.working_time else "calendar"})


def diagnose(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
             calendar: WorkCalendar | None = None) -> Bottlenecks:
    """The Bottlenecks diagnosis of a log's kept cases (in working time with a calendar)."""
    has_start = query("SELECT has_start FROM logs WHERE log_id = $log_id", log_id=log_id).scalar(con)
    return Bottlenecks(activities=activity_stats(con, log_id, flt, calendar),
                       edges=edge_stats(con, log_id, flt, calendar),
                       working_time=calendar is not None, has_start=bool(has_start))


def activity_stats(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
                   calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Per activity, most waiting first: how long its events wait and work, and its share of the waiting.

    Columns: activity, department (its most frequent, analysis.departments), frequency, cases, median/p90
    processing and waiting seconds, total_processing_seconds, total_wait_seconds, share_of_waiting,
    share_of_cycle_time."""
    ctes = pairs.steps(con, log_id, flt, calendar)
    return query(
        f"""{ctes.text},
        home AS ({most_frequent_sql('steps')}),
        per AS (SELECT s.activity, h.department, count(*) AS frequency,
                       count(DISTINCT s.case_id) AS cases,
                       quantile_cont(s.proc_s, 0.5) AS median_processing_seconds,
                       quantile_cont(s.proc_s, 0.9) AS p90_processing_seconds,
                       sum(s.proc_s) AS total_processing_seconds,
                       quantile_cont(s.wait_s, 0.5) AS median_wait_seconds,
                       quantile_cont(s.wait_s, 0.9) AS p90_wait_seconds,
                       coalesce(sum(greatest(s.wait_s, 0)), 0) AS total_wait_seconds
                FROM steps s LEFT JOIN home h ON h.activity = s.activity GROUP BY s.activity, h.department)
        SELECT per.*, {_SHARES}
        FROM per ORDER BY total_wait_seconds DESC, frequency DESC, activity""",
        ctes).df(con)


def edge_stats(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
               calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Per directly-follows edge, most waiting first: its transitions, the waits in it, its share of the waiting.

    Columns: source, target, frequency, cases, median/p90 transition seconds (timestamp(b) − timestamp(a)),
    median/p90 waiting seconds (start(b) − end(a)), total_wait_seconds, share_of_waiting, share_of_cycle_time."""
    ctes = pairs.steps(con, log_id, flt, calendar)
    return query(
        f"""{ctes.text},
        per AS (SELECT prev_activity AS source, activity AS target, count(*) AS frequency,
                       count(DISTINCT case_id) AS cases,
                       quantile_cont(trans_s, 0.5) AS median_transition_seconds,
                       quantile_cont(trans_s, 0.9) AS p90_transition_seconds,
                       quantile_cont(wait_s, 0.5) AS median_wait_seconds,
                       quantile_cont(wait_s, 0.9) AS p90_wait_seconds,
                       sum(greatest(wait_s, 0)) AS total_wait_seconds
                FROM steps WHERE prev_activity IS NOT NULL GROUP BY prev_activity, activity)
        SELECT per.*, {_SHARES}
        FROM per ORDER BY total_wait_seconds DESC, frequency DESC, source, target""",
        ctes).df(con)


def monthly_wait(con: duckdb.DuckDBPyConnection, log_id: int, activities: list[str],
                 flt: AnyFilter | None = None, calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Median wait before each of `activities` per month of the event's start: month, activity, median_wait_seconds, events."""
    ctes = pairs.steps(con, log_id, flt, calendar)
    listed, names = in_list("activity", list(activities))
    chosen = f"activity IN {listed}" if activities else "false"   # `IN ()` is not SQL
    return query(
        f"""{ctes.text}
        SELECT date_trunc('month', begin_ts) AS month, activity, quantile_cont(wait_s, 0.5) AS median_wait_seconds,
               count(*) AS events
        FROM steps WHERE {chosen} AND wait_s IS NOT NULL
        GROUP BY ALL ORDER BY month, activity""",
        ctes, **names).df(con)


def wait_by_attribute(con: duckdb.DuckDBPyConnection, log_id: int, attribute: str,
                      flt: AnyFilter | None = None, calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Median wait before each activity per value of a case attribute (the heatmap 'campaign type × step').

    Columns: value, activity, median_wait_seconds, events."""
    ctes = pairs.steps(con, log_id, flt, calendar)
    return query(
        f"""{ctes.text}
        SELECT a.value, s.activity, quantile_cont(s.wait_s, 0.5) AS median_wait_seconds, count(*) AS events
        FROM steps s JOIN case_attributes a ON a.log_id = $log_id AND a.name = $attribute AND a.case_id = s.case_id
        WHERE s.wait_s IS NOT NULL GROUP BY ALL ORDER BY a.value, s.activity""",
        ctes, log_id=log_id, attribute=attribute).df(con)


def pareto(stats: pd.DataFrame, share: float = 0.6) -> tuple[int, float]:
    """How few activities (ranked by waiting) hold at least `share` of all waiting, and their exact share."""
    running = 0.0
    for n, value in enumerate(stats["share_of_waiting"].fillna(0).tolist(), start=1):
        running += value
        if running >= share - 1e-12:
            return n, running
    return len(stats), running
