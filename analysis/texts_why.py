"""Texts of the "why it waits" views (merged into analysis.texts.TEXTS; same shape, en and zh)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "why.section": {"en": "Why it waits", "zh": "为什么在等"},
    "why.tab": {"en": "Why it waits", "zh": "等待原因"},
    "why.chart_title_activity": {"en": "Waiting per step, by cause", "zh": "各环节的等待时间（按原因）"},
    "why.chart_title_department": {"en": "Waiting per department, by cause", "zh": "各部门的等待时间（按原因）"},
    "why.chart_title_resource": {"en": "Waiting per person, by cause", "zh": "各执行人的等待时间（按原因）"},
    "why.by": {"en": "Group by", "zh": "分组方式"},
    "why.by_activity": {"en": "Step", "zh": "环节"},
    "why.by_department": {"en": "Department", "zh": "部门"},
    "why.by_resource": {"en": "Person", "zh": "执行人"},
    "why.chart_title_handoff": {"en": "Waiting at each hand-off, by cause", "zh": "各交接的等待时间（按原因）"},
    "why.chart_title_handoff_department": {"en": "Waiting at each hand-off between departments, by cause",
                                           "zh": "部门之间各交接的等待时间（按原因）"},
    "why.chart_title_handoff_resource": {"en": "Waiting at each hand-off between people, by cause",
                                         "zh": "人员之间各交接的等待时间（按原因）"},
    "why.basis_calendar": {
        "en": "Calendar time. Each wait (previous step's end → this step's start) is split into five causes that "
              "add up to it. Duty hours are read from each person's own working times in the log; choose "
              "working time above to use a calendar instead.",
        "zh": "按日历时间。每段等待（上一环节结束 → 本环节开始）被拆分为五种原因，五者之和等于等待时间。"
              "值班时间取自日志中每个人自己的工作时段；如需按日历计算，请在上方选择工作时间。",
    },
    "why.basis_working": {
        "en": "Working time of the chosen calendar: only on-duty time counts as waiting, so the parts add up to "
              "the working-time wait above and unavailability (off-duty time) is zero here. Switch to calendar "
              "time to see it.",
        "zh": "按所选日历的工作时间：只有值班时间计入等待，因此各部分之和等于上方的工作时间等待，"
              "不在岗（下班时间）在这里为零。切换到日历时间即可看到它。",
    },
    "why.none": {"en": "No waits to explain under this filter.", "zh": "当前筛选下没有需要解释的等待。"},
    "why.pick": {"en": "Breakdown of", "zh": "查看明细"},
    "why.pick_help": {"en": "Or click a bar in the chart.", "zh": "也可以点击图中的条形。"},
    "why.no_dominant": {"en": "No single cause dominates this wait.", "zh": "这段等待没有单一的主要原因。"},
    "why.col_cause": {"en": "Cause", "zh": "原因"},
    "why.col_time": {"en": "Waiting", "zh": "等待时间"},
    "why.col_share": {"en": "Share of the wait", "zh": "占等待比例"},
    "why.col_median": {"en": "Median per delayed step", "zh": "每次受影响的中位数"},
    "why.col_remedy": {"en": "What helps", "zh": "改进方向"},
    "why.download": {"en": "Download the causes (CSV, seconds)", "zh": "下载等待原因（CSV，单位秒）"},
}
