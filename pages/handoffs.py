"""Hand-offs: which hand-overs between departments (or people) cost time, the ping-pong, what one more
hand-off costs, and whose desk the front line waits on."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import charts, diagnosis, exports, handoffs, waiting_words
from analysis.formatting import days, duration, is_missing
from analysis.process_map import dot_string
from pages import cache, calendar_panel, finding_form, why_panel
from pages.state import durations, lang, page_header, tr

log_id, flt = page_header("ho.title")
findings_box = st.container()
departments = cache.filter_choices(log_id)["departments"]
levels = [lv for lv in handoffs.LEVELS if lv == "resource" or departments]
level = st.radio(tr("ho.level"), levels, format_func=lambda lv: tr(f"ho.level_{lv}"), horizontal=True,
                 key="ho_level")
calendar = calendar_panel.controls(log_id, "ho_wt")
# Front line: the departments that serve customers (the sample's regional branches by default). The picker
# sits in a placeholder: a log without hand-offs shows only the note below.
front_slot = st.empty()
front = front_slot.multiselect(tr("ho.front"), departments, default=handoffs.front_line_default(departments),
                               key="ho_front", help=tr("ho.front_help")) if departments else []
found = cache.handoff_diagnosis(log_id, flt, level, calendar, tuple(front))
matrix, pings, cost, share, front_table = found.matrix, found.pingpong, found.cost, found.wait_share, found.front_line
if matrix.empty:
    front_slot.empty()
    st.info(tr("dx.no_handoffs"))
    st.stop()
why = why_panel.diagnosis(log_id, flt, calendar, "handoff", level)
findings = diagnosis.handoff_findings(matrix, pings, cost, front_table, share, lang())
if not isinstance(why, str):
    findings += waiting_words.findings(why.rows, lang(), working=calendar is not None, top=1)
findings_box.info("\n".join(f"- {s}" for s in findings))

matrix_tab, pingpong_tab, cost_tab, front_tab, why_tab = st.tabs(
    [tr("ho.tab_matrix"), tr("ho.tab_pingpong"), tr("ho.tab_cost"), tr("ho.tab_front"), tr("why.tab")])
with matrix_tab:
    measure = st.radio(tr("ho.measure"), ["count", "median_wait_seconds", "p90_wait_seconds", "cases"],
                       format_func=lambda m: tr(f"ho.m_{m}"), horizontal=True, key="ho_measure")
    top_n = st.slider(tr("ho.top_n"), 5, 100, 30, step=5, key="ho_top") if level == "resource" else None
    st.plotly_chart(charts.handoff_heatmap(matrix, lang(), measure, top_n), key="ho_matrix")
    if level == "resource":
        # The handover network of the top pairs, drawn in the browser.
        lines = ["digraph handover {", "  rankdir=LR; node [shape=ellipse, fontname=\"sans-serif\"];"]
        shown = matrix.head(top_n)
        top = shown["count"].max() or 1
        for r in shown.itertuples():
            a, b = (dot_string(str(x)) for x in (r._1, r.to))   # "from" is a keyword: itertuples renames it
            lines.append(f'  {a} -> {b} [label="{r.count}", penwidth={0.5 + 4 * r.count / top:.2f}];')
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
    st.plotly_chart(charts.handoff_cost(cost, lang()), key="ho_cost")
    slope = cost["seconds_per_handoff"]
    if not is_missing(slope):
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
        st.plotly_chart(charts.front_line_held(front_table, lang()), key="ho_front_chart")
        st.dataframe(pd.DataFrame({
            tr("bn.col_department"): front_table["department"], tr("ho.m_cases"): front_table["cases"],
            tr("ho.pickup"): durations(front_table["median_wait_seconds"]),
            tr("ho.held_median"): durations(front_table["median_held_seconds"]),
            tr("ho.held_p90"): durations(front_table["p90_held_seconds"]),
            tr("ho.front_share"): front_table["share_of_front_line_wait"] * 100,
        }), hide_index=True, key="ho_front_table", column_config={
            tr("ho.front_share"): st.column_config.ProgressColumn(format="%.1f%%", min_value=0, max_value=100)})
with why_tab:
    why_panel.show(log_id, flt, calendar, "ho_why", ("handoff",), level)
finding_form.save_finding_form("handoffs", finding_form.handoff_choices(log_id, flt, level, calendar, matrix, pings))
