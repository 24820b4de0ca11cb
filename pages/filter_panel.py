"""The global filter in the sidebar: widgets for every condition, chips for the active ones, one reset.

Each condition lives in its own widget keys (suffixed with the log id, since values belong to one log);
a chip's ✕ and the reset button clear those keys in a callback, before the widgets are drawn again.
Pages read the result as one CaseFilter from `state.active_filter()`.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analysis.filters import ALL, TIME_MODES, CaseFilter
from analysis.formatting import DAY, days, duration
from pages import cache
from pages.state import active_filter, lang, tr

PREFIX = "flt_"
ARROW = " → "


def _keys(name: str, log_id: int) -> list[str]:
    """The widget keys holding one condition (attribute conditions are named attr:<attribute>)."""
    if name.startswith("attr:"):
        return [f"flt_attr_{log_id}_{name[5:]}"]
    return {
        "time": [f"flt_time_{log_id}", f"flt_mode_{log_id}"], "variants": [f"flt_variants_{log_id}"],
        "variants_top": [f"flt_top_{log_id}"], "activities_present": [f"flt_present_{log_id}"],
        "activities_absent": [f"flt_absent_{log_id}"], "departments": [f"flt_depts_{log_id}"],
        "cycle_time": [f"flt_cmin_{log_id}", f"flt_cmax_{log_id}"], "start_activities": [f"flt_start_{log_id}"],
        "end_activities": [f"flt_end_{log_id}"], "directly_follows": [f"flt_df_{log_id}"],
        "eventually_follows": [f"flt_ef_{log_id}"],
    }[name]


def _clear(keys: list[str]) -> None:
    """Callback: forget the given widget values (the widgets come back at their defaults)."""
    for key in keys:
        st.session_state.pop(key, None)


def _reset() -> None:
    """Callback: forget every filter widget's value."""
    _clear([k for k in st.session_state if k.startswith(PREFIX)])
    st.session_state["case_filter"] = ALL


def choose_variants(log_id: int, variant_ids: list[int]) -> None:
    """Filter the app to these variants (called by the Variants page; applied on the next run)."""
    st.session_state["pending_variants"] = (log_id, [int(v) for v in variant_ids])


def _short(names, limit: int = 48) -> str:
    """A comma-separated list cut to `limit` characters for a chip."""
    text = ", ".join(names)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chip_label(name: str, flt: CaseFilter) -> str:
    """What a chip says: the condition and its values."""
    if name.startswith("attr:"):
        attr = name[5:]
        return f"{attr}: {_short(dict(flt.attributes)[attr])}"
    if name == "time":
        return tr("flt.chip_time", mode=tr(f"mode.{flt.time_mode}"), lo=flt.time_from or "…", hi=flt.time_to or "…")
    if name == "cycle_time":
        lo = duration(flt.cycle_min_seconds, lang()) if flt.cycle_min_seconds is not None else "0"
        hi = duration(flt.cycle_max_seconds, lang()) if flt.cycle_max_seconds is not None else "∞"
        return tr("flt.chip_cycle", lo=lo, hi=hi)
    if name == "variants_top":
        return tr("flt.chip_top", k=flt.variants_top)
    if name == "variants":
        return tr("flt.chip_variants", n=len(flt.variants))
    value = getattr(flt, name)
    if name in ("directly_follows", "eventually_follows"):
        value = [a + ("→" if name == "directly_follows" else "…") + b for a, b in value]
    return f"{tr('flt.' + name)}: {_short(value)}"


def _pair_label(pair: tuple[str, str]) -> str:
    """An option 'A → B'."""
    return pair[0] + ARROW + pair[1]


def panel(log_id: int) -> None:
    """Draw the filter and store it in session state as `case_filter`."""
    first, last = cache.time_span(log_id)
    if first is None:
        return
    pending = st.session_state.pop("pending_variants", None)
    if pending and pending[0] == log_id:
        st.session_state[f"flt_variants_{log_id}"] = pending[1]
    choices = cache.filter_choices(log_id)
    activities, departments = choices["activities"], choices["departments"]
    box = st.sidebar.expander(tr("side.filter"), expanded=not active_filter().is_empty)
    cases_tab, steps_tab, paths_tab = box.tabs([tr("flt.tab_cases"), tr("flt.tab_steps"), tr("flt.tab_paths")])

    lo, hi = first.date(), last.date()
    span = cases_tab.date_input(tr("side.time_range"), value=(lo, hi), min_value=lo, max_value=hi,
                                key=f"flt_time_{log_id}")
    mode = cases_tab.selectbox(tr("side.time_mode"), TIME_MODES, index=TIME_MODES.index("intersecting"),
                               format_func=lambda m: tr(f"mode.{m}"), key=f"flt_mode_{log_id}")
    time_from = time_to = None
    if isinstance(span, (tuple, list)) and len(span) == 2:
        if span[0] > lo:
            time_from = span[0].isoformat()
        if span[1] < hi:
            time_to = span[1].isoformat()
    flt = CaseFilter(time_from, time_to, mode)
    for name in cache.case_attribute_names(log_id):
        values = cache.case_attribute_values(log_id, name)
        chosen = cases_tab.multiselect(name, values, key=f"flt_attr_{log_id}_{name}")
        flt = flt.with_attribute(name, tuple(chosen))
    longest = max(1.0, days(choices["max_cycle_seconds"]))
    cmin = cases_tab.number_input(tr("flt.cycle_min"), min_value=0.0, max_value=longest, value=None, step=1.0,
                                  key=f"flt_cmin_{log_id}")
    cmax = cases_tab.number_input(tr("flt.cycle_max"), min_value=0.0, max_value=longest, value=None, step=1.0,
                                  key=f"flt_cmax_{log_id}")
    if departments:
        flt = replace(flt, departments=tuple(cases_tab.multiselect(
            tr("flt.departments"), departments, key=f"flt_depts_{log_id}")))

    catalogue = cache.variant_catalogue(log_id)
    labels = {int(r.variant_id): tr("flt.variant_option", rank=i + 1, cases=int(r.cases),
                                    steps=ARROW.join(r.activities))
              for i, r in enumerate(catalogue.itertuples())}
    sequences = {int(r.variant_id): tuple(r.activities) for r in catalogue.itertuples()}
    chosen_variants = steps_tab.multiselect(tr("flt.variants"), list(labels), format_func=lambda v: labels[v],
                                            key=f"flt_variants_{log_id}")
    top = steps_tab.number_input(tr("flt.variants_top"), min_value=1, value=None, step=1, key=f"flt_top_{log_id}")
    flt = replace(
        flt,
        variants=tuple(sequences[v] for v in chosen_variants if v in sequences),
        variants_top=int(top) if top else None,
        activities_present=tuple(steps_tab.multiselect(tr("flt.activities_present"), activities,
                                                       key=f"flt_present_{log_id}")),
        activities_absent=tuple(steps_tab.multiselect(tr("flt.activities_absent"), activities,
                                                      key=f"flt_absent_{log_id}")),
        start_activities=tuple(steps_tab.multiselect(tr("flt.start_activities"), activities,
                                                     key=f"flt_start_{log_id}")),
        end_activities=tuple(steps_tab.multiselect(tr("flt.end_activities"), activities, key=f"flt_end_{log_id}")),
        directly_follows=tuple(paths_tab.multiselect(tr("flt.directly_follows"), choices["pairs"],
                                                     format_func=_pair_label, key=f"flt_df_{log_id}")),
        eventually_follows=tuple(paths_tab.multiselect(
            tr("flt.eventually_follows"), [(a, b) for a in activities[:60] for b in activities[:60]],
            format_func=_pair_label, key=f"flt_ef_{log_id}")),
        cycle_min_seconds=cmin * DAY if cmin is not None else None,
        cycle_max_seconds=cmax * DAY if cmax is not None else None,
    )
    st.session_state["case_filter"] = flt
    _chips(log_id, flt)


def _chips(log_id: int, flt: CaseFilter) -> None:
    """The active conditions as removable chips, the share of cases kept, and the reset button."""
    if flt.is_empty:
        return
    total = cache.case_count(log_id, ALL)
    kept = cache.case_count(log_id, flt)
    st.sidebar.markdown(f"**{tr('side.kept', kept=kept, total=total, share=kept / total if total else 0)}**")
    names = [n for n in flt.active() if n != "attributes"] + [f"attr:{n}" for n, _ in flt.attributes]
    for name in names:
        st.sidebar.button(f"✕ {_chip_label(name, flt)}", key=f"flt_chip_{name}", on_click=_clear,
                          args=(_keys(name, log_id),), help=tr("flt.chip_help"))
    st.sidebar.button(tr("side.reset"), key="flt_reset", on_click=_reset, type="primary")
