"""Compare: two groups of the filtered cases side by side — which figures differ, where one loses time."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from analysis import charts, compare, exports
from analysis.errors import UserError
from analysis.formatting import days
from pages import cache, calendar_panel, finding_form
from pages.state import err, lang, page_header, tr

log_id, flt = page_header("cmp.title", "cmp.intro")

attributes = cache.case_attribute_names(log_id)
splits = [s for s in compare.SPLITS if s != "attribute" or attributes]
if not attributes:
    st.caption(tr("cmp.no_attributes"))
split = st.radio(tr("cmp.split"), splits, format_func=lambda s: tr(f"cmp.split_{s}"), horizontal=True, key="cmp_split")
try:
    if split == "attribute":
        name = st.selectbox(tr("cmp.attribute"), attributes, key="cmp_attr")
        values = cache.case_attribute_values(log_id, name)
        left, right = st.columns(2)
        values_a = left.multiselect(tr("cmp.values_a"), values, default=values[:1], key=f"cmp_a_{name}")
        values_b = right.multiselect(tr("cmp.values_b"), [v for v in values if v not in values_a],
                                     default=[v for v in values[1:2] if v not in values_a], key=f"cmp_b_{name}")
        cohorts = compare.by_attribute(flt, name, values_a, values_b)
    elif split == "period":
        first, last = cache.time_span(log_id)
        middle = (first + (last - first) / 2).date()
        day = st.date_input(tr("cmp.date"), value=middle, min_value=first.date(), max_value=last.date(),
                            key="cmp_date")
        cohorts = compare.by_period(flt, day if isinstance(day, dt.date) else middle)
    else:
        left, right = st.columns(2)
        fast = left.slider(tr("cmp.fast_pct"), 5, 90, 50, step=5, key="cmp_fast")
        slowest = right.slider(tr("cmp.slow_pct"), 1, 50, 10, key="cmp_slow")
        cohorts = cache.cmp_by_speed(log_id, flt, float(fast), float(100 - slowest))
except UserError as exc:
    st.warning(err(exc))
    st.stop()

calendar = calendar_panel.controls(log_id, "cmp_wt")   # working time for the steps' waiting and processing
found = cache.comparison(log_id, cohorts, calendar)
kpis, activities, paths = found.kpis, found.steps, found.paths
st.info("\n".join(f"- {s}" for s in found.findings(lang())))
sizes = kpis.set_index("kpi").loc["cases"]
if not sizes["a"] or not sizes["b"]:
    st.stop()

label_a, label_b = cohorts.label("a", lang()), cohorts.label("b", lang())
# The Report page offers this comparison for the report.
st.session_state["cmp_last"] = (log_id, json.dumps(cohorts.as_params(), ensure_ascii=False))
col_a, col_b = tr("cmp.col_a", label=label_a), tr("cmp.col_b", label=label_b)


st.subheader(tr("cmp.kpis"))
st.dataframe(pd.DataFrame({
    tr("cmp.col_kpi"): [tr(f"cmp.kpi_{k}") for k in kpis["kpi"]],
    col_a: [compare.format_kpi(k, v, lang()) for k, v in zip(kpis["kpi"], kpis["a"], strict=True)],
    col_b: [compare.format_kpi(k, v, lang()) for k, v in zip(kpis["kpi"], kpis["b"], strict=True)],
    tr("cmp.col_delta"): [compare.format_kpi(k, v, lang(), delta=True)
                          for k, v in zip(kpis["kpi"], kpis["delta"], strict=True)],
}), hide_index=True, key="cmp_kpis")

st.subheader(tr("cmp.steps"))
st.plotly_chart(charts.compare_steps(activities, lang()), key="cmp_steps_chart")
st.caption(tr("cmp.steps_help"))
number = st.column_config.NumberColumn(format="%.2f")
percent = st.column_config.NumberColumn(format="%.0f%%")
share_a, share_b = tr("cmp.col_share", group="A"), tr("cmp.col_share", group="B")
time_a, time_b = tr("cmp.col_time", group="A"), tr("cmp.col_time", group="B")
st.dataframe(pd.DataFrame({
    tr("cmp.col_activity"): activities["activity"], tr("cmp.col_department"): activities["department"],
    share_a: activities["share_a"] * 100, share_b: activities["share_b"] * 100,
    time_a: days(activities["time_per_case_a"]), time_b: days(activities["time_per_case_b"]),
    tr("cmp.col_delta_days"): days(activities["delta_per_case"]),
}), hide_index=True, key="cmp_steps", column_config={
    share_a: percent, share_b: percent, time_a: number, time_b: number, tr("cmp.col_delta_days"): number})
st.download_button(tr("cmp.download_steps"), exports.to_csv(activities), file_name="compare_steps.csv",
                   mime="text/csv", key="cmp_steps_csv")

st.subheader(tr("cmp.paths"))
median_a, median_b = tr("cmp.col_median", group="A"), tr("cmp.col_median", group="B")
st.dataframe(pd.DataFrame({
    tr("cmp.col_path"): paths["source"] + " → " + paths["target"],
    share_a: paths["share_a"] * 100, share_b: paths["share_b"] * 100,
    median_a: days(paths["median_seconds_a"]), median_b: days(paths["median_seconds_b"]),
    tr("cmp.col_delta_share"): paths["delta_share"] * 100,
}).head(30), hide_index=True, key="cmp_paths", column_config={
    share_a: percent, share_b: percent, median_a: number, median_b: number, tr("cmp.col_delta_share"): percent})
st.download_button(tr("cmp.download_paths"), exports.to_csv(paths), file_name="compare_paths.csv",
                   mime="text/csv", key="cmp_paths_csv")

finding_form.save_finding_form("compare", finding_form.compare_choices(log_id, flt, cohorts, kpis))
