"""Every command's --json output is strict JSON: a missing number is null, never NaN or Infinity.

Each command that takes --json runs on a four-case log and on a one-case log (too few cases for a slope,
an interval or a second cohort), `handoffs` also on a log with resources but no departments; stdout is parsed
with a `parse_constant` that fails the test on NaN / Infinity (what jq and every strict parser reject).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from test_cli import strict_json

from analysis import findings, store
from analysis.cli_parser import build_parser
from analysis.findings import Evidence

ONE_CASE = ("case,activity,timestamp,resource,department\n"
            "1,A,2024-03-05 09:00,Ann,Sales\n1,B,2024-03-05 10:00,Bob,Finance\n")
NO_DEPARTMENTS = ("case,activity,timestamp,resource\n1,A,2024-03-05 09:00,Ann\n1,B,2024-03-05 10:00,Bob\n"
                  "2,A,2024-03-06 09:00,Ann\n2,B,2024-03-06 09:30,Ann\n")


def strict(result) -> dict | list:
    """The stdout of a command that succeeded, parsed as strict JSON (whatever it starts with)."""
    code, out, err = result
    assert code == 0, err
    assert "Traceback" not in err
    return strict_json(out)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """The command line's sub-commands by name."""
    return next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices


def json_commands() -> set[str]:
    """The sub-commands that take --json."""
    return {name for name, parser in subcommands().items()
            if any("--json" in action.option_strings for action in parser._actions)}


def runs(path: Path, tmp_path: Path) -> dict[str, list[tuple]]:
    """Per command, in order, the argument lists to run with --json on a fresh store: `path` becomes log 1."""
    scenario, calendar, groups = (tmp_path / f"{name}.json" for name in ("scenario", "calendar", "groups"))
    scenario.write_text(json.dumps({"name": "no B", "operations": [{"op": "remove", "activities": ["B"]}]}),
                        encoding="utf-8")
    calendar.write_text('{"workdays": [0, 1, 2, 3, 4], "day_start": "09:00", "day_end": "10:00"}',
                        encoding="utf-8")
    groups.write_text('{"split": "period", "date": "2024-03-06"}', encoding="utf-8")
    return {
        "inspect": [("inspect", path)],
        "import": [("import", path)],
        "logs": [("logs",)],
        "summary": [("summary", "1")],
        "dfg": [("dfg", "1")],
        "variants": [("variants", "1"), ("variants", "1", "--top", "1")],
        "bottlenecks": [("bottlenecks", "1"), ("bottlenecks", "1", "--calendar", calendar)],
        "handoffs": [("handoffs", "1", "--front", "Sales"), ("handoffs", "1", "--level", "department"),
                     ("handoffs", "1", "--level", "resource", "--calendar", calendar)],
        "compare": [("compare", "1", "--by", "period", "--date", "2024-03-06")],
        "redesign": [("redesign", "1", "--scenario", scenario)],
        "findings": [("findings",)],
        "report": [("report", "1", "--out", tmp_path / "r.html", "--excel", tmp_path / "r.xlsx",
                    "--scenario", scenario, "--compare", groups, "--finding", "1")],
        "why": [],   # needs start timestamps and resources: test_why below
        "ensure-sample": [("ensure-sample",)],
        "delete": [("delete", "1")],
    }


def run_all(cli, path: Path, tmp_path: Path, only: tuple[str, ...] = ()) -> dict[str, list]:
    """Every --json command (or the `only` ones, after import) on `path`, each output parsed strictly."""
    outputs = {}
    for command, argvs in runs(path, tmp_path).items():
        if only and command not in ("import", *only):
            continue
        if command == "findings":
            with store.connect(cli.db_path) as con:
                findings.save_finding(con, 1, "A waits", Evidence("bottleneck", 1, {"activity": "A"}))
        outputs[command] = [strict(cli(*argv, "--json")) for argv in argvs]
    return outputs


def test_every_command_with_json_is_checked_here(tmp_path):
    assert set(runs(tmp_path / "log.csv", tmp_path)) == json_commands()


def test_four_cases(cli, tiny_log, tmp_path):
    out = run_all(cli, tiny_log, tmp_path)
    assert out["summary"][0]["cases"] == 4
    # Fewer than 10 cases: no bootstrap interval for the cost of a hand-off (printed as NaN before).
    per_case = out["handoffs"][0]["per_case"]
    assert per_case["seconds_per_handoff"] is not None
    assert (per_case["low_seconds"], per_case["high_seconds"]) == (None, None)
    # Activity A starts every case: no wait before it.
    a = next(r for r in out["bottlenecks"][0]["activities"] if r["activity"] == "A")
    assert (a["median_wait_seconds"], a["median_processing_seconds"]) == (None, None)
    assert out["redesign"][0]["delta"]["median_cycle_seconds"]["low"] is None
    assert out["ensure-sample"] == [{"imported": None}]   # the store has a log: nothing imported
    assert out["delete"] == [{"deleted": 1}]


def test_one_case(cli, write, tmp_path):
    out = run_all(cli, write("one.csv", ONE_CASE), tmp_path)
    assert out["import"][0]["cases"] == 1
    # One case: no slope of cycle time over hand-offs, and no interval.
    per_case = out["handoffs"][0]["per_case"]
    assert (per_case["seconds_per_handoff"], per_case["low_seconds"], per_case["high_seconds"]) == (None,) * 3
    # The case started before the date: group B is empty, so its KPIs and the deltas are missing.
    kpis = out["compare"][0]["kpis"]
    assert kpis["median_cycle_seconds"] == {"a": 3600.0, "b": None, "delta": None}
    assert [f["finding_id"] for f in out["findings"][0]] == [1]
    assert {"Compare KPIs", "Findings"} <= set(out["report"][0]["sheets"])


def test_resources_but_no_departments(cli, write, tmp_path):
    # Case 1 goes Ann → Bob (one hand-off), case 2 stays with Ann. Without --level the hand-offs are
    # counted between resources, as every page counts them on such a log (department, else resource).
    out = run_all(cli, write("resources.csv", NO_DEPARTMENTS), tmp_path, only=("handoffs",))
    own, by_department, by_resource = out["handoffs"]
    assert (own["level"], by_resource["level"]) == ("resource", "resource")
    for result in own, by_resource:
        assert [(m["from"], m["to"], m["count"], m["cases"]) for m in result["matrix"]] == [
            ("Ann", "Bob", 1, 1)]
    by_count = own["per_case"]["median_cycle_by_handoffs"]
    assert [(r["handoffs"], r["cases"]) for r in by_count] == [(0, 1), (1, 1)]
    assert by_department["level"] == "department" and by_department["matrix"] == []
    assert by_department["per_case"]["share_of_cycle_time_waiting_at_handoffs"] is None


def test_sample_is_the_one_command_without_json(cli, tmp_path):
    assert set(subcommands()) - json_commands() == {"sample"}
    code, _, err = cli("sample", tmp_path / "s.csv", "--json", db=False)
    assert code == 2 and "--json" in err


WITH_STARTS = ("case,activity,start,end,resource,department\n"
               "1,A,2024-03-04 09:00,2024-03-04 10:00,Ann,Sales\n1,B,2024-03-04 11:00,2024-03-04 12:00,Bob,Finance\n"
               "2,A,2024-03-04 09:30,2024-03-04 10:30,Ann,Sales\n2,B,2024-03-04 12:00,2024-03-04 13:00,Bob,Finance\n")


def test_why(cli, write, tiny_log):
    assert cli("import", write("starts.csv", WITH_STARTS), "--json")[0] == 0
    for by in ("activity", "department", "handoff", "resource"):
        out = strict(cli("why", "1", "--by", by, "--json"))
        assert out["by"] == by
        for row in out["rows"]:
            parts = sum(row[f"{c}_seconds"] for c in
                        ("batching", "prioritization", "contention", "unavailability", "extraneous"))
            assert parts == pytest.approx(row["wait_seconds"])
    # B waits 1 h in case 1 (10:00 → 11:00) and 1.5 h in case 2 (10:30 → 12:00): 9,000 s in all.
    b = next(r for r in strict(cli("why", "1", "--json"))["rows"] if r["key"] == "B")
    assert b["wait_seconds"] == pytest.approx(3600 + 5400)
    # A log without start timestamps cannot tell: exit 2 with the message, in either language.
    assert cli("import", tiny_log, "--json")[0] == 0
    code, out, err = cli("why", "2", "--json")
    assert code == 2 and "start timestamp" in err and "Traceback" not in err
    code, out, err = cli("why", "2", "--lang", "zh")
    assert code == 2 and "开始时间" in err
