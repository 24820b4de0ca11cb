"""The global filter panel and the Variants & cases page through AppTest: every filter widget, its chip, the
share of cases kept, and picking variants on the Variants page.

Expected case counts come from the sample generator's own frame counted with pandas, or (for the wiring of the
remaining widgets) from the analysis layer with the CaseFilter the widget should produce; the filters' SQL is
checked against pm4py and by hand in test_crosscheck_filters.py and test_filters.py.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from apptest_support import expected_sample_cases, metric

from analysis import defaults, metrics, sample, store
from analysis.filters import CaseFilter

COLS = sample.COLUMNS["zh"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """The sample's events in canonical order (start, then end, then row), as the generator made them."""
    f = sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh").reset_index(drop=True)
    f["row"] = range(len(f))
    for col in ("start", "timestamp"):
        f[COLS[col]] = pd.to_datetime(f[COLS[col]])
    return f.sort_values([COLS["case"], COLS["start"], COLS["timestamp"], "row"], kind="stable")


def cases_shown(at) -> int:
    return int(metric(at, "案例数").replace(",", ""))


def chips(at) -> list[str]:
    return [b.key for b in at.sidebar.button if b.key.startswith("flt_chip_")]


def test_activity_present_and_its_chip(app, frame):
    log_id = app.session_state["active_log"]
    activity = "方案修改"  # the rework step: about a quarter of the cases
    app.sidebar.multiselect(key=f"flt_present_{log_id}").set_value([activity]).run()
    assert not app.exception
    expected = frame.loc[frame[COLS["activity"]] == activity, COLS["case"]].nunique()
    assert 0 < expected < expected_sample_cases()
    assert cases_shown(app) == expected
    assert chips(app) == ["flt_chip_activities_present"]
    share = expected / expected_sample_cases()
    assert any(f"保留 {expected:,} / {expected_sample_cases():,} 个案例（{share:.0%}）" in m.value
               for m in app.sidebar.markdown)
    app.sidebar.button(key="flt_chip_activities_present").click().run()
    assert not app.exception
    assert cases_shown(app) == expected_sample_cases()
    assert chips(app) == []
    assert app.sidebar.multiselect(key=f"flt_present_{log_id}").value == []


def test_cycle_time_and_start_activity(app, frame):
    log_id = app.session_state["active_log"]
    per_case = frame.groupby(COLS["case"]).agg(start=(COLS["start"], "min"), end=(COLS["timestamp"], "max"),
                                               first=(COLS["activity"], "first"))
    days = (per_case["end"] - per_case["start"]).dt.total_seconds() / 86400
    app.sidebar.number_input(key=f"flt_cmin_{log_id}").set_value(60.0).run()
    assert not app.exception
    assert cases_shown(app) == int((days >= 60).sum())
    first = per_case["first"].value_counts().index[-1]  # the rarest first activity
    app.sidebar.multiselect(key=f"flt_start_{log_id}").set_value([first]).run()
    assert cases_shown(app) == int(((days >= 60) & (per_case["first"] == first)).sum())
    assert chips(app) == ["flt_chip_cycle_time", "flt_chip_start_activities"]
    app.sidebar.button(key="flt_reset").click().run()
    assert not app.exception
    assert cases_shown(app) == expected_sample_cases()
    assert app.sidebar.number_input(key=f"flt_cmin_{log_id}").value is None


@pytest.mark.parametrize("widget, value, expected_filter", [
    ("absent", ["方案修改"], CaseFilter(activities_absent=("方案修改",))),
    ("end", ["活动评估"], CaseFilter(end_activities=("活动评估",))),
    ("depts", ["信息技术部"], CaseFilter(departments=("信息技术部",))),
    ("top", 3, CaseFilter(variants_top=3)),
    ("cmax", 30.0, CaseFilter(cycle_max_seconds=30 * 86400.0)),
])
def test_each_widget_makes_its_filter(app, sample_db, widget, value, expected_filter):
    log_id = app.session_state["active_log"]
    kind = {"top": "number_input", "cmax": "number_input"}.get(widget, "multiselect")
    getattr(app.sidebar, kind)(key=f"flt_{widget}_{log_id}").set_value(value).run()
    assert not app.exception
    assert app.session_state["case_filter"] == expected_filter
    with store.connect(sample_db) as con:
        expected = metrics.summary(con, log_id, expected_filter).cases
    assert 0 < expected < expected_sample_cases()
    assert cases_shown(app) == expected


def test_path_filters(app, frame, sample_db):
    log_id = app.session_state["active_log"]
    pairs = app.sidebar.multiselect(key=f"flt_df_{log_id}")
    pair = pairs.options[-1]  # options are labels 'A → B'; the rarest pair is last
    pairs.set_value([tuple(pair.split(" → "))]).run()
    assert not app.exception
    a, b = app.session_state["case_filter"].directly_follows[0]
    nxt = frame.groupby(COLS["case"])[COLS["activity"]].shift(-1)
    expected = frame.loc[(frame[COLS["activity"]] == a) & (nxt == b), COLS["case"]].nunique()
    assert cases_shown(app) == expected
    app.sidebar.button(key="flt_chip_directly_follows").click().run()
    app.sidebar.multiselect(key=f"flt_ef_{log_id}").set_value([("方案修改", "促销系统配置")]).run()
    assert not app.exception
    with store.connect(sample_db) as con:
        expected = metrics.summary(con, log_id, CaseFilter(eventually_follows=(("方案修改", "促销系统配置"),))).cases
    assert cases_shown(app) == expected


def test_variants_page_table_pick_and_case_timeline(app):
    app.switch_page("pages/variants.py").run()
    assert not app.exception
    assert app.title[0].value == "变体与案例"
    table = next(d.value for d in app.dataframe if "路径" in d.value.columns)
    assert table["案例数"].sum() == expected_sample_cases()
    assert table["累计占比"].iloc[-1] == pytest.approx(100)
    assert app.button(key="va_apply").disabled
    # Tick the first and third rows, then filter the app to them.
    app.session_state["va_table"] = {"selection": {"rows": [0, 2], "columns": []}}
    app.run()
    assert not app.button(key="va_apply").disabled
    app.button(key="va_apply").click().run()
    assert not app.exception
    assert chips(app) == ["flt_chip_variants"]
    assert len(app.session_state["case_filter"].variants) == 2
    kept = next(d.value for d in app.dataframe if "路径" in d.value.columns)
    assert kept["案例数"].tolist() == table["案例数"].iloc[[0, 2]].tolist()
    # Case search and the timeline of the chosen case.
    app.text_input(key="va_search").input("MC-2024-0000").run()
    assert not app.exception
    listed = next(d.value for d in app.dataframe if "属性" in d.value.columns)
    assert 0 < len(listed) <= 9 and all("MC-2024-0000" in c for c in listed["案例"])
    case = app.selectbox(key="va_case").options[0]
    app.selectbox(key="va_case").set_value(case).run()
    assert not app.exception
    spec = next(c for c in app.get("plotly_chart") if c.proto.id.endswith("va_timeline"))
    names = {trace["name"] for trace in json.loads(spec.proto.spec)["data"]}
    assert "等待" in names and "财务部" in names  # the waits are drawn beside each department's work


def test_variants_page_search_without_match(app):
    app.switch_page("pages/variants.py").run()
    app.text_input(key="va_search").input("no such case ✗").run()
    assert not app.exception
    assert any("没有符合" in i.value for i in app.info)
