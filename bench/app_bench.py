"""Dashboard responsiveness at scale: whole page-script runs (AppTest) on a loaded 1M-event log.

Measures, after the first (cold) load: a filter change to values not seen before (cache miss),
the same filter again (cache hit), switching pages, and the language switch. Prints medians and
puts its section into bench/RESULTS.md. Run: .venv/bin/python bench/app_bench.py [--size 1m] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from apptest_app import new_app, publish, timed, usable  # noqa: E402  (after the path set-up above)


def loaded_store(size: str) -> Path:
    """A store holding the generated log of this size (imported once, then reused)."""
    db = DATA / f"app-{size}.duckdb"
    if usable(db):
        return db
    csv = DATA / f"events-{size}.csv"
    if not csv.exists():
        cases = {"100k": 9_200, "1m": 92_000, "5m": 460_000}[size]
        subprocess.run([sys.executable, "-m", "analysis", "sample", str(csv), "--cases", str(cases),
                        "--sample-lang", "en"], cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-m", "analysis", "import", str(csv), "--db", str(db), "--name", f"bench {size}"],
                   cwd=ROOT, check=True)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="1m", choices=("100k", "1m", "5m"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    db = loaded_store(args.size)

    results: dict[str, list[float]] = {"first load": [], "filter change (new values)": [],
                                       "filter change (seen values)": [], "switch page": [],
                                       "language switch": [],
                                       "process map: filter change (new values)": [],
                                       "variants & cases: filter change (new values)": [],
                                       "process model: filter change (new values)": [],
                                       "bottlenecks: filter change (new values)": [],
                                       "hand-offs: filter change (new values)": [],
                                       "compare cohorts: filter change (new values)": []}
    for _ in range(args.runs):
        at = new_app(db)
        results["first load"].append(timed(at.run))
        assert not at.exception, at.exception
        log_id = at.session_state["active_log"]
        key = next(w.key for w in at.sidebar.multiselect if w.key.startswith(f"flt_attr_{log_id}_"))
        options = at.sidebar.multiselect(key=key).options
        for value in options[:2]:
            at.sidebar.multiselect(key=key).set_value([value])
            results["filter change (new values)"].append(timed(at.run))
        at.sidebar.multiselect(key=key).set_value([options[0]])
        results["filter change (seen values)"].append(timed(at.run))
        results["switch page"].append(timed(at.switch_page("pages/import_log.py").run))
        results["switch page"].append(timed(at.switch_page("pages/overview.py").run))
        # Issue 4: map + variants (and the discovered model) for a filter not seen before, whole page script.
        activities = at.sidebar.multiselect(key=f"flt_present_{log_id}").options
        pages = (("pages/process_map.py", "process map"), ("pages/variants.py", "variants & cases"),
                 ("pages/process_model.py", "process model"), ("pages/bottlenecks.py", "bottlenecks"),
                 ("pages/handoffs.py", "hand-offs"), ("pages/compare.py", "compare cohorts"))
        for i, (page, name) in enumerate(pages):
            at.switch_page(page).run()
            for activity in activities[2 * i: 2 * i + 2]:  # values no page has seen: nothing cached
                at.sidebar.multiselect(key=f"flt_present_{log_id}").set_value([activity])
                results[f"{name}: filter change (new values)"].append(timed(at.run))
                assert not at.exception, at.exception
            at.sidebar.multiselect(key=f"flt_present_{log_id}").set_value([])
            at.run()
        # Last: AppTest keeps the old language's option labels, so nothing may follow the switch.
        at.sidebar.radio(key="lang_choice").set_value("en")
        results["language switch"].append(timed(at.run))
        assert not at.exception, at.exception
        from streamlit import cache_data

        cache_data.clear()

    lines = [f"\n## Dashboard responsiveness, {args.size} events (AppTest whole-script runs, {args.runs} rounds)\n",
             "| action | median (s) | max (s) | target |", "|---|---:|---:|---|"]
    for name, values in results.items():
        target = "" if name == "first load" else "≤ 1 s"
        verdict = "" if not target else (" PASS" if statistics.median(values) <= 1 else " FAIL")
        lines.append(f"| {name} | {statistics.median(values):.2f} | {max(values):.2f} | {target}{verdict} |")
    publish(lines)


if __name__ == "__main__":
    main()
