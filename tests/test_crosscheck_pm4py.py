"""Cross-check `summary`, `dfg` and `variants` against pm4py 2.7 on every real log in ../shared/data.

pm4py's input is built independently of our importer: pandas reads each CSV as text
(`keep_default_na=False`, so Sepsis' case `NA` survives), timestamps are parsed with an explicit
format and `utc=True` (receipt mixes +01:00/+02:00), and `pm4py.format_dataframe` sorts stably by
case, timestamp, original row -- DESIGN.md's tie rule for complete-only logs. XES goes through
`pm4py.read_xes` and the same `format_dataframe` (read_xes keeps document order, and pm4py's
variant and start/end statistics use the frame order as is).

pm4py quirks this file works around (pm4py 2.7.23.11):
- A frame with a column named `start_timestamp` changes pm4py's DFG silently: `get_dfg_graph` sorts by
  it and the performance DFG measures start(b) - complete(a) instead of complete(b) - complete(a).
  The complete-only frames therefore carry only case, activity and timestamp.
- `get_all_case_durations` cannot use start timestamps on a DataFrame: `format_dataframe` copies any
  start column to `start_timestamp` and records it, and the duration code then raises
  KeyError('start_timestamp') whatever the original column was called. For start logs the case
  duration goes through a frame with one row per instant (each event's start and end): pm4py's
  first-to-last duration over it is min(start) -> max(end), DESIGN.md's cycle time.
- `get_dfg_graph` (behind discover_dfg) adds that `start_timestamp` column to the frame it is given,
  so every pm4py call here gets a fresh copy of the frame.
- `get_variants` and the start/end activities take rows in frame order (no sort), so XES frames from
  `read_xes` (document order) go through `format_dataframe` too.
- pm4py orders events by complete timestamp; our order is by start. For start logs the DFG and
  variants are compared with pm4py run on a frame pre-sorted in our canonical order, with a
  monotonic surrogate timestamp as pm4py's ordering key.

Expected values come from pm4py and from the published figures in ../shared/data/README.md, never
from our own output. (README says production has 449 artificial Start/End rows; the file has 225 of
each, 450, which pandas confirms below.)
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from analysis import metrics
from tests.pm4py_logs import (
    ACT,
    CASE,
    COMPLETE_ONLY,
    DATA,
    END,
    LOGS,
    TS,
    WITH_README_DAYS,
    WITH_START,
    Lab,
    _our_edges,
    _our_variants,
    _pm4py,
    _pm4py_case_frequencies,
)

pytestmark = pytest.mark.slow

if not DATA.is_dir():
    pytest.skip(f"real logs not found in {DATA}", allow_module_level=True)

REL = 1e-6
DAY = 86400.0


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    lab = Lab(tmp_path_factory.mktemp("crosscheck") / "store.duckdb")
    yield lab
    lab.con.close()


# --- helpers --------------------------------------------------------------------------------------


def _assert_close(ours: dict, theirs: dict, what: str) -> None:
    assert ours.keys() == theirs.keys(), f"{what}: edge sets differ"
    bad = {k: (ours[k], theirs[k]) for k in theirs
           if not math.isclose(ours[k], theirs[k], rel_tol=REL, abs_tol=1e-9)}
    assert not bad, f"{what} (ours, pm4py) differ on {len(bad)} edges, e.g. {list(bad.items())[:5]}"


def _assert_durations(summary: metrics.Summary, durations: list[float]) -> None:
    ours = summary.cycle_time_seconds
    assert len(durations) == summary.cases
    assert math.isclose(ours["mean"], statistics.fmean(durations), rel_tol=REL)
    assert math.isclose(ours["median"], statistics.median(durations), rel_tol=REL)
    assert math.isclose(ours["p90"], float(np.quantile(durations, 0.9)), rel_tol=REL)


# --- counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(LOGS))
def test_counts_equal_readme_and_pandas(lab, key):
    log, s = LOGS[key], lab.summary(key)
    raw = lab.raw(key)
    theirs = {"cases": raw["case"].nunique(), "events": len(raw), "activities": raw["activity"].nunique()}
    assert {k: getattr(s, k) for k in theirs} == theirs
    assert {k: getattr(s, k) for k in log.readme} == log.readme
    assert len(lab.variants(key)) == s.variants


def test_sepsis_case_na_is_a_case(lab):
    frame = lab.frame("complete", "sepsis")
    variants = _pm4py().get_variants(frame)
    assert "NA" in set(frame[CASE])
    assert sum(variants.values()) == lab.summary("sepsis").cases == 1050


# --- complete-only logs: exactly pm4py ------------------------------------------------------------


@pytest.mark.parametrize("key", COMPLETE_ONLY)
def test_dfg_frequencies_equal_pm4py(lab, key):
    frequencies, _, _ = _pm4py().discover_dfg(lab.frame("complete", key))
    assert _our_edges(lab.dfg(key), "frequency") == dict(frequencies)


@pytest.mark.parametrize("key", COMPLETE_ONLY)
def test_dfg_case_frequencies_equal_pm4py(lab, key):
    assert _our_edges(lab.dfg(key), "cases") == _pm4py_case_frequencies(lab.frame("complete", key), TS)


@pytest.mark.parametrize("key", COMPLETE_ONLY)
def test_start_and_end_activities_equal_pm4py(lab, key):
    _, starts, ends = _pm4py().discover_dfg(lab.frame("complete", key))
    ours = lab.dfg(key)
    assert ours.start_activities == dict(starts)
    assert ours.end_activities == dict(ends)


@pytest.mark.parametrize("key", COMPLETE_ONLY)
def test_dfg_mean_and_median_durations_equal_pm4py(lab, key):
    performance, _, _ = _pm4py().discover_performance_dfg(lab.frame("complete", key), perf_aggregation_key="all")
    ours = lab.dfg(key)
    _assert_close(_our_edges(ours, "mean_seconds"), {k: v["mean"] for k, v in performance.items()}, "mean")
    _assert_close(_our_edges(ours, "median_seconds"), {k: v["median"] for k, v in performance.items()}, "median")


@pytest.mark.parametrize("key", COMPLETE_ONLY)
def test_variants_equal_pm4py(lab, key):
    theirs = _pm4py().get_variants(lab.frame("complete", key))
    assert _our_variants(lab.variants(key)) == dict(theirs)


@pytest.mark.parametrize("key", COMPLETE_ONLY)
def test_case_durations_equal_pm4py(lab, key):
    durations = _pm4py().get_all_case_durations(lab.frame("complete", key))
    _assert_durations(lab.summary(key), durations)


def test_receipt_csv_and_xes_give_the_same_numbers(lab):
    csv, xes = lab.summary("receipt_csv").as_dict(), lab.summary("receipt_xes").as_dict()
    assert csv.pop("cycle_time_seconds") == pytest.approx(xes.pop("cycle_time_seconds"), rel=1e-12)
    assert csv == xes
    csv, xes = lab.dfg("receipt_csv"), lab.dfg("receipt_xes")
    assert (csv.start_activities, csv.end_activities) == (xes.start_activities, xes.end_activities)
    for name in ("frequency", "cases"):
        assert _our_edges(csv, name) == _our_edges(xes, name)
    for name in ("mean_seconds", "median_seconds"):
        assert _our_edges(csv, name) == pytest.approx(_our_edges(xes, name), rel=1e-12)
    assert _our_variants(lab.variants("receipt_csv")) == _our_variants(lab.variants("receipt_xes"))


# --- logs with start timestamps: pm4py on our canonical order --------------------------------------


@pytest.mark.parametrize("key", WITH_START)
def test_start_log_case_durations_equal_pm4py_min_start_to_max_end(lab, key):
    durations = _pm4py().get_all_case_durations(lab.frame("instants", key))
    _assert_durations(lab.summary(key), durations)


@pytest.mark.parametrize("key", WITH_START)
def test_start_log_dfg_frequencies_equal_pm4py_in_canonical_order(lab, key):
    frequencies, starts, ends = _pm4py().discover_dfg(lab.frame("canonical", key))
    ours = lab.dfg(key)
    assert _our_edges(ours, "frequency") == dict(frequencies)
    assert ours.start_activities == dict(starts)
    assert ours.end_activities == dict(ends)
    assert _our_edges(ours, "cases") == _pm4py_case_frequencies(lab.frame("canonical", key), TS)


@pytest.mark.parametrize("key", WITH_START)
def test_start_log_dfg_durations_equal_pm4py_in_canonical_order(lab, key):
    """timestamp(b) - timestamp(a) over consecutive events in our order, by pm4py without re-sorting."""
    from pm4py.algo.discovery.dfg.adapters.pandas.df_statistics import get_dfg_graph

    frame = lab.frame("canonical", key)
    assert frame[TS].is_monotonic_increasing  # the frame is in our order; pm4py must not re-sort it
    performance = get_dfg_graph(frame, measure="performance", perf_aggregation_key="all", activity_key=ACT,
                                timestamp_key=END, case_id_glue=CASE, sort_caseid_required=False)
    ours = lab.dfg(key)
    _assert_close(_our_edges(ours, "mean_seconds"), {k: v["mean"] for k, v in performance.items()}, "mean")
    _assert_close(_our_edges(ours, "median_seconds"), {k: v["median"] for k, v in performance.items()}, "median")


@pytest.mark.parametrize("key", WITH_START)
def test_start_log_variants_equal_pm4py_in_canonical_order(lab, key):
    theirs = _pm4py().get_variants(lab.frame("canonical", key))
    assert _our_variants(lab.variants(key)) == dict(theirs)


# --- published figures ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", WITH_README_DAYS)
def test_case_duration_days_equal_readme(lab, key):
    cycle = lab.summary(key).cycle_time_seconds
    mean, median = LOGS[key].days
    decimals = [len(text.split(".")[1]) for text in (mean, median)]
    assert (f"{cycle['mean'] / DAY:.{decimals[0]}f}", f"{cycle['median'] / DAY:.{decimals[1]}f}") == (mean, median)


def test_bpic2013_mean_throughput_is_published_12_1_days(lab):
    assert f"{lab.summary('bpic2013').cycle_time_seconds['mean'] / DAY:.1f}" == "12.1"
