"""The "why it waits" tabs of Bottlenecks and Hand-offs through AppTest: the stacked bars are the figures of
waiting_causes.diagnose, the breakdown follows the step picked, the findings name the dominant cause and its
remedy, working time switches the basis, and a log that cannot tell says what it needs."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from apptest_support import APP, chart_spec, table_with_column
from streamlit.testing.v1 import AppTest

from analysis import charts, store, waiting_causes
from analysis.importer import import_file
from analysis.texts import t
from analysis.waiting_causes import CAUSES


def _diagnosis(db: str, by: str, calendar=None):
    with store.connect(db) as con:
        log_id = store.list_logs(con)[0].log_id
        return waiting_causes.diagnose(con, log_id, calendar=calendar, by=by)


def _values(array) -> list:
    """A plotly array as a list (plotly sends numbers as base64 typed arrays)."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def _bars(spec: dict) -> dict:
    """{cause name: {key: days}} of the stacked chart."""
    return {trace["name"]: dict(zip(_values(trace["y"]), _values(trace["x"]), strict=True))
            for trace in spec["data"]}


def test_bottlenecks_why_tab_shows_the_diagnosis(app, sample_db):
    app.switch_page("pages/bottlenecks.py").run()
    assert not app.exception
    found = _diagnosis(sample_db, "activity")
    rows = found.rows[found.rows["wait_seconds"] > 0]
    bars = _bars(chart_spec(app, "bn_why_chart"))
    assert list(bars) == [charts.cause_label(c, "zh") for c in CAUSES]
    for cause in CAUSES:
        shown = bars[charts.cause_label(cause, "zh")]
        for row in rows.head(15).itertuples():
            assert shown[row.key] == pytest.approx(getattr(row, f"{cause}_seconds") / 86400, rel=1e-9)
    # Most waiting first: the top step is picked, and its dominant cause is named with its remedy.
    top = rows.iloc[0]
    assert app.selectbox(key="bn_why_pick").value == top["key"]
    dominant = max(CAUSES, key=lambda c: top[f"{c}_seconds"])
    findings = app.info[0].value
    assert charts.cause_label(dominant, "zh") in findings and top["key"] in findings
    table = table_with_column(app, "原因")
    assert table["原因"].tolist() == [charts.cause_label(c, "zh") for c in CAUSES]
    assert table["占等待比例"].sum() == pytest.approx(100)


def test_bottlenecks_why_breakdown_follows_the_pick(app, sample_db):
    app.switch_page("pages/bottlenecks.py").run()
    rows = _diagnosis(sample_db, "activity").rows
    other = rows[rows["wait_seconds"] > 0].iloc[1]
    app.selectbox(key="bn_why_pick").set_value(other["key"]).run()
    assert not app.exception
    table = table_with_column(app, "原因")
    shares = dict(zip(table["原因"], table["占等待比例"], strict=True))
    for cause in CAUSES:
        assert shares[charts.cause_label(cause, "zh")] == pytest.approx(
            other[f"{cause}_seconds"] / other["wait_seconds"] * 100, abs=1e-6)


def test_bottlenecks_why_in_working_time(app, sample_db):
    app.switch_page("pages/bottlenecks.py").run()
    app.radio(key="bn_wt_mode").set_value("working").run()
    assert not app.exception
    assert any(t("why.basis_working", "zh") == c.value for c in app.caption)
    bars = _bars(chart_spec(app, "bn_why_chart"))
    assert all(v == 0 for v in bars[charts.cause_label("unavailability", "zh")].values())
    assert sum(sum(b.values()) for b in bars.values()) > 0


def test_handoffs_why_tab(app, sample_db):
    app.switch_page("pages/handoffs.py").run()
    assert not app.exception
    bars = _bars(chart_spec(app, "ho_why_chart"))
    keys = set(next(iter(bars.values())))
    assert keys and all(" → " in k for k in keys)
    found = _diagnosis(sample_db, "handoff")
    assert app.selectbox(key="ho_why_pick").value == found.rows.iloc[0]["key"]


def test_a_log_without_start_times_says_what_it_needs(write, tmp_path, monkeypatch):
    path = write("ends.csv", "case,activity,timestamp,resource\n1,a,2024-01-01 09:00,x\n1,b,2024-01-02 09:00,y\n"
                             "2,a,2024-01-01 10:00,x\n2,b,2024-01-03 09:00,x\n")
    db = tmp_path / "ends.duckdb"
    with store.connect(db) as con:
        import_file(con, path)
    monkeypatch.setenv("PROCDIAG_DB", str(db))
    monkeypatch.delenv("PROCDIAG_VIEWER", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    for page in ("pages/bottlenecks.py", "pages/handoffs.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert any(t("err.why_no_start", "zh") in i.value for i in at.info), page


def _split_threads_done() -> None:
    """Wait for the server's background saves of splits (pages/cache.warm_splits)."""
    import threading

    for thread in threading.enumerate():
        if thread.name == "procdiag-why-split":
            thread.join(timeout=120)
            assert not thread.is_alive()


def test_the_server_saves_each_logs_split_at_start_and_after_an_import(tmp_path, write, monkeypatch):
    # A first visit must not compute the whole log's split (4-5 s at 1M events): the server saves it in the
    # store in the background when it starts and after every import; the page then only groups it.
    from analysis import defaults

    db = tmp_path / "warm.duckdb"
    with store.connect(db) as con:
        sample_id = defaults.ensure_sample(con)
        assert waiting_causes.saved_parts(con, sample_id) is None
    monkeypatch.setenv("PROCDIAG_DB", str(db))
    monkeypatch.delenv("PROCDIAG_VIEWER", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    _split_threads_done()
    with store.connect(db) as con:
        assert waiting_causes.saved_parts(con, sample_id) is not None
    path = write("starts.csv", "case,activity,start,end,resource\n1,a,2024-03-04 09:00,2024-03-04 10:00,x\n"
                               "1,b,2024-03-04 12:00,2024-03-04 13:00,x\n")
    at.switch_page("pages/import_log.py").run()
    at.radio(key="im_source").set_value("path").run()
    at.text_input(key="im_path").input(str(path)).run()
    at.button(key="im_go").click().run()
    assert not at.exception
    _split_threads_done()
    with store.connect(db) as con:
        new_id = max(info.log_id for info in store.list_logs(con))
        assert new_id != sample_id and waiting_causes.saved_parts(con, new_id) is not None
    # The page groups the saved split: the one hand-made step b waited 2 h (10:00 → 12:00).
    at.switch_page("pages/bottlenecks.py").run()
    assert not at.exception
    bars = _bars(chart_spec(at, "bn_why_chart"))
    assert sum(shown["b"] for shown in bars.values()) == pytest.approx(2 / 24, rel=1e-12)


def test_handoffs_why_between_people(app, sample_db):
    # At the "people" level the why tab splits the waits of hand-offs between people, not departments.
    app.switch_page("pages/handoffs.py").run()
    app.radio(key="ho_level").set_value("resource").run()
    assert not app.exception
    with store.connect(sample_db) as con:
        log_id = store.list_logs(con)[0].log_id
        found = waiting_causes.diagnose(con, log_id, by="handoff", unit="resource")
        people = {r[0] for r in con.execute("SELECT DISTINCT resource FROM events WHERE resource IS NOT NULL").fetchall()}
    top = found.rows.iloc[0]["key"]
    assert set(top.split(" → ")) <= people
    assert app.selectbox(key="ho_why_pick").value == top
    spec = chart_spec(app, "ho_why_chart")
    assert spec["layout"]["title"]["text"] == t("why.chart_title_handoff_resource", "zh")
