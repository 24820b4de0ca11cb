"""The map drawn without Graphviz: layout properties on hand-made maps and random ones, and a well-formed SVG."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import map_render
from analysis.process_map import END, START, MapEdge, ProcessMap

NS = "{http://www.w3.org/2000/svg}"


def make_map(edges: dict[tuple[str, str], int], departments: dict[str, str] | None = None) -> ProcessMap:
    """A map from {(source, target): frequency}; activities are every name but START and END."""
    names = dict.fromkeys(n for k in edges for n in k if n not in (START, END))
    activities = {a: sum(f for (s, t), f in edges.items() if t == a) or 1 for a in names}
    return ProcessMap(activities, departments or {}, [MapEdge(s, t, f, f, None, None) for (s, t), f in edges.items()])


def svg_of(pm: ProcessMap, highlight=frozenset()) -> ET.Element:
    values = {(e.source, e.target): e.frequency for e in pm.edges}
    svg = map_render.to_svg(pm, {k: f"{v:,}" for k, v in values.items()}, values,
                            {a: f"{a}\n{n:,}" for a, n in pm.activities.items()}, highlight)
    return ET.fromstring(svg)


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if cls in g.get("class", "").split()]


def titles(root: ET.Element, cls: str) -> list[str]:
    return [g.find(f"{NS}title").text for g in groups(root, cls)]


def overlapping(boxes: list[map_render.Box]) -> list[tuple[str, str]]:
    return [(a.name, b.name) for a, b in itertools.combinations(boxes, 2)
            if abs(a.x - b.x) < (a.width + b.width) / 2 and abs(a.y - b.y) < (a.height + b.height) / 2]


# A campaign flow with a rework loop (C→B), a loop on one activity (D→D) and a skip (A→D).
FLOW = {(START, "A"): 10, ("A", "B"): 8, ("A", "D"): 2, ("B", "C"): 9, ("C", "B"): 1, ("C", "D"): 8,
        ("D", "D"): 3, ("D", END): 10}


def test_every_node_and_edge_appears_exactly_once():
    root = svg_of(make_map(FLOW))
    assert sorted(titles(root, "node")) == sorted([START, "A", "B", "C", "D", END])
    drawn = [(g.get("data-source"), g.get("data-target")) for g in groups(root, "edge")]
    assert sorted(drawn) == sorted(FLOW)
    assert {g.get("class") for g in groups(root, "edge")} == {"edge forward", "edge back", "edge self"}


def test_boxes_do_not_overlap_and_fit_inside_the_picture():
    lay = map_render.layout(make_map(FLOW))
    assert not overlapping(list(lay.nodes.values()))
    for b in lay.nodes.values():
        assert 0 <= b.x - b.width / 2 and b.x + b.width / 2 <= lay.width
        assert 0 <= b.y - b.height / 2 and b.y + b.height / 2 <= lay.height


def test_forward_edges_go_down_and_the_loop_back_goes_up():
    lay = map_render.layout(make_map(FLOW))
    kinds = {(r.source, r.target): r.kind for r in lay.edges}
    assert kinds[("C", "B")] == "back" and kinds[("D", "D")] == "self"
    for r in lay.edges:
        source, target = lay.nodes[r.source], lay.nodes[r.target]
        if r.kind == "forward":
            assert target.layer > source.layer and target.y > source.y
            assert r.points[-1][1] > r.points[0][1]
        elif r.kind == "back":
            assert target.y < source.y and r.points[-1][1] < r.points[0][1]
    assert lay.nodes[START].layer == 0
    assert lay.nodes[END].layer == max(b.layer for b in lay.nodes.values())
    assert [b.name for b in lay.nodes.values() if b.layer == lay.nodes[END].layer] == [END]


def test_a_straight_chain_is_drawn_in_one_column():
    lay = map_render.layout(make_map({(START, "A"): 1, ("A", "B"): 1, ("B", END): 1}))
    assert len({round(b.x, 3) for b in lay.nodes.values()}) == 1
    assert [b.layer for b in lay.nodes.values()] == [0, 1, 2, 3]


def test_long_edges_bend_around_the_nodes_they_skip():
    # A→C skips B: it runs through a dummy point beside B, never through B's box.
    lay = map_render.layout(make_map({(START, "A"): 2, ("A", "B"): 1, ("B", "C"): 1, ("A", "C"): 1, ("C", END): 2}))
    skip = next(r for r in lay.edges if (r.source, r.target) == ("A", "C"))
    b = lay.nodes["B"]
    beside_b = [p for p in skip.points if abs(p[1] - b.y) < 1]
    assert beside_b and all(abs(p[0] - b.x) > b.width / 2 for p in beside_b)


def test_awkward_names_are_escaped_and_the_svg_parses():
    names = ['A&B <x> "q"', "预算审批", "it's 50% & <more>", "a\x01b"]
    pm = make_map({(START, names[0]): 2, (names[0], names[1]): 2, (names[1], names[2]): 1,
                   (names[1], names[3]): 1, (names[2], END): 1, (names[3], END): 1},
                  {names[0]: "市场部 & <Co>", names[1]: "财务部"})
    root = svg_of(pm)
    assert sorted(titles(root, "node")) == sorted([START, END, *names[:3], "ab"])  # no control characters in XML
    texts = " ".join(t.text or "" for t in root.iter(f"{NS}text"))
    assert "A&B <x> \"q\"" in texts and "预算审批" in texts
    assert "sans-serif" in root.get("font-family") and "WenQuanYi Zen Hei" in root.get("font-family")


def test_chinese_names_get_wider_boxes_than_latin_ones_of_the_same_length():
    lay = map_render.layout(make_map({(START, "审批预算"): 1, ("审批预算", "abcd"): 1, ("abcd", END): 1}))
    assert lay.nodes["审批预算"].width > lay.nodes["abcd"].width
    assert map_render.text_width("审批") > 1.7 * map_render.text_width("ab")


def test_long_names_wrap_onto_several_lines():
    name = "Approve the regional marketing campaign budget and sign the contract"
    lay = map_render.layout(make_map({(START, name): 1, (name, END): 1}))
    assert len(lay.nodes[name].lines) > 1 and " ".join(lay.nodes[name].lines) == name
    assert lay.nodes[name].width <= map_render.WRAP + 30


def test_highlighted_edges_are_red_and_only_those():
    root = svg_of(make_map(FLOW), highlight={("B", "C"), ("C", "D")})
    red = [(g.get("data-source"), g.get("data-target")) for g in groups(root, "edge")
           if g.find(f"{NS}path").get("stroke") == map_render.HOT]
    assert sorted(red) == [("B", "C"), ("C", "D")]


def test_edge_width_follows_the_values():
    root = svg_of(make_map(FLOW))
    width = {(g.get("data-source"), g.get("data-target")): float(g.find(f"{NS}path").get("stroke-width"))
             for g in groups(root, "edge")}
    assert width[(START, "A")] == 6.0  # the largest value
    assert width[("C", "B")] == round(0.6 + 5.4 * 1 / 10, 2)


def test_self_loop_sits_beside_its_box():
    lay = map_render.layout(make_map(FLOW))
    loop = next(r for r in lay.edges if r.kind == "self")
    d = lay.nodes["D"]
    assert all(p[0] >= d.x + d.width / 2 for p in loop.points)
    assert max(p[0] for p in loop.points) < lay.width


def test_empty_and_one_activity_maps():
    root = ET.fromstring(map_render.to_svg(ProcessMap({}, {}, []), {}, {}, {}))
    assert sorted(titles(root, "node")) == sorted([START, END]) and groups(root, "edge") == []
    root = svg_of(make_map({(START, "A"): 1, ("A", END): 1}))
    assert len(groups(root, "node")) == 3 and len(groups(root, "edge")) == 2


def test_size_fits_the_content():
    svg = map_render.to_svg(make_map(FLOW), {}, {}, {})
    root = ET.fromstring(svg)
    width, height = map_render.svg_size(svg)
    assert root.get("viewBox") == f"0 0 {width:.0f} {height:.0f}"
    numbers = [float(v) for v in re.findall(r'\b(?:x|cx)="([\d.]+)"', svg)]
    assert max(numbers) <= width


def test_zoomable_page_is_self_contained():
    svg = map_render.to_svg(make_map(FLOW), {}, {}, {})
    page = map_render.zoomable_html(svg, 600, "适应")
    assert svg in page and "dataset.scale" in page  # the browser test reads the scale from data-scale
    assert "<script src" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    assert 'id="zoom-in"' in page and 'id="zoom-out"' in page and ">适应</button>" in page
    assert "wheel" in page


names = st.sampled_from(["A", "B", "C", "预算审批", "法务审核 & <x>", "Very long activity name that wraps", "E", "F"])
edge_lists = st.lists(st.tuples(names, names), max_size=25)


@settings(max_examples=60, deadline=None)
@given(inner=edge_lists, starts=st.lists(names, min_size=1, max_size=3), ends=st.lists(names, min_size=1, max_size=3),
       frequencies=st.lists(st.integers(1, 1000), min_size=40, max_size=40))
def test_random_maps_place_every_node_without_overlap(inner, starts, ends, frequencies):
    keys = list(dict.fromkeys([*((START, s) for s in starts), *inner, *((e, END) for e in ends)]))
    pm = make_map({k: f for k, f in zip(keys, itertools.cycle(frequencies), strict=False)})
    lay = map_render.layout(pm, {a: f"{a}\n{n}" for a, n in pm.activities.items()})
    assert set(lay.nodes) == {START, END, *pm.activities}
    assert not overlapping(list(lay.nodes.values()))
    assert len(lay.edges) == len(keys)
    for r in lay.edges:
        if r.kind == "forward":
            assert lay.nodes[r.target].y > lay.nodes[r.source].y
    root = svg_of(pm, highlight=set(keys[:2]))
    assert sorted(titles(root, "node")) == sorted(lay.nodes)
    assert len(groups(root, "edge")) == len(keys)
