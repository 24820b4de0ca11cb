"""Report: one self-contained HTML file for managers (KPIs, maps, bottlenecks, hand-offs, redesign, findings) and
its tables as Excel, built from the active log and filter."""

from __future__ import annotations

import json

import streamlit as st

from analysis import compare
from analysis.errors import UserError
from pages import cache, calendar_panel
from pages.state import err, lang, page_header, tr

log_id, flt = page_header("rp.page_title", "rp.intro")

left, right = st.columns(2)
report_lang = left.radio(tr("rp.lang"), ["zh", "en"], index=["zh", "en"].index(lang()),
                         format_func=lambda v: {"zh": "中文", "en": "English"}[v], horizontal=True,
                         key="rp_lang")
stored = cache.stored_scenarios()
NONE = "\x00none"
pick = right.selectbox(tr("rp.scenario"), [NONE, *(s.name for _, s in stored)],
                       format_func=lambda n: tr("rp.no_scenario") if n == NONE else n, key="rp_scenario")
scenario = next((s for _, s in stored if s.name == pick), None)

saved = cache.kb_list()
if saved.empty:
    st.caption(tr("rp.no_findings"))
    finding_ids: tuple = ()
else:
    titles = dict(zip(saved["finding_id"], saved["title"], strict=True))
    finding_ids = tuple(int(i) for i in st.multiselect(
        tr("rp.pick_findings"), list(titles), format_func=lambda i: f"#{i} {titles[i]}", key="rp_findings"))
last = st.session_state.get("cmp_last")
cohorts_json = ""
if last and last[0] == log_id:
    if st.checkbox(tr("rp.compare_pick", subject=compare.subject(json.loads(last[1]))), key="rp_compare"):
        cohorts_json = last[1]
else:
    st.caption(tr("rp.no_compare"))
calendar = calendar_panel.controls(log_id, "rp_wt")

wanted = (log_id, report_lang, flt, scenario, finding_ids, calendar, cohorts_json)
if st.button(tr("rp.build"), key="rp_build", type="primary"):
    st.session_state["rp_request"] = wanted
request = st.session_state.get("rp_request")
if request is None or request[0] != log_id:
    st.stop()
if request != wanted:
    st.info(tr("rp.stale"))
try:
    with st.spinner(tr("rp.building")):
        files = cache.report_files(*request)
except UserError as exc:   # e.g. the comparison cannot be made on the cases the filter keeps now
    st.warning(err(exc))
    st.stop()
st.success(tr("rp.built", size=len(files.html.encode("utf-8")) / 1e6, charts=files.charts))
down_html, down_xlsx = st.columns(2)
down_html.download_button(tr("rp.download_html"), files.html, file_name="process_report.html", mime="text/html",
                          key="rp_html", type="primary")
down_xlsx.download_button(tr("rp.download_xlsx"), files.excel, file_name="process_report_tables.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="rp_xlsx")
st.subheader(tr("rp.preview"))
# The report escapes every user value itself and loads nothing from the network.
st.iframe(files.html, height=800)
