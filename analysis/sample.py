"""Seeded generator of the embedded sample marketing-campaign event log (see SAMPLE_TRUTH.md).

One row per activity instance with a start and an end, in office hours on Chinese working days.
The log carries known, documented problems (the injected truth, machine-readable in ``TRUTH``) so
that the dashboard's diagnosis can be checked against them. The same code writes the benchmark logs
(millions of events), so every step is drawn for all cases at once with numpy; only the handful of
process steps is a Python loop. `_Simulation` holds the cases and draws a step for many at once,
`_flow` walks them through the as-is flow, `_staff` assigns the people, `_record_batches` writes the
rows in a language.
"""

from __future__ import annotations

import itertools
from os import PathLike

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

# --- names ----------------------------------------------------------------------------------------

ROLES = ("case", "activity", "department", "resource", "start", "timestamp", "type", "region", "budget",
         "planned_launch")

COLUMNS = {
    "zh": dict(zip(ROLES, ("案例编号", "活动", "部门", "执行人", "开始时间", "完成时间", "活动类型", "区域",
                           "预算", "计划上线日期"), strict=True)),
    "en": dict(zip(ROLES, ("Case ID", "Activity", "Department", "Resource", "Start Timestamp",
                           "Complete Timestamp", "Campaign type", "Region", "Budget", "Planned launch"),
                   strict=True)),
}

# Codes are language-neutral keys; index order is the integer code used inside the generator.
CAMPAIGN_TYPES = ("routine_discount", "product_launch", "brand_event", "innovation_pilot")
REGIONS = ("north", "east", "south", "west")
DEPARTMENTS = ("branch_north", "branch_east", "branch_south", "branch_west", "planning", "advertising",
               "finance", "legal", "procurement", "it", "logistics")
ACTIVITIES = ("submit_request", "plan_design", "budget_approval", "plan_revision", "creative_design",
              "final_creative", "legal_review", "materials_purchasing", "it_setup", "materials_delivery",
              "campaign_launch", "campaign_evaluation")

TYPE_NAMES = {
    "zh": {"routine_discount": "常规促销", "product_launch": "新品上市", "brand_event": "品牌活动",
           "innovation_pilot": "创新试点"},
    "en": {"routine_discount": "Routine discount", "product_launch": "Product launch",
           "brand_event": "Brand event", "innovation_pilot": "Innovation pilot"},
}
REGION_NAMES = {
    "zh": {"north": "华北", "east": "华东", "south": "华南", "west": "西部"},
    "en": {"north": "North", "east": "East", "south": "South", "west": "West"},
}
DEPARTMENT_NAMES = {
    "zh": {"branch_north": "区域分公司-华北", "branch_east": "区域分公司-华东",
           "branch_south": "区域分公司-华南",
           "branch_west": "区域分公司-西部", "planning": "市场部-策划室", "advertising": "市场部-广告室",
           "finance": "财务部", "legal": "法务部", "procurement": "采购部", "it": "信息技术部",
           "logistics": "物流部"},
    "en": {"branch_north": "Branch North", "branch_east": "Branch East", "branch_south": "Branch South",
           "branch_west": "Branch West", "planning": "Marketing - Planning",
           "advertising": "Marketing - Advertising", "finance": "Finance", "legal": "Legal",
           "procurement": "Procurement", "it": "IT", "logistics": "Logistics"},
}
ACTIVITY_NAMES = {
    "zh": {"submit_request": "提交活动申请", "plan_design": "活动方案设计", "budget_approval": "预算审批",
           "plan_revision": "方案修改", "creative_design": "广告创意设计", "final_creative": "定稿",
           "legal_review": "法务审核", "materials_purchasing": "物资采购", "it_setup": "促销系统配置",
           "materials_delivery": "物资配送", "campaign_launch": "活动执行",
           "campaign_evaluation": "活动评估"},
    "en": {"submit_request": "Submit campaign request", "plan_design": "Plan design",
           "budget_approval": "Budget approval", "plan_revision": "Plan revision",
           "creative_design": "Creative design", "final_creative": "Final creative",
           "legal_review": "Legal review", "materials_purchasing": "Materials purchasing",
           "it_setup": "Promotion system set-up", "materials_delivery": "Materials delivery",
           "campaign_launch": "Campaign launch", "campaign_evaluation": "Campaign evaluation"},
}
# Department that performs each activity; None = the case's regional branch.
ACTIVITY_DEPARTMENT = {
    "submit_request": None, "plan_design": "planning", "budget_approval": "finance",
    "plan_revision": "planning", "creative_design": "advertising", "final_creative": "advertising",
    "legal_review": "legal", "materials_purchasing": "procurement", "it_setup": "it",
    "materials_delivery": "logistics", "campaign_launch": None, "campaign_evaluation": "planning",
}
# (zh, en) per person; the same person in two departments is one person covering two roles.
STAFF = {
    "branch_north": [("杨帆", "Yang Fan"), ("郭蕾", "Guo Lei"), ("宋佳", "Song Jia")],
    "branch_east": [("朱琳", "Zhu Lin"), ("韩冰", "Han Bing"), ("唐亮", "Tang Liang")],
    "branch_south": [("曹阳", "Cao Yang"), ("邓欣", "Deng Xin"), ("唐亮", "Tang Liang")],
    "branch_west": [("彭宇", "Peng Yu"), ("萧然", "Xiao Ran")],
    "planning": [("王芳", "Wang Fang"), ("李娜", "Li Na"), ("张伟", "Zhang Wei"), ("陈静", "Chen Jing")],
    "advertising": [("刘洋", "Liu Yang"), ("赵敏", "Zhao Min"), ("陈静", "Chen Jing")],
    "finance": [("孙丽", "Sun Li"), ("周强", "Zhou Qiang"), ("吴磊", "Wu Lei")],
    "legal": [("郑洁", "Zheng Jie"), ("冯涛", "Feng Tao")],
    "procurement": [("何军", "He Jun"), ("高峰", "Gao Feng"), ("林霞", "Lin Xia")],
    "it": [("黄鹏", "Huang Peng"), ("许晨", "Xu Chen")],
    "logistics": [("马超", "Ma Chao"), ("罗斌", "Luo Bin"), ("林霞", "Lin Xia")],
}

# --- calendar -------------------------------------------------------------------------------------

# Official days off (国务院办公厅 schedules), inclusive ranges. Only weekdays matter: weekends are off
# anyway. Make-up working weekends (调休) are deliberately NOT worked, so the rule stays "Mon–Fri
# minus holidays" and a consultant can check any timestamp by hand.
HOLIDAYS = (
    ("2023-01-02", "2023-01-02"), ("2023-01-21", "2023-01-27"), ("2023-04-05", "2023-04-05"),
    ("2023-04-29", "2023-05-03"), ("2023-06-22", "2023-06-24"), ("2023-09-29", "2023-10-06"),
    ("2024-01-01", "2024-01-01"), ("2024-02-10", "2024-02-17"), ("2024-04-04", "2024-04-06"),
    ("2024-05-01", "2024-05-05"), ("2024-06-10", "2024-06-10"), ("2024-09-15", "2024-09-17"),
    ("2024-10-01", "2024-10-07"),
    ("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
    ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08"),
    ("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
    ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
    ("2026-10-01", "2026-10-07"),
)
FIRST_DAY = "2024-01-02"     # first arrival; day 0 of the working-time axis
LAST_ARRIVAL = "2025-12-31"  # arrivals spread evenly over the working days up to here
LAST_DAY = "2026-12-31"      # the hard-coded holidays end here; tails are clipped to stay inside
DAY = 540                    # working minutes per day, 09:00–18:00 (no lunch break modelled)
H = 60

# --- injected truth -------------------------------------------------------------------------------

TYPE_SHARES = (0.55, 0.20, 0.15, 0.10)
REGION_SHARES = (0.30, 0.30, 0.25, 0.15)
BUDGET = {  # lognormal: median CNY, sigma; rounded to 100 CNY
    "routine_discount": (30_000, 0.4), "product_launch": (800_000, 0.5),
    "brand_event": (500_000, 0.6), "innovation_pilot": (200_000, 0.7),
}
PLANNED_LEAD_DAYS = {  # planned launch = submission day + this many working days (+/- 5)
    "routine_discount": 15, "product_launch": 45, "brand_event": 35, "innovation_pilot": 50,
}
# Finance batches approvals on Tue/Thu; a plan that arrives misses the batch with these
# probabilities of waiting 0/1/2/3 further batches (the backlog of three approvers).
BATCH_WEEKDAYS = (1, 3)
BATCH_SKIP_PROBS = (0.5, 0.3, 0.15, 0.05)
BATCH_START_SPREAD = 6 * H   # approvals start within the first 6 office hours of the batch day
RETURN_PROB_FIRST = {"routine_discount": 0.12, "product_launch": 0.38, "brand_event": 0.35,
                     "innovation_pilot": 0.45}
RETURN_PROB_AGAIN = 0.35     # a re-submitted plan is returned again with this probability
MAX_REVISIONS = 3
LEGAL_REWORK_PROB = {"routine_discount": 0.03, "product_launch": 0.12, "brand_event": 0.12,
                     "innovation_pilot": 0.30}
MAX_LEGAL_REWORKS = 2        # rework = legal review -> final creative (again) -> legal review
IT_SETUP_PROB = {"routine_discount": 0.25, "product_launch": 0.60, "brand_event": 0.30,
                 "innovation_pilot": 0.90}
IT_FINANCE_CODE_PROB = 0.30  # IT set-up waits for finance codes: extra wait below
IT_FINANCE_CODE_WAIT = (2 * DAY, 0.5)
# Case scope: every processing time of a case is scaled by one lognormal factor (median 1, this
# sigma, clipped to SCOPE_CLIP). Independent step noise averages out over a case; a shared factor is
# what makes projects spread widely while routine discounts stay standard work.
SCOPE_SIGMA = {"routine_discount": 0.05, "product_launch": 0.4, "brand_event": 0.4,
               "innovation_pilot": 0.5}
SCOPE_CLIP = (0.5, 2.0)
EVALUATION_PROB = {"routine_discount": 0.20, "product_launch": 0.90, "brand_event": 0.85,
                   "innovation_pilot": 0.95}

MAX_PROC = 25 * DAY          # no single activity instance runs longer than five working weeks
# Per step: wait before it (median working minutes, sigma) and processing per campaign type
# (median working minutes, sigma), all lognormal. Processing medians are scaled by the case scope,
# then draws are clipped to [median/4, min(median*3, MAX_PROC)] and waits to [0, median*6], so
# tails stay bounded and even a million cases end well inside the hard-coded calendar.
_R, _L, _B, _P = CAMPAIGN_TYPES
STEPS = {
    "submit_request": {"wait": None, "proc": {_R: (30, 0.5), _L: (60, 0.5), _B: (60, 0.5), _P: (60, 0.5)}},
    "plan_design": {"wait": (2 * H, 0.8),
                    "proc": {_R: (DAY, 0.3), _L: (4 * DAY, 0.6), _B: (3 * DAY, 0.6), _P: (5 * DAY, 0.8)}},
    "budget_approval": {"wait": "batch", "proc": {t: (45, 0.6) for t in CAMPAIGN_TYPES}},
    "plan_revision": {"wait": (2 * H, 0.8),
                      "proc": {_R: (DAY // 2, 0.4), _L: (DAY * 3 // 2, 0.6), _B: (DAY * 3 // 2, 0.6),
                               _P: (DAY * 3 // 2, 0.6)}},
    "creative_design": {"wait": (4 * H, 0.8),
                        "proc": {_R: (DAY, 0.3), _L: (5 * DAY, 0.6), _B: (4 * DAY, 0.6), _P: (4 * DAY, 0.8)}},
    "final_creative": {"wait": (H, 0.8),
                       "proc": {_R: (2 * H, 0.4), _L: (DAY, 0.5), _B: (DAY, 0.5), _P: (DAY, 0.5)}},
    "legal_review": {"wait": (2 * H, 0.8),
                     "proc": {_R: (H, 0.4), _L: (4 * H, 0.5), _B: (4 * H, 0.5), _P: (8 * DAY, 0.5)}},
    # The wait before purchasing is the hand-off delay: nothing in it depends on the creative.
    "materials_purchasing": {"wait": (2 * DAY, 0.4),
                             "proc": {_R: (DAY, 0.3), _L: (3 * DAY, 0.5), _B: (3 * DAY, 0.5),
                                      _P: (2 * DAY, 0.7)}},
    "it_setup": {"wait": (2 * H, 0.8),
                 "proc": {_R: (4 * H, 0.4), _L: (2 * DAY, 0.5), _B: (DAY, 0.5), _P: (5 * DAY, 0.7)}},
    "materials_delivery": {"wait": (2 * H, 0.8),
                           "proc": {_R: (DAY, 0.3), _L: (2 * DAY, 0.5), _B: (2 * DAY, 0.5),
                                    _P: (2 * DAY, 0.7)}},
    "campaign_launch": {"wait": (H, 0.8),
                        "proc": {_R: (5 * DAY, 0.15), _L: (10 * DAY, 0.4), _B: (3 * DAY, 0.5),
                                 _P: (15 * DAY, 0.5)}},
    "campaign_evaluation": {"wait": (DAY, 0.6),
                            "proc": {_R: (2 * H, 0.4), _L: (2 * DAY, 0.5), _B: (DAY * 3 // 2, 0.5),
                                     _P: (3 * DAY, 0.6)}},
}

TRUTH: dict = {
    "seed_default": 7,
    "n_cases_default": 3000,
    "calendar": {"first_day": FIRST_DAY, "last_arrival": LAST_ARRIVAL, "last_day": LAST_DAY,
                 "office_hours": ("09:00", "18:00"), "weekdays": (0, 1, 2, 3, 4), "holidays": HOLIDAYS,
                 "makeup_weekends_worked": False},
    "type_shares": dict(zip(CAMPAIGN_TYPES, TYPE_SHARES, strict=True)),
    "region_shares": dict(zip(REGIONS, REGION_SHARES, strict=True)),
    "budget_median_sigma": BUDGET,
    "planned_lead_working_days": PLANNED_LEAD_DAYS,
    "finance": {"approvers": len(STAFF["finance"]), "batch_weekdays": BATCH_WEEKDAYS,
                "batch_skip_probs": BATCH_SKIP_PROBS, "batch_start_spread_minutes": BATCH_START_SPREAD,
                "return_prob_first": RETURN_PROB_FIRST, "return_prob_again": RETURN_PROB_AGAIN,
                "max_revisions": MAX_REVISIONS},
    "legal": {"rework_prob": LEGAL_REWORK_PROB, "max_reworks": MAX_LEGAL_REWORKS},
    "it": {"setup_prob": IT_SETUP_PROB, "finance_code_prob": IT_FINANCE_CODE_PROB,
           "finance_code_wait": IT_FINANCE_CODE_WAIT},
    "evaluation_prob": EVALUATION_PROB,
    "scope_sigma": SCOPE_SIGMA,
    "scope_clip": SCOPE_CLIP,
    "steps_working_minutes": STEPS,
    "max_processing_working_minutes": MAX_PROC,
    # As-is flow; [..] optional, {..} loops. Legal review follows final creative (see _simulate).
    "flow": ("submit_request", "plan_design", "budget_approval",
             "{plan_revision, budget_approval} x0-3", "creative_design", "final_creative", "legal_review",
             "{final_creative, legal_review} x0-2", "materials_purchasing", "[it_setup]",
             "materials_delivery", "campaign_launch", "[campaign_evaluation]"),
    # What a correct diagnosis must find (tests assert these on generated logs).
    "expected": {
        "returned_case_share": round(sum(share * RETURN_PROB_FIRST[t]
                                         for t, share in zip(CAMPAIGN_TYPES, TYPE_SHARES, strict=True)), 4),
        "predecessor_of_materials_purchasing": "legal_review",
        "largest_total_waiting_activity": "budget_approval",
        "top_pingpong_departments": ("planning", "finance"),
        "slow_legal_review_type": "innovation_pilot",
        "handoff_delay_before": "materials_purchasing",
        "standard_work_type": "routine_discount",
        "project_types": ("product_launch", "brand_event", "innovation_pilot"),
    },
}


# --- calendar helpers -----------------------------------------------------------------------------

def _holiday_set() -> np.ndarray:
    days = [np.arange(np.datetime64(a), np.datetime64(b) + 1) for a, b in HOLIDAYS]
    return np.concatenate(days)


def working_days() -> np.ndarray:
    """Return the working days (datetime64[D]) from FIRST_DAY to LAST_DAY: Mon–Fri minus holidays."""
    days = np.arange(np.datetime64(FIRST_DAY), np.datetime64(LAST_DAY) + 1)
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return days[(weekday < 5) & ~np.isin(days, _holiday_set())]


def _minutes_to_datetime(days: np.ndarray, w: np.ndarray, is_end: bool) -> np.ndarray:
    # An end on a day boundary is 18:00 of that day, a start there is 09:00 of the next one.
    if is_end:
        d, m = np.divmod(w - 1, DAY)
        m += 1
    else:
        d, m = np.divmod(w, DAY)
    if d.size and d.max() >= len(days):
        raise ValueError("sample log runs past the hard-coded holiday calendar")
    base = days[d].astype("datetime64[m]").astype("int64")
    return (base + 9 * H + m).astype("datetime64[m]").astype("datetime64[s]")


# --- generation -----------------------------------------------------------------------------------

def _lognormal(rng: np.random.Generator, median: np.ndarray, sigma: np.ndarray, lo: np.ndarray | float,
               hi: np.ndarray | float) -> np.ndarray:
    x = median * np.exp(sigma * rng.standard_normal(len(median)))
    return np.rint(np.clip(x, lo, hi)).astype(np.int64)


def _by_type(table: dict, types: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    med = np.array([table[t][0] for t in CAMPAIGN_TYPES], dtype=np.float64)
    sig = np.array([table[t][1] for t in CAMPAIGN_TYPES], dtype=np.float64)
    return med[types], sig[types]


class _Events:
    """Accumulates events step by step as parallel numpy arrays (one entry per event)."""

    def __init__(self, n_cases: int) -> None:
        self.seq = np.zeros(n_cases, dtype=np.int32)  # next position within each case
        self.parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, cases: np.ndarray, activity: str, start: np.ndarray, end: np.ndarray) -> None:
        """One event of `activity` for each of `cases`, from `start` to `end` (working minutes)."""
        self.parts.append((cases, ACTIVITIES.index(activity), self.seq[cases].copy(), start, end))
        self.seq[cases] += 1

    def in_log_order(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(case, activity, start, end) per event: cases in id order, a case's events in step order.

        Step order is time order: every step starts at or after the previous one ended.
        """
        counts = self.seq.astype(np.int64)
        offset = np.concatenate(([0], np.cumsum(counts)[:-1]))
        n_events = int(counts.sum())
        case_of = np.empty(n_events, dtype=np.int32)
        act_of = np.empty(n_events, dtype=np.int8)
        start_of = np.empty(n_events, dtype=np.int64)
        end_of = np.empty(n_events, dtype=np.int64)
        for cases, act, seq, start, end in self.parts:
            pos = offset[cases] + seq
            case_of[pos], act_of[pos], start_of[pos], end_of[pos] = cases, act, start, end
        return case_of, act_of, start_of, end_of


class _Simulation:
    """The cases being drawn: their attributes, each case's clock, its events, and the one random generator.

    The draws happen in a fixed order (attributes, then the flow step by step, then the staff), so a
    seed always gives the same log.
    """

    def __init__(self, n_cases: int, seed: int) -> None:
        rng = self.rng = np.random.default_rng(seed)
        self.days = days = working_days()
        n_arrival_days = int(np.searchsorted(days, np.datetime64(LAST_ARRIVAL), side="right"))
        weekday = (days.astype("int64") + 3) % 7
        self.batch_days = np.flatnonzero(np.isin(weekday, BATCH_WEEKDAYS))
        # First batch day at or after each working day (index into batch_days).
        self.next_batch = np.searchsorted(self.batch_days, np.arange(len(days) + 1))
        self.ctype = rng.choice(len(CAMPAIGN_TYPES), size=n_cases, p=TYPE_SHARES).astype(np.int8)
        self.region = rng.choice(len(REGIONS), size=n_cases, p=REGION_SHARES).astype(np.int8)
        # Sorted arrivals so that case ids count up with submission time.
        self.arrival = np.sort(rng.integers(0, n_arrival_days * DAY, size=n_cases))
        med, sig = _by_type(BUDGET, self.ctype)
        self.budget = (np.rint(med * np.exp(sig * rng.standard_normal(n_cases)) / 100) * 100).astype(np.int64)
        lead = np.array([PLANNED_LEAD_DAYS[t] for t in CAMPAIGN_TYPES])[self.ctype]
        self.planned_day = self.arrival // DAY + lead + rng.integers(-5, 6, size=n_cases)
        scope_sigma = np.array([SCOPE_SIGMA[t] for t in CAMPAIGN_TYPES])[self.ctype]
        self.scope = np.clip(np.exp(scope_sigma * rng.standard_normal(n_cases)), *SCOPE_CLIP)
        self.events = _Events(n_cases)
        self.now = self.arrival.copy()  # end of each case's latest event, in working minutes
        self.all_cases = np.arange(n_cases, dtype=np.int32)

    def step(self, cases: np.ndarray, activity: str, extra_wait: np.ndarray | None = None) -> None:
        """Each of `cases` waits, then performs `activity`; its clock moves to the activity's end."""
        spec = STEPS[activity]
        start = self._start(cases, spec["wait"])
        if extra_wait is not None:
            start = start + extra_wait
        pm, ps = _by_type(spec["proc"], self.ctype[cases])
        pm = pm * self.scope[cases]
        end = start + np.maximum(_lognormal(self.rng, pm, ps, pm / 4, np.minimum(pm * 3, MAX_PROC)), 1)
        self.events.add(cases, activity, start, end)
        self.now[cases] = end

    def _start(self, cases: np.ndarray, wait) -> np.ndarray:
        """When each of `cases` starts its next activity, after a wait of kind `wait` (see STEPS)."""
        ready = self.now[cases]
        if wait == "batch":
            # Approvals start only on a Tue/Thu batch day at or after the plan arrives, possibly
            # several batches later (backlog), within the first office hours of that day.
            first = self.next_batch[-(-ready // DAY)]
            skips = self.rng.choice(len(BATCH_SKIP_PROBS), size=len(cases), p=BATCH_SKIP_PROBS)
            if len(cases) and (first + skips).max() >= len(self.batch_days):
                raise ValueError("sample log runs past the hard-coded holiday calendar")
            spread = self.rng.integers(0, BATCH_START_SPREAD, size=len(cases))
            return self.batch_days[first + skips] * DAY + spread
        if wait is None:
            return ready
        m, s = wait
        n = len(cases)
        return ready + _lognormal(self.rng, np.full(n, float(m)), np.full(n, s), 0.0, m * 6.0)

    def chance(self, cases: np.ndarray, probs: dict | float) -> np.ndarray:
        """The cases drawn with probability `probs` (one per campaign type, or one for all)."""
        p = (np.array([probs[t] for t in CAMPAIGN_TYPES])[self.ctype[cases]] if isinstance(probs, dict)
             else probs)
        return cases[self.rng.random(len(cases)) < p]

    def repeat(self, cases: np.ndarray, activities: tuple[str, ...], first: dict | float, again: dict | float,
               times: int) -> None:
        """A loop: cases drawn with `first` redo `activities`, drawn again with `again`, at most `times`."""
        looping = self.chance(cases, first)
        for _ in range(times):
            if not len(looping):
                break
            for activity in activities:
                self.step(looping, activity)
            looping = self.chance(looping, again)


def _flow(sim: _Simulation) -> None:
    """Every case through the as-is flow (TRUTH["flow"]), step by step."""
    everyone = sim.all_cases
    for activity in ("submit_request", "plan_design", "budget_approval"):
        sim.step(everyone, activity)
    sim.repeat(everyone, ("plan_revision", "budget_approval"), RETURN_PROB_FIRST, RETURN_PROB_AGAIN,
               MAX_REVISIONS)
    # Legal reviews the final draft (定稿后送法务审核), not the first draft: with SAMPLE.md's order
    # creative -> legal -> final creative every case would go advertising -> legal -> advertising,
    # and that built-in X->Y->X would outnumber the planning<->finance ping-pong the log must show.
    for activity in ("creative_design", "final_creative", "legal_review"):
        sim.step(everyone, activity)
    sim.repeat(everyone, ("final_creative", "legal_review"), LEGAL_REWORK_PROB, LEGAL_REWORK_PROB,
               MAX_LEGAL_REWORKS)
    sim.step(everyone, "materials_purchasing")
    it_cases = sim.chance(everyone, IT_SETUP_PROB)
    m, s = IT_FINANCE_CODE_WAIT
    codes = sim.rng.random(len(it_cases)) < IT_FINANCE_CODE_PROB
    extra = np.where(codes, _lognormal(sim.rng, np.full(len(it_cases), float(m)), np.full(len(it_cases), s),
                                       m / 4, m * 4), 0)
    sim.step(it_cases, "it_setup", extra)
    sim.step(everyone, "materials_delivery")
    sim.step(everyone, "campaign_launch")
    sim.step(sim.chance(everyone, EVALUATION_PROB), "campaign_evaluation")


def _staff(sim: _Simulation, case_of: np.ndarray, act_of: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """(department, resource, people) per event: one person per department per case (the case's team).

    Finance approvals rotate among the approvers instead.
    """
    dept_of_act = np.array([-1 if d is None else DEPARTMENTS.index(d) for d in ACTIVITY_DEPARTMENT.values()])
    dept = dept_of_act[act_of]
    dept = np.where(dept < 0, sim.region[case_of], dept).astype(np.int8)  # branch departments come first
    people = sorted({p for staff in STAFF.values() for p in staff})
    pool_len = np.array([len(STAFF[d]) for d in DEPARTMENTS])
    pool = np.zeros((len(DEPARTMENTS), pool_len.max()), dtype=np.int16)
    for i, d in enumerate(DEPARTMENTS):
        pool[i, : pool_len[i]] = [people.index(p) for p in STAFF[d]]
    team = (sim.rng.random((len(DEPARTMENTS), len(sim.all_cases))) * pool_len[:, None]).astype(np.int64)
    pick = team[dept, case_of]
    fin = np.flatnonzero(act_of == ACTIVITIES.index("budget_approval"))
    pick[fin] = sim.rng.integers(0, pool_len[DEPARTMENTS.index("finance")], size=len(fin))
    return dept, pool[dept, pick], people


def _simulate(n_cases: int, seed: int) -> dict[str, np.ndarray]:
    """Draw cases and events; returns numpy arrays of case attributes and of events in log order."""
    sim = _Simulation(n_cases, seed)
    _flow(sim)
    case_of, act_of, start_of, end_of = sim.events.in_log_order()
    dept, resource, people = _staff(sim, case_of, act_of)
    return {
        "days": sim.days, "ctype": sim.ctype, "region": sim.region, "arrival": sim.arrival,
        "budget": sim.budget,
        "planned_day": sim.planned_day, "case": case_of, "activity": act_of, "department": dept,
        "resource": resource, "start": start_of, "end": end_of, "people": np.array(people, dtype=object),
    }


def _case_ids(arrival: np.ndarray, days: np.ndarray) -> np.ndarray:
    # MC-<year>-<number within that year>, numbered in submission order.
    year = days[arrival // DAY].astype("datetime64[Y]").astype(np.int64) + 1970
    first_of_year = np.searchsorted(year, year, side="left")
    number = np.arange(len(year)) - first_of_year + 1
    width = max(5, len(str(int(number.max())))) if len(number) else 5
    return np.array([f"MC-{y}-{k:0{width}d}" for y, k in zip(year.tolist(), number.tolist(), strict=True)],
                    dtype=object)


def _record_batches(sim: dict[str, np.ndarray], lang: str, chunk: int = 1_000_000):
    """Yield pyarrow record batches of the log in `lang`, `chunk` events at a time (bounds memory)."""
    if lang not in COLUMNS:
        raise ValueError(f"lang must be one of {sorted(COLUMNS)}, got {lang!r}")
    cols = COLUMNS[lang]
    days = sim["days"]
    case_ids = pa.array(_case_ids(sim["arrival"], days), type=pa.string())
    li = 0 if lang == "zh" else 1
    activity = pa.array([ACTIVITY_NAMES[lang][a] for a in ACTIVITIES])
    department = pa.array([DEPARTMENT_NAMES[lang][d] for d in DEPARTMENTS])
    resource = pa.array([p[li] for p in sim["people"]])
    ctype = pa.array([TYPE_NAMES[lang][t] for t in CAMPAIGN_TYPES])
    region = pa.array([REGION_NAMES[lang][r] for r in REGIONS])
    planned = pc.cast(pa.array(days[sim["planned_day"]]), pa.string())
    schema = pa.schema([(cols[r], pa.int64() if r == "budget" else pa.string()) for r in ROLES])
    n = len(sim["case"])
    for lo in range(0, max(n, 1), chunk):
        sl = slice(lo, min(lo + chunk, n))
        case = pa.array(sim["case"][sl])
        start = pa.array(_minutes_to_datetime(days, sim["start"][sl], is_end=False))
        end = pa.array(_minutes_to_datetime(days, sim["end"][sl], is_end=True))
        arrays = [
            pc.take(case_ids, case),
            pc.take(activity, pa.array(sim["activity"][sl])),
            pc.take(department, pa.array(sim["department"][sl])),
            pc.take(resource, pa.array(sim["resource"][sl])),
            pc.cast(start, pa.string()),
            pc.cast(end, pa.string()),
            pc.take(ctype, pc.take(pa.array(sim["ctype"]), case)),
            pc.take(region, pc.take(pa.array(sim["region"]), case)),
            pc.take(pa.array(sim["budget"]), case),
            pc.take(planned, case),
        ]
        yield pa.record_batch(arrays, schema=schema)


def generate_sample(n_cases: int = 3000, seed: int = 7, lang: str = "zh") -> pd.DataFrame:
    """Return the sample log, one row per event, columns COLUMNS[lang] in order, timestamps as text."""
    sim = _simulate(n_cases, seed)
    table = pa.Table.from_batches(list(_record_batches(sim, lang)))
    return table.to_pandas()


def write_sample_csv(path: str | PathLike, n_cases: int = 3000, seed: int = 7, lang: str = "zh") -> int:
    """Write the sample log as a UTF-8, comma-delimited CSV with header; return the number of events."""
    batches = _record_batches(_simulate(n_cases, seed), lang)
    first = next(batches)
    # No value contains a comma, quote or newline (names are ours), so no quoting: looks like an export.
    options = pacsv.WriteOptions(include_header=True, delimiter=",", quoting_style="none")
    rows = 0
    with pacsv.CSVWriter(str(path), first.schema, write_options=options) as writer:
        for batch in itertools.chain([first], batches):
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows
