"""Cross-check the waiting causes on the real logs with start and end times and resources (BPIC 2017 W,
production): every part ≥ 0, the parts add up to each event's wait and, per activity, to the waiting the
Bottlenecks page shows; and an independent recomputation for a sample of waits gives the same parts.

The recomputation reads the file with pandas (not our importer), orders each case itself (DESIGN.md: start,
then end, then file row), takes each wait from the previous event's end, and applies the documented rules
instant by instant (`reference_parts`, the plain-Python sweep of tests/test_waiting_causes.py). Duty hours:
office hours Mon–Fri 09:00–18:00 on the stored (UTC) times, and each resource's observed hours.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from analysis import bottlenecks, store
from analysis import waiting_causes as wc
from analysis.importer import import_file
from analysis.working_time import WorkCalendar
from tests.pm4py_logs import DATA, LOGS
from tests.test_waiting_causes import WORKING, reference_parts

pytestmark = pytest.mark.slow

if not DATA.is_dir():
    pytest.skip(f"real logs not found in {DATA}", allow_module_level=True)

KEYS = ("bpic2017w", "production")
RESOURCE = {"bpic2017w": "resource", "production": "org:resource"}   # the file's resource column
SAMPLE = 250                                                         # waits recomputed per log
OFFICE = WorkCalendar()


@pytest.fixture(scope="session")
def real(tmp_path_factory):
    """Each real log imported once; its per-event parts cached per calendar."""
    con = store.connect(tmp_path_factory.mktemp("why") / "why.duckdb")
    ids = {key: import_file(con, DATA / LOGS[key].file, LOGS[key].options).log_id for key in KEYS}
    cache: dict = {}

    def parts(key: str, calendar: WorkCalendar | None) -> pd.DataFrame:
        if (key, calendar) not in cache:
            cache[key, calendar] = wc.event_causes(con, ids[key], calendar=calendar).df(con)
        return cache[key, calendar]

    yield con, ids, parts
    con.close()


@functools.cache
def pandas_items(key: str) -> pd.DataFrame:
    """The file as pandas reads it, in canonical order per case, with each event's enablement (no importer)."""
    log = LOGS[key]
    raw = pd.read_csv(DATA / log.file, sep=log.sep, dtype=str, keep_default_na=False)
    frame = pd.DataFrame({
        "case": raw[log.case], "activity": raw[log.activity], "resource": raw[RESOURCE[key]],
        "start": pd.to_datetime(raw[log.start], utc=True, format=log.ts_format).dt.tz_convert(None),
        "end": pd.to_datetime(raw[log.timestamp], utc=True, format=log.ts_format).dt.tz_convert(None),
        "row": np.arange(len(raw))})
    frame = frame.sort_values(["case", "start", "end", "row"], kind="stable")
    frame["pos"] = frame.groupby("case").cumcount() + 1
    frame["enabled"] = frame.groupby("case")["end"].shift()
    return frame.reset_index(drop=True)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("calendar", [OFFICE, None], ids=["office", "observed"])
def test_parts_are_never_negative_and_add_up_to_each_wait(real, key, calendar):
    _, _, parts = real
    frame = parts(key, calendar)
    for total, names in (("wait", wc.CAUSES), ("working_wait", [f"{c}_working" for c in wc.CAUSES])):
        values = frame[[f"{n}_seconds" for n in names]].to_numpy()
        assert (values >= 0).all()
        assert np.allclose(values.sum(axis=1), frame[f"{total}_seconds"], rtol=0, atol=1e-6)
    assert (frame["wait_seconds"] > 0).sum() > 1000                  # a real test: many waits to split


@pytest.mark.parametrize("key", KEYS)
def test_parts_add_up_to_the_waiting_bottlenecks_shows(real, key):
    con, ids, _ = real
    everything = con.execute("SELECT count(*) = count(start_ts) AND count(*) = count(resource) FROM events "
                             "WHERE log_id = $l", {"l": ids[key]}).fetchone()[0]
    assert everything                          # so Bottlenecks' waiting is exactly the waiting we split
    shown = bottlenecks.activity_stats(con, ids[key]).set_index("activity")["total_wait_seconds"]
    why = wc.diagnose(con, ids[key], calendar=OFFICE).rows.set_index("key")
    split = why[[f"{c}_seconds" for c in wc.CAUSES]].sum(axis=1)
    assert set(why.index) <= set(shown.index)
    for activity, total in shown.items():
        assert why["wait_seconds"].get(activity, 0.0) == pytest.approx(total, rel=1e-12, abs=1e-6)
        assert split.get(activity, 0.0) == pytest.approx(total, rel=1e-9, abs=1e-3)
    # In working time (no departments: everyone on the one calendar) the working parts add up to the
    # working-time waiting Bottlenecks shows.
    shown = bottlenecks.activity_stats(con, ids[key], calendar=OFFICE).set_index("activity")["total_wait_seconds"]
    working = why[[f"{c}_working_seconds" for c in wc.CAUSES]].sum(axis=1)
    for activity, total in shown.items():
        assert why["working_wait_seconds"].get(activity, 0.0) == pytest.approx(total, rel=1e-9, abs=1e-3)
        assert working.get(activity, 0.0) == pytest.approx(total, rel=1e-9, abs=1e-3)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("calendar", [OFFICE, None], ids=["office", "observed"])
def test_an_independent_recomputation_gives_the_same_parts(real, key, calendar):
    con, ids, parts = real
    items = pandas_items(key)
    waiting = items[items["enabled"].notna() & (items["start"] > items["enabled"])]
    sample = waiting.sample(n=min(SAMPLE, len(waiting)), random_state=7)
    duty = ({r: OFFICE for r in items["resource"].unique()} if calendar is not None
            else wc.observed_hours(con, ids[key]))
    ref = reference_parts(items, duty, only=set(zip(sample["case"], sample["pos"], strict=True)))
    ours = parts(key, calendar).rename(columns={"case_id": "case"})
    both = ref.merge(ours, on=["case", "pos"], how="left", validate="one_to_one")
    assert len(both) == len(sample) and both["wait_seconds"].notna().all()
    assert np.allclose(both["wait"], both["wait_seconds"], rtol=0, atol=1e-6)    # the same waits, found apart
    for c in (*wc.CAUSES, *WORKING):
        bad = both[~np.isclose(both[c], both[f"{c}_seconds"], rtol=0, atol=1e-6)]
        assert bad.empty, (c, bad[["case", "pos", c, f"{c}_seconds"]].head())
    # The sample is not trivial: several causes occur in it.
    assert sum((both[c] > 0).any() for c in wc.CAUSES) >= 3


@pytest.mark.parametrize("key", KEYS)
def test_cached_parts_group_like_the_per_event_split(real, key):
    # The page's path: event_parts once, diagnose(parts=) per grouping; per resource, its sums and case
    # counts equal those of the per-event rows grouped with pandas, and diagnose without parts agrees.
    con, ids, parts = real
    frame = parts(key, OFFICE)
    cached = wc.event_parts(con, ids[key], OFFICE)
    assert cached.num_rows == len(frame)
    why = wc.diagnose(con, ids[key], calendar=OFFICE, by="resource", parts=cached)
    pd.testing.assert_frame_equal(why.rows, wc.diagnose(con, ids[key], calendar=OFFICE, by="resource").rows)
    rows = why.rows.set_index("key")
    waiting = frame[frame["wait_seconds"] > 0]
    expected = frame.groupby("resource")[[f"{c}_seconds" for c in ("wait", *wc.CAUSES)]].sum()
    assert set(rows.index) == set(expected.index)
    for column in expected.columns:
        assert np.allclose(rows.loc[expected.index, column], expected[column], rtol=1e-9, atol=1e-3), column
    cases = waiting.groupby("resource")["case_id"].nunique()
    assert (rows.loc[cases.index, "cases"] == cases).all()
    assert why.total["cases"] == waiting["case_id"].nunique()
