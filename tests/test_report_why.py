"""The report's "why it waits" part of the bottleneck section: the listed steps' waits split into the five causes
(shares adding up to 100 %, the figures of waiting_causes.diagnose under the report's filter and calendar), the
dominant cause with its remedy in both languages, raw seconds in the Excel sheet, and the message on a log
that cannot tell. Also the shared words (analysis/waiting_words.py) on hand-made rows.

The sample's own figures are never written down here (the generator changes): every expected value is read
off waiting_causes' per-event split summed with pandas, or off hand-made rows."""

from __future__ import annotations

import html
import io
import re

import openpyxl
import pandas as pd
import pytest
from test_report import Page

from analysis import bottlenecks, defaults, importer, report, store
from analysis import waiting_causes as wc
from analysis import waiting_words as words
from analysis.filters import CaseFilter
from analysis.working_time import sample_calendar

CAUSES = wc.CAUSES
ROUTINE = CaseFilter(attributes=(("活动类型", ("常规促销",)),))
REMEDIES_EN = {  # the remedy classes in the words
    "batching": "work the queue daily / set a service-level deadline instead of collecting",
    "contention": "add capacity or rebalance work across people",
    "prioritization": "make the queue first-in first-out / set a due-date rule",
    "unavailability": "align working hours with the hand-over (extend or shift hours)",
    "extraneous": "chase the outside party: the requester, supplier or signer — set a deadline",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """(connection, log id) of a store holding the sample."""
    con = store.connect(tmp_path_factory.mktemp("why_report") / "r.duckdb")
    yield con, defaults.ensure_sample(con)
    con.close()


def by_activity(con, log_id: int, flt=None, calendar=None) -> pd.DataFrame:
    """Per activity, summed with pandas from the per-event split: waits (> 0), the wait and each cause's
    seconds, in calendar time and in working time (its on-duty parts)."""
    events = wc.event_causes(con, log_id, flt, calendar).df(con)
    events["waited"] = events["wait_seconds"] > 0
    sums = ["wait_seconds", *(f"{c}_seconds" for c in CAUSES), "working_wait_seconds",
            *(f"{c}_working_seconds" for c in CAUSES)]
    return events.groupby("activity").agg(waits=("waited", "sum"), **{s: (s, "sum") for s in sums})


def plain(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell))


def why_table(text: str) -> list[list[str]]:
    """The cells of the "why it waits" table, row by row."""
    part = text[text.index('<div id="why"'):]
    body = part[part.index("<tbody>"):part.index("</tbody>")]
    return [[plain(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in re.findall(r"<tr>(.*?)</tr>", body)]


def why_sentences(text: str) -> list[str]:
    """The items of the section's list of main causes and remedies, as read."""
    part = text[text.index('<ul class="why-causes">'):]
    return [plain(li) for li in re.findall(r"<li>(.*?)</li>", part[:part.index("</ul>")])]


def check_section(con, log_id: int, text: str, lang: str, flt=None, calendar=None) -> None:
    """The table and the sentences of the section against the pandas sums, for the top ten steps."""
    working = calendar is not None
    expected = by_activity(con, log_id, flt, calendar)
    listed = bottlenecks.activity_stats(con, log_id, flt, calendar)["activity"].head(10).tolist()
    rows, said = why_table(text), why_sentences(text)
    assert [r[0] for r in rows] == listed and len(said) == len(rows)  # the steps the section lists, in order
    for row, sentence in zip(rows, said, strict=True):
        e = expected.loc[row[0]]
        suffix = "_working_seconds" if working else "_seconds"
        wait = e["working_wait_seconds" if working else "wait_seconds"]
        seconds = pd.Series({c: e[f"{c}{suffix}"] for c in CAUSES})
        assert seconds.sum() == pytest.approx(wait, abs=1e-3)  # the parts add up to the wait
        assert row[1] == f"{int(e['waits']):,}"
        shown = [int(v.rstrip("%")) for v in row[4:]]
        assert sum(shown) == 100  # shares add up to 100 % per activity
        for cause, pct in zip(CAUSES, shown, strict=True):
            assert abs(pct - 100 * seconds[cause] / wait) < 1  # a whole percent of the exact share
        top = seconds.idxmax()
        pct, name, remedy = shown[CAUSES.index(top)], words.cause_name(top, lang), words.remedy(top, lang)
        if lang == "en":
            assert sentence == f"{pct}% of the {'working-time ' if working else ''}wait at {row[0]} is {name} → {remedy}"
        else:
            assert sentence == f"{row[0]} 的{'工作时间内' if working else ''}等待中 {pct}% 是{name} → 建议{remedy}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_section_in_both_languages_with_the_diagnosis_figures(sample, lang):
    con, log_id = sample
    text = report.build_report(con, log_id, lang)
    part = Page(text).joined("#why")
    assert part.startswith("Why it waits" if lang == "en" else "为什么等待")
    for cause in CAUSES:
        assert words.cause_name(cause, lang) in part
    assert ("calendar time" if lang == "en" else "日历时间") in part
    assert ("read from the log" if lang == "en" else "从日志中读出") in part  # observed duty hours
    check_section(con, log_id, text, lang)
    assert text.index('id="bottlenecks"') < text.index('id="why"') < text.index('id="handoffs"')  # in the section


def test_the_report_filter_and_calendar_are_applied(sample):
    con, log_id = sample
    text = report.build_report(con, log_id, "zh", ROUTINE, calendar=sample_calendar())
    part = Page(text).joined("#why")
    assert "比例按工作时间计算" in part and "部门的工作日历" in part
    check_section(con, log_id, text, "zh", ROUTINE, sample_calendar())
    unfiltered = why_table(report.build_report(con, log_id, "zh", calendar=sample_calendar()))
    assert why_table(text) != unfiltered


def test_excel_sheet_keeps_raw_seconds(sample):
    con, log_id = sample
    files = report.build_report_files(con, log_id, "en")
    assert files.sheets[:4] == ("KPIs", "Steps", "Paths", "Why it waits")
    sheet = openpyxl.load_workbook(io.BytesIO(files.excel))["Why it waits"]
    header = [c.value for c in sheet[1]]
    got = pd.DataFrame([list(r) for r in sheet.iter_rows(min_row=2, values_only=True)], columns=header)
    expected = by_activity(con, log_id)
    assert sorted(got["activity"]) == sorted(expected.index)
    for r in got.itertuples():
        e = expected.loc[r.activity]
        assert r.waits == e["waits"]
        assert r.wait_seconds == pytest.approx(e["wait_seconds"], abs=1e-3)  # seconds, not days
        for cause in CAUSES:
            assert getattr(r, f"{cause}_seconds") == pytest.approx(e[f"{cause}_seconds"], abs=1e-3)
        if e["wait_seconds"] > 0:
            assert sum(getattr(r, f"share_{c}") for c in CAUSES) == pytest.approx(1.0)
            assert r.dominant_cause == max(CAUSES, key=lambda c: e[f"{c}_seconds"])


# --- logs that cannot tell --------------------------------------------------------------------------------------

NO_START = """case,activity,timestamp,resource,department
1,A,2024-03-05 09:00,Ann,Sales
1,B,2024-03-05 10:00,Bob,Finance
2,A,2024-03-05 09:30,Ann,Sales
2,B,2024-03-05 12:00,Bob,Finance
"""
NO_RESOURCE = """case,activity,start,end,department
1,A,2024-03-05 08:00,2024-03-05 09:00,Sales
1,B,2024-03-05 09:30,2024-03-05 10:00,Finance
2,A,2024-03-05 08:30,2024-03-05 09:30,Sales
2,B,2024-03-05 11:00,2024-03-05 12:00,Finance
"""
NEITHER = """case,activity,timestamp,department
1,A,2024-03-05 09:00,Sales
1,B,2024-03-05 10:00,Finance
2,A,2024-03-05 09:30,Sales
2,B,2024-03-05 12:00,Finance
"""


@pytest.mark.parametrize(("body", "missing_en", "missing_zh"), [
    (NO_START, "this log has no start timestamps", "此日志没有开始时间"),
    (NO_RESOURCE, "this log has no resources", "此日志没有执行人"),
    (NEITHER, "this log has neither", "此日志两者都没有"),
])
def test_a_log_that_cannot_tell_says_so(db, write, body, missing_en, missing_zh):
    log_id = importer.import_file(db, write("log.csv", body)).log_id
    for lang, cannot, missing in (("en", "This log cannot tell why cases wait", missing_en),
                                  ("zh", "此日志无法说明等待的原因", missing_zh)):
        files = report.build_report_files(db, log_id, lang)
        part = Page(files.html).joined("#why")
        assert cannot in part and missing in part
        assert '<table class="why-table">' not in files.html and "<ul class=\"why-causes\">" not in files.html
        assert "Why it waits" not in files.sheets
        assert Page(files.html).joined("#bottlenecks")  # the rest of the section is still there


# --- the shared words ---------------------------------------------------------------------------------------------

def row(**seconds) -> dict:
    """A diagnose-shaped row from cause seconds (the rest 0); the wait is their sum."""
    parts = {f"{c}_seconds": float(seconds.get(c, 0)) for c in CAUSES}
    return {"wait_seconds": sum(parts.values()), **parts}


def test_dominant_cause_shares_and_percents_by_hand():
    r = row(batching=72, contention=20, unavailability=8)
    assert words.dominant_cause(r) == "batching"
    assert words.shares(r) == {"batching": 0.72, "prioritization": 0.0, "contention": 0.2,
                               "unavailability": 0.08, "extraneous": 0.0}
    assert words.dominant_cause(row(contention=5, extraneous=5)) == "contention"  # tie: CAUSES order
    assert words.dominant_cause(row()) is None and words.percents(row()) is None
    assert words.cause_sentence(row(), "en", "X") == ""
    thirds = words.percents(row(batching=1, contention=1, extraneous=1))
    assert sum(thirds.values()) == 100 and sorted(thirds.values()) == [0, 0, 33, 33, 34]
    assert sum(words.percents(row(batching=2, prioritization=2, contention=2, unavailability=2,
                                  extraneous=1)).values()) == 100
    # Only shares (a frame without seconds) still read; a named tuple reads like a mapping.
    assert words.dominant_cause({f"share_{c}": v for c, v in zip(CAUSES, (0.1, 0.2, 0.6, 0.1, 0.0),
                                                                    strict=True)}) == "contention"
    tup = next(pd.DataFrame([row(extraneous=3, batching=1)]).itertuples())
    assert words.dominant_cause(tup) == "extraneous"


def test_cause_sentence_in_both_languages():
    r = row(batching=72, contention=28)
    assert words.cause_sentence(r, "en", "Budget approval") == (
        "**72%** of the wait at **Budget approval** is **batching** → "
        "work the queue daily / set a service-level deadline instead of collecting")
    assert words.cause_sentence(r, "zh", "预算审批") == (
        "**预算审批** 的等待中 **72%** 是**批处理** → 建议每天处理队列或设定服务时限，不再攒批集中处理")
    # Working time reads the on-duty parts (unavailability has none there).
    w = {"wait_seconds": 100.0, "unavailability_seconds": 100.0, "working_wait_seconds": 10.0,
         **{f"{c}_working_seconds": 0.0 for c in CAUSES}, "contention_working_seconds": 10.0}
    assert words.dominant_cause(w) == "unavailability" and words.dominant_cause(w, working=True) == "contention"
    assert words.cause_sentence(w, "en", "Legal", working=True).startswith(
        "**100%** of the working-time wait at **Legal** is **contention** → add capacity")
    for cause, text in REMEDIES_EN.items():
        assert words.remedy(cause, "en") == text and words.remedy(cause, "zh") != text


def test_findings_of_the_top_rows():
    rows = pd.DataFrame([{"key": "A", **row(batching=5)}, {"key": "B", **row()}, {"key": "C", **row(extraneous=1)},
                         {"key": "D", **row(contention=1)}])
    said = words.findings(rows, "en", top=2)
    assert len(said) == 2 and "**A** is **batching**" in said[0] and "**C** is **extraneous**" in said[1]
