"""The statistics as they are served: reports kept per period (ReportCache), this year's
figures shown outside the statistics page, the CSV tables grouped by board, department, area,
type or month, the monthly bulletins and a department's record for this year. What they count,
and how, is stats.py's.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from forum import workflow
from forum.boards import AREAS, LETTER_TYPES, POLICIES
from forum.clock import now
from forum.errors import Invalid, NotFound
from forum.messages import msg
from forum.model import User
from forum.services import desks
from forum.services.presenting import PostView
from forum.services.stats import (
    PER_CASE,
    WITHHELD,
    Figures,
    Report,
    Summary,
    period,
    report,
    summarise,
    year_start,
)
from forum.store.base import Store

CACHE_SECONDS = 300
FRESH_SECONDS = 30
CACHE_ENTRIES = 64


class ReportCache:
    """Reports kept per period, so a busy statistics page (and the figures on the home page)
    does not scan the cases on every view: for `seconds` at most, and no longer than
    `fresh_seconds` once anything was written since (the store's content version moved), so a
    letter just sent is counted within half a minute. One per application (several processes
    each keep their own)."""

    def __init__(self, seconds: int = CACHE_SECONDS, fresh_seconds: int = FRESH_SECONDS):
        self.seconds = seconds
        self.fresh_seconds = fresh_seconds
        self._reports: dict[tuple[Any, Any], tuple[dt.datetime, int, Report]] = {}
        self._locks: dict[tuple[Any, Any], asyncio.Lock] = {}

    async def get(self, store: Store, since: Any = None, until: Any = None) -> Report:
        # Keyed by the period, not by how the query spelled it: spellings of one day share an
        # entry, and a value that is no date is refused before it takes one.
        key = period(since, until)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # one computation per period, however many views arrive meanwhile
            cached = self._reports.get(key)
            version = await store.content_version()
            if cached:
                age = (now() - cached[0]).total_seconds()
                if age < self.seconds and (cached[1] == version or age < self.fresh_seconds):
                    return cached[2]
            fresh = await report(store, since, until)
            if len(self._reports) >= CACHE_ENTRIES:
                self._reports.clear()
                self._locks = {key: lock}
            self._reports[key] = (now(), version, fresh)
            return fresh


async def year_summary(
    cache: ReportCache,
    store: Store,
    boards: tuple[str, ...] = (),
    departments: tuple[str, ...] = (),
) -> Summary:
    """This year's figures of `boards` (or of `departments`), from the statistics' cache."""
    return summarise(await cache.get(store, year_start(now()), None), boards, departments)


# tables for download ----------------------------------------------------------------------------
GROUPINGS = ("board", "department", "area", "type", "month")
# The columns of S in a table: the counts and rates, then the satisfaction split.
COLUMNS = (
    "received",
    "accepted",
    "replied",
    "closed",
    "reply_rate",
    "completion_rate",
    "on_time_rate",
    "median_first_reply_hours",
    "overdue",
    "extended",
    "supervised",
    "unrated",
    "merged",
    "not_yet_due",
    *workflow.RATINGS,
)
# A cell a spreadsheet would run as a formula (CSV injection) starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def grouping(by: Any) -> str:
    """`by` as one of GROUPINGS. Raises Invalid (by)."""
    if not isinstance(by, str) or by not in GROUPINGS:
        raise Invalid({"by": msg("应为 {choices} 之一", choices=", ".join(GROUPINGS))})
    return by


def rows(report: Report, by: str, names: dict[str, str]) -> list[tuple[str, str, Figures]]:
    """(key, name, figures) of each group of `by` in `report`, in the order the page shows
    them; `names` names the departments."""
    if by == "board":
        return [
            (slug, POLICIES[slug].name if slug in POLICIES else slug, f)
            for slug, f in report.boards.items()
        ]
    if by == "department":
        return [(slug, names.get(slug, slug), f) for slug, f in report.departments.items()]
    if by == "area":
        return [(slug, AREAS.get(slug, slug), f) for slug, f in report.areas.items()]
    if by == "type":
        return [(slug, LETTER_TYPES.get(slug, slug), f) for slug, f in report.types.items()]
    return [(month, month, report.months[month]) for month in sorted(report.months)]


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


async def csv_table(
    cache: ReportCache, store: Store, by: Any, since: Any = None, until: Any = None
) -> str:
    """The figures grouped `by` board, department, area, type or month, as CSV text starting
    with a byte-order mark (so Excel reads the Chinese as UTF-8): a header row with the columns
    of S, one row per group; departments also carry their level. Raises Invalid (by, from, to)."""
    problems: dict[str, str] = {}
    try:
        grouping(by)
    except Invalid as error:
        problems.update(error.fields)
    try:
        period(since, until)
    except Invalid as error:
        problems.update(error.fields)
    if problems:
        raise Invalid(problems)
    found = await cache.get(store, since, until)
    names = {d.slug: d.name for d in await store.list_departments()}
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    extra = ("level",) if by == "department" else ()
    writer.writerow((by, "name", *extra, *COLUMNS))
    for key, name, figures in rows(found, by, names):
        data = figures.as_dict()
        values = [
            *(data[c] for c in COLUMNS[: -len(workflow.RATINGS)]),
            *(data["satisfaction"][score] for score in workflow.RATINGS),
        ]
        keys = [
            *COLUMNS[: -len(workflow.RATINGS)],
            *(f"satisfaction.{score}" for score in workflow.RATINGS),
        ]
        values = [
            WITHHELD if key in data["withheld"] and key not in PER_CASE else value
            for key, value in zip(keys, values)
        ]
        level = (found.department_levels.get(key, ""),) if extra else ()
        writer.writerow([_cell(v) for v in (key, name, *level, *values)])
    return out.getvalue()


# monthly bulletins ------------------------------------------------------------------------------
FIRST_BULLETIN = dt.date(2000, 1, 1)  # the first month with a bulletin


@dataclass
class Bulletin:
    month: str  # YYYY-MM
    since: str  # its first day, YYYY-MM-DD
    until: str  # the first day of the next month
    previous: str | None  # the month before, when it has a bulletin
    next: str | None  # the month after, when it has one (not in the future)
    report: Report


def _month(text: Any) -> dt.date | None:
    if (
        not isinstance(text, str)
        or len(text) != 7
        or text[4] != "-"
        or not (text[:4] + text[5:]).isdigit()
    ):
        return None
    year, month = int(text[:4]), int(text[5:])
    return dt.date(year, month, 1) if 1 <= month <= 12 else None


def _shift(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


async def bulletin(cache: ReportCache, store: Store, month: Any) -> Bulletin:
    """The figures of the cases submitted in `month` (YYYY-MM, the city's time). Raises
    NotFound for a malformed month, one before 2000 or one after the current month."""
    first = _month(month)
    current = now().astimezone(workflow.CHINA_STANDARD_TIME).date().replace(day=1)
    if first is None or first < FIRST_BULLETIN or first > current:
        raise NotFound("没有这个月的统计公报")
    before, after = _shift(first, -1), _shift(first, 1)
    found = await cache.get(store, first.isoformat(), after.isoformat())
    return Bulletin(
        first.strftime("%Y-%m"),
        first.isoformat(),
        after.isoformat(),
        before.strftime("%Y-%m") if before >= FIRST_BULLETIN else None,
        after.strftime("%Y-%m") if after <= current else None,
        found,
    )


# a department's record --------------------------------------------------------------------------
@dataclass
class Record:
    slug: str
    name: str
    kind: str
    since: str  # YYYY-MM-DD, the first day of this year in the city's time
    figures: Figures  # this year's, as the statistics count them
    recent: list[PostView]  # its latest closed public letters


async def department_record(
    cache: ReportCache, store: Store, viewer: User | None, slug: Any
) -> Record:
    """A department's figures for this year and its latest closed public letters. Raises
    NotFound (department)."""
    public = await desks.department_public(store, viewer, slug)
    since = year_start(now())
    found = await cache.get(store, since, None)
    return Record(
        public.slug,
        public.name,
        public.kind,
        since,
        found.departments.get(public.slug, Figures()),
        public.recent,
    )
