"""The Bottlenecks and Hand-offs pages through AppTest: findings at the top, every widget path, the sample's
injected problems visible where a manager looks (SAMPLE_TRUTH.md)."""

from __future__ import annotations

import datetime as dt
import json


def spec(at, key: str) -> dict:
    return json.loads(next(c.proto.spec for c in at.get("plotly_chart") if c.proto.id.endswith(key)))


def test_bottlenecks_page_names_the_finance_queue_first(app):
    app.switch_page("pages/bottlenecks.py").run()
    assert not app.exception
    assert app.title[0].value == "瓶颈：时间耗在哪里"
    findings = app.info[0].value
    assert findings.startswith("- **预算审批**（财务部）占全部等待时间的 **49%**")
    table = next(d.value for d in app.dataframe if "环节" in d.value.columns)
    assert table["环节"].tolist()[:2] == ["预算审批", "物资采购"]
    for key in ("bn_pareto", "bn_split", "bn_trend", "bn_heat", "bn_paths"):
        assert spec(app, key)["data"], key


def test_bottlenecks_heatmap_and_working_time(app):
    app.switch_page("pages/bottlenecks.py").run()
    app.selectbox(key="bn_attr").set_value("活动类型").run()
    assert not app.exception
    heat = spec(app, "bn_heat")
    assert set(heat["data"][0]["y"]) == {"创新试点", "新品上市", "品牌活动", "常规促销"}
    app.radio(key="bn_wt_mode").set_value("working").run()
    assert not app.exception
    assert "时长按工作时间计算" in app.info[0].value
    # The sample's holidays are filled in; a typo is reported, not dropped silently.
    assert "2024-10-01" in app.text_area(key="bn_wt_holidays").value
    app.text_area(key="bn_wt_holidays").input("2024-10-01..2024-10-07\n2024-13-01").run()
    assert not app.exception
    assert any("2024-13-01" in w.value for w in app.warning)
    app.time_input(key="bn_wt_end").set_value(dt.time(8, 0)).run()  # closes before it opens
    assert not app.exception
    assert any("日历设置无效" in e.value and "办公时间必须在同一天内从早到晚：09:00–08:00" in e.value for e in app.error)


def test_handoffs_page_matrix_pingpong_cost_front_line(app):
    app.switch_page("pages/handoffs.py").run()
    assert not app.exception
    assert app.title[0].value == "交接：工作在等谁？"
    findings = app.info[0].value
    assert "**市场部-策划室 → 财务部**（4,049 次）" in findings  # costliest hand-off: 3,000 approvals + 1,049 returns
    assert "来回最多：**市场部-策划室 ↔ 财务部**，涉及 712 个案例" in findings  # SAMPLE_TRUTH: 712 cases returned
    # Front line = the four regional branches by default.
    assert sorted(app.multiselect(key="ho_front").value) == sorted(
        ["区域分公司-华北", "区域分公司-华东", "区域分公司-华南", "区域分公司-西部"])
    pings = next(d.value for d in app.dataframe if "往复双方" in d.value.columns)
    assert pings["往复双方"].tolist() == ["市场部-策划室 ↔ 财务部", "市场部-广告室 ↔ 法务部"]
    assert pings["次数"].tolist() == [2098, 642]
    for measure in ("median_wait_seconds", "p90_wait_seconds", "cases"):
        app.radio(key="ho_measure").set_value(measure).run()
        assert not app.exception
    assert spec(app, "ho_cost")["data"]
    front = next(d.value for d in app.dataframe if "占一线等待（%）" in d.value.columns)
    assert set(front["部门"]) >= {"财务部", "采购部"}
    app.multiselect(key="ho_front").set_value([]).run()
    assert not app.exception
    assert any("请在上方选择一线部门" in i.value for i in app.info)


def test_handoffs_page_resource_level(app):
    app.switch_page("pages/handoffs.py").run()
    app.radio(key="ho_level").set_value("resource").run()
    assert not app.exception
    app.slider(key="ho_top").set_value(10).run()
    assert not app.exception
    assert len(app.get("graphviz_chart")) == 1


def test_diagnosis_pages_follow_the_filter(app):
    log_id = app.session_state["active_log"]
    app.switch_page("pages/bottlenecks.py").run()
    app.sidebar.multiselect(key=f"flt_attr_{log_id}_活动类型").set_value(["创新试点"]).run()
    assert not app.exception
    app.switch_page("pages/handoffs.py").run()
    assert not app.exception
    app.sidebar.multiselect(key=f"flt_present_{log_id}").set_value(["提交活动申请"]).run()
    app.sidebar.number_input(key=f"flt_cmax_{log_id}").set_value(1.0).run()  # no case is that fast
    assert not app.exception
    app.switch_page("pages/bottlenecks.py").run()
    assert not app.exception
    assert any("没有" in w.value or "无" in w.value for w in app.warning)
