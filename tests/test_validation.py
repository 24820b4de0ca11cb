"""The validation report: which rows are wrong and why, strict imports, and what --drop-invalid keeps."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from analysis import importer, writing

D = dt.datetime
GOOD = "case,activity,timestamp\n1,A,2024-03-05 09:00\n1,B,2024-03-05 10:00\n2,A,2024-03-06 09:00\n2,B,2024-03-06 11:00\n"


def by_code(problems) -> dict:
    """Problems keyed by code (each code appears once in a report)."""
    codes = [p.code for p in problems]
    assert len(codes) == len(set(codes)), codes
    return {p.code: p for p in problems}


def failed(con, path, options: importer.ImportOptions | None = None) -> dict:
    """Import `path`, expect ImportFailed, and return its problems by code."""
    with pytest.raises(importer.ImportFailed) as info:
        importer.import_file(con, path, options)
    return by_code(info.value.problems)


def snapshot(con) -> dict[str, list[str]]:
    """Every row of every table in the store (sorted), to compare a database before and after."""
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY table_name").fetchall()]
    return {t: sorted(repr(row) for row in con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables}


def row_numbers(con, log_id: int) -> list[int]:
    """The source rows a log's events came from."""
    return [r[0] for r in con.execute("SELECT row_no FROM events WHERE log_id = ? ORDER BY row_no", [log_id]).fetchall()]


MISSING = (
    "case,activity,timestamp\n"
    "1,A,2024-03-05 09:00\n"   # row 2
    ",B,2024-03-05 10:00\n"    # row 3: no case
    "1,,2024-03-05 11:00\n"    # row 4: no activity
    "1,C,\n"                   # row 5: no timestamp
    "2,A,2024-03-06 09:00\n"   # row 6
    "  ,B,2024-03-06 10:00\n"  # row 7: a blank case id is no case id
    "2,B,2024-03-06 10:00\n"   # row 8
)


def test_missing_values_listed_by_row(db, write):
    path = write("missing.csv", MISSING)
    ins = importer.inspect_file(db, path)
    problems = by_code(ins.problems)
    assert (problems["missing_case"].count, problems["missing_case"].rows) == (2, [3, 7])
    assert (problems["missing_activity"].count, problems["missing_activity"].rows) == (1, [4])
    assert (problems["missing_timestamp"].count, problems["missing_timestamp"].rows) == (1, [5])
    for code in ("missing_case", "missing_activity", "missing_timestamp"):
        assert problems[code].severity == "error"
    assert (ins.n_rows, ins.n_valid, ins.n_cases) == (7, 3, 2)
    # Strict by default: the same problems stop the import.
    problems = failed(db, path)
    assert problems["missing_case"].rows == [3, 7]
    assert problems["missing_activity"].rows == [4]
    assert problems["missing_timestamp"].rows == [5]


def test_drop_invalid_keeps_only_valid_rows(db, write):
    result = importer.import_file(db, write("missing.csv", MISSING), importer.ImportOptions(drop_invalid=True))
    assert (result.cases, result.events, result.dropped_rows) == (2, 3, 4)
    assert row_numbers(db, result.log_id) == [2, 6, 8]
    assert db.execute("SELECT n_dropped FROM logs WHERE log_id = ?", [result.log_id]).fetchone()[0] == 4
    # Case 1 keeps one event once the broken rows are gone.
    assert by_code(result.problems)["single_event_cases"].examples == ["1"]


def test_unparseable_timestamps_with_rows_and_examples(db, write):
    text = (
        "case,activity,timestamp\n"
        "1,A,2024-03-05 09:00\n"   # 2
        "1,B,2024-03-05 10:00\n"   # 3
        "1,C,garbage\n"            # 4
        "2,A,2024-03-06 09:00\n"   # 5
        "2,B,2024-13-45 10:00\n"   # 6: month 13
        "2,C,2024-03-06 11:00\n"   # 7
        "3,A,n/a\n"                # 8
        "3,B,2024-03-07 09:00\n"   # 9
        "3,C,2024-03-07 10:00\n"   # 10
    )
    problems = failed(db, write("bad_ts.csv", text))
    bad = problems["bad_timestamp"]
    assert (bad.severity, bad.count, bad.rows) == ("error", 3, [4, 6, 8])
    assert bad.examples == ["garbage", "2024-13-45 10:00", "n/a"]
    assert bad.params["column"] == "timestamp"
    assert "timestamp" in bad.message()


def test_one_bad_value_does_not_spoil_the_rows_of_its_shape(db, write):
    # The typo has the same shape as the good values and sits among the few examples detection looks at.
    text = (
        "case,activity,timestamp\n"
        "1,A,2024-03-05 09:00\n"
        "1,B,2024-31-12 10:00\n"   # row 3: day and month swapped
        "2,A,2024-03-06 09:00\n"
        "2,B,2024-03-06 10:00\n"
    )
    path = write("typo.csv", text)
    bad = by_code(importer.inspect_file(db, path).problems)["bad_timestamp"]
    assert (bad.count, bad.rows, bad.examples) == (1, [3], ["2024-31-12 10:00"])
    result = importer.import_file(db, path, importer.ImportOptions(drop_invalid=True))
    assert (result.events, result.dropped_rows) == (3, 1)


def test_start_after_end(db, write):
    text = (
        "Case ID,Activity,Start Timestamp,Complete Timestamp\n"
        "1,A,2024-03-05 09:00,2024-03-05 10:00\n"
        "1,B,2024-03-05 12:00,2024-03-05 11:00\n"   # row 3
        "1,C,2024-03-05 12:00,2024-03-05 12:00\n"   # zero duration is fine
    )
    path = write("start_end.csv", text)
    problems = failed(db, path)
    assert set(problems) == {"start_after_end"}
    assert (problems["start_after_end"].count, problems["start_after_end"].rows) == (1, [3])
    assert problems["start_after_end"].examples == ["2024-03-05 12:00 > 2024-03-05 11:00"]
    result = importer.import_file(db, path, importer.ImportOptions(drop_invalid=True))
    assert (result.events, result.dropped_rows) == (2, 1)


def test_duplicates_are_a_warning(db, write):
    text = (
        "case,activity,timestamp,resource\n"
        "1,A,2024-03-05 09:00,Ann\n"   # 2
        "1,A,2024-03-05 09:00,Ann\n"   # 3: repeats row 2
        "1,B,2024-03-05 10:00,Bob\n"   # 4
        "2,A,2024-03-05 09:00,Ann\n"   # 5: same as row 2 but another case
        "2,A,2024-03-05 09:00,Cy\n"    # 6: another resource, not a duplicate
        "2,B,2024-03-05 11:00,Bob\n"   # 7
    )
    path = write("dups.csv", text)
    result = importer.import_file(db, path)
    problems = by_code(result.problems)
    assert (problems["duplicates"].severity, problems["duplicates"].count, problems["duplicates"].rows) == (
        "warning", 1, [3])
    assert result.events == 6
    result = importer.import_file(db, path, importer.ImportOptions(drop_duplicates=True))
    assert result.events == 5
    assert row_numbers(db, result.log_id) == [2, 4, 5, 6, 7]


def test_single_event_cases_are_a_warning(db, write):
    text = (
        "case,activity,timestamp\n"
        "1,A,2024-03-05 09:00\n"
        "1,B,2024-03-05 10:00\n"
        "3,A,2024-03-05 09:00\n"
        "2,A,2024-03-05 09:00\n"
    )
    result = importer.import_file(db, write("single.csv", text))
    single = by_code(result.problems)["single_event_cases"]
    assert (single.severity, single.count, single.examples) == ("warning", 2, ["2", "3"])


def test_ties_are_a_warning(db, write):
    text = (
        "case,activity,timestamp\n"
        "1,A,2024-03-05 09:00\n"   # 2 tie
        "1,B,2024-03-05 09:00\n"   # 3 tie
        "1,C,2024-03-05 10:00\n"   # 4
        "2,A,2024-03-05 09:00\n"   # 5: same time as rows 2-3 but another case
        "2,B,2024-03-05 10:00\n"   # 6
    )
    result = importer.import_file(db, write("ties.csv", text))
    ties = by_code(result.problems)["ties"]
    assert (ties.severity, ties.count, ties.rows) == ("warning", 2, [2, 3])


def test_dates_before_1970_and_in_the_future_are_warnings(db, write):
    text = (
        "case,activity,timestamp\n"
        "1,A,1969-12-31 23:00\n"   # 2
        "1,B,2024-03-05 10:00\n"   # 3
        "2,A,2024-03-05 09:00\n"   # 4
        "2,B,2999-01-01 00:00\n"   # 5
        "3,A,1900-01-01 00:00\n"   # 6: a placeholder date
        "3,B,2024-03-05 09:00\n"   # 7
    )
    result = importer.import_file(db, write("odd.csv", text))
    problems = by_code(result.problems)
    old, future = problems["before_1970"], problems["in_future"]
    assert (old.severity, old.count, old.rows, old.examples) == (
        "warning", 2, [2, 6], ["1969-12-31 23:00", "1900-01-01 00:00"])
    assert (future.severity, future.count, future.rows, future.examples) == (
        "warning", 1, [5], ["2999-01-01 00:00"])
    assert result.events == 6


MALFORMED = (
    "case,activity,timestamp\n"
    "1,A,2024-03-05 09:00\n"         # 2
    "1,B,2024-03-05 10:00,extra\n"   # 3: one field too many
    "2,A,2024-03-05 09:00\n"         # 4
    "2,B,2024-03-05 11:00,x,y\n"     # 5: two too many
    "2,C,2024-03-05 12:00\n"         # 6
)


def test_malformed_rows_listed_by_row(db, write):
    problems = failed(db, write("malformed.csv", MALFORMED))
    malformed = problems["malformed_rows"]
    assert (malformed.severity, malformed.count, malformed.rows) == ("error", 2, [3, 5])


def test_malformed_rows_dropped_keep_their_row_numbers(db, write):
    result = importer.import_file(db, write("malformed.csv", MALFORMED), importer.ImportOptions(drop_invalid=True))
    assert (result.cases, result.events, result.dropped_rows) == (2, 3, 2)
    # The rows after a skipped one keep the numbers they have in the file.
    assert row_numbers(db, result.log_id) == [2, 4, 6]


def test_malformed_row_does_not_shift_later_row_numbers_in_the_report(db, write):
    text = (
        "case,activity,timestamp\n"
        "1,A,2024-03-05 09:00\n"         # 2
        "1,B,2024-03-05 10:00,extra\n"   # 3: too many fields
        "1,C,\n"                         # 4: no timestamp
    )
    problems = failed(db, write("both.csv", text))
    assert problems["malformed_rows"].rows == [3]
    assert problems["missing_timestamp"].rows == [4]


def test_blank_line_counts_as_a_row(db, write):
    # Row numbers are what a user sees in an editor or spreadsheet, blank lines included.
    text = "case,activity,timestamp\n1,A,2024-03-05 09:00\n\n1,,2024-03-05 10:00\n"
    problems = failed(db, write("blank.csv", text))
    assert problems["missing_activity"].rows == [4]


def test_empty_file(db, write):
    path = write("empty.csv", b"")
    problems = failed(db, path)
    assert list(problems) == ["read_error"]
    assert "empty" in problems["read_error"].message()
    with pytest.raises(importer.ImportFailed):
        importer.inspect_file(db, path)


def test_header_only_file(db, write):
    problems = failed(db, write("header.csv", "case,activity,timestamp\n"))
    assert list(problems) == ["no_rows"]


def test_xlsx_row_numbers_are_spreadsheet_rows(db, tmp_path):
    path = tmp_path / "gap.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["case", "activity", "timestamp"])      # row 1
    sheet.append(["1", "A", D(2024, 3, 5, 9, 0)])         # row 2
    sheet.append([None, None, None])                      # row 3: left blank
    sheet.append(["1", "B", D(2024, 3, 5, 10, 0)])        # row 4
    sheet.append(["1", None, D(2024, 3, 5, 11, 0)])       # row 5: no activity
    book.save(path)
    problems = failed(db, path)
    assert problems["missing_activity"].rows == [5]


def test_failed_import_leaves_the_database_unchanged(db, write):
    first = importer.import_file(db, write("good.csv", GOOD))
    assert first.log_id == 1
    before = snapshot(db)
    assert len(before["events"]) == 4
    attempts = [
        write("missing.csv", MISSING),
        write("malformed.csv", MALFORMED),
        write("empty.csv", b""),
        write("header.csv", "case,activity,timestamp\n"),
        write("ambiguous.csv", "case,Activity,Task,timestamp\n1,A,a,2024-03-05 09:00\n"),
        write("nocase.csv", "activity,timestamp\nA,2024-03-05 09:00\n"),
    ]
    for path in attempts:
        with pytest.raises(importer.ImportFailed):
            importer.import_file(db, path)
        assert snapshot(db) == before, path.name
    # Nothing was used up either: the next log is number 2.
    assert importer.import_file(db, write("good2.csv", GOOD)).log_id == 2


def test_failure_while_writing_rolls_everything_back(db, write, monkeypatch):
    importer.import_file(db, write("good.csv", GOOD))
    before = snapshot(db)

    def broken(cur, log_id):
        raise RuntimeError("disk full")

    # Events are already inserted when the case facts fail; none of them may stay.
    monkeypatch.setattr(writing, "_write_cases", broken)
    with pytest.raises(RuntimeError):
        importer.import_file(db, write("again.csv", GOOD))
    assert snapshot(db) == before


def test_inspect_writes_nothing(db, write):
    before = snapshot(db)
    ins = importer.inspect_file(db, write("good.csv", GOOD))
    assert (ins.kind, ins.n_rows, ins.n_valid, ins.n_cases) == ("csv", 4, 4, 2)
    assert ins.errors == []
    assert snapshot(db) == before


def test_exclude_disco_start_and_end(db, write):
    text = (
        "case,activity,timestamp\n"
        "1,Start,2024-03-05 09:00\n"
        "1,A,2024-03-05 09:00\n"
        "1,B,2024-03-05 10:00\n"
        "1,End,2024-03-05 10:00\n"
        "2,Start,2024-03-06 09:00\n"
        "2,A,2024-03-06 09:30\n"
        "2,End,2024-03-06 09:30\n"
    )
    options = importer.ImportOptions(exclude_activities=("Start", "End"))
    result = importer.import_file(db, write("disco.csv", text), options)
    assert (result.cases, result.events) == (2, 3)
    rows = db.execute("SELECT case_id, activity, pos FROM events WHERE log_id = ? ORDER BY case_id, pos",
                      [result.log_id]).fetchall()
    assert rows == [("1", "A", 1), ("1", "B", 2), ("2", "A", 1)]
    problems = by_code(result.problems)
    assert (problems["excluded_activities"].severity, problems["excluded_activities"].count) == ("info", 4)
    assert "ties" not in problems  # the ties were only with the artificial Start/End events


def test_unclosed_quote_names_its_row_and_cannot_be_dropped(db, write):
    # Row 4 opens a quote that never closes: DuckDB would swallow rows 5-7 into one value.
    text = ('case,activity,timestamp\n1,A,2024-03-05 09:00\n1,B,2024-03-05 10:00\n2,"A,2024-03-05 11:00\n'
            '2,B,2024-03-05 12:00\n3,A,2024-03-05 13:00\n3,B,2024-03-05 14:00\n')
    path = write("quote.csv", text)
    with pytest.raises(importer.ImportFailed) as failed:
        importer.import_file(db, path, importer.ImportOptions(drop_invalid=True))
    quote = next(p for p in failed.value.problems if p.code == "unclosed_quote")
    assert quote.rows == [4]
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_xes_start_without_complete_is_noted(db, write):
    xes = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0"><trace><string key="concept:name" value="c1"/>
<event><string key="concept:name" value="A"/><string key="lifecycle:transition" value="start"/>
<date key="time:timestamp" value="2024-03-05T09:00:00+00:00"/></event>
<event><string key="concept:name" value="A"/><string key="lifecycle:transition" value="complete"/>
<date key="time:timestamp" value="2024-03-05T09:30:00+00:00"/></event>
<event><string key="concept:name" value="B"/><string key="lifecycle:transition" value="start"/>
<date key="time:timestamp" value="2024-03-05T10:00:00+00:00"/></event>
</trace></log>"""
    result = importer.import_file(db, write("starts.xes", xes))
    note = next(p for p in result.problems if p.code == "unpaired_starts")
    assert (note.severity, note.count) == ("info", 1)
    assert result.events == 2  # A (paired start/complete) and B (a start alone)
