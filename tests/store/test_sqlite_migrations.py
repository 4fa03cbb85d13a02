"""Upgrading an existing SQLite database: a file made by an older version opens and works."""
from __future__ import annotations

import sqlite3

import pytest

from forum.errors import Conflict
from forum.model import AuditEntry, Flag, ReplyKind, ReplyStats, Status, new_id
from forum.store.sqlite import MIGRATIONS, SqliteStore
from tests.store.test_contract import T0, make_post, make_reply


def build_version_1(path: str, post_id: str, reply_id: str, author_id: str) -> None:
    """A database as version 1 left it, with one user, one post and one reply of theirs."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
        at = "2026-11-28T09:30:00.123Z"
        conn.execute("INSERT INTO users VALUES (?, 'lawyer', 'lawyer', 'Lawyer', 'x', "
                     "'[\"lawyer\"]', NULL, NULL, '[]', 0, ?)", (author_id, at))
        conn.execute("INSERT INTO posts VALUES (?, 'lawyer', '标题', '正文', '<p>正文</p>', NULL, "
                     "'answered', ?, ?, '劳动', 0, 1, NULL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, "
                     "NULL)", (post_id, at, at))
        conn.execute("INSERT INTO replies VALUES (?, ?, ?, '答复', '<p>答复</p>', 'answer', ?)",
                     (reply_id, post_id, author_id, at))
    finally:
        conn.close()


@pytest.mark.gen_test
async def test_a_version_1_database_upgrades_on_open(tmp_path):
    path = str(tmp_path / "forum.db")
    post_id, reply_id, author_id = new_id(), new_id(), new_id()
    build_version_1(path, post_id, reply_id, author_id)
    store = SqliteStore(path)
    await store.open()
    try:
        (reply,) = await store.list_replies(post_id)
        assert (reply.id, reply.author_id, reply.created_at) == (reply_id, author_id, T0)
        assert reply.accepted is False and reply.board is None
        assert await store.list_replies_by_author(author_id, ReplyKind.ANSWER, None, 10) == [reply]
        assert await store.reply_stats(author_id, ReplyKind.ANSWER) == ReplyStats(total=1)

        post = await store.accept_reply(post_id, reply_id, {"accepted_reply_id": reply_id,
                                                            "status": Status.RESOLVED})
        assert post.accepted_reply_id == reply_id and post.reply_count == 1
        assert (await store.list_replies(post_id))[0].accepted is True
        assert await store.reply_stats(author_id, ReplyKind.ANSWER) == ReplyStats(1, 1, {})

        flag = Flag(new_id(), post_id, author_id, "广告", T0)
        await store.add_flag(flag)
        with pytest.raises(Conflict):
            await store.add_flag(Flag(new_id(), post_id, author_id, "again", T0))
        assert await store.list_flags(post_id) == [flag]

        entry = AuditEntry(new_id(), T0, author_id, "hide", f"post:{post_id}")
        await store.add_audit(entry)
        assert await store.list_audit(actor_id=author_id, target=None, after=None,
                                      limit=5) == [entry]
        assert [u.id for u in await store.find_users("LAW", None, 5)] == [author_id]

        # Replies written after the upgrade keep the new fields.
        newer = make_post(board="lawyer")
        await store.add_post(newer)
        answer = make_reply(newer.id, author_id=author_id, board="lawyer", accepted=True)
        await store.add_reply(answer, {})
        assert await store.list_replies(newer.id) == [answer]
        assert await store.reply_stats(author_id, ReplyKind.ANSWER) == ReplyStats(
            2, 2, {"lawyer": 1})

        await store.open()  # opening again leaves the upgraded file as it is
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        conn.close()
