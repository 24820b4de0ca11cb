"""The process map: projection on kept activities, path pruning that never disconnects an activity."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import importer, metrics, process_map, store

RECEIPT = Path(__file__).resolve().parents[2] / "shared" / "data" / "receipt.csv"


def test_hidden_activity_joins_its_neighbours(db, write):
    # Case 1: A 09:00, X 10:00, B 12:00. Hiding X leaves A→B taking 3 h.
    path = write("h.csv", "case,activity,timestamp\n1,A,2024-03-05 09:00\n1,X,2024-03-05 10:00\n1,B,2024-03-05 12:00\n")
    log_id = importer.import_file(db, path).log_id
    pm = process_map.discover_map(db, log_id, ["A", "B"])
    edges = {(e.source, e.target): (e.frequency, e.mean_seconds) for e in pm.edges}
    assert edges == {("▶", "A"): (1, None), ("A", "B"): (1, 3 * 3600.0), ("B", "■"): (1, None)}
    assert pm.activities == {"A": 1, "B": 1}


@pytest.mark.skipif(not RECEIPT.exists(), reason=f"{RECEIPT} not available")
def test_full_map_equals_the_dfg_with_start_and_end_edges(db):
    log_id = importer.import_file(db, RECEIPT).log_id
    counts = process_map.activity_counts(db, log_id)
    pm = process_map.discover_map(db, log_id, list(counts))
    dfg = metrics.dfg(db, log_id)
    inner = {(e.source, e.target): e for e in pm.edges
             if process_map.START != e.source and process_map.END != e.target}
    assert {k: (e.frequency, e.cases) for k, e in inner.items()} == {
        (e.source, e.target): (e.frequency, e.cases) for e in dfg.edges}
    # Means agree to float precision (parallel sums may add in another order).
    for e in dfg.edges:
        assert inner[(e.source, e.target)].mean_seconds == pytest.approx(e.mean_seconds, rel=1e-9)
    assert {e.target: e.frequency for e in pm.edges if e.source == process_map.START} == dfg.start_activities
    assert {e.source: e.frequency for e in pm.edges if e.target == process_map.END} == dfg.end_activities
    assert sum(counts.values()) == metrics.summary(db, log_id).events


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    con = store.connect(tmp_path_factory.mktemp("pm") / "pm.duckdb")
    yield con, tmp_path_factory.mktemp("logs")
    con.close()


cases = st.lists(st.lists(st.sampled_from("ABCDEFG"), min_size=1, max_size=7), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(traces=cases, activity_share=st.floats(0.05, 1.0), path_share=st.floats(0.0, 1.0))
def test_pruning_never_disconnects_a_kept_activity(scratch, traces, activity_share, path_share):
    con, folder = scratch
    rows = ["case,activity,timestamp"]
    for c, trace in enumerate(traces):
        rows += [f"c{c},{a},2024-03-{1 + i:02d} 09:00" for i, a in enumerate(trace)]
    path = folder / "random.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    log_id = importer.import_file(con, path).log_id
    kept = process_map.keep_activities(process_map.activity_counts(con, log_id), activity_share)
    pruned = process_map.prune_paths(process_map.discover_map(con, log_id, kept), path_share)
    assert set(pruned.activities) == set(kept)
    assert process_map.connected(pruned)


def test_dot_has_every_node_and_edge_with_escaped_names(db, write):
    path = write("q.csv", 'case,activity,timestamp,department\n1,"Say ""hi""",2024-03-05 09:00,Sales\n1,B,2024-03-05 10:00,IT\n')
    log_id = importer.import_file(db, path).log_id
    pm = process_map.discover_map(db, log_id, ["Say \"hi\"", "B"])
    values = {(e.source, e.target): e.frequency for e in pm.edges}
    dot = process_map.to_dot(pm, {k: str(v) for k, v in values.items()}, values, {})
    assert dot.startswith("digraph process {") and dot.endswith("}")
    assert '"Say \\"hi\\"" -> "B"' in dot
    assert dot.count("->") == 3  # ▶→Say "hi", Say "hi"→B, B→■
    colours = process_map.department_colours(pm)
    assert f'fillcolor="{colours["IT"]}"' in dot


def test_bottleneck_edges_hold_the_most_time_in_total(db, write):
    # A→B: 2 × 10 h = 20 h; A→C: 1 × 30 h = 30 h; B→C: 2 × 1 h = 2 h. Top 2: A→C, A→B.
    rows = ["case,activity,timestamp",
            "1,A,2024-03-01 00:00", "1,B,2024-03-01 10:00", "1,C,2024-03-01 11:00",
            "2,A,2024-03-02 00:00", "2,B,2024-03-02 10:00", "2,C,2024-03-02 11:00",
            "3,A,2024-03-03 00:00", "3,C,2024-03-04 06:00"]
    log_id = importer.import_file(db, write("b.csv", "\n".join(rows) + "\n")).log_id
    pm = process_map.discover_map(db, log_id, ["A", "B", "C"])
    hot = process_map.bottleneck_edges(pm, top=2)
    assert hot == {("A", "C"), ("A", "B")}
    dot = process_map.to_dot(pm, {}, {}, {}, hot)
    assert dot.count(', color="#d62728"') == 2  # the two hot edges, nothing else


def test_p90_of_each_edge_by_hand(db, tiny_log):
    # Durations (min): A→B 60, 30, 10; B→C 120, 240, 10; B→B 60, 30; A→C 30.
    # quantile_cont(0.9) interpolates at position 0.9 × (n − 1) of the sorted durations:
    # A→B [10, 30, 60] at 1.8 → 30 + 0.8 × 30 = 54 min; B→C [10, 120, 240] → 120 + 0.8 × 120 = 216 min;
    # B→B [30, 60] at 0.9 → 30 + 0.9 × 30 = 57 min; A→C [30] → 30 min. START and END edges have no time.
    log_id = importer.import_file(db, tiny_log).log_id
    pm = process_map.discover_map(db, log_id, ["A", "B", "C"])
    p90 = {(e.source, e.target): e.p90_seconds for e in pm.edges}
    assert p90 == pytest.approx({("A", "B"): 54 * 60, ("B", "C"): 216 * 60, ("B", "B"): 57 * 60,
                                 ("A", "C"): 30 * 60, ("▶", "A"): None, ("C", "■"): None})
    medians = {(e.source, e.target): e.median_seconds for e in pm.edges if e.median_seconds}
    assert medians == {("A", "B"): 30 * 60, ("B", "C"): 120 * 60, ("B", "B"): 45 * 60, ("A", "C"): 30 * 60}
