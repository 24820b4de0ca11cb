"""Detecting and parsing timestamp columns: many formats, even mixed in one column, as DuckDB SQL.

A column's values are grouped by *shape* (digit runs -> 9, letter runs -> a), one GROUP BY over
all rows. Each shape gets one format, chosen by trying the candidate formats of the same shape on
its example values. Parsing is then one CASE over the shape, so a million rows never pass through
Python, and every row that no format fits is counted and reported.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

import duckdb

from analysis.formatting import DAY
from analysis.sql import Query, query, quote_ident
from analysis.texts import t

MAX_SHAPES = 40
US_PER_DAY = int(DAY) * 1_000_000   # Excel serial dates count days
EXAMPLES_PER_SHAPE = 8

DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日",
    "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%m.%d.%Y", "%d-%m-%Y", "%m-%d-%Y",
    "%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%d-%m-%y",
    "%d-%b-%Y", "%d %b %Y", "%b %d %Y", "%d-%b-%y", "%d %B %Y", "%B %d %Y",
)
TIME_FORMATS = (
    "", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f", "T%H:%M", "T%H:%M:%S", "T%H:%M:%S.%f",
    " %H时%M分", " %H时%M分%S秒", " %H点%M分", " %I:%M %p", " %I:%M:%S %p", " %I:%M%p",
    ":%H.%M", ":%H:%M", " %H.%M", " %H.%M.%S", " %H%M", "%H:%M", " %H时", " %p %I:%M", " %p%I:%M",
)
ZONE_FORMATS = ("", "%z", " %z")
# Day and month order is decided from the values, not from the first format that happens to parse.
DAY_FIRST = {f for f in DATE_FORMATS if f.startswith("%d")}
MONTH_FIRST = {f for f in DATE_FORMATS if f.startswith(("%m", "%b", "%B"))}
SPECIAL = ("iso", "epoch_s", "epoch_ms", "excel", "dayfirst", "monthfirst")


# The shape of a value, as SQL (shape_sql) and as Python (shape_of), kept identical.
def shape_sql(col: str) -> str:
    """SQL for the shape of the values of `col` (a column's SQL): digit runs -> 9, letter runs -> a."""
    return f"regexp_replace(regexp_replace(trim({col}), '[0-9]+', '9', 'g'), '[A-Za-z]+', 'a', 'g')"


def shape_of(value: str) -> str:
    """The shape of one value, as shape_sql computes it."""
    return re.sub(r"[A-Za-z]+", "a", re.sub(r"[0-9]+", "9", value.strip()))


def _format_shape(fmt: str, zone: str = "+9:9") -> str:
    """The shape of the values a strptime format produces, with `zone` standing for %z."""
    text = re.sub(r"%[bBpaA]", "a", fmt).replace("%z", "\x00")
    text = re.sub(r"%[YmdHMSfyIjU]", "9", text)
    return shape_of(text).replace("\x00", zone)


def _candidates() -> dict[str, list[str]]:
    """Every candidate strptime format, keyed by the shapes of the values it parses."""
    by_shape: dict[str, list[str]] = {}
    for date, time, zone in itertools.product(DATE_FORMATS, TIME_FORMATS, ZONE_FORMATS):
        fmt = date + time + zone
        # %z reads +02:00, -0500, +02 and Z alike; each has its own shape.
        zones = ("+9:9", "-9:9", "+9", "-9", "a") if zone else ("",)
        for z in zones:
            by_shape.setdefault(_format_shape(fmt, z), []).append(fmt)
    return by_shape


@functools.cache
def candidates() -> dict[str, list[str]]:
    """The candidate formats by shape, built on first use (not at import: the CLI starts faster)."""
    return _candidates()


@dataclass(frozen=True)
class ShapeFormat:
    """How the values of one shape are parsed."""

    shape: str
    kind: str                 # iso | strptime | epoch_s | epoch_ms | excel | unknown
    fmt: str                  # the strptime format, or '' for the other kinds
    rows: int
    examples: tuple[str, ...]
    parsed: tuple[str, ...]   # the examples as parsed (UTC, ISO text), '' where they failed

    @property
    def label(self) -> str:
        """The format in English (strptime notation, or the kind's name)."""
        return self.describe("en")

    def describe(self, lang: str = "en") -> str:
        """What a user reads: the format in strptime notation or the kind's name, in `lang`."""
        return self.fmt if self.kind == "strptime" else t(f"fmt.{self.kind}", lang)


@dataclass(frozen=True)
class ColumnFormat:
    """The detected format(s) of one timestamp column."""

    column: str
    shapes: tuple[ShapeFormat, ...]
    day_first: bool | None    # None: no day/month ambiguity arose
    day_first_source: str     # 'values', 'assumed', 'forced' or ''
    has_offsets: bool         # some values carry a UTC offset (they become UTC instants)
    naive_and_offset: bool    # some carry an offset and others don't: the naive ones are taken as UTC
    forced: str | None = None  # the format the user gave, if any

    @property
    def parseable(self) -> bool:
        """True when at least one shape has a format."""
        return any(s.kind != "unknown" for s in self.shapes)

    @property
    def label(self) -> str:
        """A one-line description in English."""
        return self.describe("en")

    def describe(self, lang: str = "en") -> str:
        """A one-line description in `lang`: the formats, most frequent first, and the day/month order."""
        known = [s for s in self.shapes if s.kind != "unknown"]
        total = sum(s.rows for s in self.shapes) or 1
        parts = [f"{s.describe(lang)} ({s.rows / total:.0%})" if len(known) > 1 else s.describe(lang)
                 for s in known[:4]]
        text = "; ".join(parts) if parts else t("fmt.unknown", lang)
        if self.day_first is not None:
            order = "dayfirst" if self.day_first else "monthfirst"
            text += " · " + t(f"fmt.{order}_{self.day_first_source or 'values'}", lang)
        return text


def profile_shapes(con: duckdb.DuckDBPyConnection, source: str,
                   column: str) -> list[tuple[str, int, list[str]]]:
    """(shape, rows, examples) of the non-empty values of `column` in the FROM clause `source`, by rows."""
    col = quote_ident(column)
    rows = con.execute(
        f"SELECT {shape_sql(col)} AS shape, count(*) AS n, "
        f"list(DISTINCT trim({col}) ORDER BY trim({col}))[:{EXAMPLES_PER_SHAPE}] "
        f"FROM {source} WHERE trim({col}) <> '' GROUP BY shape ORDER BY n DESC, shape"
    ).fetchall()
    return [(shape, int(n), list(examples)) for shape, n, examples in rows]


def _day_month_maxima(con: duckdb.DuckDBPyConnection, table: str, column: str) -> tuple[int, int]:
    """Largest first and second number among values like 5/3/2024 or 05.03.2024 (day or month first)."""
    col = quote_ident(column)
    pattern = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}"
    row = query(
        f"SELECT max(try_cast(regexp_extract({col}, $pattern, 1) AS INTEGER)), "
        f"max(try_cast(regexp_extract({col}, $pattern, 2) AS INTEGER)) "
        f"FROM {quote_ident(table)} WHERE regexp_matches({col}, $pattern)",
        pattern=pattern,
    ).one(con)
    return int(row[0] or 0), int(row[1] or 0)


def _parses(con: duckdb.DuckDBPyConnection, kind: str, fmt: str, values: list[str],
            offset: bool = False) -> list[str | None]:
    """The values parsed with one kind/format, as UTC ISO text (None where they fail)."""
    if not values:
        return []
    expr = _parse_expr(kind, fmt, "v", offset)
    # A handful of examples: one scalar parameter each, numbered to keep their order.
    named = {f"v_{i}": v for i, v in enumerate(values)}
    rows = ", ".join(f"(${n}::VARCHAR, {i})" for i, n in enumerate(named))
    return [r[0] for r in query(
        f"SELECT strftime({expr.text}, '%Y-%m-%d %H:%M:%S') FROM (VALUES {rows}) t(v, i) ORDER BY i",
        expr, **named,
    ).rows(con)]


def trimmed(col: str) -> str:
    """SQL for `col` without surrounding spaces, allocating a new string only when there are some."""
    return f"(CASE WHEN starts_with({col}, ' ') OR ends_with({col}, ' ') THEN trim({col}) ELSE {col} END)"


def _parse_expr(kind: str, fmt: str, col: str, offset: bool = False, name: str = "fmt") -> Query:
    """SQL turning the text in `col` into a UTC TIMESTAMP (NULL when it does not parse); a format is `$name`.

    Naive values stay as written (no time-zone arithmetic, which is also faster); values with an
    offset become UTC instants through timezone('UTC', ...), whatever the session's time zone.
    `offset` says whether the values (of an 'iso' shape) carry an offset.
    """
    v = trimmed(col)
    if kind == "iso":
        if offset:
            return Query(f"timezone('UTC', try_cast({v} AS TIMESTAMPTZ))")
        return Query(f"try_cast({v} AS TIMESTAMP)")
    if kind == "strptime" and "%z" in fmt:
        return Query(f"timezone('UTC', try_strptime({v}, ${name})::TIMESTAMPTZ)", {name: fmt})
    if kind == "strptime":
        return Query(f"try_strptime({v}, ${name})", {name: fmt})
    if kind == "epoch_s":
        return Query(f"timezone('UTC', to_timestamp(try_cast({v} AS DOUBLE)))")
    if kind == "epoch_ms":
        return Query(f"timezone('UTC', to_timestamp(try_cast({v} AS DOUBLE) / 1000.0))")
    if kind == "excel":
        # Excel's day 0 is 1899-12-30 (its 1900 leap-year bug is folded into that origin).
        return Query(f"try_cast(TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(try_cast({v} AS DOUBLE) "
                     f"* {US_PER_DAY}) AS BIGINT)) AS TIMESTAMP)")
    return Query("NULL::TIMESTAMP")


def _numeric_kind(examples: list[str]) -> str | None:
    """epoch_s, epoch_ms or excel for plain numbers, judged by their magnitude."""
    try:
        numbers = [float(e) for e in examples]
    except ValueError:
        return None
    if all(1e11 <= x < 1e13 for x in numbers):
        return "epoch_ms"
    if all(1e8 <= x < 1e10 for x in numbers):
        return "epoch_s"
    if all(1 <= x < 2_958_466 for x in numbers):
        return "excel"
    return None


def _choose(con, shape: str, examples: list[str], day_first: bool | None,
            forced: str | None) -> tuple[str, str]:
    """(kind, format) for one shape: the first candidate that parses every example."""
    if forced and forced not in SPECIAL:
        return "strptime", forced
    if forced in ("iso", "epoch_s", "epoch_ms", "excel"):
        return forced, ""
    if re.fullmatch(r"9(\.9)?", shape):
        kind = _numeric_kind(examples)
        if kind:
            return kind, ""
    formats = candidates().get(shape, [])
    if day_first is not None:
        unwanted = MONTH_FIRST if day_first else DAY_FIRST
        formats = [f for f in formats if not any(f.startswith(u) for u in unwanted)]
    # Exact strptime formats first: a cast would also accept other shapes (and drop their offsets).
    trials: list[tuple[str, str]] = [("strptime", f) for f in formats]
    trials.append(("iso", ""))
    # The format that reads the most examples as plausible dates wins; one typo among the examples
    # must not make the whole shape unreadable (the typo's row is reported on its own).
    best, best_count = ("unknown", ""), 0
    for kind, fmt in trials:
        parsed = _parses(con, kind, fmt, examples, offset_shape(shape))
        count = sum(1 for p in parsed if p is not None and _plausible(p))
        if count == len(examples):
            return kind, fmt
        if count > best_count:
            best, best_count = (kind, fmt), count
    return best


def _plausible(parsed: str) -> bool:
    """A four-digit year: '%Y' also reads '24' as the year 24, which is never what a log means."""
    year = parsed.split("-", 1)[0]
    return len(year) == 4 and year.isdigit() and year >= "1000"


def detect_column_format(
    con: duckdb.DuckDBPyConnection, table: str, column: str, forced: str | None = None
) -> ColumnFormat:
    """Detect the format of every shape in a text column of `table` (forced: a strptime format or SPECIAL)."""
    # `table` is the importer's sample of the first rows; shapes they miss are found later among the
    # rows that did not parse (extend_format).
    shapes = profile_shapes(con, quote_ident(table), column)
    # Day-first vs month-first is one decision for the whole column, from the numbers themselves.
    day_first: bool | None = None
    source = ""
    if forced in ("dayfirst", "monthfirst"):
        day_first, source = forced == "dayfirst", "forced"
    elif any(re.match(r"^9[/.\-]9[/.\-]9", s) for s, _, ex in shapes if not re.match(r"^\d{4}", ex[0])):
        first, second = _day_month_maxima(con, table, column)
        if first > 12 >= second:
            day_first, source = True, "values"
        elif second > 12 >= first:
            day_first, source = False, "values"
        else:
            # Both <= 12 cannot be told apart; both > 12 means some rows are wrong either way.
            day_first, source = True, "assumed"
    strptime_forced = forced if forced not in ("dayfirst", "monthfirst") else None
    results = _shape_formats(con, shapes, day_first, strptime_forced)
    return _column_format(column, results, day_first, source, forced)


def _shape_formats(con, shapes, day_first: bool | None, forced: str | None) -> list[ShapeFormat]:
    """A ShapeFormat for each (shape, rows, examples)."""
    results = []
    for i, (shape, rows, examples) in enumerate(shapes):
        if i >= MAX_SHAPES:
            results.append(ShapeFormat(shape, "unknown", "", rows, tuple(examples), ("",) * len(examples)))
            continue
        kind, fmt = _choose(con, shape, examples, day_first, forced)
        parsed = (_parses(con, kind, fmt, examples, offset_shape(shape)) if kind != "unknown"
                  else [None] * len(examples))
        results.append(ShapeFormat(shape, kind, fmt, rows, tuple(examples), tuple(p or "" for p in parsed)))
    return results


def _column_format(column: str, results: list[ShapeFormat], day_first: bool | None, source: str,
                   forced: str | None) -> ColumnFormat:
    """Assemble a ColumnFormat (day/month order only reported when a format uses it)."""
    uses_dm = any(s.kind == "strptime" and (s.fmt[:2] in ("%d", "%m", "%b", "%B")) for s in results)
    offsets = [_has_offset(s) for s in results if s.kind != "unknown"]
    return ColumnFormat(
        column=column,
        shapes=tuple(results),
        day_first=day_first if uses_dm else None,
        day_first_source=source if uses_dm else "",
        has_offsets=any(offsets),
        naive_and_offset=any(offsets) and not all(offsets),
        forced=forced,
    )


def recheck_day_month(con: duckdb.DuckDBPyConnection, table: str, raw: str,
                      fmt: ColumnFormat) -> ColumnFormat | None:
    """Month-first after all, when day-first was only assumed from the first rows and later rows prove it.

    Returns the month-first format (decided from the values), or None when nothing changes.
    """
    if not fmt.day_first or fmt.day_first_source != "assumed":
        return None
    first, second = _day_month_maxima(con, table, raw)
    if not second > 12 >= first:
        return None
    shapes = [(s.shape, s.rows, list(s.examples)) for s in fmt.shapes]
    return _column_format(fmt.column, _shape_formats(con, shapes, False, None), False, "values", fmt.forced)


def extend_format(con: duckdb.DuckDBPyConnection, table: str, raw: str, parsed: str,
                  fmt: ColumnFormat) -> ColumnFormat | None:
    """Formats for shapes the sample missed, found among the rows of `table` whose `raw` did not parse.

    Returns the widened ColumnFormat, or None when the failed rows hold no new readable shape
    (they are then genuinely unparseable and reported as such).
    """
    known = {s.shape for s in fmt.shapes}
    failed = f"(SELECT {quote_ident(raw)} FROM {quote_ident(table)} WHERE {quote_ident(parsed)} IS NULL)"
    fresh = [s for s in profile_shapes(con, failed, raw) if s[0] not in known]
    if not fresh:
        return None
    strptime_forced = fmt.forced if fmt.forced not in ("dayfirst", "monthfirst") else None
    added = [s for s in _shape_formats(con, fresh, fmt.day_first, strptime_forced) if s.kind != "unknown"]
    if not added:
        return None
    return _column_format(fmt.column, [*fmt.shapes, *added], fmt.day_first, fmt.day_first_source, fmt.forced)


def _has_offset(shape: ShapeFormat) -> bool:
    """True when values of this shape carry a UTC offset or a Z."""
    if shape.kind == "strptime":
        return "%z" in shape.fmt
    if shape.kind == "iso":
        return offset_shape(shape.shape)
    return shape.kind in ("epoch_s", "epoch_ms")


def offset_shape(shape: str) -> bool:
    """True when a shape ends in an offset (+9:9, -9, Z) after a time of day (a date's -9 is no offset)."""
    return ":" in shape and bool(re.search(r"(a|[+\-]9(:9)?)$", shape))


def parse_sql(fmt: ColumnFormat, col_sql: str, prefix: str = "p") -> Query:
    """SQL for the UTC TIMESTAMP of each value of `col_sql`, NULL if unparseable; parameters `$<prefix>_…`."""
    known = [s for s in fmt.shapes if s.kind != "unknown"]
    if not known:
        return Query("NULL::TIMESTAMP")
    if len(known) == 1 and known[0].kind != "iso":
        # One exact format (or a number format) rejects every other shape by itself: no CASE needed.
        return _parse_expr(known[0].kind, known[0].fmt, col_sql, name=f"{prefix}_fmt")
    exprs = [_parse_expr(s.kind, s.fmt, col_sql, offset_shape(s.shape), name=f"{prefix}_fmt_{i}")
             for i, s in enumerate(known)]
    shapes = {f"{prefix}_shape_{i}": s.shape for i, s in enumerate(known)}
    parts = " ".join(f"WHEN ${n} THEN {e.text}" for n, e in zip(shapes, exprs, strict=True))
    return query(f"(CASE {shape_sql(col_sql)} {parts} END)", *exprs, **shapes)
