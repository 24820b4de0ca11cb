"""Overview: the KPIs a manager reads in ten seconds, then cycle-time distribution, throughput and the slowest cases."""

from __future__ import annotations

import streamlit as st

from analysis import charts
from analysis.formatting import MISSING, days, duration
from pages import cache, finding_form
from pages.state import lang, page_header, tr

log_id, flt = page_header("ov.title")
finding_form.matching_notice(log_id)
k = cache.kpis(log_id, flt)
if k["cases"] == 0:
    st.warning(tr("ov.empty"))
    st.stop()

row1 = st.columns(4)
row1[0].metric(tr("kpi.cases"), f"{k['cases']:,}")
row1[1].metric(tr("kpi.events"), f"{k['events']:,}")
row1[2].metric(tr("kpi.activities"), f"{k['activities']:,}")
row1[3].metric(tr("kpi.variants"), f"{k['variants']:,}")
row2 = st.columns(4)
row2[0].metric(tr("kpi.median_cycle"), duration(k["median_cycle_seconds"], lang()), help=tr("help.cycle"))
row2[1].metric(tr("kpi.p90_cycle"), duration(k["p90_cycle_seconds"], lang()), help=tr("help.cycle"))
no_unit = k["handoff_unit"] is None  # neither departments nor resources in this log
row2[2].metric(tr("kpi.handoffs"), MISSING if no_unit else f"{k['handoffs_per_case']:.1f}",
               help=tr("help.handoffs"))
per_case_label = "kpi.departments" if k["handoff_unit"] == "department" else "kpi.resources_per_case"
row2[3].metric(tr(per_case_label), MISSING if no_unit else f"{k['departments_per_case']:.1f}")

cycles = cache.cycle_times(log_id, flt)
left, right = st.columns(2)
with left:
    st.plotly_chart(charts.cycle_time_histogram(cycles["cycle_seconds"], lang(), k["median_cycle_seconds"],
                                                k["p90_cycle_seconds"]), key="ov_dist")
with right:
    st.plotly_chart(charts.throughput(cache.weekly_throughput(log_id, flt), lang()), key="ov_weekly")

attributes = cache.case_attribute_names(log_id)
if attributes:
    attr = st.selectbox(tr("ov.attr_pick"), attributes, key="ov_attr")
    st.plotly_chart(charts.cycle_by_attribute(cache.cycle_by_attribute(log_id, attr, flt), attr, lang()), key="ov_box")
else:
    st.caption(tr("ov.no_attrs"))

st.subheader(tr("ov.slowest"))
slow = cycles.head(20).copy()
slow["cycle_seconds"] = days(slow["cycle_seconds"]).round(1)
slow = slow.rename(columns={"case_id": tr("col.case"), "start_ts": tr("col.start"), "end_ts": tr("col.end"),
                            "cycle_seconds": tr("col.cycle_days"), "n_events": tr("col.events")})
st.dataframe(slow, hide_index=True, key="ov_slowest")
finding_form.save_finding_form("overview", finding_form.kpi_choices(log_id, flt, k))
