"""The knowledge base's storage: saved findings (symptom → cause → remedy → impact) in the `findings` table.

`save_finding` stores a finding with its evidence (analysis.findings_recompute.Evidence; figures computed when
the evidence has none), `get_finding` reads one back as a `Finding`, `list_findings` searches them,
`set_outcome` marks how the remedy worked out, `delete_finding` removes one. Everything without a column of
its own in store.SCHEMA (kind, page, filter, figures, departments, the remedy's outcome) lives in the
`evidence` JSON, so database files written before the knowledge base existed open unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pandas as pd

from analysis import store
from analysis.errors import UserError
from analysis.findings_recompute import Evidence, check_kind, compute_figures, evidence_departments
from analysis.sql import Query, query

OUTCOMES = ("worked", "partly", "did_not_work")
LIST_COLUMNS = ["finding_id", "created_at", "log_id", "log_name", "title", "symptom", "cause", "remedy", "impact",
                "tags", "kind", "page", "departments", "outcome", "outcome_note", "outcome_at"]


@dataclass(frozen=True)
class Finding:
    """One saved finding, its evidence read back, and the remedy's outcome when one was marked."""

    finding_id: int
    created_at: str
    log_id: int | None
    log_name: str | None
    title: str
    symptom: str
    cause: str
    remedy: str
    impact: str
    tags: tuple[str, ...]
    evidence: Evidence
    departments: tuple[str, ...] = ()
    outcome: str | None = None
    outcome_note: str = ""
    outcome_at: str | None = None

    def listed(self) -> dict:
        """The finding as a row of list_findings (LIST_COLUMNS)."""
        return {"finding_id": self.finding_id, "created_at": self.created_at, "log_id": self.log_id,
                "log_name": self.log_name, "title": self.title, "symptom": self.symptom, "cause": self.cause,
                "remedy": self.remedy, "impact": self.impact, "tags": list(self.tags), "kind": self.evidence.kind,
                "page": self.evidence.page, "departments": list(self.departments), "outcome": self.outcome,
                "outcome_note": self.outcome_note, "outcome_at": self.outcome_at}


def log_name(con: duckdb.DuckDBPyConnection, log_id: int | None) -> str | None:
    """The name of a log in the store (None when there is no such log)."""
    if log_id is None:
        return None
    return query("SELECT name FROM logs WHERE log_id = $log_id", log_id=log_id).scalar(con)


def parse_tags(text: str) -> tuple[str, ...]:
    """Tags typed comma-separated (also ，、;), trimmed, without blanks or repeats, in typed order."""
    for sep in ("，", "、", ";", "；"):
        text = text.replace(sep, ",")
    return tuple(dict.fromkeys(tag.strip() for tag in text.split(",") if tag.strip()))


def _tags(tags) -> list[str]:
    """Tags typed as text or given as a list, cleaned."""
    if isinstance(tags, str):
        return list(parse_tags(tags))
    return list(dict.fromkeys(str(x).strip() for x in tags if str(x).strip()))


def save_finding(con: duckdb.DuckDBPyConnection, log_id: int, title: str, evidence: Evidence, symptom: str = "",
                 cause: str = "", remedy: str = "", impact: str = "", tags=()) -> int:
    """Store a finding with its evidence (figures computed now when the evidence has none); returns its id."""
    if not title.strip():
        raise UserError("err.finding_title")
    check_kind(evidence.kind)
    figures = evidence.figures or compute_figures(con, evidence)
    data = Evidence(evidence.kind, log_id, evidence.params, evidence.flt, evidence.page, evidence.calendar,
                    figures).to_dict()
    data |= {"log_name": log_name(con, log_id), "departments": evidence_departments(evidence), "outcome": None}
    values = {"log_id": log_id, "title": title.strip(), "symptom": symptom.strip(), "cause": cause.strip(),
              "remedy": remedy.strip(), "impact": impact.strip(), "evidence": json.dumps(data, ensure_ascii=False),
              "tags": _tags(tags)}
    with store.transaction(con):
        finding_id = int(query("SELECT coalesce(max(finding_id), 0) + 1 FROM findings").scalar(con))
        query("""INSERT INTO findings VALUES ($finding_id, now()::TIMESTAMP, $log_id, $title, $symptom, $cause,
                                              $remedy, $impact, $evidence, $tags)""",
              finding_id=finding_id, **values).run(con)
    return finding_id


def get_finding(con: duckdb.DuckDBPyConnection, finding_id: int) -> Finding:
    """One finding by id; StoreError when there is none."""
    row = query("""SELECT finding_id, strftime(created_at, '%Y-%m-%d %H:%M:%S'), log_id, title, symptom, cause,
                          remedy, impact, tags, evidence
                   FROM findings WHERE finding_id = $finding_id""", finding_id=int(finding_id)).one(con)
    if row is None:
        raise store.StoreError(f"No finding {finding_id}.")
    data = json.loads(row[9] or "{}")
    outcome = data.get("outcome") or {}
    return Finding(int(row[0]), row[1], row[2], data.get("log_name") or log_name(con, row[2]), row[3] or "",
                   row[4] or "", row[5] or "", row[6] or "", row[7] or "", tuple(row[8] or ()),
                   Evidence.from_dict({"log_id": row[2], **data}), tuple(data.get("departments") or ()),
                   outcome.get("outcome"), outcome.get("note") or "", outcome.get("marked_at"))


def all_findings(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """Every saved finding, by id."""
    return [get_finding(con, r[0]) for r in query("SELECT finding_id FROM findings ORDER BY finding_id").rows(con)]


def _search(text: str = "", tags=(), department: str | None = None, log_id: int | None = None,
            since: str | dt.date | None = None) -> Query:
    """The ids of the findings list_findings keeps, newest first."""
    where, params = [], {}
    for i, word in enumerate((text or "").split()):
        where.append("contains(lower(concat_ws(' ', title, symptom, cause, remedy, impact, "
                     f"array_to_string(tags, ' '))), lower($word_{i}))")
        params[f"word_{i}"] = word
    if tags:
        listed = ", ".join(f"$tag_{i}" for i in range(len(tags)))
        where.append(f"list_has_all(coalesce(tags, []::VARCHAR[]), [{listed}])")
        params |= {f"tag_{i}": str(x) for i, x in enumerate(tags)}
    if department:
        where.append("list_contains(coalesce(CAST(json_extract(evidence, '$.departments') AS VARCHAR[]), "
                     "[]::VARCHAR[]), $department)")
        params["department"] = department
    if log_id is not None:
        where.append("f.log_id = $log_id")
        params["log_id"] = int(log_id)
    if since:
        where.append("f.created_at >= CAST($since AS TIMESTAMP)")
        params["since"] = str(since)
    return query("SELECT finding_id FROM findings f" + (" WHERE " + " AND ".join(where) if where else "")
                 + " ORDER BY created_at DESC, finding_id DESC", **params)


def list_findings(con: duckdb.DuckDBPyConnection, query: str = "", tags=(), department: str | None = None,
                  log_id: int | None = None, since: str | dt.date | None = None) -> pd.DataFrame:
    """Saved findings, newest first, with LIST_COLUMNS.

    `query` is searched as substrings (every word of it must occur, case-insensitive) in the title, symptom,
    cause, remedy, impact and tags — substring search works for Chinese, which has no spaces between words.
    `tags`: findings carrying all of them; `department`: findings about it; `since`: created on or after.
    """
    ids = [r[0] for r in _search(query, tags, department, log_id, since).rows(con)]
    rows = [get_finding(con, finding_id).listed() for finding_id in ids]
    # object columns: a missing outcome or log stays None (not NaN) for the pages, the CLI and JSON.
    return pd.DataFrame(rows, columns=LIST_COLUMNS, dtype=object)


def all_tags(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every tag in use, sorted."""
    return [r[0] for r in query("SELECT DISTINCT unnest(tags) AS tag FROM findings ORDER BY tag").rows(con) if r[0]]


def all_departments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every department some finding is about, sorted."""
    return sorted({d for ds in list_findings(con)["departments"] for d in ds})


def _update_evidence(con: duckdb.DuckDBPyConnection, finding_id: int, change: Callable[[dict], None]) -> None:
    """Change a finding's evidence JSON in place, in one transaction (StoreError when there is no such finding)."""
    with store.transaction(con):
        row = query("SELECT evidence FROM findings WHERE finding_id = $finding_id", finding_id=int(finding_id)).one(con)
        if row is None:
            raise store.StoreError(f"No finding {finding_id}.")
        data = json.loads(row[0] or "{}")
        change(data)
        query("UPDATE findings SET evidence = $evidence WHERE finding_id = $finding_id",
              evidence=json.dumps(data, ensure_ascii=False), finding_id=int(finding_id)).run(con)


def set_outcome(con: duckdb.DuckDBPyConnection, finding_id: int, outcome: str, note: str = "",
                when: str | dt.date | None = None) -> None:
    """Mark how the remedy worked out (one of OUTCOMES), with a note and the date (today by default)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    marked = str(when or dt.date.today().isoformat())

    def change(data: dict) -> None:
        """Set the outcome in the evidence JSON."""
        data["outcome"] = {"outcome": outcome, "note": note.strip(), "marked_at": marked}
    _update_evidence(con, finding_id, change)


def delete_finding(con: duckdb.DuckDBPyConnection, finding_id: int) -> bool:
    """Remove a finding; False when there was none."""
    gone = query("DELETE FROM findings WHERE finding_id = $finding_id RETURNING finding_id",
                 finding_id=int(finding_id)).rows(con)
    return bool(gone)


def fingerprint(con: duckdb.DuckDBPyConnection) -> tuple:
    """Changes whenever a finding is added or deleted (a cache key for matching_findings)."""
    return tuple(query("""SELECT count(*), coalesce(max(finding_id), 0), coalesce(sum(finding_id), 0)
                          FROM findings""").one(con))
