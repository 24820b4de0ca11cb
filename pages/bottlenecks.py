"""Bottlenecks: where the cycle time goes — waiting and processing per step and per path, ranked by impact."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from analysis import diagnosis, exports
from analysis.formatting import days
from pages import cache, calendar_panel, finding_form
from pages.state import durations, lang, page_header, tr

log_id, flt = page_header("bn.title")
findings_box = st.container()  # filled once the numbers are known; sits at the top of the page
calendar = calendar_panel.controls(log_id, "bn_wt")
has_start = cache.has_start(log_id)
activities = cache.activity_stats(log_id, flt, calendar)
if activities.empty:
    st.warning(tr("ov.empty"))
    st.stop()
findings_box.info("\n".join(f"- {s}" for s in diagnosis.bottleneck_findings(
    activities, lang(), has_start, calendar is not None)))

steps_tab, paths_tab = st.tabs([tr("bn.tab_steps"), tr("bn.tab_paths")])
with steps_tab:
    top = activities.head(15)
    fig = go.Figure()
    fig.add_bar(x=top["activity"], y=top["share_of_waiting"] * 100, name=tr("bn.share_of_waiting"),
                marker_color="#d62728")
    fig.add_scatter(x=top["activity"], y=top["share_of_waiting"].cumsum() * 100, name=tr("bn.cumulative"),
                    mode="lines+markers", line_color="#333333")
    fig.add_hline(y=60, line_dash="dot", line_color="#999999")
    fig.update_layout(title=tr("bn.pareto"), yaxis_title="%", yaxis_range=[0, 105], legend_orientation="h")
    st.plotly_chart(fig, key="bn_pareto")

    if has_start:
        totals = top.melt(id_vars="activity", value_vars=["total_wait_seconds", "total_processing_seconds"],
                          var_name="kind", value_name="seconds")
        totals["days"] = days(totals["seconds"])
        totals["kind"] = totals["kind"].map({"total_wait_seconds": tr("bn.waiting"),
                                             "total_processing_seconds": tr("bn.processing")})
        fig = px.bar(totals, y="activity", x="days", color="kind", orientation="h", title=tr("bn.wait_vs_work"),
                     labels={"activity": "", "days": tr("bn.case_days"), "kind": ""},
                     color_discrete_sequence=["#d62728", "#1f77b4"])
        fig.update_yaxes(autorange="reversed")
        st.plotly_chart(fig, key="bn_split")
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
    worst = activities["activity"].head(3).tolist()
    trend = cache.monthly_wait(log_id, worst, flt, calendar)
    if trend.empty:
        st.caption(tr("bn.no_trend"))
    else:
        trend["days"] = days(trend["median_wait_seconds"])
        fig = px.line(trend, x="month", y="days", color="activity", markers=True,
                      labels={"month": "", "days": tr("bn.median_wait_days"), "activity": ""})
        fig.update_xaxes(tickformat="%Y-%m")
        st.plotly_chart(fig, key="bn_trend")

    attributes = cache.case_attribute_names(log_id)
    if attributes:
        st.subheader(tr("bn.heatmap"))
        attr = st.selectbox(tr("ov.attr_pick"), attributes, key="bn_attr")
        heat = cache.wait_by_attribute(log_id, attr, flt, calendar)
        if not heat.empty:
            grid = days(heat.pivot(index="value", columns="activity", values="median_wait_seconds"))
            grid = grid[[a for a in activities["activity"] if a in grid.columns]]
            fig = px.imshow(grid, aspect="auto", color_continuous_scale="Reds", text_auto=".1f",
                            labels={"x": "", "y": attr, "color": tr("bn.median_wait_days")})
            st.plotly_chart(fig, key="bn_heat")

with paths_tab:
    edges = cache.edge_stats(log_id, flt, calendar)
    edges["path"] = edges["source"] + " → " + edges["target"]
    top = edges.head(15).iloc[::-1]
    fig = px.bar(top, x=days(top["total_wait_seconds"]), y="path", orientation="h",
                 title=tr("bn.paths_chart"),
                 labels={"x": tr("bn.case_days"), "path": ""}, color_discrete_sequence=["#d62728"],
                 hover_data={"frequency": True})
    st.plotly_chart(fig, key="bn_paths")
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
finding_form.save_finding_form("bottlenecks", finding_form.bottleneck_choices(log_id, flt, calendar, activities))
