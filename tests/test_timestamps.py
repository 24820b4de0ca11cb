"""Timestamp detection and parsing: one column at a time, and through a whole import."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from analysis import importer, timestamps
from analysis.sql import query

D = dt.datetime


def parse(con, values: list[str], forced: str | None = None) -> tuple[timestamps.ColumnFormat, list[D | None]]:
    """Detect the format of a one-column table holding `values`, and parse it (UTC, naive)."""
    con.execute("CREATE OR REPLACE TEMP TABLE t (v VARCHAR, i INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [[v, i] for i, v in enumerate(values)])
    fmt = timestamps.detect_column_format(con, "t", "v", forced)
    parsed = timestamps.parse_sql(fmt, '"v"')
    rows = query(f"SELECT {parsed.text} FROM t ORDER BY i", parsed).rows(con)
    return fmt, [r[0] for r in rows]


def imported(con, write, column: list[str], options: importer.ImportOptions | None = None, start: list[str] | None = None):
    """Import a one-case log whose timestamp (and start) column holds `column`; returns (result, ts, start_ts) in file order."""
    header = "case,activity,timestamp" + (",start" if start else "")
    lines = [header]
    for i, value in enumerate(column):
        lines.append(f"1,A{i},{value}" + (f",{start[i]}" if start else ""))
    path = write("ts.csv", "\n".join(lines) + "\n")
    result = importer.import_file(con, path, options)
    rows = con.execute("SELECT ts, start_ts FROM events WHERE log_id = ? ORDER BY row_no", [result.log_id]).fetchall()
    return result, [r[0] for r in rows], [r[1] for r in rows]


# ---------------------------------------------------------------------------------------------
# One column


def test_iso_with_t_fraction_z_and_offsets(db):
    fmt, got = parse(db, [
        "2024-03-05T09:07:00",
        "2024-03-05T09:07:30.250",
        "2024-03-05T09:07:00Z",
        "2024-03-05T11:07:00+02:00",
        "2024-03-05T04:07:00-05:00",
    ])
    # Every value with an offset becomes the same UTC instant.
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 5, 9, 7, 30, 250000), D(2024, 3, 5, 9, 7),
                   D(2024, 3, 5, 9, 7), D(2024, 3, 5, 9, 7)]
    assert fmt.has_offsets


def test_iso_with_space_and_seconds(db):
    _, got = parse(db, ["2024-03-05 09:07:05", "2024-12-31 23:59:59"])
    assert got == [D(2024, 3, 5, 9, 7, 5), D(2024, 12, 31, 23, 59, 59)]


def test_slashes_year_first_without_padding(db):
    _, got = parse(db, ["2024/3/5 9:07", "2024/12/25 14:30"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 12, 25, 14, 30)]


def test_day_first_decided_by_a_day_above_12(db):
    fmt, got = parse(db, ["5/3/2024 09:07", "13/3/2024 10:00"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 13, 10, 0)]
    assert (fmt.day_first, fmt.day_first_source) == (True, "values")


def test_month_first_decided_by_a_day_above_12(db):
    fmt, got = parse(db, ["3/5/2024 09:07", "3/13/2024 10:00"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 13, 10, 0)]
    assert (fmt.day_first, fmt.day_first_source) == (False, "values")


def test_day_first_assumed_when_no_value_tells(db):
    fmt, got = parse(db, ["5/3/2024 09:07", "6/3/2024 10:00"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 6, 10, 0)]
    assert (fmt.day_first, fmt.day_first_source) == (True, "assumed")


def test_month_first_forced(db):
    fmt, got = parse(db, ["5/3/2024 09:07", "6/3/2024 10:00"], forced="monthfirst")
    assert got == [D(2024, 5, 3, 9, 7), D(2024, 6, 3, 10, 0)]
    assert (fmt.day_first, fmt.day_first_source) == (False, "forced")


def test_twelve_hour_clock_month_first(db):
    fmt, got = parse(db, ["3/5/2024 9:07 PM", "3/13/2024 10:00 AM", "3/14/2024 12:30 AM"])
    assert got == [D(2024, 3, 5, 21, 7), D(2024, 3, 13, 10, 0), D(2024, 3, 14, 0, 30)]
    assert fmt.day_first is False


def test_dotted_day_month_year(db):
    _, got = parse(db, ["05.03.2024 09:07", "25.12.2024 18:00"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 12, 25, 18, 0)]


def test_chinese_date_and_time(db):
    _, got = parse(db, ["2024年3月5日 9时7分", "2024年12月25日 14时30分"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 12, 25, 14, 30)]


def test_chinese_date_only(db):
    _, got = parse(db, ["2024年3月5日", "2024年12月25日"])
    assert got == [D(2024, 3, 5), D(2024, 12, 25)]


def test_chinese_date_with_seconds(db):
    _, got = parse(db, ["2024年3月5日 9时7分30秒"])
    assert got == [D(2024, 3, 5, 9, 7, 30)]


def test_two_digit_years(db):
    # 5/3/24 is 5 March 2024 (day first assumed), not the 24th of March in the year 5.
    _, got = parse(db, ["5/3/24 09:07", "6/3/24 10:00"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 6, 10, 0)]
    _, got = parse(db, ["05.03.24 09:07", "06.03.24"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 6)]


def test_month_names_compact_dates_and_unpadded_iso(db):
    _, got = parse(db, ["5-Mar-2024 09:07", "13-Mar-2024 10:00"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 13, 10, 0)]
    _, got = parse(db, ["20240305", "20241225"])
    assert got == [D(2024, 3, 5), D(2024, 12, 25)]
    _, got = parse(db, ["2024-3-5 9:07", "2024-3-15 10:00"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 15, 10, 0)]


def test_epoch_seconds(db):
    # 2024-03-05 is day 19,787 after 1970-01-01: 19,787 * 86,400 + 9 h 7 min = 1,709,629,620.
    _, got = parse(db, ["1709629620", "1709633220"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 5, 10, 7)]


def test_epoch_milliseconds(db):
    _, got = parse(db, ["1709629620000", "1709629620500"])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 5, 9, 7, 0, 500000)]


def test_excel_serial_dates(db):
    # Day 0 is 1899-12-30; 1970-01-01 is day 25,569, so 2024-03-05 is 25,569 + 19,787 = 45,356.
    _, got = parse(db, ["45356.5", "45357.25"])
    assert got == [D(2024, 3, 5, 12, 0), D(2024, 3, 6, 6, 0)]


def test_date_only_values(db):
    _, got = parse(db, ["2024-03-05", "2024-03-06"])
    assert got == [D(2024, 3, 5), D(2024, 3, 6)]
    fmt, got = parse(db, ["05/03/2024", "13/03/2024"])
    assert got == [D(2024, 3, 5), D(2024, 3, 13)]
    assert fmt.day_first is True


def test_mixed_formats_in_one_column(db):
    fmt, got = parse(db, [
        "2024-03-05T09:07:00",
        "2024/3/6 10:00",
        "07.03.2024 11:30",
        "2024年3月8日 9时7分",
        "2024-03-09 08:00",
    ])
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 6, 10, 0), D(2024, 3, 7, 11, 30), D(2024, 3, 8, 9, 7),
                   D(2024, 3, 9, 8, 0)]
    assert len(fmt.shapes) == 5


def test_forced_strptime_format(db):
    _, got = parse(db, ["05-03-2024:09.07", "13-03-2024:17.45"], forced="%d-%m-%Y:%H.%M")
    assert got == [D(2024, 3, 5, 9, 7), D(2024, 3, 13, 17, 45)]
    # Forcing wins over detection even where detection would read the values differently.
    _, got = parse(db, ["05-03-2024:09.07"], forced="%m-%d-%Y:%H.%M")
    assert got == [D(2024, 5, 3, 9, 7)]


def test_unparseable_values_give_null(db):
    fmt, got = parse(db, ["2024-03-05 09:07", "garbage"])
    assert got == [D(2024, 3, 5, 9, 7), None]
    assert fmt.parseable


# ---------------------------------------------------------------------------------------------
# Through an import (events.ts read back)


def test_import_offsets_become_utc_instants(db, write):
    _, ts, _ = imported(db, write, ["2024-03-05T09:07:00Z", "2024-03-05T12:07:00+02:00", "2024-03-05T06:07:00-05:00"])
    assert ts == [D(2024, 3, 5, 9, 7), D(2024, 3, 5, 10, 7), D(2024, 3, 5, 11, 7)]


def test_import_day_first_from_values(db, write):
    _, ts, _ = imported(db, write, ["5/3/2024 09:07", "13/3/2024 10:00"])
    assert ts == [D(2024, 3, 5, 9, 7), D(2024, 3, 13, 10, 0)]


def test_import_month_first_from_values(db, write):
    _, ts, _ = imported(db, write, ["3/5/2024 09:07", "3/13/2024 10:00"])
    assert ts == [D(2024, 3, 5, 9, 7), D(2024, 3, 13, 10, 0)]


def test_import_day_first_assumed_is_reported(db, write):
    result, ts, _ = imported(db, write, ["5/3/2024 09:07", "6/3/2024 10:00"])
    assert ts == [D(2024, 3, 5, 9, 7), D(2024, 3, 6, 10, 0)]
    assumed = [p for p in result.problems if p.code == "dayfirst_assumed"]
    assert len(assumed) == 1 and assumed[0].severity == "info"
    assert assumed[0].params["column"] == "timestamp"


def test_import_month_first_forced(db, write):
    result, ts, _ = imported(db, write, ["5/3/2024 09:07", "6/3/2024 10:00"],
                             importer.ImportOptions(timestamp_format="monthfirst"))
    assert ts == [D(2024, 5, 3, 9, 7), D(2024, 6, 3, 10, 0)]
    assert not [p for p in result.problems if p.code == "dayfirst_assumed"]


def test_import_forced_strptime_format(db, write):
    _, ts, _ = imported(db, write, ["05-03-2024:09.07", "06-03-2024:10.30"],
                        importer.ImportOptions(timestamp_format="%d-%m-%Y:%H.%M"))
    assert ts == [D(2024, 3, 5, 9, 7), D(2024, 3, 6, 10, 30)]


@pytest.mark.parametrize(
    "values, expected",
    [
        (["05.03.2024 09:07", "06.03.2024 10:00"], [D(2024, 3, 5, 9, 7), D(2024, 3, 6, 10, 0)]),
        (["2024年3月5日 9时7分", "2024年3月6日 10时0分"], [D(2024, 3, 5, 9, 7), D(2024, 3, 6, 10, 0)]),
        (["2024/3/5 9:07", "2024/3/6 10:00"], [D(2024, 3, 5, 9, 7), D(2024, 3, 6, 10, 0)]),
        (["1709629620", "1709633220"], [D(2024, 3, 5, 9, 7), D(2024, 3, 5, 10, 7)]),
        (["1709629620000", "1709633220000"], [D(2024, 3, 5, 9, 7), D(2024, 3, 5, 10, 7)]),
        (["45356.5", "45357.25"], [D(2024, 3, 5, 12, 0), D(2024, 3, 6, 6, 0)]),
        (["2024-03-05", "2024-03-06"], [D(2024, 3, 5), D(2024, 3, 6)]),
    ],
    ids=["dotted", "chinese", "slashes", "epoch_s", "epoch_ms", "excel", "date_only"],
)
def test_import_formats(db, write, values, expected):
    _, ts, _ = imported(db, write, values)
    assert ts == expected


def test_import_mixed_formats(db, write):
    _, ts, _ = imported(db, write, ["2024-03-05T09:07:00", "2024/3/6 10:00", "07.03.2024 11:30",
                                    "2024年3月8日 9时7分"])
    assert ts == [D(2024, 3, 5, 9, 7), D(2024, 3, 6, 10, 0), D(2024, 3, 7, 11, 30), D(2024, 3, 8, 9, 7)]


def test_cycle_time_across_dst_change_is_exact(db, write):
    # Europe: clocks go from +01:00 to +02:00 on 2024-03-31; noon to noon is 23 hours.
    result, ts, _ = imported(db, write, ["2024-03-30T12:00:00+01:00", "2024-03-31T12:00:00+02:00"])
    assert ts == [D(2024, 3, 30, 11, 0), D(2024, 3, 31, 10, 0)]
    cycle = db.execute("SELECT cycle_seconds FROM cases WHERE log_id = ?", [result.log_id]).fetchone()[0]
    assert cycle == 23 * 3600


def test_all_empty_start_column_means_no_start(db, write):
    text = (
        "Case ID,Activity,Start Timestamp,Complete Timestamp\n"
        "1,A,,2024-03-05 09:00\n"
        "1,B,,2024-03-05 10:00\n"
    )
    path = write("nostart.csv", text)
    result = importer.import_file(db, path)
    assert not result.has_start
    assert (result.cases, result.events) == (1, 2)
    assert db.execute("SELECT count(start_ts) FROM events WHERE log_id = ?", [result.log_id]).fetchone()[0] == 0
    assert db.execute("SELECT has_start FROM logs WHERE log_id = ?", [result.log_id]).fetchone()[0] is False


def test_all_empty_start_column_chosen_explicitly(db, write):
    text = "case,activity,begin,timestamp\n1,A,,2024-03-05 09:00\n1,B,,2024-03-05 10:00\n"
    path = write("nostart.csv", text)
    result = importer.import_file(db, path, importer.ImportOptions(columns={"start": "begin"}))
    assert not result.has_start
    assert [p.code for p in result.problems if p.code == "no_start"] == ["no_start"]


def test_start_and_end_parsed(db, write):
    _, ts, start = imported(db, write, ["2024-03-05 10:00", "2024-03-05 12:00"],
                            start=["2024-03-05 09:00", "2024-03-05 11:15"])
    assert ts == [D(2024, 3, 5, 10, 0), D(2024, 3, 5, 12, 0)]
    assert start == [D(2024, 3, 5, 9, 0), D(2024, 3, 5, 11, 15)]


def test_offsets_become_utc_whatever_the_server_time_zone(cli, write):
    # 12:00 UTC on 30 and 31 March 2024 (Europe switches to summer time in between): exactly 24 h,
    # and stored as 12:00, also when the machine runs in Shanghai or Berlin time.
    path = write("utc.csv", "case,activity,timestamp\nc1,A,2024-03-30T12:00:00+00:00\nc1,B,2024-03-31T12:00:00+00:00\n")
    for zone in ("Asia/Shanghai", "Europe/Berlin"):
        db = path.parent / f"{zone.replace('/', '_')}.duckdb"
        code, _, err = cli("import", path, db=db, env={"TZ": zone})
        assert code == 0, err
        code, out, _ = cli("summary", "1", "--json", db=db, env={"TZ": zone})
        summary = json.loads(out)
        assert summary["cycle_time_seconds"]["median"] == 86400
        assert summary["first_timestamp"] == "2024-03-30T12:00:00"


def test_day_month_order_decided_by_rows_after_the_sample(db, write):
    # 12,000 dates that fit both orders, then one that only fits month-first (03/25).
    rows = ["case,activity,timestamp"]
    rows += [f"c{i},A,0{1 + i % 9}/0{1 + i % 9}/2024 10:00" for i in range(12_000)]
    rows += ["late,A,03/25/2024 10:00", "late,B,03/26/2024 10:00"]
    result = importer.import_file(db, write("dm.csv", "\n".join(rows) + "\n"))
    assert result.events == 12_002 and result.dropped_rows == 0
    got = db.execute("SELECT strftime(ts, '%Y-%m-%d') FROM events WHERE case_id = 'late' ORDER BY pos").fetchall()
    assert got == [("2024-03-25",), ("2024-03-26",)]


def test_unusable_format_is_reported_plainly(cli, write):
    path = write("f.csv", "case,activity,timestamp\n1,A,2024-03-05\n")
    code, out, err = cli("import", path, "--format", "%Q")
    assert code == 2 and "Traceback" not in err
    assert "'%Q' cannot be used" in err
