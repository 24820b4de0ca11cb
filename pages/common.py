"""What every page shares: the cached store connection, cached analysis calls, language, active log and filter.

Pages import this module, this module imports `analysis`; nothing in `analysis` knows Streamlit.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager

import streamlit as st

from analysis import (
    bottlenecks,
    cases,
    diagnosis,
    filters,
    handoffs,
    overview,
    process_map,
    process_model,
    redesign,
    store,
)
from analysis.errors import error_text
from analysis.filters import ALL, CaseFilter
from analysis.texts import t


def require_shell() -> None:
    """Rerun through app.py when a page was started on its own (see pages/__init__.py)."""
    if not st.session_state.get("shell"):
        st.rerun()


def viewer_mode() -> bool:
    """True when the app is shared read-only (PROCDIAG_VIEWER=1): no import, delete or edit controls."""
    return os.environ.get("PROCDIAG_VIEWER", "").strip().lower() in ("1", "true", "yes", "on")


@st.cache_resource(show_spinner=False)
def _connection(path: str, read_only: bool):
    """One DuckDB connection per database file for the whole server; each use takes a cursor."""
    con = store.connect(path, read_only=read_only)
    if not read_only:
        from analysis import defaults

        defaults.ensure_sample(con)
    return con


def cursor():
    """A fresh cursor on the shared connection (DuckDB connections are not shared across threads)."""
    return _connection(str(store.db_path()), viewer_mode()).cursor()


def lang() -> str:
    """The chosen language, 'zh' or 'en' (Chinese first: most users read it)."""
    return st.session_state.get("lang", "zh")


def err(exc: BaseException) -> str:
    """An error's text in the chosen language (the library's UserErrors exist in both)."""
    return error_text(exc, lang())


def tr(key: str, **values) -> str:
    """A text from the catalogue in the chosen language."""
    return t(key, lang(), **values)


def data_version() -> int:
    """Bumped after every import, rename or delete so cached results are not reused across them."""
    return st.session_state.get("data_version", 0)


def data_changed() -> None:
    """Forget cached results after the store changed."""
    st.session_state["data_version"] = data_version() + 1
    st.cache_data.clear()


@st.cache_data(show_spinner=False, max_entries=64)
def logs(version: int, db: str) -> list:
    """The log catalogue (`version` and `db` are the cache key)."""
    with _fresh() as cur:
        return store.list_logs(cur)


@contextmanager
def _fresh():
    """`with _fresh() as cur:` — a cursor that is closed afterwards."""
    cur = cursor()
    try:
        yield cur
    finally:
        cur.close()


def cached(func):
    """Cache an analysis function called as func(cur, log_id, *args) by (log id, args, data version)."""

    @st.cache_data(show_spinner=False, max_entries=256)
    def run(name: str, version: int, db: str, log_id: int, *args):
        with _fresh() as cur:
            return func(cur, log_id, *args)

    def call(log_id: int, *args):
        return run(func.__module__ + "." + func.__name__, data_version(), str(store.db_path()), log_id, *args)

    return call


def active_log() -> int | None:
    """The log chosen in the sidebar (None when the store is empty)."""
    return st.session_state.get("active_log")


def active_filter() -> CaseFilter:
    """The global filter built in the sidebar; every page reads it from here."""
    return st.session_state.get("case_filter", ALL)


def format_duration(seconds: float | None) -> str:
    """A duration in a sensible unit: minutes under 2 h, hours under 2 days, else days."""
    return diagnosis.duration_words(seconds, lang())


kpis = cached(overview.kpis)
case_count = cached(overview.case_count)
cycle_times = cached(overview.cycle_times)
weekly_throughput = cached(overview.weekly_throughput)
cycle_by_attribute = cached(overview.cycle_by_attribute)
case_attribute_names = cached(overview.case_attribute_names)
case_attribute_values = cached(overview.case_attribute_values)
time_span = cached(overview.time_span)
activity_counts = cached(process_map.activity_counts)
discover_map = cached(process_map.discover_map)
filter_choices = cached(filters.filter_choices)
variant_catalogue = cached(cases.variant_catalogue)
variant_table = cached(cases.variant_table)
case_list = cached(cases.case_list)
case_timeline = cached(cases.case_timeline)

discover_model = cached(process_model.discover_model)
replay_fitness = cached(process_model.replay_fitness)
activity_stats = cached(bottlenecks.activity_stats)
edge_stats = cached(bottlenecks.edge_stats)
monthly_wait = cached(bottlenecks.monthly_wait)
wait_by_attribute = cached(bottlenecks.wait_by_attribute)
handoff_matrix = cached(handoffs.handoff_matrix)
handoff_cost_of = cached(handoffs.handoff_cost_of)
pingpong = cached(handoffs.pingpong)
front_line_waits = cached(handoffs.front_line_waits)
handoff_wait_share = cached(handoffs.handoff_wait_share)


def has_start(log_id: int) -> bool:
    """Whether the log has start timestamps (waiting can then be told from processing)."""
    return any(info.log_id == log_id and info.has_start for info in logs(data_version(), str(store.db_path())))


# Project or routine (campaign triage).
from analysis import triage  # noqa: E402  (appended with its wrappers)

tg_budget_attribute = cached(triage.find_budget_attribute)
tg_case_features = cached(triage.case_features)
tg_attribute_values = cached(triage.attribute_values)
scenario_outcome = cached(redesign.scenario_outcome)
to_be_map = cached(redesign.to_be_map)


def stored_scenarios() -> list:
    """The scenarios in the store (id, Scenario)."""
    with _fresh() as cur:
        return redesign.list_scenarios(cur)


def save_scenario(scenario, log_id: int) -> int:
    """Store a scenario (replacing one of the same name)."""
    with _fresh() as cur:
        return redesign.save_scenario(cur, scenario, log_id)


def delete_scenario(redesign_id: int) -> None:
    """Remove a stored scenario."""
    with _fresh() as cur:
        redesign.delete_scenario(cur, redesign_id)


# Knowledge base (saved findings). Lists are cheap and read fresh on every run (another session may have
# written); the pattern matching reads whole logs, so it is cached on the findings' fingerprint.
from analysis import findings  # noqa: E402  (appended with its wrappers)


def kb_list(query: str = "", tags: tuple = (), department: str | None = None, log_id: int | None = None,
            since=None):
    """Saved findings matching the search and filters, newest first (findings.list_findings)."""
    with _fresh() as cur:
        return findings.list_findings(cur, query, tags, department, log_id, since)


def kb_get(finding_id: int):
    """One saved finding."""
    with _fresh() as cur:
        return findings.get_finding(cur, finding_id)


def kb_tags() -> list[str]:
    """Every tag in use."""
    with _fresh() as cur:
        return findings.all_tags(cur)


def kb_departments() -> list[str]:
    """Every department some finding is about."""
    with _fresh() as cur:
        return findings.all_departments(cur)


def kb_save(log_id: int, title: str, evidence, **texts) -> int:
    """Store a finding; returns its id."""
    with _fresh() as cur:
        return findings.save_finding(cur, log_id, title, evidence, **texts)


def kb_set_outcome(finding_id: int, outcome: str, note: str) -> None:
    """Mark how a finding's remedy worked out."""
    with _fresh() as cur:
        findings.set_outcome(cur, finding_id, outcome, note)


def kb_delete(finding_id: int) -> bool:
    """Remove a finding."""
    with _fresh() as cur:
        return findings.delete_finding(cur, finding_id)


def kb_rerun(finding_id: int, log_id: int | None = None) -> dict:
    """A finding's figures then and now (on its log, or on `log_id`)."""
    with _fresh() as cur:
        return findings.rerun(cur, finding_id, log_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _kb_matches(version: int, db: str, log_id: int, fingerprint: tuple) -> list:
    """matching_findings keyed on the data version and the findings' fingerprint."""
    with _fresh() as cur:
        return findings.matching_findings(cur, log_id)


def kb_matches(log_id: int) -> list:
    """Saved findings whose pattern recurs in this log (none without any saved finding, at no cost)."""
    with _fresh() as cur:
        fingerprint = findings.fingerprint(cur)
    if not fingerprint[0]:
        return []
    return _kb_matches(data_version(), str(store.db_path()), log_id, fingerprint)


def _conformance_of_scenario(cur, log_id: int, scenario, flt):
    """How the kept cases fit the scenario's to-be flow (None when no case is kept)."""
    from analysis import conformance

    model = conformance.to_be_model(cur, log_id, scenario, flt)
    return None if model is None else conformance.conformance(cur, log_id, model, flt)


def _conformance_of_bpmn(cur, log_id: int, xml_text: str, flt):
    """How the kept cases fit an uploaded BPMN model (ValueError with the reason when it is not usable)."""
    from analysis import conformance

    return conformance.conformance(cur, log_id, conformance.bpmn_net(xml_text), flt)


conformance_of_scenario = cached(_conformance_of_scenario)
conformance_of_bpmn = cached(_conformance_of_bpmn)


# The report (HTML + Excel), cached on everything it shows. Findings are passed by id and read inside, so
# the cache key stays small and hashable.
def _report_files(cur, log_id: int, lang: str, flt, scenario, finding_ids: tuple, calendar, cohorts_json: str = ""):
    """report.build_report_files with the chosen saved findings and comparison (Cohorts.as_params as JSON)."""
    from analysis import compare, report

    chosen = report.finding_dicts(findings.get_finding(cur, i) for i in finding_ids)
    cohorts = compare.cohorts_from(cur, log_id, flt, json.loads(cohorts_json)) if cohorts_json else None
    return report.build_report_files(cur, log_id, lang, flt, scenario, chosen, calendar, cohorts)


report_files = cached(_report_files)


# Compare: two cohorts of the filtered log.
from analysis import compare  # noqa: E402  (appended with its wrappers)

cmp_kpis = cached(compare.kpi_table)
cmp_activities = cached(compare.activity_table)
cmp_paths = cached(compare.path_table)
cmp_by_speed = cached(compare.by_speed)
