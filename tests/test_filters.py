"""CaseFilter by hand on conftest's tiny log, and its JSON form.

The tiny log (conftest.TINY_LOG), worked out by hand:
  case 1  A B C      2024-03-05 09:00 .. 12:00  3 h     Sales, Finance
  case 2  A C        2024-03-05 09:00 .. 09:30  30 min  Sales
  case 3  A B B B C  2024-03-06 08:00 .. 14:00  6 h     Sales, Finance
  case 4  A B C      2024-03-07 09:00 .. 09:20  20 min  Sales, Finance
Variants: ABC (cases 1, 4), AC (2), ABBBC (3). Every case starts with A and ends with C, so the start,
end and order-sensitive conditions are also checked on TIES_LOG, whose events share timestamps.
"""

from __future__ import annotations

import json

import pytest

from analysis import metrics
from analysis.filters import ALL, CaseFilter, case_ids
from analysis.importer import import_file

ALL_CASES = {"1", "2", "3", "4"}
HOUR = 3600.0

# Region and channel are constant per case: they become case attributes.
REGIONS = {"1": ("North", "web"), "2": ("South", "web"), "3": ("North", "shop"), "4": ("East", "shop")}

# Ties inside cases: file order decides (x: B A C, y: A B C, z: A C B), never the activity name.
TIES_LOG = """case,activity,timestamp
x,B,2024-01-01 09:00
x,A,2024-01-01 09:00
x,C,2024-01-01 10:00
y,A,2024-01-01 09:00
y,B,2024-01-01 09:00
y,C,2024-01-01 10:00
z,A,2024-01-01 09:00
z,C,2024-01-01 10:00
z,B,2024-01-01 10:00
"""


@pytest.fixture
def tiny(db, tiny_log) -> int:
    return import_file(db, tiny_log).log_id


@pytest.fixture
def regions(db, write, tiny_log) -> int:
    lines = tiny_log.read_text().strip().splitlines()
    rows = [lines[0] + ",region,channel"]
    rows += [f"{line},{','.join(REGIONS[line.split(',')[0]])}" for line in lines[1:]]
    return import_file(db, write("regions.csv", "\n".join(rows) + "\n")).log_id


@pytest.fixture
def ties(db, write) -> int:
    return import_file(db, write("ties.csv", TIES_LOG)).log_id


def kept(db, log_id: int, flt: CaseFilter) -> set[str]:
    return {r[0] for r in case_ids(log_id, flt).rows(db)}


# --- each kind by hand ----------------------------------------------------------------------------


def test_empty_filter_keeps_every_case(db, tiny):
    assert ALL.is_empty and CaseFilter(time_mode="contained").is_empty
    assert kept(db, tiny, ALL) == ALL_CASES


@pytest.mark.parametrize("time_from, time_to, mode, expected", [
    # A window from 2024-03-05 10:00 to 2024-03-06 09:00.
    ("2024-03-05 10:00:00", "2024-03-06 09:00:00", "intersecting", {"1", "3"}),
    ("2024-03-05 10:00:00", "2024-03-06 09:00:00", "contained", set()),
    ("2024-03-05 10:00:00", "2024-03-06 09:00:00", "started", {"3"}),
    ("2024-03-05 10:00:00", "2024-03-06 09:00:00", "completed", {"1"}),
    ("2024-03-05 09:00:00", "2024-03-05 12:00:00", "contained", {"1", "2"}),
    # Bounds are inclusive: case 2 ends at 09:30 exactly, case 3 starts at 08:00 exactly.
    (None, "2024-03-05 09:30:00", "completed", {"2"}),
    ("2024-03-05 09:30:00", "2024-03-05 09:30:00", "intersecting", {"1", "2"}),
    ("2024-03-06 08:00:00", "2024-03-06 08:00:00", "intersecting", {"3"}),
    ("2024-03-06 08:00:00", "2024-03-06 08:00:00", "started", {"3"}),
    # A bare date as the upper bound means the whole day; a timestamp means that instant.
    (None, "2024-03-05", "completed", {"1", "2"}),
    (None, "2024-03-05 00:00:00", "completed", set()),
    ("2024-03-06", "2024-03-06", "contained", {"3"}),
    ("2024-03-06", "2024-03-06", "intersecting", {"3"}),
    ("2024-03-06", None, "started", {"3", "4"}),
    ("2024-03-06", None, "intersecting", {"3", "4"}),
    ("2024-03-05T11:00:00", None, "completed", {"1", "3", "4"}),
])
def test_time_range(db, tiny, time_from, time_to, mode, expected):
    assert kept(db, tiny, CaseFilter(time_from=time_from, time_to=time_to, time_mode=mode)) == expected


@pytest.mark.parametrize("attributes, expected", [
    ((("region", ("North",)),), {"1", "3"}),
    ((("region", ("North", "East")),), {"1", "3", "4"}),
    ((("channel", ("shop",)), ("region", ("North",))), {"3"}),
    ((("region", ("West",)),), set()),
    ((("nonexistent", ("North",)),), set()),
])
def test_case_attributes(db, regions, attributes, expected):
    assert kept(db, regions, CaseFilter(attributes=attributes)) == expected


@pytest.mark.parametrize("flt, expected", [
    (CaseFilter(variants=(("A", "C"),)), {"2"}),
    (CaseFilter(variants=(("A", "B", "C"), ("A", "C"))), {"1", "2", "4"}),
    (CaseFilter(variants=(("C", "A"),)), set()),
    (CaseFilter(variants_top=1), {"1", "4"}),
    (CaseFilter(variants_top=3), ALL_CASES),
    (CaseFilter(variants_top=10), ALL_CASES),
    # Top-k ranks the variants of the cases the other conditions keep...
    (CaseFilter(activities_present=("B",), variants_top=1), {"1", "4"}),
    # Cases of at least an hour: 1 (ABC) and 3 (ABBBC), one each; the tie goes to ABC (see below).
    (CaseFilter(cycle_min_seconds=HOUR, variants_top=1), {"1"}),
    # ...and breaks a tie by the variant more frequent in the whole log: cases 3 and 4 each have
    # their own variant among the cases started from 2024-03-06; ABC (case 4) wins.
    (CaseFilter(time_from="2024-03-06", time_mode="started", variants_top=1), {"4"}),
])
def test_variants(db, tiny, flt, expected):
    assert kept(db, tiny, flt) == expected


@pytest.mark.parametrize("flt, expected", [
    (CaseFilter(activities_present=("B",)), {"1", "3", "4"}),
    (CaseFilter(activities_present=("B", "C")), ALL_CASES),
    (CaseFilter(activities_present=("Z",)), set()),
    (CaseFilter(activities_absent=("B",)), {"2"}),
    (CaseFilter(activities_absent=("B", "C")), set()),
    (CaseFilter(activities_absent=("Z",)), ALL_CASES),
    (CaseFilter(activities_present=("A",), activities_absent=("B",)), {"2"}),
    (CaseFilter(departments=("Finance",)), {"1", "3", "4"}),
    (CaseFilter(departments=("Sales",)), ALL_CASES),
    (CaseFilter(departments=("Legal", "Finance")), {"1", "3", "4"}),
    (CaseFilter(departments=("Legal",)), set()),
])
def test_activities_and_departments(db, tiny, flt, expected):
    assert kept(db, tiny, flt) == expected


@pytest.mark.parametrize("lo, hi, expected", [
    (3 * HOUR, None, {"1", "3"}),          # case 1 lasts exactly 3 h: inclusive
    (None, 1800.0, {"2", "4"}),            # case 2 lasts exactly 30 min: inclusive
    (1800.0, 3 * HOUR, {"1", "2"}),
    (1801.0, 3 * HOUR - 1, set()),
    (0, None, ALL_CASES),
])
def test_cycle_time(db, tiny, lo, hi, expected):
    assert kept(db, tiny, CaseFilter(cycle_min_seconds=lo, cycle_max_seconds=hi)) == expected


@pytest.mark.parametrize("flt, expected", [
    (CaseFilter(start_activities=("A",)), ALL_CASES),
    (CaseFilter(start_activities=("B", "C")), set()),
    (CaseFilter(end_activities=("C",)), ALL_CASES),
    (CaseFilter(end_activities=("A", "B")), set()),
    (CaseFilter(directly_follows=(("B", "B"),)), {"3"}),
    (CaseFilter(directly_follows=(("A", "C"),)), {"2"}),
    (CaseFilter(directly_follows=(("A", "C"), ("B", "B"))), {"2", "3"}),
    (CaseFilter(directly_follows=(("C", "A"),)), set()),
    (CaseFilter(directly_follows=(("A", "B"),), departments=("Finance",)), {"1", "3", "4"}),
    (CaseFilter(eventually_follows=(("A", "C"),)), ALL_CASES),
    (CaseFilter(eventually_follows=(("B", "C"),)), {"1", "3", "4"}),
    (CaseFilter(eventually_follows=(("B", "B"),)), {"3"}),      # a pair of one activity needs two of them
    (CaseFilter(eventually_follows=(("C", "B"),)), set()),
    (CaseFilter(eventually_follows=(("C", "A"), ("B", "B"))), {"3"}),
])
def test_order_conditions(db, tiny, flt, expected):
    assert kept(db, tiny, flt) == expected


@pytest.mark.parametrize("flt, expected", [
    (CaseFilter(start_activities=("A",)), {"y", "z"}),
    (CaseFilter(start_activities=("B",)), {"x"}),
    (CaseFilter(end_activities=("B",)), {"z"}),
    (CaseFilter(end_activities=("C",)), {"x", "y"}),
    (CaseFilter(directly_follows=(("B", "A"),)), {"x"}),
    (CaseFilter(directly_follows=(("A", "B"),)), {"y"}),
    (CaseFilter(directly_follows=(("C", "B"),)), {"z"}),
    (CaseFilter(eventually_follows=(("A", "B"),)), {"y", "z"}),
    (CaseFilter(eventually_follows=(("B", "A"),)), {"x"}),
    (CaseFilter(variants=(("B", "A", "C"),)), {"x"}),
])
def test_tied_events_keep_file_order(db, ties, flt, expected):
    assert kept(db, ties, flt) == expected


@pytest.mark.parametrize("flt, expected", [
    (CaseFilter(departments=("Finance",), cycle_max_seconds=3 * HOUR), {"1", "4"}),
    (CaseFilter(departments=("Finance",), cycle_max_seconds=3 * HOUR, directly_follows=(("B", "B"),)), set()),
    (CaseFilter(time_from="2024-03-06", time_mode="intersecting", activities_present=("B",),
                eventually_follows=(("B", "C"),)), {"3", "4"}),
    (CaseFilter(time_to="2024-03-06", time_mode="started", variants=(("A", "B", "C"), ("A", "C")),
                cycle_min_seconds=HOUR), {"1"}),
])
def test_conditions_combine_with_and(db, tiny, flt, expected):
    assert kept(db, tiny, flt) == expected


def test_metrics_see_only_the_kept_cases(db, tiny):
    flt = CaseFilter(departments=("Finance",), cycle_max_seconds=3 * HOUR)   # cases 1 and 4, both ABC
    dfg = metrics.dfg(db, tiny, flt)
    assert {(e.source, e.target): (e.frequency, e.cases) for e in dfg.edges} == {("A", "B"): (2, 2),
                                                                                  ("B", "C"): (2, 2)}
    assert (dfg.start_activities, dfg.end_activities) == ({"A": 2}, {"C": 2})
    assert [(v.activities, v.cases) for v in metrics.variants(db, tiny, flt=flt)] == [(["A", "B", "C"], 2)]
    summary = metrics.summary(db, tiny, flt)
    assert (summary.cases, summary.events) == (2, 6)
    assert summary.cycle_time_seconds["median"] == (3 * HOUR + 1200) / 2


# --- JSON form ------------------------------------------------------------------------------------

FULL = CaseFilter(
    time_from="2024-03-05", time_to="2024-03-06 12:00:00", time_mode="contained",
    attributes=(("channel", ("shop",)), ("区域", ("华东", "华南"))),
    variants=(("A", "B", "C"), ("A", "C")), variants_top=2,
    activities_present=("B",), activities_absent=("方案修改",), departments=("财务部", "Sales"),
    cycle_min_seconds=60, cycle_max_seconds=86400.5,
    start_activities=("A",), end_activities=("C", "D"),
    directly_follows=(("A", "B"),), eventually_follows=(("A", "C"), ("B", "B")),
)


@pytest.mark.parametrize("flt", [
    ALL,
    CaseFilter(time_mode="started"),
    CaseFilter(time_from="2024-03-06"),
    CaseFilter(attributes=(("region", ("North",)),)),
    CaseFilter(variants_top=1),
    CaseFilter(cycle_max_seconds=0),
    FULL,
])
def test_json_round_trip(flt):
    text = flt.to_json()
    assert CaseFilter.from_json(text) == flt
    assert CaseFilter.from_json(text).to_json() == text


def test_json_form_is_readable():
    data = json.loads(FULL.to_json())
    assert data["attributes"] == {"channel": ["shop"], "区域": ["华东", "华南"]}
    assert data["directly_follows"] == [["A", "B"]]
    assert data["variants"] == [["A", "B", "C"], ["A", "C"]]
    assert "财务部" in FULL.to_json()                      # not \u escapes
    assert json.loads(ALL.to_json()) == {"time_mode": "intersecting"}   # empty conditions left out
    assert json.loads(CaseFilter(cycle_min_seconds=0).to_json())["cycle_min_seconds"] == 0


def test_json_defaults_and_loose_numbers():
    assert CaseFilter.from_json("{}") == ALL
    assert CaseFilter.from_json('{"time_mode": null, "departments": null}') == ALL
    assert CaseFilter.from_json('{"variants_top": 3.0}').variants_top == 3
    assert CaseFilter.from_json('{"attributes": {"b": ["2"], "a": ["1"]}}').attributes == (
        ("a", ("1",)), ("b", ("2",)))


@pytest.mark.parametrize("text, message", [
    ("[]", "A filter file holds one JSON object"),
    ('"departments"', "A filter file holds one JSON object"),
    ('{"departmens": ["Sales"]}', "Unknown filter keys: departmens (known: "),
    ('{"b": 1, "a": 2}', "Unknown filter keys: a, b"),
    ('{"time_mode": "during"}', "time_mode must be one of started, completed, intersecting, contained"),
    ('{"attributes": [["region", ["North"]]]}', '"attributes" maps a case attribute name to a list of values'),
    ('{"activities_present": "B"}', '"activities_present" must be a list of names'),
    ('{"departments": {"Sales": 1}}', '"departments" must be a list of names'),
    ('{"end_activities": 3}', '"end_activities" must be a list of names'),
    ('{"directly_follows": [["A", "B", "C"]]}', '"directly_follows" must be a list of [from, to] pairs'),
    ('{"eventually_follows": ["A", "B"]}', '"eventually_follows" must be a list of [from, to] pairs'),
    ('{"eventually_follows": {"A": "B"}}', '"eventually_follows" must be a list of [from, to] pairs'),
    ('{"cycle_min_seconds": "3600"}', '"cycle_min_seconds" must be a number'),
    ('{"cycle_max_seconds": true}', '"cycle_max_seconds" must be a number'),
    ('{"variants": ["A", "B"]}', '"variants" must be a list of activity lists'),
    ('{"variants": "ABC"}', '"variants" must be a list of activity lists'),
    ('{"variants_top": 0}', '"variants_top" must be a whole number of at least 1'),
    ('{"variants_top": 2.5}', '"variants_top" must be a whole number of at least 1'),
    ('{"variants_top": "3"}', '"variants_top" must be a number'),
])
def test_json_wrong_shapes_are_errors(text, message):
    with pytest.raises(ValueError) as error:
        CaseFilter.from_json(text)
    assert str(error.value).startswith(message)


def test_json_unknown_key_message_lists_the_known_keys():
    with pytest.raises(ValueError) as error:
        CaseFilter.from_json('{"time_modee": "started"}')
    assert "time_modee" in str(error.value)
    assert "time_mode," in str(error.value) and "eventually_follows" in str(error.value)


def test_json_that_is_not_json_is_an_error():
    with pytest.raises(ValueError):   # json.JSONDecodeError is a ValueError
        CaseFilter.from_json("{departments: [Sales]}")


# --- helpers on the value -------------------------------------------------------------------------


def test_active_without_and_with_attribute():
    assert FULL.active() == ["time", "attributes", "variants", "variants_top", "activities_present",
                             "activities_absent", "departments", "cycle_time", "start_activities",
                             "end_activities", "directly_follows", "eventually_follows"]
    assert CaseFilter(time_to="2024-03-05", cycle_max_seconds=0).active() == ["time", "cycle_time"]
    empty = FULL
    for name in FULL.active():
        empty = empty.without(name)
    assert empty.is_empty and empty.time_mode == "contained"
    assert FULL.without("time").time_from is None and FULL.without("time").time_to is None
    assert FULL.without("cycle_time").cycle_max_seconds is None
    flt = CaseFilter().with_attribute("region", ("North",)).with_attribute("channel", ("web",))
    assert flt.attributes == (("channel", ("web",)), ("region", ("North",)))
    assert flt.with_attribute("region", ()).attributes == (("channel", ("web",)),)
    hash(FULL)   # frozen and hashable: usable as a cache key
