"""What both adapters do alike, written once: which fields a conditional post update may be
matched on, and the reads of a post's children (each adapter says how it reads one kind, in
`_children`)."""

from __future__ import annotations

from typing import Any, TypeVar

from forum.model import Event, Reply, Revision
from forum.store.base import POST_CHANGEABLE
from forum.store.codec import plain_changes

T = TypeVar("T")

# The PostFilter fields a post matches by equality (None: any), in both adapters' queries.
POST_EQUALITY_FIELDS = (
    "board",
    "category",
    "author_id",
    "department",
    "pinned",
    "reopened",
    "public",
    "supervised",
    "extension_status",
    "officer_id",
)


def expected_post_values(expect: dict[str, Any] | None) -> dict[str, Any]:
    """`expect` of update_post and its kin as plain values; a field no update may change (and
    so no caller may rest a decision on) is a slip in the caller."""
    values = plain_changes(expect or {})
    unknown = set(values) - POST_CHANGEABLE - {"status"}
    if unknown:
        raise ValueError(f"posts cannot be matched on {sorted(unknown)}")
    return values


class PostChildren:
    """A post's replies, revisions and events, oldest first (ties by id)."""

    async def _children(self, cls: type[T], table: str, time: str, post_id: str) -> list[T]:
        raise NotImplementedError  # each adapter's core reads its table or collection

    async def list_replies(self, post_id: str) -> list[Reply]:
        return await self._children(Reply, "replies", "created_at", post_id)

    async def list_revisions(self, post_id: str) -> list[Revision]:
        return await self._children(Revision, "revisions", "edited_at", post_id)

    async def list_events(self, post_id: str) -> list[Event]:
        return await self._children(Event, "events", "at", post_id)
