"""The schema: the indexes each version adds, in order (MIGRATIONS), run by MongoStore.open."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Awaitable, Callable

from forum.model import iso
from forum.store.base import IDEMPOTENCY_RETENTION
from forum.store.codec import as_utc
from forum.store.mongo.documents import ATTACHMENTS

if TYPE_CHECKING:
    from pymongo.asynchronous.database import AsyncDatabase


HIT_RETENTION_SECONDS = 24 * 60 * 60


async def _create_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 1: every index the queries below rely on."""
    await db["users"].create_index("username_key", unique=True, name="username_key")
    await db["sessions"].create_index("user_id", name="user_id")
    posts = db["posts"]
    await posts.create_index(
        [("board", 1), ("pinned", 1), ("status", 1), ("created_at", -1), ("_id", -1)],
        name="board_list",
    )
    await posts.create_index([("author_id", 1), ("created_at", -1), ("_id", -1)], name="author")
    await posts.create_index(
        [("department", 1), ("status", 1), ("created_at", -1), ("_id", -1)], name="department"
    )
    # Partial, so the many posts without a tracking hash (stored as null) do not collide.
    await posts.create_index(
        "tracking_hash",
        unique=True,
        name="tracking_hash",
        partialFilterExpression={"tracking_hash": {"$type": "string"}},
    )
    for collection, time in (
        ("replies", "created_at"),
        ("revisions", "edited_at"),
        ("events", "at"),
    ):
        await db[collection].create_index([("post_id", 1), (time, 1), ("_id", 1)], name="post_time")
    await db["hits"].create_index([("key", 1), ("at", 1)], name="key_at")
    await db["hits"].create_index("at", expireAfterSeconds=HIT_RETENTION_SECONDS, name="expiry")


async def _answer_flag_audit_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 2: replies by author, flags (one open flag per reader and post), the audit log."""
    await db["replies"].create_index(
        [("author_id", 1), ("kind", 1), ("created_at", -1), ("_id", -1)], name="author_kind_time"
    )
    flags = db["flags"]
    await flags.create_index([("post_id", 1), ("created_at", 1), ("_id", 1)], name="post_time")
    # The index, not a read before the write, keeps a second open flag out; closed ones may pile.
    await flags.create_index(
        [("post_id", 1), ("user_id", 1)],
        unique=True,
        name="open_by_user",
        partialFilterExpression={"open": True},
    )
    audit = db["audit"]
    for name, keys in (
        ("actor_time", [("actor_id", 1)]),
        ("target_time", [("target", 1)]),
        ("time", []),
    ):
        await audit.create_index([*keys, ("at", -1), ("_id", -1)], name=name)


async def _case_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 3: case lists by status, due cases, the queue of open flags, attachments by post."""
    posts = db["posts"]
    await posts.create_index([("status", 1), ("created_at", 1), ("_id", 1)], name="status_time")
    await posts.create_index([("status", 1), ("due_at", 1)], name="status_due")
    await db["flags"].create_index([("open", 1), ("created_at", 1), ("_id", 1)], name="open_time")
    # GridFS makes its own indexes (files by name, chunks by file) on the first upload.
    await db[f"{ATTACHMENTS}.files"].create_index(
        [("metadata.post_id", 1), ("metadata.created_at", 1), ("_id", 1)], name="post_time"
    )


async def _overdue_index(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 4: the cases the periodic job has (or has not yet) noted as overdue, by status."""
    await db["posts"].create_index([("status", 1), ("overdue_since", 1)], name="status_overdue")


async def _search_index(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 5: posts by search term: a multikey index over each post's `terms` array.

    An array of the terms forum/search.py makes (jieba), not a text index: a text index
    segments with its own tokenizer, which does not cut Chinese into words (a whole run of
    Hanzi would be one word), and it has its own stemming and stop words. Over the same jieba
    terms, an array matches exactly what SQLite's FTS5 index over them matches."""
    await db["posts"].create_index("terms", name="terms")


async def _notification_mail_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 6: a person's notifications newest first and their unread count; the mail outbox
    by when each mail is next due. (Users stored earlier have no email_confirmed field and read
    as not confirmed.)"""
    notifications = db["notifications"]
    await notifications.create_index(
        [("user_id", 1), ("created_at", -1), ("_id", -1)], name="user_time"
    )
    await notifications.create_index([("user_id", 1), ("read", 1)], name="user_read")
    await db["mail"].create_index("next_attempt_at", name="next_attempt_at")


# Each step upgrades the schema by one version; the `meta` document {_id: "schema"} records how
# far a database is. Steps must be safe to run twice: two processes may start at the same time,
# and a crash may fall between a step and the bump of the version.
async def _user_department_index(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 7: staff of a department, found when a case is routed to it."""
    await db["users"].create_index([("department", 1), ("username_key", 1)], name="department_name")


async def _api_key_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 8: API keys an admin issues to other systems (Open311 clients), found by the
    SHA-256 of the key (unique) and listed newest first."""
    keys = db["api_keys"]
    await keys.create_index("key_hash", unique=True, name="key_hash")
    await keys.create_index([("created_at", -1), ("_id", -1)], name="time")


async def _idempotency_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 9: creates sent with an Idempotency-Key, one per caller and key (unique, which
    is what makes a claim atomic), removed by the server a day after they were made."""
    records = db["idempotency"]
    await records.create_index([("caller", 1), ("key", 1)], unique=True, name="caller_key")
    await records.create_index(
        "created_at", name="expiry", expireAfterSeconds=int(IDEMPOTENCY_RETENTION.total_seconds())
    )


async def _casework_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 10: casework of the second release: the cases a department helps with, the
    supervised ones that head the queue, the routed cases the reminder job has yet to remind.
    Cases stored earlier start their rating history from their one rating."""
    posts = db["posts"]
    await posts.create_index(
        [("helpers", 1), ("status", 1), ("created_at", -1), ("_id", -1)], name="helpers"
    )
    await posts.create_index(
        [("supervised", 1), ("status", 1), ("created_at", 1), ("_id", 1)], name="supervised"
    )
    await posts.create_index(
        [("status", 1), ("reminded_at", 1), ("due_at", 1)], name="status_reminded"
    )
    async for doc in posts.find(
        {"rating": {"$type": "string"}, "rated_at": {"$ne": None}, "ratings": {"$exists": False}}
    ):
        entry = {
            "at": iso(as_utc(doc["rated_at"])),
            "source": "rating",
            "score": doc["rating"],
            "comment": doc.get("rating_comment"),
            "department": doc.get("department"),
            "reached": None,
        }
        await posts.update_one(
            {"_id": doc["_id"], "ratings": {"$exists": False}}, {"$set": {"ratings": [entry]}}
        )


async def _subscription_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 11: who follows (关注) what: one per person and target (unique, which is what
    keeps a second out), a person's list newest first, a target's followers by person."""
    subscriptions = db["subscriptions"]
    await subscriptions.create_index(
        [("user_id", 1), ("target", 1)], unique=True, name="user_target"
    )
    await subscriptions.create_index(
        [("user_id", 1), ("created_at", -1), ("_id", -1)], name="user_time"
    )
    await subscriptions.create_index([("target", 1), ("user_id", 1)], name="target_user")


async def _template_faq_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Version 12: departments' reply templates newest first per department; knowledge-base
    entries newest first per board and across boards, and by the post each was made from."""
    await db["templates"].create_index(
        [("department", 1), ("created_at", -1), ("_id", -1)], name="department_time"
    )
    faq = db["faq"]
    await faq.create_index([("board", 1), ("created_at", -1), ("_id", -1)], name="board_time")
    await faq.create_index([("created_at", -1), ("_id", -1)], name="time")
    await faq.create_index("post_id", name="post_id")


MIGRATIONS: list[Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[None]]] = [
    _create_indexes,
    _answer_flag_audit_indexes,
    _case_indexes,
    _overdue_index,
    _search_index,
    _notification_mail_indexes,
    _user_department_index,
    _api_key_indexes,
    _idempotency_indexes,
    _casework_indexes,
    _subscription_indexes,
    _template_faq_indexes,
]
