"""Real browser: the "why it waits" tabs of Bottlenecks and Hand-offs — the stacked chart draws, a click on a
bar picks that step for the breakdown, the CSV downloads (screenshots in tests/screenshots/)."""

from __future__ import annotations

import csv

import pytest
from browser_support import SHOTS, no_exception, wait_ready
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _open_why(page, url: str) -> None:
    page.goto(url)
    wait_ready(page)
    no_exception(page)
    page.get_by_role("tab", name="Why it waits").click()
    wait_ready(page)
    no_exception(page)


def _why_chart(page):
    panel = page.locator("[data-testid='stTabPanel']:visible")
    return panel.locator(".js-plotly-plot").first


def test_bottlenecks_why_tab_click_a_bar_and_download(server, page, tmp_path):
    _open_why(page, f"{server}/bottlenecks?lang=en")
    chart = _why_chart(page)
    chart.wait_for(timeout=60_000)
    legend = [t.text_content() for t in chart.locator(".legendtext").all()]
    assert legend == ["Batching", "Prioritisation", "Contention", "Unavailability", "Extraneous"]
    pick = page.locator("[data-testid='stTabPanel']:visible [data-testid='stSelectbox']").first
    assert pick.locator("input").input_value() == "预算审批"   # the sample's largest wait (SAMPLE_TRUTH.md)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "bottlenecks_why_en.png"), full_page=True)
    # Click the largest segment of the second bar from the top: the breakdown follows it.
    names = [t.text_content() for t in chart.locator(".ytick text").all()]
    second = names[-2]                     # bars run top-down: the y axis lists them bottom-up
    bars = chart.locator(".bars .point")
    boxes = [b.bounding_box() for b in bars.all()]
    row_y = sorted({round(b["y"] + b["height"] / 2) for b in boxes if b and b["width"] > 0})
    target = max((b for b in boxes if b and b["width"] > 0 and round(b["y"] + b["height"] / 2) == row_y[1]),
                 key=lambda b: b["width"])
    page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    expect(pick.locator("input")).to_have_value(second, timeout=60_000)
    wait_ready(page)
    no_exception(page)
    with page.expect_download() as info:
        page.locator("[data-testid='stTabPanel']:visible [data-testid='stDownloadButton'] button").first.click()
    path = tmp_path / "why.csv"
    info.value.save_as(path)
    with path.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert rows and {"key", "wait_seconds", "batching_seconds", "extraneous_seconds"} <= set(rows[0])
    for row in rows:
        parts = sum(float(row[f"{c}_seconds"]) for c in
                    ("batching", "prioritization", "contention", "unavailability", "extraneous"))
        assert parts == pytest.approx(float(row["wait_seconds"]), rel=1e-9, abs=1e-6)


def test_handoffs_why_tab_in_chinese(server, page):
    _open_why_zh = f"{server}/handoffs?lang=zh"
    page.goto(_open_why_zh)
    wait_ready(page)
    no_exception(page)
    page.get_by_role("tab", name="等待原因").click()
    wait_ready(page)
    no_exception(page)
    chart = _why_chart(page)
    chart.wait_for(timeout=60_000)
    names = [t.text_content() for t in chart.locator(".ytick text").all()]
    assert names and all("→" in n for n in names)
    page.screenshot(path=str(SHOTS / "handoffs_why_zh.png"), full_page=True)
