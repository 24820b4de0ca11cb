"""Texts of the "why it waits" views (merged into analysis.texts.TEXTS; same shape, en and zh)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
}
