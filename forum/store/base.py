"""The Store protocol: the only storage interface services see.

Adapters (`sqlite.py`, `mongo.py`) implement it and pass one contract suite. A store keeps and
finds records; it knows no roles, boards or lifecycles. Every write it acknowledges is durable, and
each method that changes several records changes all of them or none.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from forum.errors import Conflict, NotFound, StoreUnavailable
from forum.model import (BoardSettings, Department, Event, Post, PostFilter, Reply, Revision,
                         Session, User)

__all__ = ["Store", "Conflict", "NotFound", "StoreUnavailable", "PostKey", "POST_CHANGEABLE"]

# (created_at, id) of the last post of a page: lists are ordered newest first by this pair.
PostKey = tuple[dt.datetime, str]

# Fields of a post that update_post may change; id, board, author and created_at never change.
POST_CHANGEABLE = frozenset({
    "title", "body", "html", "status", "category", "updated_at", "accepted_reply_id", "pinned",
    "locked", "public", "contact", "department", "due_at", "reopened", "rating", "anonymous",
})


class Store(Protocol):
    kind: str  # "sqlite" | "mongodb", as /healthz reports it

    async def open(self) -> None:
        """Connect, create or upgrade the schema and indexes. Safe to call on an existing database."""

    async def close(self) -> None:
        """Finish pending writes and release connections."""

    async def ping(self) -> None:
        """Return when the store answers; raise StoreUnavailable otherwise."""

    # departments and boards ------------------------------------------------------------------
    async def ensure_departments(self, departments: list[Department]) -> None:
        """Add the departments whose slug is missing; leave existing ones as they are."""

    async def add_department(self, department: Department) -> None:
        """Raise Conflict when the slug exists."""

    async def list_departments(self) -> list[Department]:
        """All departments ordered by slug; empty list when none."""

    async def ensure_boards(self, boards: list[BoardSettings]) -> None:
        """Add settings for boards whose slug is missing; keep an admin's changes to existing ones."""

    async def list_boards(self) -> list[BoardSettings]:
        """All board settings, in no particular order."""

    async def get_board(self, slug: str) -> BoardSettings | None:
        """One board's settings; None for an unknown slug."""

    async def save_board(self, board: BoardSettings) -> None:
        """Replace a board's settings; raise NotFound for an unknown slug."""

    # users and sessions ----------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        """Raise Conflict when the username is taken, compared case-insensitively."""

    async def get_user(self, user_id: str) -> User | None:
        """None when no user has this id."""

    async def get_user_by_name(self, username: str) -> User | None:
        """Case-insensitive; None when nobody has this name."""

    async def get_users(self, user_ids: list[str]) -> dict[str, User]:
        """The users found, by id; ids that match nobody are absent from the result."""

    async def update_user(self, user_id: str, changes: dict[str, Any]) -> None:
        """Set the given User fields; raise NotFound when the user does not exist."""

    async def add_session(self, session: Session) -> None:
        """Store a new login."""

    async def get_session(self, token_hash: str) -> Session | None:
        """None when no login has this token hash (expiry is for the caller to judge)."""

    async def delete_session(self, token_hash: str) -> None:
        """Remove one login; nothing happens when it is absent."""

    async def delete_user_sessions(self, user_id: str) -> int:
        """Remove every login of a user; return how many there were."""

    # posts, replies, revisions, events -------------------------------------------------------
    async def add_post(self, post: Post, event: Event | None = None) -> None:
        """Insert a post (and its first event) atomically. Raise Conflict on a duplicate id."""

    async def get_post(self, post_id: str) -> Post | None:
        """None when no post has this id."""

    async def list_posts(self, where: PostFilter, after: PostKey | None, limit: int) -> list[Post]:
        """Up to `limit` posts matching `where`, newest first by (created_at, id), strictly after
        the key `after` when given. Empty list when nothing matches."""

    async def update_post(self, post_id: str, changes: dict[str, Any],
                          revision: Revision | None = None, event: Event | None = None) -> Post:
        """Apply `changes` (keys from POST_CHANGEABLE), record the revision and event, all at once.
        Return the post as stored afterwards; raise NotFound when it does not exist."""

    async def add_reply(self, reply: Reply, changes: dict[str, Any],
                        event: Event | None = None) -> Post:
        """Insert the reply, add one to its post's reply_count and apply `changes` to the post, all
        at once. Return the post afterwards; raise NotFound when the post does not exist."""

    async def list_replies(self, post_id: str) -> list[Reply]:
        """Replies of a post, oldest first; empty list when none or the post does not exist."""

    async def list_revisions(self, post_id: str) -> list[Revision]:
        """Earlier texts of a post, oldest first."""

    async def list_events(self, post_id: str) -> list[Event]:
        """Events of a post, oldest first."""

    # throttling ------------------------------------------------------------------------------
    async def count_hits(self, key: str, since: dt.datetime) -> int:
        """How many hits were recorded for `key` at or after `since`."""

    async def add_hit(self, key: str, at: dt.datetime) -> None:
        """Record one hit for `key`. Hits older than a day may be discarded."""

    async def clear_hits(self, key: str) -> None:
        """Forget every hit of `key`."""
