"""The knowledge-base pieces the diagnosis pages share: the "Save as finding" form at the bottom of a page, the
choices each page offers it (its top figures as Evidence), and the notice that a log shows a known pattern.

A page adds one call at its bottom, e.g.
`finding_form.save_finding_form("bottlenecks", finding_form.bottleneck_choices(log_id, flt, calendar, activities))`.
The figures stored are the ones the page shows: they are read from the tables the page already computed (the
waiting causes from the same cached waiting_causes.diagnose the page's "why it waits" section reads).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import compare, findings, waiting_words
from analysis.errors import UserError
from analysis.filters import CaseFilter
from analysis.findings import Evidence
from analysis.findings_recompute import waiting_cause_figures
from analysis.working_time import WorkCalendar
from pages import cache
from pages.state import lang, tr, viewer_mode

FORM_KEYS = ("kb_figure", "kb_title", "kb_symptom", "kb_cause", "kb_remedy", "kb_impact", "kb_tags")
TEXT_KEYS = ("symptom", "cause", "remedy", "impact")
KB_PAGE = "pages/knowledge.py"


def bottleneck_choices(log_id: int, flt: CaseFilter, calendar: WorkCalendar | None, activities: pd.DataFrame,
                       top: int = 10) -> dict[str, Evidence]:
    """The `top` activities by waiting share (bottlenecks.activity_stats as the page shows it), then the
    waiting cause of each of them (waiting_cause_choices)."""
    choices = {}
    for row in activities.head(top).itertuples():
        params = {"activity": row.activity, "department": row.department}
        figures = findings.bottleneck_figures(activities, row.activity)
        label = tr("kb.choice_bottleneck", activity=row.activity,
                   share=findings.format_figure("share_of_waiting", figures["share_of_waiting"], lang()))
        choices[label] = Evidence("bottleneck", log_id, params, flt, "bottlenecks", calendar, figures)
    return choices | waiting_cause_choices(log_id, flt, calendar, activities, top)


def waiting_cause_choices(log_id: int, flt: CaseFilter, calendar: WorkCalendar | None, activities: pd.DataFrame,
                          top: int = 10) -> dict[str, Evidence]:
    """Why each of the `top` activities waits (waiting_causes.diagnose by activity, in working time with a
    calendar, as the page's "why it waits" shows it); none when the log cannot tell or a step has no wait."""
    try:
        found = cache.waiting_cause_diagnosis(log_id, flt, calendar, "activity")
    except UserError as exc:
        if exc.key in waiting_words.WHY_CANNOT_TELL:
            return {}
        raise
    working = calendar is not None
    choices = {}
    for row in activities.head(top).itertuples():
        figures = waiting_cause_figures(found.rows, row.activity, working)
        cause = figures["dominant_cause"]
        if cause is None:
            continue
        label = tr("kb.choice_waiting_cause", activity=row.activity, cause=waiting_words.cause_name(cause, lang()),
                   share=f"{waiting_words.percents(figures)[cause]}%")
        params = {"activity": row.activity, "department": row.department}
        choices[label] = Evidence("waiting_cause", log_id, params, flt, "bottlenecks", calendar, figures)
    return choices


def handoff_choices(log_id: int, flt: CaseFilter, level: str, calendar: WorkCalendar | None, matrix: pd.DataFrame,
                    pings: pd.DataFrame, top: int = 10, top_pingpong: int = 5) -> dict[str, Evidence]:
    """The `top` hand-off pairs by total wait, then the `top_pingpong` ping-pong pairs (as the page shows them)."""
    choices = {}
    ranked = matrix.sort_values(["total_wait_seconds", "count"], ascending=False, kind="stable").head(top)
    for row in ranked.itertuples():
        a, b = row._1, row.to  # "from" is a keyword: itertuples renames it
        choices[tr("kb.choice_handoff", a=a, b=b)] = Evidence(
            "handoff", log_id, {"from": a, "to": b, "level": level}, flt, "handoffs", calendar,
            findings.handoff_figures(matrix, a, b))
    for row in pings.head(top_pingpong).itertuples():
        choices[tr("kb.choice_pingpong", a=row.pair_a, b=row.pair_b)] = Evidence(
            "pingpong", log_id, {"pair": [row.pair_a, row.pair_b], "level": level}, flt, "handoffs", None,
            findings.pingpong_figures(pings, row.pair_a, row.pair_b))
    return choices


def kpi_choices(log_id: int, flt: CaseFilter, k: dict) -> dict[str, Evidence]:
    """The Overview's KPIs (overview.kpis as the page shows them)."""
    return {tr("kb.choice_kpi"): Evidence("kpi", log_id, {}, flt, "overview", None, findings.kpi_figures(k))}


def redesign_choices(log_id: int, flt: CaseFilter, scenario, table: pd.DataFrame) -> dict[str, Evidence]:
    """A redesign scenario's KPI deltas (redesign.compare_scenario's table as the page shows it)."""
    return {tr("kb.choice_redesign", name=scenario.name): Evidence(
        "redesign", log_id, {"scenario": scenario.to_json()}, flt, "redesign", None,
        findings.redesign_figures(table))}


def compare_choices(log_id: int, flt: CaseFilter, cohorts, kpis: pd.DataFrame) -> dict[str, Evidence]:
    """The comparison on the Compare page (compare.kpi_table as the page shows it)."""
    return {tr("kb.choice_compare", subject=cohorts.subject()): Evidence(
        "compare", log_id, cohorts.as_params(), flt, "compare", None, compare.figures(kpis))}


def _save(page: str, evidence: Evidence) -> None:
    """The Save button's callback: store the finding, then empty the form (allowed only in a callback)."""
    state = st.session_state
    title = (state.get("kb_title") or "").strip()
    if not title:
        state["kb_error"] = tr("kb.need_title")
        return
    finding_id = cache.kb_save(evidence.log_id, title, evidence,
                               tags=findings.parse_tags(state.get("kb_tags") or ""),
                               **{k: state.get(f"kb_{k}") or "" for k in TEXT_KEYS})
    state["kb_saved"] = finding_id
    for key in ("kb_title", "kb_tags", *(f"kb_{k}" for k in TEXT_KEYS)):
        state[key] = ""
    state["kb_title_for"] = None  # the next figure picked gets its suggested title again


def save_finding_form(page: str, choices: dict[str, Evidence]) -> None:
    """An expander "Save as finding": pick one of the page's figures, describe it, save. Hidden for viewers."""
    if viewer_mode() or not choices:
        return
    state = st.session_state
    if state.get("kb_form_page") != page:
        # Widget values of another page's form (other choices) must not carry over.
        for key in (*FORM_KEYS, "kb_title_for"):
            state.pop(key, None)
        state["kb_form_page"] = page
    saved = state.pop("kb_saved", None)
    error = state.pop("kb_error", None)
    with st.expander(tr("kb.save_expander"), expanded=bool(saved or error), icon=":material/bookmark_add:"):
        if saved:
            st.success(tr("kb.saved", id=saved))
            st.page_link(KB_PAGE, label=tr("kb.open_kb"), icon=":material/menu_book:")
        if error:
            st.warning(error)
        st.caption(tr("kb.save_intro"))
        labels = list(choices)
        if state.get("kb_figure") not in labels:
            state.pop("kb_figure", None)
        label = st.selectbox(tr("kb.figure"), labels, key="kb_figure")
        evidence = choices[label]
        marker = (page, label, lang())
        if state.get("kb_title_for") != marker or not state.get("kb_title"):
            state["kb_title"] = findings.suggest_title(evidence, lang())
            state["kb_title_for"] = marker
        st.text_input(tr("kb.title"), key="kb_title")
        left, right = st.columns(2)
        left.text_area(tr("kb.symptom"), key="kb_symptom", height=80)
        right.text_area(tr("kb.cause"), key="kb_cause", height=80)
        left.text_area(tr("kb.remedy"), key="kb_remedy", height=80)
        right.text_area(tr("kb.impact"), key="kb_impact", height=80)
        st.text_input(tr("kb.tags"), key="kb_tags")
        st.button(tr("kb.save"), key="kb_save", type="primary", on_click=_save, args=(page, evidence))


def matching_notice(log_id: int) -> None:
    """An st.info naming the saved findings whose pattern recurs in this log, with a link to the knowledge base."""
    matches = cache.kb_matches(log_id)
    if not matches:
        return
    items = "; ".join(
        tr("kb.match_item", title=m.title, kind=findings.kind_label(m.kind, lang()),
           subject=findings.subject(Evidence(m.kind, log_id, m.params)), rank=m.rank)
        for m in matches[:5])
    st.info(tr("kb.match_notice", items=items), icon=":material/menu_book:")
    st.page_link(KB_PAGE, label=tr("kb.open_kb"), icon=":material/menu_book:")
