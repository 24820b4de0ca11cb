"""Variant table, case list and case timeline on logs small enough to check by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from analysis import cases, importer
from analysis.filters import CaseFilter

# With start timestamps: case s1 = A (work 1 h) → wait 2 h → B (work 30 min, Finance);
# case s2 = A and B overlapping by 30 min.
STARTS = """case,activity,start,end,department,region
s1,A,2024-03-05 08:00,2024-03-05 09:00,Sales,North
s1,B,2024-03-05 11:00,2024-03-05 11:30,Finance,North
s2,A,2024-03-06 08:00,2024-03-06 09:00,Sales,South
s2,B,2024-03-06 08:30,2024-03-06 10:00,Finance,South
"""


@pytest.fixture
def tiny(db, tiny_log):
    return db, importer.import_file(db, tiny_log).log_id


def test_variant_table_by_hand(tiny):
    # TINY_LOG: A>B>C cases 1 (3 h) and 4 (20 min); A>C case 2 (30 min); A>B>B>B>C case 3 (6 h).
    db, log_id = tiny
    table = cases.variant_table(db, log_id)
    assert table["activities"].map(list).tolist() == [["A", "B", "C"], ["A", "C"], ["A", "B", "B", "B", "C"]]
    assert table["rank"].tolist() == [1, 2, 3]
    assert table["cases"].tolist() == [2, 1, 1]
    assert table["share"].tolist() == [0.5, 0.25, 0.25]
    assert table["cumulative_share"].tolist() == [0.5, 0.75, 1.0]
    assert table["median_seconds"].tolist() == [(10800 + 1200) / 2, 1800, 21600]
    assert table["p90_seconds"].tolist() == [1200 + 0.9 * (10800 - 1200), 1800, 21600]
    assert table["steps"].tolist() == [3, 2, 5]
    assert table["departments"].map(list).tolist() == [["Finance", "Sales"], ["Sales"], ["Finance", "Sales"]]


def test_variant_table_shares_are_of_the_kept_cases(tiny):
    db, log_id = tiny
    table = cases.variant_table(db, log_id, CaseFilter(activities_present=("B",)))
    assert table["cases"].tolist() == [2, 1]
    assert table["share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert table["cumulative_share"].tolist() == pytest.approx([2 / 3, 1.0])


def test_case_list_slowest_first_and_search(tiny):
    db, log_id = tiny
    listed = cases.case_list(db, log_id)
    assert listed["case_id"].tolist() == ["3", "1", "2", "4"]
    assert listed["variant_rank"].tolist() == [3, 1, 2, 1]
    # Search matches activities too: only case 2 lacks B.
    assert cases.case_list(db, log_id, search="b")["case_id"].tolist() == ["3", "1", "4"]
    assert cases.case_list(db, log_id, search=" 4 ")["case_id"].tolist() == ["4"]
    assert cases.case_list(db, log_id, search="%").empty  # literal, not a wildcard


def test_case_list_searches_case_attributes(db, write):
    log_id = importer.import_file(db, write("s.csv", STARTS)).log_id
    listed = cases.case_list(db, log_id, search="south")
    assert listed["case_id"].tolist() == ["s2"]
    assert listed["attributes"].tolist() == ["region=South"]


def test_case_timeline_waits_and_processing(db, write):
    log_id = importer.import_file(db, write("s.csv", STARTS)).log_id
    s1 = cases.case_timeline(db, log_id, "s1")
    assert s1["activity"].tolist() == ["A", "B"]
    assert s1["processing_seconds"].tolist() == [3600, 1800]
    assert s1["wait_seconds"].tolist()[1] == 7200  # B starts 11:00, A ended 09:00
    assert s1["start"].tolist()[1] == dt.datetime(2024, 3, 5, 11, 0)
    s2 = cases.case_timeline(db, log_id, "s2")
    assert s2["wait_seconds"].tolist()[1] == -1800  # overlap: parallel work


def test_case_timeline_without_start_times(tiny):
    db, log_id = tiny
    t = cases.case_timeline(db, log_id, "3")
    assert t["wait_seconds"].tolist()[1:] == [1800, 3600, 1800, 14400]
    assert t["processing_seconds"].isna().all()
