"""A finding's evidence and how to recompute it: the figures behind a saved finding, on any log, at any time.

`Evidence` records what the user looked at: the log, the global filter, the page, the kind of figure with its
parameters (an activity, a hand-off pair, a scenario …), the working-time calendar if one was on, and the
figures shown at that moment. Every kind has one recompute function in `KINDS`, built on the same analysis
function the page shows (the `*_figures` helpers read a row the way the page does), so a finding can be
re-run later on the current data of its log or on another log (`rerun`), and a new log can be searched for
the patterns of saved findings (`matches`: the bottleneck, hand-off or ping-pong in the log's top ranks).

The kind "waiting_cause" keeps why an activity waits (waiting_causes.diagnose by activity, under the
finding's filter and calendar): the waits split, the wait and each cause's seconds and share, the dominant
cause and the activity's rank by waiting — in working time when the evidence has a calendar (as the pages
show it), else in calendar time. Re-running it on a log without start timestamps or resources raises the
UserError saying the log cannot tell.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from analysis import bottlenecks, compare, handoffs, overview, records, redesign, waiting_causes
from analysis.filters import ALL, CaseFilter, unknown_values
from analysis.waiting_causes import CAUSES
from analysis.waiting_words import dominant_cause, parts, shares
from analysis.working_time import WorkCalendar

if TYPE_CHECKING:
    from analysis.findings_store import Finding

# How far down its ranking a saved pattern may sit in another log and still count as recurring.
MATCH_TOP = {"bottleneck": 3, "handoff": 5, "pingpong": 3}


@dataclass(frozen=True)
class Evidence:
    """What a finding rests on: a kind of figure and its parameters, on a log under a filter, and its figures.

    `figures` may be left empty: save_finding then computes them with the kind's recompute function.
    """

    kind: str                                   # a key of KINDS
    log_id: int
    params: dict = field(default_factory=dict)  # e.g. {"activity": "预算审批"}, {"from": …, "to": …, "level": …}
    flt: CaseFilter = ALL
    page: str = ""
    calendar: WorkCalendar | None = None
    figures: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON-ready form stored in `findings.evidence` (without log name and outcome)."""
        return {"kind": self.kind, "page": self.page, "log_id": self.log_id, "params": self.params,
                "filter": json.loads(self.flt.to_json()),
                "calendar": json.loads(self.calendar.to_json()) if self.calendar else None,
                "figures": self.figures}

    @classmethod
    def from_dict(cls, data: dict) -> Evidence:
        """Read to_dict's form."""
        calendar = data.get("calendar")
        return cls(kind=data.get("kind") or "", log_id=data.get("log_id"), params=data.get("params") or {},
                   flt=CaseFilter.from_json(json.dumps(data.get("filter") or {})), page=data.get("page") or "",
                   calendar=WorkCalendar.from_json(json.dumps(calendar)) if calendar else None,
                   figures=data.get("figures") or {})

    def on(self, log_id: int) -> Evidence:
        """The same evidence on another log, its figures not computed yet."""
        return Evidence(self.kind, log_id, self.params, self.flt, self.page, self.calendar)

    @property
    def level(self) -> str:
        """The unit of a hand-off or ping-pong pair: 'department' (the default) or 'resource'."""
        return self.params.get("level") or "department"


def _row_figures(table: pd.DataFrame, mask, columns: tuple[str, ...]) -> dict:
    """The named columns of the first row matching `mask`, with its 1-based rank; all None when absent."""
    hit = table.index[mask].tolist() if len(table) else []
    if not hit:
        return {c: None for c in columns} | {"rank": None}
    pos = table.index.get_loc(hit[0])
    row = table.iloc[pos]
    return {c: records.plain(row[c]) for c in columns} | {"rank": int(pos) + 1}


# Figure extraction from the tables the pages show: the pages and the recompute functions share these.

BOTTLENECK_FIGURES = ("share_of_waiting", "median_wait_seconds", "p90_wait_seconds", "total_wait_seconds")
HANDOFF_FIGURES = ("count", "median_wait_seconds", "total_wait_seconds")
PINGPONG_FIGURES = ("occurrences", "cases", "extra_cycle_seconds")
KPI_FIGURES = ("cases", "median_cycle_seconds", "p90_cycle_seconds", "handoffs_per_case")
WAITING_CAUSE_FIGURES = ("waits", "cases", "wait_seconds", *(f"{c}_seconds" for c in CAUSES),
                         *(f"share_{c}" for c in CAUSES), "dominant_cause", "rank")


def bottleneck_figures(stats: pd.DataFrame, activity: str) -> dict:
    """An activity's figures from bottlenecks.activity_stats (rank = place by waiting share)."""
    return _row_figures(stats, stats["activity"] == activity if len(stats) else [], BOTTLENECK_FIGURES)


def handoff_figures(matrix: pd.DataFrame, source: str, target: str) -> dict:
    """A hand-off pair's figures from handoffs.handoff_matrix (rank = place by total wait)."""
    if matrix.empty:
        return _row_figures(matrix, [], HANDOFF_FIGURES)
    ranked = matrix.sort_values(["total_wait_seconds", "count"], ascending=False, kind="stable").reset_index(drop=True)
    return _row_figures(ranked, (ranked["from"] == source) & (ranked["to"] == target), HANDOFF_FIGURES)


def pingpong_figures(pings: pd.DataFrame, a: str, b: str) -> dict:
    """An unordered pair's figures from handoffs.pingpong (rank = place by occurrences)."""
    a, b = sorted((a, b))
    mask = (pings["pair_a"] == a) & (pings["pair_b"] == b) if len(pings) else []
    return _row_figures(pings.reset_index(drop=True), mask, PINGPONG_FIGURES)


def waiting_cause_figures(rows: pd.DataFrame, activity: str, working: bool = False) -> dict:
    """An activity's waits split into causes from waiting_causes.diagnose's rows (by activity): waits, cases,
    wait_seconds, `<cause>_seconds`, `share_<cause>` (of the wait), dominant_cause and rank (place by
    waiting); in working time (the on-duty parts) when `working`. All None when the activity has no row."""
    hit = rows.index[rows["key"] == activity].tolist() if len(rows) else []
    if not hit:
        return dict.fromkeys(WAITING_CAUSE_FIGURES)
    pos = rows.index.get_loc(hit[0])
    row = rows.iloc[pos]
    seconds, split = parts(row, working), shares(row, working)
    wait = row["working_wait_seconds" if working else "wait_seconds"]
    return {"waits": records.plain(row["waits"]), "cases": records.plain(row["cases"]),
            "wait_seconds": records.plain(wait), **{f"{c}_seconds": seconds[c] for c in CAUSES},
            **{f"share_{c}": split[c] if split else None for c in CAUSES},
            "dominant_cause": dominant_cause(row, working), "rank": int(pos) + 1}


def kpi_figures(k: dict) -> dict:
    """The KPIs a finding keeps from overview.kpis."""
    return {name: records.plain(k.get(name)) for name in KPI_FIGURES}


def redesign_figures(table: pd.DataFrame) -> dict:
    """Median cycle time and hand-offs per case, as-is, to-be and their change, from redesign.compare_scenario."""
    rows = table.set_index("kpi")
    out = {}
    for kpi, name in (("median_cycle_seconds", "median_cycle"), ("handoffs_per_case", "handoffs")):
        for col in ("as_is", "to_be", "delta"):
            value = rows.loc[kpi, col] if kpi in rows.index else None
            suffix = "_seconds" if name == "median_cycle" else ""
            out[f"{name}_{col}{suffix}"] = records.plain(value)
    return out


def _recompute_bottleneck(con: duckdb.DuckDBPyConnection, ev: Evidence) -> dict:
    """The activity's waiting figures and rank."""
    stats = bottlenecks.activity_stats(con, ev.log_id, ev.flt, ev.calendar)
    return bottleneck_figures(stats, ev.params["activity"])


def _recompute_handoff(con: duckdb.DuckDBPyConnection, ev: Evidence) -> dict:
    """The hand-off pair's count, waits and rank."""
    matrix = handoffs.handoff_matrix(con, ev.log_id, ev.flt, ev.level, ev.calendar)
    return handoff_figures(matrix, ev.params["from"], ev.params["to"])


def _recompute_pingpong(con: duckdb.DuckDBPyConnection, ev: Evidence) -> dict:
    """The ping-pong pair's occurrences, cases, extra cycle time and rank."""
    a, b = ev.params["pair"]
    return pingpong_figures(handoffs.pingpong(con, ev.log_id, ev.flt, ev.level), a, b)


def _recompute_waiting_cause(con: duckdb.DuckDBPyConnection, ev: Evidence) -> dict:
    """The activity's waits split into causes, under the finding's filter and calendar."""
    found = waiting_causes.diagnose(con, ev.log_id, ev.flt, ev.calendar, by="activity")
    return waiting_cause_figures(found.rows, ev.params["activity"], working=ev.calendar is not None)


def _recompute_kpi(con: duckdb.DuckDBPyConnection, ev: Evidence) -> dict:
    """The KPIs of the kept cases."""
    return kpi_figures(overview.kpis(con, ev.log_id, ev.flt))


def _recompute_redesign(con: duckdb.DuckDBPyConnection, ev: Evidence) -> dict:
    """The scenario's median cycle time and hand-offs, as-is and to-be."""
    scenario = redesign.Scenario.from_json(ev.params["scenario"])
    return redesign_figures(redesign.compare_scenario(con, ev.log_id, scenario, ev.flt))


def _recompute_compare(con: duckdb.DuckDBPyConnection, ev: Evidence) -> dict:
    """The two cohorts' KPIs."""
    cohorts = compare.cohorts_from(con, ev.log_id, ev.flt, ev.params)
    return compare.figures(compare.kpi_table(con, ev.log_id, cohorts))


# The registry: kind → the function computing its figures on the current data.
KINDS: dict[str, Callable[[duckdb.DuckDBPyConnection, Evidence], dict]] = {
    "bottleneck": _recompute_bottleneck,
    "handoff": _recompute_handoff,
    "pingpong": _recompute_pingpong,
    "waiting_cause": _recompute_waiting_cause,
    "kpi": _recompute_kpi,
    "redesign": _recompute_redesign,
    "compare": _recompute_compare,
}


def check_kind(kind: str) -> None:
    """ValueError naming the known kinds when `kind` is not one of them."""
    if kind not in KINDS:
        raise ValueError(f"Unknown evidence kind {kind!r} (known: {', '.join(KINDS)})")


def compute_figures(con: duckdb.DuckDBPyConnection, evidence: Evidence) -> dict:
    """The evidence's figures on the current data of its log (the kind's recompute function)."""
    check_kind(evidence.kind)
    return KINDS[evidence.kind](con, evidence)


def evidence_departments(evidence: Evidence) -> list[str]:
    """The departments a finding is about: the activity's, a department-level pair, a scenario's, the filter's."""
    p = evidence.params
    names: list[str] = list(evidence.flt.departments)
    if evidence.kind in ("bottleneck", "waiting_cause") and p.get("department"):
        names.append(p["department"])
    elif evidence.kind == "handoff" and evidence.level == "department":
        names += [p["from"], p["to"]]
    elif evidence.kind == "pingpong" and evidence.level == "department":
        names += list(p["pair"])
    elif evidence.kind == "redesign":
        for op in json.loads(p.get("scenario") or "{}").get("operations", []):
            names += list(op.get("departments") or []) + ([op["department"]] if op.get("department") else [])
    return sorted({str(n) for n in names if n})


def rerun(con: duckdb.DuckDBPyConnection, finding: Finding, log_id: int, log_name: str | None) -> dict:
    """A finding's figures then (as saved) and now on log `log_id` (named `log_name`), row by row.

    Returns {"finding_id", "kind", "params", "then": {"log_id", "log_name", "figures"}, "now": {…},
    "rows": [{"figure", "then", "now", "change"}], "unknown": filter values the log does not have}.
    """
    ev = finding.evidence
    now = compute_figures(con, ev.on(log_id))
    rows = []
    for name in dict.fromkeys([*ev.figures, *now]):
        a, b = ev.figures.get(name), now.get(name)
        change = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        rows.append({"figure": name, "then": a, "now": b, "change": change})
    return {"finding_id": finding.finding_id, "kind": ev.kind, "params": ev.params,
            "then": {"log_id": finding.log_id, "log_name": finding.log_name, "figures": ev.figures},
            "now": {"log_id": log_id, "log_name": log_name, "figures": now},
            "rows": rows, "unknown": unknown_values(con, log_id, ev.flt)}


@dataclass(frozen=True)
class Match:
    """A saved finding whose pattern recurs in a log: its place in that log's ranking and the new figures."""

    finding_id: int
    title: str
    kind: str
    params: dict
    rank: int
    figures: dict
    then: dict
    log_id: int | None        # the log the finding was saved on
    log_name: str | None


def matches(con: duckdb.DuckDBPyConnection, log_id: int, saved: Iterable[Finding]) -> list[Match]:
    """The saved findings whose pattern is in the top MATCH_TOP of a log, in the order given.

    Rankings over all the log's cases, in calendar time; only bottleneck, hand-off and ping-pong findings match.
    """
    # A finding's filter names values of its own log: patterns are looked for in the whole new log.
    tables: dict[tuple[str, str], pd.DataFrame] = {}

    def table(kind: str, level: str) -> pd.DataFrame:
        """The log's ranking for a kind at a level, computed once."""
        if (kind, level) not in tables:
            tables[kind, level] = {
                "bottleneck": lambda: bottlenecks.activity_stats(con, log_id),
                "handoff": lambda: handoffs.handoff_matrix(con, log_id, None, level),
                "pingpong": lambda: handoffs.pingpong(con, log_id, None, level, top=MATCH_TOP["pingpong"]),
            }[kind]()
        return tables[kind, level]

    found = []
    for f in saved:
        ev, p = f.evidence, f.evidence.params
        if ev.kind not in MATCH_TOP:
            continue
        if ev.kind == "bottleneck":
            figures = bottleneck_figures(table("bottleneck", ""), p["activity"])
        elif ev.kind == "handoff":
            figures = handoff_figures(table("handoff", ev.level), p["from"], p["to"])
        else:
            figures = pingpong_figures(table("pingpong", ev.level), *p["pair"])
        rank = figures.get("rank")
        if rank is not None and rank <= MATCH_TOP[ev.kind]:
            found.append(Match(f.finding_id, f.title, ev.kind, p, rank, figures, ev.figures, f.log_id, f.log_name))
    return found
