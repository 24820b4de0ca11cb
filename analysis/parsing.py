"""The one pass over a whole file: typed rows in the TEMP table PARSED_T, numbered in the view PARSED.

Each role's column becomes its field (case_id, activity, ts, start_ts, resource, department); the
raw text of the timestamps is kept beside the parsed value so the report can show what failed, and
every column no role uses rides along as `x:<name>` for the writer's attributes. A rare timestamp
format the sample missed is looked for among the rows that failed, and the pass repeated with it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from analysis import readers, sniff, timestamps
from analysis.sql import Query, in_list, query, quote_ident

PARSED_T = "parsed_table"   # the parsed rows (TEMP table of the import's cursor)
PARSED = "parsed_rows"      # the same with their row numbers (a view)


def extras(staged: readers.Staged, columns: dict[str, str | None]) -> list[str]:
    """The columns no role uses: they become case or event attributes."""
    mapped = {c for c in columns.values() if c}
    return [c for c in staged.columns if c not in mapped]


def build_parsed(cur, staged: readers.Staged, columns: dict[str, str | None],
                 formats: dict[str, timestamps.ColumnFormat],
                 exclude_activities: tuple[str, ...]) -> readers.Staged:
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
    if _widen_formats(cur, formats):
        _create_parsed(cur, staged, columns, formats)
        readers.finish(cur, staged)
    if exclude_activities:
        listed, names = in_list("exclude", list(exclude_activities))
        query(f"DELETE FROM {PARSED_T} WHERE activity IN {listed}", **names).run(cur)
    return staged


def _widen_formats(cur, formats: dict[str, timestamps.ColumnFormat]) -> bool:
    """Add the formats of shapes the sample missed, found among the rows that did not parse; True if any."""
    widened = False
    for role, raw, parsed in (("timestamp", "raw_ts", "ts"), ("start", "raw_start", "start_ts")):
        failed = f"SELECT count(*) FROM {PARSED_T} WHERE {raw} IS NOT NULL AND {parsed} IS NULL"
        if role in formats and cur.execute(failed).fetchone()[0]:
            wider = (timestamps.recheck_day_month(cur, PARSED_T, raw, formats[role])
                     or timestamps.extend_format(cur, PARSED_T, raw, parsed, formats[role]))
            if wider is not None:
                formats[role] = wider
                widened = True
    return widened


def _create_parsed(cur, staged: readers.Staged, columns: dict[str, str | None],
                   formats: dict[str, timestamps.ColumnFormat]) -> None:
    """(Re)create PARSED_T with the current formats, reading the whole source once."""
    def text(role: str) -> str:
        column = columns.get(role)
        # Empty means missing; 'NA', 'null' and 'None' are values (case ids among them).
        return f"NULLIF({timestamps.trimmed(quote_ident(column))}, '')" if column else "NULL::VARCHAR"

    ts = timestamps.parse_sql(formats["timestamp"], quote_ident(columns["timestamp"]), prefix="ts")
    start = (timestamps.parse_sql(formats["start"], quote_ident(columns["start"]), prefix="start")
             if columns.get("start") and "start" in formats else Query("NULL::TIMESTAMP"))
    extra_sql = "".join(f", {quote_ident(c)} AS {quote_ident('x:' + c)}" for c in extras(staged, columns))
    query(
        f"""CREATE OR REPLACE TEMP TABLE {PARSED_T} AS
        SELECT {text('case')} AS case_id, {text('activity')} AS activity,
               {text('timestamp')} AS raw_ts, {ts.text} AS ts,
               {text('start')} AS raw_start, {start.text} AS start_ts,
               {text('resource')} AS resource, {text('department')} AS department
               {extra_sql}
        FROM {staged.source.text}""",
        ts, start, staged.source,
    ).run(cur)


def _create_row_numbers(cur, staged: readers.Staged) -> None:
    """Create the view PARSED: PARSED_T with each row's number in the file (header = row 1).

    The number comes from PARSED_T's rowid, which follows the file's order (DuckDB keeps the
    insertion order): the only row number the read gives for free. DuckDB's CSV reader has no
    row-number column, and `row_number() OVER ()` in the pass would run the read and the parsing on
    one thread. Nothing is ever ordered by rowid: every later step orders by row_no.
    Rows the reader left out (malformed or empty) still have their number, so the rows after them
    must be shifted: the k-th kept row gets the k-th number that is not skipped. For skipped rows
    s_1 < s_2 < ..., kept rows from rowid t_i = s_i - offset - i + 1 on come after s_i, so an ASOF
    join on t gives each row how many skipped rows precede it.
    """
    offset = int(staged.row_offset)
    if not staged.skipped:
        cur.execute(
            f"CREATE OR REPLACE TEMP VIEW {PARSED} AS SELECT rowid + {offset} AS row_no, * FROM {PARSED_T}")
        return
    shift: dict[int, int] = {}
    for i, skipped in enumerate(staged.skipped, start=1):
        shift[skipped - offset - i + 1] = i
    # Two lists of our own numbers (possibly thousands): array parameters, not one parameter per value.
    query("CREATE OR REPLACE TEMP TABLE row_shift AS "
          "SELECT unnest($t::BIGINT[]) AS t, unnest($i::BIGINT[]) AS i",
          t=list(shift), i=list(shift.values())).run(cur)
    cur.execute(
        f"""CREATE OR REPLACE TEMP VIEW {PARSED} AS
        SELECT r.k + {offset} + coalesce(s.i, 0) AS row_no, r.* EXCLUDE (k)
        FROM (SELECT rowid AS k, * FROM {PARSED_T}) r ASOF LEFT JOIN row_shift s ON r.k >= s.t""")
