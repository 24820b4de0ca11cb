"""SQL building blocks: a query as text plus named parameters, and the one identifier-quoting helper.

Every value from a user reaches SQL as a named parameter (`$name`, which DuckDB binds); only SQL
fragments built by this code and identifiers passed through `quote_ident` are pasted into SQL text.
Queries compose: a query embeds another's text (a subquery, a CTE) and takes over its parameters, so
no caller ever counts `?` marks. Two fragments may share a parameter name only with the same value
(the log id, typically); a clash is a programming error and raises at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:  # pandas costs a command-line start ~0.5 s: only the type is needed here
    import pandas as pd

# $name outside of quotes is a parameter; DuckDB rejects values it is given but does not use, so
# `bound` passes exactly the names the text mentions.
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def quote_ident(name: str) -> str:
    """Quote a column or table name for SQL: the one place identifiers from users enter SQL."""
    return '"' + str(name).replace('"', '""') + '"'


@dataclass(frozen=True)
class Query:
    """SQL text and the values of its named parameters (`$name`)."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def bound(self) -> dict[str, Any]:
        """The parameters the text uses (KeyError naming any the text needs but nobody gave)."""
        names = dict.fromkeys(_PARAM.findall(_without_literals(self.text)))
        missing = [n for n in names if n not in self.params]
        if missing:
            raise KeyError(f"query parameters without a value: {', '.join(missing)}")
        return {n: self.params[n] for n in names}

    def run(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """Execute on a connection or cursor; the result is read from what it returns."""
        return con.execute(self.text, self.bound())

    def df(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        """The result as a DataFrame."""
        return self.run(con).df()

    def rows(self, con: duckdb.DuckDBPyConnection) -> list[tuple]:
        """Every result row."""
        return self.run(con).fetchall()

    def one(self, con: duckdb.DuckDBPyConnection) -> tuple | None:
        """The first result row (None when there is none)."""
        return self.run(con).fetchone()

    def scalar(self, con: duckdb.DuckDBPyConnection) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = self.one(con)
        return None if row is None else row[0]


def query(text: str, *parts: Query, **params: Any) -> Query:
    """A query from its text, the fragments the text embeds (their parameters join it) and its own values."""
    merged: dict[str, Any] = {}
    for source in [*(p.params for p in parts), params]:
        for name, value in source.items():
            if name in merged and not _same(merged[name], value):
                raise ValueError(f"query parameter ${name} given two different values")
            merged[name] = value
    return Query(text, merged)


def in_list(name: str, values) -> tuple[str, dict[str, Any]]:
    """`($name_0, $name_1, …)` and its parameters: a list as scalar parameters, portable to any SQL engine.

    An empty list has no SQL form (`IN ()` is not SQL): callers decide what an empty choice means."""
    if not values:
        raise ValueError(f"in_list({name!r}) needs at least one value")
    names = [f"{name}_{i}" for i in range(len(values))]
    return "(" + ", ".join(f"${n}" for n in names) + ")", dict(zip(names, values, strict=True))


def _same(a: Any, b: Any) -> bool:
    """Equal values (lists compare by content; NaN never occurs in parameters)."""
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _without_literals(text: str) -> str:
    """The text with quoted strings and identifiers blanked, so a `$` inside them is not a parameter."""
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "''", text)
