"""Counting attempts in the store, so limits hold across processes and restarts."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from forum.errors import RateLimited
from forum.model import now
from forum.store.base import Store


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window: dt.timedelta


LOGIN_PER_ACCOUNT = Limit("login-account", 5, dt.timedelta(minutes=15))
LOGIN_PER_ADDRESS = Limit("login-address", 20, dt.timedelta(minutes=15))
REGISTER_PER_ADDRESS = Limit("register-address", 20, dt.timedelta(hours=1))
POSTS_PER_ACCOUNT = Limit("posts-account", 20, dt.timedelta(minutes=10))
POSTS_PER_NEW_ACCOUNT = Limit("posts-account", 10, dt.timedelta(minutes=10))
POSTS_PER_ADDRESS = Limit("posts-address", 10, dt.timedelta(minutes=10))  # reports without an account
TRACKING_PER_ADDRESS = Limit("tracking-address", 20, dt.timedelta(minutes=10))
# Open311 requests posted with one API key (a gateway speaks for many citizens, but a leaked or
# runaway key must not flood the bureau's queue).
OPEN311_POSTS_PER_KEY = Limit("open311-key", 10, dt.timedelta(minutes=10))


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{subject}"


async def check(store: Store, limit: Limit, subject: str) -> None:
    """Raise RateLimited when `subject` has used up `limit` in its window.

    The wait is the whole window: never a permanent lock that someone else could trigger."""
    if await store.count_hits(_key(limit, subject), now() - limit.window) >= limit.count:
        raise RateLimited(int(limit.window.total_seconds()))


async def record(store: Store, limit: Limit, subject: str) -> None:
    await store.add_hit(_key(limit, subject), now())


async def clear(store: Store, limit: Limit, subject: str) -> None:
    await store.clear_hits(_key(limit, subject))
