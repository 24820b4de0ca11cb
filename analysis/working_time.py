"""Durations in working time: working days, office hours and a holiday list, per department where given.

A duration in working time is W(b) − W(a), where W(t) counts the working seconds from a fixed day to t.
W is exact and cheap in SQL: for each calendar a list C holds, for every day of the log's span, the
number of working days before it; then W(t) = C[day(t)] · day length + (is the day a working day) ·
clamp(time of day − day start, 0, day length). Holidays and per-department working days are just
different lists. One working interval per day (no lunch break); timestamps are read as local
office time (a log imported with UTC offsets is stored in UTC: its office hours are then UTC hours).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, field, fields, replace

from analysis.errors import UserError, parse_json
from analysis.sql import Query, query

EPOCH = dt.date(1970, 1, 1)
_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-4]):[0-5]\d")


@dataclass(frozen=True)
class WorkCalendar:
    """Working days (0 = Monday), office hours as 'HH:MM', holidays as ISO dates; per-department overrides."""

    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    day_start: str = "09:00"
    day_end: str = "18:00"
    holidays: tuple[str, ...] = ()
    departments: tuple[tuple[str, WorkCalendar], ...] = field(default_factory=tuple)

    def __post_init__(self):
        if not isinstance(self.workdays, tuple) or not all(isinstance(d, int) for d in self.workdays):
            raise UserError("err.workdays")
        if not isinstance(self.holidays, tuple):
            raise UserError("err.holidays")
        for value in (self.day_start, self.day_end):
            if not (isinstance(value, str) and _TIME_OF_DAY.fullmatch(value)):
                raise UserError("err.time_of_day", value=value)
        start, end = _minutes(self.day_start), _minutes(self.day_end)
        if not 0 <= start < end <= 24 * 60:
            raise UserError("err.office_hours", start=self.day_start, end=self.day_end)
        if not self.workdays or any(isinstance(d, bool) or d not in range(7) for d in self.workdays):
            raise UserError("err.workdays")
        for day in self.holidays:
            try:
                dt.date.fromisoformat(day)
            except (TypeError, ValueError):
                raise UserError("err.holiday", day=day) from None

    @property
    def day_seconds(self) -> int:
        """Working seconds in one working day."""
        return (_minutes(self.day_end) - _minutes(self.day_start)) * 60

    def is_working_day(self, day: dt.date) -> bool:
        """True for a working weekday that is not a holiday."""
        return day.weekday() in self.workdays and day.isoformat() not in set(self.holidays)

    def for_department(self, department: str | None) -> WorkCalendar:
        """The calendar that applies to a department (its override, else this one)."""
        return dict(self.departments).get(department, self) if department else self

    def to_json(self) -> str:
        """The calendar as JSON (README documents the format)."""
        data = asdict(self)
        data["departments"] = {name: {k: v for k, v in asdict(cal).items() if k != "departments"}
                               for name, cal in self.departments}
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> WorkCalendar:
        """Read to_json's format; unknown keys and wrong shapes are errors that say which."""
        data = parse_json(text)
        if not isinstance(data, dict):
            raise UserError("err.calendar_object")
        departments = data.pop("departments", None) or {}
        if not isinstance(departments, dict) or not all(isinstance(d, dict) for d in departments.values()):
            raise UserError("err.calendar_departments")
        overrides = []
        for name, entry in sorted(departments.items()):
            try:
                overrides.append((name, cls._plain(entry)))
            except UserError as exc:
                raise UserError("err.in_department", department=name, detail=exc) from None
        return replace(cls._plain(data), departments=tuple(overrides))

    @classmethod
    def _plain(cls, data: dict) -> WorkCalendar:
        """A calendar without department overrides from its JSON object."""
        known = [f.name for f in fields(cls) if f.name != "departments"]
        unknown = set(data) - set(known)
        if unknown:
            raise UserError("err.calendar_keys", keys=", ".join(sorted(unknown)), known=", ".join(known))
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def _minutes(hhmm: str) -> int:
    """'09:30' → 570."""
    hours, _, minutes = hhmm.partition(":")
    return int(hours) * 60 + int(minutes or 0)


def working_seconds(calendar: WorkCalendar, a: dt.datetime, b: dt.datetime) -> float:
    """Working seconds between two instants in plain Python (the reference the SQL is tested against)."""
    if b < a:
        return -working_seconds(calendar, b, a)
    total = 0.0
    day = a.date()
    start, end = _minutes(calendar.day_start), _minutes(calendar.day_end)
    while day <= b.date():
        if calendar.is_working_day(day):
            open_ = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=start)
            close = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=end)
            lo, hi = max(a, open_), min(b, close)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return total


def _cumulative_days(calendar: WorkCalendar, first: dt.date, last: dt.date) -> list[int]:
    """C[k] = working days in [first, first + k) for k = 0 .. span + 1."""
    counts = [0]
    day = first
    while day <= last + dt.timedelta(days=1):
        counts.append(counts[-1] + (1 if calendar.is_working_day(day) else 0))
        day += dt.timedelta(days=1)
    return counts


def calendar_rows(calendar: WorkCalendar, first: dt.date, last: dt.date) -> list[tuple]:
    """One row per calendar (default first, department NULL): department, C list, first epoch day,
    day start in seconds, day length in seconds. `first`..`last` must cover every timestamp used."""
    first -= dt.timedelta(days=1)
    rows = [(None, calendar)] + list(calendar.departments)
    return [(name, _cumulative_days(cal, first, last), (first - EPOCH).days, _minutes(cal.day_start) * 60,
             cal.day_seconds) for name, cal in rows]


def calendars(calendar: WorkCalendar, first: dt.date, last: dt.date) -> Query:
    """The CTE `cal`: one row per calendar (dept NULL = the default) with the columns `w_sql` reads."""
    return query("cal AS (SELECT unnest($calendars::STRUCT(dept VARCHAR, c BIGINT[], base BIGINT, s BIGINT, "
                 "l BIGINT)[], recursive := true))", calendars=calendar_param(calendar, first, last))


def w_sql(ts: str, c: str = "c", base: str = "base", s: str = "s", length: str = "l") -> str:
    """SQL for W(ts): working seconds from the calendar's first day to `ts` (columns of a `cal` row)."""
    day = f"(date_diff('day', DATE '1970-01-01', CAST({ts} AS DATE)) - {base})"
    tod = f"((epoch_us({ts}) - epoch_us(CAST(CAST({ts} AS DATE) AS TIMESTAMP))) / 1e6)"
    return (f"({c}[{day} + 1] * {length} + ({c}[{day} + 2] - {c}[{day} + 1]) * "
            f"least(greatest({tod} - {s}, 0), {length}))")


def calendar_param(calendar: WorkCalendar, first: dt.date, last: dt.date) -> list[dict]:
    """The bound value of `calendars`' $calendars: one struct per calendar."""
    return [{"dept": d, "c": c, "base": b, "s": s, "l": n} for d, c, b, s, n in calendar_rows(calendar, first, last)]


def expand_ranges(ranges) -> tuple[str, ...]:
    """Holiday (first, last) ISO date ranges → every date in them."""
    days = []
    for first, last in ranges:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            days.append(day.isoformat())
            day += dt.timedelta(days=1)
    return tuple(days)


def sample_calendar() -> WorkCalendar:
    """The sample log's calendar: Mon–Fri 09:00–18:00 and the Chinese public holidays it was generated with;
    IT (信息技术部 / IT, in either language of the log) works only its own shorter hours (sample.IT_HOURS)."""
    from analysis import sample

    holidays = expand_ranges(sample.HOLIDAYS)
    it_start, it_end = sample.IT_HOURS
    it = WorkCalendar(day_start=it_start, day_end=it_end, holidays=holidays)
    names = sorted({names["it"] for names in sample.DEPARTMENT_NAMES.values()})
    return WorkCalendar(holidays=holidays, departments=tuple((name, it) for name in names))
