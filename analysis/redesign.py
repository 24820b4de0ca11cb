"""Redesign scenarios: a to-be flow as named operations on the as-is cases, replayed case by case in SQL.

Every kept case is replayed with its own observed durations: each event has the wait before it (its
start − the previous event's end) and its processing (end − start, 0 without a start timestamp, where
the whole gap counts as waiting). Each event pushes the case's clock by its wait + processing (the first
event by its processing); the case ends at the latest clock value, which is exactly max end − first start,
the cycle time of DESIGN.md. The operations change those numbers:

- remove: the event's push disappears; the next event's wait is re-measured from the event before (so an
  event that ran inside its predecessor saves nothing) — a removal never lengthens a case;
- merge [A, B] (A directly followed by B): one event owned by A's department (or the one given) with
  A's wait and both processing times; B's wait vanishes (one owner works on). Without start timestamps
  B's whole gap counts as work — the log cannot tell — so merge saves nothing there (conservative);
- reassign: the activity moves to another department (durations kept; hand-offs change);
- parallel: consecutive events of the listed branches run side by side: each branch takes the sum of its
  events' waits and processing, the block takes the longest branch;
- cap_wait: the wait before matching events is at most the given hours (a service level);
- speed_up: processing of matching events divided by the factor;
- shared_team [X, Y]: the two departments become one team: no hand-offs between them, and the wait at a
  former X↔Y hand-off is at most the median wait between consecutive events of one department (what a
  queue inside one team looks like in this log).

No capacity limits are modelled: a shorter queue is assumed to stay short. The format is documented in
README; `Scenario.from_json` checks it and names what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analysis.errors import UserError, parse_json
from analysis.filters import CaseFilter, kept_events_sql
from analysis.texts import t

OPS = ("remove", "merge", "reassign", "parallel", "cap_wait", "speed_up", "shared_team")


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
        number = "hours" if kind == "cap_wait" else "factor"
        value = op.get(number)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                kind == "speed_up" and value <= 0):
            raise UserError("err.op_number", **where, field=number)
    if kind == "shared_team":
        _names(op, "departments", where, 2)


def describe_operation(op: dict, lang: str = "en") -> str:
    """One operation in words, e.g. "Service level: cap the wait: Budget approval ≤ 24 h"."""
    what = ", ".join(op.get("activities") or []) or op.get("department", "")
    if op["op"] == "parallel":
        what = " ‖ ".join(" → ".join(b) for b in (op.get("branches") or [[a] for a in op["activities"]]))
    if op["op"] == "shared_team":
        what = " + ".join(op["departments"])
    extra = {"reassign": f" → {op.get('department')}", "cap_wait": f" ≤ {op.get('hours')} h",
             "speed_up": f" × {op.get('factor')}"}.get(op["op"], "")
    return f"{t('rd.op_' + op['op'], lang)}: {what}{extra}"


def _match(op: dict) -> tuple[str, list]:
    """SQL condition selecting the events an operation applies to."""
    if op.get("department"):
        return "department = ?", [op["department"]]
    return "list_contains(?, activity)", [list(op["activities"])]


COLUMNS = "case_id, pos, activity, department, has_start, wait_s, proc_s, par, branch"


def _operation_sql(op: dict, index: int, source: str, team_wait: float) -> tuple[str, list]:
    """One CTE body turning relation `source` into the next, for one operation."""
    kind = op["op"]
    window = "WINDOW w AS (PARTITION BY case_id ORDER BY pos)"
    if kind == "remove":
        # The next kept event's wait is re-measured from the event before the removed ones: it grows by the
        # removed events' negative pushes (d = wait + processing < 0: they ended inside their predecessor).
        # Positive pushes are the time saved, so a removal never lengthens a case.
        body = f"""SELECT {COLUMNS.replace('wait_s', 'wait_s + coalesce(adj, 0) AS wait_s')}
                   FROM (SELECT * FROM (SELECT *, NOT list_contains(?, activity) AS kept,
                                               sum(CASE WHEN list_contains(?, activity) THEN 0 ELSE 1 END)
                                                   OVER (PARTITION BY case_id ORDER BY pos) AS keep_no
                                        FROM {source}) k
                         LEFT JOIN (SELECT case_id AS adj_case, keep_no + 1 AS adj_no,
                                           sum(least(coalesce(wait_s, 0) + proc_s, 0)) AS adj
                                    FROM (SELECT *, list_contains(?, activity) AS gone,
                                                 sum(CASE WHEN list_contains(?, activity) THEN 0 ELSE 1 END)
                                                     OVER (PARTITION BY case_id ORDER BY pos) AS keep_no
                                          FROM {source}) WHERE gone GROUP BY ALL) a
                           ON a.adj_case = k.case_id AND a.adj_no = k.keep_no
                         WHERE kept)"""
        acts = list(op["activities"])
        return body, [acts, acts, acts, acts]
    if kind == "reassign":
        return (f"SELECT {COLUMNS.replace('department', 'CASE WHEN list_contains(?, activity) THEN ? ELSE department END AS department')} FROM {source}",
                [list(op["activities"]), op["department"]])
    if kind in ("cap_wait", "speed_up"):
        cond, params = _match(op)
        if kind == "cap_wait":
            cap = float(op["hours"]) * 3600
            expr = f"CASE WHEN {cond} AND wait_s > ? THEN ? ELSE wait_s END AS wait_s"
            return f"SELECT {COLUMNS.replace('wait_s', expr)} FROM {source}", [*params, cap, cap]
        expr = f"CASE WHEN {cond} THEN proc_s / ? ELSE proc_s END AS proc_s"
        return f"SELECT {COLUMNS.replace('proc_s', expr)} FROM {source}", [*params, float(op["factor"])]
    if kind == "merge":
        a, b = op["activities"]
        name = op.get("name") or f"{a} + {b}"
        hit = "activity = ? AND nxt = ?"
        body = f"""SELECT case_id, pos,
                      CASE WHEN {hit} THEN ? ELSE activity END AS activity,
                      CASE WHEN {hit} THEN coalesce(?, department) ELSE department END AS department,
                      has_start, wait_s,
                      CASE WHEN {hit} THEN proc_s + nxt_proc + CASE WHEN nxt_has_start THEN 0
                                                              ELSE greatest(nxt_wait, 0) END
                           ELSE proc_s END AS proc_s, par, branch
               FROM (SELECT *, lead(activity) OVER w AS nxt, lead(proc_s) OVER w AS nxt_proc,
                            lead(wait_s) OVER w AS nxt_wait, lead(has_start) OVER w AS nxt_has_start,
                            lag(activity) OVER w AS prv
                     FROM {source} {window})
               WHERE NOT (activity = ? AND prv = ?)"""
        return body, [a, b, name, a, b, op.get("department"), a, b, b, a]
    if kind == "shared_team":
        x, y = op["departments"][:2]
        team = op.get("name") or f"{x} + {y}"
        members = list(op["departments"])
        body = f"""SELECT case_id, pos, activity,
                      CASE WHEN list_contains(?, department) THEN ? ELSE department END AS department, has_start,
                      CASE WHEN list_contains(?, department) AND list_contains(?, prev_dept) AND department <> prev_dept
                           THEN least(wait_s, ?) ELSE wait_s END AS wait_s, proc_s, par, branch
               FROM (SELECT *, lag(department IGNORE NULLS) OVER w AS prev_dept FROM {source} {window})"""
        return body, [members, team, members, members, team_wait]
    # parallel: mark the events of the branches; blocks are formed at the end.
    branches = op.get("branches") or [[a] for a in op["activities"]]
    cases = " ".join(f"WHEN list_contains(?, activity) THEN {n}" for n in range(len(branches)))
    params = [list(b) for b in branches]
    body = f"""SELECT case_id, pos, activity, department, has_start, wait_s, proc_s,
                      CASE WHEN par IS NULL AND (CASE {cases} END) IS NOT NULL THEN {index} ELSE par END AS par,
                      CASE WHEN par IS NULL THEN (CASE {cases} END) ELSE branch END AS branch
               FROM {source}"""
    return body, [*params, *params]


def _pipeline(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario | None,
              flt: CaseFilter | None) -> tuple[str, list]:
    """CTEs ending in `final`: the transformed events (COLUMNS plus k, the 1-based row in the case)."""
    events, params = kept_events_sql(log_id, flt)
    ctes = [f"""s0 AS (SELECT case_id, pos, activity, department, start_ts IS NOT NULL AS has_start,
                        (epoch_us(coalesce(start_ts, ts)) - epoch_us(lag(ts) OVER w)) / 1e6 AS wait_s,
                        CASE WHEN start_ts IS NULL THEN 0.0 ELSE (epoch_us(ts) - epoch_us(start_ts)) / 1e6 END
                            AS proc_s,
                        NULL::INTEGER AS par, NULL::INTEGER AS branch
                 FROM ({events}) WINDOW w AS (PARTITION BY case_id ORDER BY pos))"""]
    operations = scenario.operations if scenario else []
    team_wait = _team_wait(con, log_id, flt) if any(op["op"] == "shared_team" for op in operations) else 0.0
    for i, op in enumerate(operations, start=1):
        body, op_params = _operation_sql(op, i, f"s{i - 1}", team_wait)
        ctes.append(f"s{i} AS ({body})")
        params += op_params
    last = f"s{len(operations)}"
    ctes.append(f"final AS (SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY pos) AS k FROM {last})")
    return "WITH " + ",\n".join(ctes), params


def _team_wait(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None) -> float:
    """Median wait between consecutive events of one department (0 when there are none)."""
    events, params = kept_events_sql(log_id, flt)
    value = con.execute(
        f"""SELECT quantile_cont(w, 0.5) FROM (
                SELECT department, lag(department) OVER v AS prev,
                       (epoch_us(coalesce(start_ts, ts)) - epoch_us(lag(ts) OVER v)) / 1e6 AS w
                FROM ({events}) WINDOW v AS (PARTITION BY case_id ORDER BY pos))
            WHERE department = prev""", params).fetchone()[0]
    return float(value) if value is not None else 0.0


def replay(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario | None = None,
           flt: CaseFilter | None = None) -> pd.DataFrame:
    """Per kept case after the scenario: case_id, cycle_seconds, handoffs, departments, touch_seconds,
    wait_seconds (positive waits only), events. With no scenario: today's cases through the same arithmetic."""
    ctes, params = _pipeline(con, log_id, scenario, flt)
    return con.execute(
        f"""{ctes},
        -- Units in case order: a serial event, or a parallel block (its longest branch). The clock after a
        -- unit is the sum of the pushes so far; the case ends at the latest clock (= max end − first start).
        timed AS (SELECT *, CASE WHEN k = 1 THEN 0 ELSE coalesce(wait_s, 0) END + proc_s AS d,
                         sum(CASE WHEN par IS NULL OR par IS DISTINCT FROM prev_par THEN 1 ELSE 0 END)
                             OVER (PARTITION BY case_id ORDER BY pos) AS grp
                  FROM (SELECT *, lag(par) OVER (PARTITION BY case_id ORDER BY pos) AS prev_par FROM final)),
        branches AS (SELECT case_id, grp, branch, sum(d) AS d FROM timed WHERE par IS NOT NULL GROUP BY ALL),
        units AS (SELECT case_id, grp, d FROM timed WHERE par IS NULL
                  UNION ALL SELECT case_id, grp, max(d) FROM branches GROUP BY ALL),
        clock AS (SELECT case_id, max(t) AS cycle_seconds FROM (
                      SELECT case_id, sum(d) OVER (PARTITION BY case_id ORDER BY grp) AS t FROM units)
                  GROUP BY case_id),
        handoffs AS (SELECT case_id, count(*) FILTER (WHERE prev IS NOT NULL AND prev <> department) AS n
                     FROM (SELECT case_id, department,
                                  lag(department) OVER (PARTITION BY case_id ORDER BY pos) AS prev
                           FROM final WHERE department IS NOT NULL) GROUP BY case_id),
        per AS (SELECT case_id, count(DISTINCT department) AS departments,
                       sum(proc_s) AS touch_seconds,
                       sum(CASE WHEN k = 1 THEN 0 ELSE greatest(coalesce(wait_s, 0), 0) END) AS wait_seconds,
                       count(*) AS events
                FROM timed GROUP BY case_id)
        -- A case whose every event was removed stays, with nothing left to do.
        SELECT a.case_id, coalesce(c.cycle_seconds, 0) AS cycle_seconds, coalesce(h.n, 0) AS handoffs,
               coalesce(p.departments, 0) AS departments, coalesce(p.touch_seconds, 0) AS touch_seconds,
               coalesce(p.wait_seconds, 0) AS wait_seconds, coalesce(p.events, 0) AS events
        FROM (SELECT DISTINCT case_id FROM s0) a LEFT JOIN per p USING (case_id) LEFT JOIN clock c USING (case_id)
        LEFT JOIN handoffs h USING (case_id)
        ORDER BY a.case_id""",
        params,
    ).df()


def to_be_variants(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario | None = None,
                   flt: CaseFilter | None = None) -> list[tuple[tuple[tuple[str, int | None, int | None], ...], int]]:
    """The to-be sequences with their case counts: each step is (activity, parallel block id or None, branch)."""
    ctes, params = _pipeline(con, log_id, scenario, flt)
    rows = con.execute(
        f"""{ctes}
        SELECT steps, count(*) AS n FROM (
            SELECT case_id, list(struct_pack(a := activity, p := par, b := branch) ORDER BY pos) AS steps
            FROM final GROUP BY case_id)
        GROUP BY steps ORDER BY n DESC""", params).fetchall()
    return [(tuple((s["a"], s["p"], s["b"]) for s in steps), int(n)) for steps, n in rows]


KPIS = ("cycle_seconds", "handoffs", "departments", "touch_seconds", "wait_seconds")


def compare(as_is: pd.DataFrame, to_be: pd.DataFrame, resamples: int = 200, seed: int = 0,
            subsample: int = 20_000) -> pd.DataFrame:
    """KPIs side by side with deltas and 90 % paired-bootstrap intervals of the deltas.

    Rows: median and p90 cycle time, mean hand-offs and departments per case, median touch time, waiting
    share of all cycle time. Columns: kpi, as_is, to_be, delta, delta_low, delta_high.
    """
    merged = as_is.merge(to_be, on="case_id", suffixes=("_a", "_b"))
    n = len(merged)
    stats = {
        "median_cycle_seconds": lambda f, s: np.median(f[f"cycle_seconds{s}"]),
        "p90_cycle_seconds": lambda f, s: np.quantile(f[f"cycle_seconds{s}"], 0.9),
        "handoffs_per_case": lambda f, s: np.mean(f[f"handoffs{s}"]),
        "departments_per_case": lambda f, s: np.mean(f[f"departments{s}"]),
        "median_touch_seconds": lambda f, s: np.median(f[f"touch_seconds{s}"]),
        "waiting_share": lambda f, s: (np.sum(f[f"wait_seconds{s}"]) / np.sum(f[f"cycle_seconds{s}"])
                                       if np.sum(f[f"cycle_seconds{s}"]) else np.nan),
    }
    arrays = {c: merged[c].to_numpy(dtype=float) for c in merged.columns if c != "case_id"}
    rng = np.random.default_rng(seed)
    # Above `subsample` cases the resamples draw `subsample` cases (m-out-of-n bootstrap) and their spread is
    # scaled by sqrt(m / n): the same interval for a fraction of the time on 100,000 cases.
    m = min(n, subsample)
    scale = (m / n) ** 0.5 if n else 1.0
    boot: dict[str, list[float]] = {name: [] for name in stats}
    for _ in range(resamples if n >= 10 else 0):
        pick = rng.integers(0, n, m)
        sample = {k: v[pick] for k, v in arrays.items()}  # one paired resample of the cases, for every KPI
        for name, stat in stats.items():
            boot[name].append(stat(sample, "_b") - stat(sample, "_a"))
    rows = []
    for name, stat in stats.items():
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


def compare_scenario(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario,
                     flt: CaseFilter | None = None) -> pd.DataFrame:
    """compare() of today's kept cases and the same cases replayed through the scenario."""
    return scenario_outcome(con, log_id, scenario, flt)[2]


def scenario_outcome(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario,
                     flt: CaseFilter | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(today's cases replayed, the same cases through the scenario, compare() of the two) in one call."""
    as_is, to_be = replay(con, log_id, None, flt), replay(con, log_id, scenario, flt)
    return as_is, to_be, compare(as_is, to_be)


def save_scenario(con: duckdb.DuckDBPyConnection, scenario: Scenario, log_id: int | None = None) -> int:
    """Store a scenario under its name (replacing one of the same name); returns its id."""
    from analysis.store import transaction

    with transaction(con):
        row = con.execute("SELECT redesign_id FROM redesigns WHERE name = ?", [scenario.name]).fetchone()
        if row:
            con.execute("UPDATE redesigns SET scenario = ?, log_id = ?, created_at = now()::TIMESTAMP "
                        "WHERE redesign_id = ?", [scenario.operations_json, log_id, row[0]])
            return int(row[0])
        new_id = con.execute("SELECT coalesce(max(redesign_id), 0) + 1 FROM redesigns").fetchone()[0]
        con.execute("INSERT INTO redesigns VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
                    [new_id, scenario.name, log_id, scenario.operations_json])
    return int(new_id)


def list_scenarios(con: duckdb.DuckDBPyConnection) -> list[tuple[int, Scenario]]:
    """Stored scenarios (id, scenario), oldest first."""
    rows = con.execute("SELECT redesign_id, name, scenario FROM redesigns ORDER BY redesign_id").fetchall()
    return [(int(i), Scenario(name, ops or "[]")) for i, name, ops in rows]


def delete_scenario(con: duckdb.DuckDBPyConnection, redesign_id: int) -> None:
    """Remove a stored scenario."""
    con.execute("DELETE FROM redesigns WHERE redesign_id = ?", [redesign_id])


def to_be_map(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario | None = None,
              flt: CaseFilter | None = None):
    """The to-be flow as a process map (frequencies only): parallel branches fork after the step before the
    block and join before the step after it. Built from the to-be variants, never from single events."""
    from analysis.process_map import END, START, MapEdge, ProcessMap

    ctes, params = _pipeline(con, log_id, scenario, flt)
    facts = con.execute(f"{ctes} SELECT activity, count(*), mode(department) FROM final GROUP BY activity",
                        params).fetchall()
    frequency: dict[tuple[str, str], int] = {}
    cases: dict[tuple[str, str], int] = {}
    for steps, n in to_be_variants(con, log_id, scenario, flt):
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
    edges = [MapEdge(a, b, f, cases[a, b], None, None) for (a, b), f in
             sorted(frequency.items(), key=lambda item: (-item[1], item[0]))]
    ordered = sorted(facts, key=lambda r: (-r[1], r[0]))
    return ProcessMap({a: int(n) for a, n, _ in ordered}, {a: d for a, _, d in ordered}, edges)
