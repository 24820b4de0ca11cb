"""Seeded generator of the embedded sample marketing-campaign event log (see SAMPLE_TRUTH.md).

One row per activity instance with a start and an end, in office hours on Chinese working days.
The log carries known, documented problems (the injected truth, machine-readable in ``TRUTH``, and per
event in ``injected_waits``) so that the dashboard's diagnosis can be checked against them. The same code
writes the benchmark logs (millions of events), so every step is drawn for all cases at once with numpy;
only the handful of process steps is a Python loop, plus one pass over legal's reviews. `_Simulation` holds
the cases and draws a step for many at once: plain delays and elapsed work, finance's batches, orders and IT
tickets worked one at a time (`_one_at_a_time`); `_legal` books legal's queue (a review stays open after
the reviewer's effort); `_flow` walks the cases through the as-is flow; `_record_batches` writes the rows
in a language."""

from __future__ import annotations

import heapq
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
# (zh, en) per person; the same person in two departments is one person covering two roles. Nobody in
# finance, legal, procurement or IT has a second role: work elsewhere would make them look busy and hide
# the waiting cause injected there (see SAMPLE_TRUTH.md, "Why it waits").
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
    "logistics": [("马超", "Ma Chao"), ("罗斌", "Luo Bin"), ("钱坤", "Qian Kun")],
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
# Every arrival pattern is the same for every log size (two years of submissions), so a bigger log has
# proportionally more staff: each person is replicated once per CASES_PER_COPY cases (rounded up), the
# copies named "<name>-2", "<name>-3", … That keeps each person's load (legal's queue, finance's batches)
# what it is in the 3000-case default.
CASES_PER_COPY = 3000
# Finance batches approvals on Tue/Thu; a plan that arrives misses the batch with these
# probabilities of waiting 0/1/2/3 further batches (the backlog of three approvers).
BATCH_WEEKDAYS = (1, 3)
BATCH_SKIP_PROBS = (0.5, 0.3, 0.15, 0.05)
# On a batch day each approver starts their batch at a random minute of the first office hour and works
# it one approval after another (oldest plan first); what does not fit into the day waits for the next batch.
BATCH_START_SPREAD = H
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
# IT starts and does its work only from 10:00 to 16:00 (an hour after the office opens, six hours a day),
# and never starts a set-up it cannot finish the same day.
IT_HOURS = ("10:00", "16:00")
IT_OPEN = H
IT_DAY = 6 * H
# A buyer or an IT person places one order / handles one ticket at a time and files it before the next:
# at least ORDER_GAP minutes lie between two of their instances, so consecutive ones never read as a batch
# (waiting_causes.BATCH_GAP is 5 minutes).
ORDER_GAP = 10
# Case scope: every processing time of a case is scaled by one lognormal factor (median 1, this
# sigma, clipped to SCOPE_CLIP). Independent step noise averages out over a case; a shared factor is
# what makes projects spread widely while routine discounts stay standard work.
SCOPE_SIGMA = {"routine_discount": 0.05, "product_launch": 0.4, "brand_event": 0.4,
               "innovation_pilot": 0.5}
SCOPE_CLIP = (0.5, 2.0)
EVALUATION_PROB = {"routine_discount": 0.20, "product_launch": 0.90, "brand_event": 0.85,
                   "innovation_pilot": 0.95}

MAX_PROC = 25 * DAY          # no single activity instance runs longer than five working weeks
# Per step: how it waits and its processing per campaign type (median working minutes, sigma), lognormal.
# A wait (median, sigma) is a plain delay clipped to [0, median*6]; "batch", "queue", "delay" and "it_hours"
# are the injected waiting causes (SAMPLE_TRUTH.md, "Why it waits"). Processing medians are scaled by the
# case scope, then draws are clipped to [median/4, min(median*3, MAX_PROC)] (IT: at most one IT day).
# Finance, legal, procurement and IT processing is effort (the person works on nothing else meanwhile);
# everywhere else it is elapsed time (several instances of one person overlap). A legal review stays open
# after its effort ("open", below), so one reviewer's reviews overlap in the log, their efforts never.
_R, _L, _B, _P = CAMPAIGN_TYPES
STEPS = {
    "submit_request": {"wait": None, "proc": {_R: (30, 0.5), _L: (60, 0.5), _B: (60, 0.5), _P: (60, 0.5)}},
    "plan_design": {"wait": (2 * H, 0.8),
                    "proc": {_R: (DAY, 0.3), _L: (4 * DAY, 0.6), _B: (3 * DAY, 0.6), _P: (5 * DAY, 0.8)}},
    "budget_approval": {"wait": "batch", "proc": {t: (30, 0.5) for t in CAMPAIGN_TYPES}},
    "plan_revision": {"wait": (2 * H, 0.8),
                      "proc": {_R: (DAY // 2, 0.4), _L: (DAY * 3 // 2, 0.6), _B: (DAY * 3 // 2, 0.6),
                               _P: (DAY * 3 // 2, 0.6)}},
    "creative_design": {"wait": (4 * H, 0.8),
                        "proc": {_R: (DAY, 0.3), _L: (5 * DAY, 0.6), _B: (4 * DAY, 0.6), _P: (4 * DAY, 0.8)}},
    "final_creative": {"wait": (H, 0.8),
                       "proc": {_R: (2 * H, 0.4), _L: (DAY, 0.5), _B: (DAY, 0.5), _P: (DAY, 0.5)}},
    # Legal's two people review one campaign at a time: the wait before a review is its queue. "proc" is the
    # reviewer's effort (at the start of the review); "open" is how long the review stays open until the
    # sign-off comes back (the campaign owner's confirmation of claims; for a pilot, outside counsel and the
    # pilot's partners: days to weeks). The review ends at start + max(effort, open); the reviewer works the
    # queue again once the effort is done. "open" is the elapsed review time of the earlier generator.
    "legal_review": {"wait": "queue",
                     "proc": {_R: (45, 0.4), _L: (90, 0.4), _B: (90, 0.4), _P: (4 * H, 0.4)},
                     "open": {_R: (H, 0.4), _L: (4 * H, 0.5), _B: (4 * H, 0.5), _P: (8 * DAY, 0.5)}},
    # The wait before purchasing is the hand-off delay: nothing in it depends on the creative.
    "materials_purchasing": {"wait": "delay", "delay": (2 * DAY, 0.4),
                             "proc": {_R: (30, 0.4), _L: (90, 0.4), _B: (90, 0.4), _P: (60, 0.4)}},
    # IT minutes (IT_DAY a day); the wait before it: finance codes (sometimes), then the next IT hours.
    "it_setup": {"wait": "it_hours",
                 "proc": {_R: (30, 0.4), _L: (2 * H, 0.5), _B: (H, 0.5), _P: (3 * H, 0.5)}},
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
# The injected parts of each event's wait (working minutes inside the generator, working seconds in
# `injected_waits`); what is left of the wait is `other_wait` (the plain delays of STEPS).
COMPONENTS = ("batch_wait", "queue_wait", "external_delay", "it_hours_shift")
# Besides start and end, each event has effort_end: when its person's own work on it ends (the end, except for
# a legal review held open after the reviewer's effort).

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
    "staff": {"cases_per_copy": CASES_PER_COPY, "copy_suffix": "-<k>"},
    "finance": {"approvers": len(STAFF["finance"]), "batch_weekdays": BATCH_WEEKDAYS,
                "batch_skip_probs": BATCH_SKIP_PROBS, "batch_start_spread_minutes": BATCH_START_SPREAD,
                "batch_worked": "one after another from the batch start; what does not fit waits a batch",
                "return_prob_first": RETURN_PROB_FIRST, "return_prob_again": RETURN_PROB_AGAIN,
                "max_revisions": MAX_REVISIONS},
    "legal": {"reviewers": len(STAFF["legal"]), "one_at_a_time": True, "rework_prob": LEGAL_REWORK_PROB,
              "max_reworks": MAX_LEGAL_REWORKS, "effort": STEPS["legal_review"]["proc"],
              "held_open": STEPS["legal_review"]["open"],
              "review_ends": "start + max(effort, open); the reviewer is free again at start + effort"},
    "procurement": {"handoff_delay": STEPS["materials_purchasing"]["delay"], "order_gap_minutes": ORDER_GAP,
                    "one_at_a_time": True},
    "it": {"setup_prob": IT_SETUP_PROB, "finance_code_prob": IT_FINANCE_CODE_PROB,
           "finance_code_wait": IT_FINANCE_CODE_WAIT, "hours": IT_HOURS, "order_gap_minutes": ORDER_GAP,
           "one_at_a_time": True, "finishes_same_day": True},
    "evaluation_prob": EVALUATION_PROB,
    "scope_sigma": SCOPE_SIGMA,
    "scope_clip": SCOPE_CLIP,
    "steps_working_minutes": STEPS,
    "max_processing_working_minutes": MAX_PROC,
    # As-is flow; [..] optional, {..} loops. Legal review follows final creative (see _flow).
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
        # The largest cause of the wait before each activity (waiting_causes.diagnose with the sample
        # calendar), in calendar time and in working time. Procurement's delay runs over nights and weekends
        # (unavailability in calendar time); IT's finance codes are what is left once IT's hours are off.
        "waiting_cause": {
            "budget_approval": {"calendar": "batching", "working": "batching"},
            "legal_review": {"calendar": "contention", "working": "contention"},
            "materials_purchasing": {"calendar": "unavailability", "working": "extraneous"},
            "it_setup": {"calendar": "unavailability", "working": "extraneous"},
        },
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


def _it_minutes(w: np.ndarray) -> np.ndarray:
    """Office working minutes → IT working minutes; an instant outside IT hours maps to the next opening
    (or, the same thing on the IT clock, the last closing)."""
    d, m = np.divmod(w, DAY)
    return d * IT_DAY + np.clip(m - IT_OPEN, 0, IT_DAY)


def _office_minutes(x: np.ndarray, is_end: bool) -> np.ndarray:
    """IT working minutes → office working minutes (an end on an IT day boundary is 16:00 of that day)."""
    if is_end:
        d, k = np.divmod(x - 1, IT_DAY)
        k = k + 1
    else:
        d, k = np.divmod(x, IT_DAY)
    return d * DAY + IT_OPEN + k


# --- generation -----------------------------------------------------------------------------------

def staff_copies(n_cases: int) -> int:
    """How many copies of each person a log of `n_cases` cases has (1 up to CASES_PER_COPY cases)."""
    return max(1, -(-n_cases // CASES_PER_COPY))


def _people(copies: int) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """(zh, en) names of everyone, and per department its pool of person numbers and the pool's size.

    Copy k of a person (k ≥ 2) is "<name>-k"; a person in two departments is so in every copy."""
    base = sorted({p for staff in STAFF.values() for p in staff})
    people = [(zh, en) if k == 0 else (f"{zh}-{k + 1}", f"{en}-{k + 1}") for k in range(copies) for zh, en in base]
    pool_len = np.array([len(STAFF[d]) * copies for d in DEPARTMENTS])
    pool = np.zeros((len(DEPARTMENTS), pool_len.max()), dtype=np.int32)
    for i, d in enumerate(DEPARTMENTS):
        pool[i, : pool_len[i]] = [k * len(base) + base.index(p) for k in range(copies) for p in STAFF[d]]
    return people, pool, pool_len


def _lognormal(rng: np.random.Generator, median: np.ndarray, sigma: np.ndarray, lo: np.ndarray | float,
               hi: np.ndarray | float) -> np.ndarray:
    x = median * np.exp(sigma * rng.standard_normal(len(median)))
    return np.rint(np.clip(x, lo, hi)).astype(np.int64)


def _by_type(table: dict, types: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    med = np.array([table[t][0] for t in CAMPAIGN_TYPES], dtype=np.float64)
    sig = np.array([table[t][1] for t in CAMPAIGN_TYPES], dtype=np.float64)
    return med[types], sig[types]


def _grouped_max(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running maximum of `values` restarting at each group (`group` sorted ascending): a running max over
    group * span + value never lets an earlier group reach into a later one."""
    lo = values.min()
    span = int(values.max() - lo) + 1
    shifted = group.astype(np.int64) * span
    return np.maximum.accumulate(shifted + (values - lo)) - shifted + lo


def _one_at_a_time(order: np.ndarray, person: np.ndarray, ready: np.ndarray, effort: np.ndarray,
                   gap: int = 0) -> np.ndarray:
    """Starts when each person works their instances one at a time in `order` (sorted by person first):
    start = max(ready, previous end + gap). Lindley's recursion, unrolled: end_i = S_i + max_{j≤i}(ready_j −
    S_{j−1}) with S the running sum of effort + gap, restarted per person."""
    start = np.empty_like(ready)
    if not len(order):
        return start
    p, r, e = person[order], ready[order], effort[order] + gap
    total = np.cumsum(e)
    group = np.cumsum(np.r_[True, p[1:] != p[:-1]])
    start[order] = total + _grouped_max(group, r - (total - e)) - e
    return start


class _Events:
    """Accumulates events step by step as parallel numpy arrays (one entry per event)."""

    COLUMNS = ("department", "resource", "enabled", "start", "end", "effort_end", *COMPONENTS)

    def __init__(self, n_cases: int) -> None:
        self.seq = np.zeros(n_cases, dtype=np.int32)  # next position within each case
        self.parts: list[tuple[np.ndarray, int, np.ndarray, dict]] = []

    def add(self, cases: np.ndarray, activity: str, columns: dict[str, np.ndarray]) -> None:
        """One event of `activity` for each of `cases`; `columns` as in COLUMNS (components default to 0)."""
        self.parts.append((cases, ACTIVITIES.index(activity), self.seq[cases].copy(), columns))
        self.seq[cases] += 1

    def in_log_order(self) -> dict[str, np.ndarray]:
        """case, activity and COLUMNS per event: cases in id order, a case's events in step order.

        Step order is time order: every step starts at or after the previous one ended.
        """
        counts = self.seq.astype(np.int64)
        offset = np.concatenate(([0], np.cumsum(counts)[:-1]))
        n_events = int(counts.sum())
        out = {"case": np.empty(n_events, dtype=np.int32), "activity": np.empty(n_events, dtype=np.int8),
               "department": np.empty(n_events, dtype=np.int8), "resource": np.empty(n_events, dtype=np.int32),
               # Working minutes stay far below 2^31 (the calendar ends in 2026): half the memory of int64.
               **{c: np.zeros(n_events, dtype=np.int32)
                  for c in ("enabled", "start", "end", "effort_end", *COMPONENTS)}}
        for cases, act, seq, columns in self.parts:
            pos = offset[cases] + seq
            out["case"][pos], out["activity"][pos] = cases, act
            for name, values in columns.items():
                out[name][pos] = values
        return out


class _Simulation:
    """The cases being drawn: their attributes, teams, each case's clock, its events, each person's schedule
    where work is effort (finance's batches, legal's reviews, orders, IT tickets), and the one random generator.

    The draws happen in a fixed order (attributes, teams, then the flow step by step), so a seed always gives
    the same log.
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
        self.people, self.pool, self.pool_len = _people(staff_copies(n_cases))
        # Each case's team: one person per department (index into the department's pool).
        self.team = (rng.random((len(DEPARTMENTS), n_cases)) * self.pool_len[:, None]).astype(np.int64)
        n_approvers = self.pool_len[DEPARTMENTS.index("finance")]
        self.batch_used = np.zeros((n_approvers, len(self.batch_days)), dtype=np.int64)
        self.batch_offset = rng.integers(0, BATCH_START_SPREAD + 1, size=(n_approvers, len(self.batch_days)))
        self.events = _Events(n_cases)
        self.now = self.arrival.copy()  # end of each case's latest event, in working minutes
        self.all_cases = np.arange(n_cases, dtype=np.int32)

    def step(self, cases: np.ndarray, activity: str, extra_wait: np.ndarray | None = None) -> None:
        """Each of `cases` waits, then performs `activity`; its clock moves to the activity's end.
        (Legal review is booked by `_legal`, with its rework loop.)"""
        wait = STEPS[activity]["wait"]
        ready = self.now[cases]
        dept = self._department(cases, activity)
        # Approvals rotate among the approvers (one drawn per approval round); everything else is the team's.
        if activity == "budget_approval":
            slot = self.rng.integers(0, self.pool_len[DEPARTMENTS.index("finance")], size=len(cases))
        else:
            slot = self.team[dept, cases]
        effort = self._processing(cases, activity)
        if wait == "batch":
            start, end, parts = self._batch(ready, slot, effort)
        elif wait in ("delay", "it_hours"):
            schedule = self._orders if wait == "delay" else self._it
            start, end, parts = schedule(self.pool[dept, slot], ready, effort, extra_wait)
        else:
            start, end, parts = self._plain(ready, effort, wait, extra_wait)
        self.record(cases, activity, ready, start, end, parts, slot)

    def record(self, cases: np.ndarray, activity: str, enabled: np.ndarray, start: np.ndarray, end: np.ndarray,
               parts: dict | None = None, slot: np.ndarray | None = None,
               effort_end: np.ndarray | None = None) -> None:
        """Record an event of `activity` scheduled for each of `cases`, done by the person in `slot` of the
        department's pool (default: the case's team), their own work on it ending at `effort_end` (default:
        the end); the case's clock moves to its end."""
        dept = self._department(cases, activity)
        slot = self.team[dept, cases] if slot is None else slot
        self.events.add(cases, activity, {"department": dept, "resource": self.pool[dept, slot],
                                          "enabled": enabled, "start": start, "end": end,
                                          "effort_end": end if effort_end is None else effort_end,
                                          **(parts or {})})
        self.now[cases] = end

    def _department(self, cases: np.ndarray, activity: str) -> np.ndarray:
        """The department doing `activity` for each of `cases` (the case's branch where ACTIVITY_DEPARTMENT
        says None)."""
        department = ACTIVITY_DEPARTMENT[activity]
        return self.region[cases] if department is None else np.full(len(cases), DEPARTMENTS.index(department))

    def _processing(self, cases: np.ndarray, activity: str, table: str = "proc") -> np.ndarray:
        """Processing minutes (working minutes; IT minutes for IT set-up) of `activity` for each of `cases`
        (`table` "open": how long a legal review stays open)."""
        pm, ps = _by_type(STEPS[activity][table], self.ctype[cases])
        pm = pm * self.scope[cases]
        hi = np.minimum(pm * 3, IT_DAY if activity == "it_setup" else MAX_PROC)
        return np.maximum(_lognormal(self.rng, pm, ps, np.minimum(pm / 4, hi), hi), 1)

    def _plain(self, ready: np.ndarray, effort: np.ndarray, wait, extra_wait: np.ndarray | None):
        """A plain (lognormal) delay, then elapsed processing; several instances of a person may overlap."""
        start = ready.copy()
        if wait is not None:
            m, s = wait
            n = len(ready)
            start += _lognormal(self.rng, np.full(n, float(m)), np.full(n, s), 0.0, m * 6.0)
        if extra_wait is not None:
            start += extra_wait
        return start, start + effort, {}

    def _batch(self, ready: np.ndarray, slot: np.ndarray, effort: np.ndarray):
        """Finance's batches: a plan joins the first Tue/Thu batch day whose 09:00 is at or after it is ready,
        or 1–3 later ones (BATCH_SKIP_PROBS); its approver works the day's batch one approval after another
        from the batch start, oldest plan first, after what earlier rounds put there; what does not fit into
        the day moves to the approver's next batch."""
        batch = self.next_batch[-(-ready // DAY)]
        batch = batch + self.rng.choice(len(BATCH_SKIP_PROBS), size=len(ready), p=BATCH_SKIP_PROBS)
        while True:
            if len(ready) and batch.max() >= len(self.batch_days):
                raise ValueError("sample log runs past the hard-coded holiday calendar")
            order = np.lexsort((ready, batch, slot))
            key = slot[order] * len(self.batch_days) + batch[order]
            group = np.cumsum(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
            done = np.cumsum(effort[order]) - effort[order]
            before = done - done[np.searchsorted(key, key)]     # effort of the batch's earlier new approvals
            first = self.batch_days[batch] * DAY + self.batch_offset[slot, batch]
            start = np.empty_like(ready)
            start[order] = first[order] + self.batch_used[slot[order], batch[order]] + before
            late = start + effort > (self.batch_days[batch] + 1) * DAY
            if not late.any():
                break
            # From the first approval that does not fit, the rest of that batch moves on (oldest first still).
            moved = _grouped_max(group, late[order].astype(np.int64)).astype(bool)
            batch[order[moved]] += 1
        np.add.at(self.batch_used, (slot, batch), effort)
        return start, start + effort, {"batch_wait": first - ready, "queue_wait": start - first}

    def _orders(self, person: np.ndarray, ready: np.ndarray, effort: np.ndarray, _extra_wait=None):
        """Procurement: the hand-off delay (nothing is bought until it is over), then the buyer places one
        order at a time, ORDER_GAP minutes apart, in order of the delays' ends."""
        m, s = STEPS["materials_purchasing"]["delay"]
        n = len(ready)
        due = ready + _lognormal(self.rng, np.full(n, float(m)), np.full(n, s), 0.0, m * 6.0)
        order = np.lexsort((np.arange(n), due, person))
        start = _one_at_a_time(order, person, due, effort, ORDER_GAP)
        return start, start + effort, {"external_delay": due - ready, "queue_wait": start - due}

    def _it(self, person: np.ndarray, ready: np.ndarray, effort: np.ndarray, extra_wait: np.ndarray | None):
        """IT: finance codes (extra_wait, office minutes), then the IT person's next IT-hours instant; one
        ticket at a time, ORDER_GAP IT minutes apart, started only when it can be finished the same IT day."""
        due = ready + (0 if extra_wait is None else extra_wait)
        nominal = _it_minutes(due)
        order = np.lexsort((np.arange(len(ready)), nominal, person))
        for _ in range(10_000):  # raising a due time only pushes later ones: converges to the sequential rule
            start = _one_at_a_time(order, person, nominal, effort, ORDER_GAP)
            fits = start % IT_DAY + effort <= IT_DAY
            if fits.all():
                break
            nominal = np.where(fits, nominal, (start // IT_DAY + 1) * IT_DAY)
        else:
            raise RuntimeError("IT schedule did not settle")
        office_start = _office_minutes(start, is_end=False)
        # Office minutes of the wait outside IT hours (IT is never at work then) vs IT minutes of it.
        shift = (office_start - ready) - (start - _it_minutes(ready))
        parts = {"external_delay": _it_minutes(due) - _it_minutes(ready),
                 "it_hours_shift": shift, "queue_wait": start - _it_minutes(due)}
        return office_start, _office_minutes(start + effort, is_end=True), parts

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


def _legal(sim: _Simulation, cases: np.ndarray) -> None:
    """Legal review and its rework loop ({final creative → legal review} ×0–2) as one queue per reviewer.

    Each reviewer works one review at a time, in the order the drafts become ready (first reviews and
    reworked drafts alike), so the wait before a review is its queue only. A review is the reviewer's effort
    and then stays open until the sign-off comes back (STEPS' "open"; a pilot's outside counsel takes days to
    weeks); meanwhile the reviewer works the queue. A reworked draft is ready after the review closes. The
    rework draws (who reworks, how long the redone final creative waits and takes, every review's effort and
    open time) come first; then one pass in order of readiness books every review."""
    rounds = [cases]
    looping = sim.chance(cases, LEGAL_REWORK_PROB)
    while len(looping) and len(rounds) <= MAX_LEGAL_REWORKS:
        rounds.append(looping)
        looping = sim.chance(looping, LEGAL_REWORK_PROB)
    legal, n_all = DEPARTMENTS.index("legal"), len(sim.now)

    def per_case(members: np.ndarray, values: np.ndarray) -> np.ndarray:
        out = np.zeros(n_all, dtype=np.int64)
        out[members] = values
        return out

    effort = [per_case(r, sim._processing(r, "legal_review")) for r in rounds]
    span = [np.maximum(e, per_case(r, sim._processing(r, "legal_review", "open"))) for r, e in zip(rounds, effort,
                                                                                                strict=True)]
    redo = [None] + [sim._plain(np.zeros(len(r), dtype=np.int64), sim._processing(r, "final_creative"),
                                STEPS["final_creative"]["wait"], None)[:2] for r in rounds[1:]]
    takes = [per_case(r, 1).astype(bool).tolist() for r in rounds]
    ready = [sim.now.tolist()] + [[0] * n_all for _ in rounds[1:]]
    start = _legal_queue(sim.pool[legal, sim.team[legal]].tolist(), len(sim.people), rounds[0], ready,
                         [(e.tolist(), d.tolist()) for e, d in zip(effort, span, strict=True)],
                         [None] + [per_case(r, d[1]).tolist() for r, d in zip(rounds[1:], redo[1:], strict=True)],
                         takes)
    for k, r in enumerate(rounds):
        begin, ready_k = np.array(start[k], dtype=np.int64)[r], np.array(ready[k], dtype=np.int64)[r]
        if k:  # the redone final creative: from the previous review's end to this review's readiness
            enabled = (np.array(start[k - 1], dtype=np.int64) + span[k - 1])[r]
            sim.record(r, "final_creative", enabled, enabled + redo[k][0], ready_k)
        sim.record(r, "legal_review", ready_k, begin, begin + span[k][r], {"queue_wait": begin - ready_k},
                   effort_end=begin + effort[k][r])


def _legal_queue(person: list[int], n_people: int, first: np.ndarray, ready: list[list[int]],
                 effort: list[tuple[list[int], list[int]]], redo: list, takes: list[list[bool]]) -> list[list[int]]:
    """Book legal's reviews in order of readiness (ties: round, then case): start = max(ready, the end of the
    reviewer's last effort). Per round k, lists indexed by case: ready (round 0 given; later rounds are filled
    in as the previous review closes: its start + its open span + the redone final creative, `redo`),
    (effort, open span), takes (the case reworks)."""
    order = first[np.lexsort((first, np.array(ready[0])[first]))].tolist()
    start = [[0] * len(ready[0]) for _ in ready]
    free = [0] * n_people
    pending: list[tuple[int, int, int]] = []   # reworked drafts, (ready, round, case)
    i = 0
    while i < len(order) or pending:
        if pending and (i == len(order) or pending[0] < (ready[0][order[i]], 0, order[i])):
            t, k, case = heapq.heappop(pending)
        else:
            case, k = order[i], 0
            t = ready[0][case]
            i += 1
        p = person[case]
        begin = start[k][case] = t if t > free[p] else free[p]
        free[p] = begin + effort[k][0][case]
        if k + 1 < len(ready) and takes[k + 1][case]:
            ready[k + 1][case] = begin + effort[k][1][case] + redo[k + 1][case]
            heapq.heappush(pending, (ready[k + 1][case], k + 1, case))
    return start


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
    for activity in ("creative_design", "final_creative"):
        sim.step(everyone, activity)
    _legal(sim, everyone)
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


def _simulate(n_cases: int, seed: int) -> dict[str, np.ndarray]:
    """Draw cases and events; returns numpy arrays of case attributes and of events in log order."""
    sim = _Simulation(n_cases, seed)
    _flow(sim)
    return {"days": sim.days, "ctype": sim.ctype, "region": sim.region, "arrival": sim.arrival,
            "budget": sim.budget, "planned_day": sim.planned_day, "people": np.array(sim.people, dtype=object),
            **sim.events.in_log_order()}


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


def injected_waits(n_cases: int = 3000, seed: int = 7) -> pd.DataFrame:
    """The injected parts of every event's wait, from the generator's own draws (SAMPLE_TRUTH.md, "Why it waits").

    One row per event in log order: case_id, activity (code), activity_zh, department (code), resource (zh),
    start and end (the log's timestamps), enabled_ws / start_ws / end_ws / effort_end_ws (working seconds on
    the office calendar since FIRST_DAY 09:00; enabled = the previous event's end, the start for a case's
    first event; effort_end = when the person's own work on it ended: the end, except for a legal review held
    open after the reviewer's effort),
    wait_seconds (start − enabled, working seconds), the COMPONENTS in working seconds, and other_wait (the
    rest: the plain delays of STEPS). The parts add up to wait_seconds."""
    sim = _simulate(n_cases, seed)
    ws = {c: sim[c].astype(np.int64) * 60 for c in ("enabled", "start", "end", "effort_end", *COMPONENTS)}
    case_ids = _case_ids(sim["arrival"], sim["days"])
    frame = pd.DataFrame({
        "case_id": case_ids[sim["case"]],
        "activity": np.array(ACTIVITIES, dtype=object)[sim["activity"]],
        "activity_zh": np.array([ACTIVITY_NAMES["zh"][a] for a in ACTIVITIES], dtype=object)[sim["activity"]],
        "department": np.array(DEPARTMENTS, dtype=object)[sim["department"]],
        "resource": np.array([p[0] for p in sim["people"]], dtype=object)[sim["resource"]],
        "start": _minutes_to_datetime(sim["days"], sim["start"], is_end=False),
        "end": _minutes_to_datetime(sim["days"], sim["end"], is_end=True),
        "enabled_ws": ws["enabled"], "start_ws": ws["start"], "end_ws": ws["end"], "effort_end_ws": ws["effort_end"],
        "wait_seconds": ws["start"] - ws["enabled"],
        **{c: ws[c] for c in COMPONENTS},
    })
    frame["other_wait"] = frame["wait_seconds"] - frame[list(COMPONENTS)].sum(axis=1)
    return frame
