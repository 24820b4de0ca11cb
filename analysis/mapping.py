"""Proposing which column plays which role (case, activity, timestamps, resource, department)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ROLES = ("case", "activity", "timestamp", "start", "resource", "department")
REQUIRED = ("case", "activity", "timestamp")

# Header names per role, compared after normalise(). Exact matches score 1.0; a header that
# merely contains one of KEYWORDS scores lower. Chinese names come from real OA/ERP exports.
NAMES: dict[str, tuple[str, ...]] = {
    "case": (
        "case:concept:name", "caseid", "case", "caseidentifier", "casenumber", "caseno", "traceid",
        "ticketid", "incidentid", "orderid", "processid", "instanceid", "campaignid",
        "案例编号", "案例id", "案例号", "案例", "工单号", "工单编号", "流程编号", "流程实例", "单号",
        "单据编号",
    ),
    "activity": (
        "concept:name", "activity", "activityname", "task", "taskname", "eventname", "event", "action",
        "step", "stepname", "operation",
        "活动", "活动名称", "环节", "环节名称", "步骤", "节点", "节点名称", "任务", "任务名称", "操作",
    ),
    "timestamp": (
        "time:timestamp", "completetimestamp", "endtimestamp", "completetime", "completedtime", "endtime",
        "end", "complete", "timestamp", "time", "datetime", "eventtime", "date",
        "完成时间", "结束时间", "时间", "处理时间", "完成日期", "结束日期", "办结时间", "发生时间",
    ),
    "start": (
        "start_timestamp", "starttimestamp", "starttime", "start", "startdate", "time:start",
        "开始时间", "开始日期", "起始时间", "接收时间",
    ),
    "resource": (
        "org:resource", "resource", "user", "username", "performer", "executor", "employee", "agent",
        "worker",
        "执行人", "处理人", "操作人", "经办人", "负责人", "员工", "办理人",
    ),
    "department": (
        "org:group", "department", "dept", "group", "team", "orgunit", "unit", "organization", "organisation",
        "workgroup", "org:role",
        "部门", "组织", "科室", "处室", "所属部门", "部门名称", "团队", "组别",
    ),
}
# Lower-priority exact names: plausible but not the first choice.
SECOND_CHOICE = {"org:role", "date", "event", "unit", "group", "time", "end", "start"}
# Below this a column is not proposed at all (e.g. '@@startevent_name' for the start role).
MIN_CONFIDENCE = 0.3
KEYWORDS: dict[str, tuple[str, ...]] = {
    "case": ("caseid", "case", "案例", "工单"),
    "activity": ("activity", "task", "活动名", "环节", "步骤"),
    "timestamp": ("timestamp", "complete", "endtime", "完成", "结束"),
    "start": ("start", "开始"),
    "resource": ("resource", "user", "执行", "处理人", "经办"),
    "department": ("department", "dept", "group", "部门", "组织"),
}


def normalise(header: str) -> str:
    """Lower case without spaces, underscores or hyphens (keeps ':' so XES names stay distinct)."""
    text = header.strip().lower()
    if text.startswith(("time:", "org:", "concept:", "case:", "lifecycle:")):
        return text.replace(" ", "")
    return re.sub(r"[\s_\-./]+", "", text)


@dataclass(frozen=True)
class Candidate:
    """A column proposed for a role, with how sure the proposal is (0–1)."""

    column: str
    confidence: float


@dataclass
class Mapping:
    """Role -> column, with the confidence of each choice and the other candidates."""

    columns: dict[str, str | None]
    confidence: dict[str, float] = field(default_factory=dict)
    candidates: dict[str, list[Candidate]] = field(default_factory=dict)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    chosen: dict[str, str] = field(default_factory=dict)   # roles set by the user or remembered ("" = none)
    remembered_exclusions: tuple[str, ...] = ()   # activities the remembered import left out

    @property
    def missing(self) -> list[str]:
        """Required roles without a column."""
        return [role for role in REQUIRED if not self.columns.get(role)]


def score(role: str, header: str) -> float:
    """How well a header name fits a role: 1.0 exact, 0.8 second-choice exact, 0.5 keyword, else 0."""
    norm = normalise(header)
    if norm in {normalise(n) for n in NAMES[role]}:
        return 0.8 if norm in SECOND_CHOICE else 1.0
    # Case-level XES columns (case:startdate, case:group) describe the case, not its events.
    if norm.startswith("case:") and role != "case":
        return 0.0
    if any(k in norm for k in KEYWORDS[role]):
        return 0.5
    return 0.0


def propose_mapping(headers: list[str], timestamp_like: set[str] | None = None) -> Mapping:
    """Propose a column for each role from header names; `timestamp_like` columns parse as timestamps.

    A role is ambiguous when two columns tie for its best score; the first is proposed and the
    tie is reported so the CLI can stop and the UI can ask.
    """
    timestamp_like = timestamp_like or set()
    scores = {role: {h: score(role, h) for h in headers} for role in ROLES}
    # A column whose values are timestamps is a weak candidate for the timestamp roles even
    # with an unknown name; one whose values are not is a poor one however it is called.
    for role in ("timestamp", "start"):
        for h in headers:
            if timestamp_like and h not in timestamp_like:
                scores[role][h] *= 0.3
            elif h in timestamp_like and scores[role][h] == 0 and role == "timestamp":
                scores[role][h] = 0.3
    columns: dict[str, str | None] = {}
    confidence: dict[str, float] = {}
    candidates: dict[str, list[Candidate]] = {}
    ambiguous: dict[str, list[str]] = {}
    used: set[str] = set()
    # Decide the surest roles first so "Start Timestamp" goes to start before timestamp sees it.
    order = sorted(ROLES, key=lambda r: -max(scores[r].values(), default=0))
    for role in order:
        ranked = sorted(
            (Candidate(h, s) for h, s in scores[role].items() if s >= MIN_CONFIDENCE and h not in used),
            key=lambda c: (-c.confidence, headers.index(c.column)),
        )
        candidates[role] = ranked
        if not ranked:
            columns[role] = None
            confidence[role] = 0.0
            continue
        best = ranked[0]
        ties = [c.column for c in ranked if c.confidence == best.confidence]
        if len(ties) > 1:
            ambiguous[role] = ties
        columns[role] = best.column
        confidence[role] = best.confidence if len(ties) == 1 else best.confidence / 2
        used.add(best.column)
    return Mapping(
        columns={r: columns.get(r) for r in ROLES},
        confidence={r: confidence.get(r, 0.0) for r in ROLES},
        candidates=candidates,
        ambiguous=ambiguous,
    )
