"""The real logs in ../shared/data and how to read them into our store and, independently, into pm4py.

Shared by the pm4py cross-checks (test_crosscheck_pm4py.py explains the pm4py quirks the frames work
around); the test modules skip themselves when DATA is missing.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import metrics
from analysis.importer import ImportOptions, import_file
from analysis.store import connect

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

CASE, ACT, TS = "case:concept:name", "concept:name", "time:timestamp"
SURROGATE = "canonical_order"
END = "end_timestamp"
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


def _our_edges(dfg: metrics.DFG, field_name: str) -> dict[tuple[str, str], float]:
    return {(e.source, e.target): getattr(e, field_name) for e in dfg.edges}


def _our_variants(variants: list[metrics.Variant]) -> dict[tuple[str, ...], int]:
    return {tuple(v.activities): v.cases for v in variants}


def _pm4py_case_frequencies(frame: pd.DataFrame, timestamp_key: str) -> dict[tuple[str, str], int]:
    """Number of cases with each edge: pm4py's DFG counted once per case."""
    from pm4py.algo.discovery.dfg.adapters.pandas.df_statistics import get_dfg_graph

    return dict(get_dfg_graph(frame, activity_key=ACT, timestamp_key=timestamp_key, case_id_glue=CASE,
                              keep_once_per_case=True))
