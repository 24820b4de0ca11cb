"""The process map: the directly-follows graph of kept activities, simplified by two sliders, as DOT.

The graph itself is metrics.dfg (the one DFG); this module adds the START and END nodes, the activities'
event counts and departments (analysis.departments), the sliders and the DOT text. (`map_render` draws the
same map as SVG, without Graphviz.)

The activity slider keeps the most frequent activities and recomputes the graph on the events of
those activities only (as Disco does), so every kept activity still lies on a path from the start to
the end. The path slider then keeps the most frequent edges, plus, whatever the slider says, the
widest (highest-frequency bottleneck) path from the start to every activity and from every activity
to the end: no kept activity is ever left disconnected.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import duckdb

from analysis import metrics
from analysis.departments import department_of
from analysis.filters import AnyFilter, kept_events
from analysis.sql import query

START, END = "▶", "■"  # the artificial start and end nodes


@dataclass(frozen=True)
class MapEdge:
    """One edge of the map (START and END stand for the case's start and end)."""

    source: str
    target: str
    frequency: int
    cases: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None = None


@dataclass
class ProcessMap:
    """Activities (with event counts and main department) and the edges between them."""

    activities: dict[str, int]
    departments: dict[str, str | None]
    edges: list[MapEdge] = field(default_factory=list)


def activity_counts(con: duckdb.DuckDBPyConnection, log_id: int, flt: AnyFilter | None = None) -> dict[str, int]:
    """Events per activity, most frequent first (ties by name, for a stable slider)."""
    events = kept_events(log_id, flt)
    rows = query(f"SELECT activity, count(*) AS n FROM ({events.text}) GROUP BY activity ORDER BY n DESC, activity",
                 events).rows(con)
    return {a: int(n) for a, n in rows}


def keep_activities(counts: dict[str, int], share: float) -> list[str]:
    """The most frequent activities covering `share` (0–1] of the activities, at least one."""
    n = max(1, round(share * len(counts)))
    return list(counts)[:n]


def discover_map(con: duckdb.DuckDBPyConnection, log_id: int, activities: list[str],
                 flt: AnyFilter | None = None) -> ProcessMap:
    """The directly-follows graph of the events of `activities` only (metrics.dfg), with START/END edges.

    Events of other activities are left out before the edges are drawn, so A→(hidden X)→B becomes
    A→B; with all activities the inner edges equal metrics.dfg's. Edges: most frequent first, then by name.
    """
    graph = metrics.dfg(con, log_id, flt, list(activities))
    edges = [MapEdge(START, a, n, n, None, None) for a, n in graph.start_activities.items()]
    edges += [MapEdge(e.source, e.target, e.frequency, e.cases, e.mean_seconds, e.median_seconds, e.p90_seconds)
              for e in graph.edges]
    edges += [MapEdge(a, END, n, n, None, None) for a, n in graph.end_activities.items()]
    edges.sort(key=lambda e: (-e.frequency, e.source, e.target))
    # Each kept event either starts its case's projection or is the target of exactly one edge.
    counts = dict(graph.start_activities)
    for e in graph.edges:
        counts[e.target] = counts.get(e.target, 0) + e.frequency
    kept = [a for a in dict.fromkeys(activities) if a in counts]
    department = department_of(con, log_id, flt)
    return ProcessMap({a: counts[a] for a in kept}, {a: department.get(a) for a in kept}, edges)


def _widest_tree(edges: list[MapEdge], root: str, forward: bool) -> set[tuple[str, str]]:
    """Edges of the maximum-bottleneck paths from `root` (or, backwards, to it) to every node."""
    neighbours: dict[str, list[tuple[int, str, tuple[str, str]]]] = {}
    for e in edges:
        a, b = (e.source, e.target) if forward else (e.target, e.source)
        neighbours.setdefault(a, []).append((e.frequency, b, (e.source, e.target)))
    best = {root: float("inf")}
    via: dict[str, tuple[str, str]] = {}
    heap = [(-best[root], root)]
    while heap:
        width, node = heapq.heappop(heap)
        if -width < best.get(node, 0):
            continue
        for frequency, other, edge in neighbours.get(node, []):
            candidate = min(-width, frequency)
            if candidate > best.get(other, 0):
                best[other], via[other] = candidate, edge
                heapq.heappush(heap, (-candidate, other))
    return set(via.values())


def prune_paths(pm: ProcessMap, share: float) -> ProcessMap:
    """Keep the most frequent `share` (0–1] of the edges, and always the widest path START→a→END for each a."""
    if share >= 1 or not pm.edges:
        return pm
    skeleton = _widest_tree(pm.edges, START, forward=True) | _widest_tree(pm.edges, END, forward=False)
    n = round(share * len(pm.edges))
    ranked = sorted(pm.edges, key=lambda e: (-e.frequency, e.source, e.target))
    chosen = {(e.source, e.target) for e in ranked[:n]} | skeleton
    return ProcessMap(pm.activities, pm.departments, [e for e in pm.edges if (e.source, e.target) in chosen])


def connected(pm: ProcessMap) -> bool:
    """True when every activity lies on a path from START to END."""
    succ: dict[str, set[str]] = {}
    pred: dict[str, set[str]] = {}
    for e in pm.edges:
        succ.setdefault(e.source, set()).add(e.target)
        pred.setdefault(e.target, set()).add(e.source)

    def reach(root: str, nxt: dict[str, set[str]]) -> set[str]:
        seen, stack = {root}, [root]
        while stack:
            for other in nxt.get(stack.pop(), ()):
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        return seen

    from_start, to_end = reach(START, succ), reach(END, pred)
    return all(a in from_start and a in to_end for a in pm.activities)


PALETTE = ("#cfe2f3", "#fce5cd", "#d9ead3", "#ead1dc", "#fff2cc", "#d0e0e3", "#f4cccc", "#d9d2e9",
           "#e6b8af", "#c9daf8", "#b6d7a8", "#ffe599")


def department_colours(pm: ProcessMap) -> dict[str, str]:
    """A fill colour per department (stable: departments in name order take the palette in turn)."""
    names = sorted({d for d in pm.departments.values() if d})
    return {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(names)}


def dot_string(text: str) -> str:
    """A DOT string literal: backslashes and quotes escaped, line breaks as DOT's \\n."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def bottleneck_edges(pm: ProcessMap, top: int = 3) -> set[tuple[str, str]]:
    """The `top` edges between activities holding the most time in total (frequency × mean duration)."""
    inner = [e for e in pm.edges if e.source != START and e.target != END and e.mean_seconds]
    ranked = sorted(inner, key=lambda e: (-(e.frequency * e.mean_seconds), e.source, e.target))
    return {(e.source, e.target) for e in ranked[:top]}


def to_dot(pm: ProcessMap, edge_labels: dict[tuple[str, str], str], edge_values: dict[tuple[str, str], float],
           node_labels: dict[str, str], highlight: set[tuple[str, str]] = frozenset()) -> str:
    """The map as Graphviz DOT: nodes filled by department, edge width by `edge_values`, `highlight` in red."""
    colours = department_colours(pm)
    top = max(edge_values.values(), default=1) or 1
    lines = ["digraph process {", '  rankdir=TB; bgcolor="transparent";',
             '  node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=11];',
             '  edge [fontname="sans-serif", fontsize=9, color="#555555"];',
             f'  {dot_string(START)} [shape=circle, label="", width=0.25, fillcolor="#2e7d32"];',
             f'  {dot_string(END)} [shape=doublecircle, label="", width=0.2, fillcolor="#c62828"];']
    for activity in pm.activities:
        fill = colours.get(pm.departments.get(activity) or "", "#eeeeee")
        lines.append(f"  {dot_string(activity)} [label={dot_string(node_labels.get(activity, activity))}, "
                     f'fillcolor="{fill}"];')
    for e in pm.edges:
        key = (e.source, e.target)
        width = 0.6 + 5.4 * (edge_values.get(key, 0) / top)
        colour = ', color="#d62728", fontcolor="#d62728"' if key in highlight else ""
        lines.append(f"  {dot_string(e.source)} -> {dot_string(e.target)} "
                     f"[label={dot_string(edge_labels.get(key, ''))}, penwidth={width:.2f}{colour}];")
    lines.append("}")
    return "\n".join(lines)
