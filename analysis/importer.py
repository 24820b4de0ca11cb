"""Importing an event log: the entry point (`inspect_file`, `import_file`) and the steps they share.

Stage the file (`readers`), resolve what to read and how (`import_options`: mapping and formats),
parse every row in one pass (`parsing`), check it (`validation`: the problems report), then write it
in one transaction (`writing`). `inspect_file` does everything but the write and returns what a user
must see first (preview, proposed mapping, detected formats, validation report). `import_file`
repeats the same steps and, when the report has no errors (or `drop_invalid` is set), writes the log.
Nothing is written before the report is complete, and the write is one transaction, so a failed
import leaves the database exactly as it was. This module also bounds the import's memory
(`_import_cursor`). The names other code uses are importable from here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from analysis import mapping as mapping_mod
from analysis import readers, sniff, timestamps
from analysis.import_options import ImportOptions, Remembered, detect_formats, resolve_mapping
from analysis.parsing import PARSED, PARSED_T, build_parsed, extras
from analysis.sql import query
from analysis.validation import (
    DUPLICATE,
    FIX_KEYS,
    INVALID,
    MAX_EXAMPLES,
    MAX_ROWS_LISTED,
    VALID,
    ImportFailed,
    Problem,
    format_report,
    validate,
)
from analysis.writing import ImportResult, Prepared, Progress, write_log

__all__ = [
    "DUPLICATE", "FIX_KEYS", "INVALID", "MAX_EXAMPLES", "MAX_ROWS_LISTED", "PARSED", "PARSED_T", "VALID",
    "ImportFailed", "ImportOptions", "ImportResult", "Inspection", "Prepared", "Problem", "Progress",
    "Remembered", "format_report", "import_file", "inspect_file",
]

PREVIEW_ROWS = 20
MIN_IMPORT_MEMORY_MB = 500   # DuckDB's memory budget while importing: at least this, else twice the file


@dataclass
class Inspection:
    """Everything known about a file before it is written: its shape, mapping, formats and problems."""

    source: str
    kind: str
    encoding: str
    delimiter: str
    columns: list[str]
    n_rows: int
    preview: list[dict]
    mapping: mapping_mod.Mapping
    formats: dict[str, timestamps.ColumnFormat]
    problems: list[Problem]
    n_valid: int = 0
    n_cases: int = 0
    activities: list[str] = field(default_factory=list)  # most frequent first, to offer exclusions
    remembered_exclusions: tuple[str, ...] = ()  # excluded by the last import with the same columns

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop a strict import."""
        return [p for p in self.problems if p.severity == "error"]


def _prepare(cur, path, options: ImportOptions, progress: Progress | None = None) -> Prepared:
    """Stage, map, parse and validate (all in `cur`'s temporary tables)."""
    report = progress or (lambda fraction, stage: None)
    report(0.05, "read")
    try:
        staged = readers.stage(cur, path)
    except readers.UnclosedQuote as exc:
        raise ImportFailed([Problem("unclosed_quote", "error", 1, [exc.row],
                                    params={"row": exc.row})]) from None
    except readers.ReadError as exc:
        raise ImportFailed([Problem("read_error", "error", 0, params={"detail": str(exc)})]) from None
    if not cur.execute(f"SELECT count(*) FROM {readers.RAW}").fetchone()[0]:
        staged.cleanup()
        raise ImportFailed([Problem("no_rows", "error", 0)])
    try:
        return _prepare_staged(cur, staged, options, report)
    finally:
        staged.cleanup()


def _prepare_staged(cur, staged: readers.Staged, options: ImportOptions, report: Progress) -> Prepared:
    """Map, parse and validate a staged file."""
    report(0.35, "map")
    # Plain rows, not a DataFrame: the CLI's import should not pay for importing pandas.
    result = cur.execute(f"SELECT * FROM {readers.RAW} LIMIT {PREVIEW_ROWS}")
    names = [d[0] for d in result.description]
    preview = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    proposed, problems = resolve_mapping(staged, cur, options)
    columns = dict(proposed.columns)
    if proposed.missing or any(p.code == "column_twice" for p in problems):
        return Prepared(staged, proposed, columns, {}, [], problems, parsed=False, preview=preview)
    formats = detect_formats(cur, columns, options)
    if columns.get("start") and not formats["start"].shapes:
        # An all-empty start column means the log has no start timestamps.
        problems.append(Problem("no_start", "info", 0, params={"column": columns["start"]}))
        columns["start"] = None
        formats.pop("start")
    report(0.5, "parse")
    staged = build_parsed(cur, staged, columns, formats, options.exclude_activities)
    report(0.65, "validate")
    problems += validate(cur, staged, columns, formats, options.exclude_activities)
    return Prepared(staged, proposed, columns, formats, extras(staged, columns), problems, parsed=True,
                    preview=preview)


def _default_budget(path) -> str:
    """The import's memory budget as DuckDB reads it: twice the data, at least MIN_IMPORT_MEMORY_MB.

    At most half the machine's memory. Compressed files (gzip, Parquet, XLSX) count five times their
    size on disk.
    """
    try:
        path = Path(path)
        size_mb = path.stat().st_size / 1e6
        if sniff.is_gzip(path) or path.suffix.lower() in (".parquet", ".xlsx"):
            size_mb *= 5
    except (OSError, TypeError, ValueError):
        size_mb = 0
    try:
        half_ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2e6
    except (AttributeError, OSError, ValueError):
        half_ram_mb = float("inf")
    return f"{round(max(MIN_IMPORT_MEMORY_MB, min(2 * size_mb, half_ram_mb)))}MB"


# Imports running in this process per database: the settings are the database's, not the cursor's, so the
# first import sets them and the last one resets them (concurrent imports share the first one's budget).
_IMPORTS_LOCK = threading.Lock()
_imports_running: dict[str, int] = {}


@contextmanager
def _import_cursor(con: duckdb.DuckDBPyConnection, path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor for an import's work on large TEMP tables: bounded memory, no automatic checkpoints.

    Memory: DuckDB's default budget is 80% of RAM, and without pressure it kept freed buffers, so
    a 1M-event import peaked anywhere between 470 and 610 MB. The budget here is twice the data's
    size, at least 500 MB (_default_budget): the 1M-event CSV (133 MB) then stays near 470 MB at the
    same speed, and what does not fit spills to disk instead of growing (a fixed 500 MB made the
    5M-event import 9 s instead of 7 s). PROCDIAG_IMPORT_MEMORY sets the budget outright.
    Checkpoints: with the default 16 MiB checkpoint_threshold, every commit after the import's
    million-row TEMP tables took 0.2 s (a 92k-row CREATE TEMP TABLE: 0.23 s, 0.002 s with the
    threshold raised), and an import commits about ten statements.
    Both settings are global to the database (other sessions' queries run under them meanwhile) and
    nothing else here sets them, so the last import to finish resets them to DuckDB's defaults
    (current_setting shows them rounded, so setting the shown value back would not restore them);
    the checkpoint skipped happens at the next commit after that or when the store closes.
    """
    budget = os.environ.get("PROCDIAG_IMPORT_MEMORY") or _default_budget(path)
    cur = con.cursor()
    database = cur.execute("SELECT coalesce(path, database_name) FROM duckdb_databases() "
                           "WHERE database_name = current_database()").fetchone()[0]
    entered = False
    try:
        with _IMPORTS_LOCK:
            if not _imports_running.get(database):
                try:
                    query("SET GLOBAL memory_limit = $budget", budget=budget).run(cur)
                except duckdb.Error as exc:
                    raise ImportFailed([Problem("bad_memory_budget", "error", 0, params={
                        "budget": budget, "detail": str(exc).splitlines()[0]})]) from None
                cur.execute("SET GLOBAL checkpoint_threshold = '64 GiB'")
            else:
                budget = cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]
            _imports_running[database] = _imports_running.get(database, 0) + 1
            entered = True
        try:
            yield cur
        except duckdb.OutOfMemoryException:
            raise ImportFailed([Problem("out_of_memory", "error", 0, params={"budget": budget})]) from None
    finally:
        with _IMPORTS_LOCK:
            if entered:
                _imports_running[database] -= 1
            if not _imports_running.get(database):
                cur.execute("RESET GLOBAL checkpoint_threshold")
                cur.execute("RESET GLOBAL memory_limit")
        cur.close()


def inspect_file(con: duckdb.DuckDBPyConnection, path, options: ImportOptions | None = None) -> Inspection:
    """Read, map, parse and validate a file without writing anything."""
    options = options or ImportOptions()
    with _import_cursor(con, path) as cur:
        prep = _prepare(cur, path, options)
        n_valid = n_cases = 0
        activities: list[str] = []
        if prep.parsed:
            n_valid, n_cases = cur.execute(
                f"SELECT count(*), count(DISTINCT case_id) FROM {PARSED} WHERE {VALID}").fetchone()
            activities = [r[0] for r in cur.execute(
                f"SELECT activity FROM {PARSED} WHERE activity IS NOT NULL GROUP BY activity "
                "ORDER BY count(*) DESC, activity LIMIT 200").fetchall()]
        staged = prep.staged
        return Inspection(str(path), staged.kind, staged.encoding, staged.delimiter, staged.columns,
                          staged.n_rows, prep.preview, prep.mapping, prep.formats, prep.problems,
                          int(n_valid), int(n_cases), activities + list(options.exclude_activities),
                          prep.mapping.remembered_exclusions)


def import_file(con: duckdb.DuckDBPyConnection, path, options: ImportOptions | None = None,
                progress: Progress | None = None) -> ImportResult:
    """Import a file as a new log, or raise ImportFailed with the report (the database unchanged)."""
    options = options or ImportOptions()
    report = progress or (lambda fraction, stage: None)
    with _import_cursor(con, path) as cur:
        prep = _prepare(cur, path, options, report)
        errors = [p for p in prep.problems if p.severity == "error"]
        # Row-level errors can be dropped; a missing or ambiguous column cannot.
        fatal = [p for p in errors if p.code in ("missing_column", "ambiguous_column", "unclosed_quote",
                                                 "bad_format", "column_twice")]
        if fatal or (errors and not options.drop_invalid):
            raise ImportFailed(prep.problems)
        report(0.75, "write")
        return write_log(cur, path, prep, options, report)


