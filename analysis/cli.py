"""The command line, `python -m analysis`: each command is a few lines over the library.

A command reads its inputs (the log, --filter, --calendar, a scenario or cohort file), makes one JSON-ready
result and hands it to `_emit`: with --json it is printed as strict JSON (analysis.records.to_json: a missing
number is null, never NaN), else as lines of text. The arguments are analysis.cli_parser's.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from analysis import importer, metrics, records, store
from analysis.cli_parser import build_parser
from analysis.errors import UserError
from analysis.filters import ALL, CaseFilter, unknown_values
from analysis.formatting import DAY, HOUR
from analysis.texts import t
from analysis.working_time import WorkCalendar

if TYPE_CHECKING:
    from analysis.compare import Cohorts
    from analysis.redesign import Scenario

T = TypeVar("T")


# --- output ------------------------------------------------------------------------------------------


def _emit(args, data, lines: Callable[[Any], Iterable[str]]) -> int:
    """Print a command's result: strict JSON with --json, else lines(data) as text (data JSON-ready)."""
    data = records.plain(data)
    if args.json:
        print(records.to_json(data))
    else:
        for line in lines(data):
            print(line)
    return 0


def _shown(value) -> float:
    """A number for the text output; a missing one (null in the JSON) prints as `nan`, as it always has."""
    return math.nan if value is None else value


# --- inputs ------------------------------------------------------------------------------------------


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


def _calendar(args) -> WorkCalendar | None:
    """--calendar FILE (working time) or None (calendar time)."""
    if not getattr(args, "calendar", None):
        return None
    return _from_file(args.calendar, WorkCalendar.from_json)


def _scenario_file(path_text: str) -> Scenario:
    """A scenario read from a JSON file (a UserError naming the file and what is wrong)."""
    from analysis import redesign

    return _from_file(path_text, redesign.Scenario.from_json)


def _cohorts_file(path_text: str, con, log_id: int, flt) -> Cohorts:
    """Two groups from a JSON file: {"split": "attribute" | "period" | "speed", ...} (format in README)."""
    from analysis import compare
    from analysis.errors import parse_json

    return _from_file(path_text, lambda text: compare.cohorts_from(con, log_id, flt or ALL, parse_json(text)))


def _cohorts(args, con, log_id: int, flt) -> Cohorts:
    """The two groups `compare --by ...` asks for, inside the filter."""
    from analysis import compare

    if args.by == "attribute":
        return compare.by_attribute(flt, args.attribute or "", args.a or (), args.b or ())
    if args.by == "period":
        return compare.by_period(flt, args.date or "")
    return compare.by_speed(con, log_id, flt, args.fast, args.slow)


def _on_log(args, compute: Callable[[duckdb.DuckDBPyConnection, int, CaseFilter | None], T]) -> T:
    """compute(con, log_id, flt) on the command's log, read-only, inside its --filter."""
    with store.connect(args.db, read_only=True) as con:
        log_id = store.resolve_log(con, args.log)
        return compute(con, log_id, _filter(args, con, log_id))


# --- the store ---------------------------------------------------------------------------------------


def cmd_import(args) -> int:
    """Import a file as a new log."""
    columns = {role: getattr(args, role) for role in ("case", "activity", "timestamp", "start", "resource",
                                                       "department")}
    # '' or '-' says "this file has no such column" (e.g. to settle an ambiguous optional role).
    columns = {r: ("" if c in ("", "-") else c) for r, c in columns.items() if c is not None}
    options = importer.ImportOptions(
        name=args.name, columns=columns, timestamp_format=args.format, start_format=args.start_format,
        exclude_activities=tuple(args.exclude_activity or ()), drop_invalid=args.drop_invalid,
        drop_duplicates=args.drop_duplicates, remember="ambiguous",
    )
    with store.connect(args.db) as con:
        result = importer.import_file(con, args.file, options)
    said = t("cli.imported", args.lang, log_id=result.log_id, name=result.name, cases=result.cases,
             events=result.events)
    dropped = t("cli.dropped", args.lang, dropped=result.dropped_rows) if result.dropped_rows else ""
    _emit(args, result.as_dict(), lambda _: [said + dropped])
    warnings = [p for p in result.problems if p.severity != "error"]
    if warnings and not args.json:
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
                           "shapes": f.shapes} for role, f in ins.formats.items()},
        "problems": [{"code": p.code, "severity": p.severity, "count": p.count, "rows": p.rows,
                      "examples": p.examples, "message": p.message(args.lang), "fix": p.fix(args.lang)}
                     for p in ins.problems],
    }
    print(records.to_json(data))   # inspect always prints JSON
    return 0


def cmd_logs(args) -> int:
    """List the logs in the store."""
    with store.connect(args.db, read_only=True) as con:
        logs = store.list_logs(con)
    return _emit(args, logs, lambda rows: [
        f"{r['log_id']:>4}  {r['name']}  ({r['n_cases']:,} cases, {r['n_events']:,} events, "
        f"imported {r['imported_at']})" for r in rows] or [t("cli.no_logs", args.lang)])


def cmd_delete(args) -> int:
    """Delete a log."""
    with store.connect(args.db) as con:
        log_id = store.delete_log(con, args.log)
    return _emit(args, {"deleted": log_id}, lambda r: [t("cli.deleted", args.lang, log_id=r["deleted"])])


def cmd_ensure_sample(args) -> int:
    """Import the sample campaign log when the store is empty (what `make run` does first)."""
    from analysis import defaults

    with store.connect(args.db) as con:
        log_id = defaults.ensure_sample(con)
    said = t("cli.sample_imported", args.lang, log_id=log_id) if log_id else t("cli.has_logs", args.lang)
    return _emit(args, {"imported": log_id}, lambda _: [said])


def cmd_sample(args) -> int:
    """Write the generated sample campaign log as CSV (for benchmarks, or to look at)."""
    from analysis import sample

    rows = sample.write_sample_csv(args.out, n_cases=args.cases, seed=args.seed, lang=args.sample_lang)
    print(f"Wrote {rows:,} events to {args.out}")
    return 0


# --- a log's figures ---------------------------------------------------------------------------------


def cmd_summary(args) -> int:
    """Headline figures of a log."""
    result = _on_log(args, metrics.summary)
    return _emit(args, result.as_dict(), lambda r: [f"{key:>20}: {value}" for key, value in r.items()])


def cmd_dfg(args) -> int:
    """The directly-follows graph of a log."""
    result = _on_log(args, metrics.dfg)
    return _emit(args, result.as_dict(), lambda r: [
        f"{e['source']} -> {e['target']}: {e['frequency']:,} ({e['cases']:,} cases), "
        f"mean {e['mean_seconds'] / HOUR:.1f} h" for e in r["edges"]])


def cmd_variants(args) -> int:
    """The variants of a log, most frequent first."""
    result = _on_log(args, lambda con, log_id, flt: metrics.variants(con, log_id, args.top, flt))
    return _emit(args, result, lambda r: [f"{v['cases']:>7,} {v['share']:6.1%}  {' > '.join(v['activities'])}"
                                          for v in r])


# --- diagnoses: each prints its library record's as_dict (the pages and the report use the same records) ---


def cmd_bottlenecks(args) -> int:
    """Waiting and processing per activity and edge, most waiting first."""
    from analysis import bottlenecks  # heavy (pandas): imported by the commands that use it

    result = _on_log(args, lambda con, log_id, flt: bottlenecks.diagnose(con, log_id, flt, _calendar(args)).as_dict())
    return _emit(args, result, lambda r: [
        f"{a['activity']}: {_shown(a['share_of_waiting']):.0%} of waiting, median wait "
        f"{_shown(a['median_wait_seconds']) / DAY:.1f} d over {a['frequency']:,} events"
        for a in r["activities"]])


def cmd_handoffs(args) -> int:
    """Hand-off matrix, ping-pong and hand-offs per case at department or resource level."""
    from analysis import handoffs  # heavy (pandas): imported by the commands that use it

    result = _on_log(args, lambda con, log_id, flt: handoffs.diagnose(
        con, log_id, flt, args.level, _calendar(args), args.front or ()).as_dict())
    return _emit(args, result, lambda r: [
        *(f"{m['from']} -> {m['to']}: {m['count']:,} ({m['cases']:,} cases), median wait "
          f"{_shown(m['median_wait_seconds']) / DAY:.1f} d" for m in r["matrix"][:20]),
        *(f"ping-pong {p['pair_a']} <-> {p['pair_b']}: {p['occurrences']:,} in {p['cases']:,} cases"
          for p in r["pingpong"])])


def cmd_why(args) -> int:
    """Why cases wait: every wait split into batching, prioritisation, contention, unavailability, extraneous."""
    from analysis import waiting_causes  # heavy (pandas): imported by the commands that use it

    result = _on_log(args, lambda con, log_id, flt: waiting_causes.diagnose(
        con, log_id, flt, _calendar(args), args.by).as_dict())
    return _emit(args, result, lambda r: [
        f"{row['key']}: wait {_shown(row['wait_seconds']) / DAY:.1f} d — " + ", ".join(
            f"{cause} {_shown(row['share_' + cause]):.0%}"
            for cause in waiting_causes.CAUSES) for row in r["rows"]])


def cmd_compare(args) -> int:
    """Two cohorts side by side: KPIs, time per case by step, paths, and the findings in words."""
    from analysis import compare  # heavy (pandas): imported by the commands that use it

    result = _on_log(args, lambda con, log_id, flt: compare.compare(
        con, log_id, _cohorts(args, con, log_id, flt or ALL), _calendar(args)).as_dict(args.lang))
    return _emit(args, result, lambda r: ["\n".join(s.replace("**", "") for s in r["findings"])])


def cmd_redesign(args) -> int:
    """Today's KPIs beside the scenario's, and how today's cases fit the to-be flow."""
    from analysis import redesign  # heavy (pandas): imported by the commands that use it

    scenario = _scenario_file(args.scenario)
    result = _on_log(args, lambda con, log_id, flt: redesign.evaluate(con, log_id, scenario, flt).as_dict())
    return _emit(args, result, _redesign_lines)


def _redesign_lines(r: dict) -> list[str]:
    """The redesign as text: one line per KPI (as-is -> to-be (delta)), then the fit."""
    lines = [f"{kpi:>22}: {_shown(r['as_is'][kpi]):.6g} -> {_shown(r['to_be'][kpi]):.6g} "
             f"({_shown(delta['value']):+.6g})" for kpi, delta in r["delta"].items()]
    fit = r["conformance"]
    return [*lines, f"{'fitness':>22}: {_shown(fit['fitness']):.3f}, "
                    f"fitting cases {_shown(fit['fitting_cases_share']):.1%}"]


# --- the knowledge base and the report ---------------------------------------------------------------


def cmd_findings(args) -> int:
    """The knowledge base: saved findings, newest first; --search matches in any case (Chinese too)."""
    from analysis import findings

    with store.connect(args.db, read_only=True) as con:
        table = findings.list_findings(con, args.search or "", tuple(args.tag or ()))
        saved = [{**r, "evidence": findings.get_finding(con, r["finding_id"]).evidence.to_dict()}
                 for r in records.rows(table)]
    return _emit(args, saved, lambda rows: [_finding_line(r, args.lang) for r in rows]
                 or [t("kb.cli_none", args.lang)])


def _finding_line(r: dict, lang: str) -> str:
    """One saved finding in a line: id, date, kind: title (log) #tags [outcome]."""
    from analysis import findings

    tags = f"  #{' #'.join(r['tags'])}" if r["tags"] else ""
    outcome = f"  [{t('kb.outcome_' + r['outcome'], lang)}]" if r["outcome"] else ""
    return (f"{r['finding_id']:>4}  {r['created_at']}  {findings.kind_label(r['kind'], lang)}: {r['title']}  "
            f"({r['log_name'] or '-'}){tags}{outcome}")


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
    size = out.stat().st_size
    written = [t("rp.cli_written", args.lang, path=out, size=size, charts=files.charts)]
    if args.excel:
        written.append(t("rp.cli_excel", args.lang, path=args.excel, sheets=len(files.sheets)))
    return _emit(args, {"html": str(out), "bytes": size, "charts": files.charts, "excel": args.excel,
                        "sheets": list(files.sheets) if args.excel else None}, lambda _: written)


# --- running a command -------------------------------------------------------------------------------

COMMANDS: dict[str, Callable[[Any], int]] = {
    "import": cmd_import, "inspect": cmd_inspect, "logs": cmd_logs, "delete": cmd_delete,
    "ensure-sample": cmd_ensure_sample, "sample": cmd_sample, "summary": cmd_summary, "dfg": cmd_dfg,
    "variants": cmd_variants, "bottlenecks": cmd_bottlenecks, "handoffs": cmd_handoffs, "why": cmd_why,
    "compare": cmd_compare, "redesign": cmd_redesign, "findings": cmd_findings, "report": cmd_report,
}


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors print a plain message on stderr and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except importer.ImportFailed as exc:
        lang = getattr(args, "lang", "en")
        print(importer.format_report(exc.problems, lang, only_errors=True), file=sys.stderr)
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
