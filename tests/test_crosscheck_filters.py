"""Every kind of CaseFilter against pm4py 2.7's equivalent filter, on the real logs in ../shared/data.

For each check, our filter goes through `metrics.dfg` and `metrics.variants`; pm4py's filter (or its
filters in sequence, for combined conditions) goes over pm4py's own frame of the file, built as in
test_crosscheck_pm4py.py (pandas or `read_xes`, `format_dataframe`'s stable sort by case, timestamp,
file row) plus the attribute and department columns the filters need. Compared: the kept case ids,
DFG frequencies and case frequencies, start and end activities, and variants with their counts.
Every check removes some cases and keeps some (asserted), so a filter that does nothing fails.

Mapping and the pm4py behaviour it relies on (pm4py 2.7.23.11, read in its source):
- time range: `filter_time_range` parses bounds as "%Y-%m-%d %H:%M:%S" and treats them as UTC (our
  store keeps UTC instants, naive for Sepsis, whose naive times pandas also reads as UTC). Modes:
  contained <-> traces_contained (min >= from, max <= to: inclusive like ours); started <->
  traces_starting_in, completed <-> traces_completing_in (inclusive); intersecting <->
  traces_intersecting, which is strict (min < to, max > from) where ours is inclusive, so those
  checks assert no case starts exactly at `to` or ends exactly at `from`. A bare date as our upper
  bound means the whole day: pm4py gets 23:59:59.999999 as a datetime. pm4py needs both bounds; a
  one-sided filter gets a far-away bound there. started/completed are also checked against pandas.
- attributes <-> `filter_trace_attribute_values` (XES trace attributes, which we store without the
  `case:` prefix; receipt.csv's `case:*` columns keep their name) and
  `filter_event_attribute_values(level="case")` for Sepsis, whose case attributes (InfectionSuspected,
  Age) are filled on the ER Registration row only, i.e. constant per case where present.
- activities_present / absent <-> `filter_event_attribute_values(concept:name, level="case",
  retain=True / False)`; departments <-> the same on the department column (org:group; helpdesk's
  `workgroup`, which our mapping picks as its department).
- variants <-> `filter_variants`; variants_top <-> `filter_variants_top_k`, which breaks ties in case
  counts by the variant tuple (descending) where we use the variant id, so each check asserts that
  the k-th and (k+1)-th variants differ in count.
- start / end activities <-> `filter_start_activities` / `filter_end_activities` (first / last row
  of the case in frame order).
- directly_follows <-> `filter_directly_follows_relation` (consecutive rows after a stable sort by
  case and timestamp: tied events keep file order, DESIGN.md's tie rule); eventually_follows <->
  `filter_eventually_follows_relation`, which compares row positions, not timestamps (an a-row
  before a b-row of the case; (a, a) needs two a's), as ours compares positions in event order.
  The Sepsis checks include tied pairs (Leucocytes/CRP share timestamps in many cases).
- cycle_min/max_seconds <-> `filter_case_performance(min, max)`, inclusive on both ends; one check
  puts both bounds on exact case durations.
- Combined conditions <-> pm4py's filters in sequence, top-k last (ours ranks the variants of the
  cases the other conditions keep).
- Compare's cohorts (filters.AllOf: the global filter AND a split) <-> pm4py's filters in sequence:
  an attribute split, a start-date split (traces_starting_in up to the day before / from the day) and a
  speed split (filter_case_performance at our percentiles, which must equal numpy's of pm4py's case
  durations); each cohort's cases, events per case, variants, median / p90 / mean cycle time and
  rework share equal pm4py's and pandas' on the filtered frame.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import pytest

from analysis import compare, metrics
from analysis.filters import ALL, CaseFilter, case_ids
from tests.pm4py_logs import (
    ACT,
    CASE,
    DATA,
    LOGS,
    TS,
    Lab,
    _our_edges,
    _our_variants,
    _pm4py,
    _pm4py_case_frequencies,
)

pytestmark = pytest.mark.slow

if not DATA.is_dir():
    pytest.skip(f"real logs not found in {DATA}", allow_module_level=True)

# Extra source columns each log's pm4py frame carries (department first).
EXTRA_COLUMNS = {
    "receipt_csv": ("org:group", "case:channel", "case:department"),
    "receipt_xes": ("org:group", "case:channel", "case:department"),
    "helpdesk": ("workgroup",),
    "sepsis": ("org:group", "InfectionSuspected", "Age"),
    "bpic2013": ("org:group",),
}
EARLY, LATE = "1970-01-01 00:00:00", "2100-01-01 00:00:00"   # pm4py's bound where ours has none
UTC = dt.UTC


class FilterLab(Lab):
    """Lab with pm4py frames that keep the attribute and department columns."""

    def __init__(self, db):
        super().__init__(db)
        self._full: dict[str, pd.DataFrame] = {}

    def full(self, key: str) -> pd.DataFrame:
        """A fresh copy of pm4py's frame: case, activity, timestamp and EXTRA_COLUMNS[key]."""
        if key not in self._full:
            log = LOGS[key]
            if log.ts_format is None:
                with warnings.catch_warnings():  # "install r4pm to import faster"
                    warnings.simplefilter("ignore", UserWarning)
                    src = _pm4py().read_xes(str(DATA / log.file), show_progress_bar=False)
                ts = pd.to_datetime(src[TS], utc=True)
            else:
                src = pd.read_csv(DATA / log.file, sep=log.sep, dtype=str, keep_default_na=False)
                ts = pd.to_datetime(src[log.timestamp], utc=True, format=log.ts_format)
            df = pd.DataFrame({CASE: src[log.case].astype(str), ACT: src[log.activity].astype(str), TS: ts})
            for column in EXTRA_COLUMNS[key]:
                df[column] = src[column]
            self._full[key] = _pm4py().format_dataframe(df, case_id=CASE, activity_key=ACT, timestamp_key=TS)
        return self._full[key].copy()

    def kept(self, key: str, flt: CaseFilter) -> set[str]:
        """Our kept case ids."""
        return {r[0] for r in case_ids(self.log_id(key), flt).rows(self.con)}


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> FilterLab:
    lab = FilterLab(tmp_path_factory.mktemp("crosscheck_filters") / "store.duckdb")
    yield lab
    lab.con.close()


# --- checks ---------------------------------------------------------------------------------------


def pm(name: str, *args, **kwargs) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """One pm4py filter call (pm4py.<name>(frame, *args, **kwargs)) as a step."""

    def step(frame: pd.DataFrame) -> pd.DataFrame:
        if name in ("filter_variants", "filter_variants_top_k"):
            # pm4py's variant filters fail on format_dataframe's pyarrow `string` activity column
            # under pandas 3 (ArrowNotImplementedError: no `is_in` kernel for list<string>).
            frame = frame.astype({ACT: object})
        return getattr(_pm4py(), name)(frame, *args, **kwargs)

    step.__name__ = name
    step.args = args  # type: ignore[attr-defined]
    return step


def present(activities, retain=True):
    return pm("filter_event_attribute_values", ACT, list(activities), level="case", retain=retain)


def in_column(column, values):
    return pm("filter_event_attribute_values", column, list(values), level="case", retain=True)


@dataclass(frozen=True)
class Check:
    """Our filter on a log, and pm4py's equivalent: its filters applied in this order."""

    key: str
    flt: CaseFilter
    steps: tuple

    def __str__(self) -> str:
        kinds = [f"time_{self.flt.time_mode}" if k == "time" else k for k in self.flt.active()]
        return f"{self.key}-{'+'.join(kinds)}"


def checks(*items: Check):
    return pytest.mark.parametrize("check", items, ids=[f"{c}-{i}" for i, c in enumerate(items)])


def _time(key, lo, hi, mode, pm_mode, pm_lo=None, pm_hi=None):
    return Check(key, CaseFilter(time_from=lo, time_to=hi, time_mode=mode),
                 (pm("filter_time_range", pm_lo or lo or EARLY, pm_hi or hi or LATE, mode=pm_mode),))


def _assert_equal_to_pm4py(lab: FilterLab, check: Check) -> None:
    """Kept cases, DFG (frequencies, case frequencies, start/end activities) and variants equal pm4py's."""
    pm4py = _pm4py()
    frame = lab.full(check.key)
    n_cases = frame[CASE].nunique()
    for i, step in enumerate(check.steps):
        if step.__name__ == "filter_variants_top_k":
            # pm4py breaks count ties by the variant tuple, we by variant id: no tie at the boundary.
            assert i == len(check.steps) - 1, "top-k comes last"
            k = step.args[0]
            counts = sorted(pm4py.get_variants(frame.copy()).values(), reverse=True)
            assert len(counts) > k and counts[k - 1] > counts[k], f"tie at the top-{k} boundary: {counts[:k + 2]}"
        frame = step(frame)
    theirs_ids = set(frame[CASE].unique())
    assert 0 < len(theirs_ids) < n_cases, f"the check should keep some cases and drop some: {len(theirs_ids)}"
    ours_ids = lab.kept(check.key, check.flt)
    assert len(ours_ids) == len(theirs_ids)
    assert ours_ids == theirs_ids, (f"only ours: {sorted(ours_ids - theirs_ids)[:5]}, "
                                    f"only pm4py: {sorted(theirs_ids - ours_ids)[:5]}")

    con, log_id = lab.con, lab.log_id(check.key)
    ours = metrics.dfg(con, log_id, check.flt)
    frequencies, starts, ends = pm4py.discover_dfg(frame.copy())
    assert _our_edges(ours, "frequency") == dict(frequencies)
    assert _our_edges(ours, "cases") == _pm4py_case_frequencies(frame.copy(), TS)
    assert ours.start_activities == dict(starts)
    assert ours.end_activities == dict(ends)
    assert _our_variants(metrics.variants(con, log_id, flt=check.flt)) == dict(pm4py.get_variants(frame.copy()))


def _case_bounds(lab: FilterLab, key: str) -> pd.DataFrame:
    return lab.full(key).groupby(CASE)[TS].agg(["min", "max"])


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# --- time range -----------------------------------------------------------------------------------

TIME_CHECKS = (
    _time("receipt_xes", "2011-01-01 00:00:00", "2011-06-30 23:59:59", "contained", "traces_contained"),
    _time("receipt_xes", "2011-01-01 00:00:00", "2011-06-30 23:59:59", "intersecting", "traces_intersecting"),
    _time("receipt_csv", "2011-03-01 12:00:00", "2011-09-01 00:00:00", "started", "traces_starting_in"),
    _time("receipt_csv", "2011-03-01 12:00:00", "2011-09-01 00:00:00", "completed", "traces_completing_in"),
    # A bare date as the upper bound: the whole day.
    _time("receipt_xes", "2011-01-01 00:00:00", "2011-06-30", "contained", "traces_contained",
          pm_hi=dt.datetime(2011, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)),
    _time("sepsis", "2014-03-01 00:00:00", "2014-09-30 12:00:00", "contained", "traces_contained"),
    _time("sepsis", "2014-03-01 00:00:00", "2014-09-30 12:00:00", "intersecting", "traces_intersecting"),
    _time("sepsis", "2014-03-01 00:00:00", None, "started", "traces_starting_in"),
    _time("sepsis", None, "2014-09-30 12:00:00", "completed", "traces_completing_in"),
    _time("helpdesk", "2011-06-01 00:00:00", "2012-06-01 00:00:00", "contained", "traces_contained"),
    _time("helpdesk", "2011-06-01 00:00:00", "2012-06-01 00:00:00", "intersecting", "traces_intersecting"),
    _time("helpdesk", "2011-06-01 00:00:00", "2012-06-01 00:00:00", "started", "traces_starting_in"),
    _time("bpic2013", "2012-05-01 00:00:00", "2012-05-10 00:00:00", "contained", "traces_contained"),
    _time("bpic2013", "2012-05-01 00:00:00", "2012-05-10 00:00:00", "completed", "traces_completing_in"),
)


@checks(*TIME_CHECKS)
def test_time_range_equals_pm4py(lab, check):
    if check.flt.time_mode == "intersecting":
        # pm4py's intersecting mode is strict at both ends, ours inclusive: no case may sit on a bound.
        bounds = _case_bounds(lab, check.key)
        assert not (bounds["min"] == _utc(check.flt.time_to)).any()
        assert not (bounds["max"] == _utc(check.flt.time_from)).any()
    _assert_equal_to_pm4py(lab, check)


@checks(*(c for c in TIME_CHECKS if c.flt.time_mode in ("started", "completed")))
def test_started_and_completed_equal_pandas(lab, check):
    """First (started) or last (completed) timestamp of the case within the inclusive bounds, by pandas."""
    bounds = _case_bounds(lab, check.key)
    at = bounds["min" if check.flt.time_mode == "started" else "max"]
    lo = _utc(check.flt.time_from or EARLY)
    hi = _utc(check.flt.time_to or LATE)
    expected = set(bounds.index[(at >= lo) & (at <= hi)])
    assert 0 < len(expected) < len(bounds)
    assert lab.kept(check.key, check.flt) == expected


# --- attributes, activities, departments ----------------------------------------------------------


@checks(
    Check("receipt_xes", CaseFilter(attributes=(("channel", ("Desk", "Post")),)),
          (pm("filter_trace_attribute_values", "case:channel", ["Desk", "Post"]),)),
    Check("receipt_xes", CaseFilter(attributes=(("channel", ("Internet",)), ("department", ("General",)))),
          (pm("filter_trace_attribute_values", "case:channel", ["Internet"]),
           pm("filter_trace_attribute_values", "case:department", ["General"]))),
    Check("receipt_csv", CaseFilter(attributes=(("case:department", ("Customer contact", "Experts")),)),
          (pm("filter_trace_attribute_values", "case:department", ["Customer contact", "Experts"]),)),
    Check("sepsis", CaseFilter(attributes=(("InfectionSuspected", ("false",)),)),
          (in_column("InfectionSuspected", ["false"]),)),
    Check("sepsis", CaseFilter(attributes=(("Age", ("85", "90")), ("InfectionSuspected", ("true",)))),
          (in_column("Age", ["85", "90"]), in_column("InfectionSuspected", ["true"]))),
)
def test_attributes_equal_pm4py(lab, check):
    _assert_equal_to_pm4py(lab, check)


@checks(
    Check("receipt_xes", CaseFilter(activities_present=("T03 Adjust confirmation of receipt",
                                                        "T11 Create document X request unlicensed")),
          (present(["T03 Adjust confirmation of receipt", "T11 Create document X request unlicensed"]),)),
    Check("receipt_csv", CaseFilter(activities_absent=("T02 Check confirmation of receipt",)),
          (present(["T02 Check confirmation of receipt"], retain=False),)),
    Check("sepsis", CaseFilter(activities_present=("Admission IC",)), (present(["Admission IC"]),)),
    Check("sepsis", CaseFilter(activities_absent=("Return ER", "Admission IC")),
          (present(["Return ER", "Admission IC"], retain=False),)),
    Check("helpdesk", CaseFilter(activities_present=("Wait",)), (present(["Wait"]),)),
    Check("helpdesk", CaseFilter(activities_absent=("Wait",)), (present(["Wait"], retain=False),)),
    Check("bpic2013", CaseFilter(activities_present=("Queued",), activities_absent=("Unmatched",)),
          (present(["Queued"]), present(["Unmatched"], retain=False))),
)
def test_activities_present_and_absent_equal_pm4py(lab, check):
    _assert_equal_to_pm4py(lab, check)


@checks(
    Check("receipt_xes", CaseFilter(departments=("Group 4",)), (in_column("org:group", ["Group 4"]),)),
    Check("receipt_csv", CaseFilter(departments=("Group 13", "Group 14", "Group 15")),
          (in_column("org:group", ["Group 13", "Group 14", "Group 15"]),)),
    Check("sepsis", CaseFilter(departments=("E", "F")), (in_column("org:group", ["E", "F"]),)),
    Check("helpdesk", CaseFilter(departments=("Value 2", "Value 3")),
          (in_column("workgroup", ["Value 2", "Value 3"]),)),
    Check("bpic2013", CaseFilter(departments=("G96",)), (in_column("org:group", ["G96"]),)),
)
def test_departments_equal_pm4py(lab, check):
    _assert_equal_to_pm4py(lab, check)


# --- variants -------------------------------------------------------------------------------------

RECEIPT_2ND = ("Confirmation of receipt", "T06 Determine necessity of stop advice",
               "T10 Determine necessity to stop indication", "T02 Check confirmation of receipt",
               "T04 Determine confirmation of receipt", "T05 Print and send confirmation of receipt")
SEPSIS_LEUCO_CRP = ("ER Registration", "ER Triage", "ER Sepsis Triage", "Leucocytes", "CRP")
SEPSIS_CRP_LEUCO = ("ER Registration", "ER Triage", "ER Sepsis Triage", "CRP", "Leucocytes")
HELPDESK_WAIT = ("Assign seriousness", "Take in charge ticket", "Wait", "Resolve ticket", "Closed")
BPIC_QUEUED = ("Queued", "Accepted", "Completed", "Completed")


@checks(
    Check("receipt_xes", CaseFilter(variants_top=3), (pm("filter_variants_top_k", 3),)),
    Check("receipt_csv", CaseFilter(variants_top=5), (pm("filter_variants_top_k", 5),)),
    Check("sepsis", CaseFilter(variants_top=4), (pm("filter_variants_top_k", 4),)),
    Check("sepsis", CaseFilter(variants_top=7), (pm("filter_variants_top_k", 7),)),
    Check("helpdesk", CaseFilter(variants_top=2), (pm("filter_variants_top_k", 2),)),
    Check("bpic2013", CaseFilter(variants_top=3), (pm("filter_variants_top_k", 3),)),
)
def test_variants_top_k_equals_pm4py(lab, check):
    _assert_equal_to_pm4py(lab, check)


@checks(
    Check("receipt_xes", CaseFilter(variants=(RECEIPT_2ND, ("Confirmation of receipt",))),
          (pm("filter_variants", [RECEIPT_2ND, ("Confirmation of receipt",)]),)),
    # Two variants that differ only in the order of tied events (same timestamp, file order decides).
    Check("sepsis", CaseFilter(variants=(SEPSIS_LEUCO_CRP,)), (pm("filter_variants", [SEPSIS_LEUCO_CRP]),)),
    Check("sepsis", CaseFilter(variants=(SEPSIS_LEUCO_CRP, SEPSIS_CRP_LEUCO)),
          (pm("filter_variants", [SEPSIS_LEUCO_CRP, SEPSIS_CRP_LEUCO]),)),
    Check("helpdesk", CaseFilter(variants=(HELPDESK_WAIT,)), (pm("filter_variants", [HELPDESK_WAIT]),)),
    Check("bpic2013", CaseFilter(variants=(BPIC_QUEUED,)), (pm("filter_variants", [BPIC_QUEUED]),)),
)
def test_chosen_variants_equal_pm4py(lab, check):
    _assert_equal_to_pm4py(lab, check)


# --- start / end activities, directly / eventually follows ----------------------------------------


@checks(
    Check("sepsis", CaseFilter(start_activities=("ER Registration",)),
          (pm("filter_start_activities", ["ER Registration"]),)),
    Check("sepsis", CaseFilter(start_activities=("Leucocytes", "CRP", "IV Liquid")),
          (pm("filter_start_activities", ["Leucocytes", "CRP", "IV Liquid"]),)),
    Check("helpdesk", CaseFilter(start_activities=("Insert ticket", "Take in charge ticket")),
          (pm("filter_start_activities", ["Insert ticket", "Take in charge ticket"]),)),
    Check("bpic2013", CaseFilter(start_activities=("Queued",)), (pm("filter_start_activities", ["Queued"]),)),
)
def test_start_activities_equal_pm4py(lab, check):
    _assert_equal_to_pm4py(lab, check)


@checks(
    Check("receipt_xes", CaseFilter(end_activities=("T05 Print and send confirmation of receipt",
                                                    "Confirmation of receipt")),
          (pm("filter_end_activities", ["T05 Print and send confirmation of receipt", "Confirmation of receipt"]),)),
    Check("sepsis", CaseFilter(end_activities=("Release A",)), (pm("filter_end_activities", ["Release A"]),)),
    Check("helpdesk", CaseFilter(end_activities=("Closed",)), (pm("filter_end_activities", ["Closed"]),)),
    Check("bpic2013", CaseFilter(end_activities=("Accepted",)), (pm("filter_end_activities", ["Accepted"]),)),
)
def test_end_activities_equal_pm4py(lab, check):
    _assert_equal_to_pm4py(lab, check)


@checks(
    Check("receipt_xes", CaseFilter(directly_follows=(("T02 Check confirmation of receipt",
                                                       "T04 Determine confirmation of receipt"),)),
          (pm("filter_directly_follows_relation",
              [("T02 Check confirmation of receipt", "T04 Determine confirmation of receipt")]),)),
    Check("sepsis", CaseFilter(directly_follows=(("ER Triage", "ER Sepsis Triage"),)),
          (pm("filter_directly_follows_relation", [("ER Triage", "ER Sepsis Triage")]),)),
    # Leucocytes and CRP are often taken at the same instant: the file order decides the pair.
    Check("sepsis", CaseFilter(directly_follows=(("Leucocytes", "CRP"), ("LacticAcid", "Leucocytes"))),
          (pm("filter_directly_follows_relation", [("Leucocytes", "CRP"), ("LacticAcid", "Leucocytes")]),)),
    Check("helpdesk", CaseFilter(directly_follows=(("Take in charge ticket", "Wait"),)),
          (pm("filter_directly_follows_relation", [("Take in charge ticket", "Wait")]),)),
    Check("bpic2013", CaseFilter(directly_follows=(("Accepted", "Queued"), ("Completed", "Accepted"))),
          (pm("filter_directly_follows_relation", [("Accepted", "Queued"), ("Completed", "Accepted")]),)),
)
def test_directly_follows_equals_pm4py(lab, check):
    _assert_equal_to_pm4py(lab, check)


@checks(
    Check("receipt_xes", CaseFilter(eventually_follows=(("T06 Determine necessity of stop advice",
                                                         "T04 Determine confirmation of receipt"),)),
          (pm("filter_eventually_follows_relation",
              [("T06 Determine necessity of stop advice", "T04 Determine confirmation of receipt")]),)),
    Check("sepsis", CaseFilter(eventually_follows=(("IV Antibiotics", "Admission NC"),)),
          (pm("filter_eventually_follows_relation", [("IV Antibiotics", "Admission NC")]),)),
    # Against the usual flow, with ties, and a pair of the same activity (admitted twice).
    Check("sepsis", CaseFilter(eventually_follows=(("CRP", "Leucocytes"), ("Admission NC", "Admission NC"))),
          (pm("filter_eventually_follows_relation", [("CRP", "Leucocytes"), ("Admission NC", "Admission NC")]),)),
    Check("helpdesk", CaseFilter(eventually_follows=(("Wait", "Take in charge ticket"),)),
          (pm("filter_eventually_follows_relation", [("Wait", "Take in charge ticket")]),)),
    Check("bpic2013", CaseFilter(eventually_follows=(("Completed", "Accepted"), ("Queued", "Queued"))),
          (pm("filter_eventually_follows_relation", [("Completed", "Accepted"), ("Queued", "Queued")]),)),
)
def test_eventually_follows_equals_pm4py(lab, check):
    _assert_equal_to_pm4py(lab, check)


# --- cycle time -----------------------------------------------------------------------------------

HOUR, DAY = 3600.0, 86400.0
HELPDESK_EXACT = (2865047.0, 3883945.0)   # durations of one helpdesk case each: inclusive bounds


@checks(
    Check("receipt_xes", CaseFilter(cycle_min_seconds=HOUR), (pm("filter_case_performance", HOUR, float("inf")),)),
    Check("receipt_csv", CaseFilter(cycle_max_seconds=DAY), (pm("filter_case_performance", 0, DAY),)),
    Check("sepsis", CaseFilter(cycle_min_seconds=DAY, cycle_max_seconds=30 * DAY),
          (pm("filter_case_performance", DAY, 30 * DAY),)),
    Check("helpdesk", CaseFilter(cycle_min_seconds=HELPDESK_EXACT[0], cycle_max_seconds=HELPDESK_EXACT[1]),
          (pm("filter_case_performance", *HELPDESK_EXACT),)),
    Check("bpic2013", CaseFilter(cycle_max_seconds=HOUR), (pm("filter_case_performance", 0, HOUR),)),
)
def test_cycle_time_equals_pm4py(lab, check):
    if check.key == "helpdesk":
        bounds = _case_bounds(lab, check.key)
        durations = set((bounds["max"] - bounds["min"]).dt.total_seconds())
        assert set(HELPDESK_EXACT) <= durations  # the bounds sit on real cases, which must be kept
    _assert_equal_to_pm4py(lab, check)


# --- combined -------------------------------------------------------------------------------------

COMBINED_CHECKS = (
    Check("sepsis", CaseFilter(time_from="2014-01-01 00:00:00", time_to="2014-12-31 23:59:59",
                               time_mode="contained", activities_present=("IV Antibiotics",), variants_top=3),
          (pm("filter_time_range", "2014-01-01 00:00:00", "2014-12-31 23:59:59", mode="traces_contained"),
           present(["IV Antibiotics"]), pm("filter_variants_top_k", 3))),
    Check("sepsis", CaseFilter(start_activities=("ER Registration",), end_activities=("Release A", "Return ER"),
                               departments=("E",)),
          (pm("filter_start_activities", ["ER Registration"]),
           pm("filter_end_activities", ["Release A", "Return ER"]), in_column("org:group", ["E"]))),
    Check("helpdesk", CaseFilter(departments=("Value 2",), cycle_max_seconds=45 * DAY, variants_top=3),
          (in_column("workgroup", ["Value 2"]), pm("filter_case_performance", 0, 45 * DAY),
           pm("filter_variants_top_k", 3))),
    Check("receipt_xes", CaseFilter(attributes=(("channel", ("Internet",)),),
                                    end_activities=("T10 Determine necessity to stop indication",),
                                    directly_follows=(("T02 Check confirmation of receipt",
                                                       "T06 Determine necessity of stop advice"),)),
          (pm("filter_trace_attribute_values", "case:channel", ["Internet"]),
           pm("filter_end_activities", ["T10 Determine necessity to stop indication"]),
           pm("filter_directly_follows_relation",
              [("T02 Check confirmation of receipt", "T06 Determine necessity of stop advice")]))),
    Check("bpic2013", CaseFilter(start_activities=("Accepted",), eventually_follows=(("Accepted", "Queued"),),
                                 cycle_min_seconds=DAY, variants_top=2),
          (pm("filter_start_activities", ["Accepted"]),
           pm("filter_eventually_follows_relation", [("Accepted", "Queued")]),
           pm("filter_case_performance", DAY, float("inf")), pm("filter_variants_top_k", 2))),
    Check("receipt_csv", CaseFilter(time_from="2011-01-01 00:00:00", time_mode="started",
                                    variants=(RECEIPT_2ND, ("Confirmation of receipt",)),
                                    activities_absent=("T10 Determine necessity to stop indication",)),
          (pm("filter_time_range", "2011-01-01 00:00:00", LATE, mode="traces_starting_in"),
           pm("filter_variants", [RECEIPT_2ND, ("Confirmation of receipt",)]),
           present(["T10 Determine necessity to stop indication"], retain=False))),
)


@checks(*COMBINED_CHECKS)
def test_combined_filters_equal_pm4py_in_sequence(lab, check):
    assert len(check.flt.active()) >= 2
    _assert_equal_to_pm4py(lab, check)


@checks(*(c for c in COMBINED_CHECKS if c.flt.variants_top))
def test_combined_checks_tell_top_k_last_from_top_k_first(lab, check):
    """pm4py's filters with top-k moved first keep other cases: these checks would catch the wrong order."""
    frame = check.steps[-1](lab.full(check.key))
    for step in check.steps[:-1]:
        frame = step(frame)
    assert set(frame[CASE].unique()) != lab.kept(check.key, check.flt)


def test_every_filter_kind_is_checked():
    """Each CaseFilter field and each time mode appears in some check of this module."""
    import sys

    module = sys.modules[__name__]
    all_checks = [c for name in dir(module) for c in _checks_of(getattr(module, name))]
    used = {f.name for c in all_checks for f in fields(CaseFilter) if getattr(c.flt, f.name) != getattr(
        CaseFilter(), f.name)}
    assert used == {f.name for f in fields(CaseFilter)}
    assert {c.flt.time_mode for c in all_checks if c.flt.time_from or c.flt.time_to} == {
        "started", "completed", "intersecting", "contained"}
    per_log = {f.name: {c.key for c in all_checks if getattr(c.flt, f.name) != getattr(CaseFilter(), f.name)}
               for f in fields(CaseFilter) if f.name != "time_mode"}
    assert all(len(keys) >= 2 for keys in per_log.values()), per_log


def _checks_of(obj) -> list[Check]:
    """The Check values a test function is parametrised with, or a tuple of Checks."""
    if isinstance(obj, tuple) and obj and all(isinstance(c, Check) for c in obj):
        return list(obj)
    return [c for mark in getattr(obj, "pytestmark", []) if mark.name == "parametrize"
            for c in mark.args[1] if isinstance(c, Check)]


# --- cohorts (Compare page): the global filter AND a split equal pm4py's filters in sequence --------


def _cohort_case(lab: FilterLab, case: str):
    """(log key, cohorts, pm4py steps for A, pm4py steps for B) of one cohort check."""
    if case == "receipt-channel":
        cohorts = compare.by_attribute(ALL, "channel", ["Desk", "Post"], ["Internet"])
        return ("receipt_xes", cohorts, (pm("filter_trace_attribute_values", "case:channel", ["Desk", "Post"]),),
                (pm("filter_trace_attribute_values", "case:channel", ["Internet"]),))
    if case == "helpdesk-period":
        base = CaseFilter(departments=("Value 2",))
        cohorts = compare.by_period(base, "2012-01-01")
        before = dt.datetime(2011, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
        return ("helpdesk", cohorts,
                (in_column("workgroup", ["Value 2"]), pm("filter_time_range", EARLY, before, mode="traces_starting_in")),
                (in_column("workgroup", ["Value 2"]),
                 pm("filter_time_range", "2012-01-01 00:00:00", LATE, mode="traces_starting_in")))
    # sepsis: infection suspected, the fastest 40 % vs the slowest 20 %.
    base = CaseFilter(attributes=(("InfectionSuspected", ("true",)),))
    cohorts = compare.by_speed(lab.con, lab.log_id("sepsis"), base, 40, 80)
    infected = in_column("InfectionSuspected", ["true"])
    durations = _pm4py().get_all_case_durations(infected(lab.full("sepsis")))
    fast, slow = cohorts.param("fast_max_seconds"), cohorts.param("slow_min_seconds")
    assert (fast, slow) == pytest.approx(tuple(np.percentile(durations, [40, 80])), rel=1e-12)
    return ("sepsis", cohorts, (infected, pm("filter_case_performance", 0, fast)),
            (infected, pm("filter_case_performance", slow, float("inf"))))


@pytest.mark.parametrize("case", ["receipt-channel", "helpdesk-period", "sepsis-speed"])
def test_cohorts_equal_pm4py_filters_in_sequence(lab, case):
    key, cohorts, steps_a, steps_b = _cohort_case(lab, case)
    kpis = compare.kpi_table(lab.con, lab.log_id(key), cohorts).set_index("kpi")
    pm4py = _pm4py()
    for which, flt, steps in (("a", cohorts.a, steps_a), ("b", cohorts.b, steps_b)):
        _assert_equal_to_pm4py(lab, Check(key, flt, steps))
        frame = lab.full(key)
        for step in steps:
            frame = step(frame)
        durations = pm4py.get_all_case_durations(frame.copy())
        per_case = frame.groupby(CASE)[ACT].agg(["size", "nunique"])
        expected = {"cases": len(per_case), "events_per_case": per_case["size"].mean(),
                    "variants": len(pm4py.get_variants(frame.copy())),
                    "median_cycle_seconds": float(np.median(durations)),
                    "p90_cycle_seconds": float(np.percentile(durations, 90)),
                    "mean_cycle_seconds": float(np.mean(durations)),
                    "rework_share": float((per_case["size"] > per_case["nunique"]).mean())}
        for kpi, value in expected.items():
            assert kpis.loc[kpi, which] == pytest.approx(value, rel=1e-9), (case, which, kpi)
