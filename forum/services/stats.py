"""How well the city answers: the figures of GET /stats, per case board and per department.

Counting rules (the statistics page states them in words too):
- A case counts in the period in which it was submitted (`from` inclusive, `to` exclusive).
- received: every submitted case; accepted: those the bureau accepted (受理), rejected ones not.
- replied: accepted cases with at least one official reply; closed: those closed (办结), by a
  satisfied rating or after 15 days without one.
- reply rate = replied / accepted; completion rate (办结率) = closed / accepted;
  on-time rate = cases whose first official reply came before the due time / replied.
- A reopened case (不满意) or a returned one (退回) is still one case: it counts once, and its
  due time is the one of its latest routing.
- A department's figures are those of the cases routed to it at present.
- median_first_reply_hours: from submission to the first official reply, over replied cases.
- overdue: routed cases past their due time without a reply, now, whatever the period.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from forum import workflow
from forum.clock import now
from forum.errors import Invalid
from forum.messages import msg
from forum.model import Post, PostFilter, Status
from forum.boards import CASE_BOARDS
from forum.store.base import Store

BATCH = 500


@dataclass
class Figures:
    received: int = 0
    accepted: int = 0
    replied: int = 0
    closed: int = 0
    on_time: int = 0
    overdue: int = 0
    reply_hours: list[float] = field(default_factory=list)
    satisfaction: dict[str, int] = field(
        default_factory=lambda: {score: 0 for score in workflow.RATINGS})

    def add(self, post: Post) -> None:
        self.received += 1
        if post.accepted_at is not None:
            self.accepted += 1
        if post.replied_at is not None:
            self.replied += 1
            self.reply_hours.append((post.replied_at - post.created_at).total_seconds() / 3600)
            if post.due_at is None or post.replied_at <= post.due_at:
                self.on_time += 1
        if post.closed_at is not None:
            self.closed += 1
        if post.rating in self.satisfaction:
            self.satisfaction[post.rating] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received, "accepted": self.accepted, "replied": self.replied,
            "closed": self.closed,
            "reply_rate": _rate(self.replied, self.accepted),
            "completion_rate": _rate(self.closed, self.accepted),
            "on_time_rate": _rate(self.on_time, self.replied),
            "median_first_reply_hours": (round(statistics.median(self.reply_hours), 1)
                                         if self.reply_hours else None),
            "overdue": self.overdue,
            "satisfaction": dict(self.satisfaction),
        }


@dataclass
class Summary:
    """The figures the portal shows everyone outside the statistics page: this year's cases of
    some boards, as the statistics count them."""
    since: str              # YYYY-MM-DD, the first day of the year in the city's time
    received: int
    replied: int
    completion_rate: float | None
    satisfaction_rate: float | None   # 满意 and 基本满意 among the rated


async def year_summary(cache: ReportCache, store: Store, boards: tuple[str, ...] = (),
                       departments: tuple[str, ...] = ()) -> Summary:
    """This year's figures of `boards` (or of `departments`), from the statistics' cache."""
    return summarise(await cache.get(store, year_start(now()), None), boards, departments)


def year_start(at: dt.datetime) -> str:
    return f"{at.astimezone(workflow.CHINA_STANDARD_TIME).year:04d}-01-01"


def summarise(report: Report, boards: tuple[str, ...] = (),
              departments: tuple[str, ...] = ()) -> Summary:
    """Totals of `boards` (or `departments`) in `report`; the rates as the statistics page
    computes them."""
    parts = ([report.boards[slug] for slug in boards if slug in report.boards]
             + [report.departments[slug] for slug in departments
                if slug in report.departments])
    accepted = sum(f.accepted for f in parts)
    rated = sum(sum(f.satisfaction.values()) for f in parts)
    pleased = sum(f.satisfaction["satisfied"] + f.satisfaction["basically_satisfied"]
                  for f in parts)
    since = report.since.astimezone(workflow.CHINA_STANDARD_TIME).date().isoformat() \
        if report.since else ""
    return Summary(since, sum(f.received for f in parts), sum(f.replied for f in parts),
                   _rate(sum(f.closed for f in parts), accepted), _rate(pleased, rated))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Report:
    since: dt.datetime | None
    until: dt.datetime | None
    boards: dict[str, Figures]
    departments: dict[str, Figures]
    months: dict[str, Figures]
    computed_at: dt.datetime = field(default_factory=now)


FIRST_YEAR, LAST_YEAR = 1900, 9998


def _day(name: str, value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        raise Invalid({name: "日期格式应为 YYYY-MM-DD"}) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        # Year 1 would overflow when moved to UTC; no case is that old or that far ahead.
        raise Invalid({name: msg("日期应在 {first} 年到 {last} 年之间", first=FIRST_YEAR, last=LAST_YEAR)})
    return dt.datetime.combine(day, dt.time(), workflow.CHINA_STANDARD_TIME).astimezone(
        dt.timezone.utc)


def period(since: Any = None, until: Any = None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """`since` and `until` (dates, YYYY-MM-DD, in the city's time) as the instants they stand
    for: every spelling of a day ("2026-01-01", "20260101", "") gives the same. Raises Invalid
    (from, to)."""
    start, end = _day("from", since), _day("to", until)
    if start and end and end <= start:
        raise Invalid({"to": "结束日期应晚于开始日期"})
    return start, end


async def report(store: Store, since: Any = None, until: Any = None) -> Report:
    """The figures for cases submitted from `since` to before `until` (dates, YYYY-MM-DD, in
    the city's time). Raises Invalid (from, to)."""
    start, end = period(since, until)
    departments = [d.slug for d in await store.list_departments()]
    result = Report(start, end, {slug: Figures() for slug in CASE_BOARDS},
                    {slug: Figures() for slug in departments}, {})
    at = now()
    # Overdue is a figure of now, whatever the period: every routed case past its due time.
    async for post in _all(store, PostFilter(boards=CASE_BOARDS, statuses=(Status.ROUTED,),
                                             due_before=at)):
        result.boards[post.board].overdue += 1
        if post.department in result.departments:
            result.departments[post.department].overdue += 1
    where = PostFilter(boards=CASE_BOARDS, created_from=start, created_before=end)
    async for post in _all(store, where):
        result.boards[post.board].add(post)
        if post.department in result.departments:
            result.departments[post.department].add(post)
        month = post.created_at.astimezone(workflow.CHINA_STANDARD_TIME).strftime("%Y-%m")
        result.months.setdefault(month, Figures()).add(post)
    return result


async def _all(store: Store, where: PostFilter) -> AsyncIterator[Post]:
    after = None
    while True:
        batch = await store.list_posts(where, after, BATCH, oldest_first=True)
        for post in batch:
            yield post
        if len(batch) < BATCH:
            return
        after = (batch[-1].created_at, batch[-1].id)


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
