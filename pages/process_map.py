"""Process map: the directly-follows graph with frequency or time on its edges, simplified by two sliders."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from analysis import exports, map_render, process_map
from analysis.formatting import duration
from pages import cache
from pages.state import lang, page_header, tr


def edge_value(e: process_map.MapEdge, overlay: str) -> float:
    """The overlay's number for an edge (times are 0 on the artificial start and end edges)."""
    return {"frequency": e.frequency, "cases": e.cases, "mean": e.mean_seconds or 0,
            "median": e.median_seconds or 0, "p90": e.p90_seconds or 0}[overlay]


def edge_label(e: process_map.MapEdge, overlay: str) -> str:
    """What the edge says on the map."""
    if overlay in ("frequency", "cases"):
        return f"{edge_value(e, overlay):,}"
    return "" if process_map.START in (e.source, e.target) or process_map.END in (e.source, e.target) \
        else duration(edge_value(e, overlay), lang())


log_id, flt = page_header("pm.title")

overlays = ["frequency", "cases", "mean", "median", "p90"]
left, mid, right = st.columns([2, 3, 3])
overlay = left.radio(tr("pm.overlay"), overlays, format_func=lambda o: tr(f"pm.ov_{o}"), key="pm_overlay")
activity_pct = mid.slider(tr("pm.activities"), 5, 100, 100, step=5, key="pm_activities")
path_pct = right.slider(tr("pm.paths"), 0, 100, 100, step=5, key="pm_paths")

counts = cache.activity_counts(log_id, flt)
if not counts:
    st.warning(tr("ov.empty"))
    st.stop()
kept = process_map.keep_activities(counts, activity_pct / 100)
pm = process_map.prune_paths(cache.discover_map(log_id, kept, flt), path_pct / 100)

values = {(e.source, e.target): edge_value(e, overlay) for e in pm.edges}
labels = {(e.source, e.target): edge_label(e, overlay) for e in pm.edges}
nodes = {a: f"{a}\n{n:,}" for a, n in pm.activities.items()}
# In the time views, the three edges holding the most time in total are drawn in red.
hot = process_map.bottleneck_edges(pm) if overlay in ("mean", "median", "p90") else set()
dot = process_map.to_dot(pm, labels, values, nodes, hot)
svg = map_render.to_svg(pm, labels, values, nodes, hot)
st.caption(tr("pm.caption", activities=len(pm.activities), total=len(counts),
              edges=sum(1 for e in pm.edges if process_map.START != e.source and process_map.END != e.target)))
if hot:
    st.caption(tr("pm.hot"))
# Drawn here, not by Graphviz (no `dot` binary needed); the frame pans and zooms in the browser.
height = int(min(max(map_render.svg_size(svg)[1] + 20, 400), 900))
# Every text in it is escaped by map_render (names come from users' files).
st.iframe(map_render.zoomable_html(svg, height, tr("pm.fit")), height=height)
st.caption(tr("pm.zoom_hint"))

colours = process_map.department_colours(pm)
if colours:
    legend = " ".join(f'<span style="background:{c};padding:2px 8px;border-radius:4px;margin-right:6px">'
                      f"{html.escape(d)}</span>"
                      for d, c in colours.items())
    st.markdown(f"**{tr('pm.legend')}**: {legend}", unsafe_allow_html=True)

table = pd.DataFrame([(e.source, e.target, e.frequency, e.cases, e.mean_seconds, e.median_seconds, e.p90_seconds)
                      for e in pm.edges], columns=[tr("pm.col_from"), tr("pm.col_to"), "frequency", "cases",
                                                   "mean_seconds", "median_seconds", "p90_seconds"])
down0, down1, down2 = st.columns(3)
down0.download_button(tr("pm.download_svg"), svg, file_name="process_map.svg", mime="image/svg+xml", key="pm_svg")
down1.download_button(tr("pm.download_dot"), dot, file_name="process_map.dot", mime="text/vnd.graphviz",
                      key="pm_dot")
down2.download_button(tr("pm.download_csv"), exports.to_csv(table), file_name="process_map_edges.csv",
                      mime="text/csv", key="pm_csv")
