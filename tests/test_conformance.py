"""Conformance of today's cases to a to-be flow or a loaded BPMN: by hand on tiny logs, and on real logs
against pm4py run on the full event log (read independently of our importer, see pm4py_logs.py)."""

from __future__ import annotations

import pickle
import warnings

import pytest

from analysis import conformance, process_model
from analysis.conformance import Conformance, Deviation
from analysis.filters import CaseFilter
from analysis.importer import import_file
from analysis.redesign import Scenario
from tests.pm4py_logs import ACT, CASE, DATA, SURROGATE, Lab, _pm4py


@pytest.fixture
def tiny(db, tiny_log) -> int:
    """The tiny log (ABC twice, AC, ABBBC; A and C by Sales, B by Finance) imported; its log id."""
    return import_file(db, tiny_log).log_id


def log_of(db, write, *variants: str, name: str = "log") -> int:
    """A log with one case per string, one event per letter (an hour apart), department = 'D' + letter."""
    rows = ["case,activity,timestamp,department"]
    for c, letters in enumerate(variants):
        rows += [f"{c},{a},2024-03-05 {h:02d}:00,D{a}" for h, a in enumerate(letters)]
    return import_file(db, write(f"{name}.csv", "\n".join(rows) + "\n")).log_id


def bpmn(*tasks: str, start: bool = True, end: bool = True, flows: list[tuple[str, str]] | None = None) -> str:
    """A BPMN 2.0 process: start event, the tasks in sequence, end event (no diagram layout)."""
    ids = (["start"] if start else []) + list(tasks) + (["end"] if end else [])
    nodes = ([' <startEvent id="start"/>'] if start else []) + [f' <task id="{t}" name="{t}"/>' for t in tasks] + (
        [' <endEvent id="end"/>'] if end else [])
    pairs = flows if flows is not None else list(zip(ids, ids[1:], strict=False))
    arcs = [f' <sequenceFlow id="f{k}" sourceRef="{s}" targetRef="{t}"/>' for k, (s, t) in enumerate(pairs)]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"><process id="p">\n'
            + "\n".join(nodes + arcs) + "\n</process></definitions>\n")


# --- a log against its own model ---------------------------------------------------------------------


def test_tiny_log_fits_its_own_model(db, tiny):
    model = conformance.to_be_model(db, tiny, None)
    assert model.tree == process_model.discover_model(db, tiny, 0.0).tree  # no scenario: the as-is model
    assert (model.cases, model.variants) == (4, 3)
    assert conformance.conformance(db, tiny, model) == Conformance(
        method="alignments", fitness=1.0, fitting_cases_share=1.0, cases=4, variants=3, variants_checked=3,
        cases_checked_share=1.0, deviations=(), deviations_cases_share=1.0)


def test_token_replay_when_alignments_get_no_time(db, tiny):
    result = conformance.conformance(db, tiny, conformance.to_be_model(db, tiny, None), time_limit=0)
    assert (result.method, result.fitness, result.fitting_cases_share) == ("token replay", 1.0, 1.0)
    assert result.deviations_cases_share == 0.0


def test_most_frequent_variants_are_checked_first(db, tiny):
    model = conformance.to_be_model(db, tiny, None)
    result = conformance.conformance(db, tiny, model, max_variants=1)
    assert (result.variants_checked, result.cases_checked_share, result.cases, result.variants) == (1, 0.5, 4, 3)


def test_filter_applies(db, tiny):
    model = conformance.to_be_model(db, tiny, None, CaseFilter(variants=(("A", "B", "C"),)))
    assert model.tree == "->( 'A', 'B', 'C' )"
    result = conformance.conformance(db, tiny, model, CaseFilter(variants=(("A", "C"),)))
    assert (result.cases, result.fitting_cases_share) == (1, 0.0)
    # A C on A B C: one model move (B skipped) over 2 events + 3 steps of the model's shortest run.
    assert result.fitness == pytest.approx(1 - 1 / 5)
    assert result.deviations == (Deviation("B", "Finance", "skipped", 1),)
    assert conformance.conformance(db, tiny, model, CaseFilter(activities_present=("nope",))).cases == 0


# --- scenarios ---------------------------------------------------------------------------------------


def test_removed_activity_is_extra_in_todays_cases(db, tiny):
    model = conformance.to_be_model(db, tiny, Scenario.of("no B", [{"op": "remove", "activities": ["B"]}]))
    assert model.tree == "->( 'A', 'C' )" and model.tasks == ["A", "C"]
    for time_limit in (10.0, 0.0):  # alignments, and token replay (B is extra without aligning)
        result = conformance.conformance(db, tiny, model, time_limit=time_limit)
        # Cases 1, 3 and 4 did B (case 3 three times): 3 cases with B extra; only A C fits.
        assert result.deviations == (Deviation("B", "Finance", "extra", 3),)
        assert result.fitting_cases_share == 0.25
    aligned = conformance.conformance(db, tiny, model)
    assert aligned.method == "alignments"
    # Per case 1 − extra events / (events + 2 steps): ABC twice 1 − 1/5, AC 1, ABBBC 1 − 3/7.
    assert aligned.fitness == pytest.approx((2 * (1 - 1 / 5) + 1 + (1 - 3 / 7)) / 4, abs=1e-12)
    token = conformance.conformance(db, tiny, model, time_limit=0)
    assert token.method == "token replay" and token.fitness < 1  # B's events count against the case


def test_merged_activities_appear_under_their_new_name(db, write):
    log_id = log_of(db, write, "ABC", "ABD", "ABC")
    model = conformance.to_be_model(db, log_id, Scenario.of("m", [{"op": "merge", "activities": ["A", "B"],
                                                                    "name": "A+B"}]))
    assert model.tree == "->( 'A+B', X( 'C', 'D' ) )"
    # Every case today does A and B (extra in the to-be flow) instead of the merged step (skipped); the
    # merged step is in no department of today's log.
    assert conformance.conformance(db, log_id, model).deviations == (
        Deviation("A", "DA", "extra", 3), Deviation("B", "DB", "extra", 3), Deviation("A+B", None, "skipped", 3))


def test_parallel_branches_accept_both_orders(db, write):
    # Today every case does B before C; in the to-be flow they run side by side.
    as_is = log_of(db, write, "ABCD", "ABCD", "ABCD", name="asis")
    model = conformance.to_be_model(db, as_is, Scenario.of("p", [{"op": "parallel", "activities": ["B", "C"]}]))
    assert model.tree == "->( 'A', +( 'C', 'B' ), 'D' )"  # pm4py's tree_sort orders the children
    both = log_of(db, write, "ABCD", "ACBD", name="both")
    result = conformance.conformance(db, both, model)
    assert (result.fitness, result.fitting_cases_share, result.deviations) == (1.0, 1.0, ())


def test_parallel_branches_of_several_steps_and_three_branches(db, write):
    as_is = log_of(db, write, "ABXCYD", name="asis")
    scenario = Scenario.of("p", [{"op": "parallel", "branches": [["B", "X"], ["C"], ["Y"]]}])
    model = conformance.to_be_model(db, as_is, scenario)
    assert model.tree == "->( 'A', +( 'C', 'Y', ->( 'B', 'X' ) ), 'D' )"
    fitting = log_of(db, write, "ABXCYD", "AYCBXD", "ABCXYD", "ACBYXD", name="fits")
    assert conformance.conformance(db, fitting, model).fitting_cases_share == 1.0
    # X before B breaks the branch's own order: one deviation.
    wrong = conformance.conformance(db, log_of(db, write, "AXBCYD", name="wrong"), model)
    assert wrong.fitting_cases_share == 0.0 and wrong.fitness == pytest.approx(1 - 2 / (6 + 6))


def test_interleavings_put_every_pair_of_branches_next_to_each_other_both_ways():
    steps = (("A", None, None), ("B", 1, 0), ("X", 1, 0), ("C", 1, 1), ("D", None, None))
    orders = conformance.interleavings(steps)
    assert orders[0] == ("A", "B", "X", "C", "D")  # as replayed first
    assert set(orders) == {("A", "B", "X", "C", "D"), ("A", "C", "B", "X", "D"), ("A", "B", "C", "X", "D")}
    follows = {(o[i], o[i + 1]) for o in orders for i in range(len(o) - 1)}
    assert {("B", "C"), ("C", "B"), ("X", "C"), ("C", "X")} <= follows


# --- a loaded BPMN -----------------------------------------------------------------------------------


def test_bpmn_without_an_activity_names_it(db, tiny):
    result = conformance.conformance(db, tiny, conformance.bpmn_net(bpmn("A", "C")))
    assert result.deviations == (Deviation("B", "Finance", "extra", 3),)
    assert result.fitting_cases_share == 0.25


def test_bpmn_with_a_mandatory_step_shows_skips_and_repeats(db, tiny):
    result = conformance.conformance(db, tiny, conformance.bpmn_net(bpmn("A", "B", "C")))
    # A C skips B (1 case); A B B B C repeats it twice (1 case).
    assert result.deviations == (Deviation("B", "Finance", "extra", 1), Deviation("B", "Finance", "skipped", 1))
    assert result.fitting_cases_share == 0.5


def test_bpmn_written_by_the_model_reads_back(db, tiny):
    model = conformance.to_be_model(db, tiny, None)
    assert conformance.conformance(db, tiny, conformance.bpmn_net(model.bpmn_xml)).fitness == 1.0


def test_bpmn_declaring_another_encoding_still_reads(db, tiny):
    # The upload was decoded already; the declaration's GB18030 must not make pm4py decode it again.
    text = bpmn("A", "审批", "C").replace('encoding="UTF-8"', 'encoding="GB18030"')
    net, _, _ = conformance.bpmn_net(text)
    assert {t.label for t in net.transitions if t.label} == {"A", "审批", "C"}


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("this is not xml", "not well-formed XML"),
    ("<model><task/></model>", "not BPMN 2.0: its root element is <model>"),
    ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>', "no <process>"),
    (bpmn("A", start=False), "no start event"),
    (bpmn("A", end=False), "no end event"),
    (bpmn("A", flows=[("start", "A"), ("A", "nowhere")]), 'targetRef="nowhere"'),
    (bpmn(flows=[("start", "end")]), "no named tasks"),
    (bpmn("A", "B", flows=[("start", "A"), ("A", "B"), ("B", "A")]), "end event cannot be reached"),
    ('<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><definitions/>', "DOCTYPE"),
])
def test_broken_bpmn_is_a_plain_error(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as error:
        conformance.bpmn_net(text)
    assert "Traceback" not in str(error.value)


def test_results_pickle_for_the_cache(db, tiny):
    model = conformance.to_be_model(db, tiny, Scenario.of("no B", [{"op": "remove", "activities": ["B"]}]))
    result = conformance.conformance(db, tiny, model)
    assert pickle.loads(pickle.dumps(model)) == model and pickle.loads(pickle.dumps(result)) == result
    net = pickle.loads(pickle.dumps(conformance.bpmn_net(bpmn("A", "C"))))
    assert conformance.conformance(db, tiny, net) == result


# --- real logs ---------------------------------------------------------------------------------------

REAL = ["receipt_csv", "helpdesk", "sepsis"]
# Sepsis' own model is one big parallel block: aligning its 846 variants takes minutes, so it is checked
# with token replay (no time for alignments); the others are aligned.
BUDGET = {"receipt_csv": 60.0, "helpdesk": 60.0, "sepsis": 0.0}
# For the cross-check with pm4py on the full log, one frequent activity is removed. pm4py's own alignments
# (A* with the state equation) take 30 s on helpdesk's to-be model, so helpdesk and sepsis are compared by
# token replay and receipt by alignments (its third most frequent activity: 4 s in pm4py, 20 s for the first).
REMOVE = {"receipt_csv": ("T02 Check confirmation of receipt", 60.0), "helpdesk": ("Take in charge ticket", 0.0),
          "sepsis": ("Leucocytes", 0.0)}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not DATA.is_dir():
        pytest.skip(f"real logs not found in {DATA}")
    lab = Lab(tmp_path_factory.mktemp("conformance") / "store.duckdb")
    yield lab
    lab.con.close()


@pytest.mark.slow
@pytest.mark.parametrize("key", REAL)
def test_real_log_fits_its_own_model(lab, key):
    model = lab.cached("model", key, lambda: conformance.to_be_model(lab.con, lab.log_id(key), None))
    result = conformance.conformance(lab.con, lab.log_id(key), model, max_variants=None, time_limit=BUDGET[key])
    assert result.method == ("token replay" if key == "sepsis" else "alignments")
    assert (result.fitness, result.fitting_cases_share, result.cases_checked_share) == (1.0, 1.0, 1.0)
    assert result.deviations == ()


@pytest.mark.slow
@pytest.mark.parametrize("key", REAL)
def test_weighted_fitness_equals_pm4py_on_the_full_log(lab, key):
    pm4py = _pm4py()
    removed, budget = REMOVE[key]
    model = conformance.to_be_model(lab.con, lab.log_id(key), Scenario.of("r", [{"op": "remove",
                                                                                "activities": [removed]}]))
    assert removed not in model.tasks
    ours = conformance.conformance(lab.con, lab.log_id(key), model, max_variants=None, time_limit=budget)
    frame = lab.frame("canonical", key)
    assert removed in frame[ACT].value_counts().index[:3]  # one of the three most frequent activities
    with_removed = frame.groupby(CASE)[ACT].apply(lambda acts: removed in set(acts))
    extra = {d.activity: d.cases for d in ours.deviations if d.kind == "extra"}
    assert extra[removed] == int(with_removed.sum())  # every case that did it, aligned or not
    keys = {"activity_key": ACT, "case_id_key": CASE, "timestamp_key": SURROGATE}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not budget:
            # Token replay on the net where the removed activity is a transition that can never fire
            # (as conformance does: pm4py's token replay would skip its events and call them fitting).
            net = conformance.with_dead_transitions(*process_model.petri_net(model), {removed})
            theirs = pm4py.fitness_token_based_replay(frame, *net, **keys)
        else:  # pm4py's default alignments (A* with the state equation)
            theirs = pm4py.fitness_alignments(frame, *process_model.petri_net(model), **keys)
    assert ours.method == ("alignments" if budget else "token replay")
    assert ours.fitness == pytest.approx(theirs["average_trace_fitness"], abs=1e-9)
    fitting_percent = theirs.get("percentage_of_fitting_traces", theirs.get("perc_fit_traces"))
    assert 100 * ours.fitting_cases_share == pytest.approx(fitting_percent, abs=1e-9)
    assert ours.fitness < 1
