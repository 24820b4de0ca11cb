"""The Report page through AppTest: build the report with the shipped scenario, both downloads, the preview."""

from __future__ import annotations

import pytest
from apptest_support import APP


@pytest.fixture
def page(app):
    app.switch_page("pages/report.py").run()
    assert not app.exception
    return app


def test_build_gives_both_downloads_and_a_preview(page):
    assert page.title[0].value == "报告"
    assert page.radio(key="rp_lang").value == "zh"  # the UI language
    assert not page.get("download_button")  # nothing until the button is pressed
    page.selectbox(key="rp_scenario").set_value(page.selectbox(key="rp_scenario").options[1]).run()
    page.button(key="rp_build").click().run()
    assert not page.exception
    html_button, xlsx_button = page.download_button(key="rp_html"), page.download_button(key="rp_xlsx")
    assert html_button.label == "下载报告（HTML）" and html_button.proto.url
    assert xlsx_button.label == "下载数据表（Excel）" and xlsx_button.proto.url
    preview = page.get("iframe")[0].proto.srcdoc
    assert "流程诊断报告" in preview and "流程再造：端到端活动团队" in preview
    assert any("4 张图表" in s.value for s in page.success)


def test_report_language_and_stale_notice(page):
    page.radio(key="rp_lang").set_value("en").run()
    page.button(key="rp_build").click().run()
    assert not page.exception
    preview = page.get("iframe")[0].proto.srcdoc
    assert "Process diagnosis report" in preview and "Redesign:" not in preview
    page.radio(key="rp_lang").set_value("zh").run()  # changed after building: the built report stays, with a notice
    assert any("重新生成" in i.value for i in page.info)
    assert "Process diagnosis report" in page.get("iframe")[0].proto.srcdoc


@pytest.fixture
def app_with_finding(tmp_path, monkeypatch):
    """The app on a store with the sample log and one saved finding."""
    from streamlit.testing.v1 import AppTest

    from analysis import defaults, findings, store

    path = tmp_path / "kb.duckdb"
    with store.connect(path) as con:
        log_id = defaults.ensure_sample(con)
        findings.save_finding(con, log_id, "预算审批<慢>", findings.Evidence("bottleneck", log_id, {"activity": "预算审批"}),
                              symptom="等待 5 天", remedy="24 小时内审批", tags=["财务"])
    monkeypatch.setenv("PROCDIAG_DB", str(path))
    monkeypatch.delenv("PROCDIAG_VIEWER", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/report.py").run()
    assert not at.exception
    return at


def test_chosen_findings_are_in_the_report(app_with_finding):
    at = app_with_finding
    choice = at.multiselect(key="rp_findings")
    assert choice.options == ["#1 预算审批<慢>"]
    choice.set_value([1]).run()
    at.button(key="rp_build").click().run()
    assert not at.exception
    preview = at.get("iframe")[0].proto.srcdoc
    assert "诊断结论" in preview and "预算审批&lt;慢&gt;" in preview and "24 小时内审批" in preview


def test_the_comparison_from_the_compare_page(page):
    assert "如需在报告中加入两组对比，请先打开“分组对比”页。" in [c.value for c in page.caption]
    page.switch_page("pages/compare.py").run()
    page.switch_page("pages/report.py").run()
    assert not page.exception
    box = page.checkbox(key="rp_compare")
    assert box.label == "加入“分组对比”页的对比（活动类型: 常规促销 | 新品上市）"
    box.check().run()
    page.button(key="rp_build").click().run()
    assert not page.exception
    preview = page.get("iframe")[0].proto.srcdoc
    assert "两组对比" in preview and "A = 活动类型: 常规促销（" in preview



def test_a_comparison_the_filter_leaves_impossible_is_a_warning(page):
    page.switch_page("pages/compare.py").run()
    page.radio(key="cmp_split").set_value("speed").run()
    page.switch_page("pages/report.py").run()
    page.checkbox(key="rp_compare").check().run()
    log_id = page.session_state["active_log"]
    # A filter that keeps no case: the speed split cannot be made, the report says so instead of failing.
    page.sidebar.multiselect(key=f"flt_present_{log_id}").set_value(["法务审核"]).run()
    page.sidebar.multiselect(key=f"flt_absent_{log_id}").set_value(["法务审核"]).run()
    page.button(key="rp_build").click().run()
    assert not page.exception
    assert page.warning[0].value == "案例的周期时间差异太小，无法分为快组和慢组。"
