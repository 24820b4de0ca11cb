"""The global case filter: one frozen, hashable value that every page and CLI command applies the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

TIME_MODES = ("started", "completed", "intersecting")


@dataclass(frozen=True)
class CaseFilter:
    """Which cases of a log to keep. Empty fields keep everything; the default keeps all cases."""

    time_from: str | None = None          # ISO date or timestamp, inclusive
    time_to: str | None = None            # ISO date or timestamp, inclusive (a date means the whole day)
    time_mode: str = "intersecting"       # cases started in / completed in / intersecting the range
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)  # (name, allowed values)

    @property
    def is_empty(self) -> bool:
        """True when the filter keeps every case."""
        return not (self.time_from or self.time_to or self.attributes)

    def with_attribute(self, name: str, values: tuple[str, ...]) -> CaseFilter:
        """A copy with one attribute's allowed values replaced (empty values remove the condition)."""
        rest = tuple((n, v) for n, v in self.attributes if n != name)
        attrs = rest + (((name, tuple(values)),) if values else ())
        return CaseFilter(self.time_from, self.time_to, self.time_mode, tuple(sorted(attrs)))

    def to_json(self) -> str:
        """The filter as JSON (the CLI's --filter FILE format)."""
        return json.dumps({"time_from": self.time_from, "time_to": self.time_to, "time_mode": self.time_mode,
                           "attributes": {n: list(v) for n, v in self.attributes}}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CaseFilter:
        """Read the JSON format of to_json (unknown keys are an error, so typos do not pass silently)."""
        data = json.loads(text)
        unknown = set(data) - {"time_from", "time_to", "time_mode", "attributes"}
        if unknown:
            raise ValueError(f"Unknown filter keys: {', '.join(sorted(unknown))}")
        mode = data.get("time_mode") or "intersecting"
        if mode not in TIME_MODES:
            raise ValueError(f"time_mode must be one of {', '.join(TIME_MODES)}")
        attrs = tuple(sorted((str(n), tuple(str(x) for x in v)) for n, v in (data.get("attributes") or {}).items()))
        return cls(data.get("time_from"), data.get("time_to"), mode, attrs)


ALL = CaseFilter()


def _upper_bound(value: str) -> tuple[str, str]:
    """SQL comparison and bound for an inclusive upper limit: a bare date includes its whole day."""
    if len(value.strip()) == 10:
        return "<", "CAST(? AS DATE) + INTERVAL 1 DAY"
    return "<=", "CAST(? AS TIMESTAMP)"


def case_ids_sql(log_id: int, flt: CaseFilter | None) -> tuple[str, list]:
    """A query selecting the case_id of every kept case of the log, and its parameters."""
    sql = ["SELECT c.case_id FROM cases c WHERE c.log_id = ?"]
    params: list = [log_id]
    flt = flt or ALL
    if flt.time_from or flt.time_to:
        start_col, end_col = "c.start_ts", "c.end_ts"
        lo_col, hi_col = {"started": (start_col, start_col), "completed": (end_col, end_col),
                          "intersecting": (end_col, start_col)}[flt.time_mode]
        if flt.time_from:
            sql.append(f"AND {lo_col} >= CAST(? AS TIMESTAMP)")
            params.append(flt.time_from)
        if flt.time_to:
            op, bound = _upper_bound(flt.time_to)
            sql.append(f"AND {hi_col} {op} {bound}")
            params.append(flt.time_to)
    for name, values in flt.attributes:
        sql.append("AND c.case_id IN (SELECT case_id FROM case_attributes WHERE log_id = ? AND name = ? "
                   "AND list_contains(?, value))")
        params += [log_id, name, list(values)]
    return " ".join(sql), params


def kept_events_sql(log_id: int, flt: CaseFilter | None) -> tuple[str, list]:
    """A query selecting the events of the kept cases (all columns of `events`)."""
    if flt is None or flt.is_empty:
        return "SELECT * FROM events WHERE log_id = ?", [log_id]
    cases, params = case_ids_sql(log_id, flt)
    return f"SELECT * FROM events WHERE log_id = ? AND case_id IN ({cases})", [log_id, *params]


def kept_cases_sql(log_id: int, flt: CaseFilter | None) -> tuple[str, list]:
    """A query selecting the kept rows of `cases`."""
    if flt is None or flt.is_empty:
        return "SELECT * FROM cases WHERE log_id = ?", [log_id]
    cases, params = case_ids_sql(log_id, flt)
    return f"SELECT * FROM cases WHERE log_id = ? AND case_id IN ({cases})", [log_id, *params]
