"""From a waiting cause to a redesign scenario: the presets the Redesign page offers (batching removed, extra
capacity, extended hours) as `reduce_wait_cause` operations, and the steps to offer with their cause shares.

A preset names the waiting causes (waiting_causes.CAUSES) its remedy removes. "Extra capacity" removes the
queue behind busy people (contention and prioritisation) without a capacity model: the queue is assumed not
to form anywhere else, so its saving is an upper bound. Rows are waiting_causes.diagnose's rows by activity,
in calendar time (the replay's time): `<cause>_seconds` over `wait_seconds`.
"""

from __future__ import annotations

import pandas as pd

from analysis import waiting_words
from analysis.redesign import CAUSE_OP
from analysis.texts import t

PRESETS: dict[str, tuple[str, ...]] = {
    "batching": ("batching",),                     # e.g. approve daily instead of collecting a batch
    "capacity": ("contention", "prioritization"),  # more people: no queue behind busy ones
    "hours": ("unavailability",),                  # hours that cover the hand-over
}


def preset_operation(activity: str, preset: str, share: float = 1.0) -> dict:
    """The reduce_wait_cause operation of a preset at one activity (share of the causes' waiting, 0–1)."""
    return {"op": CAUSE_OP, "activities": [activity], "causes": list(PRESETS[preset]), "share": float(share)}


def preset_share(row, preset: str) -> float:
    """The share of the row's wait (0–1) the preset's causes hold (0 without a wait)."""
    seconds = waiting_words.parts(row)
    total = sum(seconds.values())
    return sum(seconds[c] for c in PRESETS[preset]) / total if total > 0 else 0.0


def presets_present(row) -> list[str]:
    """The presets whose causes hold some of the row's wait, in PRESETS order."""
    return [p for p in PRESETS if preset_share(row, p) > 0]


def waiting_steps(rows: pd.DataFrame) -> pd.DataFrame:
    """diagnose's rows that have a wait to remove, most waiting first."""
    waiting = rows[rows["wait_seconds"] > 0]
    return waiting.sort_values("wait_seconds", ascending=False, kind="stable").reset_index(drop=True)


def step_label(row, lang: str, top: int = 2) -> str:
    """'Budget approval — 81% batching, 12% extraneous': the step and its `top` largest causes' shares."""
    percents = waiting_words.percents(row) or {}
    largest = sorted((c for c in percents if percents[c] > 0), key=lambda c: -percents[c])[:top]
    causes = ", ".join(t("rd.why_cause_share", lang, share=f"{percents[c]}%",
                         cause=waiting_words.cause_name(c, lang)) for c in largest)
    return t("rd.why_label", lang, activity=str(row["key"]), causes=causes)


def scenario_name(activity: str, preset: str, lang: str) -> str:
    """A new scenario's name: 'Budget approval: Batching removed (e.g. approve daily)'."""
    return t("rd.why_name", lang, activity=activity, preset=t(f"rd.why_preset_{preset}", lang))
