"""Settings admins keep in the store: their additions to the holiday calendar and the
sensitive-word list."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from forum.clock import now
from forum.errors import Invalid
from forum.holidays import first_uncovered, official, working_calendar
from forum.messages import Message, msg
from forum.model import User
from forum.services import audit
from forum.services.admin import require_admin
from forum.store.base import Store
from forum.workflow import CHINA_STANDARD_TIME, Calendar

CALENDAR_KEY = "calendar"
WORDS_KEY = "sensitive_words"
WORDS_MAX = 2000
WORD_MAX_CHARS = 40
DAYS_MAX = 400  # entries in each of the admins' lists
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
DAY_SHOWN_CHARS = 20  # of a wrong entry, quoted back in the error
YEARS_ALLOWED = (2000, 2099)


@dataclass(frozen=True)
class CalendarSettings:
    """The calendar as the admins see it: the years the `chinesecalendar` package covers, the
    admins' own holidays and working days on top of it, and the first of this year and next
    that the package does not cover (None when both are)."""

    covered_years: tuple[int, ...]
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    uncovered_year: int | None

    @property
    def warning(self) -> Message | None:
        if self.uncovered_year is None:
            return None
        return msg(
            "已安装的 chinesecalendar 还没有 {year} 年的节假日安排，{year} 年的期限暂时只按"
            "周一至周五和手工添加的日子计算。请在 {year} 年之前升级 chinesecalendar（国务院通常"
            "在前一年的 11 月或 12 月公布安排），或者手工添加该年的节假日和调休工作日。",
            year=self.uncovered_year,
        )


async def _additions(store: Store) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    saved = await store.get_setting(CALENDAR_KEY) or {}
    return (
        frozenset(map(dt.date.fromisoformat, saved.get("holidays", []))),
        frozenset(map(dt.date.fromisoformat, saved.get("workdays", []))),
    )


async def load_calendar(store: Store) -> Calendar:
    """The working-day calendar due times (and so the overdue marks) count by: the official
    holidays and make-up working days (调休) of the years `chinesecalendar` covers, with the
    admins' holidays and working days on top (theirs win)."""
    holidays, workdays = await _additions(store)
    return working_calendar(official(), holidays, workdays)


async def calendar_settings(store: Store, viewer: User | None) -> CalendarSettings:
    """The calendar as the admins keep it. Raises NotLoggedIn, Forbidden."""
    require_admin(viewer)
    return await _calendar_settings(store)


async def _calendar_settings(store: Store) -> CalendarSettings:
    holidays, workdays = await _additions(store)
    known = official()
    today = now().astimezone(CHINA_STANDARD_TIME).date()
    return CalendarSettings(
        covered_years=known.years,
        holidays=holidays,
        workdays=workdays,
        uncovered_year=first_uncovered(known, today),
    )


async def save_calendar(
    store: Store, viewer: User | None, holidays: Any, workdays: Any
) -> CalendarSettings:
    """Replace the admins' holidays (days off the package does not have) and working days
    (days worked that it has off, or that it does not cover). Raises NotLoggedIn, Forbidden,
    Invalid: a list that is not one of dates, a bad date, too many, a day in both lists."""
    admin = require_admin(viewer)
    errors: dict[str, str] = {}
    days = {
        name: _dates(errors, name, value)
        for name, value in (("holidays", holidays), ("workdays", workdays))
    }
    both = sorted(days["holidays"] & days["workdays"])
    if both and not errors:
        clash = msg(
            "同一天不能既是节假日又是调休工作日：{days}", days=[day.isoformat() for day in both[:5]]
        )
        errors.update(holidays=clash, workdays=clash)
    if errors:
        raise Invalid(errors)
    value = {name: sorted(d.isoformat() for d in found) for name, found in days.items()}
    await store.put_setting(CALENDAR_KEY, value)
    await audit.record(store, admin, "save_calendar", "settings:calendar", detail=value)
    return await _calendar_settings(store)


def _dates(errors: dict[str, str], name: str, value: Any) -> set[dt.date]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        errors[name] = "应为日期（YYYY-MM-DD）的列表"
        return set()
    if len(value) > DAYS_MAX:
        errors[name] = msg("最多 {count} 天", count=DAYS_MAX)
        return set()
    found = set()
    for text in (item.strip() for item in value):
        if not text:
            continue
        # fromisoformat alone would also take 20261001 and 2026-W40-4
        try:
            day = dt.date.fromisoformat(text) if DAY_PATTERN.fullmatch(text) else None
        except ValueError:
            day = None
        if day is None:
            errors[name] = msg("“{day}”不是 YYYY-MM-DD 格式的日期", day=text[:DAY_SHOWN_CHARS])
            return set()
        if not YEARS_ALLOWED[0] <= day.year <= YEARS_ALLOWED[1]:
            errors[name] = msg(
                "“{day}”的年份应在 {least} 到 {most} 之间",
                day=text,
                least=YEARS_ALLOWED[0],
                most=YEARS_ALLOWED[1],
            )
            return set()
        found.add(day)
    return found


async def sensitive_words(store: Store) -> list[str]:
    return list(await store.get_setting(WORDS_KEY) or [])


def matching_words(words: list[str], *texts: str | None) -> list[str]:
    """The listed words found in any of the texts (case-insensitively)."""
    haystack = "\n".join(t for t in texts if t).casefold()
    return [word for word in words if word.casefold() in haystack]


async def save_sensitive_words(store: Store, viewer: User | None, words: Any) -> list[str]:
    """Replace the list. Raises NotLoggedIn, Forbidden, Invalid."""
    admin = require_admin(viewer)
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise Invalid({"words": "应为词语的列表"})
    cleaned = sorted({" ".join(w.split()) for w in words if w.strip()})
    if len(cleaned) > WORDS_MAX:
        raise Invalid({"words": msg("最多 {count} 个", count=WORDS_MAX)})
    if any(len(w) > WORD_MAX_CHARS or "\x00" in w for w in cleaned):
        raise Invalid({"words": msg("每个词最多 {count} 个字符", count=WORD_MAX_CHARS)})
    await store.put_setting(WORDS_KEY, cleaned)
    await audit.record(
        store,
        admin,
        "save_sensitive_words",
        "settings:sensitive_words",
        detail={"count": len(cleaned)},
    )
    return cleaned
