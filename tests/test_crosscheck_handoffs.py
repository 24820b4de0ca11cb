"""Cross-check hand-offs (`analysis.handoffs.handoff_matrix`) against pm4py 2.7.23.11 and pandas on real logs.

DESIGN.md: a hand-off is a pair of consecutive events of a case (canonical order: start else end, then end,
then file row) whose resource (department) differs; events without a value are skipped, so X, (blank), Y
is one hand-off X→Y. Its wait is start(second) − end(first).

pm4py's input is read independently of our importer (pandas reads CSVs as text, XES goes through
`pm4py.read_xes`), sorted stably in the canonical order, and the rows without a value of the unit are
dropped first: that *is* the skip rule, and pm4py cannot take them anyway (see below).

Resource level -- `pm4py.discover_handover_of_work_network(df, beta=0)`:
  pm4py builds the resource sequence of each case in frame order (`groupby(case, sort=False)`, no
  re-sort), and for each consecutive pair (a, b), a = b included, adds the case count to sum[a][b] and to
  one `dividend`; `connections[(a, b)] = sum[a][b] / dividend`. So dividend = number of consecutive pairs
  = Σ_cases (events with a resource − 1), which the test computes from the frame. connections × dividend
  must be integers (within 1e-6), those with a ≠ b equal to our counts, our count / dividend equal to
  pm4py's proportion within 1e-12, and pm4py's self pairs plus our hand-offs add up to the dividend.
  Missing values: pm4py keeps NaN as a resource (and `sorted()` of str and float then raises), '' would
  be a resource named ''; neither is the skip rule, so those rows are dropped from pm4py's frame.

Department level -- `pm4py.discover_network_analysis(out_column=in_column=case id, node columns = the
  department, edge_column = activity, performance=False)`:
  it sorts the frame by `sorting_column` (`sort_values`, not stable), merges every event with the later
  events of its case (`look_forward`), keeps the *first* later one per source event
  (`keep_first_occurrence=True`): each event is linked to the next event of its case -- directly-follows,
  not eventually-follows. It then drops links where either node is NaN (so X, NaN, Y would give no
  X→Y at all, unlike the skip rule: rows without a department are dropped beforehand) and counts links
  per (source node, target node, source activity). The test sums over activities, and sorts by a
  strictly increasing surrogate timestamp in canonical order so pm4py's unstable sort cannot reorder ties.
  The total over all pairs, self pairs included, must equal the number of consecutive pairs: that is what
  shows the linking is directly-follows.

Logs: receipt (CSV; resources and org:group), receipt with blanks (a copy with org:resource blank on
every 5th file row and org:group on every 7th, for the skip rule), helpdesk (XES; resource and
workgroup), sepsis (org:group, which includes the literal '?', a group like any other), BPIC 2013 incidents
(XES; 1,440 resources, 649 groups), production (start timestamps, Disco's Start/End rows excluded) and
BPIC 2017 W (start timestamps, 240,854 events). Waits: production and BPIC 2017 W against pandas.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.handoffs import handoff_matrix
from analysis.importer import ImportOptions, import_file
from analysis.store import connect
from tests.pm4py_logs import ACT, CASE, DATA, TS, _pm4py

pytestmark = pytest.mark.slow

if not DATA.is_dir():
    pytest.skip(f"real logs not found in {DATA}", allow_module_level=True)

NODE = "node"   # pm4py's column for the unit (resource or department) of the level under test
ARTIFICIAL = ("Start", "End")


@dataclass(frozen=True)
class Source:
    """A real log: how we import it, and how pandas/pm4py read the same columns independently."""

    file: str
    options: ImportOptions
    resource: str | None
    department: str | None
    case: str = CASE
    activity: str = ACT
    timestamp: str = TS
    start: str | None = None
    ts_format: str | None = None     # None: XES through pm4py.read_xes
    sep: str = ","
    exclude: tuple[str, ...] = ()
    blank_every: tuple[int, int] | None = None   # (resource, department): blank them on every n-th file row


RECEIPT_FMT = "%Y-%m-%d %H:%M:%S.%f%z"
SOURCES = {
    "receipt": Source("receipt.csv", ImportOptions(), "org:resource", "org:group", ts_format=RECEIPT_FMT),
    "receipt_blanks": Source("receipt.csv", ImportOptions(), "org:resource", "org:group", ts_format=RECEIPT_FMT,
                             blank_every=(5, 7)),
    "helpdesk": Source("helpdesk.xes.gz", ImportOptions(), "org:resource", "workgroup"),
    "sepsis": Source("sepsis.csv", ImportOptions(), None, "org:group", case="Case ID", activity="Activity",
                     timestamp="Complete Timestamp", ts_format="%Y/%m/%d %H:%M:%S.%f", sep=";"),
    "bpic2013": Source("bpic2013_incidents.xes.gz", ImportOptions(), "org:resource", "org:group"),
    "production": Source(
        "production.csv",
        ImportOptions(columns={"activity": "concept:name", "resource": "org:resource"},
                      exclude_activities=ARTIFICIAL),
        "org:resource", None, start="start_timestamp", ts_format="%Y-%m-%d %H:%M:%S%z", exclude=ARTIFICIAL),
    "bpic2017w": Source(
        "bpic2017_w.csv.gz",
        ImportOptions(columns={"case": "case_id", "activity": "activity", "timestamp": "end_time",
                               "start": "start_time", "resource": "resource", "department": ""}),
        "resource", None, case="case_id", activity="activity", timestamp="end_time", start="start_time",
        ts_format="%Y-%m-%dT%H:%M:%S"),
}
RESOURCE_LOGS = [k for k, s in SOURCES.items() if s.resource]
DEPARTMENT_LOGS = [k for k, s in SOURCES.items() if s.department]
UNIT_COLUMN = {"resource": "resource", "department": "department"}


class Lab:
    """Each log imported once into one store; each file read once by pandas / pm4py."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.con = connect(tmp / "store.duckdb")
        self._ids: dict[str, int] = {}
        self._raw: dict[str, pd.DataFrame] = {}
        self._matrix: dict[tuple[str, str], pd.DataFrame] = {}

    def _text(self, key: str) -> pd.DataFrame:
        s = SOURCES[key]
        df = pd.read_csv(DATA / s.file, sep=s.sep, dtype=str, keep_default_na=False)
        if s.blank_every:
            rows = np.arange(len(df))
            res_n, dep_n = s.blank_every
            df.loc[rows % res_n == 2, s.resource] = ""
            df.loc[rows % dep_n == 3, s.department] = ""
        return df

    def path(self, key: str) -> Path:
        s = SOURCES[key]
        if not s.blank_every:
            return DATA / s.file
        path = self.tmp / f"{key}.csv"
        if not path.exists():
            self._text(key).to_csv(path, index=False)
        return path

    def log_id(self, key: str) -> int:
        if key not in self._ids:
            self._ids[key] = import_file(self.con, self.path(key), SOURCES[key].options).log_id
        return self._ids[key]

    def matrix(self, key: str, level: str) -> pd.DataFrame:
        if (key, level) not in self._matrix:
            self._matrix[(key, level)] = handoff_matrix(self.con, self.log_id(key), level=level)
        return self._matrix[(key, level)]

    def raw(self, key: str) -> pd.DataFrame:
        """case, activity, ts, start (NaT if none), resource, department ('' = none), row -- in file order."""
        if key not in self._raw:
            s = SOURCES[key]
            if s.ts_format is None:
                with warnings.catch_warnings():  # "install r4pm to import faster"
                    warnings.simplefilter("ignore", UserWarning)
                    df = _pm4py().read_xes(str(DATA / s.file), show_progress_bar=False)
                ts = pd.to_datetime(df[s.timestamp], utc=True)
                start = pd.Series(pd.NaT, index=df.index, dtype=ts.dtype)
            else:
                df = self._text(key)
                ts = pd.to_datetime(df[s.timestamp], utc=True, format=s.ts_format)
                start = (pd.to_datetime(df[s.start], utc=True, format=s.ts_format) if s.start
                         else pd.Series(pd.NaT, index=df.index, dtype=ts.dtype))
            out = pd.DataFrame({"case": df[s.case].astype(str), "activity": df[s.activity].astype(str),
                                "ts": ts, "start": start})
            for unit, column in (("resource", s.resource), ("department", s.department)):
                out[unit] = df[column].fillna("").astype(str) if column else ""
            out["row"] = np.arange(len(out))
            if s.exclude:
                out = out[~out["activity"].isin(s.exclude)]
            self._raw[key] = out.reset_index(drop=True)
        return self._raw[key]

    def ordered(self, key: str, level: str) -> pd.DataFrame:
        """The events with a value of the level's unit, in canonical order (start else end, end, file row)."""
        raw = self.raw(key)
        df = raw[raw[UNIT_COLUMN[level]] != ""].copy()
        df["begin"] = df["start"].fillna(df["ts"])
        return df.sort_values(["case", "begin", "ts", "row"], kind="stable").reset_index(drop=True)

    def pm4py_frame(self, key: str, level: str) -> pd.DataFrame:
        """pm4py's frame: canonical order, TS a strictly increasing surrogate (so no pm4py sort can reorder
        ties), NODE the unit."""
        df = self.ordered(key, level)
        return pd.DataFrame({
            CASE: df["case"], ACT: df["activity"], NODE: df[UNIT_COLUMN[level]],
            TS: pd.Timestamp("2000-01-01", tz="UTC") + pd.to_timedelta(np.arange(len(df)), unit="s"),
        })


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    lab = Lab(tmp_path_factory.mktemp("handoffs"))
    yield lab
    lab.con.close()


def _ours(matrix: pd.DataFrame, column: str = "count") -> dict[tuple[str, str], int]:
    return {(f, t): v for f, t, v in zip(matrix["from"], matrix["to"], matrix[column], strict=True)}


def _consecutive_pairs(frame: pd.DataFrame) -> int:
    """Σ over cases of (events − 1): the number of consecutive pairs, self pairs included."""
    return int((frame.groupby(CASE).size() - 1).sum())


# --- the blanked copy really has blanks, and we skip them ----------------------------------------


def test_blanked_copy_has_missing_values_in_our_store(lab):
    key = "receipt_blanks"
    raw = lab.raw(key)
    missing = lab.con.execute(
        "SELECT count(*) FILTER (WHERE resource IS NULL), count(*) FILTER (WHERE department IS NULL) "
        "FROM events WHERE log_id = $log_id", {"log_id": lab.log_id(key)}).fetchone()
    # 8,577 rows: rows ≡ 2 (mod 5) and ≡ 3 (mod 7).
    assert missing == ((raw["resource"] == "").sum(), (raw["department"] == "").sum()) == (1715, 1225)


# --- resource level: pm4py's handover of work ----------------------------------------------------


@pytest.mark.parametrize("key", RESOURCE_LOGS)
def test_resource_handoffs_equal_pm4py_handover_of_work(lab, key):
    frame = lab.pm4py_frame(key, "resource")
    dividend = _consecutive_pairs(frame)
    sna = _pm4py().discover_handover_of_work_network(frame, beta=0, resource_key=NODE, timestamp_key=TS,
                                                     case_id_key=CASE)
    scaled = {k: v * dividend for k, v in sna.connections.items()}
    assert all(abs(v - round(v)) < 1e-6 for v in scaled.values()), "pm4py's dividend is not the pair count"
    theirs = {k: round(v) for k, v in scaled.items() if k[0] != k[1]}
    self_pairs = sum(round(v) for k, v in scaled.items() if k[0] == k[1])

    ours = _ours(lab.matrix(key, "resource"))
    assert ours == theirs
    assert sum(ours.values()) + self_pairs == dividend
    bad = {k: (ours[k] / dividend, sna.connections[k]) for k in ours
           if abs(ours[k] / dividend - sna.connections[k]) > 1e-12}
    assert not bad, f"proportions differ on {len(bad)} pairs, e.g. {list(bad.items())[:3]}"


# --- department level: pm4py's network analysis --------------------------------------------------


@pytest.mark.parametrize("key", DEPARTMENT_LOGS)
def test_department_handoffs_equal_pm4py_network_analysis(lab, key):
    frame = lab.pm4py_frame(key, "department")
    network = _pm4py().discover_network_analysis(
        frame, out_column=CASE, in_column=CASE, node_column_source=NODE, node_column_target=NODE,
        edge_column=ACT, edge_reference="_out", performance=False, sorting_column=TS, timestamp_column=TS)
    links = {pair: sum(by_activity.values()) for pair, by_activity in network.items()}
    # Each event linked to the next one of its case only (directly-follows, not all later events).
    assert sum(links.values()) == _consecutive_pairs(frame)
    theirs = {pair: n for pair, n in links.items() if pair[0] != pair[1]}
    assert _ours(lab.matrix(key, "department")) == theirs


# --- both levels: cases per pair, by pandas ------------------------------------------------------


def _pandas_handoffs(ordered: pd.DataFrame, unit: str) -> pd.DataFrame:
    """One row per hand-off: from, to, case, wait_s (start-or-end of the second − end of the first)."""
    same_case = ordered["case"].eq(ordered["case"].shift())
    prev = ordered[unit].shift()
    wait = (ordered["begin"] - ordered["ts"].shift()).dt.total_seconds()
    keep = same_case & ordered[unit].ne(prev)
    return pd.DataFrame({"from": prev[keep], "to": ordered[unit][keep], "case": ordered["case"][keep],
                         "wait_s": wait[keep]})


@pytest.mark.parametrize("key,level", [(k, "resource") for k in RESOURCE_LOGS]
                         + [(k, "department") for k in DEPARTMENT_LOGS])
def test_counts_and_cases_equal_pandas(lab, key, level):
    hand = _pandas_handoffs(lab.ordered(key, level), UNIT_COLUMN[level])
    per = hand.groupby(["from", "to"]).agg(count=("case", "size"), cases=("case", "nunique"))
    matrix = lab.matrix(key, level)
    assert _ours(matrix) == per["count"].to_dict()
    assert _ours(matrix, "cases") == per["cases"].to_dict()


# --- hand-off waits on logs with start timestamps, by pandas ---------------------------------------


@pytest.mark.parametrize("key", ["production", "bpic2017w"])
def test_waits_of_the_20_most_frequent_resource_pairs_equal_pandas(lab, key):
    ordered = lab.ordered(key, "resource")
    assert ordered["start"].notna().all()
    hand = _pandas_handoffs(ordered, "resource")
    per = hand.groupby(["from", "to"])["wait_s"].agg(
        count="size", median="median", p90=lambda w: float(np.quantile(w, 0.9)),
        total=lambda w: float(w.clip(lower=0).sum()))
    top = per.sort_values("count", ascending=False, kind="stable").head(20)
    ours = lab.matrix(key, "resource").set_index(["from", "to"])
    assert len(top) == 20
    for pair, row in top.iterrows():
        mine = ours.loc[pair]
        assert mine["count"] == row["count"], pair
        assert mine["median_wait_seconds"] == pytest.approx(row["median"], rel=1e-9, abs=1e-6), pair
        assert mine["p90_wait_seconds"] == pytest.approx(row["p90"], rel=1e-9, abs=1e-6), pair
        assert mine["total_wait_seconds"] == pytest.approx(row["total"], rel=1e-9, abs=1e-6), pair
