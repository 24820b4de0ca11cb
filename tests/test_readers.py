"""Readers: CSV, gzipped CSV, TSV, XLSX, Parquet and XES, each imported with hand-checked counts and values."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from analysis import importer, readers

D = dt.datetime


def events(con, log_id: int) -> list[tuple]:
    """(case, activity, ts, start_ts, resource, department) of a log in case and event order."""
    return con.execute(
        "SELECT case_id, activity, ts, start_ts, resource, department FROM events WHERE log_id = ? "
        "ORDER BY case_id, pos",
        [log_id],
    ).fetchall()


def test_csv_values_counts_and_row_numbers(db, write):
    text = (
        "case,activity,timestamp,resource,department,region,budget\n"
        "c1,Plan,2024-03-05 09:00,Ann,Marketing,North,5000\n"
        "c1,Approve,2024-03-05 13:30,Bob,Finance,North,5000\n"
        "c2,Plan,2024-03-06 08:15,Ann,Marketing,South,12000.5\n"
    )
    result = importer.import_file(db, write("log.csv", text))
    assert (result.cases, result.events, result.dropped_rows, result.has_start) == (2, 3, 0, False)
    assert events(db, result.log_id) == [
        ("c1", "Plan", D(2024, 3, 5, 9, 0), None, "Ann", "Marketing"),
        ("c1", "Approve", D(2024, 3, 5, 13, 30), None, "Bob", "Finance"),
        ("c2", "Plan", D(2024, 3, 6, 8, 15), None, "Ann", "Marketing"),
    ]
    rows = db.execute("SELECT row_no FROM events WHERE log_id = ? ORDER BY row_no", [result.log_id]).fetchall()
    assert [r[0] for r in rows] == [2, 3, 4]
    # Region and budget never vary within a case: they are case attributes, budget also as a number.
    attrs = db.execute(
        "SELECT case_id, name, value, number FROM case_attributes WHERE log_id = ? ORDER BY case_id, name",
        [result.log_id]).fetchall()
    assert attrs == [("c1", "budget", "5000", 5000.0), ("c1", "region", "North", None),
                     ("c2", "budget", "12000.5", 12000.5), ("c2", "region", "South", None)]


def test_case_ids_are_always_text(db, write):
    # Words that other tools read as missing values, and a zero-padded number, are all case ids.
    text = (
        "case,activity,timestamp\n"
        "NA,A,2024-03-05 09:00\n"
        "null,A,2024-03-05 09:00\n"
        "None,A,2024-03-05 09:00\n"
        "007,A,2024-03-05 09:00\n"
        "7,A,2024-03-05 09:00\n"
        "NaN,A,2024-03-05 09:00\n"
        "NA,B,2024-03-05 10:00\n"
    )
    result = importer.import_file(db, write("ids.csv", text))
    assert (result.cases, result.events, result.dropped_rows) == (6, 7, 0)
    ids = db.execute("SELECT case_id, n_events FROM cases WHERE log_id = ? ORDER BY case_id", [result.log_id]).fetchall()
    assert sorted(ids) == sorted([("NA", 2), ("null", 1), ("None", 1), ("007", 1), ("7", 1), ("NaN", 1)])


def test_csv_gz(db, write):
    text = "case,activity,timestamp\n1,A,2024-03-05 09:00\n1,B,2024-03-05 10:00\n2,A,2024-03-06 09:00\n"
    result = importer.import_file(db, write("log.csv.gz", text, gz=True))
    assert (result.cases, result.events) == (2, 3)
    assert events(db, result.log_id) == [
        ("1", "A", D(2024, 3, 5, 9), None, None, None),
        ("1", "B", D(2024, 3, 5, 10), None, None, None),
        ("2", "A", D(2024, 3, 6, 9), None, None, None),
    ]


def test_gzip_without_gz_suffix(db, write):
    text = "case,activity,timestamp\n1,A,2024-03-05 09:00\n1,B,2024-03-05 10:00\n"
    result = importer.import_file(db, write("export.csv", text, gz=True))
    assert (result.cases, result.events) == (1, 2)


def test_tsv(db, write):
    text = "case\tactivity\ttimestamp\tresource\n1\tA, first\t2024-03-05 09:00\tAnn\n1\tB\t2024-03-05 10:00\tBob\n"
    result = importer.import_file(db, write("log.tsv", text))
    assert events(db, result.log_id) == [
        ("1", "A, first", D(2024, 3, 5, 9), None, "Ann", None),
        ("1", "B", D(2024, 3, 5, 10), None, "Bob", None),
    ]


def test_xlsx(db, tmp_path):
    path = tmp_path / "log.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Case ID", "Activity", "Complete Timestamp", "Resource"])
    sheet.append([1001, "提交申请", D(2024, 3, 5, 9, 7), "张三"])
    sheet.append([1001, "预算审批", D(2024, 3, 5, 11, 30, 15), "李四"])
    sheet.append([1002.0, "提交申请", D(2024, 3, 6, 8, 0), None])
    sheet.append(["007", "提交申请", D(2024, 3, 7, 8, 0), "王五"])
    book.save(path)
    assert readers.file_kind(path) == "xlsx"
    result = importer.import_file(db, path)
    assert (result.cases, result.events) == (3, 4)
    assert events(db, result.log_id) == [
        ("007", "提交申请", D(2024, 3, 7, 8, 0), None, "王五", None),
        ("1001", "提交申请", D(2024, 3, 5, 9, 7), None, "张三", None),
        ("1001", "预算审批", D(2024, 3, 5, 11, 30, 15), None, "李四", None),
        ("1002", "提交申请", D(2024, 3, 6, 8, 0), None, None, None),
    ]
    rows = db.execute("SELECT row_no FROM events WHERE log_id = ? ORDER BY row_no", [result.log_id]).fetchall()
    assert [r[0] for r in rows] == [2, 3, 4, 5]  # spreadsheet rows; the header is row 1


def test_parquet_with_timestamp_column(db, tmp_path):
    path = tmp_path / "log.parquet"
    table = pa.table({
        "case_id": pa.array([1001, 1001, 1002], pa.int64()),
        "activity": pa.array(["Plan", "Approve", "Plan"]),
        "timestamp": pa.array([D(2024, 3, 5, 9, 7), D(2024, 3, 5, 11, 30, 15), D(2024, 3, 6, 8, 0)], pa.timestamp("us")),
        "resource": pa.array(["Ann", None, "Bob"]),
    })
    pq.write_table(table, path)
    result = importer.import_file(db, path)
    assert (result.cases, result.events) == (2, 3)
    assert events(db, result.log_id) == [
        ("1001", "Plan", D(2024, 3, 5, 9, 7), None, "Ann", None),
        ("1001", "Approve", D(2024, 3, 5, 11, 30, 15), None, None, None),
        ("1002", "Plan", D(2024, 3, 6, 8, 0), None, "Bob", None),
    ]


def test_parquet_with_time_zone_aware_timestamps(db, tmp_path):
    path = tmp_path / "tz.parquet"
    # 10:07 in Berlin on 5 March (winter time, +01:00) is 09:07 UTC; 14:00 on 1 April (+02:00) is 12:00 UTC.
    berlin = pa.array([D(2024, 3, 5, 9, 7), D(2024, 4, 1, 12, 0)], pa.timestamp("us", tz="UTC")).cast(
        pa.timestamp("us", tz="Europe/Berlin"))
    pq.write_table(pa.table({"case": ["1", "1"], "activity": ["A", "B"], "timestamp": berlin}), path)
    result = importer.import_file(db, path)
    assert [e[2] for e in events(db, result.log_id)] == [D(2024, 3, 5, 9, 7), D(2024, 4, 1, 12, 0)]


XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <trace>
    <string key="concept:name" value="T1"/>
    <string key="region" value="华东"/>
    <event>
      <string key="concept:name" value="提交"/>
      <string key="lifecycle:transition" value="complete"/>
      <string key="org:resource" value="Ann"/>
      <date key="time:timestamp" value="2024-03-05T09:00:00.000+01:00"/>
    </event>
    <event>
      <string key="concept:name" value="审批"/>
      <string key="lifecycle:transition" value="start"/>
      <string key="org:resource" value="Bob"/>
      <date key="time:timestamp" value="2024-03-05T10:00:00.000+01:00"/>
    </event>
    <event>
      <string key="concept:name" value="审批"/>
      <string key="lifecycle:transition" value="complete"/>
      <string key="org:resource" value="Bob"/>
      <date key="time:timestamp" value="2024-03-05T12:30:00.000+01:00"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="T2"/>
    <string key="region" value="华南"/>
    <event>
      <string key="concept:name" value="提交"/>
      <string key="lifecycle:transition" value="complete"/>
      <string key="org:resource" value="Cy"/>
      <date key="time:timestamp" value="2024-03-06T08:00:00.000Z"/>
    </event>
  </trace>
</log>
"""


def test_xes(db, write):
    result = importer.import_file(db, write("tiny.xes", XES))
    assert (result.cases, result.events, result.has_start) == (2, 3, True)
    assert events(db, result.log_id) == [
        ("T1", "提交", D(2024, 3, 5, 8, 0), None, "Ann", None),
        ("T1", "审批", D(2024, 3, 5, 11, 30), D(2024, 3, 5, 9, 0), "Bob", None),
        ("T2", "提交", D(2024, 3, 6, 8, 0), None, "Cy", None),
    ]
    # T1: 08:00 (first event, no start) to 11:30 = 3.5 h; T2 has one event.
    cycles = db.execute("SELECT case_id, cycle_seconds FROM cases WHERE log_id = ? ORDER BY case_id",
                        [result.log_id]).fetchall()
    assert cycles == [("T1", 3.5 * 3600), ("T2", 0.0)]
    # Only the trace's own attributes are case attributes; lifecycle:transition belongs to events.
    attrs = db.execute(
        "SELECT case_id, name, value FROM case_attributes WHERE log_id = ? ORDER BY case_id, name",
        [result.log_id]).fetchall()
    assert attrs == [("T1", "region", "华东"), ("T2", "region", "华南")]


def test_xes_gz(db, write):
    result = importer.import_file(db, write("tiny.xes.gz", XES, gz=True))
    assert (result.cases, result.events) == (2, 3)


def test_xlsx_duplicate_headers_keep_every_column(db, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["case", "activity", "timestamp", "a", "a", "a_1"])
    sheet.append(["1", "A", "2024-03-05 09:00", "p", "q", "r"])
    sheet.append(["1", "B", "2024-03-05 10:00", "p", "q2", "r"])
    path = tmp_path / "dup.xlsx"
    book.save(path)
    inspection = importer.inspect_file(db, path)
    assert inspection.columns == ["case", "activity", "timestamp", "a", "a_2", "a_1"]
    result = importer.import_file(db, path)
    attrs = db.execute("SELECT attrs FROM events WHERE log_id = ? ORDER BY pos", [result.log_id]).fetchall()
    assert [a[0]["a_2"] for a in attrs] == ["q", "q2"]  # the varying column survives as an event attribute
