"""The report: one self-contained HTML document (KPIs, map, bottlenecks, hand-offs, redesign, findings) and its tables
as Excel. KPIs are recomputed here from the events with plain SQL; user text is escaped; no URL anywhere."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import openpyxl
import pytest

from analysis import bottlenecks, defaults, diagnosis, formatting, handoffs, importer, redesign, report, store
from analysis.filters import CaseFilter


class Page(HTMLParser):
    """Every start tag with its attributes, the text per tag path, and the text of some elements by class."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[tuple[str, dict]] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []  # (classes of the open elements, text)
        self.feed(text)
        self.close()

    VOID = {"meta", "br", "img", "input", "link", "hr", "path", "polygon", "rect", "circle"}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag not in self.VOID:
            self.stack.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        classes = tuple(c for _, a in self.stack for c in (a.get("class") or "").split())
        ids = tuple("#" + a["id"] for _, a in self.stack if a.get("id"))
        self.texts.append((classes + ids, data))

    def text_in(self, marker: str) -> list[str]:
        """Texts inside an element with this class (or #id)."""
        return [text for where, text in self.texts if marker in where]

    def joined(self, marker: str) -> str:
        return "".join(self.text_in(marker))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A store holding the sample log and its shipped scenario: (connection, log id, scenario)."""
    con = store.connect(tmp_path_factory.mktemp("report") / "r.duckdb")
    log_id = defaults.ensure_sample(con)
    scenario = redesign.list_scenarios(con)[0][1]
    yield con, log_id, scenario
    con.close()


@pytest.fixture(scope="module")
def zh_report(sample) -> str:
    con, log_id, scenario = sample
    findings = [{"title": "预算审批排队", "symptom": "预算审批前平均等待 5 天", "cause": "每周二、四集中审批",
                 "remedy": "24 小时内审批", "impact": "周期缩短约 12 天", "tags": ["财务", "瓶颈"]}]
    return report.build_report(con, log_id, "zh", scenario=scenario, findings=findings)


@pytest.fixture(scope="module")
def en_report(sample) -> str:
    con, log_id, _ = sample
    return report.build_report(con, log_id, "en")


def independent_kpis(con, log_id: int) -> dict:
    """Cases, events, activities and the median cycle time straight from the events table."""
    cases, events, activities = con.execute(
        "SELECT count(DISTINCT case_id), count(*), count(DISTINCT activity) FROM events WHERE log_id = ?",
        [log_id]).fetchone()
    median = con.execute(
        """SELECT median(epoch(last) - epoch(first)) FROM (
               SELECT max(ts) AS last, min(coalesce(start_ts, ts)) AS first FROM events WHERE log_id = ?
               GROUP BY case_id)""", [log_id]).fetchone()[0]
    return {"cases": cases, "events": events, "activities": activities, "median": median}


def test_html_parses_and_shows_the_kpis(sample, zh_report):
    con, log_id, _ = sample
    page = Page(zh_report)
    assert zh_report.startswith("<!DOCTYPE html>")
    k = independent_kpis(con, log_id)
    assert k["cases"] == 3000
    cards = dict(zip(page.text_in("card-label"), page.text_in("card-value"), strict=False))
    assert cards["案例数"] == "3,000"
    assert cards["事件数"] == f"{k['events']:,}"
    assert cards["活动数"] == str(k["activities"])
    assert cards["周期时间中位数"] == formatting.duration(k["median"], "zh")
    title = page.joined("top")
    assert "流程诊断报告" in title and defaults.SAMPLE_NAME in title
    assert "日志中的全部案例（未筛选）。" in title


def test_map_is_inline_svg_with_every_activity(sample, zh_report):
    con, log_id, _ = sample
    page = Page(zh_report)
    svg_tags = [a for tag, a in page.tags if tag == "svg" and "process-map" in (a.get("class") or "")]
    assert len(svg_tags) == 3  # the map, and the as-is and to-be maps of the redesign
    # The first map: every activity plus start and end.
    first = zh_report.index('<svg xmlns="http://www.w3.org/2000/svg" class="process-map"')
    svg = zh_report[first:zh_report.index("</svg>", first)]
    nodes = re.findall(r'<g class="node[ "]', svg)
    activities = con.execute("SELECT count(DISTINCT activity) FROM events WHERE log_id = ?", [log_id]).fetchone()[0]
    assert len(nodes) == activities + 2 >= 14
    assert "3,000" in svg  # frequency labels
    legend = page.text_in("swatch")
    assert "财务部" in legend and "法务部" in legend


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_findings_sentences_in_the_chosen_language(sample, zh_report, en_report, lang):
    con, log_id, _ = sample
    text = Page(zh_report if lang == "zh" else en_report).joined("insights")
    stats = bottlenecks.activity_stats(con, log_id)
    said = diagnosis.bottleneck_findings(stats, lang, has_start=True)
    matrix = handoffs.handoff_matrix(con, log_id)
    front = [d for d in matrix["from"].unique() if "分公司" in d]
    said += diagnosis.handoff_findings(matrix, handoffs.pingpong(con, log_id), handoffs.handoff_cost_of(con, log_id),
                                       handoffs.front_line_waits(con, log_id, sorted(front)),
                                       handoffs.handoff_wait_share(con, log_id), lang)
    assert len(said) >= 6
    for sentence in said:
        assert sentence.replace("**", "") in text
    if lang == "zh":
        assert "预算审批" in text and "占全部等待时间的" in text
    else:
        assert "of all waiting" in text and "Hand-offs" not in text


def test_redesign_section_only_with_a_scenario(sample, zh_report, en_report):
    con, log_id, scenario = sample
    page = Page(zh_report)
    section = page.joined("#redesign")
    assert "流程再造：" + scenario.name in section
    for label in ("周期时间中位数", "周期时间 P90", "每案例交接次数", "现状", "目标", "变化的 90% 区间"):
        assert label in section
    table = redesign.compare_scenario(con, log_id, scenario).set_index("kpi")
    assert f"{table.loc['handoffs_per_case', 'as_is']:.2f}" in section
    assert f"{table.loc['handoffs_per_case', 'to_be']:.2f}" in section
    assert "服务时限：限制等待: 预算审批 ≤ 24 h" in section  # the operations in words
    assert "现有案例与目标流程的符合度" in section and "拟合度" in section
    assert "#redesign" not in {m for where, _ in Page(en_report).texts for m in where}
    findings = page.joined("#findings")
    assert "预算审批排队" in findings and "24 小时内审批" in findings and "#财务" in findings


def test_nothing_points_at_the_network(zh_report, en_report):
    for text in (zh_report, en_report):
        page = Page(text)
        for tag, attrs in page.tags:
            for name, value in attrs.items():
                if name in ("src", "href", "xlink:href", "action", "poster", "data", "srcset"):
                    assert not re.match(r"\s*(https?:)?//", value or "", re.I), (tag, name, value)
        assert not [a for tag, a in page.tags if tag in ("link", "img", "iframe", "object", "embed")]
        assert not [a for tag, a in page.tags if tag == "script" and "src" in a]
        style = text[text.index("<style>"):text.index("</style>")]
        assert "@import" not in style and "@font-face" not in style and "url(" not in style
        # plotly.js is inlined exactly once, in the head; each chart's own script only draws it.
        head = text[:text.index("</head>")]
        assert head.count("<script>") == 1 and len(head) > 3_000_000
        assert text.count("<script>") == 1 + text.count('class="plotly-graph-div"')


def test_charts_are_counted(sample):
    con, log_id, scenario = sample
    files = report.build_report_files(con, log_id, "zh", scenario=scenario)
    # Pareto, waiting vs processing, hand-off matrix, as-is vs to-be distribution.
    assert files.charts == 4 == files.html.count('class="plotly-graph-div"')


NASTY = "<script>alert('x')</script>"
FORMULA = "=cmd|' /C calc'!A0"
NASTY_LOG = f"""case,activity,timestamp,department
1,A,2024-03-05 09:00,Sales
1,{NASTY},2024-03-05 10:00,<b>Fin</b>
1,{FORMULA},2024-03-05 12:00,+Legal
2,A,2024-03-05 09:00,Sales
2,{NASTY},2024-03-05 11:00,<b>Fin</b>
2,{FORMULA},2024-03-05 12:30,+Legal
2,A,2024-03-05 13:00,Sales
"""


@pytest.fixture
def nasty(db, write):
    """A tiny log whose names are an HTML script and spreadsheet formulas."""
    result = importer.import_file(db, write("nasty.csv", NASTY_LOG), importer.ImportOptions(name="@evil <i>log</i>"))
    return db, result.log_id


def test_user_text_is_escaped(nasty):
    con, log_id = nasty
    scenario = redesign.Scenario.of("<script>s</script>", [{"op": "remove", "activities": [NASTY]}])
    findings = [{"title": "<img src=x onerror=alert(1)>", "symptom": "</dd><script>bad()</script>",
                 "tags": ["<b>t</b>"]}]
    text = report.build_report(con, log_id, "en", scenario=scenario, findings=findings)
    page = Page(text)
    assert "<script>alert" not in text and "<b>Fin</b>" not in text and "<img" not in text and "bad()</script>" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text  # shown as text on the map and in tables
    assert not [a for tag, a in page.tags if tag in ("img", "b", "i")]
    assert len([1 for tag, _ in page.tags if tag == "script"]) == 1 + text.count('class="plotly-graph-div"')
    texts = "".join(t for _, t in page.texts)
    assert NASTY in texts and "<b>Fin</b>" in texts and "@evil <i>log</i>" in texts
    assert "<img src=x onerror=alert(1)>" in page.joined("#findings")


def test_excel_tables_with_formulas_neutralised(nasty):
    con, log_id = nasty
    scenario = redesign.Scenario.of("no formula", [{"op": "remove", "activities": [FORMULA]}])
    files = report.build_report_files(con, log_id, "zh", scenario=scenario,
                                      findings=[{"title": "-1+2", "remedy": "@SUM(A1)", "tags": ["=x"]}])
    assert files.sheets == ("KPIs", "Steps", "Paths", "Map edges", "Hand-offs", "Ping-pong", "Redesign", "Deviations",
                            "Findings")  # no front line: no department named branch, store or region
    book = openpyxl.load_workbook(io.BytesIO(files.excel))
    assert book.sheetnames == list(files.sheets)
    seen = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    seen.append(value)
                    assert not value.startswith(("=", "+", "-", "@")), (sheet.title, value)
    assert "'" + FORMULA in seen and "'+Legal" in seen and "'-1+2" in seen and "'@SUM(A1)" in seen
    assert book["Steps"]["A1"].data_type != "f" and all(c.data_type != "f" for r in book["Steps"].iter_rows() for c in r)


def test_report_tables_and_filter_in_words(sample):
    con, log_id, scenario = sample
    tables = report.report_tables(con, log_id, scenario=scenario)
    assert list(tables) == ["KPIs", "Steps", "Paths", "Why it waits", "Map edges", "Hand-offs", "Ping-pong",
                            "Front line", "Redesign", "Deviations"]
    kpis = dict(zip(tables["KPIs"]["kpi"], tables["KPIs"]["value"], strict=True))
    assert kpis["cases"] == 3000
    flt = CaseFilter(departments=("信息技术部",))
    kept = con.execute("SELECT count(DISTINCT case_id) FROM events WHERE log_id = ? AND department = '信息技术部'",
                       [log_id]).fetchone()[0]
    page = Page(report.build_report(con, log_id, "en", flt))
    assert "Departments involved (any of): 信息技术部" in page.joined("filter")
    cards = dict(zip(page.text_in("card-label"), page.text_in("card-value"), strict=False))
    assert cards["Cases"] == f"{kept:,}" and 0 < kept < 3000


def test_empty_filter_result_still_makes_a_report(sample):
    con, log_id, _ = sample
    text = report.build_report(con, log_id, "zh", CaseFilter(activities_present=("没有这个活动",)))
    assert "没有符合筛选条件的案例。" in text and "<script>" not in text  # no chart, so no plotly.js either


def test_comparison_section_only_when_asked(sample, en_report):
    from analysis import compare
    from analysis.filters import ALL

    con, log_id, _ = sample
    cohorts = compare.by_attribute(ALL, "活动类型", ["常规促销"], ["创新试点"])
    files = report.build_report_files(con, log_id, "en", cohorts=cohorts)
    page = Page(files.html)
    assert 'id="compare"' in files.html and 'id="compare"' not in en_report
    kpis = compare.kpi_table(con, log_id, cohorts)
    steps = compare.activity_table(con, log_id, cohorts)
    said = page.joined("#compare")
    for sentence in compare.findings(cohorts, kpis, steps, compare.path_table(con, log_id, cohorts), "en"):
        assert sentence.replace("**", "") in said
    # The KPI table: the case counts of the sample generator's own frame, and B − A signed.
    frame = sample_frame()
    n_a, n_b = (frame[frame["活动类型"] == v]["案例编号"].nunique() for v in ("常规促销", "创新试点"))
    assert f"Cases{n_a:,}{n_b:,}−{n_a - n_b:,}" in said
    assert "Legal" not in said and "法务审核 (+" in said
    assert files.charts == 4  # bottlenecks 2, hand-offs 1, comparison 1
    book = openpyxl.load_workbook(io.BytesIO(files.excel))
    assert {"Compare KPIs", "Compare steps", "Compare paths"} <= set(book.sheetnames)
    assert [c.value for c in book["Compare steps"][1]][:2] == ["activity", "department"]
    assert book["Compare steps"].max_row == len(steps) + 1


def sample_frame():
    from analysis import sample as generator

    return generator.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh")


def test_report_for_takes_findings_by_id_and_the_comparison_as_the_compare_page_keeps_it(sample):
    import json

    from analysis import compare, findings
    from analysis.filters import ALL

    con, log_id, _ = sample
    evidence = findings.Evidence("kpi", log_id, figures={"cases": 3000})
    finding_id = findings.save_finding(con, log_id, "Queue at budget approval", evidence, remedy="Daily slot",
                                       tags=["finance"])
    cohorts = compare.by_attribute(ALL, "活动类型", ["常规促销"], ["创新试点"])
    try:
        files = report.report_for(con, log_id, "en", ALL, None, (finding_id,), None,
                                  json.dumps(cohorts.as_params(), ensure_ascii=False))
        with pytest.raises(store.StoreError, match="No finding"):
            report.report_for(con, log_id, "en", ALL, None, (finding_id + 1,))
    finally:
        findings.delete_finding(con, finding_id)
    page = Page(files.html)
    assert "Queue at budget approval" in page.joined("#findings") and "Daily slot" in page.joined("#findings")
    assert 'id="compare"' in files.html and "#redesign" not in {m for where, _ in page.texts for m in where}
    assert files.sheets[-4:] == ("Compare KPIs", "Compare steps", "Compare paths", "Findings")
