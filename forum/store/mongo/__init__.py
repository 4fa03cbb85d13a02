"""The scale-out store: MongoDB through PyMongo's async client.

Writes are acknowledged only once a majority of the replica set has them in its journal, and reads
ask for majority-committed data, so an acknowledged write survives a failover. Changes that touch
several documents run in one transaction where the server has them (replica set or mongos); on a
standalone server they run in an order that a crash leaves consistent.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import functools
import inspect
from typing import TYPE_CHECKING, Any, AsyncGenerator, AsyncIterator, Awaitable, Callable, TypeVar

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import FileExists, NoFile
from pymongo import AsyncMongoClient, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from forum.model import (ApiKey, Attachment, AuditEntry, BoardSettings, Department, Event,
                         FaqEntry, Flag, IdempotencyRecord, Mail, Notification, Post, PostFilter,
                         Reply, ReplyKind, ReplyStats, ReplyTemplate, Revision, Role, SearchHit,
                         SearchRank, Session, Setting, Subscription, User, iso)
from forum.store.base import (IDEMPOTENCY_RETENTION, POST_CHANGEABLE, RECORD_KINDS,
                              TOO_MANY_FILES, AuditKey, Conflict, FaqKey, NotFound, PostKey,
                              ReplyKey,
                              StoreUnavailable, importable_kind, newer_schema)
from forum.store.codec import as_utc, from_plain, plain_changes, to_plain

if TYPE_CHECKING:
    from pymongo.asynchronous.client_session import AsyncClientSession
    from pymongo.asynchronous.database import AsyncDatabase

T = TypeVar("T")

DEFAULT_DATABASE = "forum"
DURABLE = WriteConcern("majority", j=True)
MAJORITY = ReadConcern("majority")
HIT_RETENTION_SECONDS = 24 * 60 * 60
SEARCH_CANDIDATES = 500  # per term; see search_posts
BULK_BATCH = 5000        # posts per insert_many of add_posts_bulk (well under 48 MB a message)
DUPLICATE_KEY = 11000    # the server's error code for a taken unique key
# The GridFS bucket of attachments: each file's _id is the attachment's id and its `metadata` the
# rest of the description, in the collection "attachments.files"; the bytes in "attachments.chunks".
ATTACHMENTS = "attachments"
# A post document's count of attachment places taken (see _take_attachment_places); no field of
# the Post record, so reads of posts leave it out.
ATTACHMENT_PLACES = "attachment_places"

# Which field of each record becomes its document's _id. Ids are stored as ObjectIds (smaller
# and ordered by creation); references to them (author_id, post_id, ...) stay strings.
ID_FIELDS: dict[type, str] = {
    User: "id", Post: "id", Reply: "id", Revision: "id", Event: "id", Flag: "id", AuditEntry: "id",
    Notification: "id", Mail: "id", Department: "slug", BoardSettings: "slug",
    Session: "token_hash", ApiKey: "id", Setting: "key", Subscription: "id",
    ReplyTemplate: "id", FaqEntry: "id",
}


# schema ------------------------------------------------------------------------------------
async def _create_indexes(db: AsyncDatabase) -> None:
    """Version 1: every index the queries below rely on."""
    await db["users"].create_index("username_key", unique=True, name="username_key")
    await db["sessions"].create_index("user_id", name="user_id")
    posts = db["posts"]
    await posts.create_index([("board", 1), ("pinned", 1), ("status", 1), ("created_at", -1),
                              ("_id", -1)], name="board_list")
    await posts.create_index([("author_id", 1), ("created_at", -1), ("_id", -1)], name="author")
    await posts.create_index([("department", 1), ("status", 1), ("created_at", -1), ("_id", -1)],
                             name="department")
    # Partial, so the many posts without a tracking hash (stored as null) do not collide.
    await posts.create_index("tracking_hash", unique=True, name="tracking_hash",
                             partialFilterExpression={"tracking_hash": {"$type": "string"}})
    for collection, time in (("replies", "created_at"), ("revisions", "edited_at"),
                             ("events", "at")):
        await db[collection].create_index([("post_id", 1), (time, 1), ("_id", 1)],
                                          name="post_time")
    await db["hits"].create_index([("key", 1), ("at", 1)], name="key_at")
    await db["hits"].create_index("at", expireAfterSeconds=HIT_RETENTION_SECONDS, name="expiry")


async def _answer_flag_audit_indexes(db: AsyncDatabase) -> None:
    """Version 2: replies by author, flags (one open flag per reader and post), the audit log."""
    await db["replies"].create_index([("author_id", 1), ("kind", 1), ("created_at", -1),
                                      ("_id", -1)], name="author_kind_time")
    flags = db["flags"]
    await flags.create_index([("post_id", 1), ("created_at", 1), ("_id", 1)], name="post_time")
    # The index, not a read before the write, keeps a second open flag out; closed ones may pile.
    await flags.create_index([("post_id", 1), ("user_id", 1)], unique=True, name="open_by_user",
                             partialFilterExpression={"open": True})
    audit = db["audit"]
    for name, keys in (("actor_time", [("actor_id", 1)]), ("target_time", [("target", 1)]),
                       ("time", [])):
        await audit.create_index([*keys, ("at", -1), ("_id", -1)], name=name)


async def _case_indexes(db: AsyncDatabase) -> None:
    """Version 3: case lists by status, due cases, the queue of open flags, attachments by post."""
    posts = db["posts"]
    await posts.create_index([("status", 1), ("created_at", 1), ("_id", 1)], name="status_time")
    await posts.create_index([("status", 1), ("due_at", 1)], name="status_due")
    await db["flags"].create_index([("open", 1), ("created_at", 1), ("_id", 1)], name="open_time")
    # GridFS makes its own indexes (files by name, chunks by file) on the first upload.
    await db[f"{ATTACHMENTS}.files"].create_index(
        [("metadata.post_id", 1), ("metadata.created_at", 1), ("_id", 1)], name="post_time")


async def _overdue_index(db: AsyncDatabase) -> None:
    """Version 4: the cases the periodic job has (or has not yet) noted as overdue, by status."""
    await db["posts"].create_index([("status", 1), ("overdue_since", 1)], name="status_overdue")


async def _search_index(db: AsyncDatabase) -> None:
    """Version 5: posts by search term: a multikey index over each post's `terms` array.

    An array of the terms forum/search.py makes (jieba), not a text index: a text index
    segments with its own tokenizer, which does not cut Chinese into words (a whole run of
    Hanzi would be one word), and it has its own stemming and stop words. Over the same jieba
    terms, an array matches exactly what SQLite's FTS5 index over them matches."""
    await db["posts"].create_index("terms", name="terms")


async def _notification_mail_indexes(db: AsyncDatabase) -> None:
    """Version 6: a person's notifications newest first and their unread count; the mail outbox
    by when each mail is next due. (Users stored earlier have no email_confirmed field and read
    as not confirmed.)"""
    notifications = db["notifications"]
    await notifications.create_index([("user_id", 1), ("created_at", -1), ("_id", -1)],
                                     name="user_time")
    await notifications.create_index([("user_id", 1), ("read", 1)], name="user_read")
    await db["mail"].create_index("next_attempt_at", name="next_attempt_at")


# Each step upgrades the schema by one version; the `meta` document {_id: "schema"} records how
# far a database is. Steps must be safe to run twice: two processes may start at the same time,
# and a crash may fall between a step and the bump of the version.
async def _user_department_index(db: AsyncDatabase) -> None:
    """Version 7: staff of a department, found when a case is routed to it."""
    await db["users"].create_index([("department", 1), ("username_key", 1)],
                                   name="department_name")


async def _api_key_indexes(db: AsyncDatabase) -> None:
    """Version 8: API keys an admin issues to other systems (Open311 clients), found by the
    SHA-256 of the key (unique) and listed newest first."""
    keys = db["api_keys"]
    await keys.create_index("key_hash", unique=True, name="key_hash")
    await keys.create_index([("created_at", -1), ("_id", -1)], name="time")


async def _idempotency_indexes(db: AsyncDatabase) -> None:
    """Version 9: creates sent with an Idempotency-Key, one per caller and key (unique, which
    is what makes a claim atomic), removed by the server a day after they were made."""
    records = db["idempotency"]
    await records.create_index([("caller", 1), ("key", 1)], unique=True, name="caller_key")
    await records.create_index("created_at", name="expiry",
                               expireAfterSeconds=int(IDEMPOTENCY_RETENTION.total_seconds()))


async def _casework_indexes(db: AsyncDatabase) -> None:
    """Version 10: casework of the second release: the cases a department helps with, the
    supervised ones that head the queue, the routed cases the reminder job has yet to remind.
    Cases stored earlier start their rating history from their one rating."""
    posts = db["posts"]
    await posts.create_index([("helpers", 1), ("status", 1), ("created_at", -1), ("_id", -1)],
                             name="helpers")
    await posts.create_index([("supervised", 1), ("status", 1), ("created_at", 1), ("_id", 1)],
                             name="supervised")
    await posts.create_index([("status", 1), ("reminded_at", 1), ("due_at", 1)],
                             name="status_reminded")
    async for doc in posts.find({"rating": {"$type": "string"}, "rated_at": {"$ne": None},
                                 "ratings": {"$exists": False}}):
        entry = {"at": iso(as_utc(doc["rated_at"])),
                 "source": "rating", "score": doc["rating"],
                 "comment": doc.get("rating_comment"), "department": doc.get("department"),
                 "reached": None}
        await posts.update_one({"_id": doc["_id"], "ratings": {"$exists": False}},
                               {"$set": {"ratings": [entry]}})


async def _subscription_indexes(db: AsyncDatabase) -> None:
    """Version 11: who follows (关注) what: one per person and target (unique, which is what
    keeps a second out), a person's list newest first, a target's followers by person."""
    subscriptions = db["subscriptions"]
    await subscriptions.create_index([("user_id", 1), ("target", 1)], unique=True,
                                     name="user_target")
    await subscriptions.create_index([("user_id", 1), ("created_at", -1), ("_id", -1)],
                                     name="user_time")
    await subscriptions.create_index([("target", 1), ("user_id", 1)], name="target_user")


async def _template_faq_indexes(db: AsyncDatabase) -> None:
    """Version 12: departments' reply templates newest first per department; knowledge-base
    entries newest first per board and across boards, and by the post each was made from."""
    await db["templates"].create_index([("department", 1), ("created_at", -1), ("_id", -1)],
                                       name="department_time")
    faq = db["faq"]
    await faq.create_index([("board", 1), ("created_at", -1), ("_id", -1)], name="board_time")
    await faq.create_index([("created_at", -1), ("_id", -1)], name="time")
    await faq.create_index("post_id", name="post_id")


MIGRATIONS: list[Callable[[AsyncDatabase], Awaitable[None]]] = [
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


# documents ---------------------------------------------------------------------------------
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


# Collections prepare_store fills on every start; a store holding nothing else counts as empty.
SEEDED_COLLECTIONS = frozenset({"departments", "boards"})
# Snapshot reads (export_records) came with MongoDB 5.0, wire version 13.
SNAPSHOT_WIRE_VERSION = 13


def _kept_collection(name: str) -> bool:
    """Whether wipe() and is_empty() leave a collection alone: the schema version (meta) and the
    server's own."""
    return name == "meta" or name.startswith("system.")


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

    for field in ("board", "category", "author_id", "department", "pinned", "reopened",
                  "public", "supervised", "extension_status", "officer_id"):
        require(field, "$eq", getattr(where, field))
    require("helpers", "$eq", where.helper)  # an array field: matches any of its items
    # An empty tuple matches nothing, as in SQLite.
    statuses = None if where.statuses is None else [status.value for status in where.statuses]
    for field, values in (("status", statuses), ("category", where.categories),
                          ("board", where.boards)):
        require(field, "$in", None if values is None else list(values))
    # $lt on a date matches dates only, so a post whose due_at is null never passes due_before.
    require("created_at", "$gte", where.created_from)
    require("created_at", "$lt", where.created_before)
    require("due_at", "$lt", where.due_before)
    require("due_at", "$gte", where.due_from)
    # Null matches a missing field too, so posts stored before the field existed count as not
    # noted, as their NULL column does in SQLite. (require() would skip a None operand.)
    for field, given in (("overdue_since", where.overdue_noted),
                         ("reminded_at", where.reminded)):
        if given is not None:
            query.setdefault(field, {})["$ne" if given else "$eq"] = None
    return query


def _expected(expect: dict[str, Any] | None) -> dict[str, Any]:
    values = plain_changes(expect or {})
    unknown = set(values) - POST_CHANGEABLE - {"status"}
    if unknown:
        raise ValueError(f"posts cannot be matched on {sorted(unknown)}")
    return values


def _keyset(query: dict[str, Any], time: str, after: tuple[dt.datetime, str] | None,
            ascending: bool) -> dict[str, Any]:
    """`query` narrowed to the records strictly after the key `after` in (time, _id) order."""
    if after is None:
        return query
    at, last_id = after
    beyond = "$gt" if ascending else "$lt"
    return {**query, "$or": [{time: {beyond: at}}, {time: at, "_id": {beyond: _oid(last_id)}}]}


def _report_unavailable(cls: type[T]) -> type[T]:
    """Wrap every public coroutine method so that an unreachable server surfaces as
    StoreUnavailable (503) rather than a driver exception the services do not know."""
    def guarded(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            # ServerSelectionTimeoutError and AutoReconnect are kinds of ConnectionFailure. The
            # driver's text names hosts and topology: it stays in the cause, for the log, and
            # never becomes the message a client is shown.
            except ConnectionFailure as exc:
                raise StoreUnavailable() from exc
        return call

    # dir(), not vars(): the methods the class inherits (the store is assembled from a class per
    # record family) are wrapped on it too.
    for name in dir(cls):
        member = getattr(cls, name)
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, guarded(member))
    return cls


@dataclasses.dataclass
class _Unit:
    """An open unit of work: its session, and whether it wrote anything pages show."""
    session: Any
    content: bool = False
    auth: bool = False  # whether it changed who a login is (see AUTH_WRITES)


# Collection methods that take a session: inside a unit of work every one of them gets its.
SESSION_METHODS = frozenset({
    "find", "find_one", "insert_one", "insert_many", "update_one", "update_many", "replace_one",
    "delete_one", "delete_many", "find_one_and_update", "find_one_and_delete",
    "find_one_and_replace", "aggregate", "count_documents", "bulk_write", "distinct",
})


class _InSession:
    """A database or collection whose reads and writes carry one session (a caller that names
    a session itself keeps its own; one that passes None gets the unit's)."""

    def __init__(self, target: Any, session: Any):
        self._target, self._session = target, session

    def __getitem__(self, name: str) -> _InSession:
        return _InSession(self._target[name], self._session)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if name not in SESSION_METHODS:
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("session") is None:  # helpers pass session=None outside transactions
                kwargs["session"] = self._session
            return attribute(*args, **kwargs)
        return call


# The writes that may change what pages show: each moves the content version on (see
# MongoStore.content_version) once it is done. Bookkeeping (sessions, hits, notifications, mail,
# audit, API keys) is left out: no page shared between readers shows it.
CONTENT_WRITES = frozenset({
    "ensure_departments", "add_department", "ensure_boards", "save_board", "add_user",
    "update_user", "add_post", "add_posts_bulk", "update_post", "add_reply", "accept_reply",
    "add_flag", "close_flags", "add_attachment", "add_attachments", "put_setting", "index_post",
    "index_posts", "import_records", "add_template", "delete_template", "add_faq", "delete_faq",
    "wipe"})


# The writes that change who a login is (an account's roles, state or password, a session's
# end): each moves the auth version on (see MongoStore.auth_version), as content writes do theirs.
AUTH_WRITES = frozenset({"update_user", "delete_session", "delete_user_sessions", "take_session",
                         "wipe"})


def _moves_content_version(cls: type[T]) -> type[T]:
    def bumping(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        content, auth = method.__name__ in CONTENT_WRITES, method.__name__ in AUTH_WRITES

        @functools.wraps(method)
        async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            unit = self._unit.get()
            if unit is not None:
                # Moved on once, when the unit has committed.
                unit.content, unit.auth = unit.content or content, unit.auth or auth
                return await method(self, *args, **kwargs)
            try:
                return await method(self, *args, **kwargs)
            finally:
                # After the write, and also when it failed part way: a reader that saw the
                # version before it can only have cached what it read before it, and a
                # number moved on for nothing costs one page rendered again.
                await self._bump_versions(content=content, auth=auth)
        return call

    for name in CONTENT_WRITES | AUTH_WRITES:  # getattr: inherited methods as well
        setattr(cls, name, bumping(getattr(cls, name)))
    return cls


@_report_unavailable
@_moves_content_version
class MongoStore:
    kind = "mongodb"

    def __init__(self, url: str, *, database: str | None = None, client: Any = None,
                 gridfs_bucket: Callable[..., Any] = AsyncGridFSBucket):
        """`client` and `gridfs_bucket` (called like AsyncGridFSBucket) replace the driver's own
        for tests that run without a server."""
        # The async client connects on its first command, so building a store needs no server.
        self._client = client if client is not None else AsyncMongoClient(
            url, w="majority", journal=True, tz_aware=True)
        self.database_name = (database
                              or self._client.get_default_database(DEFAULT_DATABASE).name)
        # Set on the database, so every collection taken from it inherits both.
        self._database = self._client.get_database(self.database_name, write_concern=DURABLE,
                                                   read_concern=MAJORITY)
        self._attachments = gridfs_bucket(self._database, bucket_name=ATTACHMENTS,
                                          write_concern=DURABLE)
        self._transactions = False  # known after open()
        # The unit of work open in this context (see transaction).
        self._unit: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar(
            f"mongo-unit-{id(self)}", default=None)

    @property
    def _db(self) -> Any:
        """The database, its calls carrying the open unit of work's session when there is one,
        so every read and write inside the unit is part of its transaction."""
        unit = self._unit.get()
        return self._database if unit is None else _InSession(self._database, unit.session)

    # lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        self._transactions = await self._supports_transactions()
        meta = self._db["meta"]
        found = await meta.find_one({"_id": "schema"})
        version = found["version"] if found else 0
        if version > len(MIGRATIONS):
            raise newer_schema(f"the MongoDB database {self.database_name}", version,
                               len(MIGRATIONS))
        for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
            await step(self._db)
            # $max: a process that started on an older version never lowers the record.
            await meta.update_one({"_id": "schema"}, {"$max": {"version": number}}, upsert=True)

    async def _supports_transactions(self) -> bool:
        """Replica sets (setName) and mongos routers (msg "isdbgrid") run transactions; a
        standalone server does not. When the question cannot be asked, assume it does not."""
        try:
            hello = await self._client.admin.command("hello")
        except PyMongoError:
            return False
        return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"

    async def close(self) -> None:
        await self._client.close()

    async def ping(self) -> None:
        try:
            await self._client.admin.command("ping")
            for name in ("users", "posts"):  # one document of core collections: readable
                await self._database[name].find_one({}, {"_id": 1})
        except PyMongoError as exc:
            raise StoreUnavailable() from exc

    async def check(self) -> list[str]:
        problems = []
        for name in sorted(await self._database.list_collection_names()):
            found = await self._database.command({"validate": name})
            if not found.get("valid", False):
                problems += [f"{name}: {error}" for error in found.get("errors") or ["not valid"]]
        return problems

    async def content_version(self) -> int:
        found = await self._db["meta"].find_one({"_id": "content"})
        return found["version"] if found else 0

    async def auth_version(self) -> int:
        found = await self._db["meta"].find_one({"_id": "auth"})
        return found["version"] if found else 0

    async def _atomically(self, work: Callable[[AsyncClientSession | None], Awaitable[T]]) -> T:
        """Run `work` in one transaction where the server has them, else plainly (then `work`
        must order its writes so that a crash between two of them leaves nothing inconsistent).
        Inside a unit of work, `work` joins the unit's transaction."""
        unit = self._unit.get()
        if unit is not None:
            return await work(unit.session)
        if not self._transactions:
            return await work(None)
        async with self._client.start_session() as session:
            # with_transaction retries on TransientTransactionError, which is what two replies
            # racing for one post's counter produce (a write conflict).
            return await session.with_transaction(work, read_concern=MAJORITY,
                                                  write_concern=DURABLE)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        if self._unit.get() is not None or not self._transactions:
            # Joins the unit already open; or, on a server without transactions (standalone,
            # or the in-process stand-in), lets each write apply as it is made, in order.
            yield
            return
        async with self._client.start_session() as session:
            unit = _Unit(session)
            token = self._unit.set(unit)
            try:
                async with await session.start_transaction(read_concern=MAJORITY,
                                                           write_concern=DURABLE):
                    yield
            except PyMongoError as exc:
                if exc.has_error_label("TransientTransactionError"):
                    # Another unit wrote one of the same documents first: this one lost.
                    raise Conflict(code="stale") from exc
                raise
            finally:
                self._unit.reset(token)
                await self._bump_versions(content=unit.content, auth=unit.auth)

    async def _bump_versions(self, *, content: bool, auth: bool) -> None:
        for name, moved in (("content", content), ("auth", auth)):
            if moved:
                await self._database["meta"].update_one({"_id": name},
                                                        {"$inc": {"version": 1}}, upsert=True)

    # departments and boards ------------------------------------------------------------------
    async def _insert_missing(self, collection: str, docs: list[dict[str, Any]]) -> None:
        if not docs:
            return
        # $setOnInsert leaves an existing document as it is, so an admin's edits survive and two
        # processes starting at once do not collide.
        await self._db[collection].bulk_write([
            UpdateOne({"_id": doc["_id"]},
                      {"$setOnInsert": {k: v for k, v in doc.items() if k != "_id"}}, upsert=True)
            for doc in docs], ordered=False)

    async def ensure_departments(self, departments: list[Department]) -> None:
        await self._insert_missing("departments", [_to_doc(d) for d in departments])

    async def add_department(self, department: Department) -> None:
        try:
            await self._db["departments"].insert_one(_to_doc(department))
        except DuplicateKeyError as exc:
            raise Conflict(code="department_taken") from exc

    async def list_departments(self) -> list[Department]:
        docs = await self._db["departments"].find().sort("_id", 1).to_list()
        return [_from_doc(Department, doc) for doc in docs]

    async def ensure_boards(self, boards: list[BoardSettings]) -> None:
        await self._insert_missing("boards", [_to_doc(b) for b in boards])

    async def list_boards(self) -> list[BoardSettings]:
        return [_from_doc(BoardSettings, doc) for doc in await self._db["boards"].find().to_list()]

    async def get_board(self, slug: str) -> BoardSettings | None:
        doc = await self._db["boards"].find_one({"_id": slug})
        return _from_doc(BoardSettings, doc) if doc else None

    async def save_board(self, board: BoardSettings) -> None:
        doc = _to_doc(board)
        result = await self._db["boards"].replace_one({"_id": doc["_id"]}, doc)
        if result.matched_count == 0:
            raise NotFound()

    # users and sessions ----------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        doc = _to_doc(user)
        doc["username_key"] = user.username.casefold()  # the unique index compares this
        try:
            await self._db["users"].insert_one(doc)
        except DuplicateKeyError as exc:
            raise Conflict(code="username_taken") from exc

    async def get_user(self, user_id: str) -> User | None:
        doc = await self._db["users"].find_one({"_id": _oid(user_id)})
        return _from_doc(User, doc) if doc else None

    async def get_user_by_name(self, username: str) -> User | None:
        doc = await self._db["users"].find_one({"username_key": username.casefold()})
        return _from_doc(User, doc) if doc else None

    async def get_users(self, user_ids: list[str]) -> dict[str, User]:
        if not user_ids:
            return {}
        cursor = self._db["users"].find({"_id": {"$in": [_oid(i) for i in set(user_ids)]}})
        users = [_from_doc(User, doc) for doc in await cursor.to_list()]
        return {user.id: user for user in users}

    async def update_user(self, user_id: str, changes: dict[str, Any]) -> None:
        values = plain_changes(changes)
        if "username" in values:
            values["username_key"] = values["username"].casefold()
        users = self._db["users"]
        if not values:  # an empty $set is an error on the server; still say whether they exist
            if await users.find_one({"_id": _oid(user_id)}, {"_id": 1}) is None:
                raise NotFound()
            return
        try:
            result = await users.update_one({"_id": _oid(user_id)}, {"$set": values})
        except DuplicateKeyError as exc:
            raise Conflict(code="username_taken") from exc
        if result.matched_count == 0:
            raise NotFound()

    async def find_users(self, prefix: str, after: str | None, limit: int) -> list[User]:
        if limit <= 0:  # limit(0) means "no limit" to MongoDB
            return []
        key = prefix.casefold()
        # The same range as SQLite's (so both answer alike), served by the username_key index.
        bounds: dict[str, Any] = {"$gte": key, "$lt": key + "\uffff"}
        if after is not None:
            bounds["$gt"] = after.casefold()
        cursor = self._db["users"].find({"username_key": bounds}).sort("username_key", 1)
        return [_from_doc(User, doc) for doc in await cursor.limit(limit).to_list()]

    async def list_users(self, *, role: Role | None, department: str | None,
                         limit: int) -> list[User]:
        if limit <= 0:  # limit(0) means "no limit" to MongoDB
            return []
        query: dict[str, Any] = {"disabled": False}
        if role is not None:
            query["roles"] = Role(role).value  # matches an element of the roles array
        if department is not None:
            query["department"] = department
        cursor = self._db["users"].find(query).sort("username_key", 1).limit(limit)
        return [_from_doc(User, doc) for doc in await cursor.to_list()]

    async def add_session(self, session: Session) -> None:
        await self._db["sessions"].insert_one(_to_doc(session))

    async def get_session(self, token_hash: str) -> Session | None:
        doc = await self._db["sessions"].find_one({"_id": token_hash})
        return _from_doc(Session, doc) if doc else None

    async def touch_session(self, token_hash: str, at: dt.datetime) -> None:
        await self._db["sessions"].update_one({"_id": token_hash},
                                              {"$set": {"last_seen_at": at}})

    async def delete_session(self, token_hash: str) -> None:
        await self._db["sessions"].delete_one({"_id": token_hash})

    async def delete_user_sessions(self, user_id: str) -> int:
        return (await self._db["sessions"].delete_many({"user_id": user_id})).deleted_count

    async def take_session(self, token_hash: str, kind: str) -> Session | None:
        # find_one_and_delete is atomic on one document: at most one caller gets it.
        doc = await self._db["sessions"].find_one_and_delete({"_id": token_hash, "kind": kind})
        return _from_doc(Session, doc) if doc else None

    # API keys --------------------------------------------------------------------------------
    async def add_api_key(self, key: ApiKey) -> None:
        try:
            await self._db["api_keys"].insert_one(_to_doc(key))
        except DuplicateKeyError as exc:  # the id or the key's hash is taken
            raise Conflict(code="key_taken") from exc

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        doc = await self._db["api_keys"].find_one({"key_hash": key_hash})
        return _from_doc(ApiKey, doc) if doc else None

    async def list_api_keys(self) -> list[ApiKey]:
        cursor = self._db["api_keys"].find().sort([("created_at", -1), ("_id", -1)])
        return [_from_doc(ApiKey, doc) for doc in await cursor.to_list()]

    async def revoke_api_key(self, key_id: str, at: dt.datetime) -> ApiKey:
        keys = self._db["api_keys"]
        # Only a key not yet revoked is changed (null matches a missing field too), so a second
        # revocation keeps the first one's time.
        doc = await keys.find_one_and_update({"_id": _oid(key_id), "revoked_at": None},
                                             {"$set": {"revoked_at": at}},
                                             return_document=ReturnDocument.AFTER)
        if doc is None:
            doc = await keys.find_one({"_id": _oid(key_id)})
        if doc is None:
            raise NotFound()
        return _from_doc(ApiKey, doc)

    # posts -----------------------------------------------------------------------------------
    async def _require_post(self, post_id: str, session: AsyncClientSession | None) -> None:
        if await self._db["posts"].find_one({"_id": _oid(post_id)}, {"_id": 1},
                                            session=session) is None:
            raise NotFound()

    async def _insert(self, collection: str, record: Any,
                      session: AsyncClientSession | None) -> None:
        if record is not None:
            await self._db[collection].insert_one(_to_doc(record), session=session)

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
                await self._db["posts"].insert_many(docs[first:first + BULK_BATCH], ordered=False)
            except BulkWriteError as exc:
                if any(error.get("code") == DUPLICATE_KEY
                       for error in exc.details.get("writeErrors", [])):
                    raise Conflict(code="already_exists") from exc
                raise

    async def get_post(self, post_id: str) -> Post | None:
        doc = await self._db["posts"].find_one({"_id": _oid(post_id)})
        return _from_doc(Post, doc) if doc else None

    async def get_post_by_tracking(self, tracking_hash: str) -> Post | None:
        # The $type repeats the partial filter of the tracking_hash index, so that the planner
        # may use that index.
        doc = await self._db["posts"].find_one(
            {"tracking_hash": {"$eq": tracking_hash, "$type": "string"}})
        return _from_doc(Post, doc) if doc else None

    async def list_posts(self, where: PostFilter, after: PostKey | None, limit: int, *,
                         oldest_first: bool = False) -> list[Post]:
        return await self._page(Post, "posts", "created_at", _post_query(where), after, limit,
                                ascending=oldest_first)

    async def count_posts_by_category(self, where: PostFilter) -> dict[str | None, int]:
        groups = await self._group("posts", _post_query(where), "$category", {"count": {"$sum": 1}})
        return {group["_id"]: group["count"] for group in groups}

    async def _page(self, cls: type[T], collection: str, time: str, query: dict[str, Any],
                    after: tuple[dt.datetime, str] | None, limit: int, *,
                    ascending: bool = False) -> list[T]:
        """Up to `limit` documents matching `query`, ordered by (time, _id), newest first unless
        `ascending`, strictly after the key `after` in that order."""
        if limit <= 0:  # limit(0) means "no limit" to MongoDB
            return []
        direction = 1 if ascending else -1
        cursor = (self._db[collection].find(_keyset(query, time, after, ascending))
                  .sort([(time, direction), ("_id", direction)]).limit(limit))
        return [_from_doc(cls, doc) for doc in await cursor.to_list()]

    async def _group(self, collection: str, match: dict[str, Any], key: str,
                     totals: dict[str, Any]) -> list[dict[str, Any]]:
        """One document per distinct value of `key` among those matching `match`: that value as
        _id, and the accumulators `totals`."""
        cursor = await self._db[collection].aggregate([{"$match": match},
                                                       {"$group": {"_id": key, **totals}}])
        return await cursor.to_list()

    async def _change_post(self, post_id: str, update: dict[str, Any], event: Event | None,
                           session: AsyncClientSession | None,
                           expect: dict[str, Any] | None = None) -> Post:
        """Apply `update` to the post, then record `event`; NotFound when the post is missing,
        Conflict (and nothing written) when `expect` is given and the post's fields no longer
        hold those values."""
        posts = self._db["posts"]
        # In the filter of the one write, so the server judges it as it writes: of two racing
        # callers only one still finds what it expects. (None matches null and absent fields.)
        query: dict[str, Any] = {**_expected(expect), "_id": _oid(post_id)}
        if update:
            doc = await posts.find_one_and_update(query, update,
                                                  return_document=ReturnDocument.AFTER,
                                                  session=session)
        else:  # an empty update document is an error on the server
            doc = await posts.find_one(query, session=session)
        if doc is None:
            if expect and await posts.find_one(
                    {"_id": _oid(post_id)}, {"_id": 1}, session=session) is not None:
                raise Conflict(code="stale")
            raise NotFound()
        await self._insert("events", event, session)
        return _from_doc(Post, doc)

    async def update_post(self, post_id: str, changes: dict[str, Any],
                          revision: Revision | None = None, event: Event | None = None, *,
                          expect: dict[str, Any] | None = None) -> Post:
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

    async def add_reply(self, reply: Reply, changes: dict[str, Any],
                        event: Event | None = None, *,
                        expect: dict[str, Any] | None = None, counted: bool = True) -> Post:
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

    async def accept_reply(self, post_id: str, reply_id: str, changes: dict[str, Any],
                           event: Event | None = None, *,
                           expect: dict[str, Any] | None = None) -> Post:
        update = _post_update(changes)

        async def write(session: AsyncClientSession | None) -> Post:
            await self._require_post(post_id, session)
            if await self._db["replies"].find_one({"_id": _oid(reply_id), "post_id": post_id},
                                                  {"_id": 1}, session=session) is None:
                raise NotFound()
            # The post first, conditionally: of two accepts at once only one finds the status
            # it expects, and the loser marks no reply. A crash before the reply is marked
            # leaves a post naming an unmarked reply, which the post's accepted_reply_id
            # still says correctly.
            post = await self._change_post(post_id, update, event, session, expect)
            await self._db["replies"].update_one({"_id": _oid(reply_id)},
                                                 {"$set": {"accepted": True}}, session=session)
            return post
        return await self._atomically(write)

    async def list_replies_by_author(self, author_id: str, kind: ReplyKind | None,
                                     after: ReplyKey | None, limit: int) -> list[Reply]:
        query: dict[str, Any] = {"author_id": author_id}
        if kind is not None:
            query["kind"] = kind.value
        return await self._page(Reply, "replies", "created_at", query, after, limit)

    async def reply_stats(self, author_id: str, kind: ReplyKind) -> ReplyStats:
        # Replies stored before version 2 have no `accepted` field; $cond counts them as not.
        groups = await self._group("replies", {"author_id": author_id, "kind": kind.value},
                                   "$board", {"total": {"$sum": 1}, "accepted": {
                                       "$sum": {"$cond": ["$accepted", 1, 0]}}})
        return ReplyStats(total=sum(group["total"] for group in groups),
                          accepted=sum(group["accepted"] for group in groups),
                          by_board={group["_id"]: group["total"] for group in groups
                                    if group["_id"] is not None})

    async def _children(self, cls: type[T], collection: str, time: str, post_id: str) -> list[T]:
        cursor = self._db[collection].find({"post_id": post_id}).sort([(time, 1), ("_id", 1)])
        return [_from_doc(cls, doc) for doc in await cursor.to_list()]

    async def list_replies(self, post_id: str) -> list[Reply]:
        return await self._children(Reply, "replies", "created_at", post_id)

    async def list_revisions(self, post_id: str) -> list[Revision]:
        return await self._children(Revision, "revisions", "edited_at", post_id)

    async def list_events(self, post_id: str) -> list[Event]:
        return await self._children(Event, "events", "at", post_id)

    # flags and audit -------------------------------------------------------------------------
    async def add_flag(self, flag: Flag) -> None:
        try:
            await self._insert("flags", flag, None)
        except DuplicateKeyError as exc:  # the open_by_user index: one open flag each
            raise Conflict(code="already_flagged") from exc

    async def list_flags(self, post_id: str) -> list[Flag]:
        return await self._children(Flag, "flags", "created_at", post_id)

    async def list_open_flags(self, after: tuple[dt.datetime, str] | None,
                              limit: int) -> list[Flag]:
        return await self._page(Flag, "flags", "created_at", {"open": True}, after, limit,
                                ascending=True)

    async def close_flags(self, post_id: str) -> int:
        result = await self._db["flags"].update_many({"post_id": post_id, "open": True},
                                                     {"$set": {"open": False}})
        return result.modified_count

    async def add_audit(self, entry: AuditEntry) -> None:
        await self._insert("audit", entry, None)

    async def list_audit(self, *, actor_id: str | None, target: str | None,
                         after: AuditKey | None, limit: int) -> list[AuditEntry]:
        return await self._page(AuditEntry, "audit", "at",
                                _given({"actor_id": actor_id, "target": target}), after, limit)

    # reply templates and the knowledge base ----------------------------------------------------
    async def add_template(self, template: ReplyTemplate) -> None:
        try:
            await self._insert("templates", template, None)
        except DuplicateKeyError as exc:
            raise Conflict(code="already_exists") from exc

    async def list_templates(self, department: str) -> list[ReplyTemplate]:
        cursor = self._db["templates"].find({"department": department}).sort(
            [("created_at", -1), ("_id", -1)])
        return [_from_doc(ReplyTemplate, doc) for doc in await cursor.to_list()]

    async def get_template(self, template_id: str) -> ReplyTemplate | None:
        doc = await self._db["templates"].find_one({"_id": _oid(template_id)})
        return _from_doc(ReplyTemplate, doc) if doc else None

    async def delete_template(self, template_id: str) -> bool:
        result = await self._db["templates"].delete_one({"_id": _oid(template_id)})
        return result.deleted_count > 0

    async def add_faq(self, entry: FaqEntry) -> None:
        try:
            await self._insert("faq", entry, None)
        except DuplicateKeyError as exc:
            raise Conflict(code="already_exists") from exc

    async def list_faq(self, board: str | None, after: FaqKey | None,
                       limit: int) -> list[FaqEntry]:
        return await self._page(FaqEntry, "faq", "created_at", _given({"board": board}), after,
                                limit)

    async def get_faq(self, entry_id: str) -> FaqEntry | None:
        doc = await self._db["faq"].find_one({"_id": _oid(entry_id)})
        return _from_doc(FaqEntry, doc) if doc else None

    async def delete_faq(self, entry_id: str) -> bool:
        result = await self._db["faq"].delete_one({"_id": _oid(entry_id)})
        return result.deleted_count > 0

    # attachments -----------------------------------------------------------------------------
    async def add_attachment(self, attachment: Attachment, data: bytes) -> None:
        await self._add_files(attachment.post_id, [(attachment, data)], None)

    async def add_attachments(self, post_id: str, items: list[tuple[Attachment, bytes]],
                              max_per_post: int | None) -> None:
        await self._add_files(post_id, items, max_per_post)

    async def _add_files(self, post_id: str, items: list[tuple[Attachment, bytes]],
                         max_per_post: int | None) -> None:
        await self._require_post(post_id, None)
        uploads = []
        for attachment, data in items:
            description = to_plain(attachment)
            uploads.append((ObjectId(description.pop("id")), attachment.filename, data,
                            description))
        file_ids = [file_id for file_id, *_ in uploads]
        # Asked before any chunk is written, as SQLite does: chunks uploaded under a taken id
        # would be read as part of the file that has it. FileExists still covers a race.
        if len(set(file_ids)) < len(file_ids) or await self._db[f"{ATTACHMENTS}.files"].find_one(
                {"_id": {"$in": file_ids}}, {"_id": 1}):
            raise Conflict(code="attachment_taken")
        if max_per_post is not None:
            await self._take_attachment_places(post_id, len(items), max_per_post)
        # GridFS writes each file's chunks first and its files document (which holds the
        # description) last: a crash in between leaves chunks nothing names, never a description
        # without its bytes. GridFS runs in no transaction, so neither would one help; a failure
        # part way deletes the files already written, for all or none.
        done: list[ObjectId] = []
        try:
            for file_id, filename, data, description in uploads:
                try:
                    await self._attachments.upload_from_stream_with_id(
                        file_id, filename, data, metadata=description)
                except FileExists as exc:
                    raise Conflict(code="attachment_taken") from exc
                done.append(file_id)
        except BaseException:
            for file_id in done:
                await self._attachments.delete(file_id)
            if max_per_post is not None:
                await self._db["posts"].update_one({"_id": _oid(post_id)},
                                                   {"$inc": {ATTACHMENT_PLACES: -len(items)}})
            raise
        if max_per_post is None:
            # Uncapped (a restore): the places, where counted already, still match the files.
            await self._db["posts"].update_one(
                {"_id": _oid(post_id), ATTACHMENT_PLACES: {"$exists": True}},
                {"$inc": {ATTACHMENT_PLACES: len(items)}})

    async def _take_attachment_places(self, post_id: str, count: int, most: int) -> None:
        """Count `count` more files against the post's places, or raise Conflict when they
        would pass `most`. One conditional update of the post's document, which MongoDB applies
        atomically on any deployment: uploads racing for the last places cannot both get them,
        where counting the files and then writing would let them. A crash between taking the
        places and storing the files leaves places no file fills: the post then takes fewer
        files than `most`, never more."""
        posts = self._db["posts"]
        # A post's first upload since the count was kept starts it from the files it has; of two
        # racing to start it, the $exists condition lets the first one alone set it.
        if (await posts.find_one({"_id": _oid(post_id)}, {ATTACHMENT_PLACES: 1})
                or {}).get(ATTACHMENT_PLACES) is None:
            kept = await self._db[f"{ATTACHMENTS}.files"].count_documents(
                {"metadata.post_id": post_id})
            await posts.update_one({"_id": _oid(post_id), ATTACHMENT_PLACES: {"$exists": False}},
                                   {"$set": {ATTACHMENT_PLACES: kept}})
        taken = await posts.update_one(
            {"_id": _oid(post_id), ATTACHMENT_PLACES: {"$lte": most - count}},
            {"$inc": {ATTACHMENT_PLACES: count}})
        if not taken.matched_count:
            raise Conflict(code=TOO_MANY_FILES)

    async def get_attachment(self, attachment_id: str) -> tuple[Attachment, bytes] | None:
        try:
            download = await self._attachments.open_download_stream(_oid(attachment_id))
        except NoFile:
            return None
        # _id is GridOut's public property for the file's id, whatever case the caller's had.
        return _attachment(download._id, download.metadata), await download.read()

    async def list_attachments(self, post_id: str) -> list[Attachment]:
        cursor = self._db[f"{ATTACHMENTS}.files"].find({"metadata.post_id": post_id}).sort(
            [("metadata.created_at", 1), ("_id", 1)])
        return [_attachment(doc["_id"], doc["metadata"]) for doc in await cursor.to_list()]

    # settings --------------------------------------------------------------------------------
    async def get_setting(self, key: str) -> Any:
        doc = await self._db["settings"].find_one({"_id": key})
        return doc["value"] if doc else None

    async def put_setting(self, key: str, value: Any) -> None:
        await self._db["settings"].update_one({"_id": key}, {"$set": {"value": value}},
                                              upsert=True)

    # search ----------------------------------------------------------------------------------
    async def index_post(self, post_id: str, terms: list[str]) -> None:
        # `terms` lives on the post's document (a Post has no such field; reading ignores it).
        # The other writes to a post $set their fields, so they keep it.
        # Repeats kept: a term given several times (a title's) weighs more in the ranking.
        kept = [term for term in terms if term]
        update = {"$set": {"terms": kept}} if kept else {"$unset": {"terms": ""}}
        result = await self._db["posts"].update_one({"_id": _oid(post_id)}, update)
        if result.matched_count == 0:
            raise NotFound()

    async def index_posts(self, entries: list[tuple[str, list[str]]]) -> None:
        latest = dict(entries)  # a post given twice gets its last terms, as in SQLite
        if not latest:
            return
        operations = []
        for post_id, terms in latest.items():
            kept = [term for term in terms if term]
            operations.append(UpdateOne({"_id": _oid(post_id)},
                                        {"$set": {"terms": kept}} if kept
                                        else {"$unset": {"terms": ""}}))
        # Unordered: each post's terms stand alone; a post that is not there matches nothing.
        await self._db["posts"].bulk_write(operations, ordered=False)

    async def search_posts(self, terms: list[str], where: list[PostFilter], offset: int,
                           limit: int) -> list[SearchHit]:
        wanted = list(dict.fromkeys(term for term in terms if term))
        if not wanted or not where or limit <= 0:
            return []
        # The terms are values to compare, never operators or field paths: $in takes them as
        # values, and $literal keeps one like "$ne" from being read as a field inside $filter.
        # Ranked as SQLite ranks: first by how many of the query's terms the post has, then by
        # how often they occur (a title's terms are stored several times, so a title match
        # weighs more), then newer.
        pipeline = self._search_pipeline(wanted, where, offset, limit)
        cursor = await self._db["posts"].aggregate(pipeline)
        return [SearchHit(_from_doc(Post, doc),
                          doc["_matched"] + doc["_weight"] / (1 + doc["_weight"]))
                for doc in await cursor.to_list()]

    @staticmethod
    def _search_pipeline(wanted: list[str], where: list[PostFilter], offset: int,
                         limit: int) -> list[dict[str, Any]]:
        occurrences = {"$size": {"$filter": {
            "input": "$terms", "cond": {"$in": ["$$this", {"$literal": wanted}]}}}}
        return [
            {"$match": {"$and": [{"terms": {"$in": wanted}},
                                 {"$or": [_post_query(one) for one in where]}]}},
            # Only the newest matches are ranked, as in SQLite (its SEARCH_CANDIDATES per term):
            # ranking every match of a common word costs time that grows with the data.
            {"$sort": {"created_at": -1, "_id": -1}},
            {"$limit": SEARCH_CANDIDATES * len(wanted)},
            {"$addFields": {"_matched": {"$size": {"$filter": {
                "input": {"$literal": wanted}, "cond": {"$in": ["$$this", "$terms"]}}}},
                "_weight": occurrences}},
            {"$sort": {"_matched": -1, "_weight": -1, "created_at": -1, "_id": -1}},
            {"$skip": max(offset, 0)},
            {"$limit": limit},
            {"$project": {"terms": 0}},
        ]

    async def search_ranks(self, terms: list[str], where: list[PostFilter],
                           limit: int) -> list[SearchRank]:
        wanted = list(dict.fromkeys(term for term in terms if term))
        if not wanted or not where or limit <= 0:
            return []
        pipeline = self._search_pipeline(wanted, where, 0, limit)
        # Only what ranking and counting need leaves the server: not the posts' text.
        pipeline[-1] = {"$project": {"_id": 1, "created_at": 1, "_matched": 1, "_weight": 1}}
        cursor = await self._db["posts"].aggregate(pipeline)
        return [SearchRank(str(doc["_id"]), as_utc(doc["created_at"]),
                           doc["_matched"] + doc["_weight"] / (1 + doc["_weight"]))
                for doc in await cursor.to_list()]

    async def get_posts(self, post_ids: list[str]) -> list[Post]:
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return []
        cursor = self._db["posts"].find({"_id": {"$in": [_oid(one) for one in ids]}},
                                        {"terms": 0})
        found = {str(doc["_id"]): _from_doc(Post, doc) for doc in await cursor.to_list()}
        return [found[post_id] for post_id in post_ids if post_id in found]

    # notifications and mail ------------------------------------------------------------------
    async def add_notifications(self, notifications: list[Notification]) -> None:
        if not notifications:
            return
        docs = [_to_doc(notification) for notification in notifications]

        async def write(session: AsyncClientSession | None) -> None:
            # Ordered: without a transaction, a crash leaves the first ones stored, each whole.
            await self._db["notifications"].insert_many(docs, ordered=True, session=session)
        await self._atomically(write)

    async def list_notifications(self, user_id: str, after: tuple[dt.datetime, str] | None,
                                 limit: int) -> list[Notification]:
        return await self._page(Notification, "notifications", "created_at",
                                {"user_id": user_id}, after, limit)

    async def count_unread(self, user_id: str) -> int:
        return await self._db["notifications"].count_documents({"user_id": user_id,
                                                                "read": False})

    async def count_all_unread(self) -> int:
        return await self._db["notifications"].count_documents({"read": False})

    async def mark_read(self, user_id: str, ids: list[str] | None) -> int:
        # The user's own unread documents only: another user's ids match nothing, and those
        # already read are not modified, so the count is of those that changed.
        query: dict[str, Any] = {"user_id": user_id, "read": False}
        if ids is not None:
            query["_id"] = {"$in": [_oid(i) for i in set(ids)]}
        result = await self._db["notifications"].update_many(query, {"$set": {"read": True}})
        return result.modified_count

    # subscriptions ---------------------------------------------------------------------------
    async def add_subscription(self, subscription: Subscription) -> tuple[Subscription, bool]:
        doc = _to_doc(subscription)
        pair = {"user_id": subscription.user_id, "target": subscription.target}
        # An upsert on the unique (user_id, target) index: the server inserts the document only
        # when the pair is absent (and retries by itself an upsert that lost the race to the
        # key), so no failed insert ever aborts the caller's transaction.
        try:
            stored = await self._db["subscriptions"].find_one_and_update(
                pair, {"$setOnInsert": {k: v for k, v in doc.items() if k not in pair}},
                upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            # A server that does not retry the upsert itself: the other caller's is there.
            stored = await self._db["subscriptions"].find_one(pair)
            if stored is None:
                raise
        found = _from_doc(Subscription, stored)
        return found, found.id == subscription.id

    async def list_subscriptions(self, user_id: str, after: tuple[dt.datetime, str] | None,
                                 limit: int) -> list[Subscription]:
        return await self._page(Subscription, "subscriptions", "created_at",
                                {"user_id": user_id}, after, limit)

    async def get_subscription(self, user_id: str, target: str) -> Subscription | None:
        doc = await self._db["subscriptions"].find_one({"user_id": user_id, "target": target})
        return _from_doc(Subscription, doc) if doc else None

    async def list_subscribers(self, target: str, after: str | None,
                               limit: int) -> list[Subscription]:
        if limit <= 0:
            return []
        query: dict[str, Any] = {"target": target}
        if after is not None:
            query["user_id"] = {"$gt": after}
        cursor = self._db["subscriptions"].find(query).sort("user_id", 1).limit(limit)
        return [_from_doc(Subscription, doc) for doc in await cursor.to_list()]

    async def delete_subscription(self, subscription_id: str, user_id: str) -> bool:
        result = await self._db["subscriptions"].delete_one({"_id": _oid(subscription_id),
                                                             "user_id": user_id})
        return result.deleted_count == 1

    async def enqueue_mail(self, mail: Mail) -> None:
        await self._insert("mail", mail, None)

    async def claim_mail(self, at: dt.datetime, lease_until: dt.datetime,
                         limit: int) -> list[Mail]:
        mail = self._db["mail"]
        docs: list[dict[str, Any]] = []
        for _ in range(max(limit, 0)):
            # Each claim is one write the server applies atomically: of two senders reaching for
            # the same mail, the second no longer finds it due. ($lte on a date matches dates
            # only, so sent and given-up mails, null here, never match.) Those taken already
            # are left out, so that one call returns a mail once even with a lease before `at`.
            doc = await mail.find_one_and_update(
                {"next_attempt_at": {"$lte": at}, "_id": {"$nin": [d["_id"] for d in docs]}},
                {"$set": {"next_attempt_at": lease_until}},
                sort=[("next_attempt_at", 1), ("_id", 1)],
                return_document=ReturnDocument.BEFORE)
            if doc is None:
                break
            docs.append(doc)
        return [_from_doc(Mail, doc) for doc in docs]

    async def finish_mail(self, mail_id: str, *, sent_at: dt.datetime | None,
                          next_attempt_at: dt.datetime | None, attempts: int,
                          error: str | None, body: str | None = None) -> None:
        changes = {"sent_at": sent_at, "next_attempt_at": next_attempt_at, "attempts": attempts,
                   "last_error": error}
        if body is not None:
            changes["body"] = body
        await self._db["mail"].update_one({"_id": _oid(mail_id)}, {"$set": changes})

    async def count_mail_waiting(self) -> int:
        # $type rather than $ne: null, so the next_attempt_at index bounds the count.
        return await self._db["mail"].count_documents({"next_attempt_at": {"$type": "date"}})

    # throttling ------------------------------------------------------------------------------
    # One document per key, {_id: key, at: its latest hit, hits: [{id, at}, ...]}, so that a
    # reservation is one atomic update (see reserve_hit). The TTL index on `at` (see
    # _create_indexes) drops a key's document a day after its latest hit. Documents of the
    # earlier shape, one per hit with a `key` field, are never read; the same index drops them.
    async def count_hits(self, key: str, since: dt.datetime) -> int:
        found = await self._db["hits"].find_one({"_id": key})
        return sum(1 for hit in (found or {}).get("hits", []) if as_utc(hit["at"]) >= since)

    async def reserve_hit(self, key: str, at: dt.datetime, since: dt.datetime,
                          limit: int) -> str | None:
        # Never inside a unit of work: a limit counts the attempt on its own, before the work,
        # and a transaction would turn two attempts at once into a write conflict.
        hits = self._database["hits"]
        hit_id = str(ObjectId())
        await hits.update_one({"_id": key}, {"$pull": {"hits": {"at": {"$lt": since}}}})
        if limit <= 0:
            return None
        # The key's document takes the hit only while its array has no element at index
        # limit - 1, i.e. fewer than `limit` hits: one conditional update, atomic on any
        # deployment. (Inserting a hit and then counting those before it would need the order
        # of hits to be the order of their inserts, which neither client ids nor times give
        # across connections and processes.)
        room = {"_id": key, f"hits.{limit - 1}": {"$exists": False}}
        push = {"$push": {"hits": {"id": hit_id, "at": at}}, "$max": {"at": at}}
        try:
            await hits.update_one(room, push, upsert=True)
            return hit_id
        except DuplicateKeyError:
            # The document is there and full, or another first hit made it meanwhile: ask once
            # more, now that it exists.
            return hit_id if (await hits.update_one(room, push)).matched_count else None

    async def release_hit(self, key: str, hit_id: str) -> None:
        await self._database["hits"].update_one({"_id": key}, {"$pull": {"hits": {"id": hit_id}}})

    async def clear_hits(self, key: str) -> None:
        await self._db["hits"].delete_one({"_id": key})

    # idempotency keys ------------------------------------------------------------------------
    async def claim_idempotency(self, caller: str, key: str, body_hash: str,
                                at: dt.datetime) -> IdempotencyRecord | None:
        records = self._db["idempotency"]
        pair = {"caller": caller, "key": key}
        record = to_plain(IdempotencyRecord(caller, key, body_hash, at))
        for _ in range(3):
            # The TTL monitor runs about once a minute, by the server's clock: a record past its
            # day is dropped here, by the caller's, before the key can be taken anew.
            await records.delete_one({**pair, "created_at": {"$lt": at - IDEMPOTENCY_RETENTION}})
            try:
                await records.insert_one(dict(record))
                return None
            except DuplicateKeyError:  # the unique (caller, key) index: taken already
                found = await records.find_one(pair, {"_id": 0})
            existing = from_plain(IdempotencyRecord, found) if found is not None else None
            if existing is not None and existing.created_at >= at - IDEMPOTENCY_RETENTION:
                return existing
            # Gone or expired between the insert and the read: try again.
        raise Conflict()

    async def finish_idempotency(self, caller: str, key: str, status: int, content_type: str,
                                 body: str) -> None:
        await self._db["idempotency"].update_one(
            {"caller": caller, "key": key},
            {"$set": {"status": status, "content_type": content_type, "body": body}})

    async def release_idempotency(self, caller: str, key: str) -> None:
        await self._db["idempotency"].delete_one({"caller": caller, "key": key})

    # backup and restore ----------------------------------------------------------------------
    async def _supports_snapshots(self) -> bool:
        """Snapshot reads need a replica set or sharded cluster (as transactions do) of 5.0 or
        later."""
        try:
            hello = await self._client.admin.command("hello")
        except PyMongoError:
            return False
        return ((bool(hello.get("setName")) or hello.get("msg") == "isdbgrid")
                and hello.get("maxWireVersion", 0) >= SNAPSHOT_WIRE_VERSION)

    async def export_records(self) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        # An async generator is no coroutine function, so _report_unavailable does not wrap it.
        try:
            async with contextlib.AsyncExitStack() as stack:
                # Every read in a snapshot session reads the majority-committed data of the
                # moment of its first read. Without one (a standalone server) the reads are
                # plain, and a multi-document change made meanwhile may be seen half done.
                options: dict[str, Any] = {}
                if await self._supports_snapshots():
                    options["session"] = await stack.enter_async_context(
                        self._client.start_session(snapshot=True))
                for kind, cls in RECORD_KINDS.items():
                    if kind == "attachments":
                        cursor = self._db[f"{ATTACHMENTS}.files"].find({}, **options)
                        async for doc in cursor.sort("_id", 1):
                            yield kind, to_plain(_attachment(doc["_id"], doc["metadata"]))
                        continue
                    async for doc in self._db[kind].find({}, **options).sort("_id", 1):
                        yield kind, to_plain(_from_doc(cls, doc))
        except ConnectionFailure as exc:
            raise StoreUnavailable() from exc

    async def import_records(self, kind: str, records: list[dict[str, Any]]) -> None:
        cls = importable_kind(kind)
        docs = []
        for record in records:
            doc = _to_doc(from_plain(cls, record))
            if cls is User:
                doc["username_key"] = doc["username"].casefold()  # as add_user keeps it
            docs.append(doc)
        if not docs:
            return

        async def write(session: AsyncClientSession | None) -> None:
            # One transaction where there are transactions; otherwise ordered, so a failure
            # leaves the batch's first documents stored, each whole.
            await self._db[kind].insert_many(docs, ordered=True, session=session)
        try:
            await self._atomically(write)
        except (BulkWriteError, DuplicateKeyError) as exc:
            raise Conflict(f"{kind}: a record is there already") from exc

    async def count_records(self) -> dict[str, int]:
        return {kind: await self._db[f"{ATTACHMENTS}.files" if kind == "attachments" else kind]
                .count_documents({}) for kind in RECORD_KINDS}

    async def mark_restoring(self, started_at: dt.datetime | None) -> None:
        meta = self._database["meta"]  # outside any unit: the mark must outlive a failed load
        if started_at is None:
            await meta.delete_one({"_id": "restoring"})
        else:
            await meta.replace_one({"_id": "restoring"}, {"started_at": started_at}, upsert=True)

    async def unfinished_restore(self) -> dt.datetime | None:
        found = await self._database["meta"].find_one({"_id": "restoring"})
        return as_utc(found["started_at"]) if found else None

    async def is_empty(self) -> bool:
        for name in await self._db.list_collection_names():
            if name in SEEDED_COLLECTIONS or _kept_collection(name):
                continue
            if await self._db[name].find_one({}, {"_id": 1}) is not None:
                return False
        return True

    async def wipe(self) -> None:
        names = [name for name in await self._db.list_collection_names()
                 if not _kept_collection(name)]
        # Attachments' chunks last: a crash before them leaves bytes no description names,
        # never a description without its bytes. delete_many, not drop: the indexes stay.
        for name in sorted(names, key=lambda name: name == f"{ATTACHMENTS}.chunks"):
            await self._db[name].delete_many({})


assert {f.name for f in dataclasses.fields(Post)} >= POST_CHANGEABLE
