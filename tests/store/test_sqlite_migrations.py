"""Upgrading an existing SQLite database: a file made by an older version opens and works."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest

from forum.errors import Conflict
from forum.model import (
    AuditEntry,
    Flag,
    Mail,
    Notification,
    PostFilter,
    ReplyKind,
    ReplyStats,
    Status,
    iso,
    new_id,
)
from forum.store.sqlite import MIGRATIONS, SqliteStore
from tests.store.test_contract import T0, ids, make_api_key, make_attachment, make_post, make_reply

# The version that added users.email_confirmed and the notifications and mail tables.
NOTIFICATIONS_VERSION = 6

CASE_FIELDS = (
    "accept_due_at",
    "accepted_at",
    "routed_at",
    "replied_at",
    "closed_at",
    "rated_at",
    "rating_comment",
    "status_note",
    "case_number",
    "received_on",
    "overdue_since",
)


def build_version(path: str, version: int, post_id: str, reply_id: str, author_id: str) -> None:
    """A database as `version` left it, with one user, one post and one reply of theirs, written
    in the columns version 1 had."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        scripts = "; ".join(MIGRATIONS[:version])
        conn.executescript(f"BEGIN; {scripts}; PRAGMA user_version = {version}; COMMIT;")
        at = iso(T0)
        conn.execute(
            "INSERT INTO users VALUES (?, 'lawyer', 'lawyer', 'Lawyer', 'x', "
            "'[\"lawyer\"]', NULL, NULL, '[]', 0, ?)",
            (author_id, at),
        )
        conn.execute(
            "INSERT INTO posts (id, board, title, body, html, author_id, status, created_at, "
            "updated_at, category, anonymous, reply_count, accepted_reply_id, pinned, locked, "
            "public, contact, department, due_at, reopened, rating, tracking_hash) VALUES "
            "(?, 'lawyer', '标题', '正文', '<p>正文</p>', NULL, 'answered', ?, ?, '劳动', 0, 1, "
            "NULL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, 'old-hash')",
            (post_id, at, at),
        )
        conn.execute(
            "INSERT INTO replies (id, post_id, author_id, body, html, kind, created_at) "
            "VALUES (?, ?, ?, '答复', '<p>答复</p>', 'answer', ?)",
            (reply_id, post_id, author_id, at),
        )
    finally:
        conn.close()


def user_version(path: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.gen_test
async def test_a_version_1_database_upgrades_on_open(tmp_path):
    path = str(tmp_path / "forum.db")
    post_id, reply_id, author_id = new_id(), new_id(), new_id()
    build_version(path, 1, post_id, reply_id, author_id)
    store = SqliteStore(path)
    await store.open()
    try:
        (reply,) = await store.list_replies(post_id)
        assert (reply.id, reply.author_id, reply.created_at) == (reply_id, author_id, T0)
        assert reply.accepted is False and reply.board is None
        assert await store.list_replies_by_author(author_id, ReplyKind.ANSWER, None, 10) == [reply]
        assert await store.reply_stats(author_id, ReplyKind.ANSWER) == ReplyStats(total=1)

        post = await store.accept_reply(
            post_id, reply_id, {"accepted_reply_id": reply_id, "status": Status.RESOLVED}
        )
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
        assert await store.list_audit(actor_id=author_id, target=None, after=None, limit=5) == [
            entry
        ]
        assert [u.id for u in await store.find_users("LAW", None, 5)] == [author_id]

        # Replies written after the upgrade keep the new fields.
        newer = make_post(board="lawyer")
        await store.add_post(newer)
        answer = make_reply(newer.id, author_id=author_id, board="lawyer", accepted=True)
        await store.add_reply(answer, {})
        assert await store.list_replies(newer.id) == [answer]
        assert await store.reply_stats(author_id, ReplyKind.ANSWER) == ReplyStats(
            2, 2, {"lawyer": 1}
        )

        await store.open()  # opening again leaves the upgraded file as it is
    finally:
        await store.close()
    assert user_version(path) == len(MIGRATIONS)


def index_columns(path: str, name: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[2] for row in conn.execute(f"PRAGMA index_info({name})")]
    finally:
        conn.close()


@pytest.mark.parametrize("version", [1, 2, 3])
@pytest.mark.gen_test
async def test_posts_of_an_older_version_read_with_case_fields_none(tmp_path, version):
    path = str(tmp_path / "forum.db")
    post_id, reply_id, author_id = new_id(), new_id(), new_id()
    build_version(path, version, post_id, reply_id, author_id)
    store = SqliteStore(path)
    await store.open()
    try:
        post = await store.get_post(post_id)
        assert (post.board, post.status, post.created_at) == ("lawyer", Status.ANSWERED, T0)
        assert all(getattr(post, name) is None for name in CASE_FIELDS)
        assert await store.get_post_by_tracking("old-hash") == post
        assert [
            p.id
            for p in await store.list_posts(
                PostFilter(boards=("lawyer",), reopened=False, created_from=T0), None, 5
            )
        ] == [post_id]
        assert await store.list_posts(PostFilter(due_before=T0), None, 5) == []
        assert ids(await store.list_posts(PostFilter(overdue_noted=False), None, 5)) == [post_id]
        assert await store.list_posts(PostFilter(overdue_noted=True), None, 5) == []

        # The new columns take values, and the new tables work, on the upgraded file.
        later = T0 + dt.timedelta(days=1)
        changes = {
            "closed_at": later,
            "status_note": "已办结",
            "received_on": "2026-11-28",
            "overdue_since": later,
        }
        assert await store.update_post(post_id, changes) == dataclasses.replace(post, **changes)
        assert ids(await store.list_posts(PostFilter(overdue_noted=True), None, 5)) == [post_id]
        with pytest.raises(Conflict):
            await store.update_post(
                post_id, {"status": Status.CLOSED}, expect={"status": Status.OPEN}
            )
        attachment = make_attachment(post_id, b"scan")
        await store.add_attachment(attachment, b"scan")
        assert await store.get_attachment(attachment.id) == (attachment, b"scan")
        await store.put_setting("calendar", {"holidays": []})
        assert await store.get_setting("calendar") == {"holidays": []}
        flag = Flag(new_id(), post_id, author_id, "广告", T0)
        await store.add_flag(flag)
        assert await store.list_open_flags(None, 5) == [flag]
        assert await store.close_flags(post_id) == 1
    finally:
        await store.close()
    assert user_version(path) == len(MIGRATIONS)
    assert index_columns(path, "posts_status_overdue") == ["status", "overdue_since"]


@pytest.mark.parametrize("version", [1, NOTIFICATIONS_VERSION - 1])
@pytest.mark.gen_test
async def test_users_of_an_older_version_read_as_unconfirmed_and_notifications_and_mail_work(
    tmp_path, version
):
    path = str(tmp_path / "forum.db")
    post_id, reply_id, author_id = new_id(), new_id(), new_id()
    build_version(path, version, post_id, reply_id, author_id)
    store = SqliteStore(path)
    await store.open()
    try:
        user = await store.get_user(author_id)
        assert user.username == "lawyer" and user.email_confirmed is False
        await store.update_user(author_id, {"email_confirmed": True})
        assert await store.get_user(author_id) == dataclasses.replace(user, email_confirmed=True)

        notification = Notification(new_id(), author_id, "answer", post_id, "您的咨询有了答复", T0)
        await store.add_notifications([notification])
        assert await store.list_notifications(author_id, None, 5) == [notification]
        assert await store.count_unread(author_id) == 1
        assert await store.mark_read(author_id, None) == 1
        assert await store.count_unread(author_id) == 0

        mail = Mail(new_id(), "lawyer@example.org", "答复", "请登录查看", T0, next_attempt_at=T0)
        await store.enqueue_mail(mail)
        assert await store.claim_mail(T0, T0 + dt.timedelta(minutes=5), 5) == [mail]
        assert await store.count_mail_waiting() == 1
        await store.open()  # opening again leaves the upgraded file as it is
    finally:
        await store.close()
    assert user_version(path) == len(MIGRATIONS)
    assert index_columns(path, "notifications_user") == ["user_id", "created_at", "id"]
    assert index_columns(path, "notifications_unread") == ["user_id", "read"]
    assert index_columns(path, "mail_due") == ["next_attempt_at"]


# The version that added the search index.
SEARCH_VERSION = 5


@pytest.mark.gen_test
async def test_posts_of_a_version_4_database_can_be_indexed_and_found(tmp_path):
    path = str(tmp_path / "forum.db")
    post_id, reply_id, author_id = new_id(), new_id(), new_id()
    build_version(path, SEARCH_VERSION - 1, post_id, reply_id, author_id)
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.search_posts(["标题"], [PostFilter()], 0, 5) == []  # none indexed yet
        await store.index_post(post_id, ["标题", "正文"])
        (hit,) = await store.search_posts(["正文"], [PostFilter(board="lawyer")], 0, 5)
        assert hit.post == await store.get_post(post_id)
        await store.index_post(post_id, ["新"])
        assert await store.search_posts(["标题"], [PostFilter()], 0, 5) == []
        await store.open()  # opening again leaves the index as it is
        assert len(await store.search_posts(["新"], [PostFilter()], 0, 5)) == 1
    finally:
        await store.close()
    assert user_version(path) == len(MIGRATIONS)


# The version that added the API keys of Open311 clients.
API_KEYS_VERSION = 8


@pytest.mark.gen_test
async def test_a_version_7_database_gains_the_api_keys(tmp_path):
    path = str(tmp_path / "forum.db")
    before = API_KEYS_VERSION - 1
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(
            f"BEGIN; {'; '.join(MIGRATIONS[:before])}; PRAGMA user_version = {before}; COMMIT;"
        )
    finally:
        conn.close()
    store = SqliteStore(path)
    await store.open()
    try:
        key = make_api_key()
        await store.add_api_key(key)
        assert await store.get_api_key_by_hash(key.key_hash) == key
        with pytest.raises(Conflict):  # the hash is unique
            await store.add_api_key(make_api_key(key_hash=key.key_hash))
    finally:
        await store.close()
    assert user_version(path) == len(MIGRATIONS)
    assert index_columns(path, "api_keys_time") == ["created_at", "id"]
