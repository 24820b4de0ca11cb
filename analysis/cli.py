"""The command line, `python -m analysis`: each command is a few lines over the library."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb

if TYPE_CHECKING:
    from analysis.redesign import Scenario

from analysis import importer, metrics, store
from analysis.errors import UserError
from analysis.filters import ALL, CaseFilter, unknown_values
from analysis.texts import t
from analysis.working_time import WorkCalendar

T = TypeVar("T")


def _print_json(data) -> None:
    """One JSON object on stdout (Chinese kept readable)."""
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cmd_import(args) -> int:
    """Import a file as a new log."""
    columns = {role: getattr(args, role) for role in ("case", "activity", "timestamp", "start", "resource", "department")}
    # '' or '-' says "this file has no such column" (e.g. to settle an ambiguous optional role).
    columns = {r: ("" if c in ("", "-") else c) for r, c in columns.items() if c is not None}
    options = importer.ImportOptions(
        name=args.name, columns=columns, timestamp_format=args.format, start_format=args.start_format,
        exclude_activities=tuple(args.exclude_activity or ()), drop_invalid=args.drop_invalid,
        drop_duplicates=args.drop_duplicates, remember="ambiguous",
    )
    with store.connect(args.db) as con:
        result = importer.import_file(con, args.file, options)
    if args.json:
        _print_json(result.as_dict())
    else:
        print(t("cli.imported", args.lang, log_id=result.log_id, name=result.name, cases=result.cases,
                events=result.events) + (t("cli.dropped", args.lang, dropped=result.dropped_rows)
                                         if result.dropped_rows else ""))
        warnings = [p for p in result.problems if p.severity != "error"]
        if warnings:
            print(importer.format_report(warnings, args.lang), file=sys.stderr)
    return 0


def cmd_inspect(args) -> int:
    """Show what an import would do: mapping, formats, report — without writing."""
    options = importer.ImportOptions(timestamp_format=args.format, remember="ambiguous")   # as `import` would
    with store.connect(args.db, read_only=True) as con:
        ins = importer.inspect_file(con, args.file, options)
    data = {
        "kind": ins.kind, "encoding": ins.encoding, "delimiter": ins.delimiter, "rows": ins.n_rows,
        "columns": ins.columns, "mapping": ins.mapping.columns, "confidence": ins.mapping.confidence,
        "ambiguous": ins.mapping.ambiguous,
        "formats": {role: {"label": f.label, "day_first": f.day_first, "day_first_source": f.day_first_source,
                           "shapes": [asdict(s) for s in f.shapes]} for role, f in ins.formats.items()},
        "problems": [{"code": p.code, "severity": p.severity, "count": p.count, "rows": p.rows,
                      "examples": p.examples, "message": p.message(args.lang), "fix": p.fix(args.lang)}
                     for p in ins.problems],
    }
    _print_json(data)
    return 0


def cmd_logs(args) -> int:
    """List the logs in the store."""
    with store.connect(args.db, read_only=True) as con:
        logs = store.list_logs(con)
    if args.json:
        _print_json([asdict(info) for info in logs])
    else:
        for info in logs:
            print(f"{info.log_id:>4}  {info.name}  ({info.n_cases:,} cases, {info.n_events:,} events, "
                  f"imported {info.imported_at})")
        if not logs:
            print(t("cli.no_logs", args.lang))
    return 0


def cmd_delete(args) -> int:
    """Delete a log."""
    with store.connect(args.db) as con:
        log_id = store.delete_log(con, args.log)
    print(t("cli.deleted", args.lang, log_id=log_id))
    return 0


def _from_file(path_text: str, read: Callable[[str], T]) -> T:
    """read(text) of a JSON file (filter, calendar, scenario); a mistake in it names the file."""
    path = Path(path_text)
    try:
        return read(path.read_text(encoding="utf-8-sig"))
    except UserError as exc:
        raise UserError("err.in_file", path=str(path), detail=exc) from None


def _filter(args, con: duckdb.DuckDBPyConnection, log_id: int) -> CaseFilter | None:
    """The --filter FILE of a command (None without one); names the log does not have are warned about."""
    if not getattr(args, "filter", None):
        return None
    flt = _from_file(args.filter, CaseFilter.from_json)
    for field_name, value in unknown_values(con, log_id, flt):
        print(t("cli.filter_unknown", args.lang, field=field_name, value=value), file=sys.stderr)
    return flt


def cmd_summary(args) -> int:
    """Headline figures of a log."""
    with store.connect(args.db, read_only=True) as con:
        log_id = store.resolve_log(con, args.log)
        result = metrics.summary(con, log_id, _filter(args, con, log_id))
    if args.json:
        _print_json(result.as_dict())
    else:
        for key, value in result.as_dict().items():
            print(f"{key:>20}: {value}")
    return 0


def cmd_dfg(args) -> int:
    """The directly-follows graph of a log."""
    with store.connect(args.db, read_only=True) as con:
        log_id = store.resolve_log(con, args.log)
        result = metrics.dfg(con, log_id, _filter(args, con, log_id))
    if args.json:
        _print_json(result.as_dict())
    else:
        for e in result.edges:
            print(f"{e.source} -> {e.target}: {e.frequency:,} ({e.cases:,} cases), mean {e.mean_seconds / 3600:.1f} h")
    return 0


def cmd_variants(args) -> int:
    """The variants of a log, most frequent first."""
    with store.connect(args.db, read_only=True) as con:
        log_id = store.resolve_log(con, args.log)
        result = metrics.variants(con, log_id, args.top, _filter(args, con, log_id))
    if args.json:
        _print_json([asdict(v) for v in result])
    else:
        for v in result:
            print(f"{v.cases:>7,} {v.share:6.1%}  {' > '.join(v.activities)}")
    return 0


def _records(frame) -> list[dict]:
    """DataFrame rows as JSON-ready dicts (NaN → null, numpy numbers → Python)."""
    return json.loads(frame.to_json(orient="records", force_ascii=False, date_format="iso"))


def _calendar(args) -> WorkCalendar | None:
    """--calendar FILE (working time) or None (calendar time)."""
    if not getattr(args, "calendar", None):
        return None
    return _from_file(args.calendar, WorkCalendar.from_json)


def cmd_bottlenecks(args) -> int:
    """Waiting and processing per activity and edge, most waiting first."""
    from analysis import bottlenecks  # heavy (pandas): imported by the commands that use it

    with store.connect(args.db, read_only=True) as con:
        log_id = store.resolve_log(con, args.log)
        flt, calendar = _filter(args, con, log_id), _calendar(args)
        activities = bottlenecks.activity_stats(con, log_id, flt, calendar)
        edges = bottlenecks.edge_stats(con, log_id, flt, calendar)
    if args.json:
        _print_json({"activities": _records(activities), "edges": _records(edges),
                     "time": "working" if calendar else "calendar"})
    else:
        for r in activities.itertuples():
            print(f"{r.activity}: {r.share_of_waiting or 0:.0%} of waiting, median wait "
                  f"{(r.median_wait_seconds or 0) / 86400:.1f} d over {r.frequency:,} events")
    return 0


def cmd_handoffs(args) -> int:
    """Hand-off matrix, ping-pong and hand-offs per case at department or resource level."""
    from analysis import handoffs  # heavy (pandas): imported by the commands that use it

    with store.connect(args.db, read_only=True) as con:
        log_id = store.resolve_log(con, args.log)
        flt, calendar = _filter(args, con, log_id), _calendar(args)
        matrix = handoffs.handoff_matrix(con, log_id, flt, args.level, calendar)
        pings = handoffs.pingpong(con, log_id, flt, args.level)
        cost = handoffs.handoff_cost(handoffs.handoffs_per_case(con, log_id, flt, args.level))
        share = handoffs.handoff_wait_share(con, log_id, flt, args.level, calendar)
        front = handoffs.front_line_waits(con, log_id, args.front, flt, calendar) if args.front else None
    if args.json:
        data = {"level": args.level, "matrix": _records(matrix), "pingpong": _records(pings),
                "per_case": {"seconds_per_handoff": cost["seconds_per_handoff"], "low_seconds": cost["low"],
                             "high_seconds": cost["high"], "cases": cost["cases"],
                             "median_cycle_by_handoffs": _records(cost["by_handoffs"]),
                             "share_of_cycle_time_waiting_at_handoffs": share}}
        if front is not None:
            data["front_line"] = _records(front)
        _print_json(data)
    else:
        for r in matrix.head(20).itertuples():
            print(f"{r._1} -> {r.to}: {r.count:,} ({r.cases:,} cases), median wait {(r.median_wait_seconds or 0) / 86400:.1f} d")
        for r in pings.itertuples():
            print(f"ping-pong {r.pair_a} <-> {r.pair_b}: {r.occurrences:,} in {r.cases:,} cases")
    return 0


def cmd_compare(args) -> int:
    """Two cohorts side by side: KPIs, time per case by step, paths, and the findings in words."""
    from analysis import compare  # heavy (pandas): imported by the commands that use it

    with store.connect(args.db, read_only=True) as con:
        log_id = store.resolve_log(con, args.log)
        flt = _filter(args, con, log_id) or ALL
        if args.by == "attribute":
            cohorts = compare.by_attribute(flt, args.attribute or "", args.a or (), args.b or ())
        elif args.by == "period":
            cohorts = compare.by_period(flt, args.date or "")
        else:
            cohorts = compare.by_speed(con, log_id, flt, args.fast, args.slow)
        kpis = compare.kpi_table(con, log_id, cohorts)
        steps = compare.activity_table(con, log_id, cohorts, _calendar(args))
        paths = compare.path_table(con, log_id, cohorts)
    said = compare.findings(cohorts, kpis, steps, paths, args.lang)
    if args.json:
        _print_json({"a": cohorts.label("a", args.lang), "b": cohorts.label("b", args.lang),
                     "kpis": {r.kpi: {"a": _number(r.a), "b": _number(r.b), "delta": _number(r.delta)}
                              for r in kpis.itertuples()},
                     "steps": _records(steps), "paths": _records(paths), "findings": said})
    else:
        print("\n".join(s.replace("**", "") for s in said))
    return 0


def cmd_redesign(args) -> int:
    """Today's KPIs beside the scenario's, and how today's cases fit the to-be flow."""
    from analysis import redesign  # heavy (pandas): imported by the commands that use it

    scenario = _scenario_file(args.scenario)
    with store.connect(args.db, read_only=True) as con:
        log_id = store.resolve_log(con, args.log)
        flt = _filter(args, con, log_id)
        table = redesign.compare_scenario(con, log_id, scenario, flt).set_index("kpi")
        fit = conformance_of_scenario(con, log_id, scenario, flt)
    data = {"scenario": scenario.name,
            "as_is": {k: _number(v) for k, v in table["as_is"].items()},
            "to_be": {k: _number(v) for k, v in table["to_be"].items()},
            "delta": {k: {"value": _number(r["delta"]), "low": _number(r["delta_low"]), "high": _number(r["delta_high"])}
                      for k, r in table.iterrows()},
            "conformance": fit}
    if args.json:
        _print_json(data)
    else:
        for kpi, r in table.iterrows():
            print(f"{kpi:>22}: {r['as_is']:.6g} -> {r['to_be']:.6g} ({r['delta']:+.6g})")
        print(f"{'fitness':>22}: {fit['fitness']:.3f}, fitting cases {fit['fitting_cases_share']:.1%}")
    return 0


def _number(value) -> float | None:
    """A float for JSON (NaN → null)."""
    return None if value is None or value != value else float(value)


def conformance_of_scenario(con, log_id: int, scenario, flt) -> dict:
    """Fitness of today's cases on the scenario's to-be flow, as a JSON-ready dict."""
    from analysis import conformance

    model = conformance.to_be_model(con, log_id, scenario, flt)
    if model is None:
        return {"fitness": None, "fitting_cases_share": None, "cases_checked_share": None, "deviations": []}
    result = conformance.conformance(con, log_id, model, flt)
    return {"fitness": result.fitness, "fitting_cases_share": result.fitting_cases_share,
            "cases_checked_share": result.cases_checked_share, "method": result.method,
            "deviations": [asdict(d) for d in result.deviations]}


def cmd_sample(args) -> int:
    """Write the generated sample campaign log as CSV (for benchmarks, or to look at)."""
    from analysis import sample

    rows = sample.write_sample_csv(args.out, n_cases=args.cases, seed=args.seed, lang=args.sample_lang)
    print(f"Wrote {rows:,} events to {args.out}")
    return 0


def cmd_ensure_sample(args) -> int:
    """Import the sample campaign log when the store is empty (what `make run` does first)."""
    from analysis import defaults

    with store.connect(args.db) as con:
        log_id = defaults.ensure_sample(con)
    print(t("cli.sample_imported", args.lang, log_id=log_id) if log_id else t("cli.has_logs", args.lang))
    return 0


def cmd_findings(args) -> int:
    """The knowledge base: saved findings, newest first; --search matches substrings in any case (Chinese too)."""
    from analysis import findings

    with store.connect(args.db, read_only=True) as con:
        table = findings.list_findings(con, args.search or "", tuple(args.tag or ()))
        evidence = {int(i): findings.get_finding(con, int(i)).evidence.to_dict() for i in table["finding_id"]}
    if args.json:
        _print_json([{**r, "evidence": evidence[r["finding_id"]]} for r in _records(table)])
    else:
        for r in table.itertuples():
            tags = f"  #{' #'.join(r.tags)}" if r.tags else ""
            outcome = f"  [{t('kb.outcome_' + r.outcome, args.lang)}]" if r.outcome else ""
            print(f"{r.finding_id:>4}  {r.created_at}  {findings.kind_label(r.kind, args.lang)}: {r.title}  "
                  f"({r.log_name or '-'}){tags}{outcome}")
        if table.empty:
            print(t("kb.cli_none", args.lang))
    return 0


def _scenario_file(path_text: str) -> Scenario:
    """A scenario read from a JSON file (a UserError naming the file and what is wrong)."""
    from analysis import redesign

    return _from_file(path_text, redesign.Scenario.from_json)


def cmd_report(args) -> int:
    """A self-contained HTML report (and its tables as Excel) of a log, in the chosen language."""
    from analysis import findings, report

    scenario = _scenario_file(args.scenario) if args.scenario else None
    with store.connect(args.db, read_only=True) as con:
        log_id = store.resolve_log(con, args.log)
        flt, calendar = _filter(args, con, log_id), _calendar(args)
        chosen = report.finding_dicts(findings.get_finding(con, i) for i in args.finding or ())
        cohorts = _cohorts_file(args.compare, con, log_id, flt) if args.compare else None
        files = report.build_report_files(con, log_id, args.lang, flt, scenario, chosen, calendar, cohorts)
    out = Path(args.out)
    out.write_text(files.html, encoding="utf-8")
    if args.excel:
        Path(args.excel).write_bytes(files.excel)
    if args.json:
        _print_json({"html": str(out), "bytes": out.stat().st_size, "charts": files.charts,
                     "excel": args.excel, "sheets": list(files.sheets) if args.excel else None})
    else:
        print(t("rp.cli_written", args.lang, path=out, size=out.stat().st_size, charts=files.charts))
        if args.excel:
            print(t("rp.cli_excel", args.lang, path=args.excel, sheets=len(files.sheets)))
    return 0


def _cohorts_file(path_text: str, con, log_id: int, flt):
    """Two groups from a JSON file ({"split": "attribute", "name": ..., "values_a": [...], "values_b": [...]},
    {"split": "period", "date": ...} or {"split": "speed", "fast_pct": 50, "slow_pct": 90})."""
    from analysis import compare
    from analysis.errors import parse_json

    return _from_file(path_text, lambda text: compare.cohorts_from(con, log_id, flt or ALL, parse_json(text)))


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(prog="python -m analysis", description="Process diagnosis from the command line.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database file (default: $PROCDIAG_DB or data/procdiag.duckdb)")
    common.add_argument("--json", action="store_true", help="print one JSON object")
    common.add_argument("--lang", choices=("en", "zh"), default="en", help="language of messages")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("import", parents=[common], help="import a CSV/TSV/XLSX/Parquet/XES file as a new log")
    p.add_argument("file")
    p.add_argument("--name", help="log name (default: the file name; never overwrites another log)")
    for role in ("case", "activity", "timestamp", "start", "resource", "department"):
        p.add_argument(f"--{role}", metavar="COLUMN", help=f"column holding the {role} ('' for none)")
    p.add_argument("--format", help="timestamp format: strptime (e.g. '%%d-%%m-%%Y:%%H.%%M') or "
                                    "iso|epoch_s|epoch_ms|excel|dayfirst|monthfirst")
    p.add_argument("--start-format", help="format of the start column when it differs")
    p.add_argument("--exclude-activity", action="append", metavar="A", help="leave out events of activity A (repeatable)")
    p.add_argument("--drop-invalid", action="store_true", help="import the valid rows, record what was dropped")
    p.add_argument("--drop-duplicates", action="store_true", help="keep only the first of identical rows")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("inspect", parents=[common], help="show mapping, formats and the validation report; write nothing")
    p.add_argument("file")
    p.add_argument("--format")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("logs", parents=[common], help="list the logs in the store")
    p.set_defaults(func=cmd_logs)
    p = sub.add_parser("delete", parents=[common], help="delete a log")
    p.add_argument("log", help="log id or name")
    p.set_defaults(func=cmd_delete)
    for name, func, helptext in (("summary", cmd_summary, "cases, events, cycle time"),
                                 ("dfg", cmd_dfg, "directly-follows graph")):
        p = sub.add_parser(name, parents=[common], help=helptext)
        p.add_argument("log", help="log id or name")
        p.add_argument("--filter", metavar="FILE", help="a filter as JSON (format in README)")
        p.set_defaults(func=func)
    p = sub.add_parser("variants", parents=[common], help="variants, most frequent first")
    p.add_argument("log", help="log id or name")
    p.add_argument("--filter", metavar="FILE", help="a filter as JSON (format in README)")
    p.add_argument("--top", type=_positive, help="only the K most frequent variants")
    p.set_defaults(func=cmd_variants)
    p = sub.add_parser("bottlenecks", parents=[common], help="waiting and processing per activity and edge")
    p.add_argument("log", help="log id or name")
    p.add_argument("--filter", metavar="FILE", help="a filter as JSON (format in README)")
    p.add_argument("--calendar", metavar="FILE", help="working-time calendar as JSON (format in README)")
    p.set_defaults(func=cmd_bottlenecks)
    p = sub.add_parser("handoffs", parents=[common], help="hand-offs between departments or resources")
    p.add_argument("log", help="log id or name")
    p.add_argument("--level", choices=("department", "resource"), default="department")
    p.add_argument("--filter", metavar="FILE", help="a filter as JSON (format in README)")
    p.add_argument("--calendar", metavar="FILE", help="working-time calendar as JSON (format in README)")
    p.add_argument("--front", action="append", metavar="DEPARTMENT",
                   help="a front-line department (repeatable): adds who the front line waits on")
    p.set_defaults(func=cmd_handoffs)
    p = sub.add_parser("compare", parents=[common], help="two groups of cases side by side (A and B)")
    p.add_argument("log", help="log id or name")
    p.add_argument("--by", choices=("attribute", "period", "speed"), required=True,
                   help="attribute: --attribute NAME --a V --b V; period: --date D; speed: --fast P --slow Q")
    p.add_argument("--attribute", metavar="NAME", help="the case attribute that splits (--by attribute)")
    p.add_argument("--a", action="append", metavar="VALUE", help="a value of group A (repeatable)")
    p.add_argument("--b", action="append", metavar="VALUE", help="a value of group B (repeatable)")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="A: cases started before it; B: from it on (--by period)")
    p.add_argument("--fast", type=float, default=50, help="A: cases at most this cycle-time percentile (default 50)")
    p.add_argument("--slow", type=float, default=90, help="B: cases at least this cycle-time percentile (default 90)")
    p.add_argument("--filter", metavar="FILE", help="a filter as JSON (format in README): both groups lie inside it")
    p.add_argument("--calendar", metavar="FILE", help="working-time calendar as JSON for the steps (format in README)")
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser("redesign", parents=[common], help="to-be KPIs and conformance of a redesign scenario")
    p.add_argument("log", help="log id or name")
    p.add_argument("--scenario", metavar="FILE", required=True, help="a scenario as JSON (format in README)")
    p.add_argument("--filter", metavar="FILE", help="a filter as JSON (format in README)")
    p.set_defaults(func=cmd_redesign)
    p = sub.add_parser("ensure-sample", parents=[common], help="import the sample log if the store is empty")
    p.set_defaults(func=cmd_ensure_sample)
    p = sub.add_parser("sample", help="write the generated sample campaign log as CSV")
    p.add_argument("out")
    p.add_argument("--cases", type=int, default=3000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--sample-lang", choices=("zh", "en"), default="zh")
    p.set_defaults(func=cmd_sample)
    p = sub.add_parser("findings", parents=[common], help="saved findings of the knowledge base, newest first")
    p.add_argument("--search", metavar="TEXT", help="only findings containing every word of TEXT (any case)")
    p.add_argument("--tag", action="append", metavar="TAG", help="only findings with this tag (repeatable)")
    p.set_defaults(func=cmd_findings)
    p = sub.add_parser("report", parents=[common], help="a self-contained HTML report, tables as Excel")
    p.add_argument("log", help="log id or name")
    p.add_argument("--out", metavar="FILE.html", required=True, help="where to write the report")
    p.add_argument("--excel", metavar="FILE.xlsx", help="also write the report's tables as an Excel workbook")
    p.add_argument("--scenario", metavar="FILE", help="a redesign scenario as JSON: adds the as-is/to-be comparison")
    p.add_argument("--filter", metavar="FILE", help="a filter as JSON (format in README)")
    p.add_argument("--calendar", metavar="FILE", help="working-time calendar as JSON (format in README)")
    p.add_argument("--compare", metavar="FILE", help="two groups to compare, as JSON (format in README)")
    p.add_argument("--finding", action="append", type=_positive, metavar="ID",
                   help="include a saved finding of the knowledge base (repeatable)")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors print a plain message on stderr and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except importer.ImportFailed as exc:
        print(importer.format_report(exc.problems, getattr(args, "lang", "en"), only_errors=True), file=sys.stderr)
        return 2
    except store.StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except UserError as exc:
        print(exc.message(getattr(args, "lang", "en")), file=sys.stderr)
        return 2
    except (duckdb.Error, OSError, ValueError) as exc:
        # Anything else a user can cause still gets one plain line, not a traceback.
        print(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
