"""The working-day calendar built from chinesecalendar and the admins' additions
(forum/holidays.py). Pure: no store, no clock; every date is written out."""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from forum.holidays import Official, first_uncovered, official, working_calendar
from forum.workflow import CHINA_STANDARD_TIME

D = dt.date


def local(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=CHINA_STANDARD_TIME)


def utc(stamp: dt.datetime) -> dt.datetime:
    return stamp.astimezone(dt.timezone.utc)


# the package's data ------------------------------------------------------------------------------
def test_the_package_years_are_read_from_its_tables():
    known = official()
    assert known is official()  # read once per process
    assert known.years == tuple(
        range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
    )
    assert {2024, 2025, 2026} <= set(known.years)
    assert known.holidays == frozenset(chinese_calendar.holidays)
    assert known.workdays == frozenset(chinese_calendar.workdays)


def test_national_day_and_its_make_up_working_weekends_2025():
    calendar = working_calendar(official())
    for day in range(1, 9):  # 2025: 1 to 8 October off
        assert not calendar.is_working_day(D(2025, 10, day)), day
    # Sunday 28 September and Saturday 11 October 2025 are worked (调休)
    assert D(2025, 9, 28).weekday() == 6 and calendar.is_working_day(D(2025, 9, 28))
    assert D(2025, 10, 11).weekday() == 5 and calendar.is_working_day(D(2025, 10, 11))
    assert not calendar.is_working_day(D(2025, 10, 12))  # an ordinary Sunday
    assert calendar.is_working_day(D(2025, 10, 9))  # back to work on Thursday


def test_the_calendar_agrees_with_the_package_on_every_covered_day():
    calendar = working_calendar(official())
    first, last = official().years[0], official().years[-1]
    day = D(first, 1, 1)
    while day.year <= last:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_an_uncovered_year_is_monday_to_friday():
    after = official().years[-1] + 1
    calendar = working_calendar(official())
    week = [D(after, 6, 7) + dt.timedelta(days=n) for n in range(14)]
    assert [calendar.is_working_day(day) for day in week] == [day.weekday() < 5 for day in week]
    # 1 October of a year the package does not have yet is worked, unless an admin says not
    national_day = next(D(after + n, 10, 1) for n in range(7) if D(after + n, 10, 1).weekday() < 5)
    assert calendar.is_working_day(national_day)
    assert not working_calendar(official(), holidays=[national_day]).is_working_day(national_day)


def test_the_admins_days_win_over_the_package():
    # 2025-10-08 is off by the package, 2025-09-28 (Sunday) worked, 2025-10-09 a plain Thursday
    calendar = working_calendar(
        official(),
        holidays=[D(2025, 9, 28), D(2025, 10, 9)],
        workdays=[D(2025, 10, 8), D(2025, 10, 12)],
    )
    assert not calendar.is_working_day(D(2025, 9, 28))
    assert not calendar.is_working_day(D(2025, 10, 9))
    assert calendar.is_working_day(D(2025, 10, 8))
    assert calendar.is_working_day(D(2025, 10, 12))
    assert not calendar.is_working_day(D(2025, 10, 7))  # the rest of the package stands


def test_an_uncovered_year_takes_the_admins_make_up_days():
    after = official().years[-1] + 1
    saturday = next(
        D(after, 9, 1) + dt.timedelta(days=n)
        for n in range(7)
        if (D(after, 9, 1) + dt.timedelta(days=n)).weekday() == 5
    )
    assert not working_calendar(official()).is_working_day(saturday)
    assert working_calendar(official(), workdays=[saturday]).is_working_day(saturday)


def test_a_due_time_across_national_day_2025():
    calendar = working_calendar(official())
    # Tuesday 30 September 2025, afternoon: the next working days are 9, 10 and 11 October
    # (Saturday, worked), so three working days end at midnight after Saturday 11 October.
    start = local(2025, 9, 30, 15)
    assert calendar.due(start, 1) == utc(local(2025, 10, 10))
    assert calendar.due(start, 3) == utc(local(2025, 10, 12))
    # Monday to Friday alone would have said Friday 3 October
    assert working_calendar(Official()).due(start, 3) == utc(local(2025, 10, 4))


def test_which_year_is_not_covered():
    known = Official(years=(2024, 2025, 2026))
    assert first_uncovered(known, D(2025, 12, 31)) is None
    assert first_uncovered(known, D(2026, 1, 1)) == 2027
    assert first_uncovered(known, D(2028, 3, 1)) == 2028
    assert first_uncovered(Official(), D(2026, 1, 1)) == 2026
    assert first_uncovered(official(), D(official().years[-1], 6, 1)) == official().years[-1] + 1
