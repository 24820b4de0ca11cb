"""The DuckDB event store: where the database file lives, its schema, and the catalogue of logs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from analysis.sql import query, quote_ident

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "procdiag.duckdb"

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE SEQUENCE IF NOT EXISTS log_ids START 1;
CREATE TABLE IF NOT EXISTS logs (
    log_id      INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL UNIQUE,
    source      VARCHAR,
    imported_at TIMESTAMP,
    mapping     VARCHAR,   -- JSON: role -> column, formats, options used
    report      VARCHAR,   -- JSON: the validation report at import
    n_events    BIGINT,
    n_cases     BIGINT,
    n_dropped   BIGINT,
    has_start   BOOLEAN,
    notes       VARCHAR
);
CREATE TABLE IF NOT EXISTS events (
    log_id      INTEGER NOT NULL,
    case_id     VARCHAR NOT NULL,
    activity    VARCHAR NOT NULL,
    ts          TIMESTAMP NOT NULL,   -- complete/end instant, UTC where the source had offsets
    start_ts    TIMESTAMP,            -- start instant, NULL when the event has none
    resource    VARCHAR,
    department  VARCHAR,
    row_no      BIGINT NOT NULL,      -- row in the source file (header = row 1): the tie-breaker
    pos         INTEGER NOT NULL,     -- 1-based position in the case, in canonical event order
    next_activity VARCHAR,            -- the directly following event's activity (NULL for the last)
    next_ts     TIMESTAMP,            -- and its timestamp: the DFG is a GROUP BY, no window at query time
    attrs       MAP(VARCHAR, VARCHAR) -- other event-level columns
);
CREATE TABLE IF NOT EXISTS cases (
    log_id        INTEGER NOT NULL,
    case_id       VARCHAR NOT NULL,
    start_ts      TIMESTAMP NOT NULL,
    end_ts        TIMESTAMP NOT NULL,
    cycle_seconds DOUBLE NOT NULL,
    n_events      INTEGER NOT NULL,
    variant_id    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS variants (
    log_id     INTEGER NOT NULL,
    variant_id INTEGER NOT NULL,      -- 1 = most frequent
    activities VARCHAR[] NOT NULL,
    n_cases    BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS case_attributes (
    log_id  INTEGER NOT NULL,
    case_id VARCHAR NOT NULL,
    name    VARCHAR NOT NULL,
    value   VARCHAR,
    number  DOUBLE                    -- value as a number when it is one (budget ranges)
);
CREATE TABLE IF NOT EXISTS findings (
    finding_id INTEGER PRIMARY KEY,
    created_at TIMESTAMP,
    log_id     INTEGER,
    title      VARCHAR,
    symptom    VARCHAR,
    cause      VARCHAR,
    remedy     VARCHAR,
    impact     VARCHAR,
    evidence   VARCHAR,               -- JSON: page, filter, figures
    tags       VARCHAR[]
);
CREATE TABLE IF NOT EXISTS redesigns (
    redesign_id INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    log_id      INTEGER,
    scenario    VARCHAR,              -- JSON: list of redesign operations
    created_at  TIMESTAMP
);
-- Why it waits: the split of every wait of a log (waiting_causes.save_parts), saved once per (log,
-- calendar, batch gap, code version) so the first page visit only groups it. Derived data: deleting a log
-- deletes it, and a changed split (another version) replaces it.
CREATE SEQUENCE IF NOT EXISTS wait_part_ids START 1;
CREATE TABLE IF NOT EXISTS wait_part_sets (
    set_id     INTEGER PRIMARY KEY,
    log_id     INTEGER NOT NULL,
    key        VARCHAR NOT NULL,      -- JSON: calendar, batch gap, version of the split's code
    meta       VARCHAR NOT NULL,      -- JSON: event_parts' metadata (hand-off unit, cases, keys)
    created_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS wait_parts (
    set_id     INTEGER NOT NULL,
    log_id     INTEGER NOT NULL,
    case_no    INTEGER NOT NULL,      -- the case's rank by case id
    activity   VARCHAR, department VARCHAR, resource VARCHAR,
    prev_department VARCHAR, prev_resource VARCHAR,   -- the previous event's in the case
    batching_us BIGINT, prioritization_us BIGINT, contention_us BIGINT, unavailability_us BIGINT,
    extraneous_us BIGINT, batching_working_us BIGINT, prioritization_working_us BIGINT,
    contention_working_us BIGINT, extraneous_working_us BIGINT
);
"""

# Tables holding one log's rows; deleting a log clears all of them in one transaction.
LOG_TABLES = ("events", "cases", "variants", "case_attributes", "wait_parts", "wait_part_sets", "logs")


class StoreError(Exception):
    """A problem the user can act on; its message is shown as is, without a traceback."""


class StoreLocked(StoreError):
    """Another process holds the database file's write lock."""

    def __init__(self, message: str, path: Path, holder: str):
        super().__init__(message)
        self.path, self.holder = path, holder


class LogNotFound(StoreError):
    """No log with the given id or name."""


def db_path(path: str | os.PathLike | None = None) -> Path:
    """The database file: the explicit path, else $PROCDIAG_DB, else data/procdiag.duckdb."""
    # Read the variable here, not as a default argument, so tests and the CLI can change it.
    chosen = path or os.environ.get("PROCDIAG_DB") or DEFAULT_DB
    return Path(chosen)


def connect(path: str | os.PathLike | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store (creating file and schema when writable) or raise StoreLocked with a plain message."""
    target = db_path(path)
    if read_only and not target.exists():
        # A read-only open cannot create the file; make an empty store first so readers see "no logs".
        connect(target).close()
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(target), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            holder = _lock_holder(text)
            raise StoreLocked(
                f"The database {target} is in use by another process{holder}. Close the dashboard or the "
                "other command and try again, or point this one at another file with --db / PROCDIAG_DB.",
                target, holder,
            ) from None
        raise StoreError(f"Cannot open the database {target}: {text}") from None
    except duckdb.Error as exc:
        raise StoreError(f"Cannot open the database {target}: {exc}") from None
    # GLOBAL: cursors are connections of their own and would otherwise use the server's zone.
    con.execute("SET GLOBAL TimeZone = 'UTC'")
    if not read_only:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
        if not tables:
            con.execute(SCHEMA)
            query("INSERT INTO schema_version VALUES ($version)", version=SCHEMA_VERSION).run(con)
    _check_version(con, target)
    if not read_only:
        con.execute(SCHEMA)  # every statement is IF NOT EXISTS: a store made before a table was added gets it
        _renew_derived(con)
    return con


@cache
def _wait_part_columns() -> list[str]:
    """wait_parts' columns as SCHEMA makes them (in a scratch in-memory database)."""
    with duckdb.connect() as fresh:
        fresh.execute(SCHEMA)
        return [r[0] for r in fresh.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'wait_parts' ORDER BY column_index").fetchall()]


def _renew_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Derived tables (the saved splits of waits) made with other columns are dropped and made again: they
    are recomputed from the events on demand, so nothing is lost."""
    columns = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'wait_parts' AND NOT internal "
        "ORDER BY column_index").fetchall()]
    if columns != _wait_part_columns():
        con.execute("DROP TABLE IF EXISTS wait_parts; DROP TABLE IF EXISTS wait_part_sets")
        con.execute(SCHEMA)


def _check_version(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """Refuse a database written by another version of the schema, instead of failing on some query later."""
    try:
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    except duckdb.CatalogException:
        row = (None,)  # tables from before the schema had a version
    if row[0] != SCHEMA_VERSION:
        con.close()
        raise StoreError(
            f"The database {target} was written by another version of this tool (schema {row[0]}, expected "
            f"{SCHEMA_VERSION}). Re-import the logs into a new file (--db / PROCDIAG_DB), or delete it."
        )


def _lock_holder(message: str) -> str:
    """The '(PID n)' part of DuckDB's lock message, if it names one."""
    marker = "PID "
    if marker in message:
        pid = message.split(marker, 1)[1].split(")")[0].split()[0]
        return f" (PID {pid})"
    return ""


@dataclass(frozen=True)
class LogInfo:
    """One row of the log catalogue."""

    log_id: int
    name: str
    source: str
    imported_at: str
    n_events: int
    n_cases: int
    n_dropped: int
    has_start: bool
    mapping: dict


def list_logs(con: duckdb.DuckDBPyConnection) -> list[LogInfo]:
    """Every imported log, oldest first."""
    rows = con.execute(
        "SELECT log_id, name, source, strftime(imported_at, '%Y-%m-%d %H:%M:%S'), n_events, n_cases, "
        "n_dropped, has_start, mapping FROM logs ORDER BY log_id"
    ).fetchall()
    return [LogInfo(*row[:8], mapping=json.loads(row[8] or "{}")) for row in rows]


def resolve_log(con: duckdb.DuckDBPyConnection, log: int | str) -> int:
    """The id of a log given by id or by name; LogNotFound names the logs that exist."""
    text = str(log).strip()
    row = None
    if text.isdigit():
        row = query("SELECT log_id FROM logs WHERE log_id = $log_id", log_id=int(text)).one(con)
    if row is None:
        row = query("SELECT log_id FROM logs WHERE name = $name", name=text).one(con)
    if row is None:
        known = ", ".join(f"{info.log_id}: {info.name}" for info in list_logs(con)) or "none yet"
        raise LogNotFound(f"No log '{text}'. Logs in the store: {known}.")
    return int(row[0])


def unique_log_name(con: duckdb.DuckDBPyConnection, wanted: str) -> str:
    """`wanted`, or `wanted (2)`, `(3)`, … so a re-import never overwrites another log."""
    taken = {r[0] for r in con.execute("SELECT name FROM logs").fetchall()}
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted} ({n})" in taken:
        n += 1
    return f"{wanted} ({n})"


def rename_log(con: duckdb.DuckDBPyConnection, log: int | str, new_name: str) -> str:
    """Rename a log; refuses a name another log already has."""
    log_id = resolve_log(con, log)
    new_name = new_name.strip()
    if not new_name:
        raise StoreError("A log name cannot be empty.")
    clash = query("SELECT log_id FROM logs WHERE name = $name AND log_id <> $log_id",
                  name=new_name, log_id=log_id).one(con)
    if clash:
        raise StoreError(f"Another log (id {clash[0]}) is already called '{new_name}'.")
    query("UPDATE logs SET name = $name WHERE log_id = $log_id", name=new_name, log_id=log_id).run(con)
    return new_name


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit when the block ends, roll back on any exit by exception.

    BaseException, not Exception: Streamlit stops a script run with exceptions outside Exception.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def delete_log(con: duckdb.DuckDBPyConnection, log: int | str) -> int:
    """Delete a log and all its rows in one transaction; returns its id."""
    log_id = resolve_log(con, log)
    with transaction(con):
        for table in LOG_TABLES:
            query(f"DELETE FROM {quote_ident(table)} WHERE log_id = $log_id", log_id=log_id).run(con)
        # Scenarios name activities, not rows: they outlive the log they were made for.
        query("UPDATE redesigns SET log_id = NULL WHERE log_id = $log_id", log_id=log_id).run(con)
    return log_id
