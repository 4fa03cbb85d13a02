"""What the stores hold, beside the Store protocol (base.py, which re-exports all of it): the
kinds of record a backup carries and in what order, the keys lists are paged by, the fields a
post update may change, and what open() refuses."""

from __future__ import annotations

import datetime as dt

from forum.model import (
    ApiKey,
    Attachment,
    AuditEntry,
    BoardSettings,
    Department,
    Event,
    FaqEntry,
    Flag,
    Mail,
    Notification,
    Post,
    Reply,
    ReplyTemplate,
    Revision,
    Setting,
    Subscription,
    User,
)


class StoreRefused(Exception):
    """open() will not serve this database as it is: not this forum's, damaged, or of a schema
    newer than the code. The message is one line telling an operator what was found and what
    to do; open() raises it before it writes anything."""


def newer_schema(where: str, found: int, known: int) -> StoreRefused:
    return StoreRefused(
        f"{where} has schema version {found}, newer than this code's {known}: run the code "
        f"that wrote it (or newer), or restore a backup into a fresh database"
    )


# The code of the Conflict add_attachments raises when the files would pass the post's cap.
TOO_MANY_FILES = "too_many_files"

# (created_at, id) of the last record of a page: lists are ordered by this pair.
PostKey = tuple[dt.datetime, str]
ReplyKey = tuple[dt.datetime, str]
AuditKey = tuple[dt.datetime, str]
FaqKey = tuple[dt.datetime, str]

# Fields of a post that update_post may change; id, board, author and created_at never change.
POST_CHANGEABLE = frozenset(
    {
        "title",
        "body",
        "html",
        "status",
        "category",
        "updated_at",
        "accepted_reply_id",
        "pinned",
        "locked",
        "public",
        "contact",
        "department",
        "due_at",
        "reopened",
        "rating",
        "anonymous",
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
        "letter_type",
        "area",
        "real_name",
        "helpers",
        "officer_id",
        "extension_status",
        "extension_days",
        "extension_reason",
        "extended",
        "reminded_at",
        "supervised",
        "supervised_at",
        "merged_into",
        "ratings",
    }
)


# Every kind of record a backup holds (export_records, import_records), by the name of its table
# or collection, with its record class, in an order that restores safely: what a record refers
# to comes before it. Attachments are descriptions here; their bytes go with add_attachment.
RECORD_KINDS: dict[str, type] = {
    "departments": Department,
    "boards": BoardSettings,
    "users": User,
    "api_keys": ApiKey,
    "posts": Post,
    "replies": Reply,
    "revisions": Revision,
    "events": Event,
    "flags": Flag,
    "attachments": Attachment,
    "audit": AuditEntry,
    "notifications": Notification,
    "mail": Mail,
    "settings": Setting,
    "subscriptions": Subscription,
    "templates": ReplyTemplate,
    "faq": FaqEntry,
}
# Kept by the stores but left out of backups, being short-lived: sessions (logins, and the links
# that confirm an e-mail address; after a restore people sign in again and ask for a new link),
# rate-limit hits (a day's memory at most) and the answers kept for Idempotency-Key retries (a
# day too). The search index is left out too: restore rebuilds it from the posts.
TRANSIENT_KINDS = ("sessions", "hits", "idempotency")
# How long an Idempotency-Key is remembered: after this a key counts as new again.
IDEMPOTENCY_RETENTION = dt.timedelta(hours=24)


def importable_kind(kind: str) -> type:
    """The record class import_records takes for `kind`; attachments come with their bytes
    through add_attachment instead."""
    if kind not in RECORD_KINDS or kind == "attachments":
        raise ValueError(
            f"records of kind {kind!r} cannot be imported"
            + (" (attachments go with add_attachment)" if kind == "attachments" else "")
        )
    return RECORD_KINDS[kind]


def record_key(kind: str) -> str:
    """The field that identifies a record of `kind`: exports are ordered by it."""
    cls = RECORD_KINDS[kind]
    return "slug" if cls in (Department, BoardSettings) else "key" if cls is Setting else "id"
