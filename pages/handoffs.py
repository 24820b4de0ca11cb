"""Hand-offs: which hand-overs between departments (or people) cost time, the ping-pong, what one more
hand-off costs, and whose desk the front line waits on."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from analysis import diagnosis, exports, handoffs
from analysis.formatting import days, duration
from pages import cache, calendar_panel, finding_form
from pages.state import durations, lang, page_header, tr

log_id, flt = page_header("ho.title")
findings_box = st.container()
departments = cache.filter_choices(log_id)["departments"]
levels = [lv for lv in handoffs.LEVELS if lv == "resource" or departments]
level = st.radio(tr("ho.level"), levels, format_func=lambda lv: tr(f"ho.level_{lv}"), horizontal=True,
                 key="ho_level")
calendar = calendar_panel.controls(log_id, "ho_wt")
matrix = cache.handoff_matrix(log_id, flt, level, calendar)
if matrix.empty:
    st.info(tr("dx.no_handoffs"))
    st.stop()

# Front line: the departments that serve customers (the sample's regional branches by default).
front_default = [d for d in departments if any(w in d.lower() for w in ("分公司", "branch", "门店", "store", "区域"))]
front = st.multiselect(tr("ho.front"), departments, default=front_default, key="ho_front",
                       help=tr("ho.front_help")) if departments else []

cost = cache.handoff_cost_of(log_id, flt, level)
pings = cache.pingpong(log_id, flt, level)
share = cache.handoff_wait_share(log_id, flt, level, calendar)
front_table = cache.front_line_waits(log_id, front, flt, calendar) if front else None
findings_box.info("\n".join(f"- {s}" for s in diagnosis.handoff_findings(
    matrix, pings, cost, front_table, share, lang())))

matrix_tab, pingpong_tab, cost_tab, front_tab = st.tabs(
    [tr("ho.tab_matrix"), tr("ho.tab_pingpong"), tr("ho.tab_cost"), tr("ho.tab_front")])
with matrix_tab:
    measure = st.radio(tr("ho.measure"), ["count", "median_wait_seconds", "p90_wait_seconds", "cases"],
                       format_func=lambda m: tr(f"ho.m_{m}"), horizontal=True, key="ho_measure")
    if level == "resource":
        top_n = st.slider(tr("ho.top_n"), 5, 100, 30, step=5, key="ho_top")
        shown = matrix.head(top_n)
    else:
        shown = matrix
    grid = shown.pivot(index="from", columns="to", values=measure)
    if measure.endswith("seconds"):
        grid = days(grid)
    names = sorted(set(grid.index) | set(grid.columns))
    grid = grid.reindex(index=names, columns=names)
    fig = px.imshow(grid, aspect="auto", color_continuous_scale="Reds", text_auto=".1f" if measure.endswith(
        "seconds") else True, labels={"x": tr("ho.to"), "y": tr("ho.from"), "color": tr(f"ho.m_{measure}")})
    fig.update_layout(height=max(420, 28 * len(names) + 160))
    st.plotly_chart(fig, key="ho_matrix")
    if level == "resource":
        # The handover network of the top pairs, drawn in the browser.
        lines = ["digraph handover {", "  rankdir=LR; node [shape=ellipse, fontname=\"sans-serif\"];"]
        top = shown["count"].max() or 1
        for r in shown.itertuples():
            a, b = (str(x).replace("\\", "\\\\").replace('"', '\\"') for x in (r._1, r.to))
            lines.append(f'  "{a}" -> "{b}" [label="{r.count}", penwidth={0.5 + 4 * r.count / top:.2f}];')
        st.graphviz_chart("\n".join(lines + ["}"]))
    st.dataframe(pd.DataFrame({
        tr("ho.from"): matrix["from"], tr("ho.to"): matrix["to"], tr("ho.m_count"): matrix["count"],
        tr("ho.m_cases"): matrix["cases"],
        tr("ho.m_median_wait_seconds"): days(matrix["median_wait_seconds"]),
        tr("ho.m_p90_wait_seconds"): days(matrix["p90_wait_seconds"]),
        tr("bn.col_total_wait"): days(matrix["total_wait_seconds"]),
    }), hide_index=True, key="ho_table", column_config={
        tr("ho.m_median_wait_seconds"): st.column_config.NumberColumn(format="%.2f"),
        tr("ho.m_p90_wait_seconds"): st.column_config.NumberColumn(format="%.2f"),
        tr("bn.col_total_wait"): st.column_config.NumberColumn(format="%.0f")})
    st.download_button(tr("ho.download"), exports.to_csv(matrix), file_name="handoffs.csv",
                       mime="text/csv", key="ho_csv")

with pingpong_tab:
    if pings.empty:
        st.info(tr("ho.no_pingpong"))
    else:
        st.caption(tr("ho.pingpong_help"))
        st.dataframe(pd.DataFrame({
            tr("ho.pair"): pings["pair_a"] + " ↔ " + pings["pair_b"], tr("ho.occurrences"): pings["occurrences"],
            tr("ho.m_cases"): pings["cases"],
            tr("ho.with"): durations(pings["median_cycle_with_seconds"]),
            tr("ho.without"): durations(pings["median_cycle_without_seconds"]),
            tr("ho.extra"): durations(pings["extra_cycle_seconds"]),
        }), hide_index=True, key="ho_pingpong")

with cost_tab:
    groups = cost["by_handoffs"]
    fig = go.Figure()
    fig.add_scatter(x=groups["handoffs"], y=days(groups["median_cycle_seconds"]), mode="markers",
                    marker={"size": 6 + 30 * (groups["cases"] / groups["cases"].max()) ** 0.5, "color": "#1f77b4"},
                    name=tr("ho.median_by_count"), text=groups["cases"],
                    hovertemplate="%{x}: %{y:.1f} · %{text} " + tr("va.col_cases") + "<extra></extra>")
    slope = cost["seconds_per_handoff"]
    if slope == slope:
        xs = groups["handoffs"]
        # The line passes through the median case (weighted median of the groups).
        order = groups.sort_values("handoffs")
        middle = order["cases"].cumsum().searchsorted(order["cases"].sum() / 2)
        centre_x, centre_y = (float(order["handoffs"].iloc[middle]),
                              float(order["median_cycle_seconds"].iloc[middle]))
        for value, dash, name in ((slope, "solid", tr("ho.fit")), (cost["low"], "dot", "90%"),
                                  (cost["high"], "dot", "90%")):
            if value == value:
                fig.add_scatter(x=xs, y=days(centre_y + value * (xs - centre_x)), mode="lines",
                                line={"dash": dash, "color": "#d62728"}, name=name)
    fig.update_layout(title=tr("ho.cost_chart"), xaxis_title=tr("ho.handoffs_per_case"),
                      yaxis_title=tr("ho.cycle_days"))
    st.plotly_chart(fig, key="ho_cost")
    if slope == slope:
        st.markdown(tr("ho.cost_line", d=duration(slope, lang()), low=duration(cost["low"], lang()),
                       high=duration(cost["high"], lang()), cases=cost["cases"]))

with front_tab:
    if share is not None:
        st.metric(tr("ho.share_metric"), f"{share:.0%}", help=tr("ho.share_help"))
    if not front:
        st.info(tr("ho.pick_front"))
    elif front_table is None or front_table.empty:
        st.info(tr("ho.no_front"))
    else:
        st.caption(tr("ho.front_caption"))
        fig = px.bar(front_table.iloc[::-1], x=days(front_table.iloc[::-1]["median_held_seconds"]),
                     y="department", orientation="h", labels={"x": tr("ho.held_days"), "department": ""},
                     color_discrete_sequence=["#d62728"], title=tr("ho.front_chart"))
        st.plotly_chart(fig, key="ho_front_chart")
        st.dataframe(pd.DataFrame({
            tr("bn.col_department"): front_table["department"], tr("ho.m_cases"): front_table["cases"],
            tr("ho.pickup"): durations(front_table["median_wait_seconds"]),
            tr("ho.held_median"): durations(front_table["median_held_seconds"]),
            tr("ho.held_p90"): durations(front_table["p90_held_seconds"]),
            tr("ho.front_share"): front_table["share_of_front_line_wait"] * 100,
        }), hide_index=True, key="ho_front_table", column_config={
            tr("ho.front_share"): st.column_config.ProgressColumn(format="%.1f%%", min_value=0, max_value=100)})
finding_form.save_finding_form("handoffs", finding_form.handoff_choices(log_id, flt, level, calendar, matrix, pings))
