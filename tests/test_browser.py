"""Real-browser tests: the app served by `streamlit run`, driven by Playwright in Debian's Chromium.

Screenshots of every page land in tests/screenshots/ (git-ignored) for a person to look at.
Without Chromium these tests skip, unless PROCDIAG_REQUIRE_BROWSER=1 (set by .ci/run) makes them fail.
"""

from __future__ import annotations

import pytest
from browser_support import MAP_FRAME, SHOTS, no_exception, wait_ready

pytestmark = pytest.mark.browser

def test_every_page_opens_from_its_own_address_on_a_fresh_server(server, page):
    # First in this file on purpose: the server has served nothing yet, the case where Streamlit
    # would run a file of pages/ alone (pages/__init__.py and common.require_shell prevent it).
    for path, marker in (("overview", "[data-testid='stMetric']"), ("process_map", MAP_FRAME),
                         ("bottlenecks", ".js-plotly-plot"), ("handoffs", ".js-plotly-plot"),
                         ("variants", "[data-testid='stDataFrame']"), ("process_model", "svg .node"),
                         ("compare", ".js-plotly-plot"),
                         ("import_log", "[data-testid='stFileUploader']")):
        page.goto(f"{server}/{path}?lang=en")
        page.wait_for_selector(marker, timeout=60_000)
        wait_ready(page)
        no_exception(page)
        assert page.get_by_text("Active log", exact=True).count() == 1, path  # the sidebar (app.py) ran
        assert page.get_by_text("Page not found").count() == 0, path


def test_compare_page_shows_both_groups(server, page):
    page.goto(f"{server}/compare?lang=en")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    wait_ready(page)
    no_exception(page)
    assert page.locator("h1").first.inner_text() == "Compare two groups of cases"
    assert page.get_by_text("Steps where", exact=False).count() == 1
    assert page.locator(".js-plotly-plot .bars").count() >= 1
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "compare_en.png"), full_page=True)


def test_overview_loads_with_kpis_and_charts(server, page):
    page.goto(server)
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    wait_ready(page)
    no_exception(page)
    assert "3,000" in page.locator("[data-testid='stMetric']").first.inner_text()
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() >= 3
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "overview_zh.png"), full_page=True)


def test_every_page_in_both_languages(server, page):
    SHOTS.mkdir(exist_ok=True)
    page.goto(server)
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    wait_ready(page)
    for lang_label, title_overview, nav_import, title_import, nav_map, suffix in (
            ("English", "Overview", "Import", "Import an event log", "Process map", "en"),
            ("中文", "总览", "导入", "导入事件日志", "流程图", "zh")):
        page.get_by_text(lang_label, exact=True).click()
        page.wait_for_selector(f"h1:has-text('{title_overview}')", timeout=60_000)
        wait_ready(page)
        no_exception(page)
        assert page.locator("h1").first.inner_text() == title_overview
        page.screenshot(path=str(SHOTS / f"overview_{suffix}.png"), full_page=True)
        page.locator("[data-testid='stSidebarNav']").get_by_text(nav_import, exact=True).click()
        page.wait_for_selector(f"h1:has-text('{title_import}')", timeout=30_000)
        wait_ready(page)
        no_exception(page)
        page.screenshot(path=str(SHOTS / f"import_{suffix}.png"), full_page=True)
        page.locator("[data-testid='stSidebarNav']").get_by_text(nav_map, exact=True).click()
        # The map is our own SVG in a frame, with one <g class="node"> per activity.
        page.wait_for_selector(MAP_FRAME, timeout=60_000)
        wait_ready(page)
        no_exception(page)
        nodes = page.frame_locator(MAP_FRAME).locator("svg g.node")
        nodes.first.wait_for(timeout=30_000)
        assert nodes.count() >= 12 + 2  # activities + ▶ ■
        page.screenshot(path=str(SHOTS / f"map_{suffix}.png"), full_page=True)
        page.locator("[data-testid='stSidebarNav']").get_by_text(title_overview, exact=True).click()
        page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
        wait_ready(page)
    # The language is kept in the URL, so a reload or a shared link keeps it.
    page.goto(f"{server}/overview?lang=en")
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    assert page.locator("h1").first.inner_text() == "Overview"


def test_process_map_pans_zooms_and_downloads_its_svg(server, page, tmp_path):
    import xml.etree.ElementTree as ET

    page.goto(f"{server}/process_map?lang=en")
    page.wait_for_selector(MAP_FRAME, timeout=60_000)
    wait_ready(page)
    no_exception(page)
    frame = page.frame_locator(MAP_FRAME)
    svg = frame.locator("#view > svg")
    frame.locator("svg g.node").first.wait_for(timeout=30_000)
    assert frame.locator("svg g.node").count() == 12 + 2
    assert frame.locator("svg g.edge").count() >= 12
    # The sample's map fits its frame at the start, still readable.
    start = float(svg.get_attribute("data-scale"))
    assert 0.7 <= start <= 1
    assert frame.locator("#scale").inner_text() == f"{round(start * 100)}%"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "map_frame_en.png"), full_page=True)

    frame.locator("#zoom-in").click()
    assert float(svg.get_attribute("data-scale")) == pytest.approx(start * 1.25, abs=0.002)
    frame.locator("#zoom-out").click()
    assert float(svg.get_attribute("data-scale")) == pytest.approx(start, abs=0.002)
    box = page.locator(MAP_FRAME).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)  # wheel up: zoom in around the pointer
    page.wait_for_timeout(300)
    assert float(svg.get_attribute("data-scale")) > start * 1.2
    viewport = frame.locator("g.viewport")
    before = viewport.get_attribute("transform")
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2 + 80, steps=5)
    page.mouse.up()
    assert viewport.get_attribute("transform") != before  # dragged
    frame.locator("#fit").click()
    assert float(svg.get_attribute("data-scale")) == pytest.approx(start, abs=0.002)
    page.screenshot(path=str(SHOTS / "map_after_zoom_en.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("button", name="Download SVG").click()
    download = info.value
    assert download.suggested_filename == "process_map.svg"
    saved = tmp_path / "map.svg"
    download.save_as(saved)
    root = ET.parse(saved).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    nodes = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if "node" in g.get("class", "").split()]
    titles = {g.find("{http://www.w3.org/2000/svg}title").text for g in nodes}
    assert len(nodes) == 12 + 2 and "预算审批" in titles


GBK_CSV = (
    "案例编号,活动名称,开始时间,完成时间,处理人,部门\n"
    "C1,提交活动申请,2024/3/5 9:00,2024/3/5 9:07,王芳,区域分公司-华北\n"
    "C1,预算审批,2024/3/6 10:00,2024/3/6 14:30,李强,财务部\n"
    "C2,提交活动申请,2024/3/5 10:00,2024/3/5 10:15,王芳,区域分公司-华北\n"
    "C2,预算审批,2024/3/7 9:00,2024/3/8 9:00,李强,财务部\n"
    "C2,活动执行,2024/3/12 9:00,2024/3/12 16:45,赵敏,区域分公司-华北\n"
)


def test_upload_through_file_input_imports_a_log(server, page, tmp_path):
    path = tmp_path / "浏览器上传_gbk.csv"
    path.write_bytes(GBK_CSV.encode("gbk"))
    page.goto(f"{server}/import_log")
    page.wait_for_selector("[data-testid='stFileUploader']", timeout=60_000)
    wait_ready(page)
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(path))
    page.wait_for_selector("text=列映射", timeout=60_000)
    wait_ready(page)
    no_exception(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "import_mapping_zh.png"), full_page=True)
    page.get_by_role("button", name="导入", exact=True).click()
    page.wait_for_selector("h1:has-text('总览')", timeout=60_000)
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    wait_ready(page)
    no_exception(page)
    metrics = page.locator("[data-testid='stMetric']").all_inner_texts()
    assert any("案例数" in m and m.strip().endswith("2") for m in metrics), metrics
    assert any("事件数" in m and m.strip().endswith("5") for m in metrics), metrics
    page.screenshot(path=str(SHOTS / "overview_after_upload.png"), full_page=True)


def test_diagnosis_pages_render_findings_charts_and_a_download(server, page, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    page.goto(f"{server}/bottlenecks?lang=en")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    wait_ready(page)
    no_exception(page)
    findings = page.locator("[data-testid='stAlert']").first.inner_text()
    assert "预算审批" in findings and "holds 49% of all waiting" in findings  # SAMPLE_TRUTH: 49.0 %
    assert page.locator(".js-plotly-plot").count() >= 4  # Pareto, waiting vs processing, trend, heatmap
    page.screenshot(path=str(SHOTS / "bottlenecks_en.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_text("Download steps (CSV)").click()
    path = tmp_path / "bottlenecks.csv"
    info.value.save_as(path)
    import csv

    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert rows[0]["activity"] == "预算审批" and round(float(rows[0]["share_of_waiting"]), 3) == 0.490

    page.goto(f"{server}/handoffs?lang=en")
    page.wait_for_selector(".js-plotly-plot .heatmaplayer", timeout=60_000)
    wait_ready(page)
    no_exception(page)
    findings = page.locator("[data-testid='stAlert']").first.inner_text()
    assert "市场部-策划室 → 财务部" in findings and "ping-pong" in findings
    page.screenshot(path=str(SHOTS / "handoffs_en.png"), full_page=True)

    page.goto(f"{server}/variants?lang=zh")
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    wait_ready(page)
    no_exception(page)
    assert page.locator(".js-plotly-plot").count() == 2  # the variant chart and the case timeline
    page.screenshot(path=str(SHOTS / "variants_zh.png"), full_page=True)


def test_redesign_page_shows_both_maps_and_downloads_the_to_be_map(server, page, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    page.goto(f"{server}/redesign?lang=en")
    page.wait_for_selector(MAP_FRAME, timeout=60_000)
    wait_ready(page)
    no_exception(page)
    frames = page.locator(MAP_FRAME)
    assert frames.count() == 2  # as-is and to-be side by side
    for i in range(2):
        nodes = page.frame_locator(MAP_FRAME).nth(i).locator("svg g.node")
        nodes.first.wait_for(timeout=30_000)
        assert nodes.count() >= 14
    assert "Median cycle time" in page.locator("[data-testid='stMetric']").first.inner_text()
    page.screenshot(path=str(SHOTS / "redesign_en.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_text("Download the to-be map (SVG)").click()
    path = tmp_path / "to_be.svg"
    info.value.save_as(path)
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    titles = {t.text for t in root.iter("{http://www.w3.org/2000/svg}title")}
    assert "物资采购" in titles and "预算审批" in titles
