"""China's public holidays and make-up working days (调休), as the working-day clock needs them.

The State Council publishes each year's arrangement late in the year before (usually November
or December); the `chinesecalendar` package (import name `chinese_calendar`) carries it from
its next release on. So upgrading the package each December brings the next year, and for a
year it does not cover yet, the clock falls back to Monday to Friday plus what the admins list.

The package keeps two tables, `chinese_calendar.holidays` and `chinese_calendar.workdays`
(date -> the holiday's name), and covers every year from the first to the last year of its
holiday table (its own `is_workday` refuses dates outside that range). They are read here,
once, into frozensets, so that `Calendar.due()` stays a set look-up per day and nothing calls
into the package while counting.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass

import chinese_calendar

from forum.workflow import Calendar


@dataclass(frozen=True)
class Official:
    """The official arrangement: the years it covers (ascending, without gaps), the days off
    that would otherwise be worked or fall in the holiday, and the weekend days worked."""

    years: tuple[int, ...] = ()
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def covers(self, year: int) -> bool:
        return bool(self.years) and self.years[0] <= year <= self.years[-1]


@functools.cache
def official() -> Official:
    """The arrangement the installed `chinesecalendar` knows. Read once per process: the
    package's tables are constants of the installed version (an upgrade takes a restart)."""
    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    if not holidays:
        return Official()
    # The package's own rule (utils._validate_date): the first to the last year of its
    # holiday table.
    first, last = min(holidays).year, max(holidays).year
    return Official(years=tuple(range(first, last + 1)), holidays=holidays, workdays=workdays)


def working_calendar(
    official: Official, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = ()
) -> Calendar:
    """The calendar due times count by: the official arrangement with the admins' additions on
    top. An admin's holiday is a day off even where the package has a make-up working day,
    and an admin's working day is worked even on an official holiday; outside the covered
    years only the admins' days differ from Monday to Friday."""
    days_off = frozenset(holidays)
    days_on = frozenset(workdays)
    return Calendar(
        holidays=(official.holidays - days_on) | days_off,
        workdays=(official.workdays - days_off) | days_on,
    )


def first_uncovered(official: Official, today: dt.date) -> int | None:
    """This year or next, whichever comes first that the package does not cover; None when
    both are covered. Next year's arrangement must be in place before it begins."""
    for year in (today.year, today.year + 1):
        if not official.covers(year):
            return year
    return None
