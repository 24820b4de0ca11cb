"""Variants and single cases: the variant explorer's table, the case list with search, one case's timeline."""

from __future__ import annotations

import duckdb
import pandas as pd

from analysis.filters import CaseFilter, kept_cases_sql


def variant_table(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
                  limit: int = 1000) -> pd.DataFrame:
    """Variants of the kept cases, most frequent first: rank, variant_id, cases, share, cumulative share,
    median and p90 cycle time (seconds), number of steps, departments touched, and the activities.

    Shares are of the kept cases; the cumulative share runs over all variants even when `limit` cuts the list.
    """
    cases, params = kept_cases_sql(log_id, flt)
    return con.execute(
        f"""WITH per_variant AS (
                SELECT c.variant_id, count(*) AS cases,
                       quantile_cont(c.cycle_seconds, 0.5) AS median_seconds,
                       quantile_cont(c.cycle_seconds, 0.9) AS p90_seconds
                FROM ({cases}) c GROUP BY c.variant_id),
            ranked AS (
                SELECT *, row_number() OVER (ORDER BY cases DESC, variant_id) AS rank,
                       cases / sum(cases) OVER () AS share
                FROM per_variant),
            depts AS (  -- departments of a variant's activities (each activity's most frequent department)
                SELECT v.variant_id, list_sort(list_distinct(list_filter(
                           list_transform(v.activities, lambda a: map_extract(d.by_activity, a)[1]), lambda x: x IS NOT NULL)))
                       AS departments
                FROM variants v,
                     (SELECT map(list(activity), list(dept)) AS by_activity
                      FROM (SELECT activity, mode(department) AS dept FROM events WHERE log_id = ? GROUP BY activity)) d
                WHERE v.log_id = ? AND v.variant_id IN (SELECT variant_id FROM ranked))
            SELECT r.rank, r.variant_id, r.cases, r.share,
                   sum(r.share) OVER (ORDER BY r.rank ROWS UNBOUNDED PRECEDING) AS cumulative_share,
                   r.median_seconds, r.p90_seconds, len(v.activities) AS steps,
                   coalesce(d.departments, []) AS departments, v.activities
            FROM ranked r JOIN variants v ON v.log_id = ? AND v.variant_id = r.variant_id
            LEFT JOIN depts d ON d.variant_id = r.variant_id
            ORDER BY r.rank LIMIT ?""",
        [*params, log_id, log_id, log_id, limit],
    ).df()


def variant_catalogue(con: duckdb.DuckDBPyConnection, log_id: int, limit: int = 2000) -> pd.DataFrame:
    """Every variant of the whole log (variant_id, cases, activities), most frequent first: the filter's choices."""
    return con.execute(
        "SELECT variant_id, n_cases AS cases, activities FROM variants WHERE log_id = ? "
        "ORDER BY n_cases DESC, variant_id LIMIT ?", [log_id, limit]).df()


def case_list(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None, search: str = "",
              limit: int = 500) -> pd.DataFrame:
    """Kept cases, slowest first: case id, start, end, cycle seconds, events, variant rank, attributes.

    `search` matches (case-insensitively, anywhere) the case id, a case attribute value, or an activity.
    """
    cases, params = kept_cases_sql(log_id, flt)
    needle = search.strip() or None  # matched literally: % and _ are not wildcards here
    return con.execute(
        f"""WITH kept AS ({cases}),
            ranks AS (SELECT variant_id, row_number() OVER (ORDER BY count(*) DESC, variant_id) AS variant_rank
                      FROM kept GROUP BY variant_id),
            attrs AS (SELECT case_id, string_agg(name || '=' || value, '; ' ORDER BY name) AS attributes
                      FROM case_attributes WHERE log_id = ? AND case_id IN (SELECT case_id FROM kept)
                      GROUP BY case_id)
            SELECT k.case_id, k.start_ts, k.end_ts, k.cycle_seconds, k.n_events, r.variant_rank,
                   coalesce(a.attributes, '') AS attributes
            FROM kept k JOIN ranks r USING (variant_id) LEFT JOIN attrs a USING (case_id)
            WHERE ?::VARCHAR IS NULL OR contains(lower(k.case_id), lower(?))
               OR contains(lower(coalesce(a.attributes, '')), lower(?))
               OR k.case_id IN (SELECT case_id FROM events WHERE log_id = ? AND contains(lower(activity), lower(?)))
            ORDER BY k.cycle_seconds DESC, k.case_id LIMIT ?""",
        [*params, log_id, needle, needle, needle, log_id, needle, limit],
    ).df()


def case_timeline(con: duckdb.DuckDBPyConnection, log_id: int, case_id: str) -> pd.DataFrame:
    """One case's events in canonical order with the wait before each.

    Columns: pos, activity, department, resource, start (the event's start, or its timestamp when it has
    none), end (its timestamp), processing_seconds (None without a start), wait_from (the previous event's
    end), wait_seconds (start − previous end; negative when it overlaps the previous event).
    """
    return con.execute(
        """SELECT pos, activity, department, resource, coalesce(start_ts, ts) AS start, ts AS "end",
                  CASE WHEN start_ts IS NULL THEN NULL ELSE (epoch_us(ts) - epoch_us(start_ts)) / 1e6 END
                      AS processing_seconds,
                  lag(ts) OVER w AS wait_from,
                  (epoch_us(coalesce(start_ts, ts)) - epoch_us(lag(ts) OVER w)) / 1e6 AS wait_seconds
           FROM events WHERE log_id = ? AND case_id = ?
           WINDOW w AS (ORDER BY pos) ORDER BY pos""",
        [log_id, case_id],
    ).df()
