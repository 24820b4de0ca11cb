"""The discovered process model: pm4py's inductive miner on the variant-compressed log, as BPMN and Petri net.

pm4py never sees events. `metrics.variants` turns the log (millions of events or not) into activity
sequences with case counts; they go to the miner as pm4py's own variant-compressed log (a Counter of
activity tuples, the UVCL that `pm4py.algo.discovery.inductive.algorithm.apply` builds from an event
log before mining). The noise threshold of IMf therefore sees the true case frequencies, and the
tree equals `pm4py.discover_process_tree_inductive` on the full event log (tests/test_process_model.py).
Token replay runs once per variant and is weighted by its cases, as pm4py itself does for a log.

What lives where: the records (`Model`, serialised so it can be cached; `Fitness`; `Node`), discovery
(`discover_tree`, `discover_model`, `model_from_variants`, which conformance.to_be_model also uses), the
serialisations (`bpmn_xml`, `pnml`, `petri_net`), token replay (`replay_fitness`), and drawing (`to_dot`,
and `_graph` / `_layout`, the BPMN diagram layout that modellers show). Alignments and BPMN files a user
loads live in `analysis.conformance`.
"""

from __future__ import annotations

import contextlib
import io
from collections import Counter
from dataclasses import dataclass

import duckdb

from analysis import metrics
from analysis.filters import CaseFilter
from analysis.process_map import dot_string

# Sizes and spacing of the BPMN diagram interchange (DI) layout, in BPMN units (pixels in modellers).
_SIZE = {"task": (100, 60), "xor": (50, 50), "and": (50, 50), "or": (50, 50), "start": (36, 36), "end": (36, 36)}
_COLUMN, _ROW = 170, 110  # the first row starts at y = 40, room for loops above


def _pm4py():
    """pm4py, imported on first use with its banner kept off stdout and stderr."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import pm4py
    return pm4py


@dataclass(frozen=True)
class Node:
    """One BPMN node: its short id (n0, n1, … from the start event on), kind and label."""

    id: str
    kind: str  # task, xor, and, or, start, end
    label: str


@dataclass(frozen=True)
class Model:
    """A discovered model, serialised (plain strings and tuples, so it can be cached and pickled).

    `tree` is pm4py's process-tree notation, `bpmn_xml` BPMN 2.0 XML with a diagram layout, `pnml`
    the Petri net with initial and final marking; `nodes` and `flows` are the BPMN graph for drawing.
    """

    noise: float
    cases: int
    variants: int
    tree: str
    nodes: tuple[Node, ...]
    flows: tuple[tuple[str, str], ...]
    bpmn_xml: str
    pnml: str

    @property
    def tasks(self) -> list[str]:
        """The activity labels of the BPMN tasks, sorted."""
        return sorted(n.label for n in self.nodes if n.kind == "task")


@dataclass(frozen=True)
class Fitness:
    """Token-replay fitness of the kept cases on a model (pm4py's definitions, cases weighted)."""

    log_fitness: float           # 1/2 (1 - missing/consumed) + 1/2 (1 - remaining/produced), over all tokens
    average_case_fitness: float  # mean of the cases' own fitness
    fitting_cases: int
    cases: int

    @property
    def fitting_share(self) -> float:
        """Share of cases that replay without missing or remaining tokens (0–1)."""
        return self.fitting_cases / self.cases if self.cases else 0.0


def discover_tree(variants: dict[tuple[str, ...], int], noise: float = 0.0):
    """pm4py's inductive miner (IMf when noise > 0) on variants with case counts -> a pm4py ProcessTree."""
    # Mirrors `pm4py.algo.discovery.inductive.algorithm.apply` on a UVCL, which checks the input type
    # with `type(obj) in [UVCL]` -- a typing alias no real Counter matches -- so the call is made here.
    _pm4py()
    from pm4py.algo.discovery.inductive.dtypes.im_ds import IMDataStructureUVCL
    from pm4py.algo.discovery.inductive.variants.im import IMUVCL
    from pm4py.algo.discovery.inductive.variants.imf import IMFUVCL
    from pm4py.objects.process_tree.utils import generic

    uvcl = Counter({tuple(acts): int(n) for acts, n in variants.items()})
    # The parameters pm4py.discover_process_tree_inductive passes (multiprocessing off, its default).
    params = {"noise_threshold": noise, "multiprocessing": False, "disable_fallthroughs": False}
    miner = IMFUVCL(params) if noise > 0 else IMUVCL(params)
    tree = miner.apply(IMDataStructureUVCL(uvcl), params)
    tree = generic.fold(tree)
    generic.tree_sort(tree)
    return tree


def discover_model(con: duckdb.DuckDBPyConnection, log_id: int, noise: float = 0.0,
                   flt: CaseFilter | None = None) -> Model | None:
    """The inductive miner's model of the kept cases as tree, BPMN and Petri net (None: no case kept)."""
    counts = _variant_counts(con, log_id, flt)
    return model_from_variants(counts, noise) if counts else None


def model_from_variants(counts: dict[tuple[str, ...], int], noise: float = 0.0, cases: int | None = None,
                        variants: int | None = None) -> Model:
    """The inductive miner's model of activity sequences with their case counts (tree, BPMN, Petri net)."""
    pm4py = _pm4py()
    tree = discover_tree(counts, noise)
    bpmn = pm4py.convert_to_bpmn(tree)
    net, initial, final = pm4py.convert_to_petri_net(tree)
    nodes, flows, order = _graph(bpmn)
    _layout(bpmn, order, flows)
    return Model(noise=noise, cases=cases if cases is not None else sum(counts.values()),
                 variants=variants if variants is not None else len(counts), tree=str(tree),
                 nodes=nodes, flows=flows, bpmn_xml=bpmn_xml(bpmn), pnml=pnml(net, initial, final))


def bpmn_xml(bpmn) -> str:
    """A pm4py BPMN graph as BPMN 2.0 XML (with whatever layout its nodes carry)."""
    _pm4py()
    from pm4py.objects.bpmn.exporter.variants import etree

    return etree.get_xml_string(bpmn).decode("utf-8")


def pnml(net, initial, final) -> str:
    """A pm4py Petri net with its initial and final marking as PNML."""
    _pm4py()
    from pm4py.objects.petri_net.exporter.variants import pnml as exporter

    return exporter.export_petri_as_string(net, initial, final).decode("utf-8")


def petri_net(model: Model):
    """The model's Petri net read back from its PNML: (net, initial marking, final marking)."""
    _pm4py()
    from pm4py.objects.petri_net.importer.variants import pnml as importer

    return importer.import_net_from_string(model.pnml)


def replay_fitness(con: duckdb.DuckDBPyConnection, log_id: int, model: Model,
                   flt: CaseFilter | None = None) -> Fitness:
    """Token-based replay of the kept cases on the model's Petri net: one replay per variant, cases weighted."""
    counts = _variant_counts(con, log_id, flt)
    if not counts:
        return Fitness(0.0, 0.0, 0, 0)
    _pm4py()
    from pm4py.algo.conformance.tokenreplay import algorithm as token_replay
    from pm4py.objects.log.obj import Event, EventLog, Trace

    sequences = list(counts)
    log = EventLog([Trace([Event({"concept:name": a}) for a in seq]) for seq in sequences])
    net, initial, final = petri_net(model)
    results = token_replay.apply(log, net, initial, final, parameters={"show_progress_bar": False})
    weights = [counts[seq] for seq in sequences]
    total = {k: sum(w * r[k] for w, r in zip(weights, results, strict=True))
             for k in ("missing_tokens", "consumed_tokens", "remaining_tokens", "produced_tokens", "trace_fitness")}
    cases = sum(weights)
    log_fitness = 0.0
    if total["consumed_tokens"] > 0 and total["produced_tokens"] > 0:
        log_fitness = (0.5 * (1 - total["missing_tokens"] / total["consumed_tokens"])
                       + 0.5 * (1 - total["remaining_tokens"] / total["produced_tokens"]))
    fitting = sum(w for w, r in zip(weights, results, strict=True) if r["trace_is_fit"])
    return Fitness(log_fitness, total["trace_fitness"] / cases, fitting, cases)


def to_dot(model: Model) -> str:
    """The BPMN graph as Graphviz DOT: tasks as rounded boxes, gateways as diamonds (× or +), events as circles."""
    lines = ["digraph bpmn {", '  rankdir=LR; bgcolor="transparent";',
             '  node [fontname="sans-serif", fontsize=11];', '  edge [color="#555555", arrowsize=0.7];']
    for n in model.nodes:
        lines.append(f"  {n.id} [{_DOT_STYLE[n.kind]}{dot_string(n.label) if n.kind == 'task' else ''}];")
    for source, target in model.flows:
        lines.append(f"  {source} -> {target};")
    lines.append("}")
    return "\n".join(lines)


_DOT_STYLE = {
    "task": 'shape=box, style="rounded,filled", fillcolor="#e3f2fd", label=',
    "xor": 'shape=diamond, style=filled, fillcolor="#fff8e1", label="×", fontsize=16, width=0.45, height=0.45',
    "and": 'shape=diamond, style=filled, fillcolor="#fff8e1", label="+", fontsize=16, width=0.45, height=0.45',
    "or": 'shape=diamond, style=filled, fillcolor="#fff8e1", label="○", fontsize=14, width=0.45, height=0.45',
    "start": 'shape=circle, style=filled, fillcolor="#c8e6c9", label="", width=0.3',
    "end": 'shape=circle, style=filled, fillcolor="#ffcdd2", label="", width=0.3, penwidth=3',
}


def _variant_counts(con: duckdb.DuckDBPyConnection, log_id: int, flt: CaseFilter | None) -> dict[tuple[str, ...], int]:
    """Kept cases per activity sequence (the variant-compressed log)."""
    return {tuple(v.activities): v.cases for v in metrics.variants(con, log_id, flt=flt)}


def _kind(node) -> str:
    """Our name for a pm4py BPMN node's type."""
    from pm4py.objects.bpmn.obj import BPMN

    for cls, kind in ((BPMN.StartEvent, "start"), (BPMN.EndEvent, "end"), (BPMN.ParallelGateway, "and"),
                      (BPMN.ExclusiveGateway, "xor"), (BPMN.InclusiveGateway, "or")):
        if isinstance(node, cls):
            return kind
    return "task"


def _graph(bpmn) -> tuple[tuple[Node, ...], tuple[tuple[str, str], ...], list]:
    """Nodes numbered n0, n1, … in depth-first reverse postorder from the start event, and the flows."""
    # That order is stable (pm4py's ids are random uuids) and topological once the flows that close a
    # loop are left out: exactly the flows from a node to one at or before it.
    def targets(node) -> list:
        return [f.get_target() for f in node.get_out_arcs()]

    post, seen = [], set()
    for root in sorted((n for n in bpmn.get_nodes() if _kind(n) == "start"), key=lambda n: n.get_id()):
        seen.add(root)
        stack = [(root, iter(reversed(targets(root))))]
        while stack:
            node, todo = stack[-1]
            child = next(todo, None)
            if child is None:
                stack.pop()
                post.append(node)
            elif child not in seen:
                seen.add(child)
                stack.append((child, iter(reversed(targets(child)))))
    # Nodes not reachable from a start event (none in a tree's BPMN) still get drawn.
    order = post[::-1] + sorted((n for n in bpmn.get_nodes() if n not in seen), key=lambda n: n.get_id())
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    nodes = tuple(Node(ids[n], _kind(n), n.get_name() or "") for n in order)
    flows = tuple(sorted(((ids[f.get_source()], ids[f.get_target()]) for f in bpmn.get_flows()),
                         key=lambda e: (int(e[0][1:]), int(e[1][1:]))))
    return nodes, flows, order


def _layout(bpmn, order: list, flows: tuple[tuple[str, str], ...]) -> None:
    """Left-to-right columns by longest path from the start (loop-back flows ignored), so modellers can show it."""
    # pm4py's own layouter needs a Graphviz binary, which a fresh machine does not have.
    index = {node: i for i, node in enumerate(order)}
    # `order` is topological for the flows that go forward in it, so one pass finds the longest paths.
    forward = [(int(s[1:]), int(t[1:])) for s, t in flows if int(t[1:]) > int(s[1:])]
    column = [0] * len(order)
    for s, t in sorted(forward):
        column[t] = max(column[t], column[s] + 1)
    rows: dict[int, int] = {}
    layout = bpmn.get_layout()
    for node in order:
        c = column[index[node]]
        r = rows.get(c, 0)
        rows[c] = r + 1
        width, height = _SIZE[_kind(node)]
        box = layout.get(node)
        box.set_width(width)
        box.set_height(height)
        box.set_x(40 + c * _COLUMN + (100 - width) // 2)
        box.set_y(40 + r * _ROW + (60 - height) // 2)
    for flow in bpmn.get_flows():
        source, target = layout.get(flow.get_source()), layout.get(flow.get_target())
        line = layout.get(flow)
        line.del_waypoints()
        if index[flow.get_target()] > index[flow.get_source()]:
            line.add_waypoint((source.get_x() + source.get_width(), source.get_y() + source.get_height() // 2))
            line.add_waypoint((target.get_x(), target.get_y() + target.get_height() // 2))
        else:  # a loop back: up from the source, across above both, down into the target
            top = min(source.get_y(), target.get_y()) - 25
            for x, y in ((source.get_x() + source.get_width() // 2, source.get_y()),
                         (source.get_x() + source.get_width() // 2, top),
                         (target.get_x() + target.get_width() // 2, top),
                         (target.get_x() + target.get_width() // 2, target.get_y())):
                line.add_waypoint((x, y))
