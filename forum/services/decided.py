"""Writing what was decided from a read: a use case reads a post, decides with the lifecycle
authority, and writes in one unit of work whose writes are conditional on what it read. When
another change came first, the loser gets a 409 that says what the post is now."""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator

from forum.errors import Conflict
from forum.model import Post, iso
from forum.store.base import Store


def state_of(post: Post | None) -> dict[str, Any]:
    """What a client that lost a race needs to decide again: the status and who has it."""
    if post is None:
        return {}
    return {
        "status": post.status.value,
        "department": post.department,
        "updated_at": iso(post.updated_at),
    }


@contextlib.asynccontextmanager
async def unit_decided_from(store: Store, post: Post) -> AsyncIterator[None]:
    """A unit of work (store.transaction) for writes decided from `post` as read. Raises
    Conflict (code "conflict", with the post's state now) when a conditional write found the
    post changed meanwhile; nothing of the unit is then stored."""
    try:
        async with store.transaction():
            yield
    except Conflict as lost:
        if lost.code != "stale":
            raise
        raise Conflict(
            "内容已被他人处理，请刷新后重试",
            code="conflict",
            state=state_of(await store.get_post(post.id)),
        ) from lost
