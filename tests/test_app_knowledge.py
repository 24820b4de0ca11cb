"""The knowledge base through AppTest: save a finding from the Bottlenecks page, find it (in Chinese), re-run it,
mark its outcome, delete it; the Overview's notice for a log showing a saved pattern; viewers read only."""

from __future__ import annotations

import shutil

import pytest
from apptest_support import APP
from streamlit.testing.v1 import AppTest

from analysis import defaults, store
from analysis import findings as kb
from analysis.findings import Evidence

QUEUE_TITLE = "预算审批（财务部）占全部等待时间的 49.0%，等待中位数 5.0 天"


@pytest.fixture
def db_path(sample_db, tmp_path) -> str:
    """A copy of the shared sample store (conftest's sample_db), one per test."""
    path = tmp_path / "kb.duckdb"
    shutil.copy(sample_db, path)
    return str(path)


def start(db_path: str, monkeypatch, viewer: bool = False) -> AppTest:
    monkeypatch.setenv("PROCDIAG_DB", db_path)
    if viewer:
        monkeypatch.setenv("PROCDIAG_VIEWER", "1")
    else:
        monkeypatch.delenv("PROCDIAG_VIEWER", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def save_directly(db_path: str, title: str, activity: str) -> int:
    """A bottleneck finding on the sample, saved through the library (as another session would)."""
    with store.connect(db_path) as con:
        log = defaults.sample_log_id(con)
        return kb.save_finding(con, log, title, Evidence("bottleneck", log, {"activity": activity}, page="bottlenecks"))


def table(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_save_search_rerun_mark_and_delete_a_finding(db_path, monkeypatch):
    at = start(db_path, monkeypatch)
    at.switch_page("pages/bottlenecks.py").run()
    assert not at.exception
    figure = at.selectbox(key="kb_figure")
    # Ten steps listed, each as its wait and as its waiting cause (the step's dominant cause).
    assert len(figure.options) == 20 and sum("的等待原因：" in o for o in figure.options) == 10
    assert figure.value.startswith("预算审批 之前的等待（49.0%）")
    assert at.text_input(key="kb_title").value == QUEUE_TITLE  # suggested from the page's figures
    at.text_area(key="kb_symptom").input("财务部审批排队：方案要等到周二或周四")
    at.text_area(key="kb_cause").input("只有三名审批人，每周两批")
    at.text_area(key="kb_remedy").input("Daily approval slot 每天审批")
    at.text_input(key="kb_tags").input("财务，排队")
    at.button(key="kb_save").click().run()
    assert not at.exception
    assert at.success[0].value == "已保存为结论 #1，可在知识库中查看。"
    assert at.text_area(key="kb_symptom").value == ""  # the form is empty again, the title suggested again
    assert at.text_input(key="kb_title").value == QUEUE_TITLE

    at.switch_page("pages/knowledge.py").run()
    assert not at.exception
    listed = table(at, "标题")
    assert listed["标题"].tolist() == [QUEUE_TITLE] and listed["标签"].tolist() == ["财务, 排队"]
    at.text_input(key="kb_search").input("财务部审批").run()
    assert not at.exception
    assert "共 1 条结论，显示 1 条" in [c.value for c in at.caption]
    at.text_input(key="kb_search").input("法务").run()
    assert at.info[0].value.startswith("没有符合条件的结论")
    at.text_input(key="kb_search").input("DAILY APPROVAL").run()
    assert at.selectbox(key="kb_open").value == 1
    stored = table(at, "数值")
    assert dict(zip(stored["指标"], stored["数值"], strict=True))["占全部等待的比例"] == "49.0%"

    at.button(key="kb_rerun").click().run()
    assert not at.exception
    then_now = table(at, "现在")
    assert then_now["当时"].tolist() == then_now["现在"].tolist()
    assert "占全部等待的比例" in then_now["指标"].tolist()

    at.radio(key="kb_outcome").set_value("partly")
    at.text_area(key="kb_outcome_note").input("审批等待从 5 天降到 2 天")
    at.button(key="kb_outcome_save").click().run()
    assert not at.exception
    assert at.success[0].value == "效果已保存。"
    assert any(m.value.startswith("效果：**部分有效**") and "降到 2 天" in m.value for m in at.markdown)
    assert table(at, "效果")["效果"].tolist() == ["部分有效"]

    assert at.button(key="kb_delete").disabled  # only after the confirmation box is ticked
    at.checkbox(key="kb_delete_confirm").check().run()
    at.button(key="kb_delete").click().run()
    assert not at.exception
    assert at.success[0].value == "结论 #1 已删除。"
    assert at.info[0].value.startswith("还没有结论")


def test_handoffs_page_offers_pairs_and_ping_pong(db_path, monkeypatch):
    at = start(db_path, monkeypatch)
    at.switch_page("pages/handoffs.py").run()
    assert not at.exception
    options = at.selectbox(key="kb_figure").options
    assert options[0] == "交接 市场部-策划室 → 财务部"
    assert "来回返工 市场部-策划室 ↔ 财务部" in options
    at.selectbox(key="kb_figure").set_value("来回返工 市场部-策划室 ↔ 财务部").run()
    assert at.text_input(key="kb_title").value.startswith("市场部-策划室 ↔ 财务部 来回返工涉及 712 个案例")
    at.button(key="kb_save").click().run()
    assert not at.exception
    with store.connect(db_path) as con:
        saved = kb.get_finding(con, 1)
    assert (saved.evidence.kind, saved.evidence.page, saved.evidence.figures["occurrences"]) == (
        "pingpong", "handoffs", 2098)


def test_overview_names_a_saved_pattern_the_log_shows(db_path, monkeypatch):
    save_directly(db_path, "方案修改太慢", "方案修改")  # not a bottleneck in the sample: no notice
    at = start(db_path, monkeypatch)
    assert not any("已保存结论中的模式" in i.value for i in at.info)
    save_directly(db_path, "财务部审批排队", "预算审批")
    at.run()
    assert not at.exception
    notice = at.info[0].value
    assert notice.startswith("此日志出现了已保存结论中的模式")
    assert "“财务部审批排队”（瓶颈 预算审批，现排第 1）" in notice and "方案修改太慢" not in notice
    assert at.selectbox(key="kb_figure").options == ["所选案例的关键指标"]  # the Overview's own form


def test_viewers_read_the_knowledge_base_but_cannot_change_it(db_path, monkeypatch):
    save_directly(db_path, "财务部审批排队", "预算审批")
    at = start(db_path, monkeypatch, viewer=True)
    assert at.info[0].value.startswith("此日志出现了已保存结论中的模式")
    at.switch_page("pages/bottlenecks.py").run()
    assert not at.exception
    assert "kb_save" not in [b.key for b in at.button]
    at.switch_page("pages/knowledge.py").run()
    assert not at.exception
    keys = [b.key for b in at.button]
    assert "kb_rerun" in keys and "kb_delete" not in keys and "kb_outcome_save" not in keys
    at.button(key="kb_rerun").click().run()
    assert not at.exception
    assert table(at, "现在")["当时"].tolist() == table(at, "现在")["现在"].tolist()
