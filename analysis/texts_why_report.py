"""Texts of the "why it waits" views (merged into analysis.texts.TEXTS; same shape, en and zh).

This catalogue holds the words every view shares — the causes' names (`why.cause_<cause>`), their remedy
classes (`why.remedy_<cause>`) and the cause sentence (analysis.waiting_words) — plus the report's section
(`rpt.why_*`) and the knowledge base's "waiting cause" finding (`kb.*_waiting_cause`, `kb.fig_*`).
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    # The five causes (analysis.waiting_causes.CAUSES), short, lower case: they sit inside sentences too.
    "why.cause_batching": {"en": "batching", "zh": "批处理"},
    "why.cause_prioritization": {"en": "prioritisation", "zh": "优先级插队"},
    "why.cause_contention": {"en": "contention", "zh": "资源争用"},
    "why.cause_unavailability": {"en": "unavailability", "zh": "不在岗"},
    "why.cause_extraneous": {"en": "extraneous", "zh": "外部等待"},
    # The remedy class of each cause, as an instruction (after "→" in English, after "建议" in Chinese).
    "why.remedy_batching": {"en": "work the queue daily / set a service-level deadline instead of collecting",
                            "zh": "每天处理队列或设定服务时限，不再攒批集中处理"},
    "why.remedy_prioritization": {"en": "make the queue first-in first-out / set a due-date rule",
                                  "zh": "按先到先办处理队列或设定到期日规则"},
    "why.remedy_contention": {"en": "add capacity or rebalance work across people",
                              "zh": "增加人手或在人员之间重新分配工作"},
    "why.remedy_unavailability": {"en": "align working hours with the hand-over (extend or shift hours)",
                                  "zh": "让工作时间与交接时间对齐（延长或错开工作时间）"},
    "why.remedy_extraneous": {"en": "chase the outside party: the requester, supplier or signer — set a deadline",
                              "zh": "催办外部方（申请人、供应商或签字人）并设定期限"},
    "why.sentence": {"en": "**{share}** of the wait at **{subject}** is **{cause}** → {remedy}",
                     "zh": "**{subject}** 的等待中 **{share}** 是**{cause}** → 建议{remedy}"},
    "why.sentence_working": {"en": "**{share}** of the working-time wait at **{subject}** is **{cause}** → {remedy}",
                             "zh": "**{subject}** 的工作时间内等待中 **{share}** 是**{cause}** → 建议{remedy}"},
    "why.nothing_to_split": {"en": "{subject}: no wait with a start time and a resource to split into causes",
                             "zh": "{subject}：没有可拆分原因的等待（需要开始时间和执行人）"},

    # The report's bottleneck section: "Why it waits".
    "rpt.why_title": {"en": "Why it waits", "zh": "为什么等待"},
    "rpt.why_intro": {
        "en": "The waiting before each of these steps split into five causes (events with a start time and a "
              "resource): batching — collected and started together; prioritisation — newer work went first; "
              "contention — older work was ahead in the queue; unavailability — the person was off duty; "
              "extraneous — free and on duty, yet waiting on someone outside the log (requester, supplier, "
              "signer). {basis} Duty hours: {hours}.",
        "zh": "以下各环节之前的等待拆分为五类原因（基于有开始时间和执行人的事件）：批处理——攒在一起集中处理；"
              "优先级插队——后到的工作先办；资源争用——前面排着更早的工作；不在岗——执行人不在工作时间；"
              "外部等待——执行人有空且在岗，却在等日志之外的人（申请人、供应商、签字人）。{basis}工作时间：{hours}。"},
    "rpt.why_basis_calendar": {"en": "Shares of the waiting in calendar time.", "zh": "比例按日历时间计算。"},
    "rpt.why_basis_working": {
        "en": "Shares of the waiting in working time (on-duty seconds only, so unavailability does not appear).",
        "zh": "比例按工作时间计算（只计在岗时间，因此不会出现“不在岗”）。"},
    "rpt.why_hours_given": {"en": "the working-time calendar of each person's department",
                            "zh": "各执行人所在部门的工作日历"},
    "rpt.why_hours_observed": {"en": "each person's own working hours, read from the log",
                               "zh": "从日志中读出的每位执行人自己的工作时间"},
    "rpt.why_col_waits": {"en": "waits split", "zh": "拆分的等待次数"},
    "rpt.why_col_wait": {"en": "wait split (case-days)", "zh": "拆分的等待（案例·天）"},
    "rpt.why_col_split": {"en": "split", "zh": "构成"},
    "rpt.why_remedies": {"en": "Main cause and remedy per step", "zh": "各环节的主要原因与建议"},

    # The knowledge base: a finding of the kind "waiting_cause" (saved from the Bottlenecks page).
    "kb.kind_waiting_cause": {"en": "Waiting cause", "zh": "等待原因"},
    "kb.choice_waiting_cause": {"en": "Waiting cause of {activity}: {cause} ({share})",
                                "zh": "{activity} 的等待原因：{cause}（{share}）"},
    "kb.fig_waits": {"en": "Waits split into causes", "zh": "拆分原因的等待次数"},
    "kb.fig_wait_seconds": {"en": "Wait split into causes (all cases)", "zh": "拆分原因的等待（所有案例）"},
    "kb.fig_dominant_cause": {"en": "Main cause", "zh": "主要原因"},
    "kb.fig_batching_seconds": {"en": "Batching (all cases)", "zh": "批处理（所有案例）"},
    "kb.fig_prioritization_seconds": {"en": "Prioritisation (all cases)", "zh": "优先级插队（所有案例）"},
    "kb.fig_contention_seconds": {"en": "Contention (all cases)", "zh": "资源争用（所有案例）"},
    "kb.fig_unavailability_seconds": {"en": "Unavailability (all cases)", "zh": "不在岗（所有案例）"},
    "kb.fig_extraneous_seconds": {"en": "Extraneous (all cases)", "zh": "外部等待（所有案例）"},
    "kb.fig_share_batching": {"en": "Batching share of the wait", "zh": "批处理占等待的比例"},
    "kb.fig_share_prioritization": {"en": "Prioritisation share of the wait", "zh": "优先级插队占等待的比例"},
    "kb.fig_share_contention": {"en": "Contention share of the wait", "zh": "资源争用占等待的比例"},
    "kb.fig_share_unavailability": {"en": "Unavailability share of the wait", "zh": "不在岗占等待的比例"},
    "kb.fig_share_extraneous": {"en": "Extraneous share of the wait", "zh": "外部等待占等待的比例"},
}
