"""Why it waits at scale: the waiting-cause diagnosis (analysis.waiting_causes) on a ~1M-event sample log.

Measures, as the page calls it (one connection for the server, a fresh cursor per call): diagnose with
nothing saved (the whole split of every wait, then the grouping), save_parts (the split written into the
store, what the server does in the background after an import and at its start), diagnose on the saved
split for every grouping on a freshly opened store (a first visit after a restart: nothing cached), and
under filters no call has seen; and for a read-only store, event_parts (the split as an Arrow table the
page caches) and diagnose given it. Each in calendar time (each person's observed hours) and in working
time (the sample's calendar). Prints medians and puts its section into bench/RESULTS.md.

    .venv/bin/python bench/why.py [--size 1m] [--runs 5] [--profile] [--print-only]

The log is analysis.sample.write_sample_csv(n_cases=…) imported with the project's importer, cached in
bench/data/ under a digest of analysis/sample.py (a changed generator makes a new log). --profile also
prints DuckDB's per-operator profile of one event_parts query (the breakdown in bench/README.md).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from apptest_app import new_app, publish, usable  # noqa: E402  (after the path set-up above)
from apptest_app import timed as timed_run  # noqa: E402
from run import machine  # noqa: E402

from analysis import importer, sample, store  # noqa: E402
from analysis import waiting_causes as wc  # noqa: E402
from analysis.filters import CaseFilter  # noqa: E402
from analysis.sql import query  # noqa: E402
from analysis.working_time import sample_calendar  # noqa: E402

CASES = {"100k": 9_200, "1m": 92_000}     # ≈ 10.8 events per case
TARGET = 2.0                              # seconds: the page's answer (issue 13)


def digest(path: Path) -> str:
    """The first 8 hex digits of a file's SHA-1 (which version of a module was measured)."""
    return hashlib.sha1(path.read_bytes()).hexdigest()[:8]


def loaded_store(size: str) -> tuple[Path, int]:
    """The store holding the sample log of this size from the current generator (made once), and its log id."""
    version = digest(ROOT / "analysis" / "sample.py")
    db = DATA / f"why-{size}-{version}.duckdb"
    if not usable(db):
        DATA.mkdir(parents=True, exist_ok=True)
        csv = DATA / f"why-{size}-{version}.csv"
        print(f"generating {csv.name} ...", flush=True)
        sample.write_sample_csv(csv, n_cases=CASES[size], lang="en")
        con = store.connect(db)
        importer.import_file(con, csv)
        con.close()
        csv.unlink()
    con = store.connect(db, read_only=True)
    log_id = store.list_logs(con)[0].log_id
    con.close()
    return db, log_id


def timed(con, func, *args, **kwargs) -> tuple[float, object]:
    """Wall seconds of one call on a fresh cursor (as pages/cache.py runs every analysis call) and its result."""
    with con.cursor() as cur:
        start = time.perf_counter()
        result = func(cur, *args, **kwargs)
        return time.perf_counter() - start, result


def new_filters(con, log_id: int, runs: int) -> list[CaseFilter]:
    """`runs` filters no call has seen: each month's cases from the log's third month on (a new time range
    each run, as a user narrowing the global filter)."""
    with con.cursor() as cur:
        first = cur.execute("SELECT min(start_ts) FROM cases WHERE log_id = $l", {"l": log_id}).fetchone()[0]
    months = [(first.date().replace(day=1) + datetime.timedelta(days=31 * (2 + i))).replace(day=1) for i in range(runs)]
    return [CaseFilter(time_from=m.isoformat(), time_to=(m + datetime.timedelta(days=27)).isoformat()) for m in months]


def reopen(con, db: Path):
    """Close the connection and open the store again: a server started afresh (no cache, DuckDB's buffers
    empty; the operating system's file cache stays warm)."""
    con.close()
    return store.connect(db)


def measure(con, db: Path, log_id: int, calendar, runs: int):
    """Every step's times over the runs and the saved split's size in the store file (MB), and the
    connection (reopened on the way)."""
    times: dict[str, list[float]] = {"diagnose, nothing saved": [], "save_parts (the server does it after an import)": []}
    times |= {f"first visit after a restart, saved split, by {by}": [] for by in wc.BY}
    times |= {f"saved split, by {by}, new filter": [] for by in wc.BY}
    times |= {"read-only store: event_parts (the page caches it)": [], "read-only store: diagnose with cached parts": []}
    filters = new_filters(con, log_id, runs)
    size = 0.0
    for run in range(runs):
        with con.cursor() as cur:
            for table in ("wait_parts", "wait_part_sets"):
                cur.execute(f"DELETE FROM {table} WHERE log_id = $l", {"l": log_id})
            cur.execute("CHECKPOINT")
        before = db.stat().st_size
        times["diagnose, nothing saved"].append(timed(con, wc.diagnose, log_id, None, calendar)[0])
        times["save_parts (the server does it after an import)"].append(timed(con, wc.save_parts, log_id, calendar)[0])
        con.execute("CHECKPOINT")
        size = max(size, (db.stat().st_size - before) / 1e6)
        for by in wc.BY:
            con = reopen(con, db)
            times[f"first visit after a restart, saved split, by {by}"].append(
                timed(con, wc.diagnose, log_id, None, calendar, by)[0])
            times[f"saved split, by {by}, new filter"].append(
                timed(con, wc.diagnose, log_id, filters[run], calendar, by)[0])
        seconds, parts = timed(con, wc.event_parts, log_id, calendar)
        times["read-only store: event_parts (the page caches it)"].append(seconds)
        times["read-only store: diagnose with cached parts"].append(
            timed(con, wc.diagnose, log_id, filters[run], calendar, "activity", parts=parts)[0])
        print(f"  run {run + 1}/{runs}: " + ", ".join(f"{v[-1]:.2f}" for v in times.values()), flush=True)
    return (times, size), con


def page_visits(db: Path, runs: int) -> tuple[dict[str, list[float]], float]:
    """Whole page-script runs (AppTest) on a server started afresh each run (Streamlit's caches cleared, the
    store opened again): the first visit to Bottlenecks (its statistics and the why-it-waits tab, by step),
    then to Hand-offs, each with nothing cached but the split saved in the store."""
    import streamlit as st

    times: dict[str, list[float]] = {"page: Bottlenecks, first visit (whole script)": [],
                                     "page: Hand-offs, first visit (whole script)": []}
    for _ in range(runs):
        st.cache_data.clear()
        st.cache_resource.clear()
        at = new_app(db)
        at.run()
        assert not at.exception, at.exception
        times["page: Bottlenecks, first visit (whole script)"].append(
            timed_run(at.switch_page("pages/bottlenecks.py").run))
        assert not at.exception and at.get("plotly_chart"), at.exception
        times["page: Hand-offs, first visit (whole script)"].append(timed_run(at.switch_page("pages/handoffs.py").run))
        assert not at.exception, at.exception
        print("  page run: " + ", ".join(f"{v[-1]:.2f}" for v in times.values()), flush=True)
    return times, 0.0


def profile(con, log_id: int) -> None:
    """Print DuckDB's per-operator profile (CPU seconds over both threads) of one event_parts query."""
    out = DATA / "why-profile.json"
    with con.cursor() as cur:
        ctes, _ = wc._parts_query(cur, log_id, None, wc.BATCH_GAP)       # event_parts' query, calendar time
        found = query(f"{ctes.text} SELECT * FROM wc_rows", ctes)
        cur.execute("PRAGMA enable_profiling = 'json'")
        cur.execute(f"SET profiling_output = '{out}'")
        start = time.perf_counter()
        found.run(cur).fetchall()
        print(f"event_parts query: {time.perf_counter() - start:.2f} s wall; CPU seconds per operator:")
        cur.execute("PRAGMA disable_profiling")
    plan = json.loads(out.read_text())

    def walk(node: dict, depth: int) -> None:
        if node.get("timing", 0) >= 0.02:
            info = node.get("extra_info", {})
            what = info.get("CTE Name") or str(info.get("Projections") or info.get("Conditions") or "")[:90]
            print(f"{node['timing']:7.2f} {'  ' * depth}{node['name']} rows={node.get('intermediate_rows')} {what}")
        for child in node.get("children", []):
            walk(child, depth + 1)

    for node in plan["operator"]:
        walk(node, 0)


def report(size: str, runs: int, log: str, results: dict, load: str) -> list[str]:
    """The RESULTS.md section."""
    lines = [f"\n## Why it waits, {size} events (waiting_causes, {runs} runs)\n",
             f"Generated {datetime.datetime.now():%Y-%m-%d %H:%M} by `bench/why.py --size {size} --runs {runs}`. "
             f"Machine: {machine()}. {log}. Code: "
             f"analysis/waiting_causes.py {digest(ROOT / 'analysis' / 'waiting_causes.py')}, analysis/sample.py "
             f"{digest(ROOT / 'analysis' / 'sample.py')}. Each call on a fresh cursor of one connection, as the "
             f"page makes it; \"new filter\": a month of cases no call has seen. {load} See bench/README.md.", ""]
    for label, (times, mb) in results.items():
        saved = f" (the saved split: {mb:.0f} MB of the store file)" if mb else ""
        lines += [f"**{label}**{saved}", "", "| step | median (s) | max (s) | target |",
                  "|---|---:|---:|---|"]
        for name, values in times.items():
            target = ("" if "nothing saved" in name or "save_parts" in name or "event_parts" in name
                      else f"≤ {TARGET:g} s {'PASS' if statistics.median(values) <= TARGET else 'FAIL'}")
            lines.append(f"| {name} | {statistics.median(values):.2f} | {max(values):.2f} | {target} |")
        lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m", choices=tuple(CASES))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also print the event_parts query's profile")
    parser.add_argument("--print-only", action="store_true", help="print the section, leave RESULTS.md alone")
    args = parser.parse_args()
    db, log_id = loaded_store(args.size)
    con = store.connect(db)
    with con.cursor() as cur:
        events, cases = cur.execute("SELECT count(*), count(DISTINCT case_id) FROM events WHERE log_id = $l",
                                    {"l": log_id}).fetchone()
    log = f"Log: {events:,} events, {cases:,} cases"
    print(log, flush=True)
    if args.profile:
        profile(con, log_id)
    results, before = {}, os.getloadavg()[0]
    for label, calendar in (("Calendar time (each person's observed hours)", None),
                            ("Working time (the sample's calendar)", sample_calendar())):
        print(label, flush=True)
        results[label], con = measure(con, db, log_id, calendar, args.runs)
    con.close()
    print("Pages (AppTest)", flush=True)
    results["The pages, calendar time (AppTest, Streamlit's caches cleared before each run)"] = page_visits(db, args.runs)
    load = f"Load average before the runs: {before:.1f} (other sessions' work; the runs keep both cores busy)."
    lines = report(args.size, args.runs, log, results, load)
    print("\n".join(lines)) if args.print_only else publish(lines)


if __name__ == "__main__":
    main()
