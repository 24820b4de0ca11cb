"""Working-time arithmetic on hand-made cases across weekends, holidays, office hours and departments."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import error_text
from analysis.sql import query
from analysis.working_time import WorkCalendar, calendars, expand_ranges, w_sql, working_seconds

D = dt.datetime
H = 3600
# 2024-03-08 is a Friday; 03-09/10 the weekend. Office hours 09:00-18:00 (9 h).
CAL = WorkCalendar(holidays=("2024-03-11",))  # and the Monday after is a holiday
SHOP = WorkCalendar(workdays=(0, 1, 2, 3, 4, 5, 6), day_start="08:00", day_end="20:00")
BOTH = WorkCalendar(holidays=("2024-03-11",), departments=(("Shop", SHOP),))

HAND = [
    # (from, to, department, working seconds worked out by hand)
    (D(2024, 3, 7, 10), D(2024, 3, 7, 12), None, 2 * H),            # same day, inside hours
    (D(2024, 3, 7, 7), D(2024, 3, 7, 10), None, 1 * H),             # starts before opening
    (D(2024, 3, 7, 17), D(2024, 3, 7, 23), None, 1 * H),            # ends after closing
    (D(2024, 3, 7, 20), D(2024, 3, 8, 8), None, 0),                 # overnight, all closed
    (D(2024, 3, 8, 17), D(2024, 3, 12, 10), None, 1 * H + 1 * H),    # Fri 17-18, weekend, holiday Mon, Tue 9-10
    (D(2024, 3, 9, 12), D(2024, 3, 11, 15), None, 0),               # Saturday to the holiday Monday
    (D(2024, 3, 4, 9), D(2024, 3, 15, 18), None, 9 * 9 * H),         # two weeks minus Monday 11th: 9 days
    (D(2024, 3, 12, 10), D(2024, 3, 12, 9, 30), None, -0.5 * H),     # backwards: negative (overlap)
    (D(2024, 3, 9, 12), D(2024, 3, 11, 15), "Shop", 8 * H + 12 * H + 7 * H),  # shop works weekends and holidays
    (D(2024, 3, 9, 12), D(2024, 3, 11, 15), "Elsewhere", 0),        # unknown department: default calendar
]


@pytest.mark.parametrize("a, b, dept, expected", HAND)
def test_python_reference_by_hand(a, b, dept, expected):
    assert working_seconds(BOTH.for_department(dept), a, b) == expected


def sql_durations(calendar: WorkCalendar, rows: list[tuple]) -> list[float]:
    """W(b) − W(a) computed by the SQL the analysis uses, each row in its department's calendar."""
    con = duckdb.connect()
    con.execute("CREATE TABLE p (i INTEGER, a TIMESTAMP, b TIMESTAMP, d VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?, ?, ?, ?)", [(i, *r[:3]) for i, r in enumerate(rows)])
    first = min(min(r[0], r[1]) for r in rows).date()
    last = max(max(r[0], r[1]) for r in rows).date()
    cols = ("coalesce(k.c, g.c)", "coalesce(k.base, g.base)", "coalesce(k.s, g.s)", "coalesce(k.l, g.l)")
    cal = calendars(calendar, first, last)
    return [r[0] for r in query(
        f"""WITH {cal.text} SELECT {w_sql('p.b', *cols)} - {w_sql('p.a', *cols)}
            FROM p CROSS JOIN (SELECT * FROM cal WHERE dept IS NULL) g LEFT JOIN cal k ON k.dept = p.d
            ORDER BY p.i""", cal).rows(con)]


def test_sql_equals_hand_values():
    assert sql_durations(BOTH, HAND) == [row[3] for row in HAND]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60 * 24 * 40), st.integers(-3000, 60 * 24 * 15),
                          st.sampled_from([None, "Shop", "Other"])), min_size=1, max_size=30),
       st.sets(st.integers(0, 6), min_size=1), st.integers(0, 22), st.integers(1, 24))
def test_sql_equals_python_reference(spans, workdays, open_hour, length):
    close = min(24, open_hour + length)
    cal = WorkCalendar(workdays=tuple(sorted(workdays)), day_start=f"{open_hour:02d}:00", day_end=f"{close:02d}:00",
                       holidays=tuple(random.Random(len(spans)).sample(
                           [(dt.date(2024, 3, 1) + dt.timedelta(days=i)).isoformat() for i in range(50)], 5)),
                       departments=(("Shop", SHOP),))
    start = D(2024, 3, 1)
    rows = [(start + dt.timedelta(minutes=m), start + dt.timedelta(minutes=m + n), d) for m, n, d in spans]
    expected = [working_seconds(cal.for_department(d), a, b) for a, b, d in rows]
    assert sql_durations(cal, rows) == pytest.approx(expected, abs=1e-6)


def test_bad_calendars_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="forwards"):
        WorkCalendar(day_start="18:00", day_end="09:00")
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        WorkCalendar(workdays=(7,))
    with pytest.raises(ValueError, match="2024-02-30"):
        WorkCalendar(holidays=("2024-02-30",))
    with pytest.raises(ValueError, match="'9:3' is not a time of day HH:MM"):
        WorkCalendar(day_start="9:3")


@pytest.mark.parametrize(("text", "message"), [
    ("[]", "A calendar file holds one JSON object"),
    ('{"hours": [9, 18]}', "Unknown calendar keys: hours (known: workdays, day_start, day_end, holidays)"),
    ('{"departments": ["Legal"]}', '"departments" maps a department to its own calendar object'),
    ('{"departments": {"Legal": {"day_end": "08:00"}}}',
     "department Legal: Office hours must run forwards within one day: 09:00–08:00"),
    ('{"workdays": [0, 1,', "not valid JSON (line 1, column 20"),
    ('{"workdays": 5}', "Working days are numbers 0 (Monday) to 6 (Sunday)"),
    ('{"holidays": "2024-10-01"}', '"holidays" is a list of dates YYYY-MM-DD'),
    ('{"departments": {"Legal": {"workdays": 1}}}', "department Legal: Working days are numbers"),
    ('{"day_start": 9}', "9 is not a time of day HH:MM"),
])
def test_calendar_files_with_mistakes_say_which(text, message):
    with pytest.raises(ValueError) as caught:
        WorkCalendar.from_json(text)
    assert message in str(caught.value)
    assert error_text(caught.value, "zh") != str(caught.value)   # and it exists in Chinese


def test_json_round_trip_and_holiday_ranges():
    assert WorkCalendar.from_json(BOTH.to_json()) == BOTH
    assert expand_ranges([("2024-02-28", "2024-03-01")]) == ("2024-02-28", "2024-02-29", "2024-03-01")
