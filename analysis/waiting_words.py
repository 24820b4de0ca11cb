"""Why it waits, in words: a row of waiting_causes.diagnose (or a finding's figures) as shares, its dominant
cause and the remedy class for it, in either language — the one home the pages, the report and the
knowledge base share.

A "row" is anything holding the figures under diagnose's column names: a DataFrame row (pd.Series), an
`itertuples` tuple or a dict (a saved finding's figures). In calendar time the parts are `<cause>_seconds`
over `wait_seconds`; in working time (`working=True`) they are `<cause>_working_seconds` over
`working_wait_seconds` (unavailability is 0 there by definition). The dominant cause is the part holding the
most seconds (ties: the first in waiting_causes.CAUSES); a row without waiting has none.
"""

from __future__ import annotations

import math

from analysis.formatting import is_missing
from analysis.texts import t
from analysis.waiting_causes import CAUSES

# The text keys of the UserError waiting_causes.check_columns raises when a log cannot tell why cases wait.
WHY_CANNOT_TELL = ("err.why_no_start", "err.why_no_resource", "err.why_no_start_resource")


def _get(row, name: str):
    """A figure of a row given as a mapping (dict, pd.Series) or a named tuple; None when absent."""
    value = row.get(name) if hasattr(row, "get") else getattr(row, name, None)
    return None if is_missing(value) else value


def parts(row, working: bool = False) -> dict[str, float]:
    """The seconds of each cause (0 for a missing figure), in CAUSES order."""
    suffix = "_working_seconds" if working else "_seconds"
    return {c: float(_get(row, f"{c}{suffix}") or 0.0) for c in CAUSES}


def shares(row, working: bool = False) -> dict[str, float] | None:
    """Each cause's share of the wait (0–1, adding up to 1); None when there is no wait to split.

    Read from the parts' seconds; a row holding only `share_<cause>` figures (calendar time) is read as is."""
    seconds = parts(row, working)
    total = sum(seconds.values())
    if total > 0:
        return {c: s / total for c, s in seconds.items()}
    given = {c: _get(row, f"share_{c}") for c in CAUSES}
    if working or any(v is None for v in given.values()) or not sum(given.values()):
        return None
    return {c: float(v) for c, v in given.items()}


def dominant_cause(row, working: bool = False) -> str | None:
    """The cause holding the largest part of the wait (a key of CAUSES), or None when nothing waits."""
    split = shares(row, working)
    if split is None:
        return None
    best = max(CAUSES, key=lambda c: split[c])  # max keeps the first of equal shares: CAUSES order
    return best if split[best] > 0 else None


def percents(row, working: bool = False) -> dict[str, int] | None:
    """The shares as whole percentages that add up to exactly 100 (largest remainder), or None."""
    split = shares(row, working)
    if split is None:
        return None
    raw = {c: split[c] * 100 for c in CAUSES}
    whole = {c: math.floor(v) for c, v in raw.items()}
    # Hand the missing points to the largest remainders (ties: CAUSES order), so a table row reads 100 %.
    for c in sorted(CAUSES, key=lambda c: -(raw[c] - whole[c]))[:100 - sum(whole.values())]:
        whole[c] += 1
    return whole


def cause_name(cause: str, lang: str) -> str:
    """A cause's short name ('batching', '批处理')."""
    return t(f"why.cause_{cause}", lang)


def remedy(cause: str, lang: str) -> str:
    """The remedy class of a cause in plain words ('add capacity or rebalance work across people')."""
    return t(f"why.remedy_{cause}", lang)


def cause_sentence(row, lang: str, subject: str, working: bool = False) -> str:
    """'**72%** of the wait at **Budget approval** is **batching** → work the queue daily …' ("" when the row
    has no wait to split). `subject` names the step or pair; the share is percents()' whole number."""
    cause = dominant_cause(row, working)
    if cause is None:
        return ""
    key = "why.sentence_working" if working else "why.sentence"
    return t(key, lang, share=f"{percents(row, working)[cause]}%", subject=subject, cause=cause_name(cause, lang),
             remedy=remedy(cause, lang))


def findings(rows, lang: str, working: bool = False, top: int = 3) -> list[str]:
    """The cause sentences of the first `top` rows of diagnose's rows (most waiting first) that have a wait."""
    said = []
    for _, row in rows.iterrows():
        if len(said) >= top:
            break
        sentence = cause_sentence(row, lang, str(row["key"]), working)
        if sentence:
            said.append(sentence)
    return said
