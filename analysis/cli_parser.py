"""The command line's arguments: one small builder per group of commands; `analysis.cli` runs them.

Every command but `sample` takes --db, --json and --lang. The chosen command's name is `args.command`
(analysis.cli.COMMANDS maps it to the function that runs it).
"""

from __future__ import annotations

import argparse

FILTER_HELP = "a filter as JSON (format in README)"
CALENDAR_HELP = "working-time calendar as JSON (format in README)"
LOG_HELP = "log id or name"


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(prog="python -m analysis",
                                     description="Process diagnosis from the command line.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database file (default: $PROCDIAG_DB or data/procdiag.duckdb)")
    common.add_argument("--json", action="store_true", help="print one JSON object")
    common.add_argument("--lang", choices=("en", "zh"), default="en", help="language of messages")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_import_commands, _store_commands, _log_commands, _diagnosis_commands, _compare_command,
                _redesign_command, _sample_commands, _knowledge_commands):
        add(sub, common)
    return parser


def _import_commands(sub, common: argparse.ArgumentParser) -> None:
    """import and inspect: a file in."""
    p = sub.add_parser("import", parents=[common], help="import a CSV/TSV/XLSX/Parquet/XES file as a new log")
    p.add_argument("file")
    p.add_argument("--name", help="log name (default: the file name; never overwrites another log)")
    for role in ("case", "activity", "timestamp", "start", "resource", "department"):
        p.add_argument(f"--{role}", metavar="COLUMN", help=f"column holding the {role} ('' for none)")
    p.add_argument("--format", help="timestamp format: strptime (e.g. '%%d-%%m-%%Y:%%H.%%M') or "
                                    "iso|epoch_s|epoch_ms|excel|dayfirst|monthfirst")
    p.add_argument("--start-format", help="format of the start column when it differs")
    p.add_argument("--exclude-activity", action="append", metavar="A",
                   help="leave out events of activity A (repeatable)")
    p.add_argument("--drop-invalid", action="store_true",
                   help="import the valid rows, record what was dropped")
    p.add_argument("--drop-duplicates", action="store_true", help="keep only the first of identical rows")
    p = sub.add_parser("inspect", parents=[common],
                       help="show mapping, formats and the validation report; write nothing")
    p.add_argument("file")
    p.add_argument("--format")


def _store_commands(sub, common: argparse.ArgumentParser) -> None:
    """logs and delete: the store's catalogue."""
    sub.add_parser("logs", parents=[common], help="list the logs in the store")
    p = sub.add_parser("delete", parents=[common], help="delete a log")
    p.add_argument("log", help=LOG_HELP)


def _on_a_log(sub, common: argparse.ArgumentParser, name: str, helptext: str) -> argparse.ArgumentParser:
    """A command over one log (its id or name first)."""
    p = sub.add_parser(name, parents=[common], help=helptext)
    p.add_argument("log", help=LOG_HELP)
    return p


def _log_commands(sub, common: argparse.ArgumentParser) -> None:
    """summary, dfg and variants: the log's figures, inside an optional filter."""
    for name, helptext in (("summary", "cases, events, cycle time"), ("dfg", "directly-follows graph"),
                           ("variants", "variants, most frequent first")):
        p = _on_a_log(sub, common, name, helptext)
        p.add_argument("--filter", metavar="FILE", help=FILTER_HELP)
    p.add_argument("--top", type=positive, help="only the K most frequent variants")


def _diagnosis_commands(sub, common: argparse.ArgumentParser) -> None:
    """bottlenecks, handoffs and why: where the time goes and why, in calendar or working time."""
    p = _on_a_log(sub, common, "bottlenecks", "waiting and processing per activity and edge")
    p.add_argument("--filter", metavar="FILE", help=FILTER_HELP)
    p.add_argument("--calendar", metavar="FILE", help=CALENDAR_HELP)
    p = _on_a_log(sub, common, "handoffs", "hand-offs between departments or resources")
    p.add_argument("--level", choices=("department", "resource"),
                   help="between departments or resources (default: departments, else resources)")
    p.add_argument("--filter", metavar="FILE", help=FILTER_HELP)
    p.add_argument("--calendar", metavar="FILE", help=CALENDAR_HELP)
    p.add_argument("--front", action="append", metavar="DEPARTMENT",
                   help="a front-line department (repeatable): adds who the front line waits on")
    p = _on_a_log(sub, common, "why", "why cases wait: each wait split into its five causes")
    p.add_argument("--by", choices=("activity", "department", "handoff", "resource"), default="activity",
                   help="group the waits by activity (default), department, hand-off pair or resource")
    p.add_argument("--filter", metavar="FILE", help=FILTER_HELP)
    p.add_argument("--calendar", metavar="FILE",
                   help=CALENDAR_HELP + " (duty hours; without it each resource's observed hours)")


def _compare_command(sub, common: argparse.ArgumentParser) -> None:
    """compare: two groups of cases, split by an attribute, a date or speed."""
    p = _on_a_log(sub, common, "compare", "two groups of cases side by side (A and B)")
    p.add_argument("--by", choices=("attribute", "period", "speed"), required=True,
                   help="attribute: --attribute NAME --a V --b V; period: --date D; speed: --fast P --slow Q")
    p.add_argument("--attribute", metavar="NAME", help="the case attribute that splits (--by attribute)")
    p.add_argument("--a", action="append", metavar="VALUE", help="a value of group A (repeatable)")
    p.add_argument("--b", action="append", metavar="VALUE", help="a value of group B (repeatable)")
    p.add_argument("--date", metavar="YYYY-MM-DD",
                   help="A: cases started before it; B: from it on (--by period)")
    p.add_argument("--fast", type=float, default=50,
                   help="A: cases at most this cycle-time percentile (default 50)")
    p.add_argument("--slow", type=float, default=90,
                   help="B: cases at least this cycle-time percentile (default 90)")
    p.add_argument("--filter", metavar="FILE", help=FILTER_HELP + ": both groups lie inside it")
    p.add_argument("--calendar", metavar="FILE",
                   help="working-time calendar as JSON for the steps (format in README)")


def _redesign_command(sub, common: argparse.ArgumentParser) -> None:
    """redesign: a scenario's to-be KPIs and today's fit to it."""
    p = _on_a_log(sub, common, "redesign", "to-be KPIs and conformance of a redesign scenario")
    p.add_argument("--scenario", metavar="FILE", required=True, help="a scenario as JSON (format in README)")
    p.add_argument("--filter", metavar="FILE", help=FILTER_HELP)


def _sample_commands(sub, common: argparse.ArgumentParser) -> None:
    """ensure-sample and sample: the generated campaign log."""
    sub.add_parser("ensure-sample", parents=[common], help="import the sample log if the store is empty")
    p = sub.add_parser("sample", help="write the generated sample campaign log as CSV")
    p.add_argument("out")
    p.add_argument("--cases", type=int, default=3000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--sample-lang", choices=("zh", "en"), default="zh")


def _knowledge_commands(sub, common: argparse.ArgumentParser) -> None:
    """findings and report: the knowledge base and the exported report."""
    p = sub.add_parser("findings", parents=[common],
                       help="saved findings of the knowledge base, newest first")
    p.add_argument("--search", metavar="TEXT", help="only findings containing every word of TEXT (any case)")
    p.add_argument("--tag", action="append", metavar="TAG", help="only findings with this tag (repeatable)")
    p = _on_a_log(sub, common, "report", "a self-contained HTML report, tables as Excel")
    p.add_argument("--out", metavar="FILE.html", required=True, help="where to write the report")
    p.add_argument("--excel", metavar="FILE.xlsx", help="also write the report's tables as an Excel workbook")
    p.add_argument("--scenario", metavar="FILE",
                   help="a redesign scenario as JSON: adds the as-is/to-be comparison")
    p.add_argument("--filter", metavar="FILE", help=FILTER_HELP)
    p.add_argument("--calendar", metavar="FILE", help=CALENDAR_HELP)
    p.add_argument("--compare", metavar="FILE", help="two groups to compare, as JSON (format in README)")
    p.add_argument("--finding", action="append", type=positive, metavar="ID",
                   help="include a saved finding of the knowledge base (repeatable)")
