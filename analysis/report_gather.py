"""The report's facts: every figure, table and map it shows, computed once for the HTML and the Excel tables.

`gather` collects them for a log under a filter, with an optional redesign scenario, comparison of two
cohorts, working-time calendar and chosen findings, into one frozen `Facts`. Each section's numbers are the
record its page caches, from the same call: `bottlenecks.diagnose`, `handoffs.diagnose` (at the log's
hand-off unit, the default front line `handoffs.front_line_default`), `waiting_causes.diagnose` (by activity,
or the text key of why the log cannot tell), `redesign.evaluate` (with the to-be map in `RedesignFacts`) and
`compare.compare`. `tables` turns the facts into the Excel sheets (raw numbers:
seconds and shares, as in the CLI's JSON). Rendering lives in analysis.report_html; analysis.report is the
public face of both.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from analysis import bottlenecks, compare, handoffs, overview, process_map, redesign, store, waiting_causes
from analysis.errors import UserError
from analysis.filters import CaseFilter
from analysis.sql import query
from analysis.waiting_words import WHY_CANNOT_TELL, dominant_cause
from analysis.working_time import WorkCalendar

FINDING_FIELDS = ("symptom", "cause", "remedy", "impact")


@dataclass(frozen=True)
class RedesignFacts:
    """The redesign section: the scenario, its evaluation (KPI table, both replays, conformance), the to-be map."""

    scenario: redesign.Scenario
    evaluation: redesign.Evaluation
    to_be_pm: process_map.ProcessMap


@dataclass(frozen=True)
class Facts:
    """Everything the report shows, computed once for the HTML and the Excel tables."""

    log_name: str
    kpis: dict
    span: tuple
    bottlenecks: bottlenecks.Bottlenecks
    pm: process_map.ProcessMap
    handoffs: handoffs.Handoffs | None = None        # None: no hand-off unit in the log, or no kept case
    redesign: RedesignFacts | None = None
    comparison: compare.Comparison | None = None
    flt: CaseFilter | None = None
    findings: tuple[dict, ...] = ()
    why: waiting_causes.WaitingCauses | None = None  # the waits split into causes, by activity
    why_error: str | None = None                      # else the text key saying why the log cannot tell

    @property
    def level(self) -> str | None:
        """The hand-off unit of the log: 'department', 'resource' or None."""
        return self.kpis["handoff_unit"]


def _departments(con: duckdb.DuckDBPyConnection, log_id: int) -> list[str]:
    """The log's departments by name."""
    return [r[0] for r in query("""SELECT DISTINCT department FROM events
                                   WHERE log_id = $log_id AND department IS NOT NULL ORDER BY 1""",
                                log_id=log_id).rows(con)]


def _handoffs(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None, level: str,
              calendar: WorkCalendar | None) -> handoffs.Handoffs:
    """The hand-off diagnosis at `level`; whom the default front line waits on when the level is departments."""
    front = handoffs.front_line_default(_departments(con, log_id)) if level == "department" else ()
    return handoffs.diagnose(con, log_id, flt, level, calendar, front)


def _why(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None,
         calendar: WorkCalendar | None) -> tuple[waiting_causes.WaitingCauses | None, str | None]:
    """The waits split into causes per activity, or (None, the text key) when the log cannot tell."""
    try:
        return waiting_causes.diagnose(con, log_id, flt, calendar, by="activity"), None
    except UserError as exc:
        if exc.key not in WHY_CANNOT_TELL:
            raise
        return None, exc.key


def _redesign_facts(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None,
                    scenario: redesign.Scenario) -> RedesignFacts:
    """Today's cases replayed as-is and through the scenario, how they fit its to-be flow, and its map."""
    return RedesignFacts(scenario, redesign.evaluate(con, log_id, scenario, flt),
                         redesign.to_be_map(con, log_id, scenario, flt))


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
    why, why_error = _why(con, log_id, flt, calendar) if cases else (None, None)
    return Facts(
        log_name=info.name, kpis=k, span=overview.time_span(con, log_id),
        bottlenecks=bottlenecks.diagnose(con, log_id, flt, calendar),
        pm=process_map.discover_map(con, log_id, list(counts), flt),
        handoffs=_handoffs(con, log_id, flt, level, calendar) if level and cases else None,
        redesign=_redesign_facts(con, log_id, flt, scenario) if scenario is not None and cases else None,
        comparison=compare.compare(con, log_id, cohorts, calendar) if cohorts is not None and cases else None,
        flt=flt, findings=tuple(findings or ()), why=why, why_error=why_error)


def _map_edges(pm: process_map.ProcessMap) -> pd.DataFrame:
    """The map's edges with their frequencies and durations."""
    return pd.DataFrame([(e.source, e.target, e.frequency, e.cases, e.mean_seconds, e.median_seconds, e.p90_seconds)
                         for e in pm.edges],
                        columns=["source", "target", "frequency", "cases", "mean_seconds", "median_seconds",
                                 "p90_seconds"])


def why_table(facts: Facts) -> pd.DataFrame:
    """The waits split into causes per activity (diagnose's columns, raw seconds and shares; `key` named
    `activity`) with the dominant cause of the report's basis: working time when a calendar is on."""
    rows = facts.why.rows.rename(columns={"key": "activity"})
    working = facts.bottlenecks.working_time
    return rows.assign(dominant_cause=[dominant_cause(r, working) for _, r in rows.iterrows()])


def tables(facts: Facts) -> dict[str, pd.DataFrame]:
    """The report's tables in full by sheet name (raw numbers: seconds and shares, as in the CLI's JSON).

    KPIs, Steps, Paths, and when the log can tell Why it waits, Map edges, Hand-offs, Ping-pong, and when they
    apply Front line, Redesign, Compare KPIs/steps/paths, Deviations and Findings.
    """
    k, bn, ho, rd, cmp = facts.kpis, facts.bottlenecks, facts.handoffs, facts.redesign, facts.comparison
    sheets = {
        "KPIs": pd.DataFrame({"kpi": list(k), "value": [v if v is None or isinstance(v, str) else float(v)
                                                         for v in k.values()]}, dtype=object),
        "Steps": bn.activities, "Paths": bn.edges,
        **({"Why it waits": why_table(facts)} if facts.why is not None else {}),
        "Map edges": _map_edges(facts.pm),
        "Hand-offs": ho.matrix if ho else pd.DataFrame(), "Ping-pong": ho.pingpong if ho else pd.DataFrame(),
    }
    if ho is not None and ho.front_line is not None:
        sheets["Front line"] = ho.front_line
    if rd is not None:
        sheets["Redesign"] = rd.evaluation.table()
    if cmp is not None:
        sheets |= {"Compare KPIs": cmp.kpis, "Compare steps": cmp.steps, "Compare paths": cmp.paths}
    if rd is not None and rd.evaluation.conformance is not None:
        sheets["Deviations"] = pd.DataFrame([vars(d) for d in rd.evaluation.conformance.deviations],
                                            columns=["activity", "department", "kind", "cases"])
    if facts.findings:
        sheets["Findings"] = pd.DataFrame([{"title": f.get("title", ""), **{n: f.get(n, "") for n in FINDING_FIELDS},
                                            "tags": ", ".join(str(x) for x in f.get("tags") or ())}
                                           for f in facts.findings])
    return sheets
