"""The command line in a subprocess: JSON shapes, options, and plain messages (no traceback) on bad input."""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb

D = dt.datetime


def _not_json(constant: str):
    """json.loads' parse_constant: called for NaN, Infinity and -Infinity, none of which is JSON."""
    raise AssertionError(f"{constant} in the --json output (jq and strict parsers reject it)")


def strict_json(text: str) -> dict | list:
    """`text` parsed as strict JSON: NaN or Infinity in it fails the test."""
    return json.loads(text, parse_constant=_not_json)


def ok(result) -> dict | list | str:
    """The stdout of a command that succeeded, decoded (strictly) when it is JSON (--json)."""
    code, out, err = result
    assert code == 0, err
    assert "Traceback" not in err
    return strict_json(out) if out.lstrip().startswith(("{", "[")) else out


def failed(result) -> str:
    """The stderr of a command that failed as a user error, without a traceback."""
    code, out, err = result
    assert code != 0, out
    assert "Traceback" not in err and "Traceback" not in out
    return err


def stored(cli, sql: str) -> list[tuple]:
    """Rows of a query over the CLI's store."""
    with duckdb.connect(str(cli.db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_import_json(cli, tiny_log):
    data = ok(cli("import", tiny_log, "--json"))
    assert {"log_id", "cases", "events", "dropped_rows"} <= set(data)
    assert (data["log_id"], data["cases"], data["events"], data["dropped_rows"]) == (1, 4, 13, 0)


def test_logs_json(cli, tiny_log):
    assert ok(cli("logs", "--json")) == []
    ok(cli("import", tiny_log, "--json"))
    ok(cli("import", tiny_log, "--json"))
    logs = ok(cli("logs", "--json"))
    assert [(e["log_id"], e["name"], e["n_cases"], e["n_events"]) for e in logs] == [
        (1, "tiny.csv", 4, 13), (2, "tiny.csv (2)", 4, 13)]


def test_summary_json(cli, tiny_log):
    # Figures worked out by hand in test_store.py (TINY_LOG in conftest).
    ok(cli("import", tiny_log, "--name", "小日志"))
    data = ok(cli("summary", "小日志", "--json"))
    assert set(data) == {"cases", "events", "activities", "variants", "resources", "departments",
                         "cycle_time_seconds", "first_timestamp", "last_timestamp"}
    assert (data["cases"], data["events"], data["activities"], data["variants"], data["resources"],
            data["departments"]) == (4, 13, 3, 3, 4, 2)
    assert data["cycle_time_seconds"] == {"mean": 8850.0, "median": 6300.0, "p90": 18360.0}
    assert dt.datetime.fromisoformat(data["first_timestamp"]) == D(2024, 3, 5, 9, 0)
    assert dt.datetime.fromisoformat(data["last_timestamp"]) == D(2024, 3, 7, 9, 20)


def test_dfg_json(cli, tiny_log):
    ok(cli("import", tiny_log))
    data = ok(cli("dfg", "1", "--json"))
    assert set(data) == {"edges", "start_activities", "end_activities"}
    for edge in data["edges"]:
        assert set(edge) == {"source", "target", "frequency", "cases", "mean_seconds", "median_seconds"}
    edges = {(e["source"], e["target"]): (e["frequency"], e["cases"], e["mean_seconds"], e["median_seconds"])
             for e in data["edges"]}
    assert edges == {("A", "B"): (3, 3, 2000.0, 1800.0), ("B", "C"): (3, 3, 7400.0, 7200.0),
                     ("A", "C"): (1, 1, 1800.0, 1800.0), ("B", "B"): (2, 1, 2700.0, 2700.0)}
    assert (data["start_activities"], data["end_activities"]) == ({"A": 4}, {"C": 4})


def test_bad_input_names_the_problem_and_its_rows(cli, write):
    text = (
        "case,activity,timestamp\n"
        "1,A,2024-03-05 09:00\n"
        "1,B,2024-03-05 10:00\n"
        "1,,2024-03-05 11:00\n"    # row 4
        "2,A,2024-03-06 09:00\n"
        "2,B,2024-03-06 10:00\n"
        "2,,2024-03-06 11:00\n"    # row 7
    )
    path = write("bad.csv", text)
    err = failed(cli("import", path))
    assert "activity" in err
    assert re.search(r"\b4, 7\b", err), err
    assert ok(cli("logs", "--json")) == []  # nothing was written
    # --drop-invalid imports the rest and says how much it left out.
    data = ok(cli("import", path, "--drop-invalid", "--json"))
    assert (data["cases"], data["events"], data["dropped_rows"]) == (2, 4, 2)


def test_unparseable_timestamps_listed(cli, write):
    text = "case,activity,timestamp\n1,A,2024-03-05 09:00\n1,B,soon\n1,C,2024-03-05 11:00\n"
    err = failed(cli("import", write("soon.csv", text)))
    assert "soon" in err and re.search(r"\b3\b", err), err


def test_missing_file(cli, tmp_path):
    err = failed(cli("import", tmp_path / "nope.csv"))
    assert "nope.csv" in err


def test_empty_file(cli, write):
    err = failed(cli("import", write("empty.csv", b"")))
    assert "empty" in err


def test_unknown_log(cli, tiny_log):
    ok(cli("import", tiny_log))
    err = failed(cli("summary", "99"))
    assert "99" in err and "tiny.csv" in err  # names the log asked for and the logs that exist
    failed(cli("dfg", "no such log"))
    failed(cli("delete", "99"))


def test_ambiguous_mapping_stops_and_names_both_candidates(cli, write):
    text = (
        "Case ID,Activity,Task,Timestamp\n"
        "1,Plan,plan-v1,2024-03-05 09:00\n"
        "1,Approve,sign,2024-03-05 10:00\n"
    )
    path = write("two.csv", text)
    err = failed(cli("import", path))
    assert "Activity" in err and "Task" in err
    assert ok(cli("logs", "--json")) == []
    ok(cli("import", path, "--activity", "Task"))
    assert stored(cli, "SELECT activity FROM events ORDER BY pos") == [("plan-v1",), ("sign",)]
    # Next month's export has the same columns (in another order): the choice is remembered and said.
    again = write("two-april.csv", "Task,Timestamp,Case ID,Activity\nplan-v2,2024-04-05 09:00,2,Plan\n"
                                   "sign,2024-04-05 10:00,2,Approve\n")
    result = ok(cli("import", again, "--json"))
    assert stored(cli, f"SELECT activity FROM events WHERE log_id = {result['log_id']} ORDER BY pos") == [
        ("plan-v2",), ("sign",)]
    [note] = [p for p in result["problems"] if p["code"] == "mapping_remembered"]
    assert note["severity"] == "info" and "“two.csv”" in note["message"]
    # A flag still wins over the memory; another set of columns is not matched.
    result = ok(cli("import", again, "--activity", "Activity", "--json"))
    assert stored(cli, f"SELECT activity FROM events WHERE log_id = {result['log_id']} ORDER BY pos") == [
        ("Plan",), ("Approve",)]
    assert "mapping_remembered" not in [p["code"] for p in result["problems"]]
    other = write("three.csv", "Case ID,Activity,Task,Timestamp,Note\n1,Plan,plan-v1,2024-03-05 09:00,x\n")
    assert "Activity" in failed(cli("import", other))


def test_format_option(cli, write):
    text = "case,activity,timestamp\n1,A,05-03-2024:09.07\n1,B,13-03-2024:17.45\n"
    ok(cli("import", write("odd.csv", text), "--format", "%d-%m-%Y:%H.%M"))
    assert stored(cli, "SELECT ts FROM events ORDER BY pos") == [(D(2024, 3, 5, 9, 7),), (D(2024, 3, 13, 17, 45),)]


def test_monthfirst_option(cli, write):
    text = "case,activity,timestamp\n1,A,5/3/2024 09:07\n1,B,6/3/2024 10:00\n"
    ok(cli("import", write("us.csv", text), "--format", "monthfirst"))
    assert stored(cli, "SELECT ts FROM events ORDER BY pos") == [(D(2024, 5, 3, 9, 7),), (D(2024, 6, 3, 10, 0),)]


def test_exclude_activity_option(cli, write):
    text = (
        "case,activity,timestamp\n"
        "1,Start,2024-03-05 09:00\n1,A,2024-03-05 09:00\n1,B,2024-03-05 10:00\n1,End,2024-03-05 10:00\n"
    )
    data = ok(cli("import", write("disco.csv", text), "--exclude-activity", "Start", "--exclude-activity", "End",
                  "--json"))
    assert data["events"] == 2
    assert stored(cli, "SELECT activity FROM events ORDER BY pos") == [("A",), ("B",)]


def test_inspect_json_on_a_gbk_file(cli, write):
    text = "工单号,环节,完成时间,处理人\nW1,受理,2024/3/5 9:07,张三\nW1,办结,2024/3/5 10:00,李四\n"
    data = ok(cli("inspect", write("gbk.csv", text, "gbk"), "--json"))
    assert (data["encoding"], data["delimiter"], data["rows"]) == ("gb18030", ",", 2)
    assert data["mapping"] == {"case": "工单号", "activity": "环节", "timestamp": "完成时间", "start": None,
                               "resource": "处理人", "department": None}
    assert ok(cli("logs", "--json")) == []  # inspecting writes no log


def test_delete(cli, tiny_log):
    ok(cli("import", tiny_log))
    code, out, err = cli("delete", "tiny.csv")
    assert code == 0, err
    assert ok(cli("logs", "--json")) == []
    assert stored(cli, "SELECT count(*) FROM events") == [(0,)]


def test_filter_file_applies_to_dfg_variants_and_summary(cli, tiny_log, tmp_path):
    # TINY_LOG: cases 1 and 4 are A>B>C, 2 is A>C, 3 is A>B>B>B>C. "B directly followed by B" keeps case 3 only;
    # "has B" keeps 1, 3, 4; the top-1 variant among those is A>B>C (cases 1, 4).
    ok(cli("import", tiny_log))
    bb = tmp_path / "bb.json"
    bb.write_text(json.dumps({"directly_follows": [["B", "B"]]}), encoding="utf-8")
    assert ok(cli("summary", "1", "--filter", bb, "--json"))["cases"] == 1
    edges = {(e["source"], e["target"]): e["frequency"] for e in ok(cli("dfg", "1", "--filter", bb, "--json"))["edges"]}
    assert edges == {("A", "B"): 1, ("B", "B"): 2, ("B", "C"): 1}
    top = tmp_path / "top.json"
    top.write_text(json.dumps({"activities_present": ["B"], "variants_top": 1}), encoding="utf-8")
    variants = ok(cli("variants", "1", "--filter", top, "--json"))
    assert [(v["activities"], v["cases"], v["share"], v["median_seconds"]) for v in variants] == [
        (["A", "B", "C"], 2, 1.0, (3 * 3600 + 20 * 60) / 2)]


def test_filter_file_errors_are_plain(cli, tiny_log, tmp_path):
    ok(cli("import", tiny_log))
    bad = tmp_path / "bad.json"
    bad.write_text('{"activities_presnt": ["B"]}', encoding="utf-8")
    assert "Unknown filter keys: activities_presnt" in failed(cli("dfg", "1", "--filter", bad))
    bad.write_text('{"directly_follows": ["A", "B"]}', encoding="utf-8")
    assert "[from, to] pairs" in failed(cli("dfg", "1", "--filter", bad))
    bad.write_text('{"variants_top": 1', encoding="utf-8")
    assert "not valid JSON" in failed(cli("variants", "1", "--filter", bad))
    assert "No such file" in failed(cli("variants", "1", "--filter", tmp_path / "missing.json"))


def test_filter_value_the_log_lacks_is_warned_about(cli, tiny_log, tmp_path):
    ok(cli("import", tiny_log))
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"activities_present": ["Shp"]}), encoding="utf-8")
    code, out, err = cli("variants", "1", "--filter", typo, "--json")
    assert code == 0 and json.loads(out) == []
    assert "activities_present" in err and "'Shp'" in err


def test_bottlenecks_and_handoffs_json(cli, tiny_log, tmp_path):
    # TINY_LOG (no start timestamps: the whole gap counts as waiting). Waits before B: 1 h (case 1),
    # 30 min + 1 h + 30 min (case 3), 10 min (case 4) → total 3 h 10 min over 5 events, median 30 min.
    ok(cli("import", tiny_log))
    data = ok(cli("bottlenecks", "1", "--json"))
    assert data["time"] == "calendar"
    b = next(a for a in data["activities"] if a["activity"] == "B")
    assert {"activity", "frequency", "median_wait_seconds", "p90_wait_seconds", "median_processing_seconds",
            "total_wait_seconds", "share_of_cycle_time"} <= set(b)
    assert (b["frequency"], b["total_wait_seconds"], b["median_wait_seconds"]) == (5, 11400, 1800)
    assert b["median_processing_seconds"] is None
    assert {(e["source"], e["target"]) for e in data["edges"]} == {("A", "B"), ("B", "B"), ("B", "C"), ("A", "C")}
    # Departments: Sales, Finance, Sales in cases 1, 3, 4 → 2 hand-offs each and one ping-pong each.
    h = ok(cli("handoffs", "1", "--json", "--front", "Sales"))
    assert [(m["from"], m["to"], m["count"], m["cases"]) for m in h["matrix"]] == [
        ("Finance", "Sales", 3, 3), ("Sales", "Finance", 3, 3)]
    assert [(p["pair_a"], p["pair_b"], p["occurrences"], p["cases"]) for p in h["pingpong"]] == [
        ("Finance", "Sales", 3, 3)]
    assert set(h["per_case"]) >= {"seconds_per_handoff", "low_seconds", "high_seconds", "median_cycle_by_handoffs"}
    assert [f["department"] for f in h["front_line"]] == ["Finance"]
    calendar = tmp_path / "cal.json"
    calendar.write_text('{"workdays": [0, 1, 2, 3, 4], "day_start": "09:00", "day_end": "10:00"}', encoding="utf-8")
    working = ok(cli("bottlenecks", "1", "--json", "--calendar", calendar))
    assert working["time"] == "working"
    b = next(a for a in working["activities"] if a["activity"] == "B")
    # Office hours 09:00-10:00: case 1's B wait 09:00→10:00 = 1 h; case 3 08:00→08:30 = 0, 08:30→09:30 = 30 min,
    # 09:30→10:00 = 30 min; case 4 09:00→09:10 = 10 min. Total 2 h 10 min.
    assert b["total_wait_seconds"] == 7800
    calendar.write_text('{"day_start": "18:00", "day_end": "09:00"}', encoding="utf-8")
    assert "forwards" in failed(cli("bottlenecks", "1", "--calendar", calendar))
