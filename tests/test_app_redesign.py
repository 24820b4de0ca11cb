"""The Redesign page through AppTest: the shipped scenario, editing operations, saving, the maps and KPIs."""

from __future__ import annotations

import json
import re

import pytest
from apptest_support import APP
from streamlit.testing.v1 import AppTest

from analysis import defaults, redesign, sample, store, waiting_causes
from analysis.importer import import_file
from analysis.texts import t


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
    # Removing evaluation: every case that had one (counted in the generator's frame) does an extra step.
    frame = sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh")
    evaluated = frame.loc[frame["活动"] == "活动评估", "案例编号"].nunique()
    page.selectbox(key="rd_scenario").set_value("\x00new").run()
    page.selectbox(key="rd_op").set_value("remove").run()
    page.multiselect(key="rd_acts").set_value(["活动评估"]).run()
    page.button(key="rd_add").click().run()
    assert not page.exception
    deviations = next(d.value for d in page.dataframe if "偏差" in d.value.columns)
    first = deviations.iloc[0]
    assert (first["环节"], first["部门"], first["案例数"]) == ("活动评估", "市场部-策划室", evaluated)
    assert first["偏差"].startswith("多余")
    assert float({m.label: m.value for m in page.metric}["符合的案例"].rstrip("%")) == pytest.approx(
        100 * (3000 - evaluated) / 3000, abs=0.05)


# --- From a waiting cause: a preset removing (a share of) why a step waits. ---------------------------------

def _why_rows():
    """waiting_causes.diagnose by activity on the app's store (the sample log), most waiting first."""
    with store.connect() as con:
        return waiting_causes.diagnose(con, store.list_logs(con)[0].log_id).rows


def test_a_scenario_from_a_waiting_cause(page):
    rows = _why_rows()
    steps = page.selectbox(key="rd_why_activity")
    waiting = rows[rows["wait_seconds"] > 0]
    assert [o.split(" — ")[0] for o in steps.options] == waiting["key"].tolist()  # most waiting first
    label = next(o for o in steps.options if o.startswith("预算审批"))
    budget = rows.set_index("key").loc["预算审批"]
    shown = re.match(r"预算审批 — 批处理 (\d+)%", label)  # batching first: the largest share
    assert shown and abs(int(shown[1]) - 100 * budget["batching_seconds"] / budget["wait_seconds"]) < 1
    steps.set_value("预算审批").run()
    preset = page.radio(key="rd_why_preset")
    assert preset.options[0].startswith("取消批处理")
    preset.set_value("batching").run()
    page.button(key="rd_why_new").click().run()
    assert not page.exception
    assert page.selectbox(key="rd_scenario").value == "\x00new"
    assert page.session_state["rd_ops"] == [{"op": "reduce_wait_cause", "activities": ["预算审批"],
                                             "causes": ["batching"], "share": 1.0}]
    assert page.text_input(key="rd_name").value == "预算审批：取消批处理（如改为每日审批）"
    assert any("消除等待原因: 预算审批 − 批处理的 100%" in m.value for m in page.markdown)
    table = kpis(page)
    assert table.loc["周期时间中位数", "变化"].startswith("−")
    assert table.loc["每案例交接次数", "变化"] in ("+0.00", "0.00", "-0.00")


def test_extra_capacity_at_half_is_added_to_the_scenario_with_its_caveat(page):
    assert len(page.session_state["rd_ops"]) == 3  # the shipped scenario
    steps = page.selectbox(key="rd_why_activity")
    # The step with the most contention + prioritisation has the capacity preset.
    rows = _why_rows()
    queued = rows.set_index("key")[["contention_seconds", "prioritization_seconds"]].sum(axis=1)
    steps.set_value(queued.idxmax()).run()
    page.radio(key="rd_why_preset").set_value("capacity").run()
    assert any("没有产能模型" in c.value for c in page.caption)
    page.slider(key="rd_why_share").set_value(50).run()
    page.button(key="rd_why_add").click().run()
    assert not page.exception
    ops = page.session_state["rd_ops"]
    assert len(ops) == 4 and ops[-1] == {"op": "reduce_wait_cause", "activities": [queued.idxmax()],
                                         "causes": ["contention", "prioritization"], "share": 0.5}
    assert page.selectbox(key="rd_scenario").value.startswith("端到端活动团队")  # still the same scenario


def test_a_cause_operation_on_a_step_the_log_lacks_is_an_error_not_a_crash(page):
    page.session_state["rd_ops"] = [{"op": "reduce_wait_cause", "activities": ["不存在"], "causes": ["batching"]}]
    page.run()
    assert not page.exception
    assert any("此日志中没有" in e.value and "不存在" in e.value for e in page.error)


def test_a_log_without_start_times_hides_the_control_with_the_reason(write, tmp_path, monkeypatch):
    path = write("ends.csv", "case,activity,timestamp,resource\n1,a,2024-01-01 09:00,x\n1,b,2024-01-02 09:00,y\n"
                             "2,a,2024-01-01 10:00,x\n2,b,2024-01-03 09:00,x\n")
    db = tmp_path / "ends.duckdb"
    with store.connect(db) as con:
        import_file(con, path)
    monkeypatch.setenv("PROCDIAG_DB", str(db))
    monkeypatch.delenv("PROCDIAG_VIEWER", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/redesign.py").run()
    assert not at.exception
    assert any(i.value.startswith("此日志无法从等待原因生成方案") and t("err.why_no_start", "zh") in i.value
               for i in at.info)
    assert not [s for s in at.selectbox if s.key == "rd_why_activity"]
