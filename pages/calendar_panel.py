"""The working-time option shared by the Bottlenecks and Hand-offs pages: calendar or working time, office
hours, working days, holidays, and per-department hours. Returns a WorkCalendar, or None for calendar time."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analysis.working_time import WorkCalendar, expand_ranges, sample_calendar
from pages import cache
from pages.state import err, tr

WEEKDAYS = (0, 1, 2, 3, 4, 5, 6)


def _holidays(text: str) -> tuple[tuple[str, ...], list[str]]:
    """Holidays typed one per line (or comma-separated), 'YYYY-MM-DD' or 'YYYY-MM-DD..YYYY-MM-DD'.
    Returns the dates and the entries that are not dates (shown to the user, never dropped silently)."""
    days, bad = [], []
    for entry in text.replace(",", "\n").replace("，", "\n").splitlines():
        entry = entry.strip()
        if not entry:
            continue
        first, _, last = entry.partition("..")
        try:
            days += expand_ranges([(first.strip(), (last or first).strip())])
        except ValueError:
            bad.append(entry)
    return tuple(sorted(set(days))), bad


def _default_holidays(log_id: int) -> str:
    """The sample log's holidays (the calendar it was generated with); nothing for other logs."""
    return "\n".join(sample_calendar().holidays) if cache.sample_log_id() == log_id else ""


def controls(log_id: int, key: str) -> WorkCalendar | None:
    """Draw the working-time option (widget keys start with `key`) and return the calendar chosen."""
    box = st.expander(tr("wt.title"))
    mode = box.radio(tr("wt.mode"), ["calendar", "working"], format_func=lambda m: tr(f"wt.{m}"), horizontal=True,
                     key=f"{key}_mode")
    if mode == "calendar":
        return None
    left, mid, right = box.columns(3)
    days = left.multiselect(tr("wt.days"), WEEKDAYS, default=[0, 1, 2, 3, 4], format_func=lambda d: tr(f"wt.day{d}"),
                            key=f"{key}_days")
    start = mid.time_input(tr("wt.start"), dt.time(9, 0), key=f"{key}_start", step=1800)
    end = right.time_input(tr("wt.end"), dt.time(18, 0), key=f"{key}_end", step=1800)
    text = box.text_area(tr("wt.holidays"), _default_holidays(log_id), key=f"{key}_holidays", height=100,
                         help=tr("wt.holidays_help"))
    holidays, bad = _holidays(text)
    if bad:
        box.warning(tr("wt.bad_holidays", entries=", ".join(bad[:5])))
    departments = cache.filter_choices(log_id)["departments"]
    overrides: list[tuple[str, WorkCalendar]] = []
    if departments:
        box.caption(tr("wt.per_department"))
        edited = box.data_editor(
            pd.DataFrame({"department": pd.Series(dtype=str), "start": pd.Series(dtype=str),
                          "end": pd.Series(dtype=str), "weekends": pd.Series(dtype=bool)}),
            num_rows="dynamic", key=f"{key}_depts", hide_index=True,
            column_config={"department": st.column_config.SelectboxColumn(tr("wt.col_department"), options=departments),
                           "start": st.column_config.TextColumn(tr("wt.start"), help="HH:MM"),
                           "end": st.column_config.TextColumn(tr("wt.end"), help="HH:MM"),
                           "weekends": st.column_config.CheckboxColumn(tr("wt.weekends"))})
        for row in edited.dropna(subset=["department"]).itertuples():
            try:
                overrides.append((row.department, WorkCalendar(
                    workdays=WEEKDAYS if row.weekends else tuple(sorted(days)) or (0,),
                    day_start=row.start or start.strftime("%H:%M"), day_end=row.end or end.strftime("%H:%M"),
                    holidays=holidays)))
            except ValueError as exc:
                box.warning(tr("wt.bad_department", department=row.department, detail=err(exc)))
    try:
        return WorkCalendar(workdays=tuple(sorted(days)), day_start=start.strftime("%H:%M"),
                            day_end=end.strftime("%H:%M"), holidays=holidays, departments=tuple(sorted(overrides)))
    except ValueError as exc:
        box.error(tr("wt.bad_calendar", detail=err(exc)))
        return None
