"""Project or routine: which campaigns should run as projects with a cross-department team, which as standard work."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import charts, exports, triage
from analysis.formatting import MISSING, days, duration, share
from pages import cache
from pages.state import lang, page_header, tr


def _cell(value, kind: str) -> str:
    """One KPI value as a manager reads it."""
    if value is None or pd.isna(value):
        return MISSING
    return {"int": lambda v: f"{int(v):,}", "share": lambda v: share(v, 0),
            "duration": lambda v: duration(v, lang()), "mean": lambda v: f"{v:.1f}",
            "money": lambda v: f"{v:,.0f}"}[kind](value)


log_id, flt = page_header("tg.title")
budget_name = cache.tg_budget_attribute(log_id)
features = cache.tg_case_features(log_id, flt, budget_name)
if features.empty:
    st.warning(tr("ov.empty"))
    st.stop()

SEP = "；" if lang() == "zh" else "; "  # between reasons
st.caption(tr("tg.intro"))
finding = st.container()  # filled once the thresholds below are read: the answer comes first on the page

auto = triage.resolve(features)
st.subheader(tr("tg.thresholds"))
c1, c2, c3, c4, c5 = st.columns(5)
departments = c1.number_input(tr("tg.th_departments"), value=None, min_value=0, step=1, key="tg_departments",
                              placeholder=tr("tg.auto", v=auto.departments), help=tr("tg.auto_help"))
handoffs = c2.number_input(tr("tg.th_handoffs"), value=None, min_value=0, step=1, key="tg_handoffs",
                           placeholder=tr("tg.auto", v=auto.handoffs), help=tr("tg.auto_help"))
rare = c3.number_input(tr("tg.th_rare"), value=triage.Thresholds().rare_share * 100, min_value=0.0, max_value=100.0,
                       step=0.5, format="%.1f", key="tg_rare")
budget = c4.number_input(
    tr("tg.th_budget"), value=None, min_value=0.0, step=10_000.0, format="%.0f", key="tg_budget",
    disabled=budget_name is None,
    placeholder=tr("tg.auto", v=f"{auto.budget:,.0f}") if auto.budget is not None else MISSING,
    help=tr("tg.budget_help", name=budget_name) if budget_name else tr("tg.no_budget"))
cutoff = c5.slider(tr("tg.th_cutoff"), min_value=1, max_value=12, value=triage.Thresholds().cutoff, key="tg_cutoff")

thresholds = triage.Thresholds(departments=departments, handoffs=handoffs, rare_share=rare / 100, budget=budget,
                               cutoff=cutoff)
weights = triage.Weights()
used = triage.resolve(features, thresholds)
triaged = triage.triage(features, thresholds, weights)
st.markdown(tr("tg.rule", wd=weights.department, d=used.departments, wh=weights.handoff, h=used.handoffs,
               wr=weights.rework, wv=weights.rare_variant, rare=used.rare_share, wb=weights.budget,
               budget=f"{used.budget:,.0f}" if used.budget is not None else MISSING, cutoff=used.cutoff))
if budget_name is None:
    st.caption(tr("tg.no_budget"))

segments = triage.segment_kpis(triaged).set_index("track")
project, routine = segments.loc["project"], segments.loc["routine"]
total = len(triaged)
with finding:
    if project["cases"] == 0:
        st.markdown(tr("tg.finding_none", cutoff=used.cutoff, total=total))
    elif routine["cases"] == 0:
        st.markdown(tr("tg.finding_all", cutoff=used.cutoff, total=total))
    else:
        st.markdown(tr("tg.finding", share=project["share"], n=int(project["cases"]), total=total,
                       project=duration(project["median_cycle_seconds"], lang()),
                       routine=duration(routine["median_cycle_seconds"], lang())))
    projects = triaged[triaged["track"] == "project"]
    if len(projects):
        counts = pd.Series([r for rs in projects["reasons"] for r in rs]).value_counts()
        said = [tr("tg.reason_share", reason=tr(f"tg.reason.{r}"), share=n / len(projects)) for r, n in counts.head(3).items()]
        st.markdown(tr("tg.top_reasons", reasons=SEP.join(said)))

st.header(tr("tg.kpis"))


rows = [("cases", "cases", "int"), ("share", "share", "share"), ("median_cycle_seconds", "median", "duration"),
        ("p90_cycle_seconds", "p90", "duration"), ("mean_handoffs", "handoffs", "mean"),
        ("mean_departments", "departments", "mean"), ("rework_share", "rework", "share"),
        ("mean_budget", "budget", "money")]
comparison = pd.DataFrame({
    tr("tg.kpi.measure"): [tr(f"tg.kpi.{label}") for _, label, _ in rows],
    **{tr(f"tg.track.{track}"): [_cell(segments.loc[track, col], kind) for col, _, kind in rows]
       for track in triage.TRACKS},
})
st.dataframe(comparison, hide_index=True, key="tg_kpis")

st.plotly_chart(charts.triage_scatter(triaged, lang()), key="tg_scatter")

# Which kinds of campaign (type, region …) the rule sends to the project track.
groups = cache.case_attribute_names(log_id)
if groups:
    st.header(tr("tg.by_value"))
    group = st.selectbox(tr("tg.group"), groups, key="tg_group")
    by_value = triage.track_by_value(triaged, cache.tg_attribute_values(log_id, group, flt))
    st.dataframe(pd.DataFrame({
        tr("tg.col_value"): by_value["value"], tr("tg.kpi.cases"): by_value["cases"],
        tr("tg.col_project_share"): by_value["project_share"] * 100,
        tr("tg.col_median_project"): days(by_value["median_cycle_project"]),
        tr("tg.col_median_routine"): days(by_value["median_cycle_routine"]),
    }), hide_index=True, key="tg_by_value", column_config={
        tr("tg.col_project_share"): st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100),
        tr("tg.col_median_project"): st.column_config.NumberColumn(format="%.1f"),
        tr("tg.col_median_routine"): st.column_config.NumberColumn(format="%.1f")})

st.header(tr("tg.cases"))
ranked = triaged.sort_values(["score", "cycle_seconds"], ascending=[False, False], ignore_index=True)
# "why" in words, with the points each reason earned: the score is their sum.
why = pd.Series("", index=ranked.index)
for reason in triage.REASONS:
    points = ranked[f"pts_{reason}"]
    part = tr(f"tg.reason.{reason}") + " +" + points.astype(str)
    why = why.where(points == 0, why.where(why == "", why + SEP) + part)
track_names = {track: tr(f"tg.track.{track}") for track in triage.TRACKS}
listing = pd.DataFrame({
    tr("col.case"): ranked["case_id"], tr("tg.col_score"): ranked["score"],
    tr("tg.col_track"): ranked["track"].map(track_names), tr("tg.col_reasons"): why,
    tr("tg.col_departments"): ranked["departments"], tr("tg.col_handoffs"): ranked["handoffs"],
    tr("tg.col_rework"): ranked["rework"], tr("tg.col_variant_share"): (ranked["variant_share"] * 100).round(2),
    tr("tg.col_budget"): ranked["budget"], tr("col.cycle_days"): days(ranked["cycle_seconds"]).round(1),
})
shown = min(len(listing), 500)
st.caption(tr("tg.listed", n=len(listing), shown=shown))
st.dataframe(listing.head(shown), hide_index=True, key="tg_cases", height=320,
             column_config={tr("tg.col_budget"): st.column_config.NumberColumn(format="localized")})
st.download_button(tr("tg.download"), exports.to_csv(listing), file_name="triage.csv",
                   mime="text/csv", key="tg_csv")
