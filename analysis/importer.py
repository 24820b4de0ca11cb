"""Importing an event log: stage, map columns, parse timestamps, validate, then write in one transaction.

`inspect_file` does everything but the write and returns what a user must see first (preview,
proposed mapping, detected formats, validation report). `import_file` repeats the same steps and,
when the report has no errors (or `drop_invalid` is set), writes the log. Nothing is written
before the report is complete, and the write is one transaction, so a failed import leaves the
database exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from analysis import mapping as mapping_mod
from analysis import readers, sniff, timestamps
from analysis.store import StoreError, quote_ident, transaction, unique_log_name
from analysis.texts import t

PARSED_T = "parsed_table"   # the parsed rows (TEMP table of the import's cursor)
PARSED = "parsed_rows"      # the same with their row numbers (a view)
MAX_ROWS_LISTED = 10
MAX_EXAMPLES = 5
PREVIEW_ROWS = 20
MIN_IMPORT_MEMORY_MB = 500   # DuckDB's memory budget while importing: at least this, else twice the file

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportOptions:
    """What the user chose; empty fields mean 'detect it'."""

    name: str | None = None
    columns: dict[str, str | None] = field(default_factory=dict)  # role -> column; '' = not used
    timestamp_format: str | None = None   # a strptime format or iso/epoch_s/epoch_ms/excel/dayfirst/monthfirst
    start_format: str | None = None       # defaults to timestamp_format
    exclude_activities: tuple[str, ...] = ()
    drop_invalid: bool = False
    drop_duplicates: bool = False
    # The mapping of the last import with the same columns fills the roles not set above: "off" (the
    # default: the result depends only on the file and these options), "ambiguous" (only roles the
    # proposal cannot decide: the CLI) or "all" (the Import page, whose boxes show it).
    remember: str = "off"


@dataclass
class Problem:
    """One finding of the validation report."""

    code: str
    severity: str                 # error | warning | info
    count: int
    rows: list[int] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        """What is wrong, in the user's language."""
        return t(f"problem.{self.code}", lang, count=self.count, **self._values(lang))

    def fix(self, lang: str = "en") -> str:
        """How to fix it, in the user's language."""
        key = FIX_KEYS.get(self.code, f"fix.{self.code}")
        return t(key, lang, **self._values(lang))

    def _values(self, lang: str) -> dict:
        """The placeholders: a role named in the user's language, its command-line flag as `flag`."""
        values = dict(self.params)
        if "role" in values:
            values["flag"] = values["role"]
            values["role"] = t(f"role.{values['role']}", lang)
        return values


FIX_KEYS = {
    "missing_case": "fix.missing_value", "missing_activity": "fix.missing_value",
    "missing_timestamp": "fix.missing_value", "bad_start": "fix.bad_timestamp",
    "before_1970": "fix.odd_dates", "in_future": "fix.odd_dates", "excluded_activities": "fix.none",
    "no_start": "fix.none", "unpaired_starts": "fix.none",
}


class ImportFailed(StoreError):
    """The file was not imported; `problems` says why, row by row."""

    def __init__(self, problems: list[Problem], lang: str = "en"):
        self.problems = problems
        super().__init__(format_report(problems, lang, only_errors=True))


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


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    log_id: int
    name: str
    cases: int
    events: int
    dropped_rows: int
    has_start: bool
    problems: list[Problem]

    def as_dict(self) -> dict:
        """A JSON-ready record (for the CLI's --json)."""
        out = asdict(self)
        out["problems"] = [
            {"code": p.code, "severity": p.severity, "count": p.count, "rows": p.rows, "message": p.message()}
            for p in self.problems
        ]
        return out


def format_report(problems: list[Problem], lang: str = "en", only_errors: bool = False) -> str:
    """The report as plain text: one paragraph per problem with rows, examples and the fix."""
    lines = []
    for p in problems:
        if only_errors and p.severity != "error":
            continue
        lines.append(f"[{t('severity.' + p.severity, lang)}] {p.message(lang)}")
        if p.rows:
            lines.append(f"    {t('label.rows', lang)}: {', '.join(str(r) for r in p.rows)}"
                         + (" …" if p.count > len(p.rows) else ""))
        if p.examples:
            lines.append(f"    {t('label.examples', lang)}: {' | '.join(p.examples)}")
        lines.append(f"    {t('label.fix', lang)}: {p.fix(lang)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Steps shared by inspect_file and import_file


def _resolve_mapping(staged: readers.Staged, cur, options: ImportOptions) -> tuple[mapping_mod.Mapping, list[Problem]]:
    """The proposed mapping with the user's choices applied, and the problems it leaves."""
    timestamp_like = _timestamp_like_columns(cur, staged.columns)
    proposed = mapping_mod.propose_mapping(staged.columns, timestamp_like)
    plain = dict(proposed.columns), dict(proposed.ambiguous)
    problems: list[Problem] = []
    # The user's choices, completed by the mapping of the last import with the same columns.
    choices = dict(options.columns)
    memory = _remembered(cur, staged.columns) if options.remember in ("ambiguous", "all") else None
    recalled = False   # whether the memory changed the proposal
    if memory is not None:
        taken = {c for c in options.columns.values() if c}
        for role, column in memory.columns.items():
            if options.remember == "ambiguous" and role not in plain[1]:
                continue
            # The user's own choices win: a remembered column the user gave to another role is not used.
            if choices.get(role) is None and (column == "" or (column in staged.columns and column not in taken)):
                choices[role] = column
                recalled |= plain[0].get(role) != (column or None) or role in plain[1]
    proposed.chosen = {role: column for role, column in choices.items() if column is not None}
    proposed.remembered_exclusions = memory.exclude_activities if memory is not None else ()
    for role, column in choices.items():
        if column is None:
            continue
        if column and column not in staged.columns:
            raise ImportFailed([Problem("missing_column", "error", 0, params={
                "role": role, "columns": ", ".join(staged.columns)})])
        proposed.columns[role] = column or None
        proposed.confidence[role] = 1.0 if column else 0.0
        proposed.ambiguous.pop(role, None)
    # A proposal that took a column the user gave to another role moves to its next candidate.
    chosen = {c for r, c in choices.items() if c}
    for role in mapping_mod.ROLES:
        if choices.get(role) is None and proposed.columns.get(role) in chosen:
            rest = [c for c in proposed.candidates.get(role, []) if c.column not in chosen]
            proposed.columns[role] = rest[0].column if rest else None
            proposed.confidence[role] = rest[0].confidence if rest else 0.0
            proposed.ambiguous.pop(role, None)
    used: dict[str, list[str]] = {}
    for role, column in proposed.columns.items():
        if column:
            used.setdefault(column, []).append(role)
    for column, roles in used.items():
        if len(roles) > 1:
            problems.append(Problem("column_twice", "error", 0, params={"column": column, "roles": ", ".join(roles)}))
    for role in mapping_mod.ROLES:
        if role in proposed.ambiguous:
            problems.append(Problem("ambiguous_column", "error", 0, params={
                "role": role, "columns": ", ".join(proposed.ambiguous[role])}))
    for role in proposed.missing:
        problems.append(Problem("missing_column", "error", 0, params={
            "role": role, "columns": ", ".join(staged.columns)}))
    if memory is not None and recalled:
        problems.append(Problem("mapping_remembered", "info", 0, params={"name": memory.name, "date": memory.date}))
    return proposed, problems


@dataclass(frozen=True)
class Remembered:
    """The column mapping of an earlier import of a file with the same columns."""

    columns: dict[str, str]        # role -> column, or '' where the user said "no such column"
    exclude_activities: tuple[str, ...]
    name: str
    date: str


def _remembered(cur, columns: list[str]) -> Remembered | None:
    """The mapping of the most recent import whose file had exactly these column names (any order)."""
    wanted = sorted(columns)
    for name, when, text in cur.execute(
            "SELECT name, imported_at, mapping FROM logs ORDER BY imported_at DESC, log_id DESC").fetchall():
        try:
            record = json.loads(text or "{}")
        except json.JSONDecodeError:
            continue
        mapped = record.get("columns") or {}
        source = record.get("source_columns") or (
            [c for c in mapped.values() if c] + list(record.get("case_attributes") or [])
            + list(record.get("event_attributes") or []))
        if sorted(source) != wanted:
            continue
        remembered = {role: column for role, column in mapped.items() if column}
        # "No such column" said by the user is remembered too; a column found empty (no starts) is not.
        remembered.update({role: "" for role, column in (record.get("chosen") or {}).items() if column == ""})
        return Remembered(remembered, tuple(record.get("exclude_activities") or ()), str(name),
                          str(when)[:10] if when else "")
    return None


def _timestamp_like_columns(cur, columns: list[str]) -> set[str]:
    """Columns whose first non-empty values mostly look like dates (digits with date separators)."""
    if not columns:
        return set()
    # Over non-empty values only: a start column may be blank on many rows. An entirely empty
    # column counts as timestamp-like, so a blank start column stays mapped (and means "no starts").
    checks = ", ".join(
        f"avg(CASE WHEN regexp_matches(trim({quote_ident(c)}), "
        "'^\\d{4}[-/.年]\\d{1,2}|^\\d{1,2}[-/.]\\d{1,2}[-/.]\\d{2,4}|^\\d{10,13}(\\.\\d+)?$') THEN 1.0 ELSE 0 END) "
        f"FILTER (WHERE trim({quote_ident(c)}) <> '')"
        for c in columns
    )
    sample = f"(SELECT * FROM {readers.RAW} LIMIT 5000)"
    row = cur.execute(f"SELECT {checks} FROM {sample}").fetchone()
    return {c for c, share in zip(columns, row, strict=True) if share is None or share >= 0.8}


def _detect_formats(cur, columns: dict[str, str | None], options: ImportOptions) -> dict[str, timestamps.ColumnFormat]:
    """The format of the timestamp and start columns."""
    formats = {}
    for role, forced in (("timestamp", options.timestamp_format), ("start", options.start_format or options.timestamp_format)):
        column = columns.get(role)
        if not column:
            continue
        if forced and forced not in timestamps.SPECIAL:
            try:
                cur.execute("SELECT try_strptime('2024-01-01', ?)", [forced]).fetchone()
            except duckdb.Error as exc:
                raise ImportFailed([Problem("bad_format", "error", 0, params={
                    "format": forced, "detail": str(exc).splitlines()[0]})]) from None
        formats[role] = timestamps.detect_column_format(cur, readers.RAW, column, forced)
    return formats


def _build_parsed(cur, staged: readers.Staged, columns: dict[str, str | None],
                  formats: dict[str, timestamps.ColumnFormat], options: ImportOptions) -> readers.Staged:
    """Create PARSED from one pass over the whole file: typed fields, the raw text kept for the report.

    Returns the Staged that was read in the end (another one when the encoding had to be guessed again).
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Newlines are counted (to find rows DuckDB skipped) while DuckDB parses: 0.06 s less at 1M events.
        counting = (pool.submit(sniff.count_lines, staged.path)
                    if staged.kind == "csv" and staged.encoding in ("utf-8", "utf-8-sig") else None)
        _create_parsed(cur, staged, columns, formats)
        staged.n_rows = cur.execute(f"SELECT count(*) FROM {PARSED_T}").fetchone()[0]
        replacement = readers.finish(cur, staged, counting.result() if counting else None)
    if replacement is not None:
        # Bytes far into the file were not UTF-8: read it again in the encoding found there.
        staged.cleanup()
        replacement.columns, replacement.path = staged.columns, staged.path
        staged = replacement
        _create_parsed(cur, staged, columns, formats)
        staged.n_rows = cur.execute(f"SELECT count(*) FROM {PARSED_T}").fetchone()[0]
        readers.finish(cur, staged)
    _create_row_numbers(cur, staged)
    # The format sample may miss a rare format; look for one among the rows that did not parse.
    widened = False
    for role, raw, parsed in (("timestamp", "raw_ts", "ts"), ("start", "raw_start", "start_ts")):
        if role in formats and cur.execute(
                f"SELECT count(*) FROM {PARSED_T} WHERE {raw} IS NOT NULL AND {parsed} IS NULL").fetchone()[0]:
            wider = (timestamps.recheck_day_month(cur, PARSED_T, raw, formats[role])
                     or timestamps.extend_format(cur, PARSED_T, raw, parsed, formats[role]))
            if wider is not None:
                formats[role] = wider
                widened = True
    if widened:
        _create_parsed(cur, staged, columns, formats)
        readers.finish(cur, staged)
    if options.exclude_activities:
        cur.execute(f"DELETE FROM {PARSED_T} WHERE list_contains(?, activity)", [list(options.exclude_activities)])
    return staged


def _extras(staged: readers.Staged, columns: dict[str, str | None]) -> list[str]:
    """The columns no role uses: they become case or event attributes."""
    mapped = {c for c in columns.values() if c}
    return [c for c in staged.columns if c not in mapped]


def _create_parsed(cur, staged: readers.Staged, columns: dict[str, str | None],
                   formats: dict[str, timestamps.ColumnFormat]) -> None:
    """(Re)create PARSED_T with the current formats, reading the whole source once."""
    def text(role: str) -> str:
        column = columns.get(role)
        # Empty means missing; 'NA', 'null' and 'None' are values (case ids among them).
        return f"NULLIF({timestamps.trimmed(quote_ident(column))}, '')" if column else "NULL::VARCHAR"

    params: list = []
    ts_sql, p = timestamps.parse_sql(formats["timestamp"], quote_ident(columns["timestamp"]))
    params += p
    if columns.get("start") and "start" in formats:
        start_sql, p = timestamps.parse_sql(formats["start"], quote_ident(columns["start"]))
        params += p
    else:
        start_sql = "NULL::TIMESTAMP"
    extra_sql = "".join(f", {quote_ident(c)} AS {quote_ident('x:' + c)}" for c in _extras(staged, columns))
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE {PARSED_T} AS
        SELECT {text('case')} AS case_id, {text('activity')} AS activity,
               {text('timestamp')} AS raw_ts, {ts_sql} AS ts,
               {text('start')} AS raw_start, {start_sql} AS start_ts,
               {text('resource')} AS resource, {text('department')} AS department
               {extra_sql}
        FROM {staged.source}""",
        params + staged.params,
    )


def _create_row_numbers(cur, staged: readers.Staged) -> None:
    """Create the view PARSED: PARSED_T with each row's number in the file (header = row 1).

    Rows the reader left out (malformed or empty) still have their number, so the rows after them
    must be shifted: the k-th kept row gets the k-th number that is not skipped. For skipped rows
    s_1 < s_2 < ..., kept rows from rowid t_i = s_i - offset - i + 1 on come after s_i, so an ASOF
    join on t gives each row how many skipped rows precede it.
    """
    offset = int(staged.row_offset)
    if not staged.skipped:
        cur.execute(f"CREATE OR REPLACE TEMP VIEW {PARSED} AS SELECT rowid + {offset} AS row_no, * FROM {PARSED_T}")
        return
    shift: dict[int, int] = {}
    for i, skipped in enumerate(staged.skipped, start=1):
        shift[skipped - offset - i + 1] = i
    cur.execute("CREATE OR REPLACE TEMP TABLE row_shift AS SELECT unnest(?::BIGINT[]) AS t, unnest(?::BIGINT[]) AS i",
                [list(shift), list(shift.values())])
    cur.execute(
        f"""CREATE OR REPLACE TEMP VIEW {PARSED} AS
        SELECT r.k + {offset} + coalesce(s.i, 0) AS row_no, r.* EXCLUDE (k)
        FROM (SELECT rowid AS k, * FROM {PARSED_T}) r ASOF LEFT JOIN row_shift s ON r.k >= s.t""")


def _problem_rows(cur, where: str, params: list | None = None, example: str | None = None) -> tuple[int, list[int], list[str]]:
    """(count, first row numbers, example values) of PARSED rows matching `where`."""
    params = params or []
    count = cur.execute(f"SELECT count(*) FROM {PARSED} WHERE {where}", params).fetchone()[0]
    if not count:
        return 0, [], []
    rows = [r[0] for r in cur.execute(
        f"SELECT row_no FROM {PARSED} WHERE {where} ORDER BY row_no LIMIT {MAX_ROWS_LISTED}", params).fetchall()]
    examples: list[str] = []
    if example:
        examples = [str(r[0]) for r in cur.execute(
            f"SELECT e FROM (SELECT {example} AS e, min(row_no) AS r FROM (SELECT * FROM {PARSED} WHERE {where} "
            f"ORDER BY row_no LIMIT 200) GROUP BY e) ORDER BY r LIMIT {MAX_EXAMPLES}", params).fetchall()]
    return int(count), rows, examples


# Conditions that make a row invalid (dropped by --drop-invalid, fatal otherwise).
INVALID = {
    "missing_case": "case_id IS NULL",
    "missing_activity": "activity IS NULL",
    "missing_timestamp": "raw_ts IS NULL",
    "bad_timestamp": "raw_ts IS NOT NULL AND ts IS NULL",
    "bad_start": "raw_start IS NOT NULL AND start_ts IS NULL",
    "start_after_end": "start_ts > ts",
}
VALID = " AND ".join(f"NOT coalesce({w}, false)" for w in INVALID.values())
DUPLICATE = ("row_number() OVER (PARTITION BY case_id, activity, ts, start_ts, resource, department "
             "ORDER BY row_no) > 1")


def _validate(cur, staged: readers.Staged, columns: dict[str, str | None],
              formats: dict[str, timestamps.ColumnFormat], options: ImportOptions) -> list[Problem]:
    """The validation report over PARSED, errors first."""
    problems: list[Problem] = []
    if staged.unclosed_quote:
        problems.append(Problem("unclosed_quote", "error", 1, [staged.unclosed_quote],
                                params={"row": staged.unclosed_quote}))
    if staged.n_rejects:
        problems.append(Problem("malformed_rows", "error", staged.n_rejects,
                                [r[0] for r in staged.rejects], [r[2] for r in staged.rejects[:MAX_EXAMPLES]]))
    if options.exclude_activities:
        excluded = staged.n_rows - cur.execute(f"SELECT count(*) FROM {PARSED}").fetchone()[0]
        if excluded:
            problems.append(Problem("excluded_activities", "info", excluded,
                                    params={"activities": ", ".join(options.exclude_activities)}))
    tomorrow = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
    # One scan counts every row-level condition; rows and examples are fetched only for those that occur.
    conditions = {**INVALID, "before_1970": "least(ts, coalesce(start_ts, ts)) < TIMESTAMP '1970-01-01'",
                  "in_future": "ts > ?"}
    counts = cur.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {w})" for w in conditions.values()) + f" FROM {PARSED}",
        [tomorrow]).fetchone()
    examples_of = {"bad_timestamp": "raw_ts", "bad_start": "raw_start", "start_after_end": "raw_start || ' > ' || raw_ts",
                   "before_1970": "coalesce(raw_start, raw_ts)", "in_future": "raw_ts"}
    for (code, where), n in zip(conditions.items(), counts, strict=True):
        if not n:
            continue
        params = [tomorrow] if code == "in_future" else []
        count, rows, examples = _problem_rows(cur, where, params, example=examples_of.get(code))
        column = columns.get("start" if code == "bad_start" else "timestamp") or ""
        severity = "error" if code in INVALID else "warning"
        problem_code = "bad_timestamp" if code == "bad_start" else code
        problems.append(Problem(problem_code, severity, count, rows, examples, {"column": column}))
    valid = VALID
    # Ties first, by a cheap hashed count (no collision can hide one). A duplicate is also a tie
    # (same case and timestamps), so only a log with ties is searched for duplicates.
    maybe_tie = cur.execute(
        f"SELECT count(*) - count(DISTINCT hash(case_id, coalesce(start_ts, ts), ts)) FROM {PARSED_T} WHERE {valid}"
    ).fetchone()[0]
    maybe_dup = maybe_tie and cur.execute(
        f"SELECT count(*) - count(DISTINCT hash(case_id, activity, ts, start_ts, resource, department)) "
        f"FROM {PARSED_T} WHERE {valid}").fetchone()[0]
    if maybe_dup:
        count, rows, _ = _problem_rows(
            cur, f"row_no IN (SELECT row_no FROM (SELECT row_no, {DUPLICATE} AS dup FROM {PARSED} WHERE {valid}) WHERE dup)")
        if count:
            problems.append(Problem("duplicates", "warning", count, rows))
    single = cur.execute(
        f"SELECT count(*), list(case_id ORDER BY case_id)[:{MAX_EXAMPLES}] FROM "
        f"(SELECT case_id FROM {PARSED} WHERE {valid} GROUP BY case_id HAVING count(*) = 1)").fetchone()
    if single[0]:
        problems.append(Problem("single_event_cases", "warning", int(single[0]), examples=list(single[1])))
    if maybe_tie:
        count, rows, examples = _problem_rows(
            cur, f"""row_no IN (SELECT row_no FROM (SELECT row_no, count(*) OVER (PARTITION BY case_id,
                 coalesce(start_ts, ts), ts) AS n FROM {PARSED} WHERE {valid}) WHERE n > 1)""",
            example="case_id || ': ' || activity || ' @ ' || strftime(ts, '%Y-%m-%d %H:%M:%S')")
        if count:
            problems.append(Problem("ties", "warning", count, rows, examples))
    lifecycle = "x:lifecycle:transition"
    if staged.kind == "xes" and lifecycle[2:] in _extras(staged, columns):
        # The XES reader keeps a start without its complete as an event at the start time.
        count, rows, _ = _problem_rows(cur, f"lower({quote_ident(lifecycle)}) = 'start'")
        if count:
            problems.append(Problem("unpaired_starts", "info", count, rows))
    for fmt in formats.values():
        if fmt.day_first_source == "assumed":
            example = next((s.examples[0] for s in fmt.shapes if s.kind == "strptime"), "")
            problems.append(Problem("dayfirst_assumed", "info", 0, params={"column": fmt.column, "example": example}))
        if fmt.naive_and_offset:
            problems.append(Problem("naive_and_offset", "warning", 0, params={"column": fmt.column}))
    severity_order = {"error": 0, "warning": 1, "info": 2}
    problems.sort(key=lambda p: severity_order[p.severity])
    return problems


@dataclass
class Prepared:
    """A staged, parsed and validated file, ready to write (when it has no errors)."""

    staged: readers.Staged
    mapping: mapping_mod.Mapping
    columns: dict[str, str | None]
    formats: dict[str, timestamps.ColumnFormat]
    extras: list[str]
    problems: list[Problem]
    parsed: bool                  # False when the mapping stopped us before parsing
    preview: list[dict] = field(default_factory=list)


def _prepare(cur, path, options: ImportOptions, progress: Progress | None = None) -> Prepared:
    """Stage, map, parse and validate (all in `cur`'s temporary tables)."""
    report = progress or (lambda fraction, stage: None)
    report(0.05, "read")
    try:
        staged = readers.stage(cur, path)
    except readers.UnclosedQuote as exc:
        raise ImportFailed([Problem("unclosed_quote", "error", 1, [exc.row], params={"row": exc.row})]) from None
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
    proposed, problems = _resolve_mapping(staged, cur, options)
    columns = dict(proposed.columns)
    if proposed.missing or any(p.code == "column_twice" for p in problems):
        return Prepared(staged, proposed, columns, {}, [], problems, parsed=False, preview=preview)
    formats = _detect_formats(cur, columns, options)
    if columns.get("start") and not formats["start"].shapes:
        # An all-empty start column means the log has no start timestamps.
        problems.append(Problem("no_start", "info", 0, params={"column": columns["start"]}))
        columns["start"] = None
        formats.pop("start")
    report(0.5, "parse")
    staged = _build_parsed(cur, staged, columns, formats, options)
    report(0.65, "validate")
    problems += _validate(cur, staged, columns, formats, options)
    return Prepared(staged, proposed, columns, formats, _extras(staged, columns), problems, parsed=True,
                    preview=preview)


def _default_budget(path) -> str:
    """Twice the data's size, at least MIN_IMPORT_MEMORY_MB and at most half the machine's memory (as DuckDB
    reads a memory size). Compressed files (gzip, Parquet, XLSX) count five times their size on disk."""
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
                    cur.execute("SET GLOBAL memory_limit = ?", [budget])
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
        return _write(cur, path, prep, options, report)


def _case_level(cur, extras: list[str], kind: str) -> list[str]:
    """Extra columns that hold one value per case (campaign type, region, budget).

    Leaves CASE_VALUES: one row per case with each extra column's smallest value, from which the
    case attributes are written without another pass over the events.
    """
    if not extras:
        return []
    mins = ", ".join(f"min({quote_ident('x:' + c)}) AS {quote_ident('min:' + c)}" for c in extras)
    if kind == "xes":
        # XES says which attributes are the case's.
        cur.execute(f"CREATE OR REPLACE TEMP TABLE case_values AS SELECT case_id, {mins} FROM kept GROUP BY case_id")
        return [c for c in extras if c.startswith("case:")]
    maxs = ", ".join(f"max({quote_ident('x:' + c)}) AS {quote_ident('max:' + c)}" for c in extras)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE case_values AS SELECT case_id, {mins}, {maxs} FROM kept GROUP BY case_id")
    # A column is the case's when it never varies within a case and is not empty throughout.
    checks = ", ".join(
        f"bool_and(coalesce({quote_ident('min:' + c)} = {quote_ident('max:' + c)}, true)) "
        f"AND count({quote_ident('min:' + c)}) > 0" for c in extras)
    row = cur.execute(f"SELECT {checks} FROM case_values").fetchone()
    return [c for c, constant in zip(extras, row, strict=True) if constant]


def _write(cur, path, prep: Prepared, options: ImportOptions, report: Progress) -> ImportResult:
    """Write the valid rows as a new log in one transaction."""
    staged, columns, formats, extras, problems = prep.staged, prep.columns, prep.formats, prep.extras, prep.problems
    valid = VALID
    keep = valid
    if options.drop_duplicates:
        keep = f"{valid} AND row_no NOT IN (SELECT row_no FROM (SELECT row_no, {DUPLICATE} AS dup FROM {PARSED} WHERE {valid}) WHERE dup)"
    # A view, not a copy: a million-row import should not hold the rows three times.
    cur.execute(f"CREATE OR REPLACE TEMP VIEW kept AS SELECT * FROM {PARSED} WHERE {keep}")
    n_kept = cur.execute("SELECT count(*) FROM kept").fetchone()[0]
    if n_kept == 0:
        raise ImportFailed([Problem("no_rows", "error", 0), *problems])
    case_cols = _case_level(cur, extras, staged.kind)
    event_cols = [c for c in extras if c not in case_cols]
    attrs_sql = "NULL"
    params: list = []
    if event_cols:
        entries = ", ".join(f"{{'k': ?, 'v': {quote_ident('x:' + c)}}}" for c in event_cols)
        params += event_cols
        attrs_sql = f"map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL))"
    name = options.name or Path(str(path)).name
    mapping_record = {
        "columns": columns,
        # What was chosen, by the user or from memory ("" = no such column): the next import remembers it.
        "chosen": dict(prep.mapping.chosen),
        "source_columns": list(staged.columns),
        "formats": {role: f.label for role, f in formats.items()},
        "day_first": {role: f.day_first for role, f in formats.items() if f.day_first is not None},
        "encoding": staged.encoding, "delimiter": staged.delimiter, "kind": staged.kind,
        "exclude_activities": list(options.exclude_activities),
        "drop_invalid": options.drop_invalid, "drop_duplicates": options.drop_duplicates,
        "case_attributes": case_cols, "event_attributes": event_cols,
    }
    report_record = [
        {"code": p.code, "severity": p.severity, "count": p.count, "rows": p.rows, "examples": p.examples,
         "params": p.params} for p in problems
    ]
    dropped = staged.n_rows - n_kept + staged.n_rejects
    # The events in canonical order with their position and successor, as a TEMP table: the case
    # facts are read from it, not from the events table inside the transaction (reading rows just
    # written there made DuckDB's commit rewrite them).
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE ordered AS
        SELECT case_id, activity, ts, start_ts, resource, department, row_no,
               row_number() OVER w AS pos, lead(activity) OVER w AS next_activity, lead(ts) OVER w AS next_ts,
               {attrs_sql} AS attrs
        FROM kept
        WINDOW w AS (PARTITION BY case_id ORDER BY coalesce(start_ts, ts), ts, row_no)""",
        params,
    )
    _case_facts(cur)
    n_cases, has_start = cur.execute(
        "SELECT (SELECT count(*) FROM case_facts), (SELECT count(start_ts) > 0 FROM ordered)").fetchone()
    # The parsed rows are in `ordered` now: free their memory before the write.
    cur.execute(f"DROP VIEW kept; DROP VIEW {PARSED}; DROP TABLE {PARSED_T}")
    with transaction(cur):
        name = unique_log_name(cur, name)
        log_id = cur.execute("SELECT nextval('log_ids')").fetchone()[0]
        cur.execute("INSERT INTO events SELECT ?, * FROM ordered", [log_id])
        report(0.85, "cases")
        _write_cases(cur, log_id)
        if case_cols:
            # From the per-case values _case_level kept: no further pass over the events.
            labels = [c.removeprefix("case:") if staged.kind == "xes" else c for c in case_cols]
            values = " UNION ALL ".join(
                f"SELECT case_id, ?::VARCHAR AS name, {quote_ident('min:' + c)} AS v FROM case_values" for c in case_cols)
            cur.execute(
                f"INSERT INTO case_attributes SELECT ?, case_id, name, v, try_cast(v AS DOUBLE) FROM ({values}) "
                "WHERE v IS NOT NULL",
                [log_id, *labels],
            )
        cur.execute(
            "INSERT INTO logs VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, NULL)",
            [log_id, name, str(path), json.dumps(mapping_record, ensure_ascii=False),
             json.dumps(report_record, ensure_ascii=False), n_kept, n_cases, dropped, has_start],
        )
    report(1.0, "done")
    return ImportResult(int(log_id), name, int(n_cases), int(n_kept), int(dropped), bool(has_start), problems)


def _case_facts(cur) -> None:
    """Per-case facts and variant ids from the ordered events (TEMP tables), before the write transaction.

    A case's variant is keyed by xor-ing a hash of (activity, position) over its events, and its
    length. The pair's hash must mix non-linearly (DuckDB's hash(a, b) xor-combines, which would
    make the key ignore the order), hence hash(xor(hash(activity), pos)).
    One hash aggregate instead of sorting every case's activities into a list; only one case per
    variant then has its activity list built. (Two different sequences share a 64-bit key with
    negligible probability; the pm4py cross-checks compare every variant on the real logs.)
    """
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE case_facts AS
        SELECT case_id, min(coalesce(start_ts, ts)) AS s, max(ts) AS e, count(*) AS n,
               bit_xor(hash(xor(hash(activity), pos::UBIGINT))) AS vkey, min(row_no) AS first_row
        FROM ordered GROUP BY case_id"""
    )
    # Variant 1 is the most frequent; ties go to the variant seen first in the file.
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE variant_keys AS
        SELECT vkey, n, count(*) AS n_cases, arg_min(case_id, first_row) AS example_case,
               row_number() OVER (ORDER BY count(*) DESC, min(first_row)) AS variant_id
        FROM case_facts GROUP BY vkey, n"""
    )
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE variant_ids AS
        SELECT k.variant_id, k.vkey, k.n, k.n_cases, list(o.activity ORDER BY o.pos) AS seq
        FROM variant_keys k JOIN ordered o ON o.case_id = k.example_case
        GROUP BY k.variant_id, k.vkey, k.n, k.n_cases"""
    )


def _write_cases(cur, log_id: int) -> None:
    """Write the per-case facts and variants _case_facts computed."""
    cur.execute("INSERT INTO variants SELECT ?, variant_id, seq, n_cases FROM variant_ids", [log_id])
    cur.execute(
        """INSERT INTO cases
        SELECT ?, f.case_id, f.s, f.e, (epoch_us(f.e) - epoch_us(f.s)) / 1e6, f.n, v.variant_id
        FROM case_facts f JOIN variant_ids v USING (vkey, n)""",
        [log_id],
    )
