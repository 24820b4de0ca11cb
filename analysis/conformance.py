"""Conformance: how today's cases fit a to-be flow (a redesign scenario's, or a BPMN model the user loads).

Like discovery, conformance runs on variants, not events: each of the kept cases' activity sequences is
aligned once with the model's Petri net and weighted by its number of cases, which is what pm4py does
inside `fitness_alignments` for a full event log (tests/test_conformance.py checks the two agree).
An alignment pairs the case's events with the model's steps at the least cost; what it cannot pair is a
deviation: an activity the case did and the flow does not have ("extra", a log move) or a step the flow
expects and the case did not do ("skipped", a model move).

Alignments are exact but can be slow on models with much concurrency (sepsis' own model takes a third of
a second per variant). They get a time budget; when it runs out before every checked variant is aligned,
fitness and the fitting share come from token replay instead (`method` says which), and the deviations
from the variants aligned in time (`deviations_cases_share` says how much they cover) -- except activities
the model lacks, which are "extra" in every alignment and are counted over all checked cases.

Fitness (`Conformance.fitness`) is the mean of the checked cases' own fitness, pm4py's
`average_trace_fitness`. With alignments a case's fitness is 1 − deviations / (its events + the fewest steps
through the model), and it fits when its alignment has no log or model move; with token replay it is pm4py's
token fitness, and a case fits when it leaves no missing or remaining token (an event of an activity the
model lacks counts as one of each: `with_dead_transitions`). (pm4py's alignment `log_fitness` also counts
invisible steps at a tiny cost, so it stays just below 1 for cases that fit; the mean of the cases' fitness
does not.) A deviation's department is its activity's department in the whole log
(`departments.department_of`).

What lives where: the records (`Deviation`, `Conformance`); the to-be model of a redesign scenario
(`to_be_model`, `interleavings`); a loaded BPMN model (`bpmn_net`); the check itself (`conformance`, with
`_align` and `_token_replay`); and what the CLI, the pages and the report call: `scenario_fit`, `bpmn_fit`
and `fit_summary` (the JSON-ready form `python -m analysis redesign --json` prints).
"""

from __future__ import annotations

import re
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path

import duckdb

from analysis import metrics, process_model
from analysis.departments import department_of
from analysis.errors import UserError
from analysis.filters import CaseFilter
from analysis.records import plain
from analysis.redesign import Scenario, to_be_variants

ALIGNMENTS, TOKEN_REPLAY = "alignments", "token replay"
SKIPPED, EXTRA = "skipped", "extra"


@dataclass(frozen=True)
class Deviation:
    """One kind of deviation from the flow, and how many of the checked cases show it (at least once)."""

    activity: str
    department: str | None  # the activity's most frequent department in the log (None: not in the log)
    kind: str               # "skipped": the flow expects it, the case did not do it; "extra": the other way
    cases: int


@dataclass(frozen=True)
class Conformance:
    """How the kept cases fit a Petri net, per variant, weighted by cases (definitions: module docstring)."""

    # fitness and fitting_cases_share are over the checked cases: the most frequent `variants_checked`
    # variants, `cases_checked_share` of the kept cases.
    method: str                    # "alignments" or "token replay"
    fitness: float
    fitting_cases_share: float
    cases: int                     # kept cases
    variants: int                  # kept variants
    variants_checked: int
    cases_checked_share: float
    deviations: tuple[Deviation, ...]   # most frequent first
    deviations_cases_share: float  # share of the checked cases whose alignment the deviations come from


# --- the to-be model ---------------------------------------------------------------------------------


def to_be_model(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario | None,
                flt: CaseFilter | None = None) -> process_model.Model | None:
    """The scenario's to-be flow: the inductive miner (noise 0) on the to-be variants (None: no case kept)."""
    # Removed activities are gone and merged ones carry their new name. A parallel block comes out as
    # concurrency because each variant is given to the miner in several orders of its branches
    # (`interleavings`), its cases split among them.
    variants = to_be_variants(con, log_id, scenario, flt)
    counts: Counter[tuple[str, ...]] = Counter()
    for steps, n in variants:
        orders = interleavings(steps)
        for k, order in enumerate(orders):
            # Counts only matter to a noise threshold, which is 0 here; every order keeps at least 1.
            counts[order] += max(1, n // len(orders) + (1 if k < n % len(orders) else 0))
    counts.pop((), None)  # cases whose every event was removed leave nothing to model
    if not counts:
        return None
    return process_model.model_from_variants(counts, 0.0, cases=sum(n for _, n in variants), variants=len(variants))


def interleavings(steps: tuple[tuple[str, int | None, int | None], ...]) -> list[tuple[str, ...]]:
    """Activity sequences showing the inductive miner that a to-be variant's parallel branches are concurrent."""
    # A block is a run of consecutive steps with the same parallel block id; its branches keep their inner
    # order. The miner finds a parallel cut when, for any two activities of different branches, each
    # directly follows the other somewhere. So besides the variant as replayed, each block is written once
    # per (activity a of one branch, activity b of another) with a directly before b, the other blocks as
    # replayed: Σ |branch p|·|branch q| sequences per block, not every interleaving.
    runs: list[tuple[int | None, dict]] = []  # (block id, branch id -> its activities); a serial step alone
    for activity, block, branch in steps:
        if block is not None and runs and runs[-1][0] == block:
            runs[-1][1].setdefault(branch, []).append(activity)
        else:
            runs.append((block, {branch: [activity]}))
    segments = [list(branches.values()) for _, branches in runs]

    def join(parts) -> tuple[str, ...]:
        return tuple(a for part in parts for a in part)

    as_replayed = [join(branches) for branches in segments]
    out = [join(as_replayed)]
    for s, branches in enumerate(segments):
        if len(branches) < 2:
            continue
        orders = [join(branches[::-1])]
        for p, q in permutations(range(len(branches)), 2):
            first, second = branches[p], branches[q]
            others = [b for k, b in enumerate(branches) if k not in (p, q)]
            for i in range(len(first)):
                for j in range(len(second)):
                    # second's steps before b, first's steps up to a, then b on, then the rest of first.
                    orders.append(join([second[:j], first[:i + 1], second[j:], first[i + 1:], *others]))
        out += [join([*as_replayed[:s], order, *as_replayed[s + 1:]]) for order in orders]
    return list(dict.fromkeys(out))


# --- a loaded BPMN model -----------------------------------------------------------------------------


def bpmn_net(xml_text: str):
    """A BPMN 2.0 model (the file's text) as a Petri net (net, initial, final marking); UserError: why not."""
    # The text is already decoded: drop a declaration naming the file's original encoding (e.g. GBK),
    # which would make pm4py decode the UTF-8 we write wrongly.
    xml_text = _DECLARATION.sub("", xml_text.lstrip("\ufeff"), count=1)
    _check_bpmn(xml_text)
    pm4py = process_model._pm4py()
    with tempfile.TemporaryDirectory(prefix="procdiag-bpmn-") as folder:
        path = Path(folder) / "model.bpmn"
        path.write_text(xml_text, encoding="utf-8")
        try:
            bpmn = pm4py.read_bpmn(str(path))
            net, initial, final = pm4py.convert_to_petri_net(bpmn)
        except Exception as error:  # pm4py's own errors are tracebacks, not explanations
            raise UserError("err.bpmn_unreadable", detail=f"{type(error).__name__}: {error}") from None
    if not any(t.label for t in net.transitions):
        raise UserError("err.bpmn_no_tasks")
    from pm4py.objects.petri_net.utils.check_soundness import check_easy_soundness_net_in_fin_marking

    if not check_easy_soundness_net_in_fin_marking(net, initial, final):
        raise UserError("err.bpmn_unsound")
    return net, initial, final


_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _local(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _check_bpmn(xml_text: str) -> None:
    """The structural checks pm4py does not explain: XML, a process, start and end events, flows that connect."""
    if not xml_text or not xml_text.strip():
        raise UserError("err.bpmn_empty")
    if "<!DOCTYPE" in xml_text or "<!ENTITY" in xml_text:
        raise UserError("err.bpmn_doctype")
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as error:
        raise UserError("err.bpmn_xml", detail=str(error)) from None
    if _local(root.tag) != "definitions":
        raise UserError("err.bpmn_root", root=_local(root.tag))
    processes = [e for e in root.iter() if _local(e.tag) == "process"]
    if not processes:
        raise UserError("err.bpmn_no_process")
    elements = {e.get("id"): e for e in root.iter() if e.get("id")}
    kinds = Counter(_local(e.tag) for e in root.iter())
    if not kinds["startEvent"]:
        raise UserError("err.bpmn_no_start")
    if not kinds["endEvent"]:
        raise UserError("err.bpmn_no_end")
    for flow in (e for e in root.iter() if _local(e.tag) == "sequenceFlow"):
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if not ref or ref not in elements:
                raise UserError("err.bpmn_flow", flow=flow.get("id"), end=end, ref=ref or "")


# --- conformance -------------------------------------------------------------------------------------


def conformance(con: duckdb.DuckDBPyConnection, log_id: int, net, flt: CaseFilter | None = None,
                max_variants: int | None = 500, time_limit: float = 10.0) -> Conformance:
    """How the kept cases fit `net`: a process_model.Model (to_be_model) or a Petri net triple (bpmn_net)."""
    # The `max_variants` most frequent variants are checked (None: all). Alignments get `time_limit`
    # seconds in all; if that is not enough, fitness falls back to token replay (see the module docstring).
    if isinstance(net, process_model.Model):
        net = process_model.petri_net(net)
    petri, initial, final = net
    kept = metrics.variants(con, log_id, flt=flt)
    cases = sum(v.cases for v in kept)
    checked = kept if max_variants is None else kept[:max_variants]
    sequences = [tuple(v.activities) for v in checked]
    weights = [v.cases for v in checked]
    checked_cases = sum(weights)
    if not checked:
        return Conformance(ALIGNMENTS, 0.0, 0.0, 0, 0, 0, 0.0, (), 0.0)

    aligned = _align(sequences, petri, initial, final, time_limit)
    if len(aligned) == len(sequences):
        method = ALIGNMENTS
        fitness = sum(w * a["fitness"] for w, a in zip(weights, aligned, strict=True)) / checked_cases
        fitting = sum(w for w, a in zip(weights, aligned, strict=True) if a["fitness"] == 1.0)
    else:
        method = TOKEN_REPLAY
        fitness, fitting = _token_replay(sequences, weights, petri, initial, final)

    counted: Counter[tuple[str, str]] = Counter()
    labels = {t.label for t in petri.transitions if t.label}
    for k, (seq, w) in enumerate(zip(sequences, weights, strict=True)):
        # An activity the model does not have is a log move in every alignment: known without aligning.
        found = {(a, EXTRA) for a in seq if a not in labels}
        if k < len(aligned):
            found |= aligned[k]["deviations"]
        for key in found:
            counted[key] += w
    departments = department_of(con, log_id)
    deviations = tuple(Deviation(a, departments.get(a), kind, n)
                       for (a, kind), n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0][1], kv[0][0])))
    return Conformance(
        method=method, fitness=float(fitness), fitting_cases_share=fitting / checked_cases, cases=cases,
        variants=len(kept), variants_checked=len(checked), cases_checked_share=checked_cases / cases,
        deviations=deviations, deviations_cases_share=sum(weights[:len(aligned)]) / checked_cases)


def _align(sequences: list[tuple[str, ...]], net, initial, final, time_limit: float) -> list[dict]:
    """Optimal alignments of the sequences, in order, until the time budget runs out (the ones done)."""
    # Dijkstra without heuristics but with little memory: on the miner's block-structured nets it is about
    # ten times faster here than pm4py's default (A* with the state equation) and finds alignments of the
    # same deviation cost. Unlike the default it does not put the trace's own worst cost (one log move per
    # event) into the parameters, so it is passed here: without it a case's fitness would come out wrong.
    process_model._pm4py()
    from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments
    from pm4py.algo.conformance.alignments.petri_net.variants import dijkstra_less_memory
    from pm4py.objects.log.obj import Event, Trace
    from pm4py.objects.petri_net.utils.align_utils import STD_MODEL_LOG_MOVE_COST

    deadline = time.monotonic() + time_limit
    variant = alignments.Variants.VERSION_DIJKSTRA_LESS_MEMORY
    # The cost of the empty trace's alignment, computed once as pm4py's apply_log does for a whole log.
    worst = dijkstra_less_memory.get_best_worst_cost(net, initial, final, {})
    labels = {t.label for t in net.transitions if t.label}
    done: list[dict] = []
    for seq in sequences:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        # Events of activities the model lacks can only be log moves: aligning without them finds the
        # same optimal alignment much faster (fewer states); they are added back as one log move each.
        known = [a for a in seq if a in labels]
        params = {alignments.Parameters.BEST_WORST_COST_INTERNAL: worst,
                  alignments.Parameters.PARAM_TRACE_COST_FUNCTION: [STD_MODEL_LOG_MOVE_COST] * len(known),
                  alignments.Parameters.PARAM_MAX_ALIGN_TIME_TRACE: left}
        result = alignments.apply_trace(Trace([Event({"concept:name": a}) for a in known]), net, initial, final,
                                        parameters=params, variant=variant)
        if result is None:  # timed out
            break
        # pm4py's fitness of a trace: 1 − deviating moves / (one per event + the fewest visible steps of the
        # model); invisible steps cost less than one unit and drop out of the integer division.
        moves = result["cost"] // STD_MODEL_LOG_MOVE_COST + len(seq) - len(known)
        steps = len(seq) + worst // STD_MODEL_LOG_MOVE_COST
        fitness = 1 - moves / steps if steps > 0 else 0.0
        deviations = {(m, SKIPPED) for t, m in result["alignment"] if t == ">>" and m is not None}
        deviations |= {(t, EXTRA) for t, m in result["alignment"] if m == ">>"}
        done.append({"fitness": fitness, "deviations": deviations})
    return done


def _token_replay(sequences: list[tuple[str, ...]], weights: list[int], net, initial, final) -> tuple[float, int]:
    """The cases' mean token-replay fitness (pm4py's per-trace definition) and the number of fitting cases."""
    process_model._pm4py()
    from pm4py.algo.conformance.tokenreplay import algorithm as token_replay
    from pm4py.objects.log.obj import Event, EventLog, Trace

    net, initial, final = with_dead_transitions(net, initial, final, {a for seq in sequences for a in seq})
    log = EventLog([Trace([Event({"concept:name": a}) for a in seq]) for seq in sequences])
    results = token_replay.apply(log, net, initial, final, parameters={"show_progress_bar": False})
    fitness = sum(w * r["trace_fitness"] for w, r in zip(weights, results, strict=True)) / sum(weights)
    return fitness, sum(w for w, r in zip(weights, results, strict=True) if r["trace_is_fit"])


def with_dead_transitions(net, initial, final, activities: set[str]):
    """A copy of the net where each of `activities` it lacks is a transition that can never fire by itself."""
    # pm4py's token replay skips events whose activity has no transition, so a case full of activities the
    # model does not have would fit perfectly. Here such an event consumes from a place that never holds a
    # token (one missing token) and leaves one behind (one remaining token): it counts against the case, as
    # an extra activity does in an alignment.
    from copy import deepcopy

    from pm4py.objects.petri_net.obj import PetriNet
    from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

    labels = {t.label for t in net.transitions if t.label}
    missing = sorted(activities - labels)
    if not missing:
        return net, initial, final
    net, initial, final = deepcopy((net, initial, final))
    for k, activity in enumerate(missing):
        before, after = PetriNet.Place(f"dead_in_{k}"), PetriNet.Place(f"dead_out_{k}")
        transition = PetriNet.Transition(f"dead_{k}", activity)
        net.places.update((before, after))
        net.transitions.add(transition)
        add_arc_from_to(before, transition, net)
        add_arc_from_to(transition, after, net)
    return net, initial, final



# --- what the CLI, the pages and the report call ----------------------------------------------------------


def scenario_fit(con: duckdb.DuckDBPyConnection, log_id: int, scenario: Scenario,
                 flt: CaseFilter | None = None) -> Conformance | None:
    """How the kept cases fit the scenario's to-be flow (None when no case is kept)."""
    model = to_be_model(con, log_id, scenario, flt)
    return None if model is None else conformance(con, log_id, model, flt)


def bpmn_fit(con: duckdb.DuckDBPyConnection, log_id: int, xml_text: str,
             flt: CaseFilter | None = None) -> Conformance:
    """How the kept cases fit a loaded BPMN model (UserError, a ValueError, saying why it is not usable)."""
    return conformance(con, log_id, bpmn_net(xml_text), flt)


def fit_summary(result: Conformance | None) -> dict:
    """The JSON-ready summary the CLI prints: fitness, fitting and checked shares, method, deviations."""
    if result is None:
        return {"fitness": None, "fitting_cases_share": None, "cases_checked_share": None, "deviations": []}
    return plain({"fitness": result.fitness, "fitting_cases_share": result.fitting_cases_share,
                  "cases_checked_share": result.cases_checked_share, "method": result.method,
                  "deviations": result.deviations})
