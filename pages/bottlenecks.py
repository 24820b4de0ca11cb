"""Bottlenecks: where the cycle time goes — waiting and processing per step and per path, ranked by impact."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import charts, diagnosis, exports, waiting_words
from analysis.formatting import days
from pages import cache, calendar_panel, finding_form, why_panel
from pages.state import durations, lang, page_header, tr

log_id, flt = page_header("bn.title")
findings_box = st.container()  # filled once the numbers are known; sits at the top of the page
calendar = calendar_panel.controls(log_id, "bn_wt")
found = cache.bottleneck_diagnosis(log_id, flt, calendar)
activities, edges = found.activities, found.edges
if activities.empty:
    st.warning(tr("ov.empty"))
    st.stop()
why = why_panel.diagnosis(log_id, flt, calendar, "activity")
findings = diagnosis.bottleneck_findings(activities, lang(), found.has_start, found.working_time)
if not isinstance(why, str):
    findings += waiting_words.findings(why.rows, lang(), working=calendar is not None)
findings_box.info("\n".join(f"- {s}" for s in findings))

steps_tab, paths_tab, why_tab = st.tabs([tr("bn.tab_steps"), tr("bn.tab_paths"), tr("why.tab")])
with steps_tab:
    st.plotly_chart(charts.pareto(activities, lang()), key="bn_pareto")
    if found.has_start:
        st.plotly_chart(charts.wait_vs_work(activities, lang()), key="bn_split")
    else:
        st.caption(tr("dx.no_start"))

    shown = pd.DataFrame({
        tr("bn.col_activity"): activities["activity"], tr("bn.col_department"): activities["department"],
        tr("bn.col_frequency"): activities["frequency"],
        tr("bn.col_median_wait"): days(activities["median_wait_seconds"]),
        tr("bn.col_p90_wait"): days(activities["p90_wait_seconds"]),
        tr("bn.col_median_work"): days(activities["median_processing_seconds"]),
        tr("bn.col_p90_work"): days(activities["p90_processing_seconds"]),
        tr("bn.col_total_wait"): days(activities["total_wait_seconds"]),
        tr("bn.share_of_waiting"): activities["share_of_waiting"] * 100,
        tr("bn.col_share_cycle"): activities["share_of_cycle_time"] * 100,
    })
    number = st.column_config.NumberColumn(format="%.2f")
    percent = st.column_config.ProgressColumn(format="%.1f%%", min_value=0, max_value=100)
    st.dataframe(shown, hide_index=True, key="bn_table", column_config={
        tr("bn.col_median_wait"): number, tr("bn.col_p90_wait"): number, tr("bn.col_median_work"): number,
        tr("bn.col_p90_work"): number, tr("bn.col_total_wait"): st.column_config.NumberColumn(format="%.0f"),
        tr("bn.share_of_waiting"): percent, tr("bn.col_share_cycle"): percent})
    st.download_button(tr("bn.download"), exports.to_csv(activities), file_name="bottlenecks.csv",
                       mime="text/csv", key="bn_csv")

    st.subheader(tr("bn.trend"))
    trend = cache.monthly_wait(log_id, activities["activity"].head(3).tolist(), flt, calendar)
    if trend.empty:
        st.caption(tr("bn.no_trend"))
    else:
        st.plotly_chart(charts.wait_trend(trend, lang()), key="bn_trend")

    attributes = cache.case_attribute_names(log_id)
    if attributes:
        st.subheader(tr("bn.heatmap"))
        attr = st.selectbox(tr("ov.attr_pick"), attributes, key="bn_attr")
        heat = cache.wait_by_attribute(log_id, attr, flt, calendar)
        if not heat.empty:
            st.plotly_chart(charts.wait_heatmap(heat, attr, lang(), order=activities["activity"].tolist()),
                            key="bn_heat")

with paths_tab:
    st.plotly_chart(charts.path_waits(edges, lang()), key="bn_paths")
    st.dataframe(pd.DataFrame({
        tr("pm.col_from"): edges["source"], tr("pm.col_to"): edges["target"],
        tr("bn.col_frequency"): edges["frequency"],
        tr("bn.col_median_transition"): durations(edges["median_transition_seconds"]),
        tr("bn.col_p90_transition"): durations(edges["p90_transition_seconds"]),
        tr("bn.col_median_wait"): days(edges["median_wait_seconds"]),
        tr("bn.col_total_wait"): days(edges["total_wait_seconds"]),
        tr("bn.share_of_waiting"): edges["share_of_waiting"] * 100,
    }), hide_index=True, key="bn_edges", column_config={
        tr("bn.col_median_wait"): st.column_config.NumberColumn(format="%.2f"),
        tr("bn.col_total_wait"): st.column_config.NumberColumn(format="%.0f"),
        tr("bn.share_of_waiting"): st.column_config.ProgressColumn(format="%.1f%%", min_value=0, max_value=100)})
with why_tab:
    why_panel.show(log_id, flt, calendar, "bn_why", ("activity", "department", "resource"))
finding_form.save_finding_form("bottlenecks", finding_form.bottleneck_choices(log_id, flt, calendar, activities))
