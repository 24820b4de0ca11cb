"""The diagnosis knowledge base: saved findings (symptom → cause → remedy → impact) with the evidence behind them.

The public face of three modules, importable from here:
- analysis.findings_store — storage: `save_finding`, `get_finding`, `list_findings`, `all_tags`,
  `all_departments`, `set_outcome`, `delete_finding`, `fingerprint`, `parse_tags`; the `Finding` record;
- analysis.findings_recompute — the `Evidence` record and re-running it: `KINDS` (one recompute function per
  kind, on the analysis function its page shows), `compute_figures`, the `*_figures` readers the pages
  share, `evidence_departments`, `Match`;
- analysis.findings_words — words: `subject`, `kind_label`, `format_figure`, `figure_label`, `suggest_title`.
`rerun` and `matching_findings` join the first two: read the saved finding(s), recompute on a log.
"""

from __future__ import annotations

import duckdb

from analysis import findings_recompute, findings_store, store
from analysis.findings_recompute import (
    BOTTLENECK_FIGURES,
    HANDOFF_FIGURES,
    KINDS,
    KPI_FIGURES,
    MATCH_TOP,
    PINGPONG_FIGURES,
    Evidence,
    Match,
    bottleneck_figures,
    compute_figures,
    evidence_departments,
    handoff_figures,
    kpi_figures,
    pingpong_figures,
    redesign_figures,
)
from analysis.findings_store import (
    LIST_COLUMNS,
    OUTCOMES,
    Finding,
    all_departments,
    all_findings,
    all_tags,
    delete_finding,
    fingerprint,
    get_finding,
    list_findings,
    parse_tags,
    save_finding,
    set_outcome,
)
from analysis.findings_words import figure_label, format_figure, kind_label, subject, suggest_title

__all__ = ["BOTTLENECK_FIGURES", "HANDOFF_FIGURES", "KINDS", "KPI_FIGURES", "LIST_COLUMNS", "MATCH_TOP", "OUTCOMES",
           "PINGPONG_FIGURES", "Evidence", "Finding", "Match", "all_departments", "all_findings", "all_tags",
           "bottleneck_figures", "compute_figures", "delete_finding", "evidence_departments", "figure_label",
           "fingerprint", "format_figure", "get_finding", "handoff_figures", "kind_label", "kpi_figures",
           "list_findings", "matching_findings", "parse_tags", "pingpong_figures", "redesign_figures", "rerun",
           "save_finding", "set_outcome", "subject", "suggest_title"]


def rerun(con: duckdb.DuckDBPyConnection, finding_id: int, log_id: int | None = None) -> dict:
    """The finding's figures then (as saved) and now, on the current data of its log or of `log_id`.

    The same filter, parameters and calendar; the result's shape is findings_recompute.rerun's.
    """
    f = get_finding(con, finding_id)
    target = f.log_id if log_id is None else int(log_id)
    name = findings_store.log_name(con, target)
    if name is None:
        raise store.LogNotFound(f"The log of finding {finding_id} is no longer in the store; re-run it on another log.")
    return findings_recompute.rerun(con, f, target, name)


def matching_findings(con: duckdb.DuckDBPyConnection, log_id: int) -> list[Match]:
    """Saved findings whose pattern recurs in a log (all its cases, calendar time), by finding id.

    The bottleneck activity in the top 3 by waiting share, the hand-off pair in the top 5 by total wait, the
    ping-pong pair in the top 3 by occurrences. Other kinds never match.
    """
    return findings_recompute.matches(con, log_id, all_findings(con))
