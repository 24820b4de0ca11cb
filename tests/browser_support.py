"""What the real-browser tests share besides fixtures (those are in conftest.py): where Chromium is, where
screenshots go, and waiting for Streamlit to settle."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_browser() -> None:
    """Skip (or, in CI, fail) when there is no Chromium to drive."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found: install Debian's chromium package (.ci/run does)"
    if os.environ.get("PROCDIAG_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MAP_FRAME = "iframe[data-testid='stIFrame']"  # the process map's pan-and-zoom frame


def wait_ready(pg) -> None:
    """Wait until Streamlit has finished running the script (no 'running' indicator) and charts drew."""
    pg.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    pg.wait_for_timeout(800)


def no_exception(pg) -> None:
    assert pg.locator("[data-testid='stException']").count() == 0, pg.locator("[data-testid='stException']").first.inner_text()
