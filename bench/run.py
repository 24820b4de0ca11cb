"""Benchmark: import and analysis of 100k / 1M / 5M-event logs against bare DuckDB and pm4py.

    .venv/bin/python bench/run.py [--sizes 100k,1m,5m] [--runs 3] [--quick]

Logs come from the sample generator (English headers), cached in bench/data/ by size. Every step is a
whole process in a fresh interpreter, so start-up and imports count as a user would feel them: wall
time is the median of the runs, peak memory is the child's own ru_maxrss (os.wait4), the largest over
the runs. Prints the tables and writes bench/RESULTS.md with the targets the project must meet.
This file imports neither pandas nor pm4py: the measured processes do.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
PY = sys.executable
EVENTS_PER_CASE = 10.85          # what the generator produces on average
TIMEOUT = 15 * 60                # one run longer than this is recorded as a timeout
BARE = ("import duckdb, sys; duckdb.connect(sys.argv[1])"
        ".execute('CREATE TABLE t AS SELECT * FROM read_csv(?)', [sys.argv[2]])")
STEPS = ("import", "bare read_csv", "summary", "dfg", "variants", "pm4py pipeline")


@dataclass
class Run:
    seconds: float | None        # None: killed after TIMEOUT
    peak_mb: float


def parse_size(text: str) -> int:
    """'100k' -> 100_000, '1m' -> 1_000_000."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def generate(label: str, events: int) -> tuple[Path, int]:
    """The cached CSV of about `events` events (written by the sample generator once); its event count."""
    path = DATA / f"events-{label}.csv"
    if not path.exists():
        print(f"generating {path.name} ...", flush=True)
        tmp = path.with_suffix(".part")
        subprocess.run([PY, "-m", "analysis", "sample", str(tmp), "--cases", str(round(events / EVENTS_PER_CASE)),
                        "--sample-lang", "en"], cwd=ROOT, check=True)
        tmp.rename(path)
    with path.open("rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b""))
    return path, lines - 1


def run_measured(cmd: list[str], timeout: float = TIMEOUT) -> Run:
    """Run `cmd` as a child process; its wall time and its own peak RSS (None seconds on timeout)."""
    timed_out = threading.Event()
    log = DATA / "child.log"
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, lambda: (timed_out.set(), proc.kill()))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if timed_out.is_set():
        return Run(None, usage.ru_maxrss / 1024)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{log.read_text(errors='replace')[-3000:]}")
    return Run(seconds, usage.ru_maxrss / 1024)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def fresh(db: Path) -> Path:
    """`db` with no file (and no WAL) left from an earlier run."""
    for p in (db, db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)
    return db


def bench_size(label: str, csv: Path, runs: int) -> dict[str, list[Run]]:
    """Every step's runs on one log."""
    db, bare = DATA / f"bench-{label}.duckdb", DATA / f"bare-{label}.duckdb"
    name = f"bench-{label}"
    commands = {
        "import": lambda: [PY, "-m", "analysis", "import", str(csv), "--db", str(fresh(db)), "--name", name, "--json"],
        "bare read_csv": lambda: [PY, "-c", BARE, str(fresh(bare)), str(csv)],
        "summary": lambda: [PY, "-m", "analysis", "summary", name, "--db", str(db), "--json"],
        "dfg": lambda: [PY, "-m", "analysis", "dfg", name, "--db", str(db), "--json"],
        "variants": lambda: [PY, "-m", "analysis", "variants", name, "--db", str(db), "--json"],
        "pm4py pipeline": lambda: [PY, str(BENCH / "pm4py_pipeline.py"), str(csv)],
    }
    results: dict[str, list[Run]] = {}
    for step in STEPS:
        results[step] = []
        for i in range(runs):
            run = run_measured(commands[step]())
            results[step].append(run)
            shown = "TIMEOUT" if run.seconds is None else f"{run.seconds:8.2f} s"
            print(f"  {label:>5} {step:<15} run {i + 1}/{runs}: {shown}  {run.peak_mb:8.0f} MB", flush=True)
            if run.seconds is None:
                break                      # one timeout is enough to know
    fresh(db), fresh(bare)
    return results


def stat(runs: list[Run]) -> tuple[float | None, float]:
    """Median seconds (None when a run timed out) and the largest peak RSS."""
    times = [r.seconds for r in runs]
    return (None if None in times else median(times)), max(r.peak_mb for r in runs)


def checks(results: dict) -> list[tuple[str, str, str, str]]:
    """The project's targets: (what, value, target, PASS/FAIL/n/a)."""
    def secs(size: str, step: str) -> tuple[float | None, bool]:
        """Median seconds, and whether it is only a lower bound (timeout)."""
        if size not in results:
            return None, False
        t, _ = stat(results[size]["steps"][step])
        return (TIMEOUT, True) if t is None else (t, False)

    def ratio(what: str, a: tuple, b: tuple, target: float, at_most: bool):
        (x, x_lower), (y, _) = a, b
        if x is None or y is None:
            return what, "n/a", f"{'≤' if at_most else '≥'} {target}×", "n/a"
        value = x / y
        shown = f"{'> ' if x_lower else ''}{value:.1f}×"
        ok = (value <= target) if at_most else (value >= target)
        return what, shown, f"{'≤' if at_most else '≥'} {target}×", "PASS" if ok else "FAIL"

    out = [
        ratio("import / bare read_csv, 1M", secs("1m", "import"), secs("1m", "bare read_csv"), 3, True),
        ratio("pm4py pipeline / our dfg, 1M", secs("1m", "pm4py pipeline"), secs("1m", "dfg"), 8, False),
        ratio("pm4py pipeline / our dfg, 5M", secs("5m", "pm4py pipeline"), secs("5m", "dfg"), 12, False),
        ratio("our dfg 5M / 1M", secs("5m", "dfg"), secs("1m", "dfg"), 5.5, True),
        ratio("our import 5M / 1M", secs("5m", "import"), secs("1m", "import"), 5.5, True),
    ]
    for step in ("import", "dfg"):
        if "1m" in results:
            peak = stat(results["1m"]["steps"][step])[1]
            out.append((f"peak RSS of {step}, 1M", f"{peak:.0f} MB", "< 600 MB", "PASS" if peak < 600 else "FAIL"))
        else:
            out.append((f"peak RSS of {step}, 1M", "n/a", "< 600 MB", "n/a"))
    return out


def code_version() -> str:
    """The commit measured (+ a digest of analysis/*.py when it has uncommitted changes)."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "analysis"], capture_output=True, text=True).stdout.strip()
    digest = hashlib.sha1(b"".join(p.read_bytes() for p in sorted((ROOT / "analysis").rglob("*.py")))).hexdigest()
    return f"commit {head or 'unknown'}" + (f" + uncommitted changes in analysis/ ({digest[:8]})" if dirty else "")


def machine() -> str:
    with open("/proc/meminfo") as f:
        ram_gb = int(f.readline().split()[1]) / 1024 ** 2
    return (f"{os.cpu_count()} cores, {ram_gb:.1f} GB RAM, {platform.platform()}, Python {platform.python_version()}, "
            f"duckdb {version('duckdb')}, pm4py {version('pm4py')}, pandas {version('pandas')}")


def report(results: dict, runs: int, argv: list[str], code: str) -> str:
    """RESULTS.md as text (also what is printed)."""
    lines = [
        "# Benchmark results", "",
        f"Generated {datetime.datetime.now():%Y-%m-%d %H:%M} by `{' '.join(['bench/run.py', *argv])}`.",
        "", f"Machine: {machine()}.", "", f"Code: {code}.", "",
        f"Each step is a whole process in a fresh interpreter: time = median wall time of {runs} run(s), "
        "peak = the largest ru_maxrss of the child over the runs. See bench/README.md.", "",
        "## Targets", "", "| check | value | target | result |", "|---|---:|---:|:---:|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in checks(results)]
    for label, res in results.items():
        mb = res["csv"].stat().st_size / 1e6
        lines += ["", f"## {label}: {res['events']:,} events, CSV {mb:,.0f} MB", "",
                  "| step | median (s) | peak RSS (MB) | runs (s) |", "|---|---:|---:|---|"]
        for step, step_runs in res["steps"].items():
            t, peak = stat(step_runs)
            each = ", ".join("timeout" if r.seconds is None else f"{r.seconds:.2f}" for r in step_runs)
            lines.append(f"| {step} | {'timeout' if t is None else f'{t:.2f}'} | {peak:,.0f} | {each} |")
        imp, bare, dfg, pm = (stat(res["steps"][s])[0] for s in ("import", "bare read_csv", "dfg", "pm4py pipeline"))
        if imp and bare:
            lines.append(f"\nimport / bare read_csv: {imp / bare:.1f}×" +
                         (f"; pm4py pipeline / our dfg: {pm / dfg:.1f}×" if pm and dfg else ""))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m,5m", help="comma-separated event counts (default 100k,1m,5m)")
    parser.add_argument("--runs", type=int, default=3, help="runs per step (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke check: 100k only, 1 run")
    args = parser.parse_args()
    sizes, runs = (["100k"], 1) if args.quick else ([s.strip().lower() for s in args.sizes.split(",")], args.runs)
    DATA.mkdir(exist_ok=True)
    code, results = code_version(), {}
    for label in sizes:
        csv, events = generate(label, parse_size(label))
        print(f"{label}: {events:,} events in {csv.name}", flush=True)
        results[label] = {"csv": csv, "events": events, "steps": bench_size(label, csv, runs)}
    if code_version() != code:
        code += " — **the code changed during the run: these figures mix versions, rerun**"
    text = report(results, runs, sys.argv[1:], code)
    print("\n" + text)
    (BENCH / "RESULTS.md").write_text(text + _other_sections(text), encoding="utf-8")


def _other_sections(text: str) -> str:
    """The sections of the current RESULTS.md this script does not write (app_bench's, redesign_bench's):
    kept after its own, so rerunning this script alone does not drop them."""
    path = BENCH / "RESULTS.md"
    if not path.exists():
        return ""
    ours = {line for line in text.splitlines() if line.startswith("## ")}
    sections = ("\n" + path.read_text(encoding="utf-8")).split("\n## ")[1:]
    kept = ["## " + s.rstrip("\n") for s in sections
            if "## " + s.splitlines()[0] not in ours and not s.startswith(("Targets", "100k:", "1m:", "5m:"))]
    return "".join("\n" + k + "\n" for k in kept)


if __name__ == "__main__":
    main()
