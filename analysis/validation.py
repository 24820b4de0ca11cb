"""The validation report of an import: its problems, the checks that find them, and the report as text.

`Problem` is one finding (code, severity, the first rows, examples); `validate` runs every check over
the parsed rows (`parsing.PARSED`), counting all row-level conditions in one scan and fetching rows
and examples only for those that occur. `INVALID` / `VALID` say which rows an import drops,
`DUPLICATE` which rows repeat an earlier one. `ImportFailed` carries the report when nothing was
written; `format_report` prints it for the command line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from analysis import readers, timestamps
from analysis.parsing import PARSED, PARSED_T, extras
from analysis.sql import Query, query, quote_ident
from analysis.store import StoreError
from analysis.texts import t

MAX_ROWS_LISTED = 10
MAX_EXAMPLES = 5
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


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
# Row numbers of the valid rows that repeat an earlier valid row.
DUPLICATE_ROWS = (f"SELECT row_no FROM (SELECT row_no, {DUPLICATE} AS dup FROM {PARSED} WHERE {VALID}) "
                  "WHERE dup")
# Unusual but kept: counted in the same scan as INVALID; `$tomorrow` is bound by _row_problems.
ODD = {"before_1970": "least(ts, coalesce(start_ts, ts)) < TIMESTAMP '1970-01-01'",
       "in_future": "ts > $tomorrow"}
EXAMPLES_OF = {"bad_timestamp": "raw_ts", "bad_start": "raw_start",
               "start_after_end": "raw_start || ' > ' || raw_ts",
               "before_1970": "coalesce(raw_start, raw_ts)", "in_future": "raw_ts"}


def problem_rows(cur, where: Query, example: str | None = None) -> tuple[int, list[int], list[str]]:
    """(count, first row numbers, example values) of PARSED rows matching `where`."""
    count = query(f"SELECT count(*) FROM {PARSED} WHERE {where.text}", where).scalar(cur)
    if not count:
        return 0, [], []
    rows = [r[0] for r in query(
        f"SELECT row_no FROM {PARSED} WHERE {where.text} ORDER BY row_no LIMIT {MAX_ROWS_LISTED}",
        where).rows(cur)]
    examples: list[str] = []
    if example:
        examples = [str(r[0]) for r in query(
            f"SELECT e FROM (SELECT {example} AS e, min(row_no) AS r FROM (SELECT * FROM {PARSED} "
            f"WHERE {where.text} ORDER BY row_no LIMIT 200) GROUP BY e) ORDER BY r LIMIT {MAX_EXAMPLES}",
            where).rows(cur)]
    return int(count), rows, examples


def validate(cur, staged: readers.Staged, columns: dict[str, str | None],
             formats: dict[str, timestamps.ColumnFormat],
             exclude_activities: tuple[str, ...]) -> list[Problem]:
    """The validation report over PARSED, errors first."""
    problems = [
        *_reader_problems(cur, staged, exclude_activities),
        *_row_problems(cur, columns),
        *_repeat_problems(cur),
        *_lifecycle_problems(cur, staged, columns),
        *_format_problems(formats),
    ]
    problems.sort(key=lambda p: SEVERITY_ORDER[p.severity])
    return problems


def _reader_problems(cur, staged: readers.Staged, exclude_activities: tuple[str, ...]) -> list[Problem]:
    """What the reader met: an unclosed quote, malformed rows, and the rows the exclusions removed."""
    problems: list[Problem] = []
    if staged.unclosed_quote:
        problems.append(Problem("unclosed_quote", "error", 1, [staged.unclosed_quote],
                                params={"row": staged.unclosed_quote}))
    if staged.n_rejects:
        problems.append(Problem("malformed_rows", "error", staged.n_rejects, [r[0] for r in staged.rejects],
                                [r[2] for r in staged.rejects[:MAX_EXAMPLES]]))
    if exclude_activities:
        excluded = staged.n_rows - cur.execute(f"SELECT count(*) FROM {PARSED}").fetchone()[0]
        if excluded:
            problems.append(Problem("excluded_activities", "info", excluded,
                                    params={"activities": ", ".join(exclude_activities)}))
    return problems


def _row_problems(cur, columns: dict[str, str | None]) -> list[Problem]:
    """Invalid rows (INVALID) and odd dates (ODD): one scan counts all, then rows of those that occur."""
    tomorrow = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
    conditions = {**INVALID, **ODD}
    counts = query(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {w})" for w in conditions.values())
        + f" FROM {PARSED}",
        tomorrow=tomorrow).one(cur)
    problems: list[Problem] = []
    for (code, where), n in zip(conditions.items(), counts, strict=True):
        if not n:
            continue
        count, rows, examples = problem_rows(cur, query(where, tomorrow=tomorrow),
                                             example=EXAMPLES_OF.get(code))
        column = columns.get("start" if code == "bad_start" else "timestamp") or ""
        severity = "error" if code in INVALID else "warning"
        problem_code = "bad_timestamp" if code == "bad_start" else code
        problems.append(Problem(problem_code, severity, count, rows, examples, {"column": column}))
    return problems


def _repeat_problems(cur) -> list[Problem]:
    """Duplicate rows, single-event cases and ties (events of a case at the same instant)."""
    # Ties first, by a cheap hashed count (no collision can hide one). A duplicate is also a tie
    # (same case and timestamps), so only a log with ties is searched for duplicates.
    maybe_tie = cur.execute(
        f"SELECT count(*) - count(DISTINCT hash(case_id, coalesce(start_ts, ts), ts)) "
        f"FROM {PARSED_T} WHERE {VALID}").fetchone()[0]
    maybe_dup = maybe_tie and cur.execute(
        f"SELECT count(*) - count(DISTINCT hash(case_id, activity, ts, start_ts, resource, department)) "
        f"FROM {PARSED_T} WHERE {VALID}").fetchone()[0]
    problems: list[Problem] = []
    if maybe_dup:
        count, rows, _ = problem_rows(cur, Query(f"row_no IN ({DUPLICATE_ROWS})"))
        if count:
            problems.append(Problem("duplicates", "warning", count, rows))
    single = cur.execute(
        f"SELECT count(*), list(case_id ORDER BY case_id)[:{MAX_EXAMPLES}] FROM "
        f"(SELECT case_id FROM {PARSED} WHERE {VALID} GROUP BY case_id HAVING count(*) = 1)").fetchone()
    if single[0]:
        problems.append(Problem("single_event_cases", "warning", int(single[0]), examples=list(single[1])))
    if maybe_tie:
        count, rows, examples = problem_rows(
            cur, Query(f"""row_no IN (SELECT row_no FROM (SELECT row_no, count(*) OVER (PARTITION BY case_id,
                 coalesce(start_ts, ts), ts) AS n FROM {PARSED} WHERE {VALID}) WHERE n > 1)"""),
            example="case_id || ': ' || activity || ' @ ' || strftime(ts, '%Y-%m-%d %H:%M:%S')")
        if count:
            problems.append(Problem("ties", "warning", count, rows, examples))
    return problems


def _lifecycle_problems(cur, staged: readers.Staged, columns: dict[str, str | None]) -> list[Problem]:
    """XES starts without their complete (the XES reader keeps them as events at the start time)."""
    lifecycle = "x:lifecycle:transition"
    if staged.kind != "xes" or lifecycle[2:] not in extras(staged, columns):
        return []
    count, rows, _ = problem_rows(cur, Query(f"lower({quote_ident(lifecycle)}) = 'start'"))
    return [Problem("unpaired_starts", "info", count, rows)] if count else []


def _format_problems(formats: dict[str, timestamps.ColumnFormat]) -> list[Problem]:
    """What the detected formats leave open: an assumed day/month order, offsets on some values only."""
    problems: list[Problem] = []
    for fmt in formats.values():
        if fmt.day_first_source == "assumed":
            example = next((s.examples[0] for s in fmt.shapes if s.kind == "strptime"), "")
            problems.append(Problem("dayfirst_assumed", "info", 0,
                                    params={"column": fmt.column, "example": example}))
        if fmt.naive_and_offset:
            problems.append(Problem("naive_and_offset", "warning", 0, params={"column": fmt.column}))
    return problems
