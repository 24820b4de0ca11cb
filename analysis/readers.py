"""Readers: any supported file into one all-text staging table, without per-row Python for CSV and Parquet."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from analysis import sniff
from analysis.store import quote_ident

RAW = "raw_rows"  # the staging table, a TEMP table of the import's own cursor


@dataclass
class Staged:
    """What a reader put into the staging table, and what it found on the way."""

    kind: str                      # csv | xlsx | parquet | xes
    columns: list[str]
    n_rows: int
    row_offset: int                # row_no = rowid + row_offset (the header is row 1)
    encoding: str = ""
    delimiter: str = ""
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (row, error, text), first few
    n_rejects: int = 0             # malformed rows left out by the reader
    skipped: list[int] = field(default_factory=list)  # row numbers not in RAW (malformed or empty rows)


class ReadError(Exception):
    """The file cannot be read as a table at all."""


def file_kind(path: str | os.PathLike) -> str:
    """csv, xlsx, parquet or xes, from the name (gz stripped) and, for XES and Parquet, the content."""
    name = str(path).lower()
    base = name[:-3] if name.endswith(".gz") else name
    if base.endswith(".xes"):
        return "xes"
    if base.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if base.endswith((".parquet", ".pq")):
        return "parquet"
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1":
        return "parquet"
    if magic[:2] == b"PK":
        return "xlsx"
    return "csv"


def stage(cur: duckdb.DuckDBPyConnection, path: str | os.PathLike) -> Staged:
    """Read `path` into the TEMP table RAW (every column VARCHAR, rows in file order)."""
    path = Path(path)
    if not path.exists():
        raise ReadError(f"No such file: {path}")
    if path.stat().st_size == 0:
        raise ReadError("The file is empty (0 bytes).")
    kind = file_kind(path)
    cur.execute(f"DROP TABLE IF EXISTS {RAW}")
    try:
        if kind == "csv":
            return _stage_csv(cur, path)
        if kind == "parquet":
            return _stage_parquet(cur, path)
        if kind == "xlsx":
            return _stage_xlsx(cur, path)
        return _stage_xes(cur, path)
    except ReadError:
        raise
    except (duckdb.Error, OSError, ValueError, UnicodeDecodeError) as exc:
        raise ReadError(str(exc).splitlines()[0]) from None


def _stage_csv(cur: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    """CSV/TSV (optionally gzipped, any supported encoding) through DuckDB's reader."""
    dialect = sniff.sniff(path)
    _read_csv(cur, path, dialect)
    bad_bytes = cur.execute(
        "SELECT min(byte_position) FROM reject_errors WHERE error_type = 'INVALID ENCODING'").fetchone()[0]
    if bad_bytes is not None and dialect.encoding in ("utf-8", "utf-8-sig"):
        # The first megabyte looked like UTF-8 but later bytes are not: guess again from the bytes there.
        sample = sniff.read_around(path, int(bad_bytes))
        dialect = sniff.TextDialect(sniff.detect_encoding(sample, utf8_possible=False), dialect.delimiter,
                                    dialect.compressed)
        cur.execute(f"DROP TABLE IF EXISTS {RAW}")
        cur.execute("DELETE FROM reject_errors")
        cur.execute("DELETE FROM reject_scans")
        _read_csv(cur, path, dialect)
    columns = [d[0] for d in cur.execute(f"SELECT * FROM {RAW} LIMIT 0").description]
    # DuckDB lists a row once per surplus field; a row is one problem.
    rejects = cur.execute(
        "SELECT line, min(error_type), left(min(csv_line), 200) FROM reject_errors GROUP BY line ORDER BY line"
    ).fetchall()
    n_rows = cur.execute(f"SELECT count(*) FROM {RAW}").fetchone()[0]
    blanks = sniff.blank_records(path) if dialect.encoding in ("utf-8", "utf-8-sig") else []
    skipped = sorted({int(r[0]) for r in rejects} | set(blanks))
    return Staged("csv", columns, n_rows, 2, dialect.encoding, dialect.delimiter,
                  [(int(r[0]), str(r[1]), str(r[2])) for r in rejects[:10]], len(rejects), skipped)


def _read_csv(cur: duckdb.DuckDBPyConnection, path: Path, dialect: sniff.TextDialect) -> None:
    """Create RAW from a delimited file, transcoding it first when DuckDB cannot read its encoding."""
    copy = sniff.utf8_copy(path, dialect)
    source = copy or path
    compression = "gzip" if dialect.compressed and copy is None else "none"
    try:
        # Every column as text: case ids such as 'NA' or '007' stay exactly as written, and
        # timestamps are parsed by our own detection, which reports the rows that fail.
        cur.execute(
            f"CREATE TEMP TABLE {RAW} AS SELECT * FROM read_csv(?, delim = ?, quote = '\"', escape = '\"', "
            "header = true, all_varchar = true, skip = 0, comment = '', store_rejects = true, "
            "max_line_size = 10000000, null_padding = false, compression = ?)",
            [str(source), dialect.delimiter, compression],
        )
    except duckdb.Error as exc:
        raise ReadError(str(exc).splitlines()[0]) from None
    finally:
        if copy:
            copy.unlink(missing_ok=True)


def _stage_parquet(cur: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    """Parquet through DuckDB; typed columns become text so one pipeline handles every source."""
    columns = [d[0] for d in cur.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(path)]).description]
    select = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns)
    cur.execute(f"CREATE TEMP TABLE {RAW} AS SELECT {select} FROM read_parquet(?)", [str(path)])
    n_rows = cur.execute(f"SELECT count(*) FROM {RAW}").fetchone()[0]
    return Staged("parquet", columns, n_rows, 1)


def _cell_text(value) -> str | None:
    """An Excel cell as text: dates in ISO form, whole numbers without '.0'."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text != "" else None


def _stage_xlsx(cur: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    """The first worksheet of an XLSX file (the header in its first row)."""
    import openpyxl  # only needed for Excel files
    import pyarrow as pa

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ReadError("The first worksheet is empty.")
        names = _unique_names([_cell_text(h) or f"column{i}" for i, h in enumerate(header)])
        data: list[list[str | None]] = [[] for _ in names]
        skipped: list[int] = []
        for number, row in enumerate(rows, start=2):
            if row is None or all(v is None for v in row):
                skipped.append(number)
                continue
            for i in range(len(names)):
                data[i].append(_cell_text(row[i]) if i < len(row) else None)
    finally:
        book.close()
    table = pa.table({n: pa.array(col, pa.string()) for n, col in zip(names, data, strict=True)})
    cur.register("xlsx_src", table)
    cur.execute(f"CREATE TEMP TABLE {RAW} AS SELECT * FROM xlsx_src")
    cur.unregister("xlsx_src")
    # Empty rows at the end of a sheet are not rows; empty rows between rows keep the numbering honest.
    last = 1 + table.num_rows + len(skipped)
    while skipped and skipped[-1] == last:
        skipped.pop()
        last -= 1
    return Staged("xlsx", names, table.num_rows, 2, skipped=skipped)


def _unique_names(names: list[str]) -> list[str]:
    """Header names made unique the way DuckDB does for CSV (a, a_1, a_2)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}_{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out


def _stage_xes(cur: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    """XES (optionally gzipped), start/complete pairs already joined by the XES reader."""
    from analysis.xes import read_xes

    table = read_xes(path)
    if table.num_rows == 0:
        raise ReadError("The XES file holds no events.")
    cur.register("xes_src", table)
    cur.execute(f"CREATE TEMP TABLE {RAW} AS SELECT * FROM xes_src")
    cur.unregister("xes_src")
    return Staged("xes", list(table.column_names), table.num_rows, 1)
