"""Redesign scenarios: a to-be flow as named operations on the as-is cases, replayed case by case in SQL.

What lives where: `Scenario` (the JSON format, checked by `check_operation`), one SQL function per operation
(`_OPERATIONS`; each turns the transformed events into the next), `_pipeline` (today's kept events from
`pairs.steps`, then every operation: CTEs ending in `final`), `replay` (per-case KPIs of `final`),
`compare` (the KPI table with bootstrap intervals), `evaluate` (the `Evaluation` record: KPI table and
conformance, what the CLI, the page and the report show), `to_be_variants` / `to_be_map` (the to-be flow),
and the `redesigns` table (save / list / delete).

The replay's assumptions. Every kept case is replayed with its own observed durations: each event has the wait
before it (its start − the previous event's end, `pairs.steps`' wait_s) and its processing (end − start, 0
without a start timestamp, where the whole gap counts as waiting). Each event pushes the case's clock by its
wait + processing (the first event by its processing); the case ends at the latest clock value, which is
exactly max end − first start, the cycle time of DESIGN.md. Hand-offs and "departments per case" are counted
on the transformed events by the one rule, `pairs.handoff_counts`, in the log's hand-off unit (department, or
resource on a log without departments: `pairs.handoff_unit`). The operations change those numbers:

- remove: the event's push disappears; the next event's wait is re-measured from the event before (so an
  event that ran inside its predecessor saves nothing) — a removal never lengthens a case;
- merge [A, B] (A directly followed by B): one event owned by A's department (or the one given) and A's
  resource, with A's wait and both processing times; B's wait vanishes (one owner works on). Without start
  timestamps B's whole gap counts as work — the log cannot tell — so merge saves nothing there (conservative);
- reassign: the activity moves to another department (durations kept; hand-offs change);
- parallel: consecutive events of the listed branches run side by side: each branch takes the sum of its
  events' waits and processing, the block takes the longest branch;
- cap_wait: the wait before matching events is at most the given hours (a service level);
- speed_up: processing of matching events divided by the factor;
- shared_team [X, Y]: the two departments become one team: no hand-offs between them, and the wait at a
  former X↔Y hand-off is at most the median wait between consecutive events of one department (what a
  queue inside one team looks like in this log);
- reduce_wait_cause: the wait before matching events (activities or a department) shrinks by `share` × the
  seconds the chosen waiting causes hold in it (`waiting_causes.event_causes` per case and position, in
  calendar seconds like every wait here; duty hours are each person's own observed hours, as on the
  Bottlenecks page in calendar time). A wait an earlier operation already shortened never goes below
  zero. It needs start timestamps and resources (else the UserError of `waiting_causes.check_columns`),
  and its activities or department must be in the log. The presets the page offers are in
  `analysis.redesign_causes`. It changes durations only: the to-be flow (variants, map) ignores it.

On a log without departments the department operations (reassign, a merge's owner, shared_team, a
department's cap_wait or speed_up) change no hand-off and no duration: there is no department to move.
No capacity limits are modelled: a shorter queue is assumed to stay short (for reduce_wait_cause on
contention: the queue removed is assumed not to form elsewhere). The format is documented in
README; `Scenario.from_json` checks it and names what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from analysis import pairs, waiting_causes, waiting_words
from analysis.departments import most_frequent_sql
from analysis.errors import UserError, parse_json
from analysis.filters import CaseFilter
from analysis.formatting import HOUR, MISSING, is_missing, share, signed_duration
from analysis.process_map import END, START, MapEdge, ProcessMap
from analysis.records import number, plain
from analysis.sql import Query, in_list, query
from analysis.store import transaction
from analysis.texts import t

if TYPE_CHECKING:
    from analysis.conformance import Conformance

CAUSE_OP = "reduce_wait_cause"   # removes (a share of) waiting causes; see analysis.redesign_causes
OPS = ("remove", "merge", "reassign", "parallel", "cap_wait", "speed_up", "shared_team", CAUSE_OP)


@dataclass(frozen=True)
class Scenario:
    """A named list of operations, kept as JSON text so the scenario is hashable (a cache key)."""

    name: str
    operations_json: str = "[]"

    @property
    def operations(self) -> list[dict]:
        """The operations as dicts, in order."""
        return json.loads(self.operations_json)

    def to_json(self) -> str:
        """{"name": ..., "operations": [...]} — the export format."""
        return json.dumps({"name": self.name, "operations": self.operations}, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        """Read and check the export format; a wrong operation is an error naming its number and field."""
        data = parse_json(text)
        if not isinstance(data, dict) or "operations" not in data:
            raise UserError("err.scenario_object")
        return cls.of(str(data.get("name") or "scenario"), data["operations"])

    @classmethod
    def of(cls, name: str, operations: list[dict]) -> Scenario:
        """A scenario from operation dicts (checked)."""
        if not isinstance(operations, list):
            raise UserError("err.operations")
        for i, op in enumerate(operations, start=1):
            check_operation(op, i)
        return cls(name, json.dumps(operations, ensure_ascii=False, sort_keys=True))


def _names(op: dict, key: str, where: dict, at_least: int = 1) -> None:
    """Check that op[key] is a list of at least `at_least` non-empty names."""
    value = op.get(key)
    if not isinstance(value, list) or len(value) < at_least or not all(isinstance(v, str) and v for v in value):
        raise UserError("err.op_names", **where, field=key, at_least=at_least)


def check_operation(op: dict, i: int = 1) -> None:
    """Raise a UserError (saying which operation and field) unless `op` is a valid operation."""
    where = {"n": i, "op": op.get("op") if isinstance(op, dict) else repr(op)}
    if not isinstance(op, dict) or op.get("op") not in OPS:
        raise UserError("err.op_kind", **where, ops=", ".join(OPS))
    kind = op["op"]
    if kind in ("remove", "reassign"):
        _names(op, "activities", where)
    if kind == "reassign" and not (isinstance(op.get("department"), str) and op["department"]):
        raise UserError("err.op_owner", **where)
    if kind == "merge":
        _names(op, "activities", where, 2)
        if len(op["activities"]) != 2:
            raise UserError("err.op_merge", **where)
    if kind == "parallel":
        branches = op.get("branches")
        if branches is None:
            _names(op, "activities", where, 2)
        elif not (isinstance(branches, list) and len(branches) >= 2
                  and all(isinstance(b, list) and b and all(isinstance(a, str) for a in b) for b in branches)):
            raise UserError("err.op_branches", **where)
    if kind in ("cap_wait", "speed_up"):
        if bool(op.get("activities")) == bool(op.get("department")):
            raise UserError("err.op_scope", **where)
        if op.get("activities"):
            _names(op, "activities", where)
        name = "hours" if kind == "cap_wait" else "factor"
        value = op.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                kind == "speed_up" and value <= 0):
            raise UserError("err.op_number", **where, field=name)
    if kind == "shared_team":
        _names(op, "departments", where, 2)
    if kind == CAUSE_OP:
        _check_cause_operation(op, where)


def _check_cause_operation(op: dict, where: dict) -> None:
    """reduce_wait_cause: activities or one department, known waiting causes, a share from 0 to 1."""
    if bool(op.get("activities")) == bool(op.get("department")):
        raise UserError("err.op_scope", **where)
    if op.get("activities"):
        _names(op, "activities", where)
    elif not isinstance(op["department"], str):
        raise UserError("err.op_scope", **where)
    _names(op, "causes", where)
    unknown = [c for c in op["causes"] if c not in waiting_causes.CAUSES]
    if unknown:
        raise UserError("rd.why_err_cause", **where, names=", ".join(unknown),
                        causes=", ".join(waiting_causes.CAUSES))
    value = op.get("share", 1.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise UserError("rd.why_err_share", **where)


def describe_operation(op: dict, lang: str = "en") -> str:
    """One operation in words, e.g. "Service level: cap the wait: Budget approval ≤ 24 h"."""
    what = ", ".join(op.get("activities") or []) or op.get("department", "")
    if op["op"] == "parallel":
        what = " ‖ ".join(" → ".join(b) for b in (op.get("branches") or [[a] for a in op["activities"]]))
    if op["op"] == "shared_team":
        what = " + ".join(op["departments"])
    extra = {"reassign": f" → {op.get('department')}", "cap_wait": f" ≤ {op.get('hours')} h",
             "speed_up": f" × {op.get('factor')}"}.get(op["op"], "")
    label = t(f"rd.op_{op['op']}", lang)
    if op["op"] == CAUSE_OP:
        label = t("rd.why_op", lang)
        extra = t("rd.why_op_detail", lang, share=share(op.get("share", 1.0), 0),
                  causes=" + ".join(waiting_words.cause_name(c, lang) for c in op["causes"]))
    return f"{label}: {what}{extra}"


# --- the operations: one SQL function each ------------------------------------------------------------------
# Each turns relation `source` (the transformed events, COLUMNS) into the next. Its parameters are named
# `$o<index>_…`, so two operations of one scenario never share a name.

COLUMNS = ("case_id", "pos", "activity", "department", "resource", "has_start", "wait_s", "proc_s", "par",
           "branch")
_WINDOW = "WINDOW w AS (PARTITION BY case_id ORDER BY pos)"


def _columns(**overrides: str) -> str:
    """The SELECT list of COLUMNS: each column as it is, or the SQL `overrides` gives for it."""
    unknown = set(overrides) - set(COLUMNS)
    if unknown:
        raise ValueError(f"not a column of the transformed events: {', '.join(sorted(unknown))}")
    return ", ".join(f"{overrides[c]} AS {c}" if c in overrides else c for c in COLUMNS)


def _matching(op: dict, p: str) -> tuple[str, dict]:
    """SQL condition selecting the events an operation applies to (its department, or its activities)."""
    if op.get("department"):
        return f"department = ${p}dept", {f"{p}dept": op["department"]}
    listed, params = in_list(f"{p}act", list(op["activities"]))
    return f"activity IN {listed}", params


def _remove(op: dict, index: int, source: str, team_wait: float) -> Query:
    """Drop the listed activities; the next kept event's wait is re-measured from the event before them."""
    p = f"o{index}_"
    listed, params = in_list(f"{p}act", list(op["activities"]))
    gone = f"activity IN {listed}"
    keep_no = f"sum(CASE WHEN {gone} THEN 0 ELSE 1 END) OVER (PARTITION BY case_id ORDER BY pos) AS keep_no"
    # The next kept event's wait grows by the removed events' negative pushes (d = wait + processing < 0:
    # they ended inside their predecessor). Positive pushes are the time saved, so a removal never lengthens
    # a case.
    return query(
        f"""SELECT {_columns(wait_s='wait_s + coalesce(adj, 0)')}
            FROM (SELECT *, NOT ({gone}) AS kept, {keep_no} FROM {source}) k
            LEFT JOIN (SELECT case_id AS adj_case, keep_no + 1 AS adj_no,
                              sum(least(coalesce(wait_s, 0) + proc_s, 0)) AS adj
                       FROM (SELECT *, {gone} AS gone, {keep_no} FROM {source}) WHERE gone GROUP BY ALL) a
              ON a.adj_case = k.case_id AND a.adj_no = k.keep_no
            WHERE kept""", **params)


def _merge(op: dict, index: int, source: str, team_wait: float) -> Query:
    """A directly followed by B becomes one event (A's wait, both processing times); B's row goes."""
    p = f"o{index}_"
    a, b = op["activities"]
    hit = f"activity = ${p}a AND nxt = ${p}b"
    # Without a start timestamp B's whole gap counts as its work (the log cannot tell): it stays in the event.
    proc = (f"CASE WHEN {hit} THEN proc_s + nxt_proc + CASE WHEN nxt_has_start THEN 0 "
            "ELSE greatest(nxt_wait, 0) END ELSE proc_s END")
    select = _columns(activity=f"CASE WHEN {hit} THEN ${p}name ELSE activity END",
                      department=f"CASE WHEN {hit} THEN coalesce(${p}dept, department) ELSE department END",
                      proc_s=proc)
    return query(
        f"""SELECT {select}
            FROM (SELECT *, lead(activity) OVER w AS nxt, lead(proc_s) OVER w AS nxt_proc,
                         lead(wait_s) OVER w AS nxt_wait, lead(has_start) OVER w AS nxt_has_start,
                         lag(activity) OVER w AS prv
                  FROM {source} {_WINDOW})
            WHERE NOT (activity = ${p}b AND prv = ${p}a)""",
        **{f"{p}a": a, f"{p}b": b, f"{p}name": op.get("name") or f"{a} + {b}",
           f"{p}dept": op.get("department")})


def _reassign(op: dict, index: int, source: str, team_wait: float) -> Query:
    """The listed activities move to another department (durations kept)."""
    p = f"o{index}_"
    listed, params = in_list(f"{p}act", list(op["activities"]))
    moved = f"CASE WHEN activity IN {listed} THEN ${p}dept ELSE department END"
    params[f"{p}dept"] = op["department"]
    return query(f"SELECT {_columns(department=moved)} FROM {source}", **params)


def _cap_wait(op: dict, index: int, source: str, team_wait: float) -> Query:
    """The wait before matching events is at most the given hours."""
    p = f"o{index}_"
    cond, params = _matching(op, p)
    capped = f"CASE WHEN {cond} AND wait_s > ${p}cap THEN ${p}cap ELSE wait_s END"
    params[f"{p}cap"] = float(op["hours"]) * HOUR
    return query(f"SELECT {_columns(wait_s=capped)} FROM {source}", **params)


def _speed_up(op: dict, index: int, source: str, team_wait: float) -> Query:
    """Processing of matching events divided by the factor."""
    p = f"o{index}_"
    cond, params = _matching(op, p)
    faster = f"CASE WHEN {cond} THEN proc_s / ${p}factor ELSE proc_s END"
    params[f"{p}factor"] = float(op["factor"])
    return query(f"SELECT {_columns(proc_s=faster)} FROM {source}", **params)


def _shared_team(op: dict, index: int, source: str, team_wait: float) -> Query:
    """The listed departments become one team; a wait at a hand-off inside it is at most `team_wait`."""
    p = f"o{index}_"
    members, params = in_list(f"{p}dept", list(op["departments"]))
    x, y = op["departments"][:2]
    team = f"CASE WHEN department IN {members} THEN ${p}team ELSE department END"
    wait = (f"CASE WHEN department IN {members} AND prev_dept IN {members} AND department <> prev_dept "
            f"THEN least(wait_s, ${p}wait) ELSE wait_s END")
    return query(
        f"""SELECT {_columns(department=team, wait_s=wait)}
            FROM (SELECT *, lag(department IGNORE NULLS) OVER w AS prev_dept FROM {source} {_WINDOW})""",
        **params, **{f"{p}team": op.get("name") or f"{x} + {y}", f"{p}wait": team_wait})


def _parallel(op: dict, index: int, source: str, team_wait: float) -> Query:
    """Mark the events of the branches (block id: the operation's number); blocks are formed in `replay`."""
    p = f"o{index}_"
    branches = op.get("branches") or [[a] for a in op["activities"]]
    params: dict = {}
    whens = []
    for n, branch in enumerate(branches):
        listed, more = in_list(f"{p}b{n}", list(branch))
        whens.append(f"WHEN activity IN {listed} THEN {n}")
        params.update(more)
    which = f"(CASE {' '.join(whens)} END)"
    return query(
        f"""SELECT {_columns(par=f'CASE WHEN par IS NULL AND {which} IS NOT NULL THEN {index} ELSE par END',
                             branch=f'CASE WHEN par IS NULL THEN {which} ELSE branch END')}
            FROM {source}""", **params)


def _reduce_wait_cause(op: dict, index: int, source: str, team_wait: float) -> Query:
    """Matching events wait `share` × their chosen causes' seconds (CTE `why_parts`) less, never below 0."""
    p = f"o{index}_"
    cond, params = _matching(op, p)
    cut = " + ".join(f"{c}_seconds" for c in sorted(set(op["causes"])))
    # least(…, wait): an earlier operation (cap_wait, shared_team) may have shortened the wait already.
    wait = (f"CASE WHEN {cond} THEN wait_s - least(${p}share * coalesce(cut, 0), greatest(wait_s, 0)) "
            "ELSE wait_s END")
    params[f"{p}share"] = float(op.get("share", 1.0))
    return query(
        f"""SELECT {_columns(wait_s=wait)}
            FROM {source} LEFT JOIN (SELECT case_id, pos, {cut} AS cut FROM why_parts) USING (case_id, pos)""",
        **params)


_OPERATIONS: dict[str, Callable[[dict, int, str, float], Query]] = {
    "remove": _remove, "merge": _merge, "reassign": _reassign, "parallel": _parallel,
    "cap_wait": _cap_wait, "speed_up": _speed_up, "shared_team": _shared_team, CAUSE_OP: _reduce_wait_cause,
}


# --- the replay ---------------------------------------------------------------------------------------------


def _pipeline(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario | None,
              flt: CaseFilter | None, durations: bool = True) -> Query:
    """CTEs ending in `final`: the kept events after the scenario (COLUMNS; k, the row in the case from 1).
    durations=False: the to-be flow only (operations that change nothing but waits pass the events on)."""
    steps = pairs.steps(con, log_id, flt)
    # Without a start timestamp an event's processing is 0: its whole gap counts as waiting.
    ctes = ["""s0 AS (SELECT case_id, pos, activity, department, resource, start_ts IS NOT NULL AS has_start,
                             wait_s, coalesce(proc_s, 0.0) AS proc_s,
                             NULL::INTEGER AS par, NULL::INTEGER AS branch
                      FROM steps)"""]
    parts = [steps]
    operations = scenario.operations if scenario else []
    team_wait = _team_wait(con, log_id, flt) if any(op["op"] == "shared_team" for op in operations) else 0.0
    if durations and any(op["op"] == CAUSE_OP for op in operations):
        why = _why_parts(con, log_id, operations, flt)  # one split of every wait, shared by these operations
        ctes.append(f"why_parts AS MATERIALIZED ({why.text})")
        parts.append(why)
    for i, op in enumerate(operations, start=1):
        if op["op"] == CAUSE_OP and not durations:
            step = query(f"SELECT * FROM s{i - 1}")
        else:
            step = _OPERATIONS[op["op"]](op, i, f"s{i - 1}", team_wait)
        ctes.append(f"s{i} AS ({step.text})")
        parts.append(step)
    ctes.append(f"final AS (SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY pos) AS k "
                f"FROM s{len(operations)})")
    return query(f"{steps.text},\n" + ",\n".join(ctes), *parts)


def _why_parts(con: duckdb.DuckDBPyConnection, log_id: int, operations: list[dict],
               flt: CaseFilter | None) -> Query:
    """waiting_causes.event_causes of the kept events, after checking that the log can tell (start timestamps
    and resources) and has every activity and department the reduce_wait_cause operations name."""
    waiting_causes.check_columns(con, log_id)
    activities, departments = query(
        """SELECT list(DISTINCT activity), list(DISTINCT department) FILTER (WHERE department IS NOT NULL)
           FROM events WHERE log_id = $log_id""", log_id=log_id).one(con)
    known = {"activities": set(activities or ()), "department": set(departments or ())}
    for i, op in enumerate(operations, start=1):
        if op["op"] != CAUSE_OP:
            continue
        field_name = "department" if op.get("department") else "activities"
        named = [op["department"]] if field_name == "department" else op["activities"]
        missing = sorted(set(named) - known[field_name])
        if missing:
            raise UserError("rd.why_err_not_in_log", n=i, op=op["op"], field=field_name, names=", ".join(missing))
    return waiting_causes.event_causes(con, log_id, flt)


def _team_wait(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None) -> float:
    """Median wait between consecutive events of one department (0 when there are none)."""
    steps = pairs.steps(con, log_id, flt)
    value = query(f"{steps.text} SELECT quantile_cont(wait_s, 0.5) FROM steps "
                  "WHERE department = prev_department", steps).scalar(con)
    return float(value) if value is not None else 0.0


# No hand-off unit (neither departments nor resources): no case has a hand-off or a unit.
_NO_COUNTS = "SELECT NULL::VARCHAR AS case_id, 0::BIGINT AS handoffs, 0::BIGINT AS units WHERE false"


def replay(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario | None = None,
           flt: CaseFilter | None = None) -> pd.DataFrame:
    """Per kept case after the scenario (none: today's cases through the same arithmetic): its KPIs."""
    # Columns: case_id, cycle_seconds, handoffs, departments (distinct units of the log's hand-off unit),
    # touch_seconds, wait_seconds (positive waits only), events.
    pipeline = _pipeline(con, log_id, scenario, flt)
    unit = pairs.handoff_unit(con, log_id)
    counts = pairs.handoff_counts("final", pairs.checked_unit(unit)) if unit else _NO_COUNTS
    return query(
        f"""{pipeline.text},
        -- Segments in case order: a serial event, or a parallel block (its longest branch). The clock
        -- after a segment is the sum of the pushes so far; the case ends at the latest clock
        -- (= max end − first start).
        timed AS (SELECT *, CASE WHEN k = 1 THEN 0 ELSE coalesce(wait_s, 0) END + proc_s AS d,
                         sum(CASE WHEN par IS NULL OR par IS DISTINCT FROM prev_par THEN 1 ELSE 0 END)
                             OVER (PARTITION BY case_id ORDER BY pos) AS grp
                  FROM (SELECT *, lag(par) OVER (PARTITION BY case_id ORDER BY pos) AS prev_par FROM final)),
        branches AS (SELECT case_id, grp, branch, sum(d) AS d FROM timed WHERE par IS NOT NULL GROUP BY ALL),
        segments AS (SELECT case_id, grp, d FROM timed WHERE par IS NULL
                     UNION ALL SELECT case_id, grp, max(d) FROM branches GROUP BY ALL),
        clock AS (SELECT case_id, max(t) AS cycle_seconds FROM (
                      SELECT case_id, sum(d) OVER (PARTITION BY case_id ORDER BY grp) AS t FROM segments)
                  GROUP BY case_id),
        handoffs AS ({counts}),
        per AS (SELECT case_id, sum(proc_s) AS touch_seconds,
                       sum(CASE WHEN k = 1 THEN 0 ELSE greatest(coalesce(wait_s, 0), 0) END) AS wait_seconds,
                       count(*) AS events
                FROM timed GROUP BY case_id)
        -- A case whose every event was removed stays, with nothing left to do.
        SELECT a.case_id, coalesce(c.cycle_seconds, 0) AS cycle_seconds, coalesce(h.handoffs, 0) AS handoffs,
               coalesce(h.units, 0) AS departments, coalesce(p.touch_seconds, 0) AS touch_seconds,
               coalesce(p.wait_seconds, 0) AS wait_seconds, coalesce(p.events, 0) AS events
        FROM (SELECT DISTINCT case_id FROM s0) a LEFT JOIN per p USING (case_id)
        LEFT JOIN clock c USING (case_id) LEFT JOIN handoffs h USING (case_id)
        ORDER BY a.case_id""", pipeline).df(con)


Step = tuple[str, int | None, int | None]  # (activity, parallel block id or None, branch or None)


def to_be_variants(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario | None = None,
                   flt: CaseFilter | None = None) -> list[tuple[tuple[Step, ...], int]]:
    """The to-be sequences and their case counts, most frequent first (a step: activity, block, branch)."""
    pipeline = _pipeline(con, log_id, scenario, flt, durations=False)
    rows = query(
        f"""{pipeline.text}
        SELECT seq, count(*) AS n FROM (
            SELECT case_id, list(struct_pack(a := activity, p := par, b := branch) ORDER BY pos) AS seq
            FROM final GROUP BY case_id)
        GROUP BY seq ORDER BY n DESC, seq  -- ties by the sequence: the same order on every run
        """, pipeline).rows(con)
    return [(tuple((s["a"], s["p"], s["b"]) for s in seq), int(n)) for seq, n in rows]


# --- the KPI table and the evaluation record --------------------------------------------------------------

KPIS = ("cycle_seconds", "handoffs", "departments", "touch_seconds", "wait_seconds")

# Each KPI of compare() from per-case arrays: f holds replay()'s columns, suffix s "_a" (as-is) or "_b".
_STATS: dict[str, Callable[[dict, str], float]] = {
    "median_cycle_seconds": lambda f, s: np.median(f[f"cycle_seconds{s}"]),
    "p90_cycle_seconds": lambda f, s: np.quantile(f[f"cycle_seconds{s}"], 0.9),
    "handoffs_per_case": lambda f, s: np.mean(f[f"handoffs{s}"]),
    "departments_per_case": lambda f, s: np.mean(f[f"departments{s}"]),
    "median_touch_seconds": lambda f, s: np.median(f[f"touch_seconds{s}"]),
    "waiting_share": lambda f, s: (np.sum(f[f"wait_seconds{s}"]) / np.sum(f[f"cycle_seconds{s}"])
                                   if np.sum(f[f"cycle_seconds{s}"]) else np.nan),
}


def compare(as_is: pd.DataFrame, to_be: pd.DataFrame, resamples: int = 200, seed: int = 0,
            subsample: int = 20_000) -> pd.DataFrame:
    """KPIs side by side: kpi, as_is, to_be, delta, delta_low, delta_high (90 % paired-bootstrap interval)."""
    # Rows: median and p90 cycle time, mean hand-offs and departments per case, median touch time, waiting
    # share of all cycle time.
    merged = as_is.merge(to_be, on="case_id", suffixes=("_a", "_b"))
    n = len(merged)
    arrays = {c: merged[c].to_numpy(dtype=float) for c in merged.columns if c != "case_id"}
    rng = np.random.default_rng(seed)
    # Above `subsample` cases the resamples draw `subsample` cases (m-out-of-n bootstrap) and their spread is
    # scaled by sqrt(m / n): the same interval for a fraction of the time on 100,000 cases.
    m = min(n, subsample)
    scale = (m / n) ** 0.5 if n else 1.0
    boot: dict[str, list[float]] = {name: [] for name in _STATS}
    for _ in range(resamples if n >= 10 else 0):
        pick = rng.integers(0, n, m)
        sample = {k: v[pick] for k, v in arrays.items()}  # one paired resample of the cases, for every KPI
        for name, stat in _STATS.items():
            boot[name].append(stat(sample, "_b") - stat(sample, "_a"))
    rows = []
    for name, stat in _STATS.items():
        a, b = (float(stat(arrays, "_a")), float(stat(arrays, "_b"))) if n else (np.nan, np.nan)
        low = high = np.nan
        if boot[name]:
            values = np.asarray(boot[name])
            centre = np.nanmedian(values)
            q05, q95 = np.nanquantile(values, [0.05, 0.95])
            low, high = (b - a) + (q05 - centre) * scale, (b - a) + (q95 - centre) * scale
        rows.append({"kpi": name, "as_is": a, "to_be": b, "delta": b - a, "delta_low": float(low),
                     "delta_high": float(high)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class KpiChange:
    """One KPI today and after the scenario, its change and the change's 90 % interval (None: not defined)."""

    kpi: str
    as_is: float | None
    to_be: float | None
    delta: float | None
    delta_low: float | None
    delta_high: float | None


@dataclass(frozen=True)
class Evaluation:
    """A scenario evaluated on the kept cases: the KPI table, and how today's cases fit the to-be flow."""

    scenario: str
    kpis: tuple[KpiChange, ...]       # compare()'s rows, in its order
    conformance: Conformance | None   # None when no case is kept
    # replay() of today's cases and of the scenario, for the charts (not part of the record's value).
    as_is_cases: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)
    to_be_cases: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)

    def table(self) -> pd.DataFrame:
        """The KPI table as compare() returns it (NaN where a value is not defined)."""
        names = [f.name for f in KpiChange.__dataclass_fields__.values()]
        frame = pd.DataFrame([[getattr(k, n) for n in names] for k in self.kpis], columns=names)
        return frame.astype({n: float for n in names[1:]})

    def as_dict(self) -> dict:
        """What `python -m analysis redesign --json` prints (as_is, to_be, delta, conformance), strict JSON."""
        from analysis.conformance import fit_summary  # conformance builds on this module: imported when used

        return plain({"scenario": self.scenario,
                      "as_is": {k.kpi: k.as_is for k in self.kpis},
                      "to_be": {k.kpi: k.to_be for k in self.kpis},
                      "delta": {k.kpi: {"value": k.delta, "low": k.delta_low, "high": k.delta_high}
                                for k in self.kpis},
                      "conformance": fit_summary(self.conformance)})


def evaluate(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario,
             flt: CaseFilter | None = None) -> Evaluation:
    """Today's kept cases and the same cases through the scenario: the KPI table and the to-be flow's fit."""
    from analysis.conformance import scenario_fit  # conformance builds on this module: imported when used

    as_is, to_be, table = scenario_outcome(con, log_id, scenario, flt)
    kpis = tuple(KpiChange(r.kpi, number(r.as_is), number(r.to_be), number(r.delta), number(r.delta_low),
                           number(r.delta_high)) for r in table.itertuples())
    return Evaluation(scenario.name, kpis, scenario_fit(con, log_id, scenario, flt), as_is, to_be)


def compare_scenario(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario,
                     flt: CaseFilter | None = None) -> pd.DataFrame:
    """compare() of today's kept cases and the same cases replayed through the scenario."""
    return scenario_outcome(con, log_id, scenario, flt)[2]


def scenario_outcome(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario,
                     flt: CaseFilter | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(today's cases replayed, the same cases through the scenario, compare() of the two) in one call."""
    as_is, to_be = replay(con, log_id, None, flt), replay(con, log_id, scenario, flt)
    return as_is, to_be, compare(as_is, to_be)


# --- stored scenarios ---------------------------------------------------------------------------------------


def save_scenario(con: duckdb.DuckDBPyConnection, scenario: Scenario, log_id: int | None = None) -> int:
    """Store a scenario under its name (replacing one of the same name); returns its id."""
    values = {"name": scenario.name, "ops": scenario.operations_json, "log_id": log_id}
    with transaction(con):
        found = query("SELECT redesign_id FROM redesigns WHERE name = $name", name=scenario.name).scalar(con)
        if found is not None:
            query("UPDATE redesigns SET scenario = $ops, log_id = $log_id, created_at = now()::TIMESTAMP "
                  "WHERE redesign_id = $id", **values, id=found).run(con)
            return int(found)
        new_id = query("SELECT coalesce(max(redesign_id), 0) + 1 FROM redesigns").scalar(con)
        query("INSERT INTO redesigns VALUES ($id, $name, $log_id, $ops, now()::TIMESTAMP)",
              **values, id=new_id).run(con)
    return int(new_id)


def list_scenarios(con: duckdb.DuckDBPyConnection) -> list[tuple[int, Scenario]]:
    """Stored scenarios (id, scenario), oldest first."""
    rows = query("SELECT redesign_id, name, scenario FROM redesigns ORDER BY redesign_id").rows(con)
    return [(int(i), Scenario(name, ops or "[]")) for i, name, ops in rows]


def delete_scenario(con: duckdb.DuckDBPyConnection, redesign_id: int) -> None:
    """Remove a stored scenario."""
    query("DELETE FROM redesigns WHERE redesign_id = $id", id=redesign_id).run(con)


# --- the to-be map ----------------------------------------------------------------------------------------


def _to_be_edges(variants: list[tuple[tuple[Step, ...], int]]) -> tuple[dict, dict]:
    """Edge frequencies and case counts of the to-be variants (a parallel block forks and joins)."""
    # A block's branches fork after the step before the block and join before the step after it.
    frequency: dict[tuple[str, str], int] = {}
    cases: dict[tuple[str, str], int] = {}
    for steps, n in variants:
        seen: set[tuple[str, str]] = set()

        def link(a: str, b: str, seen=seen, n=n) -> None:
            frequency[a, b] = frequency.get((a, b), 0) + n
            if (a, b) not in seen:
                seen.add((a, b))
                cases[a, b] = cases.get((a, b), 0) + n

        exits = [START]
        i = 0
        while i < len(steps):
            activity, block, _ = steps[i]
            if block is None:
                for e in exits:
                    link(e, activity)
                exits, i = [activity], i + 1
                continue
            j = i
            lanes: dict[int, list[str]] = {}
            while j < len(steps) and steps[j][1] == block:
                lanes.setdefault(steps[j][2], []).append(steps[j][0])
                j += 1
            for lane in lanes.values():
                for e in exits:
                    link(e, lane[0])
                for a, b in zip(lane, lane[1:], strict=False):
                    link(a, b)
            exits, i = [lane[-1] for lane in lanes.values()], j
        for e in exits:
            link(e, END)
    return frequency, cases


def to_be_map(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario | None = None,
              flt: CaseFilter | None = None) -> ProcessMap:
    """The to-be flow as a process map (frequencies only), from the to-be variants, not single events."""
    pipeline = _pipeline(con, log_id, scenario, flt, durations=False)
    # An activity's department on the transformed events, by the one rule (analysis.departments).
    facts = query(
        f"""{pipeline.text}, owner AS ({most_frequent_sql('final')})
        SELECT f.activity, count(*) AS n, any_value(o.department) AS department
        FROM final f LEFT JOIN owner o USING (activity) GROUP BY f.activity""", pipeline).rows(con)
    frequency, cases = _to_be_edges(to_be_variants(con, log_id, scenario, flt))
    edges = [MapEdge(a, b, f, cases[a, b], None, None) for (a, b), f in
             sorted(frequency.items(), key=lambda item: (-item[1], item[0]))]
    ordered = sorted(facts, key=lambda r: (-r[1], r[0]))
    return ProcessMap({a: int(n) for a, n, _ in ordered}, {a: d for a, _, d in ordered}, edges)


def format_kpi(kpi: str, value: float | None, lang: str) -> str:
    """A redesign KPI in its unit (negative durations with a minus sign)."""
    if is_missing(value):
        return MISSING
    if kpi.endswith("seconds"):
        return signed_duration(value, lang)
    if kpi == "waiting_share":
        return share(value)
    return f"{value:.2f}"
