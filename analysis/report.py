"""The report: one self-contained HTML file (KPIs, maps, bottlenecks, hand-offs, redesign, findings) and its
tables as Excel.

The HTML opens without internet: plotly.js is inlined once in the head, the maps are inline SVG, the styles
are inline and use the reader's system fonts. Nothing in it points at a URL. Every value that comes from a
user's log or from a finding is HTML-escaped (inside the charts plotly's JSON escapes `<` and `>`, and
names shown on axes are escaped once more because plotly reads a few HTML tags in its labels).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from functools import lru_cache

import duckdb
import pandas as pd
import plotly.graph_objects as go

from analysis import (
    bottlenecks,
    compare,
    diagnosis,
    exports,
    handoffs,
    map_render,
    overview,
    process_map,
    redesign,
    store,
)
from analysis.diagnosis import duration_words
from analysis.filters import CaseFilter
from analysis.texts import t
from analysis.working_time import WorkCalendar

DAY = 86400.0
# The departments that serve customers, by name (the sample's regional branches); the pages use the same rule.
FRONT_WORDS = ("分公司", "branch", "门店", "store", "区域")
COLOURS = {"wait": "#d62728", "work": "#1f77b4", "line": "#333333", "as_is": "#7f7f7f", "to_be": "#2ca02c",
           "a": "#1f77b4", "b": "#d62728"}
FONT = ("-apple-system, 'Segoe UI', 'Helvetica Neue', Arial, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', "
        "'Source Han Sans SC', 'WenQuanYi Micro Hei', sans-serif")
FINDING_FIELDS = ("symptom", "cause", "remedy", "impact")


@dataclass
class Facts:
    """Everything the report shows, computed once for the HTML and the Excel tables."""

    log_name: str
    has_start: bool
    kpis: dict
    span: tuple
    activities: pd.DataFrame
    edges: pd.DataFrame
    pm: process_map.ProcessMap
    level: str | None
    matrix: pd.DataFrame = field(default_factory=pd.DataFrame)
    pings: pd.DataFrame = field(default_factory=pd.DataFrame)
    cost: dict = field(default_factory=dict)
    share: float | None = None
    front: list[str] = field(default_factory=list)
    front_table: pd.DataFrame | None = None
    scenario: redesign.Scenario | None = None
    comparison: pd.DataFrame | None = None
    as_is: pd.DataFrame | None = None
    to_be: pd.DataFrame | None = None
    to_be_pm: process_map.ProcessMap | None = None
    fit: object | None = None  # conformance.Conformance, when that module is there
    cohorts: object | None = None          # compare.Cohorts: two groups side by side
    cmp_kpis: pd.DataFrame | None = None
    cmp_steps: pd.DataFrame | None = None
    cmp_paths: pd.DataFrame | None = None


def front_line(departments: list[str]) -> list[str]:
    """The default front line: departments whose name says branch, store or region."""
    return [d for d in departments if any(w in d.lower() for w in FRONT_WORDS)]


def _conformance(con: duckdb.DuckDBPyConnection, log_id: int, scenario: redesign.Scenario, flt: CaseFilter | None):
    """How today's cases fit the scenario's to-be flow, or None (no conformance module, or no case kept)."""
    try:
        from analysis import conformance
        to_be_model, check = conformance.to_be_model, conformance.conformance
    except (ImportError, AttributeError):  # the module may not have landed yet: the report leaves the part out
        return None
    model = to_be_model(con, log_id, scenario, flt)
    return None if model is None else check(con, log_id, model, flt)


def gather(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
           scenario: redesign.Scenario | None = None, calendar: WorkCalendar | None = None,
           cohorts=None) -> Facts:
    """Compute every table and map of the report (StoreError when the log does not exist)."""
    info = next((i for i in store.list_logs(con) if i.log_id == log_id), None)
    if info is None:
        raise store.LogNotFound(f"No log {log_id}.")
    k = overview.kpis(con, log_id, flt)
    counts = process_map.activity_counts(con, log_id, flt)
    facts = Facts(
        log_name=info.name, has_start=bool(info.has_start), kpis=k, span=overview.time_span(con, log_id),
        activities=bottlenecks.activity_stats(con, log_id, flt, calendar),
        edges=bottlenecks.edge_stats(con, log_id, flt, calendar),
        pm=process_map.discover_map(con, log_id, list(counts), flt), level=k["handoff_unit"])
    if facts.level and k["cases"]:
        facts.matrix = handoffs.handoff_matrix(con, log_id, flt, facts.level, calendar)
        facts.pings = handoffs.pingpong(con, log_id, flt, facts.level)
        facts.cost = handoffs.handoff_cost_of(con, log_id, flt, facts.level)
        facts.share = handoffs.handoff_wait_share(con, log_id, flt, facts.level, calendar)
    if facts.level == "department" and k["cases"]:
        departments = [r[0] for r in con.execute(
            "SELECT DISTINCT department FROM events WHERE log_id = ? AND department IS NOT NULL ORDER BY 1",
            [log_id]).fetchall()]
        facts.front = front_line(departments)
        if facts.front:
            facts.front_table = handoffs.front_line_waits(con, log_id, facts.front, flt, calendar)
    if scenario is not None and k["cases"]:
        facts.scenario = scenario
        facts.as_is = redesign.replay(con, log_id, None, flt)
        facts.to_be = redesign.replay(con, log_id, scenario, flt)
        facts.comparison = redesign.compare(facts.as_is, facts.to_be)
        facts.to_be_pm = redesign.to_be_map(con, log_id, scenario, flt)
        facts.fit = _conformance(con, log_id, scenario, flt)
    if cohorts is not None and k["cases"]:
        facts.cohorts = cohorts
        facts.cmp_kpis = compare.kpi_table(con, log_id, cohorts)
        facts.cmp_steps = compare.activity_table(con, log_id, cohorts, calendar)
        facts.cmp_paths = compare.path_table(con, log_id, cohorts)
    return facts


# --- tables --------------------------------------------------------------------------------------------------


def _tables(facts: Facts, findings: list[dict] | None = None) -> dict[str, pd.DataFrame]:
    """The report's tables in full, one sheet each (raw numbers, seconds and shares as in the CLI's JSON)."""
    k = facts.kpis
    sheets = {
        "KPIs": pd.DataFrame({"kpi": list(k), "value": [v if v is None or isinstance(v, str) else float(v)
                                                         for v in k.values()]}, dtype=object),
        "Steps": facts.activities,
        "Paths": facts.edges,
        "Map edges": pd.DataFrame([(e.source, e.target, e.frequency, e.cases, e.mean_seconds, e.median_seconds,
                                    e.p90_seconds) for e in facts.pm.edges],
                                  columns=["source", "target", "frequency", "cases", "mean_seconds", "median_seconds",
                                           "p90_seconds"]),
        "Hand-offs": facts.matrix,
        "Ping-pong": facts.pings,
    }
    if facts.front_table is not None:
        sheets["Front line"] = facts.front_table
    if facts.comparison is not None:
        sheets["Redesign"] = facts.comparison
    if facts.cohorts is not None:
        sheets["Compare KPIs"] = facts.cmp_kpis
        sheets["Compare steps"] = facts.cmp_steps
        sheets["Compare paths"] = facts.cmp_paths
    if facts.fit is not None:
        sheets["Deviations"] = pd.DataFrame([vars(d) for d in facts.fit.deviations],
                                            columns=["activity", "department", "kind", "cases"])
    if findings:
        sheets["Findings"] = pd.DataFrame([{"title": f.get("title", ""), **{n: f.get(n, "") for n in FINDING_FIELDS},
                                            "tags": ", ".join(str(x) for x in f.get("tags") or ())}
                                           for f in findings])
    return sheets


def report_tables(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None = None,
                  scenario: redesign.Scenario | None = None) -> dict[str, pd.DataFrame]:
    """The report's tables by sheet name: KPIs, Steps, Paths, Map edges, Hand-offs, Ping-pong, and when they
    apply Front line, Redesign and Deviations."""
    return _tables(gather(con, log_id, flt, scenario))


# --- HTML pieces ---------------------------------------------------------------------------------------------


def esc(value) -> str:
    """Text for HTML (quotes too: safe inside attributes)."""
    return html.escape(str(value), quote=True)


def _sentence(text: str) -> str:
    """A finding sentence: escaped, with its **bold** parts in <strong>."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc(text))


def _plain(text: str) -> str:
    """A label for a plotly chart: plotly reads <b>, <a href> and friends in labels, so names are escaped."""
    return html.escape(str(text), quote=False)


def filter_words(flt: CaseFilter | None, lang: str) -> list[str]:
    """The active conditions of a filter, one phrase each (empty: the filter keeps every case)."""
    if flt is None or flt.is_empty:
        return []
    said = []
    for name in flt.active():
        if name == "attributes":
            said += [f"{n}: {', '.join(v)}" for n, v in flt.attributes]
        elif name == "time":
            said.append(t("flt.chip_time", lang, mode=t(f"mode.{flt.time_mode}", lang), lo=flt.time_from or "…",
                          hi=flt.time_to or "…"))
        elif name == "cycle_time":
            lo = duration_words(flt.cycle_min_seconds, lang) if flt.cycle_min_seconds is not None else "0"
            hi = duration_words(flt.cycle_max_seconds, lang) if flt.cycle_max_seconds is not None else "∞"
            said.append(t("flt.chip_cycle", lang, lo=lo, hi=hi))
        elif name == "variants_top":
            said.append(t("flt.chip_top", lang, k=flt.variants_top))
        elif name == "variants":
            said.append(t("flt.chip_variants", lang, n=len(flt.variants)))
        else:
            values = getattr(flt, name)
            if name in ("directly_follows", "eventually_follows"):
                values = [a + (" → " if name == "directly_follows" else " … ") + b for a, b in values]
            said.append(f"{t('flt.' + name, lang)}: {', '.join(values)}")
    return said


def _number(value, digits: int = 1) -> str:
    """A number for a table cell: whole numbers with thousands separators, others with `digits` decimals."""
    if value is None or value != value:
        return "–"
    return f"{value:,}" if isinstance(value, int) else f"{float(value):,.{digits}f}"


def _table(columns: list[str], rows: list[list], numeric: set[int] = frozenset(), css: str = "") -> str:
    """An HTML table; every cell escaped, `numeric` column positions right-aligned."""
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{esc(c)}</th>' for i, c in enumerate(columns))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{esc(v)}</td>'
                                    for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="table-wrap"><table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


class _Charts:
    """Turns plotly figures into <div>s sharing the plotly.js in the head; counts them."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, fig: go.Figure, height: int = 420) -> str:
        self.count += 1
        fig.update_layout(template="plotly_white", height=height, font={"family": FONT, "size": 13},
                          margin={"l": 60, "r": 30, "t": 60, "b": 60}, title_font_size=16)
        div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{self.count}",
                          config={"displaylogo": False, "responsive": True,
                                  "modeBarButtonsToRemove": ["sendDataToCloud"]})
        return f'<div class="chart">{div}</div>'


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundled with the installed plotly package (never a CDN)."""
    from plotly.offline import get_plotlyjs

    # A literal "</script" inside would end the <script> element early.
    return get_plotlyjs().replace("</script", "<\\/script")


def _map_svg(pm: process_map.ProcessMap, colours: dict[str, str] | None = None,
             highlight: set[tuple[str, str]] = frozenset()) -> str:
    """A map with frequency labels, edge width by frequency, the activity's event count in its box."""
    values = {(e.source, e.target): e.frequency for e in pm.edges}
    labels = {(e.source, e.target): f"{e.frequency:,}" for e in pm.edges}
    nodes = {a: f"{a}\n{n:,}" for a, n in pm.activities.items()}
    return map_render.to_svg(pm, labels, values, nodes, highlight, colours)


def _legend(colours: dict[str, str], lang: str) -> str:
    """The department colours as little swatches."""
    if not colours:
        return ""
    items = "".join(f'<span class="swatch" style="background:{c}">{esc(d)}</span>' for d, c in colours.items())
    return f'<p class="legend"><span class="legend-title">{esc(t("pm.legend", lang))}</span>{items}</p>'


def _findings_box(sentences: list[str]) -> str:
    return '<ul class="insights">' + "".join(f"<li>{_sentence(s)}</li>" for s in sentences) + "</ul>"


def _kpi_cards(k: dict, lang: str) -> str:
    """KPI cards in the order of the Overview page."""
    cards = [(t("kpi.cases", lang), f"{k['cases']:,}"), (t("kpi.events", lang), f"{k['events']:,}"),
             (t("kpi.activities", lang), f"{k['activities']:,}"), (t("kpi.variants", lang), f"{k['variants']:,}"),
             (t("kpi.median_cycle", lang), duration_words(k["median_cycle_seconds"], lang)),
             (t("kpi.p90_cycle", lang), duration_words(k["p90_cycle_seconds"], lang))]
    if k["handoff_unit"]:
        cards.append((t("kpi.handoffs", lang), _number(k["handoffs_per_case"])))
        label = "kpi.departments" if k["handoff_unit"] == "department" else "kpi.resources_per_case"
        cards.append((t(label, lang), _number(k["departments_per_case"])))
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="card-label">{esc(label)}</div><div class="card-value">{esc(value)}</div></div>'
        for label, value in cards) + "</div>"


def _bottleneck_section(facts: Facts, lang: str, charts: _Charts, working: bool) -> str:
    acts = facts.activities
    out = [_findings_box(diagnosis.bottleneck_findings(acts, lang, facts.has_start, working))]
    if acts.empty:
        return "".join(out)
    top = acts.head(15)
    names = [_plain(a) for a in top["activity"]]
    fig = go.Figure()
    fig.add_bar(x=names, y=top["share_of_waiting"] * 100, name=t("bn.share_of_waiting", lang),
                marker_color=COLOURS["wait"])
    fig.add_scatter(x=names, y=top["share_of_waiting"].cumsum() * 100, name=t("bn.cumulative", lang),
                    mode="lines+markers", line_color=COLOURS["line"])
    fig.add_hline(y=60, line_dash="dot", line_color="#999999")
    fig.update_layout(title=t("bn.pareto", lang), yaxis_title="%", yaxis_range=[0, 105], legend_orientation="h",
                      legend_y=-0.35)
    out.append(charts.html(fig, 460))
    if facts.has_start:
        fig = go.Figure()
        for column, kind, colour in (("total_wait_seconds", "bn.waiting", COLOURS["wait"]),
                                     ("total_processing_seconds", "bn.processing", COLOURS["work"])):
            fig.add_bar(y=names, x=top[column].fillna(0) / DAY, name=t(kind, lang), orientation="h",
                        marker_color=colour)
        fig.update_layout(title=t("bn.wait_vs_work", lang), barmode="stack", xaxis_title=t("bn.case_days", lang),
                          legend_orientation="h", legend_y=-0.15)
        fig.update_yaxes(autorange="reversed", automargin=True)
        out.append(charts.html(fig, max(380, 30 * len(top) + 140)))
    else:
        out.append(f'<p class="note">{esc(t("dx.no_start", lang))}</p>')
    out.append(f"<h3>{esc(t('rp.top10', lang))}</h3>")
    rows = [[r.activity, r.department or "–", f"{r.frequency:,}", _number(r.median_wait_seconds / DAY, 2),
             _number(r.p90_wait_seconds / DAY, 2), _number((r.median_processing_seconds or float("nan")) / DAY, 2),
             _number(r.total_wait_seconds / DAY, 0), f"{(r.share_of_waiting or 0):.1%}"]
            for r in acts.head(10).itertuples()]
    out.append(_table([t(k, lang) for k in ("bn.col_activity", "bn.col_department", "bn.col_frequency",
                                            "bn.col_median_wait", "bn.col_p90_wait", "bn.col_median_work",
                                            "bn.col_total_wait", "bn.share_of_waiting")],
                      rows, numeric={2, 3, 4, 5, 6, 7}))
    return "".join(out)


def _handoff_section(facts: Facts, lang: str, charts: _Charts) -> str:
    if facts.matrix.empty:
        return _findings_box([t("dx.no_handoffs", lang)])
    out = []
    if facts.level == "resource":
        out.append(f'<p class="note">{esc(t("rp.by_resource", lang))}</p>')
    out.append(_findings_box(diagnosis.handoff_findings(facts.matrix, facts.pings, facts.cost, facts.front_table,
                                                        facts.share, lang)))
    shown = facts.matrix if facts.level == "department" else facts.matrix.head(30)
    grid = shown.pivot(index="from", columns="to", values="count")
    names = sorted(set(grid.index) | set(grid.columns))
    grid = grid.reindex(index=names, columns=names)
    labels = [_plain(n) for n in names]
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=labels, y=labels, colorscale="Reds", texttemplate="%{z:,}",
                               hoverongaps=False, colorbar={"title": {"text": t("ho.m_count", lang)}}))
    fig.update_layout(title=t("rp.matrix" if facts.level == "department" else "rp.matrix_resource", lang),
                      xaxis_title=t("ho.to", lang), yaxis_title=t("ho.from", lang))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(automargin=True, tickangle=-35)
    out.append(charts.html(fig, max(460, 34 * len(names) + 200)))

    out.append(f"<h3>{esc(t('rp.pingpong', lang))}</h3>")
    if facts.pings.empty:
        out.append(f'<p class="note">{esc(t("ho.no_pingpong", lang))}</p>')
    else:
        out.append(f'<p class="note">{esc(t("ho.pingpong_help", lang))}</p>')
        rows = [[f"{r.pair_a} ↔ {r.pair_b}", f"{r.occurrences:,}", f"{r.cases:,}",
                 duration_words(r.median_cycle_with_seconds, lang), duration_words(r.median_cycle_without_seconds, lang),
                 duration_words(r.extra_cycle_seconds, lang)] for r in facts.pings.head(10).itertuples()]
        out.append(_table([t(k, lang) for k in ("ho.pair", "ho.occurrences", "ho.m_cases", "ho.with", "ho.without",
                                                "ho.extra")], rows, numeric={1, 2, 3, 4, 5}))

    if facts.level == "department":
        out.append(f"<h3>{esc(t('rp.front', lang))}</h3>")
        if not facts.front:
            out.append(f'<p class="note">{esc(t("rp.no_front", lang))}</p>')
        elif facts.front_table is None or facts.front_table.empty:
            out.append(f'<p class="note">{esc(t("ho.no_front", lang))}</p>')
        else:
            out.append(f'<p class="note">{esc(t("rp.front_is", lang, names=", ".join(facts.front)))} '
                       f'{esc(t("ho.front_caption", lang))}</p>')
            rows = [[r.department, f"{r.cases:,}", duration_words(r.median_wait_seconds, lang),
                     duration_words(r.median_held_seconds, lang), duration_words(r.p90_held_seconds, lang),
                     f"{(r.share_of_front_line_wait or 0):.1%}"] for r in facts.front_table.itertuples()]
            out.append(_table([t(k, lang) for k in ("bn.col_department", "ho.m_cases", "ho.pickup", "ho.held_median",
                                                    "ho.held_p90", "ho.front_share")], rows, numeric={1, 2, 3, 4, 5}))
    return "".join(out)


def _kpi_value(kpi: str, value: float, lang: str) -> str:
    """A redesign KPI in its unit (negative durations with a minus sign)."""
    if value != value:
        return "–"
    if kpi.endswith("seconds"):
        return duration_words(value, lang) if value >= 0 else "−" + duration_words(-value, lang)
    if kpi == "waiting_share":
        return f"{value:.1%}"
    return f"{value:.2f}"


def _compare_section(facts: Facts, lang: str, charts: _Charts) -> str:
    """Two groups side by side: findings, KPIs with B − A, time per case by step, the paths that differ."""
    cohorts, kpis, steps, paths = facts.cohorts, facts.cmp_kpis, facts.cmp_steps, facts.cmp_paths
    out = [_findings_box(compare.findings(cohorts, kpis, steps, paths, lang))]
    sizes = kpis.set_index("kpi").loc["cases"]
    if not sizes["a"] or not sizes["b"]:
        return "".join(out)
    label_a, label_b = cohorts.label("a", lang), cohorts.label("b", lang)
    rows = [[t(f"cmp.kpi_{r.kpi}", lang), compare.format_kpi(r.kpi, r.a, lang), compare.format_kpi(r.kpi, r.b, lang),
             compare.format_kpi(r.kpi, r.delta, lang, delta=True)] for r in kpis.itertuples()]
    out.append(_table([t("cmp.col_kpi", lang), t("cmp.col_a", lang, label=label_a), t("cmp.col_b", lang, label=label_b),
                       t("cmp.col_delta", lang)], rows, numeric={1, 2, 3}, css="kpi-table"))
    top = compare.biggest_differences(steps)
    fig = go.Figure()
    for which, colour in (("a", COLOURS["a"]), ("b", COLOURS["b"])):
        fig.add_bar(y=top["activity"], x=top[f"time_per_case_{which}"] / DAY, name=which.upper(), orientation="h",
                    marker_color=colour)
    fig.update_layout(barmode="group", title=t("cmp.steps_chart", lang), xaxis_title=t("cmp.days_per_case", lang),
                      legend_orientation="h", legend_y=-0.15)
    fig.update_yaxes(autorange="reversed")
    out.append(charts.html(fig, 120 + 34 * len(top)))
    out.append(f'<p class="note">{esc(t("cmp.steps_help", lang))}</p>')
    shown = paths[paths["delta_share"].abs() >= 0.01].head(10)
    rows = [[f"{r.source} → {r.target}", f"{r.share_a:.0%}", f"{r.share_b:.0%}",
             f"{r.delta_share * 100:+.0f}".replace("-", "−")] for r in shown.itertuples()]
    out.append(f"<h3>{esc(t('cmp.paths', lang))}</h3>")
    out.append(_table([t("cmp.col_path", lang), t("cmp.col_share", lang, group="A"), t("cmp.col_share", lang, group="B"),
                       t("cmp.col_delta_share", lang)], rows, numeric={1, 2, 3}))
    return "".join(out)


def _redesign_section(facts: Facts, lang: str, charts: _Charts) -> str:
    out = []
    ops = facts.scenario.operations
    if ops:
        out.append(f"<h3>{esc(t('rp.operations', lang))}</h3><ol class='ops'>"
                   + "".join(f"<li>{esc(redesign.describe_operation(op, lang))}</li>" for op in ops) + "</ol>")
    out.append(f"<h3>{esc(t('rp.redesign_kpis', lang))}</h3>")
    table = facts.comparison
    rows = [[t(f"rd.k_{r.kpi}", lang), _kpi_value(r.kpi, r.as_is, lang), _kpi_value(r.kpi, r.to_be, lang),
             _kpi_value(r.kpi, r.delta, lang),
             f"{_kpi_value(r.kpi, r.delta_low, lang)} … {_kpi_value(r.kpi, r.delta_high, lang)}"]
            for r in table.itertuples()]
    out.append(_table([t(k, lang) for k in ("rd.col_kpi", "rd.col_as_is", "rd.col_to_be", "rd.col_delta",
                                            "rd.col_interval")], rows, numeric={1, 2, 3, 4}, css="kpi-table"))
    fig = go.Figure()
    for frame, name, colour in ((facts.as_is, t("rd.as_is", lang), COLOURS["as_is"]),
                                (facts.to_be, t("rd.to_be", lang), COLOURS["to_be"])):
        fig.add_histogram(x=frame["cycle_seconds"] / DAY, name=name, opacity=0.6, marker_color=colour, nbinsx=60)
    fig.update_layout(barmode="overlay", title=t("rd.distribution", lang), xaxis_title=t("axis.days", lang),
                      yaxis_title=t("ov.dist_y", lang), legend_orientation="h", legend_y=-0.2)
    out.append(charts.html(fig, 400))

    before, after = facts.pm, facts.to_be_pm
    shared = process_map.department_colours(before)
    for name in sorted({d for d in after.departments.values() if d} - set(shared)):
        shared[name] = process_map.PALETTE[len(shared) % len(process_map.PALETTE)]
    old = {(e.source, e.target) for e in before.edges}
    changed = {(e.source, e.target) for e in after.edges if (e.source, e.target) not in old}
    out.append(f"<h3>{esc(t('rp.maps', lang))}</h3><div class='side-by-side'>"
               f"<figure class='map'><figcaption>{esc(t('rd.as_is', lang))}</figcaption>{_map_svg(before, shared)}</figure>"
               f"<figure class='map'><figcaption>{esc(t('rd.to_be', lang))}</figcaption>"
               f"{_map_svg(after, shared, changed)}</figure></div>")
    out.append(_legend(shared, lang))
    gone = sorted(set(before.activities) - set(after.activities))
    new = sorted(set(after.activities) - set(before.activities))
    if changed or gone or new:
        out.append(f'<p class="note">{esc(t("rd.changes", lang, edges=len(changed), gone=", ".join(gone) or "–", new=", ".join(new) or "–"))}</p>')

    fit = facts.fit
    if fit is not None:
        out.append(f"<h3>{esc(t('rp.conformance', lang))}</h3>")
        out.append('<div class="cards">' + "".join(
            f'<div class="card"><div class="card-label">{esc(label)}</div><div class="card-value">{esc(v)}</div></div>'
            for label, v in ((t("rd.fitness", lang), f"{fit.fitness:.1%}"),
                             (t("rd.fitting", lang), f"{fit.fitting_cases_share:.1%}"),
                             (t("rd.checked", lang), f"{fit.cases_checked_share:.0%}"))) + "</div>")
        out.append(f'<p class="note">{esc(t("rd.method", lang, method=fit.method))}</p>')
        if fit.deviations:
            rows = [[d.activity, d.department or "–", t(f"rd.kind_{d.kind}", lang), f"{d.cases:,}"]
                    for d in fit.deviations[:15]]
            out.append(_table([t(k, lang) for k in ("bn.col_activity", "bn.col_department", "rd.col_kind",
                                                    "ho.m_cases")], rows, numeric={3}))
        else:
            out.append(f'<p class="note">{esc(t("rd.no_deviations", lang))}</p>')
    return "".join(out)


def _findings_section(findings: list[dict], lang: str) -> str:
    items = []
    for f in findings:
        parts = [f"<h3>{esc(f.get('title') or '–')}</h3><dl>"]
        for name in FINDING_FIELDS:
            if f.get(name):
                parts.append(f"<dt>{esc(t('rp.' + name, lang))}</dt><dd>{esc(f[name])}</dd>")
        parts.append("</dl>")
        tags = [str(x) for x in f.get("tags") or ()]
        if tags:
            parts.append('<p class="tags">' + "".join(f'<span class="tag">#{esc(x)}</span>' for x in tags) + "</p>")
        items.append('<article class="finding">' + "".join(parts) + "</article>")
    return "".join(items)


STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: #1f2328; font-family: FONT; font-size: 15px; line-height: 1.55; }
main { max-width: 1180px; margin: 0 auto; padding: 0 24px 48px; }
header.top { background: #1f3a5f; color: #ffffff; padding: 32px 0 26px; margin-bottom: 24px; }
header.top .inner { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header.top h1 { margin: 0 0 6px; font-size: 28px; font-weight: 650; letter-spacing: 0.2px; }
header.top .meta { margin: 0; color: #d6e2f0; font-size: 14px; }
header.top .meta span + span::before { content: "·"; margin: 0 8px; color: #9fb6d1; }
.filter { margin: 12px 0 0; padding: 8px 12px; background: rgba(255,255,255,0.12); border-radius: 6px; font-size: 14px; }
.filter strong { font-weight: 600; margin-right: 6px; }
nav.toc { margin: 0 0 20px; font-size: 14px; }
nav.toc ol { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 0; padding: 0; list-style: none; }
nav.toc a { color: #1f3a5f; text-decoration: none; border-bottom: 1px solid #b9c7d8; }
section { background: #ffffff; border: 1px solid #e3e6ea; border-radius: 10px; padding: 22px 26px; margin: 0 0 22px;
  box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04); }
h2 { margin: 0 0 14px; font-size: 21px; font-weight: 650; color: #1f3a5f; padding-bottom: 8px; border-bottom: 2px solid #e8edf3; }
h3 { margin: 22px 0 10px; font-size: 16px; font-weight: 620; color: #2b3440; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 6px 0 4px; }
.card { background: #f7f9fc; border: 1px solid #e1e7ef; border-left: 4px solid #1f3a5f; border-radius: 8px; padding: 12px 14px; }
.card-label { font-size: 13px; color: #5b6573; }
.card-value { font-size: 23px; font-weight: 650; margin-top: 2px; white-space: nowrap; }
ul.insights { margin: 0 0 14px; padding: 12px 16px 12px 34px; background: #fff8f0; border-left: 4px solid #e07b39;
  border-radius: 6px; }
ul.insights li { margin: 4px 0; }
.note { color: #5b6573; font-size: 14px; margin: 8px 0; }
.chart { margin: 10px 0 18px; border: 1px solid #eef0f3; border-radius: 8px; padding: 4px; overflow: hidden; }
.table-wrap { overflow-x: auto; margin: 6px 0 14px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 7px 10px; border-bottom: 1px solid #e7eaee; text-align: left; vertical-align: top; }
th { background: #f1f4f8; color: #2b3440; font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure.map { margin: 0; min-width: 0; }
figure.map figcaption { font-weight: 600; margin: 0 0 6px; color: #2b3440; }
.map-box, figure.map { overflow-x: auto; }
svg.process-map { display: block; max-width: 100%; height: auto; margin: 0 auto; }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; align-items: start; }
.legend { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; font-size: 13px; margin: 12px 0 0; }
.legend-title { font-weight: 600; margin-right: 4px; }
.swatch { padding: 2px 9px; border-radius: 4px; border: 1px solid rgba(0,0,0,0.08); }
ol.ops { margin: 0; padding-left: 22px; }
article.finding { border: 1px solid #e3e6ea; border-radius: 8px; padding: 4px 18px 12px; margin: 0 0 14px; }
article.finding h3 { margin-top: 12px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { font-weight: 600; color: #5b6573; }
dd { margin: 0; white-space: pre-wrap; }
.tags { margin: 10px 0 0; }
.tag { display: inline-block; background: #e8eef6; color: #1f3a5f; border-radius: 10px; padding: 1px 9px; margin-right: 6px; font-size: 13px; }
footer { color: #6b7480; font-size: 13px; margin-top: 8px; }
@media (max-width: 900px) { .side-by-side { grid-template-columns: 1fr; } }
@media print { body { background: #ffffff; } section { break-inside: avoid-page; box-shadow: none; } nav.toc { display: none; } }
""".replace("FONT", FONT)


def build_from(facts: Facts, lang: str = "zh", flt: CaseFilter | None = None, findings: list[dict] | None = None,
               working: bool = False, now: dt.datetime | None = None) -> tuple[str, int]:
    """The report's HTML from gathered facts, and how many charts it holds."""
    charts = _Charts()
    now = now or dt.datetime.now()
    first, last = facts.span
    meta = [t("rp.log", lang, name=facts.log_name), t("rp.generated", lang, when=now.strftime("%Y-%m-%d %H:%M"))]
    if first is not None:
        meta.append(t("rp.span", lang, first=f"{first:%Y-%m-%d}", last=f"{last:%Y-%m-%d}"))
    words = filter_words(flt, lang)
    filter_line = (t("rp.and", lang).join(words) if words else t("rp.no_filter", lang))
    if working:
        filter_line += " " + t("rp.working_time", lang)

    sections: list[tuple[str, str, str]] = [("kpis", t("rp.kpis", lang), _kpi_cards(facts.kpis, lang))]
    if facts.kpis["cases"]:
        svg = _map_svg(facts.pm)
        inner = sum(1 for e in facts.pm.edges if process_map.START != e.source and process_map.END != e.target)
        sections.append(("map", t("rp.map", lang),
                         f'<p class="note">{esc(t("rp.map_caption", lang, activities=len(facts.pm.activities), edges=inner))}</p>'
                         f'<div class="map-box">{svg}</div>{_legend(process_map.department_colours(facts.pm), lang)}'))
        sections.append(("bottlenecks", t("rp.bottlenecks", lang), _bottleneck_section(facts, lang, charts, working)))
        sections.append(("handoffs", t("rp.handoffs", lang), _handoff_section(facts, lang, charts)))
        if facts.scenario is not None:
            sections.append(("redesign", t("rp.redesign", lang, name=facts.scenario.name),
                             _redesign_section(facts, lang, charts)))
        if facts.cohorts is not None:
            sections.append(("compare", t("rp.compare", lang), _compare_section(facts, lang, charts)))
    else:
        sections.append(("empty", t("rp.map", lang), f'<p class="note">{esc(t("ov.empty", lang))}</p>'))
    if findings:
        sections.append(("findings", t("rp.findings", lang), _findings_section(findings, lang)))

    toc = "".join(f'<li><a href="#{key}">{esc(title)}</a></li>' for key, title, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{esc(title)}</h2>{content}</section>' for key, title, content in sections)
    title = f"{t('rp.title', lang)} — {facts.log_name}"
    head_js = f"<script>{plotly_js()}</script>" if charts.count else ""
    page = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{STYLE}</style>
{head_js}
</head>
<body>
<header class="top"><div class="inner">
<h1>{esc(t('rp.title', lang))}</h1>
<p class="meta">{''.join(f'<span>{esc(m)}</span>' for m in meta)}</p>
<p class="filter"><strong>{esc(t('rp.filter', lang))}</strong>{esc(filter_line)}</p>
</div></header>
<main>
<nav class="toc"><ol>{toc}</ol></nav>
{body}
<footer>{esc(t('rp.footer', lang))}</footer>
</main>
</body>
</html>
"""
    return page, charts.count


def build_report(con: duckdb.DuckDBPyConnection, log_id: int, lang: str = "zh", flt: CaseFilter | None = None,
                 scenario: redesign.Scenario | None = None, findings: list[dict] | None = None,
                 calendar: WorkCalendar | None = None, cohorts=None) -> str:
    """The report as one self-contained HTML document in `lang` ('zh' or 'en').

    `findings` are dicts with title, symptom, cause, remedy, impact and tags (all optional but the title).
    """
    facts = gather(con, log_id, flt, scenario, calendar, cohorts)
    return build_from(facts, lang, flt, findings, calendar is not None)[0]


@dataclass(frozen=True)
class ReportFiles:
    """The HTML report, its tables as an Excel workbook, and what they hold."""

    html: str
    excel: bytes
    charts: int
    sheets: tuple[str, ...]


def build_report_files(con: duckdb.DuckDBPyConnection, log_id: int, lang: str = "zh", flt: CaseFilter | None = None,
                       scenario: redesign.Scenario | None = None, findings: list[dict] | None = None,
                       calendar: WorkCalendar | None = None, cohorts=None) -> ReportFiles:
    """The HTML report and the Excel tables from one computation (what the page and the CLI hand out).

    `cohorts` (compare.Cohorts) adds the two groups side by side."""
    facts = gather(con, log_id, flt, scenario, calendar, cohorts)
    page, count = build_from(facts, lang, flt, findings, calendar is not None)
    sheets = _tables(facts, findings)
    return ReportFiles(page, exports.to_excel(sheets), count, tuple(sheets))


def finding_dicts(finding_objects) -> list[dict]:
    """Saved findings (findings.Finding) as the dicts the report takes."""
    return [{"title": f.title, "symptom": f.symptom, "cause": f.cause, "remedy": f.remedy, "impact": f.impact,
             "tags": list(f.tags)} for f in finding_objects]
