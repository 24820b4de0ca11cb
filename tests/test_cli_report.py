"""The report command: a self-contained HTML file and the tables as Excel; plain errors with exit code 2."""

from __future__ import annotations

import json

import openpyxl
from test_cli import failed, ok
from test_report import Page


def test_report_writes_html_and_excel(cli, tiny_log, tmp_path):
    ok(cli("import", tiny_log))
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"name": "no B", "operations": [{"op": "remove", "activities": ["B"]}]}),
                        encoding="utf-8")
    out, excel = tmp_path / "report.html", tmp_path / "tables.xlsx"
    data = ok(cli("report", "1", "--scenario", scenario, "--lang", "en", "--out", out, "--excel", excel, "--json"))
    text = out.read_text(encoding="utf-8")
    assert data["bytes"] == out.stat().st_size and data["charts"] == text.count('class="plotly-graph-div"') == 3
    assert "Process diagnosis report" in text and "Redesign: no B" in text and ">4</div>" in text  # 4 cases
    links = [v for _, attrs in Page(text).tags for k, v in attrs.items() if k in ("src", "href")]
    assert links and all(v.startswith("#") for v in links)  # only the contents' anchors
    assert openpyxl.load_workbook(excel).sheetnames == data["sheets"] == [
        "KPIs", "Steps", "Paths", "Map edges", "Hand-offs", "Ping-pong", "Redesign", "Deviations"]


def test_report_in_chinese_with_a_filter_and_plain_messages(cli, tiny_log, tmp_path):
    ok(cli("import", tiny_log))
    flt = tmp_path / "f.json"
    flt.write_text(json.dumps({"activities_present": ["B"]}), encoding="utf-8")
    out = tmp_path / "r.html"
    said = ok(cli("report", "1", "--filter", flt, "--lang", "zh", "--out", out))
    assert said.startswith(f"报告已写入 {out}")
    text = out.read_text(encoding="utf-8")
    assert "流程诊断报告" in text and "包含活动（任一）: B" in text and ">3</div>" in text  # cases 1, 3 and 4


def test_report_errors_are_plain(cli, tiny_log, tmp_path):
    ok(cli("import", tiny_log))
    out = tmp_path / "r.html"
    assert "No log" in failed(cli("report", "9", "--out", out))
    bad = tmp_path / "bad.json"
    bad.write_text('{"operations": [', encoding="utf-8")
    assert "not valid JSON" in failed(cli("report", "1", "--scenario", bad, "--out", out))
    assert "No finding 7" in failed(cli("report", "1", "--finding", "7", "--out", out))
    assert failed(cli("report", "1", "--out", tmp_path / "missing" / "r.html"))
    code, _, err = cli("report", "1")  # --out is required
    assert code == 2 and "--out" in err
    assert not out.exists()


def test_report_with_two_groups_compared(cli, tiny_log, tmp_path):
    # TINY_LOG: cases 1, 2 (3 h, 30 min) started 03-05, cases 3, 4 (6 h, 20 min) later: medians 105 min, 3.2 h.
    ok(cli("import", tiny_log))
    groups, out = tmp_path / "groups.json", tmp_path / "report.html"
    groups.write_text('{"split": "period", "date": "2024-03-06"}', encoding="utf-8")
    data = ok(cli("report", "1", "--compare", groups, "--lang", "en", "--out", out, "--excel", tmp_path / "t.xlsx",
                  "--json"))
    said = Page(out.read_text(encoding="utf-8")).joined("#compare")
    assert "A = started before 2024-03-06 (2 cases); B = started on 2024-03-06 or later (2 cases)." in said
    assert "B takes 85 min longer at the median than A (3.2 h against 105 min)." in said
    assert data["sheets"][-3:] == ["Compare KPIs", "Compare steps", "Compare paths"]
    groups.write_text('{"split": "period", "date": "6 March"}', encoding="utf-8")
    err = failed(cli("report", "1", "--compare", groups, "--out", out))
    assert f"{groups}: '6 March' is not a date YYYY-MM-DD" in err
