"""Redesign replay at scale: 100,000 generated cases (~1.08M events) replayed through the sample's
end-to-end scenario — replay, KPI comparison with bootstrap intervals, to-be map and conformance — and the
Redesign page as a whole script (AppTest). Prints medians and puts them into bench/RESULTS.md.

Run: .venv/bin/python bench/redesign_bench.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from apptest_app import new_app, publish, timed, usable  # noqa: E402  (after the path set-up above)

CASES = 100_000


def loaded_store() -> Path:
    """A store holding 100,000 generated cases (English names), imported once and reused."""
    db = DATA / "redesign-100k-cases.duckdb"
    if usable(db):
        return db
    DATA.mkdir(parents=True, exist_ok=True)
    csv = DATA / "cases-100k.csv"
    if not csv.exists():
        subprocess.run([sys.executable, "-m", "analysis", "sample", str(csv), "--cases", str(CASES),
                        "--sample-lang", "en"], cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-m", "analysis", "import", str(csv), "--db", str(db), "--name", "bench cases"],
                   cwd=ROOT, check=True)
    return db


def english_scenario():
    """The shipped sample scenario with the English names of the generated log."""
    from analysis import defaults, sample
    from analysis.redesign import Scenario

    names = {**{sample.ACTIVITY_NAMES["zh"][k]: v for k, v in sample.ACTIVITY_NAMES["en"].items()},
             **{sample.DEPARTMENT_NAMES["zh"][k]: v for k, v in sample.DEPARTMENT_NAMES["en"].items()}}
    text = json.dumps(defaults.SAMPLE_SCENARIO_OPERATIONS, ensure_ascii=False)
    for zh, en in sorted(names.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f'"{zh}"', json.dumps(en))
    return Scenario.of("End-to-end campaign team", json.loads(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    db = loaded_store()
    from analysis import conformance, redesign, store

    scenario = english_scenario()
    results: dict[str, list[float]] = {k: [] for k in (
        "replay as-is + to-be", "compare (200 paired bootstrap resamples)", "to-be map", "conformance (to-be model + fit)",
        "Redesign page, whole script (AppTest, cold cache)")}
    with store.connect(db, read_only=True) as con:
        log_id = store.resolve_log(con, "bench cases")
        n_cases = con.execute("SELECT count(*) FROM cases WHERE log_id = ?", [log_id]).fetchone()[0]
        n_events = con.execute("SELECT count(*) FROM events WHERE log_id = ?", [log_id]).fetchone()[0]
        frames: dict = {}
        for _ in range(args.runs):
            results["replay as-is + to-be"].append(timed(lambda: frames.update(
                a=redesign.replay(con, log_id), b=redesign.replay(con, log_id, scenario))))
            results["compare (200 paired bootstrap resamples)"].append(
                timed(lambda: redesign.compare(frames["a"], frames["b"])))
            results["to-be map"].append(timed(lambda: redesign.to_be_map(con, log_id, scenario)))
            results["conformance (to-be model + fit)"].append(timed(lambda: conformance.conformance(
                con, log_id, conformance.to_be_model(con, log_id, scenario))))
        table = redesign.compare(frames["a"], frames["b"]).set_index("kpi")

    from streamlit import cache_data
    for _ in range(args.runs):
        at = new_app(db)
        at.run()
        at.session_state["rd_pending_load"] = (scenario.operations, scenario.name)
        cache_data.clear()
        results["Redesign page, whole script (AppTest, cold cache)"].append(
            timed(at.switch_page("pages/redesign.py").run))
        assert not at.exception, at.exception

    median = table.loc["median_cycle_seconds"]
    lines = [f"\n## Redesign replay, {n_cases:,} cases / {n_events:,} events ({args.runs} rounds)\n",
             f"Scenario: the sample's end-to-end campaign team. Median cycle time {median['as_is'] / 86400:.1f} → "
             f"{median['to_be'] / 86400:.1f} days (90% interval of the change {median['delta_low'] / 86400:.1f} … "
             f"{median['delta_high'] / 86400:.1f}).\n",
             "| step | median (s) | max (s) |", "|---|---:|---:|"]
    for name, values in results.items():
        lines.append(f"| {name} | {statistics.median(values):.2f} | {max(values):.2f} |")
    publish(lines)


if __name__ == "__main__":
    main()
