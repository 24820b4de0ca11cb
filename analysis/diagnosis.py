"""Findings in plain words, generated from the numbers of the Bottlenecks and Hand-offs pages, in either language.

Each function takes the tables the pages already computed (the fields of bottlenecks.Bottlenecks and
handoffs.Handoffs) and returns short sentences, most important first; a sentence is only said when its
numbers carry it (no "finding" about 2 % of the waiting). Durations are worded by analysis.formatting.
"""

from __future__ import annotations

import pandas as pd

from analysis.bottlenecks import pareto
from analysis.formatting import MISSING, duration
from analysis.texts import t


def bottleneck_findings(activities: pd.DataFrame, lang: str, has_start: bool, working: bool = False) -> list[str]:
    """The steps holding most of the waiting, and where processing rather than waiting dominates."""
    if activities.empty or not activities["total_wait_seconds"].sum():
        return [t("dx.no_waiting", lang)]
    said = []
    for row in activities.head(3).itertuples():
        if (row.share_of_waiting or 0) < 0.1 and said:
            break
        said.append(t("dx.holds_waiting", lang, activity=row.activity, department=row.department or MISSING,
                      share=row.share_of_waiting, median=duration(row.median_wait_seconds, lang),
                      p90=duration(row.p90_wait_seconds, lang)))
    n, share = pareto(activities)
    if n < len(activities):
        said.append(t("dx.pareto", lang, n=n, share=share, total=len(activities)))
    if has_start and activities["total_processing_seconds"].notna().any():
        slow = activities.sort_values("median_processing_seconds", ascending=False).iloc[0]
        said.append(t("dx.slowest_work", lang, activity=slow["activity"],
                      median=duration(slow["median_processing_seconds"], lang),
                      p90=duration(slow["p90_processing_seconds"], lang)))
    elif not has_start:
        said.append(t("dx.no_start", lang))
    if working:
        said.append(t("dx.working_time", lang))
    return said


def handoff_findings(matrix: pd.DataFrame, pings: pd.DataFrame, cost: dict, front: pd.DataFrame | None,
                     wait_share: float | None, lang: str) -> list[str]:
    """The slowest busy hand-off, the worst ping-pong, the cost of one more hand-off, whom the front line waits on."""
    said = []
    if matrix.empty:
        return [t("dx.no_handoffs", lang)]
    busy = matrix[matrix["count"] >= max(5, matrix["count"].max() * 0.05)]
    if busy.empty:  # a small log: no pair is busy, so every pair counts
        busy = matrix
    worst = busy.sort_values("total_wait_seconds", ascending=False).iloc[0]
    said.append(t("dx.slow_handoff", lang, a=worst["from"], b=worst["to"], count=int(worst["count"]),
                  median=duration(worst["median_wait_seconds"], lang),
                  p90=duration(worst["p90_wait_seconds"], lang)))
    if wait_share:
        said.append(t("dx.handoff_share", lang, share=wait_share))
    if not pings.empty:
        top = pings.iloc[0]
        said.append(t("dx.pingpong", lang, a=top["pair_a"], b=top["pair_b"], cases=int(top["cases"]),
                      extra=duration(top["extra_cycle_seconds"], lang)))
    slope = cost.get("seconds_per_handoff")
    if slope is not None and slope == slope and cost.get("low") == cost.get("low"):
        said.append(t("dx.cost", lang, d=duration(slope, lang), low=duration(cost["low"], lang),
                      high=duration(cost["high"], lang)))
    if front is not None and not front.empty:
        top = front.iloc[0]
        said.append(t("dx.front", lang, department=top["department"], share=top["share_of_front_line_wait"],
                      median=duration(top["median_held_seconds"], lang)))
    return said
