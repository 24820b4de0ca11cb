"""The redesign command: scenario file in, as-is / to-be KPIs, deltas and conformance out; plain errors."""

from __future__ import annotations

import json

from test_cli import failed, ok


def test_redesign_json_on_tiny_log(cli, tiny_log, tmp_path):
    # TINY_LOG cycle times 3 h, 30 min, 6 h, 20 min (median 1 h 45 min). Removing C ends every case at its
    # last B (or A): case 1 at 10:00 (1 h), case 2 at 09:00 (0), case 3 at 10:00 (2 h), case 4 at 09:10 (10 min)
    # → median (10 min + 1 h) / 2 = 35 min. Departments: case 1 Sales, Finance, Sales → Sales, Finance (1 hand-off).
    ok(cli("import", tiny_log))
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"name": "no C", "operations": [{"op": "remove", "activities": ["C"]}]}),
                        encoding="utf-8")
    data = ok(cli("redesign", "1", "--scenario", scenario, "--json"))
    assert data["scenario"] == "no C"
    assert data["as_is"]["median_cycle_seconds"] == 6300 and data["to_be"]["median_cycle_seconds"] == 2100
    assert data["delta"]["median_cycle_seconds"]["value"] == -4200
    assert data["as_is"]["handoffs_per_case"] == 1.5 and data["to_be"]["handoffs_per_case"] == 0.75
    conformance = data["conformance"]
    assert conformance["fitting_cases_share"] == 0.0  # every case did C, which the to-be flow lacks
    assert [(d["activity"], d["kind"], d["cases"]) for d in conformance["deviations"]] == [("C", "extra", 4)]


def test_redesign_scenario_errors_are_plain(cli, tiny_log, tmp_path):
    ok(cli("import", tiny_log))
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "operations": [{"op": "cap_wait", "activities": ["B"]}]}', encoding="utf-8")
    assert '"hours" must be a positive number' in failed(cli("redesign", "1", "--scenario", bad))
    bad.write_text('{"operations": [', encoding="utf-8")
    assert "not valid JSON" in failed(cli("redesign", "1", "--scenario", bad))
    # In Chinese too, still naming the file and the operation.
    bad.write_text('{"name": "x", "operations": [{"op": "merge", "activities": ["A"]}]}', encoding="utf-8")
    err = failed(cli("redesign", "1", "--scenario", bad, "--lang", "zh"))
    assert f"{bad}：第 1 个操作（merge）：\"activities\" 必须是至少 2 个名称的列表" in err
    bad.write_text('{"operations": [', encoding="utf-8")
    assert "不是有效的 JSON（第 1 行第 17 列" in failed(cli("redesign", "1", "--scenario", bad, "--lang", "zh"))
    calendar = tmp_path / "cal.json"
    calendar.write_text('{"day_start": "9 am"}', encoding="utf-8")
    err = failed(cli("bottlenecks", "1", "--calendar", calendar, "--lang", "zh"))
    assert f"{calendar}：'9 am' 不是 HH:MM 格式的时刻" in err
    calendar.write_text('{"workdays": 5}', encoding="utf-8")   # not a list: a plain error, no traceback
    err = failed(cli("bottlenecks", "1", "--calendar", calendar))
    assert f"{calendar}: Working days are numbers 0 (Monday) to 6 (Sunday), at least one" in err


# Bob approves B for cases 1-3 back to back from 10:00, a batch (worked out in tests/test_redesign_causes.py):
# batching 1 h, 30 min and 1 h 30 min. Cycle times 2 h 30 min, 3 h, 3 h 30 min and case 4's 2 h 30 min
# (median 2 h 45 min); without the batching 1 h 30 min, 2 h 30 min, 2 h, 2 h 30 min (median 2 h 15 min).
CAUSES_LOG = """case,activity,start,end,resource,department
1,A,2024-03-04 08:00,2024-03-04 09:00,Ann,Sales
1,B,2024-03-04 10:00,2024-03-04 10:30,Bob,Finance
2,A,2024-03-04 08:00,2024-03-04 09:30,Cy,Sales
2,B,2024-03-04 10:30,2024-03-04 11:00,Bob,Finance
3,A,2024-03-04 08:00,2024-03-04 08:30,Dee,Sales
3,B,2024-03-04 11:00,2024-03-04 11:30,Bob,Finance
4,A,2024-03-04 12:00,2024-03-04 13:00,Ann,Sales
4,C,2024-03-04 14:00,2024-03-04 14:30,Eve,Legal
"""


def test_redesign_removes_a_waiting_cause(cli, write, tmp_path):
    ok(cli("import", write("causes.csv", CAUSES_LOG)))
    scenario = tmp_path / "daily.json"
    scenario.write_text(json.dumps({"name": "approve daily", "operations": [
        {"op": "reduce_wait_cause", "activities": ["B"], "causes": ["batching"], "share": 1.0}]}), encoding="utf-8")
    data = ok(cli("redesign", "1", "--scenario", scenario, "--json"))
    assert data["as_is"]["median_cycle_seconds"] == 9900 and data["to_be"]["median_cycle_seconds"] == 8100
    assert data["delta"]["handoffs_per_case"]["value"] == 0
    assert data["conformance"]["fitting_cases_share"] == 1.0  # the flow itself is unchanged


def test_redesign_cause_errors_are_plain(cli, write, tiny_log, tmp_path):
    ok(cli("import", write("causes.csv", CAUSES_LOG)))
    bad = tmp_path / "bad.json"
    bad.write_text('{"operations": [{"op": "reduce_wait_cause", "activities": ["B"], "causes": ["lunch"]}]}',
                   encoding="utf-8")
    assert f"{bad}: operation 1 (reduce_wait_cause): unknown waiting cause lunch" in failed(
        cli("redesign", "1", "--scenario", bad))
    bad.write_text('{"operations": [{"op": "reduce_wait_cause", "activities": ["B"], "causes": ["batching"], '
                   '"share": 2}]}', encoding="utf-8")
    assert "第 1 个操作（reduce_wait_cause）：\"share\" 必须是 0 到 1 之间的数" in failed(
        cli("redesign", "1", "--scenario", bad, "--lang", "zh"))
    bad.write_text('{"operations": [{"op": "reduce_wait_cause", "activities": ["Z"], "causes": ["batching"]}]}',
                   encoding="utf-8")
    assert 'operation 1 (reduce_wait_cause): not in this log ("activities"): Z' in failed(
        cli("redesign", "1", "--scenario", bad))
    # TINY_LOG has no start timestamps: the message the Bottlenecks page shows.
    ok(cli("import", tiny_log))
    bad.write_text('{"operations": [{"op": "reduce_wait_cause", "activities": ["B"], "causes": ["batching"]}]}',
                   encoding="utf-8")
    assert "this log has no start timestamps" in failed(cli("redesign", "2", "--scenario", bad))
