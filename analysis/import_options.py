"""What to read and how: the user's ImportOptions, and what they resolve to on a staged file.

`resolve_mapping` turns the header-based proposal (`mapping.propose_mapping`) into the mapping an
import uses: the user's choices first, then the mapping remembered from the last import of a file
with the same columns (`remembered`), and the problems that leave (a column used twice, a role
that stays ambiguous or missing). `detect_formats` finds the format of the timestamp columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb

from analysis import mapping as mapping_mod
from analysis import readers, timestamps
from analysis.sql import query, quote_ident
from analysis.validation import ImportFailed, Problem


@dataclass(frozen=True)
class ImportOptions:
    """What the user chose; empty fields mean 'detect it'."""

    name: str | None = None
    columns: dict[str, str | None] = field(default_factory=dict)  # role -> column; '' = not used
    timestamp_format: str | None = None   # strptime format, or iso/epoch_s/epoch_ms/excel/dayfirst/monthfirst
    start_format: str | None = None       # defaults to timestamp_format
    exclude_activities: tuple[str, ...] = ()
    drop_invalid: bool = False
    drop_duplicates: bool = False
    # The mapping of the last import with the same columns fills the roles not set above: "off" (the
    # default: the result depends only on the file and these options), "ambiguous" (only roles the
    # proposal cannot decide: the CLI) or "all" (the Import page, whose boxes show it).
    remember: str = "off"


@dataclass(frozen=True)
class Remembered:
    """The column mapping of an earlier import of a file with the same columns."""

    columns: dict[str, str]        # role -> column, or '' where the user said "no such column"
    exclude_activities: tuple[str, ...]
    name: str
    date: str


def resolve_mapping(staged: readers.Staged, cur,
                    options: ImportOptions) -> tuple[mapping_mod.Mapping, list[Problem]]:
    """The proposed mapping with the user's choices applied, and the problems it leaves."""
    proposed = mapping_mod.propose_mapping(staged.columns, timestamp_like_columns(cur, staged.columns))
    # The user's choices, completed by the mapping of the last import with the same columns.
    memory = remembered(cur, staged.columns) if options.remember in ("ambiguous", "all") else None
    choices, recalled = _recall(proposed, memory, options, staged.columns)
    proposed.chosen = {role: column for role, column in choices.items() if column is not None}
    proposed.remembered_exclusions = memory.exclude_activities if memory is not None else ()
    _apply_choices(proposed, choices, staged.columns)
    problems = _mapping_problems(proposed, staged.columns)
    if memory is not None and recalled:
        problems.append(Problem("mapping_remembered", "info", 0,
                                params={"name": memory.name, "date": memory.date}))
    return proposed, problems


def _recall(proposed: mapping_mod.Mapping, memory: Remembered | None, options: ImportOptions,
            columns: list[str]) -> tuple[dict[str, str | None], bool]:
    """The user's choices completed from memory, and whether the memory changed the proposal."""
    choices = dict(options.columns)
    recalled = False
    if memory is None:
        return choices, recalled
    taken = {c for c in options.columns.values() if c}
    for role, column in memory.columns.items():
        if options.remember == "ambiguous" and role not in proposed.ambiguous:
            continue
        # The user's own choices win: a remembered column the user gave to another role is not used.
        if choices.get(role) is None and (column == "" or (column in columns and column not in taken)):
            choices[role] = column
            recalled |= proposed.columns.get(role) != (column or None) or role in proposed.ambiguous
    return choices, recalled


def _apply_choices(proposed: mapping_mod.Mapping, choices: dict[str, str | None], columns: list[str]) -> None:
    """Set the chosen roles (sure ones, confidence 1); proposals that took a chosen column move on."""
    for role, column in choices.items():
        if column is None:
            continue
        if column and column not in columns:
            raise ImportFailed([Problem("missing_column", "error", 0, params={
                "role": role, "columns": ", ".join(columns)})])
        proposed.columns[role] = column or None
        proposed.confidence[role] = 1.0 if column else 0.0
        proposed.ambiguous.pop(role, None)
    # A proposal that took a column the user gave to another role moves to its next candidate.
    chosen = {c for c in choices.values() if c}
    for role in mapping_mod.ROLES:
        if choices.get(role) is None and proposed.columns.get(role) in chosen:
            rest = [c for c in proposed.candidates.get(role, []) if c.column not in chosen]
            proposed.columns[role] = rest[0].column if rest else None
            proposed.confidence[role] = rest[0].confidence if rest else 0.0
            proposed.ambiguous.pop(role, None)


def _mapping_problems(proposed: mapping_mod.Mapping, columns: list[str]) -> list[Problem]:
    """A column given to two roles, roles still ambiguous, required roles without a column."""
    problems: list[Problem] = []
    used: dict[str, list[str]] = {}
    for role, column in proposed.columns.items():
        if column:
            used.setdefault(column, []).append(role)
    for column, roles in used.items():
        if len(roles) > 1:
            problems.append(Problem("column_twice", "error", 0,
                                    params={"column": column, "roles": ", ".join(roles)}))
    for role in mapping_mod.ROLES:
        if role in proposed.ambiguous:
            problems.append(Problem("ambiguous_column", "error", 0, params={
                "role": role, "columns": ", ".join(proposed.ambiguous[role])}))
    for role in proposed.missing:
        problems.append(Problem("missing_column", "error", 0, params={
            "role": role, "columns": ", ".join(columns)}))
    return problems


def remembered(cur, columns: list[str]) -> Remembered | None:
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
        memory = {role: column for role, column in mapped.items() if column}
        # "No such column" said by the user is remembered too; a column found empty (no starts) is not.
        memory.update({role: "" for role, column in (record.get("chosen") or {}).items() if column == ""})
        return Remembered(memory, tuple(record.get("exclude_activities") or ()), str(name),
                          str(when)[:10] if when else "")
    return None


def timestamp_like_columns(cur, columns: list[str]) -> set[str]:
    """Columns whose first non-empty values mostly look like dates (digits with date separators)."""
    if not columns:
        return set()
    # Over non-empty values only: a start column may be blank on many rows. An entirely empty
    # column counts as timestamp-like, so a blank start column stays mapped (and means "no starts").
    checks = ", ".join(
        f"avg(CASE WHEN regexp_matches(trim({quote_ident(c)}), "
        "'^\\d{4}[-/.年]\\d{1,2}|^\\d{1,2}[-/.]\\d{1,2}[-/.]\\d{2,4}|^\\d{10,13}(\\.\\d+)?$') "
        "THEN 1.0 ELSE 0 END) "
        f"FILTER (WHERE trim({quote_ident(c)}) <> '')"
        for c in columns
    )
    sample = f"(SELECT * FROM {readers.RAW} LIMIT 5000)"
    row = cur.execute(f"SELECT {checks} FROM {sample}").fetchone()
    return {c for c, share in zip(columns, row, strict=True) if share is None or share >= 0.8}


def detect_formats(cur, columns: dict[str, str | None],
                   options: ImportOptions) -> dict[str, timestamps.ColumnFormat]:
    """The format of the timestamp and start columns."""
    formats = {}
    for role, forced in (("timestamp", options.timestamp_format),
                         ("start", options.start_format or options.timestamp_format)):
        column = columns.get(role)
        if not column:
            continue
        if forced and forced not in timestamps.SPECIAL:
            try:
                query("SELECT try_strptime('2024-01-01', $format)", format=forced).one(cur)
            except duckdb.Error as exc:
                raise ImportFailed([Problem("bad_format", "error", 0, params={
                    "format": forced, "detail": str(exc).splitlines()[0]})]) from None
        formats[role] = timestamps.detect_column_format(cur, readers.RAW, column, forced)
    return formats
