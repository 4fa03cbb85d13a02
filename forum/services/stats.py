"""How well the city answers: the figures of GET /stats, per case board, department, level of
department, area, letter type and month (their cache, CSV tables and monthly bulletins are
stats_reports.py's).

Counting rules (the statistics page and every bulletin state them in words too):
- A case counts in the period in which it was submitted (`from` inclusive, `to` exclusive).
- received: every submitted case; accepted: those the bureau accepted (受理), rejected ones not.
- replied: accepted cases with at least one official reply; closed: those closed (办结), by a
  satisfied rating or after 15 days without one.
- reply rate = replied / accepted; completion rate (办结率) = closed / accepted;
  on-time rate = cases whose first official reply came before the due time / replied.
- A reopened case (不满意) or a returned one (退回) is still one case: it counts once, and its
  due time is the one of its latest routing.
- A case counts for its lead department (主办) as routed at present, never for its helpers
  (协办); a department's level (市级部门 bureau, 县（市、区）政府 county) is that of its lead.
- unrated (未评价): cases closed without a rating in 15 days; they are closed (办结) but counted
  apart in `unrated`, and never as satisfied.
- merged (重复件): a case merged into an earlier one on the same matter counts in `merged` only,
  not in received, accepted, replied or closed, so the matter counts once (as the earlier case).
- extended: cases with an approved extension (延期); supervised: cases ever supervised (督办,
  `supervised_at` set), whether or not the mark was cleared by a reply since.
- satisfaction: every rating and every callback with a score in the case's history
  (`post.ratings`) counts once. Each counts for the department named in that entry, the one
  whose reply it judged: a 不满意 stays against that department even when the case was routed
  again and a later reply satisfied, so a department's unsatisfied count can include cases now
  led by another. Boards, areas, types and months count every entry of their cases.
- median_first_reply_hours: from submission to the first official reply, over replied cases.
- overdue: routed cases past their due time without a reply, now, whatever the period.
- not_yet_due: accepted cases with no reply, not closed and not yet past their due time; while
  every accepted case of a group is so, its rates say nothing yet (the pages show "—").
- small cells: in a group that counts any confidential report (the tax board), a count of 1 to
  4 is withheld (null in the API, "<5" on the pages and in CSV), and so are the rates and the
  median hours of a group of fewer than 5 cases: a narrow window must not tell one reporter's
  case, its reply time or its rating. Zero is shown.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, TypeVar

from forum import workflow
from forum.clock import now
from forum.errors import Invalid
from forum.messages import msg
from forum.model import Post, PostFilter, Status
from forum.boards import AREAS, CASE_BOARDS, LETTER_TYPES, POLICIES
from forum.store.base import Store

T = TypeVar("T")

BATCH = 500


LEVELS = ("bureau", "county")  # the kinds of department, city bureaus and county governments

SMALL_CELL = 5  # confidential groups show no count below this
WITHHELD = "<5"  # how pages and CSV show a count withheld
COUNTS = (
    "received",
    "accepted",
    "replied",
    "closed",
    "overdue",
    "extended",
    "supervised",
    "unrated",
    "merged",
    "not_yet_due",
)
# what a group of fewer than SMALL_CELL cases tells of each case
PER_CASE = ("reply_rate", "completion_rate", "on_time_rate", "median_first_reply_hours")


@dataclass
class Figures:
    received: int = 0
    accepted: int = 0
    replied: int = 0
    closed: int = 0
    on_time: int = 0
    overdue: int = 0
    extended: int = 0
    supervised: int = 0
    unrated: int = 0
    merged: int = 0
    not_yet_due: int = 0
    reply_hours: list[float] = field(default_factory=list)
    satisfaction: dict[str, int] = field(
        default_factory=lambda: {score: 0 for score in workflow.RATINGS}
    )
    confidential: int = 0  # confidential reports counted here in any way

    def holds(self, post: Post) -> None:
        """Note that `post` is counted here, in whatever figure."""
        if POLICIES[post.board].confidential:
            self.confidential += 1

    def count_overdue(self, post: Post) -> None:
        self.holds(post)
        self.overdue += 1

    def judge(self, score: str, post: Post) -> None:
        """Count one score of `post`'s rating history here."""
        self.holds(post)
        self.satisfaction[score] += 1

    def add(self, post: Post, at: dt.datetime | None = None, scores: bool = True) -> None:
        """Count one case submitted in the period (`at`: now, for what is not yet due); with
        `scores`, also every score of its rating history."""
        self.holds(post)
        if scores:
            for entry in judgements(post):
                self.satisfaction[entry[0]] += 1
        if post.status is Status.MERGED:
            # the matter counts once: as the earlier case it joined
            self.merged += 1
            return
        self.received += 1
        if post.extended:
            self.extended += 1
        if post.supervised_at is not None:
            self.supervised += 1
        if post.status is Status.UNRATED:
            self.unrated += 1
        if (
            post.accepted_at is not None
            and post.replied_at is None
            and post.closed_at is None
            and post.status is not Status.REJECTED
            and (post.due_at is None or at is None or post.due_at > at)
        ):
            self.not_yet_due += 1
        if post.accepted_at is not None:
            self.accepted += 1
        if post.replied_at is not None:
            self.replied += 1
            self.reply_hours.append((post.replied_at - post.created_at).total_seconds() / 3600)
            if post.due_at is None or post.replied_at <= post.due_at:
                self.on_time += 1
        if post.closed_at is not None:
            self.closed += 1

    @property
    def not_yet_due_only(self) -> bool:
        """Whether every accepted case is still within its time, so the rates say nothing."""
        return self.accepted > 0 and self.not_yet_due == self.accepted

    def withheld(self) -> list[str]:
        """The figures of S not shown, by the small-cell rule (the module's text); satisfaction
        scores as `satisfaction.<score>`."""
        if not self.confidential:
            return []
        counts = {
            **{key: getattr(self, key) for key in COUNTS},
            **{f"satisfaction.{score}": n for score, n in self.satisfaction.items()},
        }
        small = [key for key, n in counts.items() if 0 < n < SMALL_CELL]
        if self.received < SMALL_CELL:
            small += PER_CASE
        return small

    def as_dict(self) -> dict[str, Any]:
        shown = self._figures()
        withheld = self.withheld()
        for key in withheld:
            if key.startswith("satisfaction."):
                shown["satisfaction"][key.partition(".")[2]] = None
            else:
                shown[key] = None
        shown["withheld"] = withheld
        return shown

    def _figures(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "replied": self.replied,
            "closed": self.closed,
            "reply_rate": _rate(self.replied, self.accepted),
            "completion_rate": _rate(self.closed, self.accepted),
            "on_time_rate": _rate(self.on_time, self.replied),
            "median_first_reply_hours": (
                round(statistics.median(self.reply_hours), 1) if self.reply_hours else None
            ),
            "overdue": self.overdue,
            "satisfaction": dict(self.satisfaction),
            "extended": self.extended,
            "supervised": self.supervised,
            "unrated": self.unrated,
            "merged": self.merged,
            "not_yet_due": self.not_yet_due,
        }


def judgements(post: Post) -> list[tuple[str, str | None]]:
    """(score, department judged) of every rating and scored callback of a case, oldest first.
    A case rated before the history was kept counts its one rating for its department."""
    if not post.ratings:
        return [(post.rating, post.department)] if post.rating in workflow.RATINGS else []
    return [
        (entry["score"], entry.get("department") or post.department)
        for entry in post.ratings
        if entry.get("source") in ("rating", "callback") and entry.get("score") in workflow.RATINGS
    ]


@dataclass
class Summary:
    """The figures the portal shows everyone outside the statistics page: this year's cases of
    some boards, as the statistics count them."""

    since: str  # YYYY-MM-DD, the first day of the year in the city's time
    received: int | None  # None: withheld by the small-cell rule (the module's text)
    replied: int | None
    completion_rate: float | None
    satisfaction_rate: float | None  # 满意 and 基本满意 among the rated
    withheld: tuple[str, ...] = ()


def year_start(at: dt.datetime) -> str:
    return f"{at.astimezone(workflow.CHINA_STANDARD_TIME).year:04d}-01-01"


def summarise(
    report: Report, boards: tuple[str, ...] = (), departments: tuple[str, ...] = ()
) -> Summary:
    """Totals of `boards` (or `departments`) in `report`; the rates as the statistics page
    computes them."""
    parts = [report.boards[slug] for slug in boards if slug in report.boards] + [
        report.departments[slug] for slug in departments if slug in report.departments
    ]
    accepted = sum(f.accepted for f in parts)
    rated = sum(sum(f.satisfaction.values()) for f in parts)
    pleased = sum(
        f.satisfaction["satisfied"] + f.satisfaction["basically_satisfied"] for f in parts
    )
    since = (
        report.since.astimezone(workflow.CHINA_STANDARD_TIME).date().isoformat()
        if report.since
        else ""
    )
    total = Figures(
        received=sum(f.received for f in parts),
        replied=sum(f.replied for f in parts),
        confidential=sum(f.confidential for f in parts),
    )
    completion, satisfaction = _rate(sum(f.closed for f in parts), accepted), _rate(pleased, rated)
    figures = {
        "received": total.received,
        "replied": total.replied,
        "completion_rate": completion,
        "satisfaction_rate": satisfaction,
    }
    hidden = total.withheld()
    # a small group's rates are withheld alike, the satisfaction rate with the others
    withheld = tuple(
        key for key in figures if key in hidden or (key.endswith("_rate") and PER_CASE[0] in hidden)
    )

    def shown(key: str, value: T) -> T | None:
        return None if key in withheld else value

    return Summary(
        since,
        shown("received", total.received),
        shown("replied", total.replied),
        shown("completion_rate", completion),
        shown("satisfaction_rate", satisfaction),
        withheld=withheld,
    )


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
    areas: dict[str, Figures] = field(default_factory=lambda: {slug: Figures() for slug in AREAS})
    types: dict[str, Figures] = field(
        default_factory=lambda: {slug: Figures() for slug in LETTER_TYPES}
    )
    levels: dict[str, Figures] = field(default_factory=lambda: {kind: Figures() for kind in LEVELS})
    # each department's level, as the store knew it when the report was made
    department_levels: dict[str, str] = field(default_factory=dict)

    def groups(self, post: Post) -> list[Figures]:
        """The figures a case counts in with all its scores: its board, its area and its letter
        type (not its department or level, where scores count by the department judged, nor
        its month, which only the period's cases have)."""
        found = [self.boards.setdefault(post.board, Figures())]
        if post.area:
            found.append(self.areas.setdefault(post.area, Figures()))
        if post.letter_type:
            found.append(self.types.setdefault(post.letter_type, Figures()))
        return found


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
        raise Invalid(
            {name: msg("日期应在 {first} 年到 {last} 年之间", first=FIRST_YEAR, last=LAST_YEAR)}
        )
    return dt.datetime.combine(day, dt.time(), workflow.CHINA_STANDARD_TIME).astimezone(
        dt.timezone.utc
    )


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
    known = await store.list_departments()
    result = Report(
        start,
        end,
        {slug: Figures() for slug in CASE_BOARDS},
        {d.slug: Figures() for d in known},
        {},
        department_levels={d.slug: d.kind for d in known},
    )
    at = now()
    # Overdue is a figure of now, whatever the period: every routed case past its due time.
    async for post in _all(
        store, PostFilter(boards=CASE_BOARDS, statuses=(Status.ROUTED,), due_before=at)
    ):
        for figures in result.groups(post):
            figures.count_overdue(post)
        if post.department in result.departments:
            result.departments[post.department].count_overdue(post)
        level = result.department_levels.get(post.department or "")
        if level in result.levels:
            result.levels[level].count_overdue(post)
    where = PostFilter(boards=CASE_BOARDS, created_from=start, created_before=end)
    async for post in _all(store, where):
        month = post.created_at.astimezone(workflow.CHINA_STANDARD_TIME).strftime("%Y-%m")
        for figures in [*result.groups(post), result.months.setdefault(month, Figures())]:
            figures.add(post, at)
        if post.department in result.departments:
            result.departments[post.department].add(post, at, scores=False)
        # Each score counts against the department whose reply it judged.
        for score, judged in judgements(post):
            if judged in result.departments:
                result.departments[judged].judge(score, post)
            level = result.department_levels.get(judged or "")
            if level in result.levels:
                result.levels[level].judge(score, post)
        level = result.department_levels.get(post.department or "")
        if level in result.levels:
            result.levels[level].add(post, at, scores=False)
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
