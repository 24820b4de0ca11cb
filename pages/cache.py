"""The caching module: the one store connection and every call from a page into `analysis`.

The only place in the app with `st.cache_*` and the only one that takes a cursor: pages call the functions
here, these call `analysis`, and nothing in `analysis` knows Streamlit. Results are cached by (function,
arguments, data version, database file); whatever changes the store bumps the data version.
"""

from __future__ import annotations

import logging
import threading
from contextlib import closing, contextmanager

import duckdb
import streamlit as st

from analysis import (
    bottlenecks,
    cases,
    compare,
    conformance,
    defaults,
    filters,
    findings,
    handoffs,
    importer,
    overview,
    process_map,
    process_model,
    redesign,
    report,
    store,
    triage,
    waiting_causes,
)
from analysis.errors import UserError
from pages.state import viewer_mode

# --- The connection. -------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _connection(path: str, read_only: bool):
    """One DuckDB connection per database file for the whole server; each use takes a cursor."""
    con = store.connect(path, read_only=read_only)
    if not read_only:
        defaults.ensure_sample(con)
    return con


@contextmanager
def _fresh():
    """`with _fresh() as cur:` — a cursor on the shared connection, closed afterwards (DuckDB connections
    are not shared across threads, and every Streamlit session is its own thread)."""
    cur = _connection(_db(), viewer_mode()).cursor()
    try:
        yield cur
    finally:
        cur.close()


def _db() -> str:
    """The database file (read on every call: tests and the CLI point PROCDIAG_DB elsewhere)."""
    return str(store.db_path())


def open_store() -> None:
    """Open the store once for the server (raises store.StoreLocked or store.StoreError when it cannot), and
    start saving the split of waits of every log that has none (see warm_splits)."""
    with _fresh():
        pass
    db = _db()
    with _WARMED_LOCK:
        first = db not in _WARMED
        _WARMED.add(db)
    if first:
        warm_splits(None)


def data_version() -> int:
    """Bumped after every import, rename or delete so cached results are not reused across them."""
    return st.session_state.get("data_version", 0)


def data_changed() -> None:
    """Forget cached results after the store changed."""
    st.session_state["data_version"] = data_version() + 1
    st.cache_data.clear()


def cached(func):
    """Cache an analysis function called as func(cur, log_id, *args) by (log id, args, data version)."""

    @st.cache_data(show_spinner=False, max_entries=256)
    def run(name: str, version: int, db: str, log_id: int, *args):
        with _fresh() as cur:
            return func(cur, log_id, *args)

    def call(log_id: int, *args):
        return run(func.__module__ + "." + func.__name__, data_version(), _db(), log_id, *args)

    return call


# --- The store's logs. -----------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def _logs(version: int, db: str) -> list:
    """store.list_logs keyed on the data version and the database file."""
    with _fresh() as cur:
        return store.list_logs(cur)


def logs() -> list:
    """The log catalogue (store.LogInfo of every imported log)."""
    return _logs(data_version(), _db())


@st.cache_data(show_spinner=False, max_entries=64)
def _sample_log_id(version: int, db: str) -> int | None:
    """defaults.sample_log_id keyed on the data version and the database file."""
    with _fresh() as cur:
        return defaults.sample_log_id(cur)


def sample_log_id() -> int | None:
    """The id of the shipped sample log, if it is in the store."""
    return _sample_log_id(data_version(), _db())


# --- Import, rename, delete (each forgets the cached results). -------------------------------------------


@st.cache_data(show_spinner=False, max_entries=8)
def _inspection(path: str, mtime: float, options: importer.ImportOptions, version: int):
    """importer.inspect_file keyed on the file's version and the options; returns (Inspection, problems)."""
    with _fresh() as cur:
        try:
            return importer.inspect_file(cur, path, options), None
        except importer.ImportFailed as exc:
            return None, exc.problems
        except (store.StoreError, duckdb.Error, OSError) as exc:
            detail = str(exc).splitlines()[0]
            return None, [importer.Problem("read_error", "error", 0, params={"detail": detail})]


def inspect_file(path: str, mtime: float, options: importer.ImportOptions):
    """What importing `path` would give: (Inspection, None), or (None, the problems) if it cannot be read."""
    return _inspection(path, mtime, options, data_version())


def import_file(path, options: importer.ImportOptions, progress=None):
    """Import a file (importer.import_file; raises importer.ImportFailed with the problems)."""
    with _fresh() as cur:
        result = importer.import_file(cur, path, options, progress=progress)
    data_changed()
    warm_splits([result.log_id])
    return result


def rename_log(log_id: int, name: str) -> None:
    """Give a log another name."""
    with _fresh() as cur:
        store.rename_log(cur, log_id, name)
    data_changed()


def delete_log(log_id: int) -> None:
    """Remove a log (raises store.LogNotFound when another session deleted it first)."""
    try:
        with _fresh() as cur:
            store.delete_log(cur, log_id)
    finally:
        data_changed()  # deleted here or elsewhere: either way the cached catalogue is stale


# --- Overview, process map, variants, filter. ------------------------------------------------------------

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

# --- Process model, bottlenecks, hand-offs. --------------------------------------------------------------
# The Bottlenecks and Hand-offs pages read their numbers from one record each, the one the report and the CLI
# show (bottlenecks.diagnose, handoffs.diagnose); the trend and the heatmap are extra views of their own.

discover_model = cached(process_model.discover_model)
replay_fitness = cached(process_model.replay_fitness)
bottleneck_diagnosis = cached(bottlenecks.diagnose)
monthly_wait = cached(bottlenecks.monthly_wait)
wait_by_attribute = cached(bottlenecks.wait_by_attribute)
handoff_diagnosis = cached(handoffs.diagnose)


# Why it waits: an event's split depends on neither the filter nor the grouping, so the whole log's split is
# computed once and saved in the store (waiting_causes.save_parts, 4-5 s at 1M events); every filter and
# grouping then only groups it (0.1-0.3 s; bench/RESULTS.md, "Why it waits"). The server saves the
# calendar-time split (the pages' default) in a background thread at its start and after each import, so a
# first visit finds it ready; a visit while it runs waits for it (one lock: never computed twice), and a
# working-time calendar is saved the first time it is asked for. A read-only store (viewer mode) cannot be
# written: there the split is kept in memory per calendar as an Arrow table.
_SPLIT_LOCK = threading.Lock()
_WARMED: set[str] = set()       # the database files whose logs' splits this server has started saving
_WARMED_LOCK = threading.Lock()


def _save_splits(con: duckdb.DuckDBPyConnection, log_ids: list[int] | None) -> None:
    """Save the calendar-time split of each log (every log when None); logs that cannot tell are skipped."""
    with closing(con.cursor()) as cur:
        ids = [info.log_id for info in store.list_logs(cur)] if log_ids is None else log_ids
    for log_id in ids:
        try:
            with _SPLIT_LOCK, closing(con.cursor()) as cur:
                waiting_causes.save_parts(cur, log_id)
        except UserError:
            continue                    # no start times or no resources: the page says so
        except duckdb.Error:            # deleted meanwhile, or the server stopping: the page computes it
            logging.getLogger(__name__).warning("why it waits: split of log %s not saved", log_id, exc_info=True)


def warm_splits(log_ids: list[int] | None) -> threading.Thread | None:
    """Save the splits of these logs (every log when None) in a background thread; None in viewer mode."""
    if viewer_mode():
        return None
    thread = threading.Thread(target=_save_splits, args=(_connection(_db(), False), log_ids), daemon=True,
                              name="procdiag-why-split")
    thread.start()
    return thread


@st.cache_resource(show_spinner=False, max_entries=8)
def _why_parts(version: int, db: str, log_id: int, calendar):
    with _fresh() as cur:
        return waiting_causes.event_parts(cur, log_id, calendar)


@st.cache_data(show_spinner=False, max_entries=256)
def _why(version: int, db: str, log_id: int, flt, calendar, by: str, unit: str | None):
    parts = None
    with _fresh() as cur:
        saved = waiting_causes.saved_parts(cur, log_id, calendar)
    if saved is None and viewer_mode():
        parts = _why_parts(version, db, log_id, calendar)
    elif saved is None:
        with _SPLIT_LOCK, _fresh() as cur:      # saved by the background thread meanwhile: kept as it is
            waiting_causes.save_parts(cur, log_id, calendar)
    with _fresh() as cur:
        return waiting_causes.diagnose(cur, log_id, flt, calendar, by, parts=parts, unit=unit)


def waiting_cause_diagnosis(log_id: int, flt, calendar, by: str, unit: str | None = None):
    """waiting_causes.diagnose on the split of the whole log saved in the store (raises UserError when the
    log cannot tell)."""
    return _why(data_version(), _db(), log_id, flt, calendar, by, unit)

# --- Compare: two cohorts of the filtered log (the record compare.compare). ------------------------------

comparison = cached(compare.compare)
cmp_by_speed = cached(compare.by_speed)

# --- Project or routine (campaign triage). ---------------------------------------------------------------

tg_budget_attribute = cached(triage.find_budget_attribute)
tg_case_features = cached(triage.case_features)
tg_attribute_values = cached(triage.attribute_values)

# --- Redesign: scenarios, their evaluation (redesign.evaluate), and how today's cases fit them. -----------

scenario_evaluation = cached(redesign.evaluate)
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


conformance_of_bpmn = cached(conformance.bpmn_fit)


# --- Knowledge base (saved findings). --------------------------------------------------------------------
# Lists are cheap and read fresh on every run (another session may have written); the pattern matching
# reads whole logs, so it is cached on the findings' fingerprint.


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
    return _kb_matches(data_version(), _db(), log_id, fingerprint)


# --- The report (HTML + Excel), cached on everything it shows. -------------------------------------------
# Findings are passed by id and the comparison as JSON text, so the cache key stays small and hashable.

report_files = cached(report.report_for)
