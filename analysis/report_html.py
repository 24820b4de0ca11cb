"""The report's HTML: one self-contained document rendered from gathered facts (analysis.report_gather).

The HTML opens without internet: plotly.js is inlined once in the head, the maps are inline SVG, the styles
are inline and use the reader's system fonts. Nothing in it points at a URL. Every value that comes from a
user's log or from a finding is HTML-escaped (inside the charts plotly's JSON escapes `<` and `>`, and
names shown on axes are escaped once more by analysis.charts because plotly reads a few HTML tags in its
labels). The charts are the pages' own figures (analysis.charts), restyled for print by `_Inline`.

`render` assembles the document: the header (log, time span, filter in words: `filter_words`), a table of
contents and one section each for KPIs, the map, bottlenecks, hand-offs, redesign, comparison and findings.
The bottleneck section ends with "why it waits": the listed steps' waits split into causes (Facts.why, in
working time when a calendar is on), a stacked bar of plain HTML per step (not a plotly chart), and the
dominant cause with its remedy in words (analysis.waiting_words); or the message why the log cannot tell.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from functools import lru_cache

import plotly.graph_objects as go

from analysis import charts, compare, diagnosis, map_render, process_map, redesign
from analysis import waiting_words as words
from analysis.filters import CaseFilter
from analysis.formatting import DAY, MISSING, duration, number
from analysis.report_gather import FINDING_FIELDS, Facts
from analysis.texts import t
from analysis.waiting_causes import CAUSES

FONT = ("-apple-system, 'Segoe UI', 'Helvetica Neue', Arial, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', "
        "'Source Han Sans SC', 'WenQuanYi Micro Hei', sans-serif")


def esc(value) -> str:
    """Text for HTML (quotes too: safe inside attributes)."""
    return html.escape(str(value), quote=True)


def _sentence(text: str) -> str:
    """A finding sentence: escaped, with its **bold** parts in <strong>."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc(text))


def _filter_phrase(flt: CaseFilter, name: str, lang: str) -> list[str]:
    """One active condition of a filter in words (attributes: one phrase per attribute)."""
    if name == "attributes":
        return [f"{n}: {', '.join(v)}" for n, v in flt.attributes]
    if name == "time":
        return [t("flt.chip_time", lang, mode=t(f"mode.{flt.time_mode}", lang), lo=flt.time_from or "…",
                  hi=flt.time_to or "…")]
    if name == "cycle_time":
        lo = duration(flt.cycle_min_seconds, lang) if flt.cycle_min_seconds is not None else "0"
        hi = duration(flt.cycle_max_seconds, lang) if flt.cycle_max_seconds is not None else "∞"
        return [t("flt.chip_cycle", lang, lo=lo, hi=hi)]
    if name == "variants_top":
        return [t("flt.chip_top", lang, k=flt.variants_top)]
    if name == "variants":
        return [t("flt.chip_variants", lang, n=len(flt.variants))]
    values = getattr(flt, name)
    if name in ("directly_follows", "eventually_follows"):
        values = [a + (" → " if name == "directly_follows" else " … ") + b for a, b in values]
    return [f"{t('flt.' + name, lang)}: {', '.join(values)}"]


def filter_words(flt: CaseFilter | None, lang: str) -> list[str]:
    """The active conditions of a filter, one phrase each (empty: the filter keeps every case)."""
    if flt is None or flt.is_empty:
        return []
    return [phrase for name in flt.active() for phrase in _filter_phrase(flt, name, lang)]


def _table(columns: list[str], rows: list[list], numeric: set[int] = frozenset(), css: str = "") -> str:
    """An HTML table; every cell escaped, `numeric` column positions right-aligned."""
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{esc(c)}</th>' for i, c in enumerate(columns))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{esc(v)}</td>'
                                    for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="table-wrap"><table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _note(text: str) -> str:
    """A grey note paragraph."""
    return f'<p class="note">{esc(text)}</p>'


def _cards(cards: list[tuple[str, str]]) -> str:
    """Label/value cards in a grid."""
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="card-label">{esc(label)}</div><div class="card-value">{esc(value)}</div></div>'
        for label, value in cards) + "</div>"


class _Inline:
    """Turns plotly figures into <div>s sharing the plotly.js in the head, restyled for print; counts them."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, fig: go.Figure, height: int = 420, **layout) -> str:
        """The figure as a <div> of `height` px; `layout` are the report's own touches (legend below …)."""
        self.count += 1
        fig.update_layout(**layout)  # first: a title given as text would drop the title font set below
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


def _legend(colours: dict[str, str], lang: str) -> str:
    """The department colours as little swatches."""
    if not colours:
        return ""
    items = "".join(f'<span class="swatch" style="background:{c}">{esc(d)}</span>' for d, c in colours.items())
    return f'<p class="legend"><span class="legend-title">{esc(t("pm.legend", lang))}</span>{items}</p>'


def _findings_box(sentences: list[str]) -> str:
    """Findings in words, their **bold** parts kept."""
    return '<ul class="insights">' + "".join(f"<li>{_sentence(s)}</li>" for s in sentences) + "</ul>"


def _kpi_cards(k: dict, lang: str) -> str:
    """KPI cards in the order of the Overview page."""
    cards = [(t("kpi.cases", lang), f"{k['cases']:,}"), (t("kpi.events", lang), f"{k['events']:,}"),
             (t("kpi.activities", lang), f"{k['activities']:,}"), (t("kpi.variants", lang), f"{k['variants']:,}"),
             (t("kpi.median_cycle", lang), duration(k["median_cycle_seconds"], lang)),
             (t("kpi.p90_cycle", lang), duration(k["p90_cycle_seconds"], lang))]
    if k["handoff_unit"]:
        cards.append((t("kpi.handoffs", lang), number(k["handoffs_per_case"])))
        label = "kpi.departments" if k["handoff_unit"] == "department" else "kpi.resources_per_case"
        cards.append((t(label, lang), number(k["departments_per_case"])))
    return _cards(cards)


def _map_section(facts: Facts, lang: str) -> str:
    """The process map with its caption and department legend."""
    pm = facts.pm
    inner = sum(1 for e in pm.edges if process_map.START != e.source and process_map.END != e.target)
    return (_note(t("rp.map_caption", lang, activities=len(pm.activities), edges=inner))
            + f'<div class="map-box">{map_render.frequency_svg(pm)}</div>'
            + _legend(process_map.department_colours(pm), lang))


def _bottleneck_section(facts: Facts, lang: str, plots: _Inline) -> str:
    """Findings, the Pareto chart, waiting vs processing, the ten steps holding most waiting."""
    bn = facts.bottlenecks
    acts = bn.activities
    out = [_findings_box(diagnosis.bottleneck_findings(acts, lang, bn.has_start, bn.working_time))]
    if acts.empty:
        return "".join(out)
    out.append(plots.html(charts.pareto(acts, lang), 460, legend_y=-0.35))
    if bn.has_start:
        fig = charts.wait_vs_work(acts, lang).update_yaxes(automargin=True)
        out.append(plots.html(fig, max(380, 30 * len(acts.head(15)) + 140), legend_orientation="h", legend_y=-0.15))
    else:
        out.append(_note(t("dx.no_start", lang)))
    out.append(f"<h3>{esc(t('rp.top10', lang))}</h3>")
    rows = [[r.activity, r.department or MISSING, f"{r.frequency:,}", number(r.median_wait_seconds / DAY, 2),
             number(r.p90_wait_seconds / DAY, 2), number((r.median_processing_seconds or float("nan")) / DAY, 2),
             number(r.total_wait_seconds / DAY, 0), f"{(r.share_of_waiting or 0):.1%}"]
            for r in acts.head(10).itertuples()]
    out.append(_table([t(k, lang) for k in ("bn.col_activity", "bn.col_department", "bn.col_frequency",
                                            "bn.col_median_wait", "bn.col_p90_wait", "bn.col_median_work",
                                            "bn.col_total_wait", "bn.share_of_waiting")],
                      rows, numeric={2, 3, 4, 5, 6, 7}))
    out.append(_why_part(facts, lang))
    return "".join(out)


def _why_bar(split: dict[str, float] | None) -> str:
    """The causes' shares of one step's wait as a stacked bar of plain HTML (the widths are numbers only)."""
    if split is None:
        return ""
    segments = "".join(f'<span style="width:{split[c] * 100:.2f}%;background:{charts.CAUSE_COLOURS[c]}"></span>'
                       for c in CAUSES if split[c] > 0)
    return f'<div class="why-bar">{segments}</div>'


def _why_rows(facts: Facts, lang: str) -> tuple[list[list[str]], list[str]]:
    """HTML cells (escaped; the bar as HTML) and the cause sentences of the steps the section lists."""
    working = facts.bottlenecks.working_time
    by_key = facts.why.rows.set_index("key")
    cells, said = [], []
    for activity in facts.bottlenecks.activities["activity"].head(10):
        row = by_key.loc[activity] if activity in by_key.index else None
        percents = words.percents(row, working) if row is not None else None
        if row is None or percents is None:
            cells.append([esc(activity), *[MISSING] * 3, *[MISSING] * len(CAUSES)])
            said.append(t("why.nothing_to_split", lang, subject=activity))
            continue
        wait = row["working_wait_seconds" if working else "wait_seconds"]
        cells.append([esc(activity), f"{int(row['waits']):,}", esc(number(wait / DAY, 1)),
                      _why_bar(words.shares(row, working)), *(f"{percents[c]}%" for c in CAUSES)])
        said.append(words.cause_sentence(row, lang, activity, working))
    return cells, said


def _why_part(facts: Facts, lang: str) -> str:
    """Why the listed steps wait: the causes' shares per step, a bar each, the dominant cause and its remedy."""
    out = [f'<div id="why" class="why"><h3>{esc(t("rpt.why_title", lang))}</h3>']
    if facts.why is None:
        return "".join([*out, _note(t(facts.why_error, lang)), "</div>"]) if facts.why_error else ""
    basis = t("rpt.why_basis_working" if facts.bottlenecks.working_time else "rpt.why_basis_calendar", lang)
    hours = t("rpt.why_hours_given" if facts.why.calendar == "given" else "rpt.why_hours_observed", lang)
    out.append(_note(t("rpt.why_intro", lang, basis=basis, hours=hours)))
    cells, said = _why_rows(facts, lang)
    columns = [t("bn.col_activity", lang), t("rpt.why_col_waits", lang), t("rpt.why_col_wait", lang),
               t("rpt.why_col_split", lang),
               *(words.cause_name(c, lang) for c in CAUSES)]
    numeric = {1, 2, *range(4, 4 + len(CAUSES))}
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{esc(c)}</th>' for i, c in enumerate(columns))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{v}</td>' for i, v in enumerate(row))
                   + "</tr>" for row in cells)
    out.append(f'<div class="table-wrap"><table class="why-table"><thead><tr>{head}</tr></thead>'
               f"<tbody>{body}</tbody></table></div>")
    out.append('<p class="legend">' + "".join(
        f'<span class="swatch" style="background:{charts.CAUSE_COLOURS[c]};color:#ffffff">'
        f"{esc(words.cause_name(c, lang))}</span>" for c in CAUSES) + "</p>")
    out.append(f"<h4>{esc(t('rpt.why_remedies', lang))}</h4>"
               + '<ul class="why-causes">' + "".join(f"<li>{_sentence(s)}</li>" for s in said) + "</ul></div>")
    return "".join(out)


def _matrix_chart(facts: Facts, lang: str, plots: _Inline) -> str:
    """The hand-off counts as a from × to heatmap (the top 30 pairs between resources)."""
    level = facts.handoffs.level
    fig = charts.handoff_heatmap(facts.handoffs.matrix, lang, "count", None if level == "department" else 30)
    names = len(fig.data[0].x)
    fig.update_traces(texttemplate="%{z:,}", hoverongaps=False)
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(automargin=True, tickangle=-35)
    title = t("rp.matrix" if level == "department" else "rp.matrix_resource", lang)
    return plots.html(fig, max(460, 34 * names + 200), title=title)


def _pingpong_part(facts: Facts, lang: str) -> str:
    """The ten pairs working back and forth most, and what it costs their cases."""
    pings = facts.handoffs.pingpong
    out = [f"<h3>{esc(t('rp.pingpong', lang))}</h3>"]
    if pings.empty:
        return "".join(out + [_note(t("ho.no_pingpong", lang))])
    rows = [[f"{r.pair_a} ↔ {r.pair_b}", f"{r.occurrences:,}", f"{r.cases:,}",
             duration(r.median_cycle_with_seconds, lang), duration(r.median_cycle_without_seconds, lang),
             duration(r.extra_cycle_seconds, lang)] for r in pings.head(10).itertuples()]
    out += [_note(t("ho.pingpong_help", lang)),
            _table([t(k, lang) for k in ("ho.pair", "ho.occurrences", "ho.m_cases", "ho.with", "ho.without",
                                         "ho.extra")], rows, numeric={1, 2, 3, 4, 5})]
    return "".join(out)


def _front_part(facts: Facts, lang: str) -> str:
    """Whose desk the front line waits on (department level only)."""
    ho = facts.handoffs
    out = [f"<h3>{esc(t('rp.front', lang))}</h3>"]
    if not ho.front:
        return "".join(out + [_note(t("rp.no_front", lang))])
    if ho.front_line is None or ho.front_line.empty:
        return "".join(out + [_note(t("ho.no_front", lang))])
    out.append(f'<p class="note">{esc(t("rp.front_is", lang, names=", ".join(ho.front)))} '
               f'{esc(t("ho.front_caption", lang))}</p>')
    rows = [[r.department, f"{r.cases:,}", duration(r.median_wait_seconds, lang),
             duration(r.median_held_seconds, lang), duration(r.p90_held_seconds, lang),
             f"{(r.share_of_front_line_wait or 0):.1%}"] for r in ho.front_line.itertuples()]
    out.append(_table([t(k, lang) for k in ("bn.col_department", "ho.m_cases", "ho.pickup", "ho.held_median",
                                            "ho.held_p90", "ho.front_share")], rows, numeric={1, 2, 3, 4, 5}))
    return "".join(out)


def _handoff_section(facts: Facts, lang: str, plots: _Inline) -> str:
    """Findings, the matrix, ping-pong and the front line."""
    ho = facts.handoffs
    if ho is None or ho.matrix.empty:
        return _findings_box([t("dx.no_handoffs", lang)])
    out = [_note(t("rp.by_resource", lang))] if ho.level == "resource" else []
    out.append(_findings_box(diagnosis.handoff_findings(ho.matrix, ho.pingpong, ho.cost, ho.front_line,
                                                        ho.wait_share, lang)))
    out += [_matrix_chart(facts, lang, plots), _pingpong_part(facts, lang)]
    if ho.level == "department":
        out.append(_front_part(facts, lang))
    return "".join(out)


def _compare_section(facts: Facts, lang: str, plots: _Inline) -> str:
    """Two groups side by side: findings, KPIs with B − A, time per case by step, the paths that differ."""
    cmp = facts.comparison
    cohorts, kpis, steps, paths = cmp.cohorts, cmp.kpis, cmp.steps, cmp.paths
    out = [_findings_box(cmp.findings(lang))]
    sizes = kpis.set_index("kpi").loc["cases"]
    if not sizes["a"] or not sizes["b"]:
        return "".join(out)
    label_a, label_b = cohorts.label("a", lang), cohorts.label("b", lang)
    rows = [[t(f"cmp.kpi_{r.kpi}", lang), compare.format_kpi(r.kpi, r.a, lang), compare.format_kpi(r.kpi, r.b, lang),
             compare.format_kpi(r.kpi, r.delta, lang, delta=True)] for r in kpis.itertuples()]
    out.append(_table([t("cmp.col_kpi", lang), t("cmp.col_a", lang, label=label_a), t("cmp.col_b", lang, label=label_b),
                       t("cmp.col_delta", lang)], rows, numeric={1, 2, 3}, css="kpi-table"))
    fig = charts.compare_steps(steps, lang)
    out.append(plots.html(fig, 120 + 34 * len(fig.data[0].y), legend_orientation="h", legend_y=-0.15))
    out.append(_note(t("cmp.steps_help", lang)))
    shown = paths[paths["delta_share"].abs() >= 0.01].head(10)
    rows = [[f"{r.source} → {r.target}", f"{r.share_a:.0%}", f"{r.share_b:.0%}",
             f"{r.delta_share * 100:+.0f}".replace("-", "−")] for r in shown.itertuples()]
    out.append(f"<h3>{esc(t('cmp.paths', lang))}</h3>")
    out.append(_table([t("cmp.col_path", lang), t("cmp.col_share", lang, group="A"), t("cmp.col_share", lang, group="B"),
                       t("cmp.col_delta_share", lang)], rows, numeric={1, 2, 3}))
    return "".join(out)


def _redesign_maps(facts: Facts, lang: str) -> str:
    """The as-is and to-be maps side by side in the same colours, what changed in red."""
    before, after = facts.pm, facts.redesign.to_be_pm
    shared = map_render.shared_colours(before, after)
    changed = map_render.new_edges(before, after)
    out = [f"<h3>{esc(t('rp.maps', lang))}</h3><div class='side-by-side'>"
           f"<figure class='map'><figcaption>{esc(t('rd.as_is', lang))}</figcaption>"
           f"{map_render.frequency_svg(before, shared)}</figure>"
           f"<figure class='map'><figcaption>{esc(t('rd.to_be', lang))}</figcaption>"
           f"{map_render.frequency_svg(after, shared, changed)}</figure></div>", _legend(shared, lang)]
    gone = sorted(set(before.activities) - set(after.activities))
    new = sorted(set(after.activities) - set(before.activities))
    if changed or gone or new:
        out.append(_note(t("rd.changes", lang, edges=len(changed), gone=", ".join(gone) or MISSING,
                           new=", ".join(new) or MISSING)))
    return "".join(out)


def _conformance_part(facts: Facts, lang: str) -> str:
    """How today's cases fit the to-be flow, and the deviations."""
    fit = facts.redesign.evaluation.conformance
    out = [f"<h3>{esc(t('rp.conformance', lang))}</h3>",
           _cards([(t("rd.fitness", lang), f"{fit.fitness:.1%}"), (t("rd.fitting", lang), f"{fit.fitting_cases_share:.1%}"),
                   (t("rd.checked", lang), f"{fit.cases_checked_share:.0%}")]),
           _note(t("rd.method", lang, method=fit.method))]
    if not fit.deviations:
        return "".join(out + [_note(t("rd.no_deviations", lang))])
    rows = [[d.activity, d.department or MISSING, t(f"rd.kind_{d.kind}", lang), f"{d.cases:,}"]
            for d in fit.deviations[:15]]
    out.append(_table([t(k, lang) for k in ("bn.col_activity", "bn.col_department", "rd.col_kind", "ho.m_cases")],
                      rows, numeric={3}))
    return "".join(out)


def _redesign_section(facts: Facts, lang: str, plots: _Inline) -> str:
    """The operations, the KPIs as-is and to-be, both distributions, both maps and the conformance."""
    rd = facts.redesign
    evaluation = rd.evaluation
    out = []
    if rd.scenario.operations:
        out.append(f"<h3>{esc(t('rp.operations', lang))}</h3><ol class='ops'>"
                   + "".join(f"<li>{esc(redesign.describe_operation(op, lang))}</li>" for op in rd.scenario.operations)
                   + "</ol>")
    out.append(f"<h3>{esc(t('rp.redesign_kpis', lang))}</h3>")
    rows = [[t(f"rd.k_{r.kpi}", lang), redesign.format_kpi(r.kpi, r.as_is, lang), redesign.format_kpi(r.kpi, r.to_be, lang),
             redesign.format_kpi(r.kpi, r.delta, lang),
             f"{redesign.format_kpi(r.kpi, r.delta_low, lang)} … {redesign.format_kpi(r.kpi, r.delta_high, lang)}"]
            for r in evaluation.table().itertuples()]
    out.append(_table([t(k, lang) for k in ("rd.col_kpi", "rd.col_as_is", "rd.col_to_be", "rd.col_delta",
                                            "rd.col_interval")], rows, numeric={1, 2, 3, 4}, css="kpi-table"))
    out.append(plots.html(charts.redesign_distribution(evaluation.as_is_cases, evaluation.to_be_cases, lang), 400,
                          legend_y=-0.2))
    out.append(_redesign_maps(facts, lang))
    if evaluation.conformance is not None:
        out.append(_conformance_part(facts, lang))
    return "".join(out)


def _findings_section(findings: tuple[dict, ...], lang: str) -> str:
    """The chosen saved findings: title, symptom → cause → remedy → impact, tags."""
    items = []
    for f in findings:
        parts = [f"<h3>{esc(f.get('title') or MISSING)}</h3><dl>"]
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
h4 { margin: 14px 0 6px; font-size: 15px; font-weight: 600; color: #2b3440; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 6px 0 4px; }
.card { background: #f7f9fc; border: 1px solid #e1e7ef; border-left: 4px solid #1f3a5f; border-radius: 8px; padding: 12px 14px; }
.card-label { font-size: 13px; color: #5b6573; }
.card-value { font-size: 23px; font-weight: 650; margin-top: 2px; white-space: nowrap; }
ul.insights { margin: 0 0 14px; padding: 12px 16px 12px 34px; background: #fff8f0; border-left: 4px solid #e07b39;
  border-radius: 6px; }
ul.insights li { margin: 4px 0; }
.why-table td:first-child { white-space: nowrap; }
.why-bar { display: flex; width: 140px; height: 14px; border-radius: 3px; overflow: hidden; background: #eef0f3; }
.why-bar span { display: block; height: 100%; }
ul.why-causes { margin: 0 0 8px; padding-left: 22px; }
ul.why-causes li { margin: 4px 0; }
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


def _sections(facts: Facts, lang: str, plots: _Inline) -> list[tuple[str, str, str]]:
    """(anchor, title, HTML) of every section the facts call for, in reading order."""
    sections = [("kpis", t("rp.kpis", lang), _kpi_cards(facts.kpis, lang))]
    if facts.kpis["cases"]:
        sections += [("map", t("rp.map", lang), _map_section(facts, lang)),
                     ("bottlenecks", t("rp.bottlenecks", lang), _bottleneck_section(facts, lang, plots)),
                     ("handoffs", t("rp.handoffs", lang), _handoff_section(facts, lang, plots))]
        if facts.redesign is not None:
            sections.append(("redesign", t("rp.redesign", lang, name=facts.redesign.scenario.name),
                             _redesign_section(facts, lang, plots)))
        if facts.comparison is not None:
            sections.append(("compare", t("rp.compare", lang), _compare_section(facts, lang, plots)))
    else:
        sections.append(("empty", t("rp.map", lang), _note(t("ov.empty", lang))))
    if facts.findings:
        sections.append(("findings", t("rp.findings", lang), _findings_section(facts.findings, lang)))
    return sections


def _header(facts: Facts, lang: str, now: dt.datetime) -> str:
    """The dark band on top: title, log, when, time span, and the filter in words."""
    first, last = facts.span
    meta = [t("rp.log", lang, name=facts.log_name), t("rp.generated", lang, when=now.strftime("%Y-%m-%d %H:%M"))]
    if first is not None:
        meta.append(t("rp.span", lang, first=f"{first:%Y-%m-%d}", last=f"{last:%Y-%m-%d}"))
    words = filter_words(facts.flt, lang)
    filter_line = (t("rp.and", lang).join(words) if words else t("rp.no_filter", lang))
    if facts.bottlenecks.working_time:
        filter_line += " " + t("rp.working_time", lang)
    return f"""<header class="top"><div class="inner">
<h1>{esc(t('rp.title', lang))}</h1>
<p class="meta">{''.join(f'<span>{esc(m)}</span>' for m in meta)}</p>
<p class="filter"><strong>{esc(t('rp.filter', lang))}</strong>{esc(filter_line)}</p>
</div></header>"""


def render(facts: Facts, lang: str = "zh", now: dt.datetime | None = None) -> tuple[str, int]:
    """The report's HTML from gathered facts, and how many charts it holds."""
    plots = _Inline()
    sections = _sections(facts, lang, plots)
    toc = "".join(f'<li><a href="#{key}">{esc(title)}</a></li>' for key, title, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{esc(title)}</h2>{content}</section>' for key, title, content in sections)
    title = f"{t('rp.title', lang)} — {facts.log_name}"
    head_js = f"<script>{plotly_js()}</script>" if plots.count else ""
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
{_header(facts, lang, now or dt.datetime.now())}
<main>
<nav class="toc"><ol>{toc}</ol></nav>
{body}
<footer>{esc(t('rp.footer', lang))}</footer>
</main>
</body>
</html>
"""
    return page, plots.count
