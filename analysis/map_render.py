"""Draws a process map as a self-contained SVG without Graphviz: a layered layout in pure Python.

The steps follow Graphviz's `dot` (Sugiyama's method): break cycles by reversing the back edges a
depth-first search from START meets; put every node on a layer (longest path from START, END alone
on the last); split every edge into a chain of dummy points, one per layer it crosses (the layers
come in pairs so that each edge has a point of its own for its label); order each layer by
barycentre sweeps to reduce crossings; place nodes near their neighbours without overlap; route
every edge as a smooth curve through its points.

`layout` runs those phases in turn (`_ranked`: cycles and layers; `_node_boxes` and `_edge_chains`: the
vertices; `_order`: the order within layers; `_place_x`, `_place_y`: coordinates; `_route`: the curves);
`to_svg` draws a layout; `frequency_svg`, `shared_colours` and `new_edges` are the maps the report and the
Redesign page show (one colour per department on both sides, the new edges in red); `zoomable_html` wraps
the SVG with pan and zoom.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from bisect import bisect_right, insort
from dataclasses import dataclass, field

from analysis.process_map import END, PALETTE, START, ProcessMap, department_colours

FONT = ("'Helvetica Neue', Arial, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', "
        "'Source Han Sans SC', 'WenQuanYi Zen Hei', 'WenQuanYi Micro Hei', sans-serif")
NODE_SIZE, LABEL_SIZE = 12, 11  # font sizes (px)
LINE = 15  # line height of node text
WRAP = 170  # node text wider than this wraps
CIRCLE = 24  # diameter of the START and END circles
NODE_GAP, DUMMY_GAP = 26, 10  # horizontal space between two boxes / next to an edge's point
LAYER_GAP, MAX_GAP = 18, 60  # vertical space between two layers (node and label layers alternate)
LOOP = 26  # how far a self-loop sticks out of its box
MARGIN = 12
EDGE, HOT = "#6b6b6b", "#d62728"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class Box:
    """A node of the layout: centre, size, the text lines it shows and its layer (0 = START)."""

    name: str
    x: float
    y: float
    width: float
    height: float
    lines: list[str]
    layer: int


@dataclass
class Route:
    """An edge of the layout: kind is 'forward' (downwards), 'back' (upwards) or 'self' (a loop).

    `path` is SVG path data ending where the arrowhead's base starts; `tip` and `direction` place
    the arrowhead; `label_at` is where the label's left end sits.
    """

    source: str
    target: str
    kind: str
    points: list[tuple[float, float]]
    path: str = ""
    tip: tuple[float, float] = (0.0, 0.0)
    direction: tuple[float, float] = (0.0, 1.0)
    label_at: tuple[float, float] = (0.0, 0.0)
    label_width: float = 0.0
    side_ports: tuple[bool, bool] = (False, False)  # attached to the side of the source / the target


@dataclass
class Layout:
    """Where everything goes: boxes by node name, one route per edge, and the drawing's size."""

    nodes: dict[str, Box]
    edges: list[Route] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


def text_width(text: str, size: float = NODE_SIZE) -> float:
    """Roughly how wide `text` is drawn in a sans-serif font (CJK characters count about twice)."""
    total = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            total += 1.0
        elif ch in "iljtfrI.,:;'|!() ":
            total += 0.32
        elif ch.isupper() or ch in "mwMW@%&":
            total += 0.72
        elif ch.isdigit():
            total += 0.57
        else:
            total += 0.56
    return total * size


def _wrap(text: str, limit: float, size: float = NODE_SIZE) -> list[str]:
    """Greedy line breaking: between words, or between any two CJK characters."""
    tokens = re.findall(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uac00-\ud7af"
                        r"\uf900-\ufaff\uff00-\uffef]+\s*|\s+", text)
    lines, line = [], ""
    for token in tokens:
        if line and text_width((line + token).rstrip(), size) > limit:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    lines.append(line.rstrip())
    return [x for x in lines if x] or [""]


def _clean(text: str) -> str:
    """Text with the characters XML 1.0 cannot hold removed."""
    return _NOT_XML.sub("", text)


def _back_edges(nodes: list[str], edges: list[tuple[str, str]], weight: dict[tuple[str, str], float]) -> set:
    """Edges that close a cycle in a depth-first search from START (heaviest edges tried first)."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in sorted(edges, key=lambda k: -weight.get(k, 0)):
        succ[a].append(b)
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    back = set()
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, rest = stack[-1]
            for nxt in rest:
                if state.get(nxt) == 1:
                    back.add((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(succ[nxt])))
                    break
            else:
                state[node] = 2
                stack.pop()
    return back


def _layers(nodes: list[str], dag: list[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the sources (START on 0, every other node at least on 1, END alone on the last)."""
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in dag:
        preds[b].append(a)
        succ[a].append(b)
    indegree = {n: len(preds[n]) for n in nodes}
    rank = {n: 0 if n == START else 1 for n in nodes}
    ready = [n for n in nodes if indegree[n] == 0]
    while ready:
        node = ready.pop()
        for nxt in succ[node]:
            rank[nxt] = max(rank[nxt], rank[node] + 1)
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    if END in rank:
        rank[END] = max([r for n, r in rank.items() if n != END], default=0) + 1
    return rank


def _crossings(upper: dict[int, int], lower: dict[int, int], segments: list[tuple[int, int]]) -> int:
    """Crossings between two neighbouring layers: inversions of the lower ends sorted by the upper ends."""
    seen: list[int] = []
    count = 0
    for _, b in sorted((upper[a], lower[b]) for a, b in segments):
        count += len(seen) - bisect_right(seen, b)
        insort(seen, b)
    return count


def _pack(order: list[int], desired: dict[int, float], weight: dict[int, float], left: list[float],
          right: list[float], gap) -> dict[int, float]:
    """Positions as close to `desired` as the order and the spacing allow (weighted least squares).

    With offsets o_i fixed by the minimum spacing, x_i - o_i must not decrease along the layer: an
    isotonic regression, solved exactly by pooling adjacent violators.
    """
    offsets = [0.0]
    for a, b in zip(order, order[1:], strict=False):
        offsets.append(offsets[-1] + right[a] + left[b] + gap(a, b))
    blocks: list[list[float]] = []  # [sum of weight × target, sum of weight, first index, last index]
    for i, v in enumerate(order):
        blocks.append([weight[v] * (desired[v] - offsets[i]), weight[v], i, i])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            last = blocks.pop()
            blocks[-1][0] += last[0]
            blocks[-1][1] += last[1]
            blocks[-1][3] = last[3]
    placed = {}
    for total, w, first, last in blocks:
        for i in range(int(first), int(last) + 1):
            placed[order[i]] = total / w + offsets[i]
    return placed


def _cubic(p: tuple[float, float], c1: tuple[float, float], c2: tuple[float, float],
           q: tuple[float, float]) -> str:
    """One cubic Bézier segment of SVG path data."""
    return f" C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {q[0]:.1f},{q[1]:.1f}"


@dataclass
class _Ranked:
    """The map as a layered graph: its cycles broken, every node on a layer.

    Node names (START first, END last), edge weights, the self-loops, the other edges, which of those point
    back up, the same edges turned downwards (`dag`), and each node's layer (`rank`).
    """

    names: list[str]
    weight: dict[tuple[str, str], float]
    loops: list[tuple[str, str]]
    others: list[tuple[str, str]]
    back: set[tuple[str, str]]
    dag: list[tuple[str, str]]
    rank: dict[str, int]


@dataclass
class _Vertices:
    """Every vertex of the layout: the nodes first, then one dummy per edge and layer crossed.

    Per vertex the room it takes left and right of its x, its height and its level (layers doubled: node
    layer 2 × rank, label layers between); and how the vertices link up.
    """

    left: list[float] = field(default_factory=list)
    right: list[float] = field(default_factory=list)
    height: list[float] = field(default_factory=list)
    level: list[int] = field(default_factory=list)
    dummy: list[bool] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    chains: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # edge → its vertices, downwards
    label_vertex: dict[tuple[str, str], int] = field(default_factory=dict)
    up: list[list[int]] = field(default_factory=list)
    down: list[list[int]] = field(default_factory=list)
    strength: dict[tuple[int, int], float] = field(default_factory=dict)  # how hard a segment pulls its ends into line

    def add(self, left: float, right: float, height: float, level: int, dummy: bool) -> int:
        """Append a vertex; returns its number."""
        self.left.append(left)
        self.right.append(right)
        self.height.append(height)
        self.level.append(level)
        self.dummy.append(dummy)
        return len(self.level) - 1

    def gap(self, a: int, b: int) -> float:
        """The space between two neighbours on a layer (less next to an edge's point)."""
        return DUMMY_GAP if self.dummy[a] or self.dummy[b] else NODE_GAP


def _ranked(pm: ProcessMap) -> _Ranked:
    """Break the cycles and put every node on a layer."""
    names = [START, *pm.activities]
    for e in pm.edges:
        for n in (e.source, e.target):
            if n not in names and n != END:
                names.append(n)
    names.append(END)
    keys = list(dict.fromkeys((e.source, e.target) for e in pm.edges))
    weight = {(e.source, e.target): e.frequency for e in pm.edges}
    loops = [k for k in keys if k[0] == k[1]]
    others = [k for k in keys if k[0] != k[1]]
    # Edges into START or out of END cannot point down; every other cycle is broken by the search.
    back = {k for k in others if k[1] == START or k[0] == END}
    back |= _back_edges(names, [k for k in others if k not in back], weight)
    dag = [(b, a) if (a, b) in back else (a, b) for a, b in others]
    return _Ranked(names, weight, loops, others, back, dag, _layers(names, dag))


def _node_boxes(g: _Ranked, node_labels: dict[str, str], edge_labels: dict[tuple[str, str], str],
                v: _Vertices) -> dict[str, Box]:
    """A box per node, sized to its wrapped text (a self-loop's label reserves room on its right)."""
    boxes: dict[str, Box] = {}
    for n in g.names:
        if n in (START, END):
            lines, w, h = [], CIRCLE, CIRCLE
        else:
            parts = _clean(node_labels.get(n, n)).split("\n")
            lines = [line for part in parts for line in _wrap(part, WRAP)]
            w = max(64.0, max(text_width(line) for line in lines) + 22)
            h = len(lines) * LINE + 12
        boxes[n] = Box(n, 0.0, 0.0, w, h, lines, g.rank[n])
        loop_room = LOOP + 6 + text_width(_clean(edge_labels.get((n, n), "")), LABEL_SIZE) if (n, n) in g.loops else 0
        v.index[n] = v.add(w / 2, w / 2 + loop_room, h, 2 * g.rank[n], False)
    return boxes


def _edge_chains(g: _Ranked, edge_labels: dict[tuple[str, str], str], v: _Vertices) -> None:
    """Split every edge into a chain of dummy points, one per layer it crosses; one of them carries its label."""
    rank = g.rank
    for key, (a, b) in zip(g.others, g.dag, strict=True):
        chain = [v.index[a]]
        span = 2 * (rank[b] - rank[a])
        label_level = 2 * rank[a] + 1 + 2 * ((span // 2 - 1) // 2)
        for lv in range(2 * rank[a] + 1, 2 * rank[b]):
            if lv == label_level:
                lw = text_width(_clean(edge_labels.get(key, "")), LABEL_SIZE)
                vertex = v.add(3.0, lw + 8 if lw else 3.0, LABEL_SIZE + 4 if lw else 0, lv, True)
                v.label_vertex[key] = vertex
            else:
                vertex = v.add(2.0, 2.0, 0, lv, True)
            chain.append(vertex)
        chain.append(v.index[b])
        v.chains[key] = chain
    count = len(v.level)
    v.up, v.down = [[] for _ in range(count)], [[] for _ in range(count)]
    for key, chain in v.chains.items():
        for a, b in zip(chain, chain[1:], strict=False):
            v.down[a].append(b)
            v.up[b].append(a)
            v.strength[a, b] = v.strength.get((a, b), 0) + math.sqrt(max(g.weight.get(key, 1), 1))


def _order(v: _Vertices) -> list[list[int]]:
    """Order within layers: start from a depth-first visit, then barycentre sweeps; keep the best order."""
    depth = max(v.level) + 1
    layers: list[list[int]] = [[] for _ in range(depth)]
    seen = set()
    for root in range(len(v.level)):
        stack = [root]
        while stack:
            u = stack.pop()
            if u in seen:
                continue
            seen.add(u)
            layers[v.level[u]].append(u)
            stack.extend(reversed(v.down[u]))

    def total_crossings(order: list[list[int]]) -> int:
        """Crossings of the whole drawing in this order."""
        pos = {u: i for layer in order for i, u in enumerate(layer)}
        return sum(_crossings(pos, pos, [(a, b) for a in order[i] for b in v.down[a]]) for i in range(depth - 1))

    best, best_count = [list(x) for x in layers], total_crossings(layers)
    for sweep in range(12):
        pos = {u: i for layer in layers for i, u in enumerate(layer)}
        going_down = sweep % 2 == 0
        for lv in (range(1, depth) if going_down else range(depth - 2, -1, -1)):
            ref = v.up if going_down else v.down
            keyed = []
            for u in layers[lv]:
                nbrs = ref[u]
                keyed.append((sum(pos[w] for w in nbrs) / len(nbrs) if nbrs else pos[u], pos[u], u))
            layers[lv] = [u for _, _, u in sorted(keyed)]
            for i, u in enumerate(layers[lv]):
                pos[u] = i
        crossings = total_crossings(layers)
        if crossings < best_count:
            best, best_count = [list(x) for x in layers], crossings
    return best


def _place_x(layers: list[list[int]], v: _Vertices) -> dict[int, float]:
    """x: pack each layer, then pull every vertex towards its neighbours (dummies pull harder: straight edges)."""
    x: dict[int, float] = {}
    for layer in layers:
        pos_x = 0.0
        for i, u in enumerate(layer):
            if i:
                pos_x += v.right[layer[i - 1]] + v.left[u] + v.gap(layer[i - 1], u)
            x[u] = pos_x
        shift = pos_x / 2
        for u in layer:
            x[u] -= shift
    depth = len(layers)
    for sweep in range(16):
        mode = ("down", "up")[sweep % 2] if sweep < 12 else "both"
        levels = range(depth) if mode != "up" else range(depth - 1, -1, -1)
        for lv in levels:
            desired, pull = {}, {}
            for u in layers[lv]:
                nbrs = v.up[u] if mode == "down" else v.down[u] if mode == "up" else v.up[u] + v.down[u]
                if nbrs:
                    pulls = [v.strength.get((w, u)) or v.strength[u, w] for w in nbrs]
                    desired[u] = sum(x[w] * p for w, p in zip(nbrs, pulls, strict=True)) / sum(pulls)
                    pull[u] = 4.0 if v.dummy[u] else 1.0
                else:
                    desired[u], pull[u] = x[u], 0.1
            x.update(_pack(layers[lv], desired, pull, v.left, v.right, v.gap))
    return x


def _place_y(layers: list[list[int]], v: _Vertices, x: dict[int, float]):
    """y: each layer as tall as its tallest vertex; more room below it when edges leave it far sideways.

    Returns every vertex's y, the top of every layer and every layer's height."""
    tops, y_pos = [], 0.0
    layer_height = [max((v.height[u] for u in layer), default=0) for layer in layers]
    for lv, h in enumerate(layer_height):
        tops.append(y_pos)
        sideways = max((abs(x[a] - x[b]) for a in layers[lv] for b in v.down[a]), default=0.0)
        y_pos += h + min(MAX_GAP, max(LAYER_GAP, 0.2 * sideways))
    y = {u: tops[v.level[u]] + layer_height[v.level[u]] / 2 for u in range(len(v.level))}
    return y, tops, layer_height


def layout(pm: ProcessMap, node_labels: dict[str, str] | None = None,
           edge_labels: dict[tuple[str, str], str] | None = None) -> Layout:
    """Place the nodes of `pm` on layers and route its edges (labels only reserve room here)."""
    node_labels, edge_labels = node_labels or {}, edge_labels or {}
    g = _ranked(pm)
    v = _Vertices()
    boxes = _node_boxes(g, node_labels, edge_labels, v)
    _edge_chains(g, edge_labels, v)
    layers = _order(v)
    x = _place_x(layers, v)
    y, tops, layer_height = _place_y(layers, v, x)
    for n, box in boxes.items():
        box.x, box.y = x[v.index[n]], y[v.index[n]]
    routes = [_route_loop(boxes[a]) for a, _ in g.loops]
    for key in g.others:
        routes.append(_route(key, key in g.back, v.chains[key], boxes, x, y, tops, layer_height, v.level,
                             v.label_vertex.get(key)))
    for r in routes:
        r.label_width = text_width(_clean(edge_labels.get((r.source, r.target), "")), LABEL_SIZE)
    _spread_ports(routes, boxes)
    result = Layout(boxes, routes)
    _fit(result)
    return result


def _route_loop(box: Box) -> Route:
    """A small loop on the right side of a box."""
    xr, yc = box.x + box.width / 2, box.y
    start, end = (xr, yc - 6), (xr + 1, yc + 6)
    route = Route(box.name, box.name, "self", [start, (xr + LOOP, yc - 18), (xr + LOOP, yc + 18), end])
    route.label_at = (xr + LOOP + 4, yc)
    return route


def _route(key, is_back, chain, boxes, x, y, tops, layer_height, level, label_v) -> Route:
    """Points of an edge: out of its source, through its dummy points (vertical inside their layer), into its target."""
    points = []
    for v in chain[1:-1]:
        lv = level[v]
        points.append((x[v], tops[lv] + layer_height[lv] / 2))
    source, target = boxes[key[0]], boxes[key[1]]
    if is_back:
        points.reverse()  # the chain runs downwards; a back edge is drawn upwards
        start = (source.x, source.y - source.height / 2)
        end = (target.x, target.y + target.height / 2)
    else:
        start = (source.x, source.y + source.height / 2)
        end = (target.x, target.y - target.height / 2)
    route = Route(key[0], key[1], "back" if is_back else "forward", [start, *points, end])
    if label_v is not None:
        route.label_at = (x[label_v] + 4, y[label_v])
    else:
        mid = route.points[len(route.points) // 2]
        route.label_at = (mid[0] + 4, mid[1])
    return route


def _spread_ports(routes: list[Route], boxes: dict[str, Box]) -> None:
    """Let the edges meeting a box side by side attach at distinct points, ordered by where they come from.

    Back edges attach on the left or right side of a box when their first point lies beside it
    (they curve up on the side); otherwise on the top or bottom like the rest.
    """
    sides: dict[tuple[str, str], list[tuple[float, Route, int]]] = {}
    for r in routes:
        if r.kind == "self":
            continue
        for end, node, nxt in ((0, r.source, r.points[1]), (-1, r.target, r.points[-2])):
            box = boxes[node]
            if r.kind == "back" and abs(nxt[0] - box.x) > box.width / 2 and node not in (START, END):
                side = 1 if nxt[0] > box.x else -1
                r.points[end] = (box.x + side * box.width / 2, box.y)
                r.side_ports = (True, r.side_ports[1]) if end == 0 else (r.side_ports[0], True)
                continue
            top = r.points[end][1] < box.y
            sides.setdefault((node, "top" if top else "bottom"), []).append((nxt[0], r, end))
    for (node, _), attached in sides.items():
        box = boxes[node]
        attached.sort(key=lambda item: item[0])
        k = len(attached)
        usable = max(0.0, box.width - 16) if node not in (START, END) else 6.0
        step = min(12.0, usable / (k - 1)) if k > 1 else 0.0
        for i, (_, r, end) in enumerate(attached):
            px = box.x + (i - (k - 1) / 2) * step
            if node in (START, END):  # on a circle: stay on its rim
                r.points[end] = (px, box.y + math.copysign(math.sqrt(max(0.0, (CIRCLE / 2) ** 2 - (px - box.x) ** 2)),
                                                           r.points[end][1] - box.y))
            else:
                r.points[end] = (px, r.points[end][1])


def _fit(result: Layout) -> None:
    """Shift everything so the drawing starts at the margin, and size it to its content."""
    xs = [b.x - b.width / 2 for b in result.nodes.values()]
    xe = [b.x + b.width / 2 for b in result.nodes.values()]
    ys = [b.y - b.height / 2 for b in result.nodes.values()]
    ye = [b.y + b.height / 2 for b in result.nodes.values()]
    for r in result.edges:
        xs += [p[0] - (24 if r.kind == "back" else 0) for p in r.points]
        xe += [p[0] + (24 if r.kind == "back" else 0) for p in r.points] + [r.label_at[0] + r.label_width]
    dx, dy = MARGIN - min(xs), MARGIN - min(ys)
    for b in result.nodes.values():
        b.x, b.y = b.x + dx, b.y + dy
    for r in result.edges:
        r.points = [(px + dx, py + dy) for px, py in r.points]
        r.label_at = (r.label_at[0] + dx, r.label_at[1] + dy)
    result.width = max(xe) + dx + MARGIN
    result.height = max(ye) + dy + MARGIN


def _path(route: Route, arrow: float) -> None:
    """SVG path data through the route's points, stopping short of the arrow's tip."""
    pts = route.points
    if route.kind == "self":
        p, c1, c2, q = pts
        direction = (q[0] - c2[0], q[1] - c2[1])
        segments = [(p, c1, c2, q)]
    else:
        # A Catmull-Rom spline through the points; at the ends the curve leaves and enters its box
        # straight (vertically through the top or bottom, horizontally through a side).
        n = len(pts)

        def tangent(i: int) -> tuple[float, float]:
            """The curve's direction at point i."""
            if 0 < i < n - 1:
                return (pts[i + 1][0] - pts[i - 1][0]) / 2, (pts[i + 1][1] - pts[i - 1][1]) / 2
            p, q = (pts[0], pts[1]) if i == 0 else (pts[-2], pts[-1])
            size = max(abs(q[0] - p[0]), abs(q[1] - p[1]), 30.0)
            if route.side_ports[0 if i == 0 else 1]:
                return math.copysign(size, q[0] - p[0]), 0.0
            return 0.0, math.copysign(min(size, 1.5 * abs(q[1] - p[1]) or size), q[1] - p[1])

        segments = []
        for i in range(n - 1):
            p, q = pts[i], pts[i + 1]
            t0, t1 = tangent(i), tangent(i + 1)
            segments.append((p, (p[0] + t0[0] / 3, p[1] + t0[1] / 3), (q[0] - t1[0] / 3, q[1] - t1[1] / 3), q))
        p, c1, c2, q = segments[-1]
        direction = (q[0] - c2[0], q[1] - c2[1])
        if math.hypot(*direction) < 1e-6:
            direction = (q[0] - p[0], q[1] - p[1])
    length = math.hypot(*direction) or 1.0
    ux, uy = direction[0] / length, direction[1] / length
    route.tip, route.direction = segments[-1][3], (ux, uy)
    p, c1, c2, q = segments[-1]
    segments[-1] = (p, c1, c2, (q[0] - ux * arrow * 0.8, q[1] - uy * arrow * 0.8))
    data = f"M{segments[0][0][0]:.1f},{segments[0][0][1]:.1f}"
    for p, c1, c2, q in segments:
        data += _cubic(p, c1, c2, q)
    route.path = data


def to_svg(pm: ProcessMap, edge_labels: dict[tuple[str, str], str], edge_values: dict[tuple[str, str], float],
           node_labels: dict[str, str], highlight: set[tuple[str, str]] = frozenset(),
           colours: dict[str, str] | None = None) -> str:
    """The map as an SVG document: boxes filled by department, edge width by `edge_values`, `highlight` in red.

    Nodes are `<g class="node">` and edges `<g class="edge">`, each with a `<title>` naming it. `colours`
    (department → fill) keeps two maps drawn side by side in the same colours; by default the map's own.
    """
    lay = layout(pm, node_labels, edge_labels)
    colours = colours if colours is not None else department_colours(pm)
    top = max(edge_values.values(), default=1) or 1
    esc = lambda s: html.escape(_clean(str(s)), quote=True)  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="process-map" width="{lay.width:.0f}" '
           f'height="{lay.height:.0f}" viewBox="0 0 {lay.width:.0f} {lay.height:.0f}" '
           f'font-family="{esc(FONT)}">',
           f'<rect class="background" x="0" y="0" width="{lay.width:.0f}" height="{lay.height:.0f}" fill="#ffffff"/>']
    for r in lay.edges:
        key = (r.source, r.target)
        stroke = 0.6 + 5.4 * (max(0.0, edge_values.get(key, 0) or 0) / top)
        colour = HOT if key in highlight else EDGE
        arrow = 7 + 1.3 * stroke
        _path(r, arrow)
        (tx, ty), (ux, uy) = r.tip, r.direction
        bx, by = tx - ux * arrow, ty - uy * arrow
        half = 3.5 + 0.7 * stroke
        head = f"{tx:.1f},{ty:.1f} {bx - uy * half:.1f},{by + ux * half:.1f} {bx + uy * half:.1f},{by - ux * half:.1f}"
        label = edge_labels.get(key, "")
        hot = ' data-highlight="1"' if key in highlight else ""
        out.append(f'<g class="edge {r.kind}" data-source="{esc(r.source)}" data-target="{esc(r.target)}"{hot}>'
                   f"<title>{esc(r.source)} → {esc(r.target)}{': ' + esc(label) if label else ''}</title>"
                   f'<path d="{r.path}" fill="none" stroke="{colour}" stroke-width="{stroke:.2f}" '
                   f'stroke-linecap="round"/><polygon points="{head}" fill="{colour}"/>')
        if label:
            lx, ly = r.label_at
            out.append(f'<text x="{lx:.1f}" y="{ly + LABEL_SIZE * 0.35:.1f}" font-size="{LABEL_SIZE}" fill="{colour}" '
                       f'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">'
                       f"{esc(label)}</text>")
        out.append("</g>")
    for name, b in lay.nodes.items():
        if name == START:
            out.append(f'<g class="node start"><title>{esc(name)}</title><circle cx="{b.x:.1f}" cy="{b.y:.1f}" '
                       f'r="{CIRCLE / 2}" fill="#2e7d32" stroke="#1b5e20"/></g>')
            continue
        if name == END:
            out.append(f'<g class="node end"><title>{esc(name)}</title><circle cx="{b.x:.1f}" cy="{b.y:.1f}" '
                       f'r="{CIRCLE / 2}" fill="#ffffff" stroke="#c62828" stroke-width="1.5"/>'
                       f'<circle cx="{b.x:.1f}" cy="{b.y:.1f}" r="{CIRCLE / 2 - 3.5}" fill="#c62828"/></g>')
            continue
        fill = colours.get(pm.departments.get(name) or "", "#eeeeee")
        out.append(f'<g class="node" data-name="{esc(name)}"><title>{esc(name)}</title>'
                   f'<rect x="{b.x - b.width / 2:.1f}" y="{b.y - b.height / 2:.1f}" width="{b.width:.1f}" '
                   f'height="{b.height:.1f}" rx="6" fill="{fill}" stroke="#5f6368"/>')
        first = b.y - (len(b.lines) - 1) * LINE / 2 + NODE_SIZE * 0.35
        for i, line in enumerate(b.lines):
            out.append(f'<text x="{b.x:.1f}" y="{first + i * LINE:.1f}" font-size="{NODE_SIZE}" '
                       f'text-anchor="middle" fill="#202124">{esc(line)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def frequency_svg(pm: ProcessMap, colours: dict[str, str] | None = None,
                  highlight: set[tuple[str, str]] = frozenset()) -> str:
    """The map with frequency labels, edge width by frequency and each activity's event count in its box."""
    values = {(e.source, e.target): e.frequency for e in pm.edges}
    labels = {(e.source, e.target): f"{e.frequency:,}" for e in pm.edges}
    nodes = {a: f"{a}\n{n:,}" for a, n in pm.activities.items()}
    return to_svg(pm, labels, values, nodes, highlight, colours)


def shared_colours(before: ProcessMap, after: ProcessMap) -> dict[str, str]:
    """One colour per department for two maps side by side (a department only `after` has takes the next one)."""
    shared = department_colours(before)
    for name in sorted({d for d in after.departments.values() if d} - set(shared)):
        shared[name] = PALETTE[len(shared) % len(PALETTE)]
    return shared


def new_edges(before: ProcessMap, after: ProcessMap) -> set[tuple[str, str]]:
    """The edges of `after` that `before` does not have (drawn in red on the to-be map)."""
    old = {(e.source, e.target) for e in before.edges}
    return {(e.source, e.target) for e in after.edges if (e.source, e.target) not in old}


_ZOOM_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
html, body { margin: 0; height: 100%; overflow: hidden; background: #ffffff; font-family: sans-serif; }
#view { position: absolute; inset: 0; cursor: grab; touch-action: none; overflow: hidden; user-select: none;
  border: 1px solid #e3e5e8; border-radius: 8px; box-sizing: border-box; }
#view.dragging { cursor: grabbing; }
#view > svg { width: 100%; height: 100%; display: block; }
#tools { position: absolute; top: 8px; right: 8px; z-index: 1; display: flex; gap: 4px; align-items: center; }
#tools button { width: 30px; height: 28px; border: 1px solid #c4c7cc; border-radius: 6px; background: #ffffff;
  font-size: 16px; line-height: 1; cursor: pointer; }
#tools button:hover { background: #f1f3f4; }
#tools #fit { width: auto; padding: 0 8px; font-size: 13px; }
#scale { min-width: 44px; text-align: right; font-size: 12px; color: #5f6368; }
</style></head><body>
<div id="tools"><span id="scale">100%</span><button id="zoom-in" title="+">+</button>
<button id="zoom-out" title="−">−</button><button id="fit">FIT</button></div>
<div id="view">SVG</div>
<script>
(() => {
  const view = document.getElementById("view"), svg = view.querySelector("svg"), label = document.getElementById("scale");
  const [, , w, h] = svg.getAttribute("viewBox").split(/[ ,]+/).map(Number);
  svg.removeAttribute("viewBox"); svg.removeAttribute("width"); svg.removeAttribute("height");
  const g = document.createElementNS("http://www.w3.org/2000/svg", "g");
  g.setAttribute("class", "viewport");
  while (svg.firstChild) g.appendChild(svg.firstChild);
  svg.appendChild(g);
  let s = 1, tx = 0, ty = 0;
  const show = () => {
    g.setAttribute("transform", `translate(${tx} ${ty}) scale(${s})`);
    svg.dataset.scale = s.toFixed(3);
    label.textContent = Math.round(s * 100) + "%";
  };
  const zoom = (factor, cx, cy) => {
    const next = Math.min(8, Math.max(0.05, s * factor));
    tx = cx - (cx - tx) * next / s; ty = cy - (cy - ty) * next / s; s = next; show();
  };
  // Fit: the whole map. At the start the whole map too, unless its text would get too small to read:
  // then the width (never above 100%), from the top.
  const fit = (whole) => {
    const W = view.clientWidth, H = view.clientHeight;
    s = Math.min(1, W / w, whole ? H / h : Infinity);
    tx = (W - w * s) / 2; ty = whole ? (H - h * s) / 2 : 0; show();
  };
  view.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = view.getBoundingClientRect();
    zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag = null;
  view.addEventListener("pointerdown", (e) => {
    e.preventDefault();  // no text selection while dragging
    drag = { x: e.clientX - tx, y: e.clientY - ty }; view.setPointerCapture(e.pointerId); view.classList.add("dragging");
  });
  view.addEventListener("pointermove", (e) => { if (drag) { tx = e.clientX - drag.x; ty = e.clientY - drag.y; show(); } });
  const stop = () => { drag = null; view.classList.remove("dragging"); };
  view.addEventListener("pointerup", stop); view.addEventListener("pointercancel", stop);
  const centre = () => [view.clientWidth / 2, view.clientHeight / 2];
  document.getElementById("zoom-in").onclick = () => zoom(1.25, ...centre());
  document.getElementById("zoom-out").onclick = () => zoom(0.8, ...centre());
  document.getElementById("fit").onclick = () => fit(true);
  fit(Math.min(view.clientWidth / w, view.clientHeight / h) >= 0.7);
})();
</script></body></html>"""


def zoomable_html(svg: str, height: int, fit_label: str = "Fit") -> str:
    """An HTML page showing `svg` with pan (drag), zoom (wheel, + and − buttons) and a fit button.

    The current scale is shown as a percentage and kept in the svg's `data-scale` attribute.
    """
    page = _ZOOM_PAGE.replace('<button id="fit">FIT</button>', f'<button id="fit">{html.escape(fit_label)}</button>')
    return page.replace("#view { position", f"body {{ height: {int(height)}px; }}\n#view {{ position", 1) \
        .replace('<div id="view">SVG</div>', f'<div id="view">{svg}</div>', 1)


def svg_size(svg: str) -> tuple[float, float]:
    """Width and height of an SVG made by `to_svg` (read back from its root element)."""
    head = svg[:svg.index(">")]
    found = dict(re.findall(r'\s(width|height)="([\d.]+)"', head))
    return float(found["width"]), float(found["height"])
