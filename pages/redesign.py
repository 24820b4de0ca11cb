"""Redesign: define the to-be flow as operations on today's process, replay every kept case through it, and
compare KPIs, maps and cycle-time distributions side by side."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from analysis import charts, map_render, redesign_causes
from analysis.errors import UserError
from analysis.formatting import MISSING, duration
from analysis.redesign import CAUSE_OP, OPS, Scenario, describe_operation, format_kpi
from pages import cache, finding_form
from pages.state import err, lang, page_header, tr, viewer_mode

log_id, flt = page_header("rd.title")
choices = cache.filter_choices(log_id)
activities, departments = choices["activities"], choices["departments"]

# --- The scenario being edited lives in session state as a list of operation dicts. -----------------------
stored = cache.stored_scenarios()
names = [s.name for _, s in stored]
NEW = "\x00new"
if pending := st.session_state.pop("rd_scenario_pending", None):
    st.session_state["rd_scenario"] = pending  # just saved: show it as the chosen scenario
pick = st.selectbox(tr("rd.scenario"), [*names, NEW], format_func=lambda n: tr("rd.new") if n == NEW else n,
                    key="rd_scenario")
if st.session_state.get("rd_loaded") != pick:  # another scenario chosen: load its operations into the editor
    st.session_state["rd_loaded"] = pick
    chosen = next((s for _, s in stored if s.name == pick), None)
    st.session_state["rd_ops"] = chosen.operations if chosen else []
    st.session_state["rd_name"] = chosen.name if chosen else tr("rd.default_name")
if loaded := st.session_state.pop("rd_pending_load", None):  # a scenario file was just read
    st.session_state["rd_ops"], st.session_state["rd_name"] = loaded
ops: list[dict] = st.session_state["rd_ops"]


with st.expander(tr("rd.edit"), expanded=not ops):
    st.text_input(tr("rd.name"), key="rd_name")
    for i, op in enumerate(ops):
        left, right = st.columns([12, 1])
        left.markdown(f"{i + 1}. {describe_operation(op, lang())}")
        if right.button("✕", key=f"rd_del_{i}", help=tr("rd.remove_op")):
            ops.pop(i)
            st.rerun()
    # A waiting cause is removed through its own control below (it needs the causes' split).
    kind = st.selectbox(tr("rd.add"), [k for k in OPS if k != CAUSE_OP], format_func=lambda k: tr(f"rd.op_{k}"),
                        key="rd_op")
    st.caption(tr(f"rd.help_{kind}"))
    new: dict = {"op": kind}
    if kind in ("remove", "reassign", "merge"):
        new["activities"] = st.multiselect(tr("rd.activities"), activities, key="rd_acts",
                                           max_selections=2 if kind == "merge" else None)
    if kind == "reassign":
        new["department"] = st.selectbox(tr("rd.department"), departments or [""], key="rd_dept")
    if kind == "parallel":
        new["branches"] = [st.multiselect(tr("rd.branch", n=n), activities, key=f"rd_branch{n}") for n in (1, 2)]
    if kind in ("cap_wait", "speed_up"):
        scope = st.radio(tr("rd.scope"), ["activities", "department"], format_func=lambda s: tr(f"rd.scope_{s}"),
                         horizontal=True, key="rd_scope")
        if scope == "activities":
            new["activities"] = st.multiselect(tr("rd.activities"), activities, key="rd_acts2")
        else:
            new["department"] = st.selectbox(tr("rd.department"), departments or [""], key="rd_dept2")
        if kind == "cap_wait":
            new["hours"] = st.number_input(tr("rd.hours"), min_value=0.0, value=24.0, step=4.0, key="rd_hours")
        else:
            new["factor"] = st.number_input(tr("rd.factor"), min_value=1.0, value=2.0, step=0.5, key="rd_factor")
    if kind == "shared_team":
        new["departments"] = st.multiselect(tr("rd.departments"), departments, key="rd_team")
    if st.button(tr("rd.add_button"), key="rd_add"):
        try:
            Scenario.of("check", [new])
        except ValueError as exc:
            st.error(tr("rd.bad_op", detail=err(exc)))
        else:
            ops.append(new)
            st.rerun()
    left, mid, right = st.columns(3)
    if not viewer_mode():
        if left.button(tr("rd.save"), key="rd_save", type="primary"):
            saved_name = st.session_state["rd_name"] or tr("rd.default_name")
            cache.save_scenario(Scenario.of(saved_name, ops), log_id)
            st.session_state["rd_loaded"] = st.session_state["rd_name"]
            st.session_state["rd_scenario_pending"] = st.session_state["rd_name"]
            st.rerun()
        if pick != NEW and mid.button(tr("rd.delete"), key="rd_delete"):
            cache.delete_scenario(next(i for i, s in stored if s.name == pick))
            st.rerun()
    right.download_button(tr("rd.export"), Scenario.of(st.session_state["rd_name"] or "scenario", ops).to_json(),
                          file_name="scenario.json", mime="application/json", key="rd_export")
    uploaded = st.file_uploader(tr("rd.import"), type=["json"], key="rd_import")
    if uploaded is not None and st.session_state.get("rd_imported") != uploaded.file_id:
        st.session_state["rd_imported"] = uploaded.file_id
        try:
            loaded = Scenario.from_json(uploaded.getvalue().decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            st.error(tr("rd.bad_file", detail=err(exc)))
        else:
            st.session_state["rd_pending_load"] = (loaded.operations, loaded.name)
            st.rerun()



def from_waiting_cause(log_id: int, flt, ops: list[dict]) -> None:
    """The "From a waiting cause" control: a preset removing (a share of) why a step waits, added to the
    scenario or as a new one; a plain message when the log cannot tell (no start timestamps or resources)."""
    try:
        found = cache.waiting_cause_diagnosis(log_id, flt, None, "activity")  # calendar time, as the replay
    except UserError as exc:
        st.info(tr("rd.why_cannot", reason=err(exc)))
        return
    steps = redesign_causes.waiting_steps(found.rows)
    if steps.empty:
        st.caption(tr("rd.why_none"))
        return
    st.caption(tr("rd.why_intro"))
    rows = {row["key"]: row for _, row in steps.iterrows()}
    activity = st.selectbox(tr("rd.why_activity"), list(rows), key="rd_why_activity",
                            format_func=lambda k: redesign_causes.step_label(rows[k], lang()))
    row = rows[activity]
    presets = redesign_causes.presets_present(row)
    if not presets:
        st.caption(tr("rd.why_no_preset"))
        return
    preset = st.radio(tr("rd.why_preset"), presets, key="rd_why_preset", format_func=lambda p: tr(
        "rd.why_preset_choice", preset=tr(f"rd.why_preset_{p}"), share=f"{redesign_causes.preset_share(row, p):.0%}"))
    st.caption(tr(f"rd.why_help_{preset}"))
    percent = st.slider(tr("rd.why_share"), 0, 100, 100, step=5, format="%d%%", key="rd_why_share")
    op = redesign_causes.preset_operation(activity, preset, percent / 100)
    left, right = st.columns(2)
    if left.button(tr("rd.why_add"), key="rd_why_add"):
        ops.append(op)
        st.rerun()
    if right.button(tr("rd.why_new"), key="rd_why_new"):
        st.session_state["rd_scenario_pending"] = NEW
        st.session_state["rd_pending_load"] = ([op], redesign_causes.scenario_name(activity, preset, lang()))
        st.rerun()


with st.expander(tr("rd.why_section")):
    from_waiting_cause(log_id, flt, ops)

scenario = Scenario.of(st.session_state.get("rd_name") or "scenario", ops)
missing = sorted({a for op in ops for a in (op.get("activities") or [])
                  + [x for b in (op.get("branches") or []) for x in b]} - set(activities))
if missing:
    st.warning(tr("rd.missing", names=", ".join(missing)))
st.caption(tr("rd.assumptions"))

# --- Replay and compare. ----------------------------------------------------------------------------------
try:
    evaluation = cache.scenario_evaluation(log_id, scenario, flt)
except UserError as exc:  # e.g. a loaded scenario removes a waiting cause this log cannot tell
    st.error(err(exc))
    st.stop()
table = evaluation.table()
if evaluation.as_is_cases.empty:
    st.warning(tr("ov.empty"))
    st.stop()
row = table.set_index("kpi")
cols = st.columns(4)
words = partial(duration, lang=lang())
for col, kpi, fmt in ((cols[0], "median_cycle_seconds", words), (cols[1], "p90_cycle_seconds", words),
                      (cols[2], "handoffs_per_case", lambda v: f"{v:.1f}"),
                      (cols[3], "departments_per_case", lambda v: f"{v:.1f}")):
    r = row.loc[kpi]
    col.metric(tr(f"rd.k_{kpi}"), fmt(r["to_be"]), delta=(fmt(r["delta"]) if kpi.endswith("seconds")
                                                          else f"{r['delta']:+.1f}"), delta_color="inverse",
               help=tr("rd.metric_help", as_is=fmt(r["as_is"])))

shown = partial(format_kpi, lang=lang())
st.dataframe(pd.DataFrame({
    tr("rd.col_kpi"): [tr(f"rd.k_{k}") for k in table["kpi"]],
    tr("rd.col_as_is"): [shown(k, v) for k, v in zip(table["kpi"], table["as_is"], strict=True)],
    tr("rd.col_to_be"): [shown(k, v) for k, v in zip(table["kpi"], table["to_be"], strict=True)],
    tr("rd.col_delta"): [shown(k, v) for k, v in zip(table["kpi"], table["delta"], strict=True)],
    tr("rd.col_interval"): [f"{shown(k, lo)} … {shown(k, hi)}" for k, lo, hi in
                            zip(table["kpi"], table["delta_low"], table["delta_high"], strict=True)],
}), hide_index=True, key="rd_kpis")
st.plotly_chart(charts.redesign_distribution(evaluation.as_is_cases, evaluation.to_be_cases, lang()), key="rd_dist")

# --- Maps side by side: what changed is drawn in red on the to-be map. ------------------------------------
st.subheader(tr("rd.maps"))
before = cache.discover_map(log_id, list(cache.activity_counts(log_id, flt)), flt)
after = cache.to_be_map(log_id, scenario, flt)
changed = map_render.new_edges(before, after)
gone = sorted(set(before.activities) - set(after.activities))
new_nodes = sorted(set(after.activities) - set(before.activities))
shared = map_render.shared_colours(before, after)   # today's departments keep their colours on both maps
left, right = st.columns(2)
for column, pm, title, hot in ((left, before, tr("rd.as_is"), set()), (right, after, tr("rd.to_be"), changed)):
    svg = map_render.frequency_svg(pm, shared, hot)
    height = int(min(max(map_render.svg_size(svg)[1] + 20, 400), 800))
    column.markdown(f"**{title}**")
    with column:
        st.iframe(map_render.zoomable_html(svg, height, tr("pm.fit")), height=height)
if changed or gone or new_nodes:
    st.caption(tr("rd.changes", edges=len(changed), gone=", ".join(gone) or MISSING,
                      new=", ".join(new_nodes) or MISSING))
st.download_button(tr("rd.download_svg"), map_render.to_svg(after, {}, {}, {}, changed, shared), file_name="to_be_map.svg",
                   mime="image/svg+xml", key="rd_svg")


# --- Conformance: how today's cases fit the to-be flow (or a BPMN model of it). ---------------------------
st.subheader(tr("rd.conformance"))
bpmn = st.file_uploader(tr("rd.bpmn"), type=["bpmn", "xml"], key="rd_bpmn")
result = evaluation.conformance   # how they fit the scenario's own to-be flow
if bpmn is not None:
    try:
        result = cache.conformance_of_bpmn(log_id, bpmn.getvalue().decode("utf-8-sig", errors="replace"), flt)
    except ValueError as exc:
        result = None
        st.error(tr("rd.bad_bpmn", detail=err(exc)))
if result is not None:
    a, b, c = st.columns(3)
    a.metric(tr("rd.fitness"), f"{result.fitness:.1%}", help=tr("rd.method", method=result.method))
    b.metric(tr("rd.fitting"), f"{result.fitting_cases_share:.1%}")
    c.metric(tr("rd.checked"), f"{result.cases_checked_share:.0%}", help=tr("rd.checked_help"))
    if result.deviations:
        frame = pd.DataFrame([vars(d) for d in result.deviations])
        st.dataframe(pd.DataFrame({
            tr("bn.col_activity"): frame["activity"], tr("bn.col_department"): frame["department"],
            tr("rd.col_kind"): frame["kind"].map(lambda k: tr(f"rd.kind_{k}")), tr("ho.m_cases"): frame["cases"],
        }), hide_index=True, key="rd_deviations")
    else:
        st.caption(tr("rd.no_deviations"))

finding_form.save_finding_form("redesign", finding_form.redesign_choices(log_id, flt, scenario, table))
