"""The knowledge base's "waiting cause" findings: saved with the cause breakdown of an activity (seconds and shares
per cause, dominant cause, rank) under its filter and calendar, re-run on the current data and on another log,
compared figure by figure; refused with the page's message on a log that cannot tell. And the Bottlenecks
page's "Save as finding" form offering and saving one (AppTest).

Expected figures are the per-event split (waiting_causes.event_causes) summed with pandas, never the sample's
numbers written down (the sample generator changes)."""

from __future__ import annotations

import shutil

import pytest
from apptest_support import APP
from streamlit.testing.v1 import AppTest

from analysis import defaults, importer, sample, store
from analysis import findings as kb
from analysis import waiting_causes as wc
from analysis.errors import UserError
from analysis.filters import ALL, CaseFilter
from analysis.findings import Evidence
from analysis.working_time import sample_calendar

CAUSES = wc.CAUSES
ROUTINE = CaseFilter(attributes=(("活动类型", ("常规促销",)),))
QUEUE, FINANCE = "预算审批", "财务部"


@pytest.fixture(scope="module")
def two_logs(tmp_path_factory):
    """(connection, sample log id, second log id): the sample, and the generator's log with seed 11."""
    folder = tmp_path_factory.mktemp("kb_why")
    con = store.connect(folder / "kb.duckdb")
    defaults.ensure_sample(con)
    path = folder / "second.csv"
    sample.write_sample_csv(path, n_cases=1500, seed=11, lang="zh")
    second = importer.import_file(con, path, importer.ImportOptions(name="second")).log_id
    yield con, defaults.sample_log_id(con), second
    con.close()


@pytest.fixture
def kbdb(two_logs):
    con = two_logs[0]
    con.execute("DELETE FROM findings")
    return two_logs


def expected(con, log_id: int, activity: str, flt=ALL, calendar=None) -> dict:
    """The activity's figures summed with pandas from the per-event split (working time with a calendar)."""
    events = wc.event_causes(con, log_id, flt, calendar).df(con)
    working = calendar is not None
    suffix = "_working_seconds" if working else "_seconds"
    totals = events.groupby("activity")["wait_seconds"].sum().sort_values(ascending=False, kind="stable")
    mine = events[events["activity"] == activity]
    wait = mine["working_wait_seconds" if working else "wait_seconds"].sum()
    seconds = {c: mine[f"{c}{suffix}"].sum() for c in CAUSES}
    return {"waits": int((mine["wait_seconds"] > 0).sum()),
            "cases": mine.loc[mine["wait_seconds"] > 0, "case_id"].nunique(), "wait_seconds": wait,
            **{f"{c}_seconds": s for c, s in seconds.items()}, **{f"share_{c}": s / wait for c, s in seconds.items()},
            "dominant_cause": max(CAUSES, key=lambda c: seconds[c]),
            "rank": totals.index.get_loc(activity) + 1}


def assert_figures(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for name, value in want.items():
        if isinstance(value, str):
            assert got[name] == value, name
        else:
            assert got[name] == pytest.approx(value, abs=1e-6), name


def evidence(log_id: int, flt=ALL, calendar=None, activity: str = QUEUE) -> Evidence:
    return Evidence("waiting_cause", log_id, {"activity": activity, "department": FINANCE}, flt, "bottlenecks",
                    calendar)


def test_saved_with_the_cause_breakdown_and_rerun_to_the_same(kbdb):
    con, log, _ = kbdb
    finding_id = kb.save_finding(con, log, "审批为何等待", evidence(log), tags=["等待原因"])
    f = kb.get_finding(con, finding_id)
    assert f.evidence.kind == "waiting_cause" and f.evidence.page == "bottlenecks"
    assert f.departments == (FINANCE,)
    assert_figures(f.evidence.figures, expected(con, log, QUEUE))
    assert sum(f.evidence.figures[f"share_{c}"] for c in CAUSES) == pytest.approx(1.0)
    result = kb.rerun(con, finding_id)
    assert result["now"]["figures"] == f.evidence.figures and result["kind"] == "waiting_cause"
    assert all(r["change"] in (0, None) for r in result["rows"])
    assert {r["figure"] for r in result["rows"]} >= {"batching_seconds", "share_extraneous", "dominant_cause"}
    listed = kb.list_findings(con, "等待原因")
    assert listed["kind"].tolist() == ["waiting_cause"]


def test_filter_and_calendar_are_kept_and_applied(kbdb):
    con, log, second = kbdb
    finding_id = kb.save_finding(con, log, "工作时间内", evidence(log, ROUTINE, sample_calendar()))
    f = kb.get_finding(con, finding_id)
    assert f.evidence.flt == ROUTINE and f.evidence.calendar == sample_calendar()
    then = f.evidence.figures
    assert_figures(then, expected(con, log, QUEUE, ROUTINE, sample_calendar()))
    assert then["unavailability_seconds"] == 0  # working time: on-duty seconds only
    assert then != kb.compute_figures(con, evidence(log))  # the filter and the calendar changed the figures
    result = kb.rerun(con, finding_id, log_id=second)
    assert result["now"]["log_id"] == second and result["unknown"] == []
    assert_figures(result["now"]["figures"], expected(con, second, QUEUE, ROUTINE, sample_calendar()))
    rows = {r["figure"]: r for r in result["rows"]}
    assert rows["wait_seconds"]["change"] == pytest.approx(rows["wait_seconds"]["now"] - then["wait_seconds"])
    assert rows["wait_seconds"]["change"] != 0
    assert rows["dominant_cause"]["change"] is None


def test_an_activity_without_waits_and_a_log_that_cannot_tell(kbdb, write):
    con, log, _ = kbdb
    figures = kb.compute_figures(con, evidence(log, activity="没有这个活动"))
    assert set(figures.values()) == {None}
    assert kb.suggest_title(Evidence("waiting_cause", log, {"activity": "没有这个活动"}, figures=figures), "en") == (
        "没有这个活动: no wait with a start time and a resource to split into causes")
    no_start = importer.import_file(con, write("no_start.csv", "case,activity,timestamp,resource\n"
                                                               "1,A,2024-03-05 09:00,Ann\n1,B,2024-03-05 10:00,Bob\n"),
                                    importer.ImportOptions(name="no start")).log_id
    finding_id = kb.save_finding(con, log, "x", evidence(log))
    with pytest.raises(UserError) as caught:
        kb.rerun(con, finding_id, log_id=no_start)
    assert caught.value.key == "err.why_no_start"
    with pytest.raises(UserError):
        kb.save_finding(con, no_start, "y", evidence(no_start))


def test_words_of_the_kind():
    figures = {"wait_seconds": 100.0, "batching_seconds": 72.0, "contention_seconds": 28.0,
               **{f"{c}_seconds": 0.0 for c in ("prioritization", "unavailability", "extraneous")},
               "share_batching": 0.72, "dominant_cause": "batching", "rank": 1}
    ev = Evidence("waiting_cause", 1, {"activity": QUEUE, "department": FINANCE}, figures=figures)
    assert kb.subject(ev) == QUEUE
    assert kb.kind_label("waiting_cause", "zh") == "等待原因" and kb.kind_label("waiting_cause", "en") == "Waiting cause"
    assert kb.suggest_title(ev, "zh") == "预算审批 的等待中 72% 是批处理 → 建议每天处理队列或设定服务时限，不再攒批集中处理"
    assert kb.suggest_title(ev, "en") == ("72% of the wait at 预算审批 is batching → work the queue daily / set a "
                                          "service-level deadline instead of collecting")
    assert kb.format_figure("dominant_cause", "contention", "zh") == "资源争用"
    assert kb.format_figure("share_batching", 0.72, "en") == "72.0%"
    assert kb.format_figure("batching_seconds", 3 * 86400.0, "en") == "3.0 days"
    assert kb.figure_label("share_extraneous", "en") == "Extraneous share of the wait"
    assert "waiting_cause" not in kb.MATCH_TOP  # never matched against a new log's rankings


# --- the Bottlenecks page's form (AppTest) --------------------------------------------------------------------

def start(db_path: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("PROCDIAG_DB", db_path)
    monkeypatch.delenv("PROCDIAG_VIEWER", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def test_the_bottlenecks_form_saves_a_waiting_cause_finding(sample_db, tmp_path, monkeypatch):
    path = tmp_path / "kb.duckdb"
    shutil.copy(sample_db, path)
    at = start(str(path), monkeypatch)
    at.switch_page("pages/bottlenecks.py").run()
    assert not at.exception
    options = at.selectbox(key="kb_figure").options
    why = [o for o in options if "的等待原因：" in o]
    assert why and why[0].startswith(f"{QUEUE} 的等待原因：") and len(options) == 10 + len(why)
    at.selectbox(key="kb_figure").set_value(why[0]).run()
    title = at.text_input(key="kb_title").value
    assert title.startswith(f"{QUEUE} 的等待中 ") and " → 建议" in title
    at.text_area(key="kb_remedy").input("每天审批")
    at.button(key="kb_save").click().run()
    assert not at.exception
    assert at.success[0].value == "已保存为结论 #1，可在知识库中查看。"
    with store.connect(path) as con:
        f = kb.get_finding(con, 1)
        log = defaults.sample_log_id(con)
        assert (f.title, f.remedy, f.evidence.kind, f.evidence.calendar) == (title, "每天审批", "waiting_cause", None)
        assert_figures(f.evidence.figures, expected(con, log, QUEUE))
        cause = f.evidence.figures["dominant_cause"]
    assert why[0].startswith(f"{QUEUE} 的等待原因：{kb.format_figure('dominant_cause', cause, 'zh')}（")


def test_no_waiting_cause_choice_when_the_log_cannot_tell(tmp_path, write, monkeypatch):
    path = tmp_path / "no_start.duckdb"
    with store.connect(path) as con:
        importer.import_file(con, write("n.csv", "case,activity,timestamp,resource\n1,A,2024-03-05 09:00,Ann\n"
                                                 "1,B,2024-03-05 10:00,Bob\n2,A,2024-03-05 09:00,Ann\n"
                                                 "2,B,2024-03-06 10:00,Bob\n"), importer.ImportOptions(name="n"))
    at = start(str(path), monkeypatch)
    at.switch_page("pages/bottlenecks.py").run()
    assert not at.exception
    options = at.selectbox(key="kb_figure").options
    assert options and not [o for o in options if "等待原因" in o]
