"""Texts of the hostile-inputs checks (issue 19): same shape as analysis/texts.py's TEXTS, merged into it."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
}
