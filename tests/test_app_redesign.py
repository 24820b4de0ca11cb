"""The Redesign page through AppTest: the shipped scenario, editing operations, saving, the maps and KPIs."""

from __future__ import annotations

import json

import pytest

from analysis import redesign, store


@pytest.fixture
def page(scratch_app):
    scratch_app.switch_page("pages/redesign.py").run()
    assert not scratch_app.exception
    return scratch_app


def kpis(at):
    return next(d.value for d in at.dataframe if "指标" in d.value.columns).set_index("指标")


def test_shipped_scenario_is_chosen_and_shortens_the_cycle(page):
    assert page.title[0].value == "流程再造：目标流程与现状对比"
    assert page.selectbox(key="rd_scenario").value.startswith("端到端活动团队")
    table = kpis(page)
    assert table.loc["周期时间中位数", "变化"].startswith("−")  # shorter
    assert table.loc["每案例交接次数", "变化"].startswith("-")
    assert len(page.get("iframe")) == 2  # as-is and to-be maps
    assert any("新路径" in c.value for c in page.caption)


def test_edit_operations_save_and_switch(page):
    page.selectbox(key="rd_scenario").set_value("\x00new").run()
    assert not page.exception
    assert kpis(page)["变化"].tolist()[0] in ("0 分钟", "–")  # nothing changed yet
    page.selectbox(key="rd_op").set_value("remove").run()
    page.multiselect(key="rd_acts").set_value(["活动评估"]).run()
    page.button(key="rd_add").click().run()
    assert not page.exception
    assert page.session_state["rd_ops"] == [{"op": "remove", "activities": ["活动评估"]}]
    assert kpis(page).loc["周期时间中位数", "变化"].startswith("−")
    page.selectbox(key="rd_op").set_value("cap_wait").run()
    page.multiselect(key="rd_acts2").set_value(["物资采购"]).run()
    page.number_input(key="rd_hours").set_value(8.0).run()
    page.button(key="rd_add").click().run()
    assert len(page.session_state["rd_ops"]) == 2
    page.button(key="rd_del_0").click().run()
    assert page.session_state["rd_ops"] == [{"op": "cap_wait", "activities": ["物资采购"], "hours": 8.0}]
    page.text_input(key="rd_name").input("采购时限").run()
    page.button(key="rd_save").click().run()
    assert not page.exception
    assert page.selectbox(key="rd_scenario").value == "采购时限"
    with store.connect() as con:
        saved = dict((s.name, s) for _, s in redesign.list_scenarios(con))
    assert json.loads(saved["采购时限"].operations_json) == [{"op": "cap_wait", "activities": ["物资采购"], "hours": 8.0}]
    exported = next(b for b in page.get("download_button") if b.proto.id.endswith("rd_export"))
    assert exported is not None
    page.button(key="rd_delete").click().run()
    assert not page.exception
    with store.connect() as con:
        assert "采购时限" not in {s.name for _, s in redesign.list_scenarios(con)}


def test_an_invalid_operation_is_refused_with_the_reason(page):
    page.selectbox(key="rd_op").set_value("merge").run()
    page.multiselect(key="rd_acts").set_value(["定稿"]).run()  # merge needs two
    page.button(key="rd_add").click().run()
    assert not page.exception
    assert any("未添加" in e.value and '"activities" 必须是至少 2 个名称的列表' in e.value for e in page.error)
    assert len(page.session_state["rd_ops"]) == 3  # the shipped scenario's three operations, nothing added


def test_parallel_and_team_operations_through_the_form(page):
    page.selectbox(key="rd_scenario").set_value("\x00new").run()
    page.selectbox(key="rd_op").set_value("parallel").run()
    page.multiselect(key="rd_branch1").set_value(["促销系统配置"]).run()
    page.multiselect(key="rd_branch2").set_value(["物资配送"]).run()
    page.button(key="rd_add").click().run()
    page.selectbox(key="rd_op").set_value("shared_team").run()
    page.multiselect(key="rd_team").set_value(["采购部", "物流部"]).run()
    page.button(key="rd_add").click().run()
    assert not page.exception
    assert [op["op"] for op in page.session_state["rd_ops"]] == ["parallel", "shared_team"]
    assert kpis(page).loc["每案例涉及部门数", "变化"].startswith("-")


def test_conformance_of_todays_cases_to_the_to_be_flow(page):
    # The shipped scenario keeps every activity and today's order is one of the to-be interleavings: all fit.
    fitness = {m.label: m.value for m in page.metric}
    assert fitness["拟合度"] == "100.0%" and fitness["符合的案例"] == "100.0%"
    # Removing evaluation: every case that had one (1,528 in the generator's frame) does an extra step.
    page.selectbox(key="rd_scenario").set_value("\x00new").run()
    page.selectbox(key="rd_op").set_value("remove").run()
    page.multiselect(key="rd_acts").set_value(["活动评估"]).run()
    page.button(key="rd_add").click().run()
    assert not page.exception
    deviations = next(d.value for d in page.dataframe if "偏差" in d.value.columns)
    first = deviations.iloc[0]
    assert (first["环节"], first["部门"], first["案例数"]) == ("活动评估", "市场部-策划室", 1528)
    assert first["偏差"].startswith("多余")
    assert float({m.label: m.value for m in page.metric}["符合的案例"].rstrip("%")) == pytest.approx(
        100 * (3000 - 1528) / 3000, abs=0.05)
