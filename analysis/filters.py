"""The global case filter: one frozen, hashable value that every page and CLI command applies the same way.

Every condition keeps or drops whole cases (never single events), so a case's variant, cycle time and
directly-follows pairs are the same under every filter. Conditions combine with AND; within one
condition a list of values means "any of them". The top-k variant condition is applied last: it ranks
the variants of the cases the other conditions keep.

The JSON form (the CLI's `--filter FILE`) has the same keys as the dataclass; README documents it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace

from analysis.errors import UserError, parse_json
from analysis.sql import Query, in_list, query

TIME_MODES = ("started", "completed", "intersecting", "contained")

Pair = tuple[str, str]


@dataclass(frozen=True)
class CaseFilter:
    """Which cases of a log to keep. Empty fields keep everything; the default keeps all cases."""

    time_from: str | None = None          # ISO date or timestamp, inclusive
    time_to: str | None = None            # ISO date or timestamp, inclusive (a date means the whole day)
    time_mode: str = "intersecting"       # cases started in / completed in / intersecting / contained in the range
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # case attribute name -> allowed values
    variants: tuple[tuple[str, ...], ...] = ()     # chosen variants (activity sequences)
    variants_top: int | None = None                # keep the k most frequent variants
    activities_present: tuple[str, ...] = ()       # cases with at least one of these activities
    activities_absent: tuple[str, ...] = ()        # cases with none of these activities
    departments: tuple[str, ...] = ()              # cases touching at least one of these departments
    cycle_min_seconds: float | None = None         # cycle time range, inclusive
    cycle_max_seconds: float | None = None
    start_activities: tuple[str, ...] = ()         # cases whose first event is one of these
    end_activities: tuple[str, ...] = ()           # cases whose last event is one of these
    directly_follows: tuple[Pair, ...] = ()        # cases with at least one of these a→b pairs
    eventually_follows: tuple[Pair, ...] = ()      # cases where some a is followed later by some b, any pair

    @property
    def is_empty(self) -> bool:
        """True when the filter keeps every case."""
        return self == CaseFilter(time_mode=self.time_mode)

    def active(self) -> list[str]:
        """The names of the conditions in force (the time range counts once, as `time`)."""
        names = []
        for f in fields(self):
            if f.name in ("time_mode", "time_to", "cycle_max_seconds"):
                continue
            value = getattr(self, f.name)
            if f.name == "time_from":
                value = self.time_from or self.time_to
                name = "time"
            elif f.name == "cycle_min_seconds":
                value = self.cycle_min_seconds is not None or self.cycle_max_seconds is not None
                name = "cycle_time"
            else:
                name = f.name
            if value not in (None, (), False):
                names.append(name)
        return names

    def without(self, name: str) -> CaseFilter:
        """A copy with one condition (a name from `active`) removed."""
        if name == "time":
            return replace(self, time_from=None, time_to=None)
        if name == "cycle_time":
            return replace(self, cycle_min_seconds=None, cycle_max_seconds=None)
        return replace(self, **{name: CaseFilter.__dataclass_fields__[name].default})

    def with_attribute(self, name: str, values: tuple[str, ...]) -> CaseFilter:
        """A copy with one attribute's allowed values replaced (empty values remove the condition)."""
        rest = tuple((n, v) for n, v in self.attributes if n != name)
        attrs = rest + (((name, tuple(values)),) if values else ())
        return replace(self, attributes=tuple(sorted(attrs)))

    def to_json(self) -> str:
        """The filter as JSON (the CLI's --filter FILE format); empty conditions are left out."""
        data = {k: v for k, v in asdict(self).items() if v not in (None, (), [])}
        data["time_mode"] = self.time_mode
        if self.attributes:
            data["attributes"] = {n: list(v) for n, v in self.attributes}
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> CaseFilter:
        """Read the JSON format of to_json; unknown keys and wrong shapes are errors, so typos never pass."""
        data = parse_json(text)
        if not isinstance(data, dict):
            raise UserError("err.filter_object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise UserError("err.filter_keys", keys=", ".join(sorted(unknown)), known=", ".join(sorted(known)))
        mode = data.get("time_mode") or "intersecting"
        if mode not in TIME_MODES:
            raise UserError("err.time_mode", modes=", ".join(TIME_MODES))
        attrs = data.get("attributes") or {}
        if not isinstance(attrs, dict):
            raise UserError("err.attributes")

        def texts(key: str) -> tuple[str, ...]:
            value = data.get(key) or []
            if isinstance(value, str) or not isinstance(value, list):
                raise UserError("err.names", field=key)
            return tuple(str(x) for x in value)

        def pairs(key: str) -> tuple[Pair, ...]:
            value = data.get(key) or []
            if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 for p in value):
                raise UserError("err.pairs", field=key)
            return tuple((str(a), str(b)) for a, b in value)

        def number(key: str) -> float | None:
            value = data.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise UserError("err.number", field=key)
            return value

        variants = data.get("variants") or []
        if not isinstance(variants, list) or not all(isinstance(v, list) for v in variants):
            raise UserError("err.variants")
        top = number("variants_top")
        if top is not None and (top != int(top) or top < 1):
            raise UserError("err.variants_top")
        return cls(
            time_from=data.get("time_from"), time_to=data.get("time_to"), time_mode=mode,
            attributes=tuple(sorted((str(n), tuple(str(x) for x in v)) for n, v in attrs.items())),
            variants=tuple(tuple(str(a) for a in v) for v in variants),
            variants_top=int(top) if top is not None else None,
            activities_present=texts("activities_present"), activities_absent=texts("activities_absent"),
            departments=texts("departments"),
            cycle_min_seconds=number("cycle_min_seconds"), cycle_max_seconds=number("cycle_max_seconds"),
            start_activities=texts("start_activities"), end_activities=texts("end_activities"),
            directly_follows=pairs("directly_follows"), eventually_follows=pairs("eventually_follows"),
        )


ALL = CaseFilter()


@dataclass(frozen=True)
class AllOf:
    """The cases every one of several filters keeps: a cohort inside the global filter (Compare page).

    Each part is applied to the whole log on its own, so a part with top-k variants ranks the
    variants of the cases that part's other conditions keep.
    """

    parts: tuple[CaseFilter, ...]

    @property
    def is_empty(self) -> bool:
        """True when every part keeps every case."""
        return all(p.is_empty for p in self.parts)

    def active(self) -> list[str]:
        """The names of the conditions in force in any part."""
        return list(dict.fromkeys(name for p in self.parts for name in p.active()))


AnyFilter = CaseFilter | AllOf


def _upper_bound(value: str, param: str) -> tuple[str, str]:
    """SQL comparison and bound for an inclusive upper limit: a bare date includes its whole day."""
    if len(value.strip()) == 10:
        return "<", f"CAST({param} AS DATE) + INTERVAL 1 DAY"
    return "<=", f"CAST({param} AS TIMESTAMP)"


def _conditions(flt: CaseFilter, p: str) -> tuple[list[str], dict]:
    """SQL conditions on `cases c` for every condition except top-k variants, and their named parameters.

    `p` prefixes every parameter name, so several filters can sit in one query (a cohort inside the
    global filter)."""
    sql: list[str] = []
    params: dict = {}
    for part in (_time_conditions, _case_level_conditions, _event_conditions, _order_conditions):
        more_sql, more_params = part(flt, p)
        sql += more_sql
        params.update(more_params)
    return sql, params


def _time_conditions(flt: CaseFilter, p: str) -> tuple[list[str], dict]:
    """The time range, in the chosen mode (started / completed / intersecting / contained)."""
    sql, params = [], {}
    lo_col, hi_col = {"started": ("c.start_ts", "c.start_ts"), "completed": ("c.end_ts", "c.end_ts"),
                      "intersecting": ("c.end_ts", "c.start_ts"),
                      "contained": ("c.start_ts", "c.end_ts")}[flt.time_mode]
    if flt.time_from:
        sql.append(f"{lo_col} >= CAST(${p}from AS TIMESTAMP)")
        params[f"{p}from"] = flt.time_from
    if flt.time_to:
        op, bound = _upper_bound(flt.time_to, f"${p}to")
        sql.append(f"{hi_col} {op} {bound}")
        params[f"{p}to"] = flt.time_to
    return sql, params


def _case_level_conditions(flt: CaseFilter, p: str) -> tuple[list[str], dict]:
    """Case attributes, chosen variants and the cycle-time range."""
    sql, params = [], {}
    for i, (name, values) in enumerate(flt.attributes):
        listed, more = in_list(f"{p}attr{i}", list(values))
        sql.append(f"c.case_id IN (SELECT case_id FROM case_attributes WHERE log_id = $log_id "
                   f"AND name = ${p}attr{i} AND value IN {listed})")
        params.update({f"{p}attr{i}": name, **more})
    if flt.variants:
        sql.append(f"c.variant_id IN (SELECT variant_id FROM variants WHERE log_id = $log_id "
                   f"AND list_contains(${p}variants::VARCHAR[][], activities))")
        params[f"{p}variants"] = [list(v) for v in flt.variants]
    if flt.cycle_min_seconds is not None:
        sql.append(f"c.cycle_seconds >= ${p}cmin")
        params[f"{p}cmin"] = float(flt.cycle_min_seconds)
    if flt.cycle_max_seconds is not None:
        sql.append(f"c.cycle_seconds <= ${p}cmax")
        params[f"{p}cmax"] = float(flt.cycle_max_seconds)
    return sql, params


def _event_conditions(flt: CaseFilter, p: str) -> tuple[list[str], dict]:
    """Conditions on the events of a case: one semi-join each over the precomputed pos/next columns."""
    sql, params = [], {}
    conditions = [
        ("present", flt.activities_present, "IN", "activity IN {}"),
        ("absent", flt.activities_absent, "NOT IN", "activity IN {}"),
        ("depts", flt.departments, "IN", "department IN {}"),
        ("starts", flt.start_activities, "IN", "pos = 1 AND activity IN {}"),
        ("ends", flt.end_activities, "IN", "next_activity IS NULL AND activity IN {}"),
    ]
    for key, values, op, where in conditions:
        if values:
            listed, more = in_list(f"{p}{key}", list(values))
            sql.append(f"c.case_id {op} (SELECT case_id FROM events WHERE log_id = $log_id AND "
                       f"{where.format(listed)})")
            params.update(more)
    return sql, params


def _order_conditions(flt: CaseFilter, p: str) -> tuple[list[str], dict]:
    """Directly-follows and eventually-follows pairs (a → b, a … b)."""
    sql, params = [], {}
    if flt.directly_follows:
        pairs = " OR ".join(f"(activity = ${p}df{i}_a AND next_activity = ${p}df{i}_b)"
                            for i in range(len(flt.directly_follows)))
        sql.append(f"c.case_id IN (SELECT case_id FROM events WHERE log_id = $log_id AND next_activity IS NOT NULL "
                   f"AND ({pairs}))")
        for i, (a, b) in enumerate(flt.directly_follows):
            params.update({f"{p}df{i}_a": a, f"{p}df{i}_b": b})
    if flt.eventually_follows:
        # a ... b: the first a comes before the last b. One aggregate per pair, OR-ed.
        having = " OR ".join(f"min(pos) FILTER (WHERE activity = ${p}ef{i}_a) < "
                             f"max(pos) FILTER (WHERE activity = ${p}ef{i}_b)"
                             for i in range(len(flt.eventually_follows)))
        listed, more = in_list(f"{p}ef", sorted({a for pair in flt.eventually_follows for a in pair}))
        sql.append(f"c.case_id IN (SELECT case_id FROM events WHERE log_id = $log_id AND activity IN {listed} "
                   f"GROUP BY case_id HAVING {having})")
        params.update(more)
        for i, (a, b) in enumerate(flt.eventually_follows):
            params.update({f"{p}ef{i}_a": a, f"{p}ef{i}_b": b})
    return sql, params


def case_ids(log_id: int, flt: AnyFilter | None, prefix: str = "f") -> Query:
    """A query selecting the case_id of every kept case of the log (parameters named `$log_id`, `$<prefix>…`)."""
    if isinstance(flt, AllOf):
        parts = [case_ids(log_id, part, f"{prefix}{i}_") for i, part in enumerate(flt.parts) if not part.is_empty]
        parts = parts or [case_ids(log_id, ALL, prefix)]
        text = f"SELECT case_id FROM ({parts[0].text}) WHERE true" + "".join(
            f" AND case_id IN ({q.text})" for q in parts[1:])
        return query(text, *parts)
    flt = flt or ALL
    conditions, params = _conditions(flt, prefix)
    where = "".join(f" AND {c}" for c in conditions)
    text = f"SELECT c.case_id FROM cases c WHERE c.log_id = $log_id{where}"
    if flt.variants_top is not None:
        # Rank the variants of the cases the other conditions keep (ties: the lower variant id, i.e. the
        # more frequent in the whole log); keep the cases of the top k.
        text = (f"WITH kept AS (SELECT c.case_id, c.variant_id FROM cases c WHERE c.log_id = $log_id{where}), "
                f"top AS (SELECT variant_id FROM kept GROUP BY variant_id ORDER BY count(*) DESC, variant_id "
                f"LIMIT ${prefix}top) "
                "SELECT case_id FROM kept WHERE variant_id IN (SELECT variant_id FROM top)")
        params[f"{prefix}top"] = int(flt.variants_top)
    return query(text, log_id=log_id, **params)


def kept_events(log_id: int, flt: AnyFilter | None, prefix: str = "f") -> Query:
    """A query selecting the events of the kept cases (all columns of `events`)."""
    if flt is None or flt.is_empty:
        return query("SELECT * FROM events WHERE log_id = $log_id", log_id=log_id)
    ids = case_ids(log_id, flt, prefix)
    return query(f"SELECT * FROM events WHERE log_id = $log_id AND case_id IN ({ids.text})", ids)


def kept_cases(log_id: int, flt: AnyFilter | None, prefix: str = "f") -> Query:
    """A query selecting the kept rows of `cases`."""
    if flt is None or flt.is_empty:
        return query("SELECT * FROM cases WHERE log_id = $log_id", log_id=log_id)
    ids = case_ids(log_id, flt, prefix)
    return query(f"SELECT * FROM cases WHERE log_id = $log_id AND case_id IN ({ids.text})", ids)


def unknown_values(con, log_id: int, flt: CaseFilter) -> list[tuple[str, str]]:
    """(condition, value) pairs naming an activity, department or attribute value the log does not have.

    A typo in a filter file would otherwise keep no case without a word.
    """
    choices = filter_choices(con, log_id)
    activities, departments = set(choices["activities"]), set(choices["departments"])
    found: list[tuple[str, str]] = []
    for name in ("activities_present", "activities_absent", "start_activities", "end_activities"):
        found += [(name, a) for a in getattr(flt, name) if a not in activities]
    for name in ("directly_follows", "eventually_follows"):
        found += [(name, a) for pair in getattr(flt, name) for a in pair if a not in activities]
    found += [("variants", a) for v in flt.variants for a in v if a not in activities]
    found += [("departments", d) for d in flt.departments if d not in departments]
    for attr, values in flt.attributes:
        present = {r[0] for r in query("SELECT DISTINCT value FROM case_attributes WHERE log_id = $log_id "
                                       "AND name = $name", log_id=log_id, name=attr).rows(con)}
        found += [(f"attributes.{attr}", v) for v in values if v not in present]
    return list(dict.fromkeys(found))


def filter_choices(con, log_id: int) -> dict:
    """What the filter panel offers for a log: activities (most frequent first), departments, the
    directly-follows pairs that occur, and the longest cycle time in seconds."""
    def column(text: str) -> list:
        return [r[0] if len(r) == 1 else tuple(r) for r in query(text, log_id=log_id).rows(con)]

    activities = column("SELECT activity FROM events WHERE log_id = $log_id GROUP BY activity "
                        "ORDER BY count(*) DESC, activity")
    departments = column("SELECT DISTINCT department FROM events WHERE log_id = $log_id "
                         "AND department IS NOT NULL ORDER BY 1")
    pairs = column("""SELECT activity, next_activity FROM events WHERE log_id = $log_id AND next_activity IS NOT NULL
                      GROUP BY ALL ORDER BY count(*) DESC, 1, 2""")
    longest = query("SELECT max(cycle_seconds) FROM cases WHERE log_id = $log_id", log_id=log_id).scalar(con)
    return {"activities": activities, "departments": departments, "pairs": pairs, "max_cycle_seconds": longest or 0}
