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

import contextlib
import io
import math
import statistics
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import metrics
from analysis.importer import ImportOptions, import_file
from analysis.store import connect

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
if not DATA.is_dir():
    pytest.skip(f"real logs not found in {DATA}", allow_module_level=True)

CASE, ACT, TS = "case:concept:name", "concept:name", "time:timestamp"
SURROGATE = "canonical_order"
END = "end_timestamp"
REL = 1e-6
DAY = 86400.0
PRODUCTION_COLUMNS = {"activity": "concept:name", "resource": "org:resource"}
ARTIFICIAL = ("Start", "End")


@dataclass(frozen=True)
class Log:
    """One import of a real log, how to build pm4py's frame for it, and the README's figures."""

    file: str
    options: ImportOptions
    case: str = CASE
    activity: str = ACT
    timestamp: str = TS
    start: str | None = None          # the file's start column, if it has one
    use_start: bool = False           # whether this import uses it
    ts_format: str | None = None      # None: XES, read by pm4py.read_xes
    sep: str = ","
    exclude: tuple[str, ...] = ()
    readme: dict = field(default_factory=dict)   # cases/events/activities/variants (ints)
    days: tuple[str, str] | None = None          # README's mean/median case duration, as printed


PROD_FMT = "%Y-%m-%d %H:%M:%S%z"
LOGS: dict[str, Log] = {
    "receipt_csv": Log(
        "receipt.csv", ImportOptions(), ts_format="%Y-%m-%d %H:%M:%S.%f%z",
        readme={"cases": 1434, "events": 8577, "activities": 27, "variants": 116}, days=("5.41", "0.033")),
    "receipt_xes": Log(
        "receipt.xes.gz", ImportOptions(),
        readme={"cases": 1434, "events": 8577, "activities": 27, "variants": 116}, days=("5.41", "0.033")),
    "helpdesk": Log(
        "helpdesk.xes.gz", ImportOptions(),
        readme={"cases": 4580, "events": 21348, "activities": 14, "variants": 226}, days=("40.86", "39.86")),
    "sepsis": Log(
        "sepsis.csv", ImportOptions(), case="Case ID", activity="Activity", timestamp="Complete Timestamp",
        ts_format="%Y/%m/%d %H:%M:%S.%f", sep=";",
        readme={"cases": 1050, "events": 15214, "activities": 16, "variants": 846}, days=("28.47", "5.34")),
    "bpic2013": Log(
        "bpic2013_incidents.xes.gz", ImportOptions(),
        readme={"cases": 7554, "events": 65533, "activities": 4, "variants": 1511}, days=("12.08", "7.55")),
    # Production on complete timestamps only (start column switched off), with and without Disco's rows.
    "production_complete": Log(
        "production.csv", ImportOptions(columns={**PRODUCTION_COLUMNS, "start": ""}), start="start_timestamp",
        ts_format=PROD_FMT,
        # 225 artificial Start + 225 End rows (README's "449" is one short) and 2 extra activities.
        readme={"cases": 225, "events": 4503 + 2 * 225, "activities": 24 + 2, "variants": 217}),
    "production_complete_excl": Log(
        "production.csv", ImportOptions(columns={**PRODUCTION_COLUMNS, "start": ""}, exclude_activities=ARTIFICIAL),
        start="start_timestamp", ts_format=PROD_FMT, exclude=ARTIFICIAL,
        readme={"cases": 225, "events": 4503, "activities": 24, "variants": 217}, days=("20.47", "13.64")),
    "bpic2017w_complete": Log(
        "bpic2017_w.csv.gz", ImportOptions(columns={"start": ""}), case="case_id", activity="activity",
        timestamp="end_time", start="start_time", ts_format="%Y-%m-%dT%H:%M:%S",
        readme={"cases": 30276, "events": 240854, "activities": 8, "variants": 6356}),
    # The same logs with their start timestamps.
    "production": Log(
        "production.csv", ImportOptions(columns=PRODUCTION_COLUMNS), start="start_timestamp", use_start=True,
        ts_format=PROD_FMT,
        readme={"cases": 225, "events": 4503 + 2 * 225, "activities": 24 + 2, "variants": 217}),
    "production_excl": Log(
        "production.csv", ImportOptions(columns=PRODUCTION_COLUMNS, exclude_activities=ARTIFICIAL),
        start="start_timestamp", use_start=True, ts_format=PROD_FMT, exclude=ARTIFICIAL,
        readme={"cases": 225, "events": 4503, "activities": 24, "variants": 217}, days=("20.62", "13.90")),
    "bpic2017w": Log(
        "bpic2017_w.csv.gz", ImportOptions(), case="case_id", activity="activity", timestamp="end_time",
        start="start_time", use_start=True, ts_format="%Y-%m-%dT%H:%M:%S",
        readme={"cases": 30276, "events": 240854, "activities": 8, "variants": 6358}, days=("12.66", "9.40")),
}
COMPLETE_ONLY = [k for k, log in LOGS.items() if not log.use_start]
WITH_START = [k for k, log in LOGS.items() if log.use_start]
WITH_README_DAYS = [k for k, log in LOGS.items() if log.days]


def _pm4py():
    """pm4py, imported lazily and without its banner on stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        import pm4py
    return pm4py


class Lab:
    """Each log imported once into one DuckDB file, and each pm4py frame built once (lazily)."""

    def __init__(self, db: Path):
        self.con = connect(db)
        self._ids: dict[str, int] = {}
        self._raw: dict[str, pd.DataFrame] = {}
        self._frames: dict[tuple[str, str], pd.DataFrame] = {}
        self._cache: dict[tuple, object] = {}

    def log_id(self, key: str) -> int:
        if key not in self._ids:
            log = LOGS[key]
            self._ids[key] = import_file(self.con, DATA / log.file, log.options).log_id
        return self._ids[key]

    def cached(self, name: str, key: str, compute):
        if (name, key) not in self._cache:
            self._cache[(name, key)] = compute()
        return self._cache[(name, key)]

    def summary(self, key: str) -> metrics.Summary:
        return self.cached("summary", key, lambda: metrics.summary(self.con, self.log_id(key)))

    def dfg(self, key: str) -> metrics.DFG:
        return self.cached("dfg", key, lambda: metrics.dfg(self.con, self.log_id(key)))

    def variants(self, key: str) -> list[metrics.Variant]:
        return self.cached("variants", key, lambda: metrics.variants(self.con, self.log_id(key)))

    def raw(self, key: str) -> pd.DataFrame:
        """The file as pandas sees it, in file order, with typed case/activity/timestamp(/start) columns.

        Columns: case, activity, ts, start (NaT without a start column), row (0-based file order).
        """
        log = LOGS[key]
        cache_key = (log.file, log.exclude)
        if cache_key not in self._raw:
            if log.ts_format is None:
                with warnings.catch_warnings():  # "install r4pm to import faster"
                    warnings.simplefilter("ignore", UserWarning)
                    df = _pm4py().read_xes(str(DATA / log.file), show_progress_bar=False)
                out = pd.DataFrame({"case": df[CASE].astype(str), "activity": df[ACT].astype(str),
                                    "ts": pd.to_datetime(df[TS], utc=True)})
                out["start"] = pd.NaT
            else:
                df = pd.read_csv(DATA / log.file, sep=log.sep, dtype=str, keep_default_na=False)
                out = pd.DataFrame({"case": df[log.case], "activity": df[log.activity],
                                    "ts": pd.to_datetime(df[log.timestamp], utc=True, format=log.ts_format)})
                out["start"] = (pd.to_datetime(df[log.start], utc=True, format=log.ts_format)
                                if log.start else pd.NaT)
            out["row"] = np.arange(len(out))
            if log.exclude:
                out = out[~out["activity"].isin(log.exclude)]
            self._raw[cache_key] = out.reset_index(drop=True)
        return self._raw[cache_key]

    def frame(self, kind: str, key: str) -> pd.DataFrame:
        """A fresh copy of one of pm4py's frames for the log (pm4py mutates its input, see below).

        complete:  case, activity, timestamp only (no start column), for complete-only comparisons.
        canonical: DESIGN.md's order (start else end, then end, then file row); TS holds a strictly
                   increasing surrogate that makes pm4py keep this order, END the real end timestamp.
        instants:  one row per instant (each event's start where it has one, and its end).
        """
        if (kind, key) not in self._frames:
            self._frames[(kind, key)] = getattr(self, f"_{kind}_frame")(self.raw(key))
        # get_dfg_graph adds a `start_timestamp` column to the frame it is given, which would change
        # the order and durations of every later pm4py call on the same frame.
        return self._frames[(kind, key)].copy()

    @staticmethod
    def _complete_frame(raw: pd.DataFrame) -> pd.DataFrame:
        df = pd.DataFrame({CASE: raw["case"], ACT: raw["activity"], TS: raw["ts"]})
        return _pm4py().format_dataframe(df, case_id=CASE, activity_key=ACT, timestamp_key=TS)

    @staticmethod
    def _canonical_frame(raw: pd.DataFrame) -> pd.DataFrame:
        df = pd.DataFrame({CASE: raw["case"], ACT: raw["activity"], END: raw["ts"],
                           "order_start": raw["start"].fillna(raw["ts"]), "row": raw["row"]})
        df = df.sort_values([CASE, "order_start", END, "row"], kind="stable").reset_index(drop=True)
        df[SURROGATE] = pd.Timestamp("2000-01-01", tz="UTC") + pd.to_timedelta(np.arange(len(df)), unit="s")
        df = df.drop(columns=["order_start", "row"])
        return _pm4py().format_dataframe(df, case_id=CASE, activity_key=ACT, timestamp_key=SURROGATE)

    @staticmethod
    def _instants_frame(raw: pd.DataFrame) -> pd.DataFrame:
        has_start = raw["start"].notna()
        ends = pd.DataFrame({CASE: raw["case"], ACT: raw["activity"], TS: raw["ts"]})
        starts = pd.DataFrame({CASE: raw["case"][has_start], ACT: raw["activity"][has_start],
                               TS: raw["start"][has_start]})
        df = pd.concat([ends, starts], ignore_index=True)
        return _pm4py().format_dataframe(df, case_id=CASE, activity_key=ACT, timestamp_key=TS)


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    lab = Lab(tmp_path_factory.mktemp("crosscheck") / "store.duckdb")
    yield lab
    lab.con.close()


# --- helpers --------------------------------------------------------------------------------------


def _our_edges(dfg: metrics.DFG, field_name: str) -> dict[tuple[str, str], float]:
    return {(e.source, e.target): getattr(e, field_name) for e in dfg.edges}


def _our_variants(variants: list[metrics.Variant]) -> dict[tuple[str, ...], int]:
    return {tuple(v.activities): v.cases for v in variants}


def _pm4py_case_frequencies(frame: pd.DataFrame, timestamp_key: str) -> dict[tuple[str, str], int]:
    """Number of cases with each edge: pm4py's DFG counted once per case."""
    from pm4py.algo.discovery.dfg.adapters.pandas.df_statistics import get_dfg_graph

    return dict(get_dfg_graph(frame, activity_key=ACT, timestamp_key=timestamp_key, case_id_glue=CASE,
                              keep_once_per_case=True))


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
