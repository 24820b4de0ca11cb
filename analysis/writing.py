"""Writing a validated import as a new log in one transaction: events, cases, variants, case attributes, logs.

Everything is computed in TEMP tables first, so a failure leaves the store as it was. The order: the
rows kept (valid, optionally without duplicates) → which extra columns are the case's → the events in
canonical order with position and successor (`ordered`) → per-case facts and variant ids → the
transaction. `Prepared` is what the writer takes, `ImportResult` what it returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from analysis import mapping as mapping_mod
from analysis import readers, timestamps
from analysis.import_options import ImportOptions
from analysis.parsing import PARSED, PARSED_T
from analysis.sql import query, quote_ident
from analysis.store import transaction, unique_log_name
from analysis.validation import DUPLICATE_ROWS, VALID, ImportFailed, Problem

Progress = Callable[[float, str], None]


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


INSERT_LOG = """INSERT INTO logs (log_id, name, source, imported_at, mapping, report, n_events, n_cases,
                                  n_dropped, has_start, notes)
    VALUES ($log_id, $name, $source, now()::TIMESTAMP, $mapping, $report, $n_events, $n_cases,
            $n_dropped, $has_start, NULL)"""


def write_log(cur, path, prep: Prepared, options: ImportOptions, report: Progress) -> ImportResult:
    """Write the valid rows as a new log in one transaction."""
    staged, problems = prep.staged, prep.problems
    n_kept = _keep(cur, options.drop_duplicates)
    if n_kept == 0:
        raise ImportFailed([Problem("no_rows", "error", 0), *problems])
    case_cols = _case_level(cur, prep.extras, staged.kind)
    event_cols = [c for c in prep.extras if c not in case_cols]
    mapping_record = _mapping_record(prep, options, case_cols, event_cols)
    dropped = staged.n_rows - n_kept + staged.n_rejects
    _order(cur, event_cols)
    _case_facts(cur)
    n_cases, has_start = cur.execute(
        "SELECT (SELECT count(*) FROM case_facts), (SELECT count(start_ts) > 0 FROM ordered)").fetchone()
    # The parsed rows are in `ordered` now: free their memory before the write.
    cur.execute(f"DROP VIEW kept; DROP VIEW {PARSED}; DROP TABLE {PARSED_T}")
    with transaction(cur):
        name = unique_log_name(cur, options.name or Path(str(path)).name)
        log_id = cur.execute("SELECT nextval('log_ids')").fetchone()[0]
        query("INSERT INTO events SELECT $log_id, * FROM ordered", log_id=log_id).run(cur)
        report(0.85, "cases")
        _write_cases(cur, log_id)
        _write_case_attributes(cur, log_id, case_cols, staged.kind)
        query(INSERT_LOG, log_id=log_id, name=name, source=str(path),
              mapping=json.dumps(mapping_record, ensure_ascii=False),
              report=json.dumps(_report_record(problems), ensure_ascii=False),
              n_events=n_kept, n_cases=n_cases, n_dropped=dropped, has_start=has_start).run(cur)
    report(1.0, "done")
    return ImportResult(int(log_id), name, int(n_cases), int(n_kept), int(dropped), bool(has_start), problems)


def _keep(cur, drop_duplicates: bool) -> int:
    """Create the view `kept` (the valid rows, without repeats when asked) and count its rows."""
    keep = VALID
    if drop_duplicates:
        keep = f"{VALID} AND row_no NOT IN ({DUPLICATE_ROWS})"
    # A view, not a copy: a million-row import should not hold the rows three times.
    cur.execute(f"CREATE OR REPLACE TEMP VIEW kept AS SELECT * FROM {PARSED} WHERE {keep}")
    return cur.execute("SELECT count(*) FROM kept").fetchone()[0]


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
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE case_values AS SELECT case_id, {mins} FROM kept GROUP BY case_id")
        return [c for c in extras if c.startswith("case:")]
    maxs = ", ".join(f"max({quote_ident('x:' + c)}) AS {quote_ident('max:' + c)}" for c in extras)
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE case_values AS SELECT case_id, {mins}, {maxs} FROM kept "
        "GROUP BY case_id")
    # A column is the case's when it never varies within a case and is not empty throughout.
    checks = ", ".join(
        f"bool_and(coalesce({quote_ident('min:' + c)} = {quote_ident('max:' + c)}, true)) "
        f"AND count({quote_ident('min:' + c)}) > 0" for c in extras)
    row = cur.execute(f"SELECT {checks} FROM case_values").fetchone()
    return [c for c, constant in zip(extras, row, strict=True) if constant]


def _mapping_record(prep: Prepared, options: ImportOptions, case_cols: list[str],
                    event_cols: list[str]) -> dict:
    """How the log was read (the catalogue's `mapping`): the next import of the same columns remembers it."""
    staged, formats = prep.staged, prep.formats
    return {
        "columns": prep.columns,
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


def _report_record(problems: list[Problem]) -> list[dict]:
    """The validation report as stored in the catalogue (`report`)."""
    return [{"code": p.code, "severity": p.severity, "count": p.count, "rows": p.rows, "examples": p.examples,
             "params": p.params} for p in problems]


def _order(cur, event_cols: list[str]) -> None:
    """The TEMP table `ordered`: the kept events in canonical order with position, successor and attributes.

    The case facts are read from it, not from the events table inside the transaction (reading rows
    just written there made DuckDB's commit rewrite them).
    """
    attrs_sql = "NULL"
    names: dict[str, str] = {}
    if event_cols:
        names = {f"attr_{i}": c for i, c in enumerate(event_cols)}
        entries = ", ".join(f"{{'k': ${n}, 'v': {quote_ident('x:' + c)}}}" for n, c in names.items())
        attrs_sql = f"map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL))"
    query(
        f"""CREATE OR REPLACE TEMP TABLE ordered AS
        SELECT case_id, activity, ts, start_ts, resource, department, row_no,
               row_number() OVER w AS pos, lead(activity) OVER w AS next_activity, lead(ts) OVER w AS next_ts,
               {attrs_sql} AS attrs
        FROM kept
        WINDOW w AS (PARTITION BY case_id ORDER BY coalesce(start_ts, ts), ts, row_no)""",
        **names,
    ).run(cur)


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
    query("INSERT INTO variants SELECT $log_id, variant_id, seq, n_cases FROM variant_ids",
          log_id=log_id).run(cur)
    query(
        """INSERT INTO cases
        SELECT $log_id, f.case_id, f.s, f.e, (epoch_us(f.e) - epoch_us(f.s)) / 1e6, f.n, v.variant_id
        FROM case_facts f JOIN variant_ids v USING (vkey, n)""",
        log_id=log_id,
    ).run(cur)


def _write_case_attributes(cur, log_id: int, case_cols: list[str], kind: str) -> None:
    """Write the case attributes from the per-case values _case_level kept: no more passes over the events."""
    if not case_cols:
        return
    labels = {f"name_{i}": c.removeprefix("case:") if kind == "xes" else c for i, c in enumerate(case_cols)}
    values = " UNION ALL ".join(
        f"SELECT case_id, ${n}::VARCHAR AS name, {quote_ident('min:' + c)} AS v FROM case_values"
        for n, c in zip(labels, case_cols, strict=True))
    query(
        f"INSERT INTO case_attributes SELECT $log_id, case_id, name, v, try_cast(v AS DOUBLE) "
        f"FROM ({values}) WHERE v IS NOT NULL",
        log_id=log_id, **labels,
    ).run(cur)
