"""What a page knows about the user's session: language and texts, the active log and filter, viewer mode,
and `page_header`, the few lines every page starts with.

Nothing here reads the store: the store is reached through `pages.cache` only.
"""

from __future__ import annotations

import os

import streamlit as st

from analysis import formatting
from analysis.errors import error_text
from analysis.filters import ALL, CaseFilter
from analysis.texts import t

MESSAGE = "page_message"  # session key of a message for the next page shown (see pass_message)


def require_shell() -> None:
    """Rerun through app.py when a page was started on its own (see pages/__init__.py)."""
    if not st.session_state.get("shell"):
        st.rerun()


def viewer_mode() -> bool:
    """True when the app is shared read-only (PROCDIAG_VIEWER=1): no import, delete or edit controls."""
    return os.environ.get("PROCDIAG_VIEWER", "").strip().lower() in ("1", "true", "yes", "on")


def lang() -> str:
    """The chosen language, 'zh' or 'en' (Chinese first: most users read it)."""
    return st.session_state.get("lang", "zh")


def tr(key: str, **values) -> str:
    """A text from the catalogue in the chosen language."""
    return t(key, lang(), **values)


def err(exc: BaseException) -> str:
    """An error's text in the chosen language (the library's UserErrors exist in both)."""
    return error_text(exc, lang())


def durations(seconds):
    """A column of seconds (a pandas Series) as durations in the chosen language (formatting.duration)."""
    chosen = lang()
    return seconds.map(lambda value: formatting.duration(value, chosen))


def active_log() -> int | None:
    """The log chosen in the sidebar (None when the store is empty)."""
    return st.session_state.get("active_log")


def active_filter() -> CaseFilter:
    """The global filter built in the sidebar; every page reads it from here."""
    return st.session_state.get("case_filter", ALL)


def pass_message(text: str) -> None:
    """Show `text` as a success message under the title of the next page run (e.g. after st.switch_page)."""
    st.session_state[MESSAGE] = text


def page_title(title_key: str, intro_key: str | None = None) -> None:
    """The start of a page that needs no log: run inside app.py, the title, a passed message, the intro."""
    require_shell()
    st.title(tr(title_key))
    if message := st.session_state.pop(MESSAGE, None):
        st.success(message)  # e.g. the Import page sent the user to this one
    if intro_key:
        st.caption(tr(intro_key))


def page_header(title_key: str, intro_key: str | None = None) -> tuple[int, CaseFilter]:
    """The start of every diagnosis page: its title, then the active log and filter (stops without a log)."""
    page_title(title_key)
    log_id = active_log()
    if log_id is None:
        st.info(tr("side.no_logs"))
        st.stop()
    if intro_key:
        st.caption(tr(intro_key))
    return log_id, active_filter()
