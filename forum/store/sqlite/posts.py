"""Posts and what hangs on them (replies, revisions, events, flags), and the audit log."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import json
import operator
import sqlite3
import typing
from typing import Any

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
    iso,
)
from forum.store.base import POST_CHANGEABLE, AuditKey, Conflict, NotFound, PostKey, ReplyKey
from forum.store.shared import PostChildren, expected_post_values
from forum.store.codec import plain_changes, to_plain
from forum.store.sqlite.core import _Core
from forum.store.sqlite.rows import (
    LIST_COLUMNS,
    _equal,
    _from_row,
    _insert,
    _is_in,
    _post_where,
    _to_sql,
    _where,
)
from forum.store.sqlite.search import _add_to_index, _index_tokens


# add_posts_bulk: every column of a post, in the order of the Post fields, as _insert writes them.
_POST_COLUMNS = tuple(f.name for f in dataclasses.fields(Post))
_POST_INSERT = (
    f"INSERT INTO posts ({', '.join(_POST_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _POST_COLUMNS)})"
)
_post_values = operator.attrgetter(*_POST_COLUMNS)
# Which columns need converting, worked out once from the field types: a million rows pass here.
_POST_TYPES = typing.get_type_hints(Post)
_POST_TIMES = tuple(
    n
    for n, c in enumerate(_POST_COLUMNS)
    if dt.datetime in (_POST_TYPES[c], *typing.get_args(_POST_TYPES[c]))
)
_POST_FLAGS = tuple(n for n, c in enumerate(_POST_COLUMNS) if _POST_TYPES[c] is bool)
_POST_ENUMS = tuple(
    n
    for n, c in enumerate(_POST_COLUMNS)
    if isinstance(_POST_TYPES[c], type) and issubclass(_POST_TYPES[c], enum.Enum)
)
_POST_LISTS = tuple(n for n, c in enumerate(_POST_COLUMNS) if c in LIST_COLUMNS)


def _post_row(post: Post) -> list[Any]:
    """What _insert(conn, "posts", to_plain(post)) would write, by column."""
    row = list(_post_values(post))
    for n in _POST_TIMES:
        if row[n] is not None:
            row[n] = iso(row[n])
    for n in _POST_FLAGS:
        row[n] = int(row[n])
    for n in _POST_ENUMS:
        row[n] = row[n].value
    for n in _POST_LISTS:
        row[n] = json.dumps(row[n], ensure_ascii=False)
    return row


def _bulk_rows(
    posts: list[Post], terms: list[list[str]]
) -> tuple[list[list[Any]], list[tuple[str, str, str]]]:
    """The posts' rows, and (post id, created_at, tokens) for each post that has terms."""
    rows = [_post_row(post) for post in posts]
    docs = []
    for post, post_terms in zip(posts, terms):
        tokens = " ".join(_index_tokens(post_terms))
        if tokens:
            docs.append((post.id, iso(post.created_at), tokens))
    return rows, docs


class _Posts(_Core, PostChildren):
    """Posts, replies, revisions, events, flags, the audit log."""

    # posts -----------------------------------------------------------------------------------
    async def add_post(self, post: Post, event: Event | None = None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "posts", to_plain(post))
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="already_exists") from exc
            if event:
                _insert(conn, "events", to_plain(event))

        await self._write(work)

    async def add_posts_bulk(self, posts: list[Post], terms: list[list[str]]) -> None:
        if len(posts) != len(terms):
            raise ValueError("one list of terms per post")
        if not posts:
            return
        # The rows are made in a worker thread, not the writer's: a loader that keeps two batches
        # in flight has the next one made while this one is written.
        rows, docs = await asyncio.to_thread(_bulk_rows, posts, terms)

        def work(conn: sqlite3.Connection) -> None:
            try:
                conn.executemany(_POST_INSERT, rows)
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="already_exists") from exc
            _add_to_index(conn, docs)

        await self._write(work)

    async def get_post(self, post_id: str) -> Post | None:
        row = await self._read(
            lambda conn: conn.execute("SELECT * FROM posts WHERE id = ?", (post_id,)).fetchone(),
            by_key=True,
        )
        return _from_row(Post, row) if row else None

    async def get_post_by_tracking(self, tracking_hash: str) -> Post | None:
        # An equality implies tracking_hash IS NOT NULL, so the partial index
        # posts_tracking serves it.
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT * FROM posts WHERE tracking_hash = ?", (tracking_hash,)
            ).fetchone()
        )
        return _from_row(Post, row) if row else None

    async def get_posts(self, post_ids: list[str]) -> list[Post]:
        ids = tuple(dict.fromkeys(post_ids))
        if not ids:
            return []
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT * FROM posts WHERE {_is_in('id', ids)}", ids
            ).fetchall(),
            by_key=True,
        )
        found = {row["id"]: _from_row(Post, row) for row in rows}
        return [found[post_id] for post_id in post_ids if post_id in found]

    async def list_posts(
        self, where: PostFilter, after: PostKey | None, limit: int, *, oldest_first: bool = False
    ) -> list[Post]:
        clauses, params = _post_where(where)
        return await self._page(
            Post, "posts", "created_at", clauses, params, after, limit, ascending=oldest_first
        )

    async def count_posts_by_category(self, where: PostFilter) -> dict[str | None, int]:
        clauses, params = _post_where(where)
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT category, COUNT(*) FROM posts{_where(clauses)} GROUP BY category", params
            ).fetchall()
        )
        return {category: count for category, count in rows}

    @staticmethod
    def _update_post(
        conn: sqlite3.Connection,
        post_id: str,
        changes: dict[str, Any],
        event: Event | None = None,
        expect: dict[str, Any] | None = None,
        *,
        counted_reply: bool = False,
    ) -> Post:
        """Apply `changes` to the post (and one more to its reply count when `counted_reply`)
        and record `event`; NotFound (so the caller's transaction rolls back) when the post does
        not exist, Conflict when `expect` is given and the post's fields no longer hold those
        values. Returns the post as it now is."""
        values = plain_changes(changes)
        unknown = set(values) - POST_CHANGEABLE
        if unknown:
            raise ValueError(f"posts cannot change {sorted(unknown)}")
        expected = expected_post_values(expect)
        assignments = [f"{name} = ?" for name in values]
        if counted_reply:
            assignments.append("reply_count = reply_count + 1")
        if assignments or expected:
            # The condition is part of the UPDATE itself, so nothing read earlier can be stale
            # when it is judged; "id = id" updates the row only to learn whether it matched.
            # "IS" compares NULL too. RETURNING: the row as updated, in the same statement.
            condition = " AND ".join(["id = ?", *(f"{name} IS ?" for name in expected)])
            rows = conn.execute(
                f"UPDATE posts SET {', '.join(assignments) or 'id = id'} WHERE {condition} "
                "RETURNING *",
                [_to_sql(v) for v in values.values()]
                + [post_id]
                + [_to_sql(v) for v in expected.values()],
            ).fetchall()
            if not rows and expected:
                if conn.execute("SELECT 1 FROM posts WHERE id = ?", (post_id,)).fetchone():
                    raise Conflict(code="stale")
        else:
            rows = conn.execute("SELECT * FROM posts WHERE id = ?", (post_id,)).fetchall()
        if not rows:
            raise NotFound()
        if event:
            _insert(conn, "events", to_plain(event))
        return _from_row(Post, rows[0])

    async def update_post(
        self,
        post_id: str,
        changes: dict[str, Any],
        revision: Revision | None = None,
        event: Event | None = None,
        *,
        expect: dict[str, Any] | None = None,
    ) -> Post:
        def work(conn: sqlite3.Connection) -> Post:
            # Everything in the writer's transaction: a Conflict or NotFound rolls it all back.
            post = self._update_post(conn, post_id, changes, event, expect)
            if revision:
                _insert(conn, "revisions", to_plain(revision))
            return post

        return await self._write(work)

    async def add_reply(
        self,
        reply: Reply,
        changes: dict[str, Any],
        event: Event | None = None,
        *,
        expect: dict[str, Any] | None = None,
        counted: bool = True,
    ) -> Post:
        def work(conn: sqlite3.Connection) -> Post:
            # The post first: NotFound or Conflict before anything is written.
            post = self._update_post(
                conn, reply.post_id, changes, event, expect, counted_reply=counted
            )
            _insert(conn, "replies", to_plain(reply))
            return post

        return await self._write(work)

    async def accept_reply(
        self,
        post_id: str,
        reply_id: str,
        changes: dict[str, Any],
        event: Event | None = None,
        *,
        expect: dict[str, Any] | None = None,
    ) -> Post:
        def work(conn: sqlite3.Connection) -> Post:
            # A reply belongs to an existing post (foreign key), so one row updated answers both
            # questions; none means NotFound, and the transaction rolls back (as it does when
            # `expect` no longer holds).
            if (
                conn.execute(
                    "UPDATE replies SET accepted = 1 WHERE id = ? AND post_id = ?",
                    (reply_id, post_id),
                ).rowcount
                == 0
            ):
                raise NotFound()
            return self._update_post(conn, post_id, changes, event, expect)

        return await self._write(work)

    async def list_replies_by_author(
        self, author_id: str, kind: ReplyKind | None, after: ReplyKey | None, limit: int
    ) -> list[Reply]:
        clauses, params = ["author_id = ?"], [author_id]
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind.value)
        return await self._page(Reply, "replies", "created_at", clauses, params, after, limit)

    async def reply_stats(self, author_id: str, kind: ReplyKind) -> ReplyStats:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT board, COUNT(*), SUM(accepted) FROM replies WHERE author_id = ? AND kind = ? "
                "GROUP BY board",
                (author_id, kind.value),
            ).fetchall()
        )
        return ReplyStats(
            total=sum(total for _, total, _ in rows),
            accepted=sum(accepted for _, _, accepted in rows),
            by_board={board: total for board, total, _ in rows if board is not None},
        )

    # flags and audit -------------------------------------------------------------------------
    async def add_flag(self, flag: Flag) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "flags", to_plain(flag))
            except sqlite3.IntegrityError as exc:  # the flags_open index: one open flag each
                raise Conflict(code="already_flagged") from exc

        await self._write(work)

    async def list_flags(self, post_id: str) -> list[Flag]:
        return await self._children(Flag, "flags", "created_at", post_id)

    async def list_open_flags(
        self, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Flag]:
        return await self._page(
            Flag, "flags", "created_at", ["open = 1"], [], after, limit, ascending=True
        )

    async def close_flags(self, post_id: str) -> int:
        return await self._write(
            lambda conn: (
                conn.execute(
                    "UPDATE flags SET open = 0 WHERE post_id = ? AND open = 1", (post_id,)
                ).rowcount
            )
        )

    async def add_audit(self, entry: AuditEntry) -> None:
        await self._write(lambda conn: _insert(conn, "audit", to_plain(entry)), content=False)

    async def list_audit(
        self, *, actor_id: str | None, target: str | None, after: AuditKey | None, limit: int
    ) -> list[AuditEntry]:
        clauses, params = _equal({"actor_id": actor_id, "target": target})
        return await self._page(AuditEntry, "audit", "at", clauses, params, after, limit)


assert {f.name for f in dataclasses.fields(Post)} >= POST_CHANGEABLE
