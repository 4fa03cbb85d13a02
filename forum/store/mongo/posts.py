"""Posts and their replies, revisions, events and flags; the audit log."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from forum.model import (
    AuditEntry,
    Event,
    Flag,
    Post,
    PostFilter,
    Reply,
    ReplyKind,
    ReplyStats,
    Revision,
)
from forum.store.shared import PostChildren, expected_post_values
from forum.store.base import AuditKey, Conflict, NotFound, PostKey, ReplyKey
from forum.store.mongo.core import _Core
from forum.store.mongo.documents import _from_doc, _given, _oid, _post_query, _post_update, _to_doc


if TYPE_CHECKING:
    from pymongo.asynchronous.client_session import AsyncClientSession


BULK_BATCH = 5000  # posts per insert_many of add_posts_bulk (well under 48 MB a message)
DUPLICATE_KEY = 11000  # the server's error code for a taken unique key


class _Posts(_Core, PostChildren):
    """Posts, replies, revisions, events, flags, the audit log."""

    # posts -----------------------------------------------------------------------------------
    async def add_post(self, post: Post, event: Event | None = None) -> None:
        async def write(session: AsyncClientSession | None) -> None:
            # Post first: a crash before the event leaves a post without its first event, never
            # an event about a post that does not exist.
            await self._insert("posts", post, session)
            await self._insert("events", event, session)

        try:
            await self._atomically(write)
        except DuplicateKeyError as exc:  # the id or the tracking hash is taken
            raise Conflict(code="already_exists") from exc

    async def add_posts_bulk(self, posts: list[Post], terms: list[list[str]]) -> None:
        if len(posts) != len(terms):
            raise ValueError("one list of terms per post")
        docs = []
        for post, post_terms in zip(posts, terms):
            doc = _to_doc(post)
            kept = [term for term in post_terms if term]  # as index_post keeps them
            if kept:
                doc["terms"] = kept
            docs.append(doc)
        # Unordered: the server may apply the inserts in parallel; each post is one document,
        # its terms in it, so each is stored whole or not at all.
        for first in range(0, len(docs), BULK_BATCH):
            try:
                await self._db["posts"].insert_many(docs[first : first + BULK_BATCH], ordered=False)
            except BulkWriteError as exc:
                if any(
                    error.get("code") == DUPLICATE_KEY
                    for error in exc.details.get("writeErrors", [])
                ):
                    raise Conflict(code="already_exists") from exc
                raise

    async def get_post(self, post_id: str) -> Post | None:
        doc = await self._db["posts"].find_one({"_id": _oid(post_id)})
        return _from_doc(Post, doc) if doc else None

    async def get_post_by_tracking(self, tracking_hash: str) -> Post | None:
        # The $type repeats the partial filter of the tracking_hash index, so that the planner
        # may use that index.
        doc = await self._db["posts"].find_one(
            {"tracking_hash": {"$eq": tracking_hash, "$type": "string"}}
        )
        return _from_doc(Post, doc) if doc else None

    async def list_posts(
        self, where: PostFilter, after: PostKey | None, limit: int, *, oldest_first: bool = False
    ) -> list[Post]:
        return await self._page(
            Post, "posts", "created_at", _post_query(where), after, limit, ascending=oldest_first
        )

    async def count_posts_by_category(self, where: PostFilter) -> dict[str | None, int]:
        groups = await self._group("posts", _post_query(where), "$category", {"count": {"$sum": 1}})
        return {group["_id"]: group["count"] for group in groups}

    async def _change_post(
        self,
        post_id: str,
        update: dict[str, Any],
        event: Event | None,
        session: AsyncClientSession | None,
        expect: dict[str, Any] | None = None,
    ) -> Post:
        """Apply `update` to the post, then record `event`; NotFound when the post is missing,
        Conflict (and nothing written) when `expect` is given and the post's fields no longer
        hold those values."""
        posts = self._db["posts"]
        # In the filter of the one write, so the server judges it as it writes: of two racing
        # callers only one still finds what it expects. (None matches null and absent fields.)
        query: dict[str, Any] = {**expected_post_values(expect), "_id": _oid(post_id)}
        if update:
            doc = await posts.find_one_and_update(
                query, update, return_document=ReturnDocument.AFTER, session=session
            )
        else:  # an empty update document is an error on the server
            doc = await posts.find_one(query, session=session)
        if doc is None:
            if (
                expect
                and await posts.find_one({"_id": _oid(post_id)}, {"_id": 1}, session=session)
                is not None
            ):
                raise Conflict(code="stale")
            raise NotFound()
        await self._insert("events", event, session)
        return _from_doc(Post, doc)

    async def update_post(
        self,
        post_id: str,
        changes: dict[str, Any],
        revision: Revision | None = None,
        event: Event | None = None,
        *,
        expect: dict[str, Any] | None = None,
    ) -> Post:
        update = _post_update(changes)

        async def write(session: AsyncClientSession | None) -> Post:
            if expect:
                # The conditional change first, so a caller that loses the race has written
                # nothing, not even where there is no transaction to roll back; the revision
                # and event follow only once it has won. (Without a transaction, a crash right
                # after the change loses the earlier text: the price of writing nothing for the
                # loser.)
                post = await self._change_post(post_id, update, None, session, expect)
                await self._insert("revisions", revision, session)
                await self._insert("events", event, session)
                return post
            await self._require_post(post_id, session)  # so nothing is written for a ghost
            # The earlier text goes first: a crash after it leaves one copy too many, never a
            # text that is lost.
            await self._insert("revisions", revision, session)
            return await self._change_post(post_id, update, event, session)

        return await self._atomically(write)

    async def add_reply(
        self,
        reply: Reply,
        changes: dict[str, Any],
        event: Event | None = None,
        *,
        expect: dict[str, Any] | None = None,
        counted: bool = True,
    ) -> Post:
        update = {**_post_update(changes), **({"$inc": {"reply_count": 1}} if counted else {})}

        async def write(session: AsyncClientSession | None) -> Post:
            await self._require_post(reply.post_id, session)
            if expect:
                # The condition decides first, so a reply that lost the race is never written
                # (without a transaction there is nothing to roll back). A crash before the
                # reply then leaves the count one high, which a recount repairs.
                post = await self._change_post(reply.post_id, update, None, session, expect)
                await self._insert("replies", reply, session)
                await self._insert("events", event, session)
            else:
                # Reply first, then the counter: a crash in between leaves the count one short
                # (a recount repairs it), never a count for a reply that is not there.
                await self._insert("replies", reply, session)
                post = await self._change_post(reply.post_id, update, event, session)
            return post

        return await self._atomically(write)

    async def accept_reply(
        self,
        post_id: str,
        reply_id: str,
        changes: dict[str, Any],
        event: Event | None = None,
        *,
        expect: dict[str, Any] | None = None,
    ) -> Post:
        update = _post_update(changes)

        async def write(session: AsyncClientSession | None) -> Post:
            await self._require_post(post_id, session)
            if (
                await self._db["replies"].find_one(
                    {"_id": _oid(reply_id), "post_id": post_id}, {"_id": 1}, session=session
                )
                is None
            ):
                raise NotFound()
            # The post first, conditionally: of two accepts at once only one finds the status
            # it expects, and the loser marks no reply. A crash before the reply is marked
            # leaves a post naming an unmarked reply, which the post's accepted_reply_id
            # still says correctly.
            post = await self._change_post(post_id, update, event, session, expect)
            await self._db["replies"].update_one(
                {"_id": _oid(reply_id)}, {"$set": {"accepted": True}}, session=session
            )
            return post

        return await self._atomically(write)

    async def list_replies_by_author(
        self, author_id: str, kind: ReplyKind | None, after: ReplyKey | None, limit: int
    ) -> list[Reply]:
        query: dict[str, Any] = {"author_id": author_id}
        if kind is not None:
            query["kind"] = kind.value
        return await self._page(Reply, "replies", "created_at", query, after, limit)

    async def reply_stats(self, author_id: str, kind: ReplyKind) -> ReplyStats:
        # Replies stored before version 2 have no `accepted` field; $cond counts them as not.
        groups = await self._group(
            "replies",
            {"author_id": author_id, "kind": kind.value},
            "$board",
            {"total": {"$sum": 1}, "accepted": {"$sum": {"$cond": ["$accepted", 1, 0]}}},
        )
        return ReplyStats(
            total=sum(group["total"] for group in groups),
            accepted=sum(group["accepted"] for group in groups),
            by_board={group["_id"]: group["total"] for group in groups if group["_id"] is not None},
        )

    # flags and audit -------------------------------------------------------------------------
    async def add_flag(self, flag: Flag) -> None:
        try:
            await self._insert("flags", flag, None)
        except DuplicateKeyError as exc:  # the open_by_user index: one open flag each
            raise Conflict(code="already_flagged") from exc

    async def list_flags(self, post_id: str) -> list[Flag]:
        return await self._children(Flag, "flags", "created_at", post_id)

    async def list_open_flags(
        self, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Flag]:
        return await self._page(
            Flag, "flags", "created_at", {"open": True}, after, limit, ascending=True
        )

    async def close_flags(self, post_id: str) -> int:
        result = await self._db["flags"].update_many(
            {"post_id": post_id, "open": True}, {"$set": {"open": False}}
        )
        return result.modified_count

    async def add_audit(self, entry: AuditEntry) -> None:
        await self._insert("audit", entry, None)

    async def list_audit(
        self, *, actor_id: str | None, target: str | None, after: AuditKey | None, limit: int
    ) -> list[AuditEntry]:
        return await self._page(
            AuditEntry,
            "audit",
            "at",
            _given({"actor_id": actor_id, "target": target}),
            after,
            limit,
        )
