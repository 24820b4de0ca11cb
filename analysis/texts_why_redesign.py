"""Texts of the Redesign page's scenarios from a waiting cause (merged into analysis.texts.TEXTS; same
shape, en and zh)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    # The reduce_wait_cause operation (analysis/redesign.py) and its mistakes.
    "rd.why_op": {"en": "Remove a waiting cause", "zh": "消除等待原因"},
    "rd.why_op_detail": {"en": " − {share} of {causes}", "zh": " − {causes}的 {share}"},
    "rd.why_err_cause": {
        "en": 'operation {n} ({op}): unknown waiting cause {names} ("causes" are some of {causes})',
        "zh": "第 {n} 个操作（{op}）：未知的等待原因 {names}（\"causes\" 应取自 {causes}）"},
    "rd.why_err_share": {"en": 'operation {n} ({op}): "share" must be a number from 0 to 1',
                         "zh": "第 {n} 个操作（{op}）：\"share\" 必须是 0 到 1 之间的数"},
    "rd.why_err_not_in_log": {"en": 'operation {n} ({op}): not in this log ("{field}"): {names}',
                              "zh": "第 {n} 个操作（{op}）：此日志中没有（\"{field}\"）：{names}"},
    # The "From a waiting cause" control of the Redesign page (analysis/redesign_causes.py has the presets).
    "rd.why_section": {"en": "From a waiting cause", "zh": "从等待原因生成方案"},
    "rd.why_intro": {
        "en": "Pick a step and what to change about why it waits: the chosen share of that cause's waiting "
              "disappears from every case at that step (calendar time; duty hours are each person's own "
              "working times in the log, as on the Bottlenecks page).",
        "zh": "选择一个环节以及要改变的等待原因：该环节每个案例中此原因造成的等待按所选比例消除"
              "（按日历时间；值班时间取自日志中每个人自己的工作时段，与瓶颈页面一致）。"},
    "rd.why_cannot": {"en": "Scenarios from a waiting cause are not available for this log. {reason}",
                      "zh": "此日志无法从等待原因生成方案。{reason}"},
    "rd.why_none": {"en": "No step waits under this filter.", "zh": "当前筛选下没有环节需要等待。"},
    "rd.why_activity": {"en": "Step (most waiting first)", "zh": "环节（按等待时间从多到少）"},
    "rd.why_label": {"en": "{activity} — {causes}", "zh": "{activity} — {causes}"},
    "rd.why_cause_share": {"en": "{share} {cause}", "zh": "{cause} {share}"},
    "rd.why_preset": {"en": "What changes", "zh": "改进措施"},
    "rd.why_preset_batching": {"en": "Batching removed (e.g. approve daily)", "zh": "取消批处理（如改为每日审批）"},
    "rd.why_preset_capacity": {"en": "Extra capacity", "zh": "增加人手"},
    "rd.why_preset_hours": {"en": "Extended hours", "zh": "延长工作时间"},
    "rd.why_preset_choice": {"en": "{preset}: {share} of this step's wait", "zh": "{preset}：占该环节等待的 {share}"},
    "rd.why_no_preset": {
        "en": "None of the causes these remedies address delays this step (its wait is extraneous: outside "
              "the people's work).",
        "zh": "这些措施针对的原因都没有延误该环节（其等待属于外部等待，不在执行人的工作之内）。"},
    "rd.why_help_batching": {
        "en": "The time each case waited for its batch to start goes: the step takes each case as it arrives.",
        "zh": "每个案例等待所在批次开始的时间被取消：该环节随到随办。"},
    "rd.why_help_capacity": {
        "en": "The time each case queued behind busy people goes (contention and prioritisation). There is no "
              "capacity model: the queue removed here is assumed not to form anywhere else, so read the "
              "result as the most that more people at this step could save.",
        "zh": "每个案例因执行人忙碌而排队的时间被取消（资源争用与优先级插队）。这里没有产能模型："
              "假设被消除的排队不会在别处重新出现，因此结果是该环节增加人手最多能节省的时间。"},
    "rd.why_help_hours": {
        "en": "The time each case waited while the people were off duty goes: their hours cover the hand-over.",
        "zh": "每个案例在执行人下班期间等待的时间被取消：工作时间覆盖交接时段。"},
    "rd.why_share": {"en": "Share of that waiting removed", "zh": "消除的等待比例"},
    "rd.why_add": {"en": "Add to this scenario", "zh": "加入当前方案"},
    "rd.why_new": {"en": "Start a new scenario with it", "zh": "以此新建方案"},
    "rd.why_name": {"en": "{activity}: {preset}", "zh": "{activity}：{preset}"},
}
