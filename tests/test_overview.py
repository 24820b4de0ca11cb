"""Overview KPIs on logs small enough to count by hand."""

from __future__ import annotations

from analysis import importer, overview

HANDOFFS = """case,activity,timestamp,department
1,A,2024-03-05 09:00,X
1,B,2024-03-05 10:00,
1,C,2024-03-05 11:00,Y
2,A,2024-03-05 09:00,X
2,B,2024-03-05 10:00,X
2,C,2024-03-05 11:00,Y
2,D,2024-03-05 12:00,X
"""


def test_handoffs_per_case_skip_events_without_department(db, write):
    # Case 1: X, (blank), Y -> 1 hand-off, 2 departments. Case 2: X, X, Y, X -> 2 hand-offs, 2 departments.
    log_id = importer.import_file(db, write("h.csv", HANDOFFS)).log_id
    k = overview.kpis(db, log_id)
    assert (k["handoff_unit"], k["handoffs_per_case"], k["departments_per_case"]) == ("department", 1.5, 2.0)


def test_no_unit_when_the_log_has_neither_departments_nor_resources(db, write):
    log_id = importer.import_file(db, write("n.csv", "case,activity,timestamp\n1,A,2024-03-05\n1,B,2024-03-06\n")).log_id
    k = overview.kpis(db, log_id)
    assert (k["handoff_unit"], k["handoffs_per_case"]) == (None, None)
    assert k["median_cycle_seconds"] == 86400
