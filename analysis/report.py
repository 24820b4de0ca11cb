"""The report: one self-contained HTML file (KPIs, maps, bottlenecks, hand-offs, redesign, comparison, findings)
and its tables as Excel — what the Report page and `python -m analysis report` hand out.

What lives where: analysis.report_gather computes the facts (`gather` → `Facts`, `tables` → the Excel
sheets); analysis.report_html renders them (`render`, with `filter_words`, `esc`, `plotly_js`); the charts
are the pages' own builders (analysis.charts). This module is the public face: `build_report`,
`build_report_files`, `report_tables`, `finding_dicts`, and `report_for`, the one call the Report page's
cache makes (saved findings by id, the comparison as the Compare page keeps it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from analysis import compare, exports, redesign
from analysis import findings as kb
from analysis.filters import CaseFilter
from analysis.report_gather import FINDING_FIELDS, Facts, gather, tables
from analysis.report_html import esc, filter_words, plotly_js, render
from analysis.working_time import WorkCalendar

__all__ = ["FINDING_FIELDS", "Facts", "ReportFiles", "build_report", "build_report_files", "esc", "filter_words",
           "finding_dicts", "gather", "plotly_js", "render", "report_for", "report_tables", "tables"]


@dataclass(frozen=True)
class ReportFiles:
    """The HTML report, its tables as an Excel workbook, and what they hold."""

    html: str
    excel: bytes
    charts: int
    sheets: tuple[str, ...]


def report_tables(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
                  scenario: redesign.Scenario | None = None) -> dict[str, pd.DataFrame]:
    """The report's tables by sheet name (KPIs, Steps, Paths, Map edges, Hand-offs, Ping-pong, …)."""
    return tables(gather(con, log_id, flt, scenario))


def build_report(con: duckdb.DuckDBPyConnection, log_id: int, lang: str = "zh", flt: CaseFilter | None = None,
                 scenario: redesign.Scenario | None = None, findings: list[dict] | None = None,
                 calendar: WorkCalendar | None = None, cohorts: compare.Cohorts | None = None) -> str:
    """The report as one self-contained HTML document in `lang` ('zh' or 'en').

    `findings` are dicts with title, symptom, cause, remedy, impact and tags (all optional but the title).
    """
    return render(gather(con, log_id, flt, scenario, calendar, cohorts, findings), lang)[0]


def build_report_files(con: duckdb.DuckDBPyConnection, log_id: int, lang: str = "zh", flt: CaseFilter | None = None,
                       scenario: redesign.Scenario | None = None, findings: list[dict] | None = None,
                       calendar: WorkCalendar | None = None, cohorts: compare.Cohorts | None = None) -> ReportFiles:
    """The HTML report and the Excel tables from one computation (`cohorts` adds two groups side by side)."""
    facts = gather(con, log_id, flt, scenario, calendar, cohorts, findings)
    page, count = render(facts, lang)
    sheets = tables(facts)
    return ReportFiles(page, exports.to_excel(sheets), count, tuple(sheets))


def finding_dicts(finding_objects: Iterable[kb.Finding]) -> list[dict]:
    """Saved findings (findings.Finding) as the dicts the report takes."""
    return [{"title": f.title, "symptom": f.symptom, "cause": f.cause, "remedy": f.remedy, "impact": f.impact,
             "tags": list(f.tags)} for f in finding_objects]


def report_for(con: duckdb.DuckDBPyConnection, log_id: int, lang: str = "zh", flt: CaseFilter | None = None,
               scenario: redesign.Scenario | None = None, finding_ids: Iterable[int] = (),
               calendar: WorkCalendar | None = None, cohorts_params: dict | str | None = None) -> ReportFiles:
    """build_report_files with saved findings by id and the comparison as Cohorts.as_params.

    `cohorts_params` is a dict or its JSON text (as the Compare page keeps it); a finding that is not there
    raises StoreError.
    """
    chosen = finding_dicts(kb.get_finding(con, i) for i in finding_ids)
    params = json.loads(cohorts_params or "null") if isinstance(cohorts_params, str) else cohorts_params
    cohorts = compare.cohorts_from(con, log_id, flt, params) if params else None
    return build_report_files(con, log_id, lang, flt, scenario, chosen, calendar, cohorts)
