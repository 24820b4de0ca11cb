"""The dashboard under Streamlit's AppTest for the benchmarks, on a given database file."""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def new_app(db: Path, timeout: float = 600):
    """An AppTest of app.py on `db` (read-write, not viewer mode), not run yet.

    As in tests/conftest.py: AppTest would otherwise take the pages/ folder for a legacy multipage app.
    """
    os.environ["PROCDIAG_DB"] = str(db)
    os.environ.pop("PROCDIAG_VIEWER", None)
    from streamlit.runtime import pages_manager
    from streamlit.testing.v1 import AppTest, app_test

    class NavigationPagesManager(pages_manager.PagesManager):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            pages_manager.PagesManager.uses_pages_directory = False

    app_test.PagesManager = NavigationPagesManager
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)


def usable(db: Path) -> bool:
    """True when `db` exists and this version of the tool can open it (else it is deleted, to be rebuilt)."""
    if not db.exists():
        return False
    from analysis import store

    try:
        store.connect(db, read_only=True).close()
        return True
    except store.StoreError:
        db.unlink()
        return False


def publish(lines: list[str]) -> None:
    """Print a results section and put it into bench/RESULTS.md: in place of an earlier section with
    the same heading (a rerun replaces its figures), else at the end."""
    text = "\n".join(lines).strip("\n") + "\n"
    print(text)
    path = ROOT / "bench" / "RESULTS.md"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    heading = text.splitlines()[0]
    start = old.find(heading + "\n")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(heading))
        new = old[:start] + text + (old[end:] if end >= 0 else "")
    path.write_text(new, encoding="utf-8")


def timed(action) -> float:
    """Wall time of one AppTest action (a whole script run)."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start
