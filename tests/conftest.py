"""Shared fixtures: a fresh store, a file writer with a chosen encoding, and the command line in a subprocess."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from apptest_support import APP
from browser_support import CHROMIUM, CHROMIUM_ARGS, free_port, require_browser
from streamlit.testing.v1 import AppTest

from analysis import defaults, store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(tmp_path):
    """A fresh, empty store in tmp_path (closed after the test)."""
    con = store.connect(tmp_path / "t.duckdb")
    yield con
    con.close()


@pytest.fixture
def write(tmp_path):
    """write(name, content, encoding='utf-8', gz=False) -> Path: text is encoded, bytes are written as they are."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8", gz: bool = False) -> Path:
        data = content if isinstance(content, bytes) else content.encode(encoding)
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if gz else data)
        return path

    return _write


@pytest.fixture
def cli(tmp_path):
    """cli(*args, db=..., env=...) -> (code, stdout, stderr) of `python -m analysis ARGS --db DB`.

    `db` defaults to tmp_path/'cli.duckdb'; db=None leaves --db out (so $PROCDIAG_DB or the default applies).
    """
    default_db = tmp_path / "cli.duckdb"

    def _cli(*args: str, db: str | os.PathLike | None | bool = True, env: dict | None = None):
        argv = [sys.executable, "-m", "analysis", *[str(a) for a in args]]
        if db is True:
            argv += ["--db", str(default_db)]
        elif db:
            argv += ["--db", str(db)]
        run_env = {k: v for k, v in os.environ.items() if k != "PROCDIAG_DB"}
        run_env["PYTHONIOENCODING"] = "utf-8"  # Chinese names in JSON, whatever the machine's locale
        run_env.update(env or {})
        done = subprocess.run(argv, cwd=ROOT, env=run_env, capture_output=True, encoding="utf-8", timeout=60)
        return done.returncode, done.stdout, done.stderr

    _cli.db_path = default_db
    return _cli


# A hand-checkable log: 4 cases, 13 events, 3 activities, 3 variants (ABC twice, AC, ABBBC).
# Cycle times: case 1 3 h, case 2 30 min, case 3 6 h, case 4 20 min.
TINY_LOG = """case,activity,timestamp,resource,department
1,A,2024-03-05 09:00,Ann,Sales
1,B,2024-03-05 10:00,Bob,Finance
1,C,2024-03-05 12:00,Cy,Sales
2,A,2024-03-05 09:00,Ann,Sales
2,C,2024-03-05 09:30,Cy,Sales
3,A,2024-03-06 08:00,Ann,Sales
3,B,2024-03-06 08:30,Bob,Finance
3,B,2024-03-06 09:30,Bob,Finance
3,B,2024-03-06 10:00,Bob,Finance
3,C,2024-03-06 14:00,Cy,Sales
4,A,2024-03-07 09:00,Ann,Sales
4,B,2024-03-07 09:10,Dee,Finance
4,C,2024-03-07 09:20,Cy,Sales
"""


@pytest.fixture
def tiny_log(write) -> Path:
    """TINY_LOG written as tiny.csv."""
    return write("tiny.csv", TINY_LOG)


# --- AppTest: the app on the sample store (tests/apptest_support.py has the readers). --------------------------

@pytest.fixture(autouse=True)
def navigation_not_pages_dir(monkeypatch):
    """Work around AppTest treating our pages/ folder as a legacy multipage app on every run.

    AppTest resets PagesManager.uses_pages_directory before each run, and PagesManager then sets it
    to True because pages/ exists, so the entry script runs through the legacy path and loses its
    sidebar widgets on reruns. The real server runs st.navigation, which sets it to False.
    """
    from streamlit.runtime import pages_manager
    from streamlit.testing.v1 import app_test

    class NavigationPagesManager(pages_manager.PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pages_manager.PagesManager.uses_pages_directory = False

    monkeypatch.setattr(app_test, "PagesManager", NavigationPagesManager)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> str:
    """A store holding only the sample log (imported once for the module)."""
    path = tmp_path_factory.mktemp("app") / "app.duckdb"
    with store.connect(path) as con:
        defaults.ensure_sample(con)
    return str(path)


@pytest.fixture
def app(sample_db, monkeypatch) -> AppTest:
    """The app started on the sample store, first run done."""
    monkeypatch.setenv("PROCDIAG_DB", sample_db)
    monkeypatch.delenv("PROCDIAG_VIEWER", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def scratch_app(tmp_path, monkeypatch) -> AppTest:
    """The app on a store of its own (tests that import, rename or delete)."""
    path = tmp_path / "scratch.duckdb"
    with store.connect(path) as con:
        defaults.ensure_sample(con)
    monkeypatch.setenv("PROCDIAG_DB", str(path))
    monkeypatch.delenv("PROCDIAG_VIEWER", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


# --- Real browser: `streamlit run` on the sample store, Playwright driving Debian's Chromium. -----------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app.py` on a free port, on a store holding the sample log."""
    require_browser()
    db = tmp_path_factory.mktemp("browser") / "browser.duckdb"
    with store.connect(db) as con:
        defaults.ensure_sample(con)
    port = free_port()
    env = {**os.environ, "PROCDIAG_DB": str(db)}
    env.pop("PROCDIAG_VIEWER", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(store.ROOT / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=store.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 2200}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()
