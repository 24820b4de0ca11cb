"""Plotly figures: one builder per chart, shared by the pages and the report.

Each builder takes an analysis result (a frame or dict from overview, bottlenecks, handoffs, redesign,
compare, triage, cases) and the language, and returns a `go.Figure` with the page's titles and axis labels;
durations are shown in days (`formatting.DAY`) or in words (`formatting.duration`). The pages hand the figure
to `st.plotly_chart`; the report restyles it for print (template, fonts, height, legend below) and inlines it.
Names from a user's log are escaped with `label`: plotly reads `<b>`, `<a href>` and friends in its labels,
and decodes the entities again when it draws them, so a name shows exactly as written.

By page: Overview `cycle_time_histogram`, `throughput`, `cycle_by_attribute`; Bottlenecks `pareto`,
`wait_vs_work`, `wait_trend`, `wait_heatmap`, `path_waits`, `waiting_causes` (Hand-offs too); Hand-offs
`handoff_heatmap`, `handoff_cost`, `front_line_held`; Redesign `redesign_distribution`; Compare `compare_steps`; Project or routine
`triage_scatter`; Variants & cases `variant_chart`, `case_timeline`.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from analysis import compare, process_map, triage, waiting_words
from analysis.formatting import DAY, duration, is_missing
from analysis.texts import t
from analysis.waiting_causes import CAUSES

COLOURS = {"wait": "#d62728", "work": "#1f77b4", "line": "#333333", "guide": "#999999", "as_is": "#7f7f7f",
           "to_be": "#2ca02c", "a": "#1f77b4", "b": "#d62728", "waiting": "#bbbbbb"}
# One colour per cause of waiting (waiting_causes.CAUSES), the same on every page and in the report.
CAUSE_COLOURS = {"batching": "#9467bd", "prioritization": "#ff7f0e", "contention": "#d62728",
                 "unavailability": "#7f7f7f", "extraneous": "#8c564b"}
# The Pareto chart's guide: the few steps holding 60% of all waiting (bottlenecks.pareto's default share).
PARETO_LINE = 60


def label(text) -> str:
    """A name for a chart label, escaped (plotly reads a few HTML tags in labels)."""
    return html.escape(str(text), quote=False)


def _name(value, missing: str) -> str:
    """A name for a label, or `missing` when there is none (a NULL reaches pandas as NaN or None)."""
    return missing if is_missing(value) or value == "" else label(value)


def _labels(values: pd.Series) -> pd.Series:
    """Every name of a column escaped for chart labels."""
    return values.map(label)


# --- Overview --------------------------------------------------------------------------------------------------


def cycle_time_histogram(cycle_seconds: pd.Series, lang: str, median_seconds: float | None = None,
                         p90_seconds: float | None = None) -> go.Figure:
    """Cycle times in days (overview.cycle_times' cycle_seconds), with the median and P90 marked."""
    days_label, cases_label = t("axis.days", lang), t("ov.dist_y", lang)
    fig = px.histogram(x=cycle_seconds / DAY, nbins=60, title=t("ov.dist", lang),
                       labels={"x": days_label, "count": cases_label})
    fig.update_layout(yaxis_title=cases_label, xaxis_title=days_label, bargap=0.05, showlegend=False)
    fig.update_traces(hovertemplate=f"%{{x}} {days_label}<br>%{{y}} {cases_label}<extra></extra>")
    for value, key, dash in ((median_seconds, "ov.median", "solid"), (p90_seconds, "ov.p90", "dash")):
        if not is_missing(value):
            fig.add_vline(x=value / DAY, line_dash=dash, line_color=COLOURS["wait"],
                          annotation_text=f"{t(key, lang)} {duration(value, lang)}", annotation_position="top right")
    return fig


def throughput(weekly: pd.DataFrame, lang: str) -> go.Figure:
    """Cases started and finished per week (overview.weekly_throughput)."""
    long = weekly.melt(id_vars="week", value_vars=["started", "finished"], var_name="kind", value_name="cases")
    long["kind"] = long["kind"].map({"started": t("ov.started", lang), "finished": t("ov.finished", lang)})
    fig = px.line(long, x="week", y="cases", color="kind", title=t("ov.weekly", lang),
                  labels={"week": t("ov.week", lang), "cases": t("ov.dist_y", lang), "kind": ""})
    fig.update_xaxes(tickformat="%Y-%m")
    return fig


def cycle_by_attribute(stats: pd.DataFrame, attribute: str, lang: str) -> go.Figure:
    """One box of cycle time in days per value of a case attribute (overview.cycle_by_attribute)."""
    fig = go.Figure()
    for _, s in stats.iterrows():
        name = label(s["value"])
        fig.add_trace(go.Box(
            name=name, x=[name], q1=[s["q1"] / DAY], median=[s["median"] / DAY], q3=[s["q3"] / DAY],
            lowerfence=[s["lower_fence"] / DAY], upperfence=[s["upper_fence"] / DAY],
            hoverinfo="y+name", showlegend=False,
        ))
    fig.update_layout(title=t("ov.by_attr", lang, attr=label(attribute)), yaxis_title=t("axis.days", lang),
                      xaxis_title=label(attribute))
    return fig


# --- Bottlenecks -----------------------------------------------------------------------------------------------


def pareto(activities: pd.DataFrame, lang: str, top: int = 15) -> go.Figure:
    """Each step's share of all waiting and the running total (bottlenecks.activity_stats, ranked)."""
    head = activities.head(top)
    names = _labels(head["activity"])
    fig = go.Figure()
    fig.add_bar(x=names, y=head["share_of_waiting"] * 100, name=t("bn.share_of_waiting", lang),
                marker_color=COLOURS["wait"])
    fig.add_scatter(x=names, y=head["share_of_waiting"].cumsum() * 100, name=t("bn.cumulative", lang),
                    mode="lines+markers", line_color=COLOURS["line"])
    fig.add_hline(y=PARETO_LINE, line_dash="dot", line_color=COLOURS["guide"])
    fig.update_layout(title=t("bn.pareto", lang), yaxis_title="%", yaxis_range=[0, 105], legend_orientation="h")
    return fig


def wait_vs_work(activities: pd.DataFrame, lang: str, top: int = 15) -> go.Figure:
    """Case-days waiting and processing per step, stacked (bottlenecks.activity_stats; needs start times)."""
    head = activities.head(top).assign(activity=lambda d: _labels(d["activity"]))
    totals = head.melt(id_vars="activity", value_vars=["total_wait_seconds", "total_processing_seconds"],
                       var_name="kind", value_name="seconds")
    totals["days"] = totals["seconds"] / DAY
    totals["kind"] = totals["kind"].map({"total_wait_seconds": t("bn.waiting", lang),
                                         "total_processing_seconds": t("bn.processing", lang)})
    fig = px.bar(totals, y="activity", x="days", color="kind", orientation="h", title=t("bn.wait_vs_work", lang),
                 labels={"activity": "", "days": t("bn.case_days", lang), "kind": ""},
                 color_discrete_sequence=[COLOURS["wait"], COLOURS["work"]])
    fig.update_yaxes(autorange="reversed")
    return fig


def wait_trend(monthly: pd.DataFrame, lang: str) -> go.Figure:
    """The median wait in days before some steps, month by month (bottlenecks.monthly_wait)."""
    frame = monthly.assign(days=monthly["median_wait_seconds"] / DAY, activity=_labels(monthly["activity"]))
    fig = px.line(frame, x="month", y="days", color="activity", markers=True,
                  labels={"month": "", "days": t("bn.median_wait_days", lang), "activity": ""})
    fig.update_xaxes(tickformat="%Y-%m")
    return fig


def wait_heatmap(heat: pd.DataFrame, attribute: str, lang: str, order: list[str] | None = None) -> go.Figure:
    """Median wait in days per attribute value × step (bottlenecks.wait_by_attribute), steps in `order`."""
    grid = heat.pivot(index="value", columns="activity", values="median_wait_seconds") / DAY
    if order is not None:
        grid = grid[[a for a in order if a in grid.columns]]
    grid = grid.rename(index=label, columns=label)
    return px.imshow(grid, aspect="auto", color_continuous_scale="Reds", text_auto=".1f",
                     labels={"x": "", "y": label(attribute), "color": t("bn.median_wait_days", lang)})


def path_waits(edges: pd.DataFrame, lang: str, top: int = 15) -> go.Figure:
    """Case-days waited on the paths holding most waiting (bottlenecks.edge_stats, ranked)."""
    frame = edges.assign(path=_labels(edges["source"]) + " → " + _labels(edges["target"]))
    head = frame.head(top).iloc[::-1]
    return px.bar(head, x=head["total_wait_seconds"] / DAY, y="path", orientation="h",
                  title=t("bn.paths_chart", lang), labels={"x": t("bn.case_days", lang), "path": ""},
                  color_discrete_sequence=[COLOURS["wait"]], hover_data={"frequency": True})



def cause_label(cause: str, lang: str) -> str:
    """A cause's name as a legend or column entry: waiting_words.cause_name with a capital first letter."""
    name = waiting_words.cause_name(cause, lang)
    return name[:1].upper() + name[1:]


def waiting_causes(rows: pd.DataFrame, lang: str, working: bool = False, top: int = 15,
                   title_key: str = "why.chart_title_activity") -> go.Figure:
    """Why it waits: case-days of waiting per key (waiting_causes.diagnose's rows, most waiting first),
    stacked by cause; the working-time parts when `working`. Horizontal bars keep long names readable."""
    suffix = "_working_seconds" if working else "_seconds"
    head = rows.head(top).iloc[::-1]
    names = _labels(head["key"])
    total = sum(head[f"{c}{suffix}"] for c in CAUSES).replace(0, float("nan"))
    fig = go.Figure()
    for cause in CAUSES:
        seconds = head[f"{cause}{suffix}"]
        name = cause_label(cause, lang)
        fig.add_bar(y=names, x=seconds / DAY, orientation="h", name=name,
                    marker_color=CAUSE_COLOURS[cause], customdata=(seconds / total * 100).fillna(0),
                    hovertemplate=f"%{{y}}<br>{name}: %{{x:.1f}} "
                                  f"{t('bn.case_days', lang)} (%{{customdata:.0f}}%)<extra></extra>")
    fig.update_layout(barmode="stack", title=t(title_key, lang), xaxis_title=t("bn.case_days", lang),
                      legend={"orientation": "h", "traceorder": "normal", "yanchor": "bottom", "y": 1.0,
                              "xanchor": "right", "x": 1.0},
                      height=max(340, 120 + 28 * len(head)))
    fig.update_yaxes(automargin=True)
    return fig

# --- Hand-offs -------------------------------------------------------------------------------------------------


def handoff_heatmap(matrix: pd.DataFrame, lang: str, measure: str = "count", top: int | None = None) -> go.Figure:
    """From × to grid of one measure of handoffs.handoff_matrix (seconds shown in days); `top` pairs only."""
    shown = matrix if top is None else matrix.head(top)
    grid = shown.pivot(index="from", columns="to", values=measure)
    seconds = measure.endswith("seconds")
    if seconds:
        grid = grid / DAY
    names = sorted(set(grid.index) | set(grid.columns))
    grid = grid.reindex(index=names, columns=names).rename(index=label, columns=label)
    fig = px.imshow(grid, aspect="auto", color_continuous_scale="Reds", text_auto=".1f" if seconds else True,
                    labels={"x": t("ho.to", lang), "y": t("ho.from", lang), "color": t(f"ho.m_{measure}", lang)})
    fig.update_layout(height=max(420, 28 * len(names) + 160))
    return fig


def handoff_cost(cost: dict, lang: str) -> go.Figure:
    """Median cycle days by hand-offs per case, the fitted line and its 90% band (handoffs.handoff_cost_of)."""
    groups = cost["by_handoffs"]
    fig = go.Figure()
    fig.add_scatter(x=groups["handoffs"], y=groups["median_cycle_seconds"] / DAY, mode="markers",
                    marker={"size": 6 + 30 * (groups["cases"] / groups["cases"].max()) ** 0.5, "color": COLOURS["work"]},
                    name=t("ho.median_by_count", lang), text=groups["cases"],
                    hovertemplate="%{x}: %{y:.1f} · %{text} " + t("va.col_cases", lang) + "<extra></extra>")
    if not is_missing(cost["seconds_per_handoff"]):
        xs = groups["handoffs"]
        # The line passes through the median case (weighted median of the groups).
        order = groups.sort_values("handoffs")
        middle = order["cases"].cumsum().searchsorted(order["cases"].sum() / 2)
        centre_x, centre_y = float(order["handoffs"].iloc[middle]), float(order["median_cycle_seconds"].iloc[middle])
        for value, dash, name in ((cost["seconds_per_handoff"], "solid", t("ho.fit", lang)),
                                  (cost["low"], "dot", "90%"), (cost["high"], "dot", "90%")):
            if not is_missing(value):
                fig.add_scatter(x=xs, y=(centre_y + value * (xs - centre_x)) / DAY, mode="lines",
                                line={"dash": dash, "color": COLOURS["wait"]}, name=name)
    fig.update_layout(title=t("ho.cost_chart", lang), xaxis_title=t("ho.handoffs_per_case", lang),
                      yaxis_title=t("ho.cycle_days", lang))
    return fig


def front_line_held(front_table: pd.DataFrame, lang: str) -> go.Figure:
    """Median days each department holds the front line's work (handoffs.front_line_waits)."""
    rows = front_table.iloc[::-1].assign(department=lambda d: _labels(d["department"]))
    return px.bar(rows, x=rows["median_held_seconds"] / DAY, y="department", orientation="h",
                  labels={"x": t("ho.held_days", lang), "department": ""}, color_discrete_sequence=[COLOURS["wait"]],
                  title=t("ho.front_chart", lang))


# --- Redesign, Compare -----------------------------------------------------------------------------------------


def redesign_distribution(as_is: pd.DataFrame, to_be: pd.DataFrame, lang: str) -> go.Figure:
    """Cycle times in days as-is and to-be, overlaid (redesign.replay of no scenario and of the scenario)."""
    fig = go.Figure()
    for frame, name, colour in ((as_is, t("rd.as_is", lang), COLOURS["as_is"]),
                                (to_be, t("rd.to_be", lang), COLOURS["to_be"])):
        fig.add_histogram(x=frame["cycle_seconds"] / DAY, name=name, opacity=0.6, marker_color=colour, nbinsx=60)
    fig.update_layout(barmode="overlay", title=t("rd.distribution", lang), xaxis_title=t("axis.days", lang),
                      yaxis_title=t("ov.dist_y", lang), legend_orientation="h")
    return fig


def compare_steps(steps: pd.DataFrame, lang: str) -> go.Figure:
    """Days per case in each step for groups A and B, the steps that differ most first (compare.activity_table)."""
    top = compare.biggest_differences(steps)
    activity = _labels(top["activity"])
    bars = pd.concat([
        pd.DataFrame({"activity": activity, "group": "A", "days": top["time_per_case_a"] / DAY}),
        pd.DataFrame({"activity": activity, "group": "B", "days": top["time_per_case_b"] / DAY}),
    ])
    fig = px.bar(bars, y="activity", x="days", color="group", barmode="group", orientation="h",
                 title=t("cmp.steps_chart", lang), labels={"activity": "", "days": t("cmp.days_per_case", lang),
                                                           "group": ""},
                 color_discrete_map={"A": COLOURS["a"], "B": COLOURS["b"]})
    fig.update_yaxes(autorange="reversed")
    return fig


# --- Project or routine, Variants & cases ----------------------------------------------------------------------


def triage_scatter(triaged: pd.DataFrame, lang: str) -> go.Figure:
    """Every case by hand-offs and cycle days, coloured by track, with the tracks' boxes (triage.triage)."""
    names = {track: t(f"tg.track.{track}", lang) for track in triage.TRACKS}
    plot = pd.DataFrame({"case": _labels(triaged["case_id"]), "handoffs": triaged["handoffs"],
                         "days": triaged["cycle_seconds"] / DAY, "score": triaged["score"],
                         "track": triaged["track"].map(names)})
    return px.scatter(plot, x="handoffs", y="days", color="track", hover_name="case", hover_data={"score": True},
                      opacity=0.45, marginal_y="box", title=t("tg.scatter", lang),
                      category_orders={"track": list(names.values())},
                      labels={"handoffs": t("tg.axis_handoffs", lang), "days": t("tg.axis_cycle", lang),
                              "track": t("tg.axis_track", lang)})


def variant_chart(variants: pd.DataFrame, lang: str, top: int = 30) -> go.Figure:
    """Cases per variant by rank, with the cumulative share of cases on a second axis (cases.variant_table)."""
    head = variants.head(top)
    fig = px.bar(head, x="rank", y="cases", hover_data={"median_seconds": False},
                 labels={"rank": t("va.axis_rank", lang), "cases": t("va.col_cases", lang)}, title=t("va.chart", lang))
    fig.add_scatter(x=head["rank"], y=head["cumulative_share"] * 100, yaxis="y2", name=t("va.col_cum", lang),
                    mode="lines+markers")
    fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "range": [0, 101], "title": "%", "tickmode": "linear",
                              "dtick": 20, "showgrid": False}, showlegend=False)
    return fig


def case_timeline(timeline: pd.DataFrame, lang: str, departments: list[str], cycle_seconds: float) -> go.Figure:
    """One case's events as bars by department, each after a grey bar for its wait (cases.case_timeline).

    `departments` are the log's, in name order: they take the palette in turn, as on the map.
    """
    waiting, unknown = t("va.waiting", lang), t("va.no_department", lang)
    steps = [f"{p}. {label(a)}" for p, a in zip(timeline["pos"], timeline["activity"], strict=True)]
    # An event without a start time is drawn as a thin mark: 1/400 of the case's cycle time, at least a minute.
    mark = pd.Timedelta(minutes=max(1, cycle_seconds / 60 / 400))
    bars = []
    for step, ev in zip(steps, timeline.itertuples(), strict=True):
        if not is_missing(ev.wait_seconds) and ev.wait_seconds > 0:
            bars.append({"step": step, "from": ev.wait_from, "to": ev.start, "kind": waiting,
                         "what": t("va.wait_hover", lang, d=duration(ev.wait_seconds, lang))})
        end = ev.end if ev.end > ev.start else ev.start + mark
        work = duration(ev.processing_seconds, lang)
        bars.append({"step": step, "from": ev.start, "to": end, "kind": _name(ev.department, unknown),
                     "what": f"{_name(ev.resource, '')} · {t('va.work_hover', lang, d=work)}"})
    # The map's colours: the log's departments in name order take the palette in turn.
    colours = {label(d): process_map.PALETTE[i % len(process_map.PALETTE)] for i, d in enumerate(departments)}
    colours[waiting] = COLOURS["waiting"]
    fig = px.timeline(pd.DataFrame(bars), x_start="from", x_end="to", y="step", color="kind", hover_name="what",
                      color_discrete_map=colours, category_orders={"step": steps})
    fig.update_yaxes(title="")  # px.timeline lists the first step at the top
    fig.update_layout(legend_title_text="", height=max(260, 32 * len(steps) + 120))
    return fig
