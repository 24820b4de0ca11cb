"""The report in a real browser: opened from a file with every network request recorded (there must be none),
every chart drawn by the inlined plotly.js, user text shown as text; and built and downloaded on the Report page.

Screenshots land in tests/screenshots/. Without Chromium these tests skip (fail with PROCDIAG_REQUIRE_BROWSER=1),
as the other browser tests do.
"""

from __future__ import annotations

import pytest
from browser_support import MAP_FRAME, SHOTS, no_exception, wait_ready

from analysis import defaults, importer, redesign, report, store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    con = store.connect(tmp_path_factory.mktemp("report_browser") / "r.duckdb")
    log_id = defaults.ensure_sample(con)
    yield con, log_id
    con.close()


def open_offline(pg, path) -> list[str]:
    """Open a file:// page; every request for anything but the file itself is recorded and refused."""
    url = path.resolve().as_uri()
    asked: list[str] = []

    def route(r):
        if r.request.url == url:
            r.continue_()
        else:
            asked.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    pg.on("websocket", lambda ws: asked.append(ws.url))
    pg.goto(url)
    pg.wait_for_load_state("load")
    return asked


def wait_for_charts(pg) -> int:
    """Wait until every plotly chart has drawn its SVG; how many there are."""
    pg.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].length > 0 && "
                         "[...document.querySelectorAll('.js-plotly-plot')].every(d => d.querySelector('.main-svg'))",
                         timeout=30_000)
    pg.wait_for_timeout(300)
    return pg.locator(".js-plotly-plot").count()


def test_report_opens_offline_with_every_chart_drawn(sample_store, page, tmp_path):
    con, log_id = sample_store
    scenario = redesign.list_scenarios(con)[0][1]
    findings = [{"title": "预算审批排队", "symptom": "预算审批前等待中位数 5 天", "cause": "每周二、四集中审批",
                 "remedy": "预算审批 24 小时内完成", "impact": "周期时间中位数缩短约 12 天", "tags": ["财务部", "瓶颈"]}]
    files = report.build_report_files(con, log_id, "zh", scenario=scenario, findings=findings)
    path = tmp_path / "report.html"
    path.write_text(files.html, encoding="utf-8")
    page.set_viewport_size({"width": 1280, "height": 1600})
    asked = open_offline(page, path)
    assert wait_for_charts(page) == files.charts == 4
    assert asked == []  # nothing fetched: no CDN, no font, no image
    assert page.locator(".heatmaplayer").count() == 1
    assert page.locator("svg.process-map g.node").count() >= 3 * 14  # the map, and the as-is and to-be maps
    assert page.locator(".card-value").first.inner_text() == "3,000"
    # No horizontal overflow: the page fits its width.
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "report_zh.png"), full_page=True)


def test_user_text_in_the_report_is_shown_not_run(db, write, page, tmp_path):
    name = "<img src=x onerror=alert(1)>"
    log = write("nasty.csv", "case,activity,timestamp,department\n"
                f"1,A,2024-03-05 09:00,Sales\n1,{name},2024-03-05 10:00,<b>Fin</b>\n1,C,2024-03-05 12:00,Sales\n"
                f"2,A,2024-03-05 09:00,Sales\n2,{name},2024-03-05 11:00,<b>Fin</b>\n2,C,2024-03-05 12:30,Sales\n")
    log_id = importer.import_file(db, log, importer.ImportOptions(name="<script>alert(2)</script>")).log_id
    files = report.build_report_files(db, log_id, "en")
    path = tmp_path / "nasty.html"
    path.write_text(files.html, encoding="utf-8")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    asked = open_offline(page, path)
    assert wait_for_charts(page) == files.charts
    assert asked == [] and dialogs == []
    assert page.locator("img").count() == 0
    assert name in page.locator("svg.process-map").first.text_content()  # the map shows the name as text
    assert "<script>alert(2)</script>" in page.locator("header").inner_text()
    ticks = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot .xtick text')].map(e => e.textContent)")
    assert name in ticks and "<b>Fin</b>" in ticks  # plotly shows them as text too (escaped for its label markup)
    page.screenshot(path=str(SHOTS / "report_escaped_en.png"), full_page=True)


def test_report_page_builds_and_downloads_the_report(server, page, tmp_path):
    page.goto(f"{server}/report?lang=en")
    page.wait_for_selector("[data-testid='stButton']", timeout=60_000)
    wait_ready(page)
    no_exception(page)
    page.get_by_text("Build report", exact=True).click()
    page.get_by_text("Download report (HTML)").wait_for(timeout=60_000)
    wait_ready(page)
    no_exception(page)
    assert page.locator(MAP_FRAME).count() == 1  # the preview
    with page.expect_download() as info:
        page.get_by_text("Download report (HTML)").click()
    path = tmp_path / "downloaded.html"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert "Process diagnosis report" in text and "3,000" in text
    with page.expect_download() as info:
        page.get_by_text("Download tables (Excel)").click()
    xlsx = tmp_path / "tables.xlsx"
    info.value.save_as(xlsx)
    import openpyxl

    assert openpyxl.load_workbook(xlsx).sheetnames[:3] == ["KPIs", "Steps", "Paths"]
    page.screenshot(path=str(SHOTS / "report_page_en.png"), full_page=False)
    offline = page.context.new_page()
    asked = open_offline(offline, path)
    assert wait_for_charts(offline) == text.count('class="plotly-graph-div"') and asked == []
