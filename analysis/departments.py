"""An activity's department: the department most of its events carry, ties broken by the department's name.

One rule for the whole product (process map colours, bottleneck tables, variants' departments, conformance
deviations, the redesign's to-be map): events without a department do not vote, and an activity none of
whose events has a department has none.
"""

from __future__ import annotations

import duckdb

from analysis.filters import AnyFilter, kept_events
from analysis.sql import Query, query


def most_frequent_sql(relation: str) -> str:
    """SQL over `relation` (columns activity, department): one row per activity with a department, its
    most frequent one (ties: the first by name). Also run on the redesign's transformed events."""
    return f"""SELECT activity, department FROM (
                   SELECT activity, department,
                          row_number() OVER (PARTITION BY activity ORDER BY count(*) DESC, department) AS rank_no
                   FROM {relation} WHERE department IS NOT NULL GROUP BY activity, department)
               WHERE rank_no = 1"""


def activity_departments(log_id: int, flt: AnyFilter | None = None) -> Query:
    """A query: activity, department for every activity of the kept events that has a department."""
    events = kept_events(log_id, flt)
    return query(f"WITH ev AS ({events.text}) {most_frequent_sql('ev')}", events)


def department_of(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None) -> dict[str, str]:
    """{activity: its department} for the kept events' activities that have one."""
    return dict(activity_departments(log_id, flt).rows(con))
