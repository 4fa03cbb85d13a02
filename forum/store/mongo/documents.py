"""Records as MongoDB documents, and the query pieces the record families share."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, TypeVar

from bson import ObjectId

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
    PostFilter,
    Reply,
    ReplyTemplate,
    Revision,
    Session,
    Setting,
    Subscription,
    User,
)
from forum.store.base import POST_CHANGEABLE
from forum.store.shared import POST_EQUALITY_FIELDS
from forum.store.codec import from_plain, plain_changes, to_plain

T = TypeVar("T")

# The GridFS bucket of attachments: each file's _id is the attachment's id and its `metadata` the
# rest of the description, in the collection "attachments.files"; the bytes in "attachments.chunks".
ATTACHMENTS = "attachments"

# Which field of each record becomes its document's _id. Ids are stored as ObjectIds (smaller
# and ordered by creation); references to them (author_id, post_id, ...) stay strings.
ID_FIELDS: dict[type, str] = {
    User: "id",
    Post: "id",
    Reply: "id",
    Revision: "id",
    Event: "id",
    Flag: "id",
    AuditEntry: "id",
    Notification: "id",
    Mail: "id",
    Department: "slug",
    BoardSettings: "slug",
    Session: "token_hash",
    ApiKey: "id",
    Setting: "key",
    Subscription: "id",
    ReplyTemplate: "id",
    FaqEntry: "id",
}


def _to_doc(record: Any) -> dict[str, Any]:
    doc = to_plain(record)
    field = ID_FIELDS[type(record)]
    key = doc.pop(field)
    doc["_id"] = ObjectId(key) if field == "id" else key
    return doc


def _from_doc(cls: type[T], doc: dict[str, Any]) -> T:
    data = dict(doc)
    key = data.pop("_id")
    data[ID_FIELDS[cls]] = str(key) if isinstance(key, ObjectId) else key
    return from_plain(cls, data)


def _attachment(file_id: ObjectId, metadata: dict[str, Any]) -> Attachment:
    """The description of a GridFS file of the attachments bucket."""
    return from_plain(Attachment, {**metadata, "id": str(file_id)})


def _oid(record_id: str) -> ObjectId | str:
    """The _id to look for. A malformed id stays a string, which matches no document, so a lookup
    answers "not found" as SQLite does instead of failing."""
    return ObjectId(record_id) if ObjectId.is_valid(record_id) else record_id


def _post_update(changes: dict[str, Any]) -> dict[str, Any]:
    """The update document for `changes` to a post ({} for none: $set may not be empty)."""
    values = plain_changes(changes)
    unknown = set(values) - POST_CHANGEABLE
    if unknown:
        raise ValueError(f"posts cannot change {sorted(unknown)}")
    return {"$set": values} if values else {}


def _given(values: dict[str, Any]) -> dict[str, Any]:
    """An equality query on each value given (None sets no condition)."""
    return {field: value for field, value in values.items() if value is not None}


def _post_query(where: PostFilter) -> dict[str, Any]:
    """The query for a PostFilter (list_posts and the counts)."""
    # Per field, every condition given; several on one field (board and boards, a time range)
    # must all hold.
    query: dict[str, dict[str, Any]] = {}

    def require(field: str, operator: str, operand: Any) -> None:
        if operand is not None:
            query.setdefault(field, {})[operator] = operand

    for field in POST_EQUALITY_FIELDS:
        require(field, "$eq", getattr(where, field))
    require("helpers", "$eq", where.helper)  # an array field: matches any of its items
    # An empty tuple matches nothing, as in SQLite.
    statuses = None if where.statuses is None else [status.value for status in where.statuses]
    for field, values in (
        ("status", statuses),
        ("category", where.categories),
        ("board", where.boards),
    ):
        require(field, "$in", None if values is None else list(values))
    # $lt on a date matches dates only, so a post whose due_at is null never passes due_before.
    require("created_at", "$gte", where.created_from)
    require("created_at", "$lt", where.created_before)
    require("due_at", "$lt", where.due_before)
    require("due_at", "$gte", where.due_from)
    # Null matches a missing field too, so posts stored before the field existed count as not
    # noted, as their NULL column does in SQLite. (require() would skip a None operand.)
    for field, given in (("overdue_since", where.overdue_noted), ("reminded_at", where.reminded)):
        if given is not None:
            query.setdefault(field, {})["$ne" if given else "$eq"] = None
    return query


def _keyset(
    query: dict[str, Any], time: str, after: tuple[dt.datetime, str] | None, ascending: bool
) -> dict[str, Any]:
    """`query` narrowed to the records strictly after the key `after` in (time, _id) order."""
    if after is None:
        return query
    at, last_id = after
    beyond = "$gt" if ascending else "$lt"
    return {**query, "$or": [{time: {beyond: at}}, {time: at, "_id": {beyond: _oid(last_id)}}]}


assert {f.name for f in dataclasses.fields(Post)} >= POST_CHANGEABLE
