"""The knowledge base (analysis/findings.py): saving a finding with its evidence, re-running every kind of evidence
on the current data, search (Chinese and English), filters, outcomes, deleting, and matching a new log's patterns.

The store holds the shipped sample (seed 7) and a second import of the generator with another seed (11), where
SAMPLE_TRUTH.md's finance queue, the planning → finance hand-off and the planning ↔ finance ping-pong recur.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from analysis import bottlenecks, defaults, handoffs, importer, overview, redesign, sample, store
from analysis import findings as kb
from analysis.filters import ALL, AllOf, CaseFilter
from analysis.findings import Evidence

ROUTINE = CaseFilter(attributes=(("活动类型", ("常规促销",)),))
PLANNING, FINANCE = "市场部-策划室", "财务部"


@pytest.fixture(scope="module")
def two_logs(tmp_path_factory):
    """(connection, sample log id, second log id): the sample, and the generator's log with seed 11."""
    folder = tmp_path_factory.mktemp("kb")
    con = store.connect(folder / "kb.duckdb")
    defaults.ensure_sample(con)
    path = folder / "second.csv"
    sample.write_sample_csv(path, n_cases=3000, seed=11, lang="zh")
    second = importer.import_file(con, path, importer.ImportOptions(name="第二批 second import")).log_id
    yield con, defaults.sample_log_id(con), second
    con.close()


@pytest.fixture
def kbdb(two_logs):
    """The two-log store with no findings in it."""
    con = two_logs[0]
    con.execute("DELETE FROM findings")
    return two_logs


def scenario_json() -> str:
    return defaults._sample_scenario().to_json()


# One evidence per kind, with the figures computed by the function its page shows, read the way the page reads it.
KIND_CASES = {
    "bottleneck": ({"activity": "预算审批", "department": FINANCE},
                   lambda con, log, flt: bottlenecks.activity_stats(con, log, flt).set_index("activity")
                   .loc["预算审批", ["share_of_waiting", "median_wait_seconds", "p90_wait_seconds",
                                     "total_wait_seconds"]].to_dict()),
    "handoff": ({"from": PLANNING, "to": FINANCE, "level": "department"},
                lambda con, log, flt: handoffs.handoff_matrix(con, log, flt).set_index(["from", "to"])
                .loc[(PLANNING, FINANCE), ["count", "median_wait_seconds"]].to_dict()),
    "pingpong": ({"pair": [FINANCE, PLANNING]},
                 lambda con, log, flt: handoffs.pingpong(con, log, flt).set_index(["pair_a", "pair_b"])
                 .loc[(PLANNING, FINANCE), ["occurrences", "cases", "extra_cycle_seconds"]].to_dict()),
    "kpi": ({}, lambda con, log, flt: {k: v for k, v in overview.kpis(con, log, flt).items()
                                       if k in ("cases", "median_cycle_seconds", "p90_cycle_seconds",
                                                "handoffs_per_case")}),
    "redesign": ({"scenario": None},
                 lambda con, log, flt: {
                     "median_cycle_delta_seconds": redesign.compare_scenario(
                         con, log, redesign.Scenario.from_json(scenario_json()), flt)
                     .set_index("kpi").loc["median_cycle_seconds", "delta"],
                     "handoffs_delta": redesign.compare_scenario(
                         con, log, redesign.Scenario.from_json(scenario_json()), flt)
                     .set_index("kpi").loc["handoffs_per_case", "delta"]}),
    # Regions North vs South: each group's KPIs straight from overview.kpis on the global filter AND the region.
    "compare": ({"split": "attribute", "name": "区域", "values_a": ["华北"], "values_b": ["华南"]},
                lambda con, log, flt: {
                    f"{figure}_{which}{suffix}": overview.kpis(con, log, AllOf((
                        flt or ALL, CaseFilter(attributes=(("区域", (region,)),)))))[kpi]
                    for which, region in (("a", "华北"), ("b", "华南"))
                    for figure, kpi, suffix in (("cases", "cases", ""),
                                                ("median_cycle", "median_cycle_seconds", "_seconds"))}),
}


def evidence(kind: str, log_id: int, flt: CaseFilter = ALL) -> Evidence:
    params = dict(KIND_CASES[kind][0])
    if kind == "redesign":
        params["scenario"] = scenario_json()
    return Evidence(kind, log_id, params, flt, page=kind)


def assert_same(got: dict, expected: dict) -> None:
    for name, value in expected.items():
        assert got[name] == pytest.approx(float(value)), name


@pytest.mark.parametrize("kind", list(KIND_CASES))
def test_every_kind_reruns_to_the_same_figures(kbdb, kind):
    con, log, _ = kbdb
    finding_id = kb.save_finding(con, log, f"{kind} finding", evidence(kind, log))
    saved = kb.get_finding(con, finding_id).evidence.figures
    assert_same(saved, KIND_CASES[kind][1](con, log, None))  # the page's own numbers were stored
    result = kb.rerun(con, finding_id)
    assert result["now"]["figures"] == saved
    assert result["then"]["log_id"] == result["now"]["log_id"] == log
    assert all(row["change"] in (0, None) for row in result["rows"])


@pytest.mark.parametrize("kind", list(KIND_CASES))
def test_every_kind_differs_under_another_filter_and_on_another_log(kbdb, kind):
    con, log, second = kbdb
    finding_id = kb.save_finding(con, log, "routine only", evidence(kind, log, ROUTINE), tags=["常规"])
    then = kb.get_finding(con, finding_id).evidence.figures
    unfiltered = kb.compute_figures(con, evidence(kind, log))
    assert then != unfiltered  # the filter was stored and applied
    assert_same(then, KIND_CASES[kind][1](con, log, ROUTINE))
    result = kb.rerun(con, finding_id, log_id=second)
    assert result["now"]["log_id"] == second and result["now"]["log_name"] == "第二批 second import"
    assert result["now"]["figures"] != then
    assert_same(result["now"]["figures"], KIND_CASES[kind][1](con, second, ROUTINE))
    assert result["unknown"] == []


def test_evidence_keeps_log_filter_page_params_and_calendar(kbdb):
    from analysis.working_time import sample_calendar

    con, log, _ = kbdb
    ev = Evidence("bottleneck", log, {"activity": "预算审批", "department": FINANCE}, ROUTINE, "bottlenecks",
                  sample_calendar())
    finding = kb.get_finding(con, kb.save_finding(con, log, "工作时间", ev))
    assert finding.evidence.flt == ROUTINE
    assert finding.evidence.calendar == sample_calendar()
    assert finding.evidence.page == "bottlenecks"
    assert finding.log_name == defaults.SAMPLE_NAME
    assert finding.departments == (FINANCE,)
    working = bottlenecks.activity_stats(con, log, ROUTINE, sample_calendar()).set_index("activity").loc["预算审批"]
    assert finding.evidence.figures["median_wait_seconds"] == pytest.approx(working["median_wait_seconds"])
    assert kb.rerun(con, finding.finding_id)["now"]["figures"] == finding.evidence.figures


def test_search_finds_chinese_substrings_and_ignores_case(kbdb):
    con, log, _ = kbdb
    ev = evidence("bottleneck", log)
    queue = kb.save_finding(con, log, "财务部审批排队", ev, symptom="预算审批平均等待五天", remedy="Daily approval slot",
                            tags=["Finance", "排队"])
    other = kb.save_finding(con, log, "Legal review of pilots is slow", evidence("kpi", log), cause="8-day reviews")

    def ids(query: str) -> list[int]:
        return kb.list_findings(con, query)["finding_id"].tolist()
    assert ids("财务") == [queue]
    assert ids("审批排") == [queue]
    assert ids("五天") == [queue]  # in the symptom
    assert ids("daily APPROVAL") == [queue]  # every word, any case, in the remedy
    assert ids("finance") == [queue]  # a tag
    assert ids("LEGAL") == [other]
    assert ids("8-DAY") == [other]
    assert ids("") == [other, queue]  # newest first
    assert ids("财务 legal") == []
    assert ids("'; DROP TABLE findings; --") == []  # a bound parameter, not SQL
    assert len(kb.list_findings(con)) == 2


def test_filters_by_tags_department_log_and_date(kbdb):
    con, log, second = kbdb
    a = kb.save_finding(con, log, "a", evidence("bottleneck", log), tags="财务，排队, queue")
    b = kb.save_finding(con, second, "b", Evidence("handoff", second, {"from": "法务部", "to": "采购部"}), tags=["queue"])
    c = kb.save_finding(con, log, "c", evidence("kpi", log))
    con.execute("UPDATE findings SET created_at = TIMESTAMP '2024-01-15 10:00' WHERE finding_id = ?", [c])

    def ids(**kw) -> list[int]:
        return sorted(kb.list_findings(con, **kw)["finding_id"].tolist())
    assert kb.get_finding(con, a).tags == ("财务", "排队", "queue")
    assert ids(tags=["queue"]) == [a, b]
    assert ids(tags=["queue", "排队"]) == [a]
    assert ids(department=FINANCE) == [a]
    assert ids(department="采购部") == [b]
    assert ids(log_id=second) == [b]
    assert ids(log_id=log) == [a, c]
    assert ids(since=dt.date.today()) == [a, b]
    assert ids(since="2024-01-01") == [a, b, c]
    assert ids(since="2099-01-01") == []
    assert kb.all_tags(con) == sorted(["queue", "排队", "财务"])
    assert kb.all_departments(con) == sorted([FINANCE, "法务部", "采购部"])


def test_outcome_is_marked_with_note_and_date(kbdb):
    con, log, _ = kbdb
    finding_id = kb.save_finding(con, log, "财务部审批排队", evidence("bottleneck", log), remedy="每天审批")
    assert kb.get_finding(con, finding_id).outcome is None
    kb.set_outcome(con, finding_id, "partly", "审批等待从 5 天降到 2 天", when="2025-03-01")
    f = kb.get_finding(con, finding_id)
    assert (f.outcome, f.outcome_note, f.outcome_at) == ("partly", "审批等待从 5 天降到 2 天", "2025-03-01")
    kb.set_outcome(con, finding_id, "worked", "")
    f = kb.get_finding(con, finding_id)
    assert (f.outcome, f.outcome_at) == ("worked", dt.date.today().isoformat())
    assert f.evidence.figures == kb.compute_figures(con, evidence("bottleneck", log))  # evidence untouched
    assert kb.list_findings(con)["outcome"].tolist() == ["worked"]
    with pytest.raises(ValueError, match="outcome must be one of"):
        kb.set_outcome(con, finding_id, "great", "")
    with pytest.raises(store.StoreError):
        kb.set_outcome(con, 999, "worked", "")


def test_delete_and_save_checks(kbdb):
    con, log, _ = kbdb
    finding_id = kb.save_finding(con, log, "x", evidence("kpi", log))
    assert kb.delete_finding(con, finding_id) is True
    assert kb.delete_finding(con, finding_id) is False
    assert kb.list_findings(con).empty
    with pytest.raises(ValueError, match="title"):
        kb.save_finding(con, log, "  ", evidence("kpi", log))
    with pytest.raises(ValueError, match="Unknown evidence kind"):
        kb.save_finding(con, log, "x", Evidence("guess", log))
    with pytest.raises(store.StoreError):
        kb.rerun(con, 12345)


def test_matching_findings_on_a_second_import(kbdb):
    con, log, second = kbdb
    queue = kb.save_finding(con, log, "财务部审批排队", evidence("bottleneck", log))
    revision = kb.save_finding(con, log, "方案修改太慢", Evidence("bottleneck", log, {"activity": "方案修改"}))
    handoff = kb.save_finding(con, log, "策划到财务的交接", evidence("handoff", log))
    pings = kb.save_finding(con, log, "策划与财务来回", evidence("pingpong", log))
    kb.save_finding(con, log, "KPIs never match", evidence("kpi", log))
    matches = kb.matching_findings(con, second)
    assert [m.finding_id for m in matches] == [queue, handoff, pings]  # not the revision step: not a bottleneck
    assert revision not in [m.finding_id for m in matches]
    stats = bottlenecks.activity_stats(con, second)
    first = matches[0]
    assert (first.kind, first.rank, first.log_id) == ("bottleneck", 1, log)
    assert first.figures == kb.bottleneck_figures(stats, "预算审批")  # the new log's figures
    assert first.figures["share_of_waiting"] == pytest.approx(stats["share_of_waiting"].iloc[0])
    assert first.then["share_of_waiting"] != first.figures["share_of_waiting"]
    assert matches[2].figures["occurrences"] == handoffs.pingpong(con, second)["occurrences"].iloc[0]


def test_matching_uses_each_kinds_top_n(kbdb):
    con, log, second = kbdb
    ranked = bottlenecks.activity_stats(con, second)["activity"].tolist()
    for activity in ranked[2:4]:  # ranks 3 and 4 in the second log
        kb.save_finding(con, log, activity, Evidence("bottleneck", log, {"activity": activity}))
    assert [m.title for m in kb.matching_findings(con, second)] == [ranked[2]]
    assert kb.matching_findings(con, second)[0].rank == 3


def test_rows_from_before_the_knowledge_base_still_list(kbdb):
    con, log, _ = kbdb
    # A row as a database file written before this module might hold: evidence without kind, tags NULL.
    con.execute("INSERT INTO findings VALUES (41, TIMESTAMP '2024-05-01', ?, '旧结论', NULL, NULL, NULL, NULL, ?, NULL)",
                [log, json.dumps({"page": "bottlenecks"})])
    listed = kb.list_findings(con, "旧")
    assert listed["finding_id"].tolist() == [41] and listed["tags"].tolist() == [[]]
    assert kb.matching_findings(con, log) == []
    assert kb.save_finding(con, log, "next", evidence("kpi", log)) == 42


def test_parse_tags_and_words():
    assert kb.parse_tags(" 财务，排队、 queue;queue , ") == ("财务", "排队", "queue")
    ev = Evidence("bottleneck", 1, {"activity": "预算审批", "department": FINANCE},
                  figures={"share_of_waiting": 0.504, "median_wait_seconds": 5 * 86400.0})
    assert kb.suggest_title(ev, "zh") == "预算审批（财务部）占全部等待时间的 50.4%，等待中位数 5.0 天"
    assert kb.suggest_title(ev, "en") == "预算审批 (财务部) holds 50.4% of all waiting; median wait 5.0 days"
    assert kb.format_figure("median_cycle_delta_seconds", -3 * 86400.0, "en") == "−3.0 days"
    assert kb.format_figure("count", 4092, "en") == "4,092"
    assert kb.format_figure("handoffs_delta", -1.728, "en") == "-1.73"
