"""Saved findings in words, in either language: what a finding is about, its kind, its figures and a title.

`subject` names the activity, pair or scenario; `kind_label` and `figure_label` name a kind and a figure;
`format_figure` shows a figure's value in its unit (built on analysis.formatting); `suggest_title` proposes a
one-sentence title in the style of the page's findings, from the evidence's figures (for a waiting cause:
analysis.waiting_words' cause sentence, the dominant cause and its remedy).
"""

from __future__ import annotations

import json

from analysis import compare, waiting_words
from analysis.findings_recompute import Evidence
from analysis.formatting import MISSING, is_missing, number, share, signed_duration
from analysis.texts import t


def subject(evidence: Evidence) -> str:
    """What the evidence is about, in a few words: an activity, 'A → B', 'A ↔ B', a scenario's name."""
    p = evidence.params
    if evidence.kind in ("bottleneck", "waiting_cause"):
        return p["activity"]
    if evidence.kind == "handoff":
        return f"{p['from']} → {p['to']}"
    if evidence.kind == "pingpong":
        return " ↔ ".join(p["pair"])
    if evidence.kind == "redesign":
        return json.loads(p.get("scenario") or "{}").get("name", "")
    if evidence.kind == "compare":
        return compare.subject(p)
    return ""


def kind_label(kind: str, lang: str) -> str:
    """The kind's name for a reader."""
    return t(f"kb.kind_{kind}", lang)


def format_figure(name: str, value, lang: str) -> str:
    """A figure as a reader wants it: durations in minutes/hours/days, shares in %, counts with separators."""
    if is_missing(value):
        return MISSING
    if name == "dominant_cause":
        return waiting_words.cause_name(value, lang)
    if isinstance(value, str):
        return value
    if name.endswith("_seconds"):
        return signed_duration(value, lang)
    if name.startswith("share"):
        return share(value)
    if name == "rank":
        return f"#{int(value)}"
    if isinstance(value, float) and not value.is_integer():
        return number(value, 2)
    return number(int(value))


def figure_label(name: str, lang: str) -> str:
    """A figure's name for a reader."""
    return t(f"kb.fig_{name}", lang)


def suggest_title(evidence: Evidence, lang: str) -> str:
    """A one-sentence title in the style of the page's findings, from the evidence's figures."""
    g, p = evidence.figures, evidence.params

    def d(name: str) -> str:
        """A figure of the evidence, formatted."""
        return format_figure(name, g.get(name), lang)
    if evidence.kind == "bottleneck":
        return t("kb.title_bottleneck", lang, activity=p["activity"], department=p.get("department") or MISSING,
                 share=d("share_of_waiting"), median=d("median_wait_seconds"))
    if evidence.kind == "waiting_cause":
        # The figures are already in the evidence's basis (working time with a calendar): read them as given.
        said = waiting_words.cause_sentence(g, lang, p["activity"]).replace("**", "")
        return said or t("why.nothing_to_split", lang, subject=p["activity"])
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
