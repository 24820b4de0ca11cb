"""Variants and single cases: the variant explorer's table, the variant catalogue, the case list with search,
one case's timeline.

The per-variant numbers are metrics.variant_stats (the one variants query); a variant's departments are its
activities' departments (analysis.departments, over the whole log).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analysis.departments import activity_departments
from analysis.filters import AnyFilter, kept_cases
from analysis.metrics import variant_stats
from analysis.sql import query


def variant_table(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None,
                  limit: int = 1000) -> pd.DataFrame:
    """The variant explorer's table: the variants of the kept cases, most frequent first.

    Columns: rank, variant_id, cases, share, cumulative_share, median_seconds, p90_seconds, steps, departments
    (touched, by name), activities. Shares are of the kept cases; the cumulative share runs over all variants even when `limit` cuts the list.
    """
    stats = variant_stats(log_id, flt)
    # An activity's department is the whole log's (so it does not change with the filter).
    departments = activity_departments(log_id)
    return query(
        f"""WITH ranked AS ({stats.text}),
            dept AS ({departments.text}),
            steps AS (SELECT variant_id, unnest(activities) AS activity FROM variants
                      WHERE log_id = $log_id AND variant_id IN (SELECT variant_id FROM ranked)),
            depts AS (SELECT s.variant_id, list_sort(list_distinct(list(d.department))) AS departments
                      FROM steps s JOIN dept d USING (activity) GROUP BY s.variant_id)
            SELECT r.rank, r.variant_id, r.cases, r.share,
                   sum(r.share) OVER (ORDER BY r.rank ROWS UNBOUNDED PRECEDING) AS cumulative_share,
                   r.median_seconds, r.p90_seconds, len(v.activities) AS steps,
                   coalesce(d.departments, []) AS departments, v.activities
            FROM ranked r JOIN variants v ON v.log_id = $log_id AND v.variant_id = r.variant_id
            LEFT JOIN depts d ON d.variant_id = r.variant_id
            ORDER BY r.rank LIMIT $limit""",
        stats, departments, log_id=log_id, limit=limit).df(con)


def variant_catalogue(con: duckdb.DuckDBPyConnection, log_id: int, limit: int = 2000) -> pd.DataFrame:
    """Every variant of the whole log (variant_id, cases, activities), most frequent first: the filter's choices."""
    return query("""SELECT variant_id, n_cases AS cases, activities FROM variants WHERE log_id = $log_id
                    ORDER BY n_cases DESC, variant_id LIMIT $limit""", log_id=log_id, limit=limit).df(con)


def case_list(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None, search: str = "",
              limit: int = 500) -> pd.DataFrame:
    """Kept cases, slowest first: case id, start, end, cycle seconds, events, variant rank, attributes.

    `search` matches (case-insensitively, anywhere) the case id, a case attribute value, or an activity.
    """
    cases = kept_cases(log_id, flt)
    needle = search.strip() or None  # matched literally: % and _ are not wildcards here
    return query(
        f"""WITH kept AS ({cases.text}),
            ranks AS (SELECT variant_id, row_number() OVER (ORDER BY count(*) DESC, variant_id) AS variant_rank
                      FROM kept GROUP BY variant_id),
            attrs AS (SELECT case_id, string_agg(name || '=' || value, '; ' ORDER BY name) AS attributes
                      FROM case_attributes WHERE log_id = $log_id AND case_id IN (SELECT case_id FROM kept)
                      GROUP BY case_id)
            SELECT k.case_id, k.start_ts, k.end_ts, k.cycle_seconds, k.n_events, r.variant_rank,
                   coalesce(a.attributes, '') AS attributes
            FROM kept k JOIN ranks r USING (variant_id) LEFT JOIN attrs a USING (case_id)
            WHERE $needle::VARCHAR IS NULL OR contains(lower(k.case_id), lower($needle))
               OR contains(lower(coalesce(a.attributes, '')), lower($needle))
               OR k.case_id IN (SELECT case_id FROM events WHERE log_id = $log_id
                                AND contains(lower(activity), lower($needle)))
            ORDER BY k.cycle_seconds DESC, k.case_id LIMIT $limit""",
        cases, needle=needle, limit=limit).df(con)


def case_timeline(con: duckdb.DuckDBPyConnection, log_id: int, case_id: str) -> pd.DataFrame:
    """One case's events in canonical order with the wait before each.

    Columns: pos, activity, department, resource, start (the event's start, or its timestamp when it has
    none), end (its timestamp), processing_seconds (None without a start), wait_from (the previous event's
    end), wait_seconds (start − previous end; negative when it overlaps the previous event).
    """
    return query(
        """SELECT pos, activity, department, resource, coalesce(start_ts, ts) AS start, ts AS "end",
                  CASE WHEN start_ts IS NULL THEN NULL ELSE (epoch_us(ts) - epoch_us(start_ts)) / 1e6 END
                      AS processing_seconds,
                  lag(ts) OVER w AS wait_from,
                  (epoch_us(coalesce(start_ts, ts)) - epoch_us(lag(ts) OVER w)) / 1e6 AS wait_seconds
           FROM events WHERE log_id = $log_id AND case_id = $case_id
           WINDOW w AS (ORDER BY pos) ORDER BY pos""",
        log_id=log_id, case_id=case_id).df(con)
