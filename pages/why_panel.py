"""The "why it waits" section shared by the Bottlenecks and Hand-offs pages: the waits split into causes
(waiting_causes.diagnose) as a stacked bar per step or pair, and the breakdown of the step clicked (or
picked) with its remedy. In calendar time duty hours come from each person's own working times in the log;
with a working-time calendar the parts are its on-duty seconds (they add up to the page's working-time wait).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import charts, exports, waiting_words
from analysis.errors import UserError
from analysis.waiting_causes import CAUSES, WaitingCauses
from analysis.working_time import WorkCalendar
from pages import cache
from pages.state import durations, err, lang, tr


def diagnosis(log_id: int, flt, calendar: WorkCalendar | None, by: str, unit: str | None = None
              ) -> WaitingCauses | str:
    """The split grouped `by` (hand-offs between `unit`s: departments or people, default the log's), or the
    message saying why the log cannot tell (no start times or no resources)."""
    try:
        return cache.waiting_cause_diagnosis(log_id, flt, calendar, by, unit)
    except UserError as exc:
        return err(exc)


def _picked(found: WaitingCauses, event, key: str) -> None:
    """A bar clicked on the chart becomes the picked key (once per click: the chart keeps its selection)."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    names = {charts.label(k): k for k in found.rows["key"]}
    clicked = next((names[p["y"]] for p in points if p.get("y") in names), None)
    if clicked is not None and st.session_state.get(f"{key}_clicked") != clicked:
        st.session_state[f"{key}_clicked"] = clicked
        st.session_state[f"{key}_pick"] = clicked


def _breakdown(row: pd.Series, working: bool) -> pd.DataFrame:
    """One line per cause of the picked key: time, share of its wait, median per delayed event, remedy."""
    suffix = "_working_seconds" if working else "_seconds"
    seconds = pd.Series([row[f"{c}{suffix}"] for c in CAUSES], dtype="float64")
    total = seconds.sum()
    medians = pd.Series([float("nan") if working else row[f"median_{c}_seconds"] for c in CAUSES], dtype="float64")
    return pd.DataFrame({
        tr("why.col_cause"): [charts.cause_label(c, lang()) for c in CAUSES],
        tr("why.col_time"): durations(seconds),
        tr("why.col_share"): (seconds / total * 100) if total else 0.0,
        tr("why.col_median"): durations(medians),
        tr("why.col_remedy"): [waiting_words.remedy(c, lang()) for c in CAUSES],
    })


def show(log_id: int, flt, calendar: WorkCalendar | None, key: str, choices: tuple[str, ...],
         unit: str | None = None) -> None:
    """Draw the section (widget keys start with `key`): group by one of `choices` (the first is the default;
    hand-offs between `unit`s), the stacked bars, the breakdown of the key clicked or picked, the CSV; or the
    message why there is none."""
    st.subheader(tr("why.section"))
    by = choices[0]
    if len(choices) > 1:
        by = st.radio(tr("why.by"), choices, format_func=lambda b: tr(f"why.by_{b}"), horizontal=True,
                      key=f"{key}_by")
    found = diagnosis(log_id, flt, calendar, by, unit)
    if isinstance(found, str):
        st.info(found)
        return
    working = calendar is not None
    st.caption(tr("why.basis_working" if working else "why.basis_calendar"))
    rows = found.rows[found.rows["wait_seconds"] > 0]
    if rows.empty:
        st.caption(tr("why.none"))
        return
    title = (f"why.chart_title_handoff_{unit}" if by == "handoff" and unit else
             "why.chart_title_handoff" if by == "handoff" else f"why.chart_title_{by}")
    event = st.plotly_chart(charts.waiting_causes(rows, lang(), working, title_key=title), key=f"{key}_chart",
                            on_select="rerun", selection_mode="points")
    _picked(found, event, key)
    keys = rows["key"].tolist()
    if st.session_state.get(f"{key}_pick") not in keys:
        st.session_state.pop(f"{key}_pick", None)
    pick = st.selectbox(tr("why.pick"), keys, key=f"{key}_pick", help=tr("why.pick_help"))
    row = rows[rows["key"] == pick].iloc[0]
    st.markdown(waiting_words.cause_sentence(row, lang(), pick, working=working) or tr("why.no_dominant"))
    st.dataframe(_breakdown(row, working), hide_index=True, key=f"{key}_table", column_config={
        tr("why.col_share"): st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100)})
    st.download_button(tr("why.download"), exports.to_csv(found.rows), file_name=f"why_{found.by}{'_' + unit if unit else ''}.csv",
                       mime="text/csv", key=f"{key}_csv")
