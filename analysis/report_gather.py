"""The report's facts: every figure, table and map it shows, computed once for the HTML and the Excel tables.

`gather` collects them for a log under a filter, with an optional redesign scenario, comparison of two
cohorts, working-time calendar and chosen findings, into one frozen `Facts` (its parts `HandoffFacts`,
`RedesignFacts`, `CompareFacts`). Every number comes from the function the page of that section calls.
`tables` turns the facts into the Excel sheets (raw numbers: seconds and shares, as in the CLI's JSON).
Rendering lives in analysis.report_html; analysis.report is the public face of both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from analysis import bottlenecks, compare, conformance, handoffs, overview, process_map, redesign, store
from analysis.filters import CaseFilter
from analysis.sql import query
from analysis.working_time import WorkCalendar

# The departments that serve customers, by name (the sample's regional branches); the pages use the same rule.
FRONT_WORDS = ("分公司", "branch", "门店", "store", "区域")
FINDING_FIELDS = ("symptom", "cause", "remedy", "impact")


@dataclass(frozen=True)
class HandoffFacts:
    """The hand-off section: matrix, ping-pong, the cost of one more hand-off, the waiting share, the front line."""

    level: str | None = None                    # 'department', 'resource', or None (the log has neither)
    matrix: pd.DataFrame = field(default_factory=pd.DataFrame)
    pings: pd.DataFrame = field(default_factory=pd.DataFrame)
    cost: dict = field(default_factory=dict)
    share: float | None = None
    front: tuple[str, ...] = ()                 # the front-line departments (department level only)
    front_table: pd.DataFrame | None = None


@dataclass(frozen=True)
class RedesignFacts:
    """The redesign section: the scenario, both replays, their KPI table, the to-be map and the conformance."""

    scenario: redesign.Scenario
    as_is: pd.DataFrame
    to_be: pd.DataFrame
    comparison: pd.DataFrame
    to_be_pm: process_map.ProcessMap
    fit: conformance.Conformance | None         # None: no kept case to check


@dataclass(frozen=True)
class CompareFacts:
    """The comparison section: the two cohorts and their KPI, step and path tables."""

    cohorts: compare.Cohorts
    kpis: pd.DataFrame
    steps: pd.DataFrame
    paths: pd.DataFrame


@dataclass(frozen=True)
class Facts:
    """Everything the report shows, computed once for the HTML and the Excel tables."""

    log_name: str
    has_start: bool
    kpis: dict
    span: tuple
    activities: pd.DataFrame
    edges: pd.DataFrame
    pm: process_map.ProcessMap
    handoffs: HandoffFacts = HandoffFacts()
    redesign: RedesignFacts | None = None
    comparison: CompareFacts | None = None
    flt: CaseFilter | None = None
    working: bool = False                        # durations in working time (a calendar was given)
    findings: tuple[dict, ...] = ()

    @property
    def level(self) -> str | None:
        """The hand-off unit of the log: 'department', 'resource' or None."""
        return self.kpis["handoff_unit"]


def front_line(departments: list[str]) -> list[str]:
    """The default front line: departments whose name says branch, store or region."""
    return [d for d in departments if any(w in d.lower() for w in FRONT_WORDS)]


def _departments(con: duckdb.DuckDBPyConnection, log_id: int) -> list[str]:
    """The log's departments by name."""
    return [r[0] for r in query("""SELECT DISTINCT department FROM events
                                   WHERE log_id = $log_id AND department IS NOT NULL ORDER BY 1""",
                                log_id=log_id).rows(con)]


def _handoff_facts(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None, level: str,
                   calendar: WorkCalendar | None) -> HandoffFacts:
    """The hand-off figures at `level`; the front line's waits when the level is departments."""
    front, front_table = (), None
    if level == "department":
        front = tuple(front_line(_departments(con, log_id)))
        if front:
            front_table = handoffs.front_line_waits(con, log_id, list(front), flt, calendar)
    return HandoffFacts(level, handoffs.handoff_matrix(con, log_id, flt, level, calendar),
                        handoffs.pingpong(con, log_id, flt, level), handoffs.handoff_cost_of(con, log_id, flt, level),
                        handoffs.handoff_wait_share(con, log_id, flt, level, calendar), front, front_table)


def _redesign_facts(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None,
                    scenario: redesign.Scenario) -> RedesignFacts:
    """Today's cases replayed as-is and through the scenario, and how they fit its to-be flow."""
    as_is = redesign.replay(con, log_id, None, flt)
    to_be = redesign.replay(con, log_id, scenario, flt)
    model = conformance.to_be_model(con, log_id, scenario, flt)
    fit = None if model is None else conformance.conformance(con, log_id, model, flt)
    return RedesignFacts(scenario, as_is, to_be, redesign.compare(as_is, to_be),
                         redesign.to_be_map(con, log_id, scenario, flt), fit)


def _compare_facts(con: duckdb.DuckDBPyConnection, log_id: int, cohorts: compare.Cohorts,
                   calendar: WorkCalendar | None) -> CompareFacts:
    """The two cohorts' KPI, step and path tables."""
    return CompareFacts(cohorts, compare.kpi_table(con, log_id, cohorts),
                        compare.activity_table(con, log_id, cohorts, calendar), compare.path_table(con, log_id, cohorts))


def gather(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
           scenario: redesign.Scenario | None = None, calendar: WorkCalendar | None = None,
           cohorts: compare.Cohorts | None = None, findings: list[dict] | None = None) -> Facts:
    """Compute every table and map of the report (LogNotFound when the log does not exist)."""
    info = next((i for i in store.list_logs(con) if i.log_id == log_id), None)
    if info is None:
        raise store.LogNotFound(f"No log {log_id}.")
    k = overview.kpis(con, log_id, flt)
    counts = process_map.activity_counts(con, log_id, flt)
    cases = bool(k["cases"])
    level = k["handoff_unit"]
    return Facts(
        log_name=info.name, has_start=bool(info.has_start), kpis=k, span=overview.time_span(con, log_id),
        activities=bottlenecks.activity_stats(con, log_id, flt, calendar),
        edges=bottlenecks.edge_stats(con, log_id, flt, calendar),
        pm=process_map.discover_map(con, log_id, list(counts), flt),
        handoffs=_handoff_facts(con, log_id, flt, level, calendar) if level and cases else HandoffFacts(level),
        redesign=_redesign_facts(con, log_id, flt, scenario) if scenario is not None and cases else None,
        comparison=_compare_facts(con, log_id, cohorts, calendar) if cohorts is not None and cases else None,
        flt=flt, working=calendar is not None, findings=tuple(findings or ()))


def _map_edges(pm: process_map.ProcessMap) -> pd.DataFrame:
    """The map's edges with their frequencies and durations."""
    return pd.DataFrame([(e.source, e.target, e.frequency, e.cases, e.mean_seconds, e.median_seconds, e.p90_seconds)
                         for e in pm.edges],
                        columns=["source", "target", "frequency", "cases", "mean_seconds", "median_seconds",
                                 "p90_seconds"])


def tables(facts: Facts) -> dict[str, pd.DataFrame]:
    """The report's tables in full by sheet name (raw numbers: seconds and shares, as in the CLI's JSON).

    KPIs, Steps, Paths, Map edges, Hand-offs, Ping-pong, and when they apply Front line, Redesign, Compare
    KPIs/steps/paths, Deviations and Findings.
    """
    k, ho, rd, cmp = facts.kpis, facts.handoffs, facts.redesign, facts.comparison
    sheets = {
        "KPIs": pd.DataFrame({"kpi": list(k), "value": [v if v is None or isinstance(v, str) else float(v)
                                                         for v in k.values()]}, dtype=object),
        "Steps": facts.activities, "Paths": facts.edges, "Map edges": _map_edges(facts.pm),
        "Hand-offs": ho.matrix, "Ping-pong": ho.pings,
    }
    if ho.front_table is not None:
        sheets["Front line"] = ho.front_table
    if rd is not None:
        sheets["Redesign"] = rd.comparison
    if cmp is not None:
        sheets |= {"Compare KPIs": cmp.kpis, "Compare steps": cmp.steps, "Compare paths": cmp.paths}
    if rd is not None and rd.fit is not None:
        sheets["Deviations"] = pd.DataFrame([vars(d) for d in rd.fit.deviations],
                                            columns=["activity", "department", "kind", "cases"])
    if facts.findings:
        sheets["Findings"] = pd.DataFrame([{"title": f.get("title", ""), **{n: f.get(n, "") for n in FINDING_FIELDS},
                                            "tags": ", ".join(str(x) for x in f.get("tags") or ())}
                                           for f in facts.findings])
    return sheets
