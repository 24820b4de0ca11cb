"""Shared fixtures: a fresh store, a file writer with a chosen encoding, and the command line in a subprocess."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import store

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
