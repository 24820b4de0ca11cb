"""Readers: any supported file as all-text rows in file order, without per-row Python for CSV and Parquet."""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from analysis import sniff
from analysis.sql import Query, query, quote_ident

RAW = "raw_rows"       # the first SAMPLE_ROWS rows as a TEMP table: detection and preview read only these
SAMPLE_ROWS = 10_000
MAX_LINE = 10_000_000   # bytes: the longest row DuckDB reads (quoted fields may hold newlines)


@dataclass
class Staged:
    """A readable file: a sample of its rows in RAW, and a FROM clause that reads all of them once.

    Every column is text. `source` returns rows in file order, so a table created from it has
    rowids in file order; the row number is rowid + row_offset, shifted past `skipped` rows.
    """

    kind: str                      # csv | xlsx | parquet | xes
    columns: list[str]
    source: Query                  # FROM clause over every row, with its parameters
    row_offset: int                # row_no = rowid + row_offset (the header is row 1)
    encoding: str = ""
    delimiter: str = ""
    n_rows: int = 0                # rows read by the full pass (set by the importer)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (row, error, text), first few
    n_rejects: int = 0             # malformed rows left out by the reader
    skipped: list[int] = field(default_factory=list)  # row numbers not read (malformed or empty rows)
    temp_files: list[Path] = field(default_factory=list)
    path: Path | None = None
    unclosed_quote: int | None = None  # row where a quote opens and never closes (later rows are lost)
    sample_source: Query | None = None  # a cheaper FROM clause for the sample; default `source`

    def cleanup(self) -> None:
        """Remove temporary copies made for reading."""
        for temp in self.temp_files:
            temp.unlink(missing_ok=True)


class ReadError(Exception):
    """The file cannot be read as a table at all."""


class UnclosedQuote(ReadError):
    """A quote opens in `row` and never closes, so the rows after it cannot be told apart."""

    def __init__(self, row: int):
        self.row = row
        super().__init__(f"a quote opens in row {row} and never closes")


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
    """Sample `path` into the TEMP table RAW and return how to read all of it (every column VARCHAR)."""
    path = Path(path)
    if not path.exists():
        raise ReadError(f"No such file: {path}")
    if not path.is_file():
        raise ReadError(f"{path} is not a file.")
    if path.stat().st_size == 0:
        raise ReadError("The file is empty (0 bytes).")
    kind = file_kind(path)
    cur.execute(f"DROP TABLE IF EXISTS {RAW}")
    try:
        stager = {"csv": _stage_csv, "parquet": _stage_parquet, "xlsx": _stage_xlsx, "xes": _stage_xes}[kind]
        staged = stager(cur, path)
        try:
            sample = staged.sample_source or staged.source
            query(f"CREATE TEMP TABLE {RAW} AS SELECT * FROM {sample.text} LIMIT {SAMPLE_ROWS}",
                  sample).run(cur)
        except duckdb.Error:
            staged.cleanup()
            if kind == "csv" and staged.encoding in ("utf-8", "utf-8-sig"):
                # DuckDB's own message ("error when sniffing") does not say why; a stray quote often is.
                _, unclosed = sniff.scan_records(path, expected_lines=-1)
                if unclosed:
                    raise UnclosedQuote(unclosed) from None
            raise
    except (ReadError, duckdb.OutOfMemoryException):
        raise
    except (duckdb.Error, OSError, ValueError, UnicodeDecodeError, zipfile.BadZipFile, KeyError) as exc:
        # Name the user's file, not a temporary UTF-8 copy of it.
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ReadError(re.sub(r"\S*procdiag-[^\s\"']*\.csv", str(path), message)) from None
    staged.columns = [d[0] for d in cur.execute(f"SELECT * FROM {RAW} LIMIT 0").description]
    staged.path = path
    if kind == "csv":
        # The sample's rejects are found again by the full pass.
        cur.execute("DELETE FROM reject_errors")
        cur.execute("DELETE FROM reject_scans")
    return staged


def finish(cur: duckdb.DuckDBPyConnection, staged: Staged, lines: int | None = None) -> Staged | None:
    """After the full pass over `staged.source`: record its malformed and empty rows.

    `lines` is the file's line count, when counted already. Returns a replacement Staged when the
    pass met bytes that are not UTF-8 although the first megabyte was: the file must then be read
    again in the encoding found where those bytes are.
    """
    if staged.kind != "csv":
        return None
    bad_bytes = cur.execute(
        "SELECT min(byte_position) FROM reject_errors WHERE error_type = 'INVALID ENCODING'").fetchone()[0]
    if bad_bytes is not None and staged.encoding in ("utf-8", "utf-8-sig"):
        sample = sniff.read_around(staged.path, int(bad_bytes))
        dialect = sniff.TextDialect(sniff.detect_encoding(sample, utf8_possible=False), staged.delimiter,
                                    sniff.is_gzip(staged.path))
        cur.execute("DELETE FROM reject_errors")
        cur.execute("DELETE FROM reject_scans")
        return _csv_source(staged.path, dialect)
    # DuckDB lists a row once per surplus field; a row is one problem.
    rejects = cur.execute(
        "SELECT line, min(error_type), left(split_part(min(csv_line), chr(10), 1), 200) FROM reject_errors "
        "GROUP BY line ORDER BY line"
    ).fetchall()
    blanks: list[int] = []
    if staged.encoding in ("utf-8", "utf-8-sig"):
        expected = 1 + staged.n_rows + len(rejects)
        blanks, staged.unclosed_quote = sniff.scan_records(staged.path, expected, lines)
    staged.rejects = [(int(r[0]), str(r[1]), str(r[2])) for r in rejects[:10]]
    staged.n_rejects = len(rejects)
    staged.skipped = sorted({int(r[0]) for r in rejects} | set(blanks))
    return None


def _stage_csv(cur: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    """CSV/TSV (optionally gzipped, any supported encoding) through DuckDB's reader."""
    return _csv_source(path, sniff.sniff(path))


def _csv_source(path: Path, dialect: sniff.TextDialect) -> Staged:
    """How DuckDB reads a delimited file, transcoded first when DuckDB cannot read its encoding."""
    copy = sniff.utf8_copy(path, dialect)
    params = {"path": str(copy or path), "delim": dialect.delimiter,
              "compression": "gzip" if dialect.compressed and copy is None else "none"}
    if dialect.header:
        # The header we read ourselves: DuckDB need not sniff the file (twice: sample, full pass).
        names = _unique_names([name or f"column{i}" for i, name in enumerate(dialect.header)])
        typing = "auto_detect = false, columns = $columns"
        params["columns"] = {name: "VARCHAR" for name in names}
    else:
        typing = "all_varchar = true"
    # The sample needs the first rows only: with DuckDB's default buffer (16 × max_line_size) each
    # thread first reads 160 MB (0.07 s of a 1M-event import; 0.01 s with the smallest allowed buffer).
    return Staged("csv", [], Query(_read_csv(typing), params), 2,
                  dialect.encoding, dialect.delimiter, temp_files=[copy] if copy else [], path=path,
                  sample_source=Query(_read_csv(typing, buffer_size=MAX_LINE + 1), params))


def _read_csv(typing: str, buffer_size: int | None = None) -> str:
    """The read_csv call over $path with our options; `typing` says how the columns become text."""
    # Every column as text: case ids such as 'NA' or '007' stay exactly as written, and
    # timestamps are parsed by our own detection, which reports the rows that fail.
    options = ["delim = $delim", "quote = '\"'", "escape = '\"'", "header = true", "skip = 0", "comment = ''",
               "store_rejects = true", f"max_line_size = {MAX_LINE}", "null_padding = false",
               "compression = $compression", typing]
    if buffer_size is not None:
        options.insert(0, f"buffer_size = {buffer_size}")
    return f"read_csv($path, {', '.join(options)})"


def _stage_parquet(cur: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    """Parquet through DuckDB; typed columns become text so one pipeline handles every source."""
    header = query("SELECT * FROM read_parquet($path) LIMIT 0", path=str(path)).run(cur)
    columns = [d[0] for d in header.description]
    select = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns)
    return Staged("parquet", columns, query(f"(SELECT {select} FROM read_parquet($path))", path=str(path)), 1)


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
    # Empty rows at the end of a sheet are not rows; empty rows between rows keep the numbering honest.
    last = 1 + table.num_rows + len(skipped)
    while skipped and skipped[-1] == last:
        skipped.pop()
        last -= 1
    return Staged("xlsx", names, Query("xlsx_src"), 2, skipped=skipped)


def _unique_names(names: list[str]) -> list[str]:
    """Header names made unique as DuckDB does for CSV (a, a_1, a_2), never clashing with a later name."""
    taken: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 0
        while candidate in taken or (candidate != name and candidate in names):
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        out.append(candidate)
    return out


def _stage_xes(cur: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    """XES (optionally gzipped), start/complete pairs already joined by the XES reader."""
    from analysis.xes import read_xes

    table = read_xes(path)
    if table.num_rows == 0:
        raise ReadError("The XES file holds no events.")
    cur.register("xes_src", table)
    return Staged("xes", list(table.column_names), Query("xes_src"), 1)
