"""Values as a reader sees them, in either language: durations, counts, shares. The one home of units.

Pages, findings in words, the knowledge base and the report format through these functions; exports and
`--json` keep raw seconds. A missing value (None or NaN) is shown as "–".
"""

from __future__ import annotations

import math

from analysis.texts import t

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
MISSING = "–"


def is_missing(value) -> bool:
    """True for None and NaN (what SQL NULLs become in a frame)."""
    if value is None:
        return True
    try:
        return math.isnan(value)
    except TypeError:
        return False


def duration(seconds: float | None, lang: str) -> str:
    """A duration in the unit a manager reads: minutes under 2 h, hours under 2 days, else days."""
    if is_missing(seconds):
        return MISSING
    if abs(seconds) < 2 * HOUR:
        return t("unit.minutes", lang, v=seconds / MINUTE)
    if abs(seconds) < 2 * DAY:
        return t("unit.hours", lang, v=seconds / HOUR)
    return t("unit.days", lang, v=seconds / DAY)


def signed_duration(seconds: float | None, lang: str) -> str:
    """A duration with a real minus sign when negative (a change, a difference)."""
    if is_missing(seconds):
        return MISSING
    text = duration(abs(seconds), lang)
    return "−" + text if seconds < 0 else text


def days(seconds):
    """Seconds → days (a number or a pandas column), for chart axes in days."""
    return seconds / DAY


def number(value, digits: int = 1) -> str:
    """A number for a table cell: whole numbers with thousands separators, others with `digits` decimals."""
    if is_missing(value):
        return MISSING
    return f"{value:,}" if isinstance(value, int) else f"{float(value):,.{digits}f}"


def share(value, digits: int = 1) -> str:
    """A share (0–1) as a percentage."""
    if is_missing(value):
        return MISSING
    return f"{value:.{digits}%}"
