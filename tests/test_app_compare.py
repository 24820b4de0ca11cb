"""The Compare page through AppTest: every split, its figures equal to the analysis layer's (and the
sample generator's own case counts), the global filter applied inside each group, plain warnings for
impossible splits, both languages."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from analysis import compare, importer, store
from analysis import findings as kb
from analysis.filters import ALL, CaseFilter
from tests.apptest_support import APP, TYPE_COLUMN, chart_spec, expected_sample_cases, table_with_column

PAGE = "pages/compare.py"


@pytest.fixture
def page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def findings(at) -> str:
    return next(i.value for i in at.info if i.value.startswith("- A = "))


def test_attribute_split_on_the_sample(page, sample_db):
    assert page.title[0].value == "对比两组案例"
    assert page.radio(key="cmp_split").value == "attribute"
    page.selectbox(key="cmp_attr").set_value(TYPE_COLUMN).run()
    page.multiselect(key=f"cmp_a_{TYPE_COLUMN}").set_value(["常规促销"]).run()
    page.multiselect(key=f"cmp_b_{TYPE_COLUMN}").set_value(["创新试点"]).run()
    assert not page.exception
    n_a, n_b = expected_sample_cases("常规促销"), expected_sample_cases("创新试点")
    assert f"A = {TYPE_COLUMN}: 常规促销（{n_a:,} 个案例）；B = {TYPE_COLUMN}: 创新试点（{n_b:,} 个案例）。" in findings(page)
    assert "法务审核（+" in findings(page)  # the injected legal-review delay of innovation pilots
    kpis = table_with_column(page, "指标")
    assert kpis["指标"].tolist()[0] == "案例数"
    assert kpis.iloc[0, 1:].tolist() == [f"{n_a:,}", f"{n_b:,}", f"−{n_a - n_b:,}"]   # fewer pilots than routine
    with store.connect(sample_db) as con:
        log_id = page.session_state["active_log"]
        steps = compare.activity_table(con, log_id, compare.by_attribute(ALL, TYPE_COLUMN, ["常规促销"], ["创新试点"]))
    shown = table_with_column(page, "B − A（每案例天数）")
    assert shown["环节"].tolist() == steps["activity"].tolist()
    assert shown["B − A（每案例天数）"].tolist() == pytest.approx((steps["delta_per_case"] / 86400).tolist())
    bars = chart_spec(page, "cmp_steps_chart")
    assert {trace["name"] for trace in bars["data"]} == {"A", "B"}
    assert bars["data"][0]["y"][0] == "法务审核"   # the biggest difference first


def test_period_and_speed_splits_and_the_global_filter(page, sample_db):
    page.radio(key="cmp_split").set_value("period").run()
    assert not page.exception
    assert "之前开始" in findings(page) and "及之后开始" in findings(page)
    page.radio(key="cmp_split").set_value("speed").run()
    page.slider(key="cmp_fast").set_value(50).run()
    page.slider(key="cmp_slow").set_value(10).run()
    assert not page.exception
    # 3,000 sample cases: the fastest half and the slowest tenth (no cycle time is tied at the cut).
    assert "（1,500 个案例）" in findings(page) and "（300 个案例）" in findings(page)
    # With the global filter, both groups come from its cases only.
    log_id = page.session_state["active_log"]
    page.sidebar.multiselect(key=f"flt_attr_{log_id}_{TYPE_COLUMN}").set_value(["新品上市"]).run()
    assert not page.exception
    assert page.session_state["case_filter"] == CaseFilter(attributes=((TYPE_COLUMN, ("新品上市",)),))
    with store.connect(sample_db) as con:
        cohorts = compare.by_speed(con, log_id, page.session_state["case_filter"], 50, 90)
        kpis = compare.kpi_table(con, log_id, cohorts).set_index("kpi")
    n_a, n_b = int(kpis.loc["cases", "a"]), int(kpis.loc["cases", "b"])
    assert n_a + n_b < expected_sample_cases("新品上市")
    assert f"（{n_a:,} 个案例）" in findings(page) and f"（{n_b:,} 个案例）" in findings(page)


def test_impossible_splits_are_warnings_in_the_chosen_language(page):
    page.multiselect(key=f"cmp_b_{TYPE_COLUMN}").set_value([]).run()
    assert not page.exception
    assert page.warning[0].value == "请选择一个属性，并为每组至少选择一个取值。"
    page.radio(key="cmp_split").set_value("speed").run()
    page.slider(key="cmp_fast").set_value(90).run()
    page.slider(key="cmp_slow").set_value(50).run()   # slowest 50 % starts below the fastest 90 %
    assert not page.exception
    assert "快组百分位（90.0）必须小于慢组百分位（50.0）" in page.warning[0].value
    page.sidebar.radio(key="lang_choice").set_value("en").run()
    assert not page.exception
    assert page.title[0].value == "Compare two groups of cases"
    assert page.warning[0].value.startswith("The fast percentile (90.0) must be below the slow one (50.0)")


def test_steps_in_working_time(page):
    def per_step(at) -> dict:
        table = table_with_column(at, "A：每案例天数")
        return dict(zip(table["环节"], zip(table["A：每案例天数"], table["B：每案例天数"], strict=True), strict=True))

    calendar_time = per_step(page)
    page.radio(key="cmp_wt_mode").set_value("working").run()
    assert not page.exception
    working_time = per_step(page)
    assert working_time.keys() == calendar_time.keys()
    # Working seconds never exceed elapsed seconds, and office hours make them clearly fewer.
    assert all(w <= c + 1e-9 for step in calendar_time for w, c in zip(working_time[step], calendar_time[step], strict=True))
    assert sum(a for a, _ in working_time.values()) < 0.6 * sum(a for a, _ in calendar_time.values())


def test_save_the_comparison_as_a_finding(scratch_app, tmp_path):
    at = scratch_app
    at.switch_page(PAGE).run()
    at.selectbox(key="cmp_attr").set_value(TYPE_COLUMN).run()
    assert not at.exception
    subject = f"{TYPE_COLUMN}: 常规促销 | 新品上市"   # the defaults: the two most frequent values
    assert at.selectbox(key="kb_figure").options == [f"本次对比（{subject}）"]
    assert at.text_input(key="kb_title").value == f"分组 {subject}：周期时间中位数 A 组 25.8 天，B 组 59.1 天"
    at.button(key="kb_save").click().run()
    assert not at.exception
    assert at.success[0].value == "已保存为结论 #1，可在知识库中查看。"
    with store.connect(tmp_path / "scratch.duckdb") as con:
        finding = kb.get_finding(con, 1)
        log_id = at.session_state["active_log"]
        kpis = compare.kpi_table(con, log_id, compare.by_attribute(ALL, TYPE_COLUMN, ["常规促销"], ["新品上市"]))
        assert finding.evidence.kind == "compare" and finding.evidence.page == "compare"
        assert finding.evidence.params == {"split": "attribute", "name": TYPE_COLUMN,
                                           "values_a": ["常规促销"], "values_b": ["新品上市"]}
        k = kpis.set_index("kpi")
        assert finding.evidence.figures["cases_a"] == k.loc["cases", "a"]
        assert finding.evidence.figures["median_cycle_b_seconds"] == pytest.approx(k.loc["median_cycle_seconds", "b"])
        assert kb.rerun(con, 1)["now"]["figures"] == finding.evidence.figures
    at.switch_page("pages/knowledge.py").run()
    assert not at.exception
    assert any("分组对比" in m.value and subject in m.value for m in at.markdown)


def test_a_log_without_attributes_or_start_times(tiny_log, tmp_path, monkeypatch):
    # TINY_LOG (conftest): 4 cases on one day, no case attribute, no start timestamps.
    path = tmp_path / "tiny.duckdb"
    with store.connect(path) as con:
        importer.import_file(con, tiny_log)
    monkeypatch.setenv("PROCDIAG_DB", str(path))
    monkeypatch.delenv("PROCDIAG_VIEWER", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.radio(key="cmp_split").options == ["开始日期（之前 / 之后）", "快慢（快组 / 慢组）"]
    assert "此日志没有案例属性：请按开始日期或快慢分组。" in [c.value for c in at.caption]
    # The default day is the middle of the log: cases 1, 2 (3 h, 30 min) before 2024-03-06, cases 3, 4 (6 h, 20 min)
    # from it: medians 105 min and 3 h 10 min.
    said = findings(at).splitlines()
    assert said[0] == "- A = 2024-03-06 之前开始（2 个案例）；B = 2024-03-06 及之后开始（2 个案例）。"
    assert said[1] == "- **B 组**的周期时间中位数比 A 组**长 85 分钟**（3.2 小时，对比 105 分钟）。"
    # No case started before the first day: group A is empty, said in words.
    at.date_input(key="cmp_date").set_value(dt.date(2024, 3, 5)).run()
    assert not at.exception
    assert findings_or_empty(at) == "- 在当前筛选下，“2024-03-05 之前开始”组没有案例。"
    at.radio(key="cmp_split").set_value("speed").run()
    assert not at.exception
    # Cycle times 20 min, 30 min, 3 h, 6 h: p50 = 105 min, p90 = 3 h + 0.7 × 3 h = 5.1 h.
    assert findings(at).startswith("- A = 最快的 50%（≤ 105 分钟）（2 个案例）；B = 最慢的 10%（≥ 5.1 小时）（1 个案例）。")
    steps = table_with_column(at, "B − A（每案例天数）")
    assert set(steps["环节"]) == {"A", "B", "C"}


def findings_or_empty(at) -> str:
    return next(i.value for i in at.info if i.value.startswith("- "))
