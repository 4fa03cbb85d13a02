"""Figures operators watch (GET /metrics): how many cases are open, how many are overdue, how
much mail waits in the outbox, how many notifications are unread. Cheap counts straight from the
store, taken when they are asked for, so every server process reports the same numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from forum.clock import now
from forum.model import PostFilter, Status

from forum.services.cases import CASE_BOARDS, OPEN_CASE_STATUSES
from forum.store.base import Store


@dataclass
class Figures:
    open_cases: dict[tuple[str, str], int] = field(default_factory=dict)  # (board, status)
    overdue_cases: dict[str, int] = field(default_factory=dict)  # by board
    mail_waiting: int = 0  # the outbox: mails not yet sent and not given up
    notifications_unread: int = 0  # everyone's


async def figures(store: Store, at: dt.datetime | None = None) -> Figures:
    """Open cases of every case board and status (zeros included), overdue cases (routed and
    past their due time, as the statistics count them), the outbox length and the unread
    notifications. Raises StoreUnavailable."""
    at = at or now()
    result = Figures()
    for board in CASE_BOARDS:
        for status in OPEN_CASE_STATUSES:
            result.open_cases[(board, status.value)] = await _count(
                store, PostFilter(board=board, statuses=(status,))
            )
        result.overdue_cases[board] = await _count(
            store, PostFilter(board=board, statuses=(Status.ROUTED,), due_before=at)
        )
    result.mail_waiting = await store.count_mail_waiting()
    result.notifications_unread = await store.count_all_unread()
    return result


async def _count(store: Store, where: PostFilter) -> int:
    return sum((await store.count_posts_by_category(where)).values())
