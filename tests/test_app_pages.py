"""The dashboard as a person uses it, through Streamlit's AppTest: start-up, language, filter, import, manage logs."""

from __future__ import annotations

import pytest
from apptest_support import APP, TYPE_COLUMN, chart_spec, expected_sample_cases, metric, table_with_column
from streamlit.testing.v1 import AppTest

from analysis import defaults, sample, store


def test_app_starts_on_sample_overview(app):
    assert app.title[0].value == "总览"
    assert metric(app, "案例数") == f"{expected_sample_cases():,}"
    assert metric(app, "周期时间中位数").endswith("天")
    assert len(app.get("plotly_chart")) >= 3


def test_language_switch_changes_labels(app):
    app.sidebar.radio(key="lang_choice").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == "Overview"
    assert metric(app, "Cases") == f"{expected_sample_cases():,}"
    assert metric(app, "Median cycle time").endswith("days")
    # (Switching back is checked in the browser test: AppTest keeps the previous language's option
    # labels of format_func widgets and cannot map them back.)


def test_filter_on_case_attribute_changes_kpis(app):
    log_id = app.session_state["active_log"]
    routine = "常规促销"
    app.sidebar.multiselect(key=f"flt_attr_{log_id}_{TYPE_COLUMN}").set_value([routine]).run()
    assert not app.exception
    assert metric(app, "案例数") == f"{expected_sample_cases(routine):,}"
    app.sidebar.button(key="flt_reset").click().run()
    assert metric(app, "案例数") == f"{expected_sample_cases():,}"


def test_time_filter_keeps_cases_started_in_range(app, sample_db):
    log_id = app.session_state["active_log"]
    app.sidebar.selectbox(key=f"flt_mode_{log_id}").set_value("started").run()
    import datetime as dt

    app.sidebar.date_input(key=f"flt_time_{log_id}").set_value((dt.date(2024, 1, 2), dt.date(2024, 6, 30))).run()
    assert not app.exception
    frame = sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh")
    cols = sample.COLUMNS["zh"]
    starts = frame.groupby(cols["case"])[cols["start"]].min()
    expected = int((starts < "2024-07-01").sum())
    assert metric(app, "案例数") == f"{expected:,}"


def test_overview_box_plot_follows_attribute_choice(app):
    region = sample.COLUMNS["zh"]["region"]
    app.selectbox(key="ov_attr").set_value(region).run()
    assert not app.exception
    spec = chart_spec(app, "ov_box")
    assert region in spec["layout"]["title"]["text"]
    regions = {trace["name"] for trace in spec["data"]}
    # Each box stands at its own category (without x they all pile up at 0).
    assert all(trace["x"] == [trace["name"]] for trace in spec["data"])
    frame = sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh")
    assert regions == set(frame[region].unique())


def test_every_page_renders_without_exception(app):
    for page in ("pages/import_log.py", "pages/overview.py", "pages/process_map.py"):
        app.switch_page(page).run()
        assert not app.exception, page


GBK_CSV = (
    "案例编号,活动名称,完成时间,处理人,部门\n"
    "C1,提交活动申请,2024/3/5 9:07,王芳,区域分公司-华北\n"
    "C1,预算审批,2024/3/6 14:30,李强,财务部\n"
    "C2,提交活动申请,2024/3/5 10:15,王芳,区域分公司-华北\n"
    "C2,预算审批,2024/3/8 9:00,李强,财务部\n"
    "C2,活动执行,2024/3/12 16:45,赵敏,区域分公司-华北\n"
)


def test_import_page_imports_gbk_file_with_proposed_mapping(scratch_app, tmp_path):
    path = tmp_path / "campaigns_gbk.csv"
    path.write_bytes(GBK_CSV.encode("gbk"))
    at = scratch_app
    at.switch_page("pages/import_log.py").run()
    at.radio(key="im_source").set_value("path").run()
    at.text_input(key="im_path").input(str(path)).run()
    assert not at.exception
    proposed = {role: at.selectbox(key=f"im_map_{role}").value
                for role in ("case", "activity", "timestamp", "start", "resource", "department")}
    assert proposed == {"case": "案例编号", "activity": "活动名称", "timestamp": "完成时间", "start": "",
                        "resource": "处理人", "department": "部门"}
    examples = table_with_column(at, "解析结果（UTC）")
    assert dict(zip(examples.iloc[:, 0], examples.iloc[:, 1], strict=True))["2024/3/5 9:07"] == "2024-03-05 09:07:00"
    at.text_input(key="im_name").input("GBK campaigns").run()
    at.button(key="im_go").click().run()
    assert not at.exception
    assert at.title[0].value == "总览"  # landed on the Overview of the new log
    assert at.success[0].value == "已导入“GBK campaigns”：2 个案例，5 个事件。"
    assert metric(at, "案例数") == "2"
    assert metric(at, "事件数") == "5"
    with store.connect() as con:
        names = [r[0] for r in con.execute("SELECT name FROM logs ORDER BY log_id").fetchall()]
        activities = {r[0] for r in con.execute(
            "SELECT activity FROM events e JOIN logs l USING (log_id) WHERE l.name = 'GBK campaigns'").fetchall()}
    assert names[-1] == "GBK campaigns"
    assert activities == {"提交活动申请", "预算审批", "活动执行"}


def test_import_page_broken_file_shows_rows_and_changes_nothing(scratch_app, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("Case ID,Activity,Complete Timestamp\nA,x,2024-03-05 09:00\nA,y,not a date\nB,,2024-03-06 10:00\n",
                    encoding="utf-8")
    with store.connect() as con:
        before = con.execute("SELECT count(*) FROM events").fetchone()[0], con.execute("SELECT count(*) FROM logs").fetchone()[0]
    at = scratch_app
    at.switch_page("pages/import_log.py").run()
    at.radio(key="im_source").set_value("path").run()
    at.text_input(key="im_path").input(str(path)).run()
    assert not at.exception
    report = table_with_column(at, "行号").set_index("问题")
    # Row numbers count the header as row 1: the bad date is on row 3, the missing activity on row 4.
    assert report.loc["“Complete Timestamp”列中有 1 个值不是可识别格式的时间。", "行号"] == "3"
    assert report.loc["“Complete Timestamp”列中有 1 个值不是可识别格式的时间。", "示例"] == "not a date"
    assert report.loc["1 行缺少活动名称。", "行号"] == "4"
    assert at.button(key="im_go").disabled
    with store.connect() as con:
        after = con.execute("SELECT count(*) FROM events").fetchone()[0], con.execute("SELECT count(*) FROM logs").fetchone()[0]
    assert after == before
    # Dropping invalid rows imports the one good row.
    at.radio(key="im_mode").set_value("drop").run()
    assert not at.button(key="im_go").disabled
    at.button(key="im_go").click().run()
    assert not at.exception
    assert metric(at, "事件数") == "1"


def test_manage_logs_rename_and_delete(scratch_app):
    at = scratch_app
    at.switch_page("pages/import_log.py").run()
    log_id = at.session_state["active_log"]
    at.text_input(key=f"im_rename_{log_id}").input("Campaigns 2024").run()
    at.button(key=f"im_rename_go_{log_id}").click().run()
    assert not at.exception
    with store.connect() as con:
        assert con.execute("SELECT name FROM logs WHERE log_id = ?", [log_id]).fetchone()[0] == "Campaigns 2024"
    assert at.button(key=f"im_delete_{log_id}").disabled  # needs the confirmation first
    at.checkbox(key=f"im_delete_ok_{log_id}").check().run()
    at.button(key=f"im_delete_{log_id}").click().run()
    assert not at.exception
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM events WHERE log_id = ?", [log_id]).fetchone()[0] == 0


def test_viewer_mode_has_no_import_or_edit_controls(tmp_path, monkeypatch):
    # A store of its own: in one process DuckDB will not open a file read-only that is open read-write.
    path = tmp_path / "shared.duckdb"
    with store.connect(path) as con:
        defaults.ensure_sample(con)
    monkeypatch.setenv("PROCDIAG_DB", str(path))
    monkeypatch.setenv("PROCDIAG_VIEWER", "1")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    assert at.title[0].value == "总览"
    assert [b.key for b in at.button] == []  # no import, rename or delete buttons anywhere (no filter yet)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/import_log.py")  # the Import page is not in the navigation at all


def test_import_page_asks_when_the_mapping_is_ambiguous(scratch_app, tmp_path):
    # Two columns could be the activity: the page proposes neither and blocks the import until one is chosen.
    path = tmp_path / "two_activities.csv"
    path.write_text("Case ID,Activity,Task,Complete Timestamp\nc1,a,A,2024-03-05 09:00\nc1,b,B,2024-03-05 10:00\n",
                    encoding="utf-8")
    at = scratch_app
    at.switch_page("pages/import_log.py").run()
    at.radio(key="im_source").set_value("path").run()
    at.text_input(key="im_path").input(str(path)).run()
    assert not at.exception
    box = at.selectbox(key="im_map_activity")
    assert box.value == "\x00choose"
    assert at.button(key="im_go").disabled
    box.set_value("Task").run()
    assert not at.exception
    assert not at.button(key="im_go").disabled
    at.button(key="im_go").click().run()
    assert not at.exception
    with store.connect() as con:
        activities = [r[0] for r in con.execute(
            "SELECT activity FROM events WHERE log_id = (SELECT max(log_id) FROM logs) ORDER BY pos").fetchall()]
    assert activities == ["A", "B"]
    # The next file with these columns starts on the choice made here, and the report says so.
    second = tmp_path / "two_activities_april.csv"
    second.write_text("Case ID,Activity,Task,Complete Timestamp\nc2,a,A,2024-04-05 09:00\nc2,b,B,2024-04-05 10:00\n",
                      encoding="utf-8")
    at.switch_page("pages/import_log.py").run()
    at.radio(key="im_source").set_value("path").run()
    at.text_input(key="im_path").input(str(second)).run()
    assert not at.exception
    assert at.selectbox(key="im_map_activity").value == "Task"
    assert not at.button(key="im_go").disabled
    report = next(d.value for d in at.dataframe if "问题" in d.value.columns)
    assert any("列映射沿用了此前导入的“two_activities.csv”" in text for text in report["问题"])


def test_import_page_remembers_excluded_activities(scratch_app, tmp_path):
    # Disco-style artificial Start / End events, left out once: the next export with these columns too.
    rows = "case,activity,timestamp\n{c},Start,2024-03-05 09:00\n{c},A,2024-03-05 09:00\n{c},End,2024-03-05 10:00\n"
    first, second = tmp_path / "march.csv", tmp_path / "april.csv"
    first.write_text(rows.format(c="m1"), encoding="utf-8")
    second.write_text(rows.format(c="a1"), encoding="utf-8")
    at = scratch_app
    at.switch_page("pages/import_log.py").run()
    at.radio(key="im_source").set_value("path").run()
    at.text_input(key="im_path").input(str(first)).run()
    assert at.multiselect(key="im_exclude").value == []
    at.multiselect(key="im_exclude").set_value(["Start", "End"]).run()
    at.button(key="im_go").click().run()
    assert not at.exception
    at.switch_page("pages/import_log.py").run()
    at.radio(key="im_source").set_value("path").run()
    at.text_input(key="im_path").input(str(second)).run()
    assert not at.exception
    assert at.multiselect(key="im_exclude").value == ["Start", "End"]
    # Another file in between (other columns, nothing to recall), then this one again: recalled again.
    other = tmp_path / "other.csv"
    other.write_text("case,activity,timestamp,resource\no1,A,2024-03-05 09:00,Ann\n", encoding="utf-8")
    at.text_input(key="im_path").input(str(other)).run()
    assert at.multiselect(key="im_exclude").value == []
    at.text_input(key="im_path").input(str(second)).run()
    assert at.multiselect(key="im_exclude").value == ["Start", "End"]
    at.button(key="im_go").click().run()
    assert not at.exception
    with store.connect() as con:
        kept = con.execute("SELECT activity FROM events WHERE log_id = (SELECT max(log_id) FROM logs)").fetchall()
    assert kept == [("A",)]


def test_process_map_page_sliders_and_overlays(app):
    app.switch_page("pages/process_map.py").run()
    assert not app.exception
    assert app.title[0].value == "流程图"
    full = app.caption[0].value
    assert full.startswith("显示 12/12 个活动")  # the sample has 12 activities
    app.slider(key="pm_activities").set_value(50).run()
    assert not app.exception
    assert app.caption[0].value.startswith("显示 6/12 个活动")
    for overlay in ("cases", "mean", "median", "p90"):
        app.radio(key="pm_overlay").set_value(overlay).run()
        assert not app.exception
    assert "三条路径" in app.caption[1].value  # the time views mark the bottleneck paths
    app.slider(key="pm_paths").set_value(0).run()
    assert not app.exception


def test_process_map_page_draws_its_own_svg_with_downloads(app):
    import xml.etree.ElementTree as ET

    app.switch_page("pages/process_map.py").run()
    assert not app.exception
    frame = app.get("iframe")[0].proto.srcdoc  # the zoomable page around the map
    svg = ET.fromstring(frame[frame.index("<svg"):frame.index("</svg>") + len("</svg>")])
    nodes = [g for g in svg.iter("{http://www.w3.org/2000/svg}g") if "node" in g.get("class", "").split()]
    assert len(nodes) == 12 + 2  # the sample's activities + ▶ ■
    assert [b.label for b in app.download_button] == ["下载 SVG", "下载 DOT", "下载路径数据（CSV）"]
    assert app.download_button(key="pm_svg").proto.url.endswith(".svg")
    app.radio(key="pm_overlay").set_value("p90").run()
    frame = app.get("iframe")[0].proto.srcdoc
    assert frame.count('data-highlight="1"') == 3  # the three bottleneck paths in red


def test_process_model_page_slider_and_downloads(app):
    app.switch_page("pages/process_model.py").run()
    assert not app.exception
    assert app.title[0].value == "发现的流程模型"
    assert app.slider(key="md_noise").value == 0.2
    charts = app.get("graphviz_chart")
    assert len(charts) == 1 and charts[0].proto.spec.startswith("digraph bpmn {")
    default = charts[0].proto.spec
    labels = {key: app.download_button(key=key).label for key in ("md_bpmn", "md_pnml", "md_dot")}
    assert labels == {"md_bpmn": "下载 BPMN 2.0 XML", "md_pnml": "下载 Petri 网（PNML）", "md_dot": "下载 DOT"}
    assert all(app.download_button(key=key).proto.url for key in labels)  # content was handed to the browser
    app.slider(key="md_noise").set_value(0.0).run()
    assert not app.exception
    assert app.get("graphviz_chart")[0].proto.spec != default  # every path kept: a different model
    assert app.metric[0].value == "100.00%" and app.metric[1].value == "100.0%"  # every case fits at noise 0
