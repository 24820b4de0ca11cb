"""Variants & cases: which paths cases take, how long each takes, and one case's timeline with its waits."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import charts
from analysis.formatting import days, duration
from pages import cache, filter_panel
from pages.state import lang, page_header, tr

log_id, flt = page_header("va.title")
table = cache.variant_table(log_id, flt)
if table.empty:
    st.warning(tr("ov.empty"))
    st.stop()

# How concentrated the behaviour is: a manager reads "the top 5 paths cover 62% of cases".
top_n = min(5, len(table))
st.markdown(tr("va.headline", variants=len(table), n=top_n, share=table["cumulative_share"].iloc[top_n - 1]))

shown = pd.DataFrame({
    "#": table["rank"],
    tr("va.col_cases"): table["cases"],
    tr("va.col_share"): table["share"] * 100,
    tr("va.col_cum"): table["cumulative_share"] * 100,
    tr("va.col_median"): days(table["median_seconds"]),
    tr("va.col_p90"): days(table["p90_seconds"]),
    tr("va.col_steps"): table["steps"],
    tr("va.col_depts"): table["departments"].map(len),
    tr("va.col_path"): table["activities"].map(lambda a: " → ".join(a)),
})
percent = st.column_config.ProgressColumn(format="%.1f%%", min_value=0, max_value=100)
in_days = st.column_config.NumberColumn(format="%.1f")
picked = st.dataframe(
    shown, hide_index=True, key="va_table", on_select="rerun", selection_mode="multi-row",
    column_config={tr("va.col_share"): percent, tr("va.col_cum"): percent,
                   tr("va.col_median"): in_days, tr("va.col_p90"): in_days},
)
# A selection can outlive the table it was made on (the filter changed): ignore rows that are gone.
rows = [i for i in (picked.selection.rows if picked else []) if i < len(table)]
chosen = [int(table["variant_id"].iloc[i]) for i in rows]
left, right = st.columns([1, 3])
if left.button(tr("va.apply", n=len(chosen)), key="va_apply", disabled=not chosen, type="primary"):
    filter_panel.choose_variants(log_id, chosen)
    st.rerun()
right.caption(tr("va.apply_help"))

st.plotly_chart(charts.variant_chart(table, lang()), key="va_chart")

st.header(tr("va.cases"))
search = st.text_input(tr("va.search"), key="va_search", placeholder=tr("va.search_hint"))
found = cache.case_list(log_id, flt, search)
if found.empty:
    st.info(tr("va.no_match"))
    st.stop()
st.caption(tr("va.listed", n=len(found)))
listing = pd.DataFrame({
    tr("col.case"): found["case_id"], tr("col.start"): found["start_ts"], tr("col.end"): found["end_ts"],
    tr("col.cycle_days"): days(found["cycle_seconds"]).round(1), tr("col.events"): found["n_events"],
    tr("va.col_variant"): found["variant_rank"], tr("va.col_attrs"): found["attributes"],
})
st.dataframe(listing, hide_index=True, key="va_cases", height=260)

case_id = st.selectbox(tr("va.pick_case"), found["case_id"].tolist(), key="va_case")
timeline = cache.case_timeline(log_id, case_id)
row = found[found["case_id"] == case_id].iloc[0]
st.markdown(tr("va.case_line", case=case_id, cycle=duration(row["cycle_seconds"], lang()),
               events=int(row["n_events"])))

# Each event is a bar coloured by department (a thin mark without a start timestamp), after a grey bar for
# the wait since the previous event ended.
st.plotly_chart(charts.case_timeline(timeline, lang(), cache.filter_choices(log_id)["departments"],
                                     row["cycle_seconds"]), key="va_timeline")
