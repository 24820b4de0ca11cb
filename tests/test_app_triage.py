"""The Project-or-routine page through AppTest: it loads on the sample, its split follows the thresholds and the
filter exactly as the analysis layer computes it, and the case list can be downloaded."""

from __future__ import annotations

import re

import pytest

from analysis import sample, store, triage
from analysis.filters import CaseFilter

PAGE = "pages/triage.py"
TYPE_COLUMN = sample.COLUMNS["zh"]["type"]


@pytest.fixture
def page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def projects_shown(at) -> int:
    """The number of project campaigns the finding at the top states ("… 3,000 个中的 1,278 个 …")."""
    text = next(m.value for m in at.markdown if "应按项目运作" in m.value)
    return int(re.search(r"中的 ([\d,]+) 个", text).group(1).replace(",", ""))


def expected_projects(sample_db: str, log_id: int, thresholds: triage.Thresholds, flt: CaseFilter | None = None) -> int:
    with store.connect(sample_db) as con:
        t = triage.triage(triage.case_features(con, log_id, flt), thresholds)
    return int((t["track"] == "project").sum())


def test_page_loads_with_finding_comparison_chart_and_list(page, sample_db):
    assert page.title[0].value == "项目制还是标准化"
    log_id = page.session_state["active_log"]
    assert projects_shown(page) == expected_projects(sample_db, log_id, triage.Thresholds())
    assert any(m.value.startswith("**计分规则：**") for m in page.markdown)
    comparison = next(d.value for d in page.dataframe if "指标" in d.value.columns)
    assert list(comparison.columns) == ["指标", "项目制", "标准化"]
    assert comparison.iloc[0].tolist()[0] == "活动数"
    assert any(c.proto.id.endswith("tg_scatter") for c in page.get("plotly_chart"))
    cases = next(d.value for d in page.dataframe if "原因（得分）" in d.value.columns)
    assert len(cases) == 500 and cases["分数"].is_monotonic_decreasing
    by_type = next(d.value for d in page.dataframe if "项目制占比" in d.value.columns)
    assert set(by_type["取值"]) == {"常规促销", "新品上市", "品牌活动", "创新试点"}  # the first attribute: campaign type
    assert by_type["取值"].iloc[-1] == "常规促销"  # the least likely to be a project


def test_threshold_changes_move_the_split(page, sample_db):
    log_id = page.session_state["active_log"]
    before = projects_shown(page)
    page.slider(key="tg_cutoff").set_value(6).run()
    assert not page.exception
    stricter = projects_shown(page)
    assert stricter == expected_projects(sample_db, log_id, triage.Thresholds(cutoff=6)) < before
    page.number_input(key="tg_handoffs").set_value(12).run()
    assert not page.exception
    assert projects_shown(page) == expected_projects(sample_db, log_id, triage.Thresholds(cutoff=6, handoffs=12)) < stricter
    page.number_input(key="tg_budget").set_value(100_000.0).run()
    page.number_input(key="tg_rare").set_value(10.0).run()
    assert not page.exception
    looser = triage.Thresholds(cutoff=6, handoffs=12, budget=100_000, rare_share=0.10)
    assert projects_shown(page) == expected_projects(sample_db, log_id, looser)


def test_global_filter_applies(page, sample_db):
    log_id = page.session_state["active_log"]
    page.sidebar.multiselect(key=f"flt_attr_{log_id}_{TYPE_COLUMN}").set_value(["新品上市"]).run()
    assert not page.exception
    flt = CaseFilter(attributes=((TYPE_COLUMN, ("新品上市",)),))
    assert projects_shown(page) == expected_projects(sample_db, log_id, triage.Thresholds(), flt)


def test_csv_download_exists(page):
    buttons = [b for b in page.get("download_button") if b.proto.id.endswith("tg_csv")]
    assert len(buttons) == 1 and buttons[0].proto.label == "下载分类结果（CSV）"


def test_page_in_english(app):
    # One run for both: AppTest cannot rerun format_func widgets after a language switch (see test_app_pages).
    app.switch_page(PAGE)
    app.sidebar.radio(key="lang_choice").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == "Project or routine"
    assert any("should run as projects" in m.value for m in app.markdown)
