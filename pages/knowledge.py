"""Knowledge base: saved findings — search them, open one with its evidence, re-run it on the current data (then vs
now), mark how its remedy worked out, delete it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import findings, store
from analysis.formatting import MISSING
from pages import cache
from pages.state import active_log, err, lang, page_title, tr, viewer_mode

state = st.session_state


def log_label(log_id) -> str:
    """A log's name; findings keep the name of a log deleted since."""
    if log_id is None or log_id != log_id:
        return tr("kb.any")
    return log_names.get(int(log_id)) or tr("kb.log_gone")  # log_names: read below, before any call


def outcome_label(outcome) -> str:
    """How a remedy worked out, in words ("" when not marked yet)."""
    return tr(f"kb.outcome_{outcome}") if isinstance(outcome, str) and outcome else ""


def figures_table(rows: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    """Figures with readable names and values (durations, shares, counts) in the chosen language."""
    chosen = lang()
    return pd.DataFrame({tr(f"kb.col_{c}"): [findings.figure_label(r["figure"], chosen) if c == "figure"
                                            else findings.format_figure(r["figure"], r[c], chosen) for r in rows]
                         for c in columns})


def save_outcome(finding_id: int) -> None:
    """The outcome button's callback."""
    cache.kb_set_outcome(finding_id, state["kb_outcome"], state.get("kb_outcome_note") or "")
    state["kb_message"] = tr("kb.outcome_saved")


def delete(finding_id: int) -> None:
    """The delete button's callback (the finding's widgets are reset with it)."""
    cache.kb_delete(finding_id)
    state["kb_message"] = tr("kb.deleted", id=finding_id)
    state.pop("kb_open", None)
    state["kb_delete_confirm"] = False


page_title("page.knowledge", "kb.intro")
if message := state.pop("kb_message", None):
    st.success(message)

everything = cache.kb_list()
if everything.empty:
    st.info(tr("kb.empty"))
    st.stop()
log_names = {info.log_id: info.name for info in cache.logs()}

# Search and filters.
top = st.columns([3, 2, 2, 2, 2])
query = top[0].text_input(tr("kb.search"), key="kb_search")
tags = top[1].multiselect(tr("kb.filter_tags"), cache.kb_tags(), key="kb_filter_tags")
department = top[2].selectbox(tr("kb.filter_department"), [None, *cache.kb_departments()],
                              key="kb_filter_department", format_func=lambda d: tr("kb.any") if d is None else d)
saved_on = sorted({int(i) for i in everything["log_id"].dropna()})
log_filter = top[3].selectbox(tr("kb.filter_log"), [None, *saved_on], format_func=log_label, key="kb_filter_log")
since = top[4].date_input(tr("kb.filter_since"), value=None, key="kb_filter_since")
shown = cache.kb_list(query, tuple(tags), department, log_filter, since)
st.caption(tr("kb.count", n=len(shown), total=len(everything)))
if shown.empty:
    st.info(tr("kb.no_match"))
    st.stop()


st.dataframe(pd.DataFrame({
    tr("kb.col_id"): shown["finding_id"], tr("kb.col_created"): shown["created_at"],
    tr("kb.col_title"): shown["title"],
    tr("kb.col_kind"): shown["kind"].map(lambda k: findings.kind_label(k, lang())),
    tr("kb.col_log"): [n or tr("kb.log_gone") for n in shown["log_name"]],
    tr("kb.col_tags"): shown["tags"].map(", ".join), tr("kb.col_outcome"): shown["outcome"].map(outcome_label),
}), hide_index=True, key="kb_table")

# One finding, opened.
ids = [int(i) for i in shown["finding_id"]]
titles = dict(zip(ids, shown["title"], strict=True))
if state.get("kb_open") not in ids:
    state.pop("kb_open", None)  # the search no longer lists it
finding_id = st.selectbox(tr("kb.open"), ids, format_func=lambda i: f"#{i} {titles[i]}", key="kb_open")
f = cache.kb_get(finding_id)
ev = f.evidence

st.subheader(f"#{f.finding_id} {f.title}")
for name in ("symptom", "cause", "remedy", "impact"):
    if getattr(f, name):
        st.markdown(f"**{tr('kb.' + name)}:** {getattr(f, name)}")
if f.tags:
    st.caption(" · ".join(f"#{tag}" for tag in f.tags))

st.markdown(f"**{tr('kb.evidence')}** — " + tr("kb.subject", kind=findings.kind_label(ev.kind, lang()),
                                                subject=findings.subject(ev) or tr("kb.filter_all")))
st.caption(tr("kb.evidence_line", when=f.created_at, page=tr(f"page.{ev.page}") if ev.page else MISSING,
              log=f.log_name or tr("kb.log_gone"),
              filter=tr("kb.filter_all") if ev.flt.is_empty else ", ".join(ev.flt.active()),
              calendar=tr("kb.working_time") if ev.calendar else ""))
if not ev.flt.is_empty:
    with st.expander(tr("side.filter") + " (JSON)"):
        st.code(ev.flt.to_json(), language="json")


st.markdown(f"**{tr('kb.stored')}**")
st.dataframe(figures_table([{"figure": k, "value": v} for k, v in ev.figures.items()], ("figure", "value")),
             hide_index=True, key="kb_stored")

# Re-run on the current data: the active log by default, any log on demand.
log_ids = list(log_names)
if log_ids:
    default = active_log() if active_log() in log_ids else (f.log_id if f.log_id in log_ids
                                                                          else log_ids[0])
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    rerun_log = left.selectbox(tr("kb.rerun_log"), log_ids, index=log_ids.index(default), format_func=log_label,
                               key="kb_rerun_log")
    if right.button(tr("kb.rerun"), key="kb_rerun", icon=":material/refresh:"):
        try:
            state["kb_rerun_result"] = cache.kb_rerun(finding_id, rerun_log)
        except (store.StoreError, ValueError, KeyError) as exc:
            st.error(tr("kb.rerun_failed", detail=err(exc)))
    result = state.get("kb_rerun_result")
    if result and result["finding_id"] == finding_id:
        st.caption(tr("kb.rerun_caption", then=result["then"]["log_name"] or tr("kb.log_gone"),
                      now=result["now"]["log_name"]))
        if result["unknown"]:
            st.warning(tr("kb.rerun_unknown", values=", ".join(f"{k}: {v}" for k, v in result["unknown"][:8])))
        st.dataframe(figures_table(result["rows"], ("figure", "then", "now", "change")), hide_index=True,
                     key="kb_then_now")

# The remedy's outcome, marked after the fact.
if f.outcome:
    st.markdown(tr("kb.outcome_shown", outcome=outcome_label(f.outcome), when=f.outcome_at, note=f.outcome_note))
else:
    st.caption(tr("kb.no_outcome"))

if not viewer_mode():
    if state.get("kb_outcome_for") != finding_id:
        # Opening another finding shows its own outcome in the widgets.
        state["kb_outcome"] = f.outcome or findings.OUTCOMES[0]
        state["kb_outcome_note"] = f.outcome_note
        state["kb_outcome_for"] = finding_id
    left, right = st.columns([1, 3])
    left.radio(tr("kb.outcome"), findings.OUTCOMES, format_func=outcome_label, key="kb_outcome")
    right.text_area(tr("kb.outcome_note"), key="kb_outcome_note", height=80)
    st.button(tr("kb.outcome_save"), key="kb_outcome_save", on_click=save_outcome, args=(finding_id,))

    st.divider()
    confirm = st.checkbox(tr("kb.delete_confirm"), key="kb_delete_confirm")
    st.button(tr("kb.delete"), key="kb_delete", disabled=not confirm, on_click=delete, args=(finding_id,),
              icon=":material/delete:")
