"""Settings admins keep in the store: the holiday calendar and the sensitive-word list."""
from __future__ import annotations

import datetime as dt
from typing import Any

from forum.errors import Invalid
from forum.messages import msg
from forum.model import User
from forum.services import audit
from forum.services.admin import require_admin
from forum.store.base import Store
from forum.workflow import Calendar

CALENDAR_KEY = "calendar"
WORDS_KEY = "sensitive_words"
WORDS_MAX = 2000
WORD_MAX_CHARS = 40
DAYS_MAX = 400


async def load_calendar(store: Store) -> Calendar:
    saved = await store.get_setting(CALENDAR_KEY) or {}
    return Calendar(holidays=frozenset(map(dt.date.fromisoformat, saved.get("holidays", []))),
                    workdays=frozenset(map(dt.date.fromisoformat, saved.get("workdays", []))))


async def save_calendar(store: Store, viewer: User | None, holidays: Any, workdays: Any) -> Calendar:
    """Replace the holiday list and the weekend days worked instead (调休). Raises NotLoggedIn,
    Forbidden, Invalid."""
    admin = require_admin(viewer)
    errors: dict[str, str] = {}
    days = {name: _dates(errors, name, value)
            for name, value in (("holidays", holidays), ("workdays", workdays))}
    if errors:
        raise Invalid(errors)
    value = {name: sorted(d.isoformat() for d in found) for name, found in days.items()}
    await store.put_setting(CALENDAR_KEY, value)
    await audit.record(store, admin, "save_calendar", "settings:calendar", detail=value)
    return await load_calendar(store)


def _dates(errors: dict[str, str], name: str, value: Any) -> set[dt.date]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        errors[name] = "应为日期（YYYY-MM-DD）的列表"
        return set()
    if len(value) > DAYS_MAX:
        errors[name] = msg("最多 {count} 天", count=DAYS_MAX)
        return set()
    try:
        return {dt.date.fromisoformat(item.strip()) for item in value if item.strip()}
    except ValueError:
        errors[name] = "日期格式应为 YYYY-MM-DD"
        return set()


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
    await audit.record(store, admin, "save_sensitive_words", "settings:sensitive_words",
                       detail={"count": len(cleaned)})
    return cleaned
