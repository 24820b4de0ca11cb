"""The diagnosis knowledge base: saved findings (symptom → cause → remedy → impact) with the evidence behind them.

A finding's evidence records what the user looked at: the log, the global filter (CaseFilter JSON), the page,
the kind of figure with its parameters (an activity, a hand-off pair, a scenario …), the working-time
calendar if one was on, and the figures shown at that moment. Every kind has one recompute function in
`KINDS`, built on the same analysis function the page shows, so a finding can be re-run later on the
current data of its log, or on another log, and compared then vs now.

Storage: the `findings` table of store.SCHEMA. Everything without a column of its own (kind, page, filter,
figures, departments, the remedy's outcome) lives in the `evidence` JSON, so database files written before
the knowledge base existed open unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from analysis import bottlenecks, handoffs, overview, store
from analysis.diagnosis import duration_words
from analysis.errors import UserError
from analysis.filters import ALL, CaseFilter, unknown_values
from analysis.texts import t
from analysis.working_time import WorkCalendar

OUTCOMES = ("worked", "partly", "did_not_work")

# How far down its ranking a saved pattern may sit in another log and still count as recurring.
MATCH_TOP = {"bottleneck": 3, "handoff": 5, "pingpong": 3}


@dataclass(frozen=True)
class Evidence:
    """What a finding rests on: a kind of figure and its parameters, on a log under a filter, and its figures.

    `figures` may be left empty: save_finding then computes them with the kind's recompute function.
    """

    kind: str                                   # a key of KINDS
    log_id: int
    params: dict = field(default_factory=dict)  # e.g. {"activity": "预算审批"}, {"from": …, "to": …, "level": …}
    flt: CaseFilter = ALL
    page: str = ""
    calendar: WorkCalendar | None = None
    figures: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON-ready form stored in `findings.evidence` (without log name and outcome)."""
        return {"kind": self.kind, "page": self.page, "log_id": self.log_id, "params": self.params,
                "filter": json.loads(self.flt.to_json()),
                "calendar": json.loads(self.calendar.to_json()) if self.calendar else None,
                "figures": self.figures}

    @classmethod
    def from_dict(cls, data: dict) -> Evidence:
        """Read to_dict's form."""
        calendar = data.get("calendar")
        return cls(kind=data.get("kind") or "", log_id=data.get("log_id"), params=data.get("params") or {},
                   flt=CaseFilter.from_json(json.dumps(data.get("filter") or {})), page=data.get("page") or "",
                   calendar=WorkCalendar.from_json(json.dumps(calendar)) if calendar else None,
                   figures=data.get("figures") or {})


def _number(value) -> float | int | None:
    """A plain Python number for JSON (NaN and missing → None)."""
    if value is None:
        return None
    if isinstance(value, (bool, int)):
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number):
        return None
    return int(number) if float(number).is_integer() and not isinstance(value, float) else number


def _row_figures(table: pd.DataFrame, mask, columns: tuple[str, ...]) -> dict:
    """The named columns of the first row matching `mask`, with its 1-based rank; all None when absent."""
    hit = table.index[mask].tolist() if len(table) else []
    if not hit:
        return {c: None for c in columns} | {"rank": None}
    pos = table.index.get_loc(hit[0])
    row = table.iloc[pos]
    return {c: _number(row[c]) for c in columns} | {"rank": int(pos) + 1}


# Figure extraction from the tables the pages show: the pages and the recompute functions share these.

BOTTLENECK_FIGURES = ("share_of_waiting", "median_wait_seconds", "p90_wait_seconds", "total_wait_seconds")
HANDOFF_FIGURES = ("count", "median_wait_seconds", "total_wait_seconds")
PINGPONG_FIGURES = ("occurrences", "cases", "extra_cycle_seconds")
KPI_FIGURES = ("cases", "median_cycle_seconds", "p90_cycle_seconds", "handoffs_per_case")


def bottleneck_figures(stats: pd.DataFrame, activity: str) -> dict:
    """An activity's figures from bottlenecks.activity_stats (rank = place by waiting share)."""
    return _row_figures(stats, stats["activity"] == activity if len(stats) else [], BOTTLENECK_FIGURES)


def handoff_figures(matrix: pd.DataFrame, source: str, target: str) -> dict:
    """A hand-off pair's figures from handoffs.handoff_matrix (rank = place by total wait)."""
    if matrix.empty:
        return _row_figures(matrix, [], HANDOFF_FIGURES)
    ranked = matrix.sort_values(["total_wait_seconds", "count"], ascending=False, kind="stable").reset_index(drop=True)
    return _row_figures(ranked, (ranked["from"] == source) & (ranked["to"] == target), HANDOFF_FIGURES)


def pingpong_figures(pings: pd.DataFrame, a: str, b: str) -> dict:
    """An unordered pair's figures from handoffs.pingpong (rank = place by occurrences)."""
    a, b = sorted((a, b))
    mask = (pings["pair_a"] == a) & (pings["pair_b"] == b) if len(pings) else []
    return _row_figures(pings.reset_index(drop=True), mask, PINGPONG_FIGURES)


def kpi_figures(k: dict) -> dict:
    """The KPIs a finding keeps from overview.kpis."""
    return {name: _number(k.get(name)) for name in KPI_FIGURES}


def redesign_figures(table: pd.DataFrame) -> dict:
    """Median cycle time and hand-offs per case, as-is, to-be and their change, from redesign.compare_scenario."""
    rows = table.set_index("kpi")
    out = {}
    for kpi, name in (("median_cycle_seconds", "median_cycle"), ("handoffs_per_case", "handoffs")):
        for col in ("as_is", "to_be", "delta"):
            value = rows.loc[kpi, col] if kpi in rows.index else None
            suffix = "_seconds" if name == "median_cycle" else ""
            out[f"{name}_{col}{suffix}"] = _number(value)
    return out


def _level(ev: Evidence) -> str:
    return ev.params.get("level") or "department"


def _recompute_bottleneck(con, ev: Evidence) -> dict:
    stats = bottlenecks.activity_stats(con, ev.log_id, ev.flt, ev.calendar)
    return bottleneck_figures(stats, ev.params["activity"])


def _recompute_handoff(con, ev: Evidence) -> dict:
    matrix = handoffs.handoff_matrix(con, ev.log_id, ev.flt, _level(ev), ev.calendar)
    return handoff_figures(matrix, ev.params["from"], ev.params["to"])


def _recompute_pingpong(con, ev: Evidence) -> dict:
    a, b = ev.params["pair"]
    return pingpong_figures(handoffs.pingpong(con, ev.log_id, ev.flt, _level(ev)), a, b)


def _recompute_kpi(con, ev: Evidence) -> dict:
    return kpi_figures(overview.kpis(con, ev.log_id, ev.flt))


def _recompute_redesign(con, ev: Evidence) -> dict:
    # Imported here: the redesign module is only needed for this kind.
    from analysis import redesign

    scenario = redesign.Scenario.from_json(ev.params["scenario"])
    return redesign_figures(redesign.compare_scenario(con, ev.log_id, scenario, ev.flt))


def _recompute_compare(con, ev: Evidence) -> dict:
    from analysis import compare

    cohorts = compare.cohorts_from(con, ev.log_id, ev.flt, ev.params)
    return compare.figures(compare.kpi_table(con, ev.log_id, cohorts))


# The registry: kind → the function computing its figures on the current data.
KINDS: dict[str, Callable[[duckdb.DuckDBPyConnection, Evidence], dict]] = {
    "bottleneck": _recompute_bottleneck,
    "handoff": _recompute_handoff,
    "pingpong": _recompute_pingpong,
    "kpi": _recompute_kpi,
    "redesign": _recompute_redesign,
    "compare": _recompute_compare,
}


def compute_figures(con: duckdb.DuckDBPyConnection, evidence: Evidence) -> dict:
    """The evidence's figures on the current data of its log (the kind's recompute function)."""
    if evidence.kind not in KINDS:
        raise ValueError(f"Unknown evidence kind {evidence.kind!r} (known: {', '.join(KINDS)})")
    return KINDS[evidence.kind](con, evidence)


def evidence_departments(evidence: Evidence) -> list[str]:
    """The departments a finding is about (for the department filter): the activity's department, the
    hand-off or ping-pong pair at department level, a scenario's departments, and the filter's."""
    p = evidence.params
    names: list[str] = list(evidence.flt.departments)
    if evidence.kind == "bottleneck" and p.get("department"):
        names.append(p["department"])
    elif evidence.kind == "handoff" and _level(evidence) == "department":
        names += [p["from"], p["to"]]
    elif evidence.kind == "pingpong" and _level(evidence) == "department":
        names += list(p["pair"])
    elif evidence.kind == "redesign":
        for op in json.loads(p.get("scenario") or "{}").get("operations", []):
            names += list(op.get("departments") or []) + ([op["department"]] if op.get("department") else [])
    return sorted({str(n) for n in names if n})


def _next_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT coalesce(max(finding_id), 0) + 1 FROM findings").fetchone()[0])


def _log_name(con: duckdb.DuckDBPyConnection, log_id: int | None) -> str | None:
    row = con.execute("SELECT name FROM logs WHERE log_id = ?", [log_id]).fetchone() if log_id is not None else None
    return row[0] if row else None


def parse_tags(text: str) -> tuple[str, ...]:
    """Tags typed comma-separated (also ，、;), trimmed, without blanks or repeats, in typed order."""
    for sep in ("，", "、", ";", "；"):
        text = text.replace(sep, ",")
    return tuple(dict.fromkeys(tag.strip() for tag in text.split(",") if tag.strip()))


def save_finding(con: duckdb.DuckDBPyConnection, log_id: int, title: str, evidence: Evidence, symptom: str = "",
                 cause: str = "", remedy: str = "", impact: str = "", tags=()) -> int:
    """Store a finding with its evidence (figures computed now when the evidence has none); returns its id."""
    if not title.strip():
        raise UserError("err.finding_title")
    if evidence.kind not in KINDS:
        raise ValueError(f"Unknown evidence kind {evidence.kind!r} (known: {', '.join(KINDS)})")
    figures = evidence.figures or compute_figures(con, evidence)
    data = Evidence(evidence.kind, log_id, evidence.params, evidence.flt, evidence.page, evidence.calendar,
                    figures).to_dict()
    data["log_name"] = _log_name(con, log_id)
    data["departments"] = evidence_departments(evidence)
    data["outcome"] = None
    tags = list(parse_tags(tags) if isinstance(tags, str) else dict.fromkeys(str(x).strip() for x in tags if str(x).strip()))
    with store.transaction(con):
        finding_id = _next_id(con)
        con.execute("INSERT INTO findings VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [finding_id, log_id, title.strip(), symptom.strip(), cause.strip(), remedy.strip(),
                     impact.strip(), json.dumps(data, ensure_ascii=False), tags])
    return finding_id


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


def get_finding(con: duckdb.DuckDBPyConnection, finding_id: int) -> Finding:
    """One finding by id; StoreError when there is none."""
    row = con.execute(
        "SELECT finding_id, strftime(created_at, '%Y-%m-%d %H:%M:%S'), log_id, title, symptom, cause, remedy, "
        "impact, tags, evidence FROM findings WHERE finding_id = ?", [int(finding_id)]).fetchone()
    if row is None:
        raise store.StoreError(f"No finding {finding_id}.")
    data = json.loads(row[9] or "{}")
    outcome = data.get("outcome") or {}
    return Finding(int(row[0]), row[1], row[2], data.get("log_name") or _log_name(con, row[2]), row[3] or "",
                   row[4] or "", row[5] or "", row[6] or "", row[7] or "", tuple(row[8] or ()),
                   Evidence.from_dict({"log_id": row[2], **data}), tuple(data.get("departments") or ()),
                   outcome.get("outcome"), outcome.get("note") or "", outcome.get("marked_at"))


LIST_COLUMNS = ["finding_id", "created_at", "log_id", "log_name", "title", "symptom", "cause", "remedy", "impact",
                "tags", "kind", "page", "departments", "outcome", "outcome_note", "outcome_at"]


def list_findings(con: duckdb.DuckDBPyConnection, query: str = "", tags=(), department: str | None = None,
                  log_id: int | None = None, since: str | dt.date | None = None) -> pd.DataFrame:
    """Saved findings, newest first, with LIST_COLUMNS.

    `query` is searched as substrings (every word of it must occur, case-insensitive) in the title, symptom,
    cause, remedy, impact and tags — substring search works for Chinese, which has no spaces between words.
    `tags`: findings carrying all of them; `department`: findings about it; `since`: created on or after.
    """
    where, params = [], []
    for word in (query or "").split():
        where.append("contains(lower(concat_ws(' ', title, symptom, cause, remedy, impact, "
                     "array_to_string(tags, ' '))), lower(?))")
        params.append(word)
    if tags:
        where.append("list_has_all(coalesce(tags, []::VARCHAR[]), ?)")
        params.append([str(x) for x in tags])
    if department:
        where.append("list_contains(coalesce(CAST(json_extract(evidence, '$.departments') AS VARCHAR[]), "
                     "[]::VARCHAR[]), ?)")
        params.append(department)
    if log_id is not None:
        where.append("f.log_id = ?")
        params.append(int(log_id))
    if since:
        where.append("f.created_at >= CAST(? AS TIMESTAMP)")
        params.append(str(since))
    sql = ("SELECT finding_id FROM findings f" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY created_at DESC, finding_id DESC")
    ids = [r[0] for r in con.execute(sql, params).fetchall()]
    rows = []
    for finding_id in ids:
        f = get_finding(con, finding_id)
        rows.append({"finding_id": f.finding_id, "created_at": f.created_at, "log_id": f.log_id,
                     "log_name": f.log_name, "title": f.title, "symptom": f.symptom, "cause": f.cause,
                     "remedy": f.remedy, "impact": f.impact, "tags": list(f.tags), "kind": f.evidence.kind,
                     "page": f.evidence.page, "departments": list(f.departments), "outcome": f.outcome,
                     "outcome_note": f.outcome_note, "outcome_at": f.outcome_at})
    # object columns: a missing outcome or log stays None (not NaN) for the pages, the CLI and JSON.
    return pd.DataFrame(rows, columns=LIST_COLUMNS, dtype=object)


def all_tags(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every tag in use, sorted."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT unnest(tags) AS tag FROM findings ORDER BY tag").fetchall() if r[0]]


def all_departments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every department some finding is about, sorted."""
    return sorted({d for ds in list_findings(con)["departments"] for d in ds})


def _update_evidence(con: duckdb.DuckDBPyConnection, finding_id: int, change: Callable[[dict], None]) -> None:
    with store.transaction(con):
        row = con.execute("SELECT evidence FROM findings WHERE finding_id = ?", [int(finding_id)]).fetchone()
        if row is None:
            raise store.StoreError(f"No finding {finding_id}.")
        data = json.loads(row[0] or "{}")
        change(data)
        con.execute("UPDATE findings SET evidence = ? WHERE finding_id = ?",
                    [json.dumps(data, ensure_ascii=False), int(finding_id)])


def set_outcome(con: duckdb.DuckDBPyConnection, finding_id: int, outcome: str, note: str = "",
                when: str | dt.date | None = None) -> None:
    """Mark how the remedy worked out (one of OUTCOMES), with a note and the date (today by default)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    marked = str(when or dt.date.today().isoformat())

    def change(data: dict) -> None:
        data["outcome"] = {"outcome": outcome, "note": note.strip(), "marked_at": marked}
    _update_evidence(con, finding_id, change)


def delete_finding(con: duckdb.DuckDBPyConnection, finding_id: int) -> bool:
    """Remove a finding; False when there was none."""
    gone = con.execute("DELETE FROM findings WHERE finding_id = ? RETURNING finding_id", [int(finding_id)]).fetchall()
    return bool(gone)


def fingerprint(con: duckdb.DuckDBPyConnection) -> tuple:
    """Changes whenever a finding is added or deleted (a cache key for matching_findings)."""
    return tuple(con.execute("SELECT count(*), coalesce(max(finding_id), 0), coalesce(sum(finding_id), 0) "
                             "FROM findings").fetchone())


def rerun(con: duckdb.DuckDBPyConnection, finding_id: int, log_id: int | None = None) -> dict:
    """The finding's figures then (as saved) and now (re-computed on the current data of its log, or of
    `log_id`), under the same filter, parameters and calendar.

    Returns {"finding_id", "kind", "params", "then": {"log_id", "log_name", "figures"}, "now": {…},
    "rows": [{"figure", "then", "now", "change"}], "unknown": filter values the log does not have}.
    """
    f = get_finding(con, finding_id)
    target = f.log_id if log_id is None else int(log_id)
    if target is None or _log_name(con, target) is None:
        raise store.LogNotFound(f"The log of finding {finding_id} is no longer in the store; re-run it on another log.")
    ev = f.evidence
    now = compute_figures(con, Evidence(ev.kind, target, ev.params, ev.flt, ev.page, ev.calendar))
    rows = []
    for name in dict.fromkeys([*ev.figures, *now]):
        a, b = ev.figures.get(name), now.get(name)
        change = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        rows.append({"figure": name, "then": a, "now": b, "change": change})
    return {"finding_id": f.finding_id, "kind": ev.kind, "params": ev.params,
            "then": {"log_id": f.log_id, "log_name": f.log_name, "figures": ev.figures},
            "now": {"log_id": target, "log_name": _log_name(con, target), "figures": now},
            "rows": rows, "unknown": unknown_values(con, target, ev.flt)}


@dataclass(frozen=True)
class Match:
    """A saved finding whose pattern recurs in a log: its place in that log's ranking and the new figures."""

    finding_id: int
    title: str
    kind: str
    params: dict
    rank: int
    figures: dict
    then: dict
    log_id: int | None        # the log the finding was saved on
    log_name: str | None


def matching_findings(con: duckdb.DuckDBPyConnection, log_id: int) -> list[Match]:
    """Saved findings whose pattern recurs in a log (all its cases, calendar time): the bottleneck activity in
    the top 3 by waiting share, the hand-off pair in the top 5 by total wait, the ping-pong pair in the top 3
    by occurrences. Other kinds never match. Ordered by finding id."""
    rows = con.execute("SELECT finding_id FROM findings ORDER BY finding_id").fetchall()
    # A finding's filter names values of its own log: patterns are looked for in the whole new log.
    tables: dict[tuple, pd.DataFrame] = {}

    def table(kind: str, level: str) -> pd.DataFrame:
        if (kind, level) not in tables:
            tables[kind, level] = {
                "bottleneck": lambda: bottlenecks.activity_stats(con, log_id),
                "handoff": lambda: handoffs.handoff_matrix(con, log_id, None, level),
                "pingpong": lambda: handoffs.pingpong(con, log_id, None, level, top=MATCH_TOP["pingpong"]),
            }[kind]()
        return tables[kind, level]

    found = []
    for (finding_id,) in rows:
        f = get_finding(con, finding_id)
        ev, p = f.evidence, f.evidence.params
        if ev.kind not in MATCH_TOP:
            continue
        level = _level(ev)
        if ev.kind == "bottleneck":
            figures = bottleneck_figures(table("bottleneck", ""), p["activity"])
        elif ev.kind == "handoff":
            figures = handoff_figures(table("handoff", level), p["from"], p["to"])
        else:
            figures = pingpong_figures(table("pingpong", level), *p["pair"])
        rank = figures.get("rank")
        if rank is not None and rank <= MATCH_TOP[ev.kind]:
            found.append(Match(f.finding_id, f.title, ev.kind, p, rank, figures, ev.figures, f.log_id, f.log_name))
    return found


# Words: labels, figure values and the suggested title, in either language.

def subject(evidence: Evidence) -> str:
    """What the evidence is about, in a few words: an activity, 'A → B', 'A ↔ B', a scenario's name."""
    p = evidence.params
    if evidence.kind == "bottleneck":
        return p["activity"]
    if evidence.kind == "handoff":
        return f"{p['from']} → {p['to']}"
    if evidence.kind == "pingpong":
        return " ↔ ".join(p["pair"])
    if evidence.kind == "redesign":
        return json.loads(p.get("scenario") or "{}").get("name", "")
    if evidence.kind == "compare":
        from analysis import compare

        return compare.subject(p)
    return ""


def kind_label(kind: str, lang: str) -> str:
    """The kind's name for a reader."""
    return t(f"kb.kind_{kind}", lang)


def format_figure(name: str, value, lang: str) -> str:
    """A figure as a reader wants it: durations in minutes/hours/days, shares in %, counts with separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if name.endswith("_seconds"):
        text = duration_words(abs(value), lang)
        return ("−" + text) if value < 0 else text
    if name.startswith("share"):
        return f"{value:.1%}"
    if name == "rank":
        return f"#{int(value)}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def figure_label(name: str, lang: str) -> str:
    """A figure's name for a reader."""
    return t(f"kb.fig_{name}", lang)


def suggest_title(evidence: Evidence, lang: str) -> str:
    """A one-sentence title in the style of the page's findings, from the evidence's figures."""
    g, p = evidence.figures, evidence.params

    def d(name: str) -> str:
        return format_figure(name, g.get(name), lang)
    if evidence.kind == "bottleneck":
        return t("kb.title_bottleneck", lang, activity=p["activity"], department=p.get("department") or "–",
                 share=d("share_of_waiting"), median=d("median_wait_seconds"))
    if evidence.kind == "handoff":
        return t("kb.title_handoff", lang, a=p["from"], b=p["to"], count=d("count"), median=d("median_wait_seconds"))
    if evidence.kind == "pingpong":
        a, b = p["pair"]
        return t("kb.title_pingpong", lang, a=a, b=b, cases=d("cases"), extra=d("extra_cycle_seconds"))
    if evidence.kind == "kpi":
        return t("kb.title_kpi", lang, cases=d("cases"), median=d("median_cycle_seconds"), p90=d("p90_cycle_seconds"))
    if evidence.kind == "compare":
        return t("kb.title_compare", lang, subject=subject(evidence), a=d("median_cycle_a_seconds"),
                 b=d("median_cycle_b_seconds"))
    return t("kb.title_redesign", lang, name=subject(evidence), delta=d("median_cycle_delta_seconds"))
