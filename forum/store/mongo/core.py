"""The store's core: client and database, open and close, the unit of work, and the class
decorators that guard every method and move the content and auth versions."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import functools
import inspect
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, TypeVar, cast

from gridfs import AsyncGridFSBucket
from pymongo import AsyncMongoClient
from pymongo.errors import ConnectionFailure, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from forum.store.base import Conflict, NotFound, StoreUnavailable, newer_schema
from forum.store.mongo.documents import ATTACHMENTS, _from_doc, _keyset, _oid, _to_doc
from forum.store.mongo.schema import MIGRATIONS

if TYPE_CHECKING:
    from pymongo.asynchronous.client_session import AsyncClientSession
    from pymongo.asynchronous.database import AsyncDatabase


T = TypeVar("T")

DEFAULT_DATABASE = "forum"
DURABLE = WriteConcern("majority", j=True)
MAJORITY = ReadConcern("majority")


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
    notices: bool = False  # whether it wrote what reaches a person (see NOTICES_WRITES)


# Collection methods that take a session: inside a unit of work every one of them gets its.
SESSION_METHODS = frozenset(
    {
        "find",
        "find_one",
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_update",
        "find_one_and_delete",
        "find_one_and_replace",
        "aggregate",
        "count_documents",
        "bulk_write",
        "distinct",
    }
)


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
CONTENT_WRITES = frozenset(
    {
        "ensure_departments",
        "add_department",
        "ensure_boards",
        "save_board",
        "add_user",
        "update_user",
        "add_post",
        "add_posts_bulk",
        "update_post",
        "add_reply",
        "accept_reply",
        "add_flag",
        "close_flags",
        "add_attachment",
        "add_attachments",
        "put_setting",
        "index_post",
        "index_posts",
        "import_records",
        "add_template",
        "delete_template",
        "add_faq",
        "delete_faq",
        "wipe",
    }
)


# The writes that change who a login is (an account's roles, state or password, a session's
# end): each moves the auth version on (see MongoStore.auth_version), as content writes do theirs.
AUTH_WRITES = frozenset(
    {"update_user", "delete_session", "delete_user_sessions", "take_session", "wipe"}
)

# The writes of what reaches a person (notifications, subscriptions): each moves the notices
# version on (see MongoStore.notices_version).
NOTICES_WRITES = frozenset(
    {
        "add_notifications",
        "mark_read",
        "add_subscription",
        "delete_subscription",
        "import_records",
        "wipe",
    }
)


VERSIONED_WRITES = CONTENT_WRITES | AUTH_WRITES | NOTICES_WRITES


def _moves_content_version(cls: type[T]) -> type[T]:
    def bumping(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        name = method.__name__
        content, auth = name in CONTENT_WRITES, name in AUTH_WRITES
        notices = name in NOTICES_WRITES

        @functools.wraps(method)
        async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            unit = self._unit.get()
            if unit is not None:
                # Moved on once, when the unit has committed.
                unit.content, unit.auth = unit.content or content, unit.auth or auth
                unit.notices = unit.notices or notices
                return await method(self, *args, **kwargs)
            try:
                return await method(self, *args, **kwargs)
            finally:
                # After the write, and also when it failed part way: a reader that saw the
                # version before it can only have cached what it read before it, and a
                # number moved on for nothing costs one page rendered again.
                await self._bump_versions(content=content, auth=auth, notices=notices)

        return call

    for name in VERSIONED_WRITES:  # getattr: inherited methods as well
        setattr(cls, name, bumping(getattr(cls, name)))
    return cls


class _Core:
    """The client and database, the unit of work, and the helpers every record family uses;
    the families subclass it, and MongoStore (forum/store/mongo/__init__.py) joins them."""

    kind = "mongodb"

    def __init__(
        self,
        url: str,
        *,
        database: str | None = None,
        client: Any = None,
        gridfs_bucket: Callable[..., Any] = AsyncGridFSBucket,
    ):
        """`client` and `gridfs_bucket` (called like AsyncGridFSBucket) replace the driver's own
        for tests that run without a server."""
        # The async client connects on its first command, so building a store needs no server.
        self._client: AsyncMongoClient[dict[str, Any]] = (
            client
            if client is not None
            else AsyncMongoClient(url, w="majority", journal=True, tz_aware=True)
        )
        self.database_name = database or self._client.get_default_database(DEFAULT_DATABASE).name
        # Set on the database, so every collection taken from it inherits both.
        self._database = self._client.get_database(
            self.database_name, write_concern=DURABLE, read_concern=MAJORITY
        )
        self._attachments = gridfs_bucket(
            self._database, bucket_name=ATTACHMENTS, write_concern=DURABLE
        )
        self._transactions = False  # known after open()
        # The unit of work open in this context (see transaction).
        self._unit: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar(
            f"mongo-unit-{id(self)}", default=None
        )

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        """The database, its calls carrying the open unit of work's session when there is one,
        so every read and write inside the unit is part of its transaction."""
        unit = self._unit.get()
        if unit is None:
            return self._database
        # _InSession answers every call as the database (and its collections) would, the
        # session added: typed as what it stands for, so the calls made through it are checked.
        return cast("AsyncDatabase[dict[str, Any]]", _InSession(self._database, unit.session))

    # lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        self._transactions = await self._supports_transactions()
        meta = self._db["meta"]
        found = await meta.find_one({"_id": "schema"})
        version = found["version"] if found else 0
        if version > len(MIGRATIONS):
            raise newer_schema(
                f"the MongoDB database {self.database_name}", version, len(MIGRATIONS)
            )
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

    async def notices_version(self) -> int:
        found = await self._db["meta"].find_one({"_id": "notices"})
        return found["version"] if found else 0

    async def versions(self) -> tuple[int, int, int]:
        found = {
            meta["_id"]: meta["version"]
            async for meta in self._db["meta"].find(
                {"_id": {"$in": ["content", "auth", "notices"]}}
            )
        }
        return found.get("content", 0), found.get("auth", 0), found.get("notices", 0)

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
            return await session.with_transaction(
                work, read_concern=MAJORITY, write_concern=DURABLE
            )

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
                async with await session.start_transaction(
                    read_concern=MAJORITY, write_concern=DURABLE
                ):
                    yield
            except PyMongoError as exc:
                if exc.has_error_label("TransientTransactionError"):
                    # Another unit wrote one of the same documents first: this one lost.
                    raise Conflict(code="stale") from exc
                raise
            finally:
                self._unit.reset(token)
                await self._bump_versions(
                    content=unit.content, auth=unit.auth, notices=unit.notices
                )

    async def _bump_versions(self, *, content: bool, auth: bool, notices: bool) -> None:
        for name, moved in (("content", content), ("auth", auth), ("notices", notices)):
            if moved:
                await self._database["meta"].update_one(
                    {"_id": name}, {"$inc": {"version": 1}}, upsert=True
                )

    # helpers of the families -----------------------------------------------------------------
    async def _require_post(self, post_id: str, session: AsyncClientSession | None) -> None:
        if (
            await self._db["posts"].find_one({"_id": _oid(post_id)}, {"_id": 1}, session=session)
            is None
        ):
            raise NotFound()

    async def _insert(
        self, collection: str, record: Any, session: AsyncClientSession | None
    ) -> None:
        if record is not None:
            await self._db[collection].insert_one(_to_doc(record), session=session)

    async def _page(
        self,
        cls: type[T],
        collection: str,
        time: str,
        query: dict[str, Any],
        after: tuple[dt.datetime, str] | None,
        limit: int,
        *,
        ascending: bool = False,
    ) -> list[T]:
        """Up to `limit` documents matching `query`, ordered by (time, _id), newest first unless
        `ascending`, strictly after the key `after` in that order."""
        if limit <= 0:  # limit(0) means "no limit" to MongoDB
            return []
        direction = 1 if ascending else -1
        cursor = (
            self._db[collection]
            .find(_keyset(query, time, after, ascending))
            .sort([(time, direction), ("_id", direction)])
            .limit(limit)
        )
        return [_from_doc(cls, doc) for doc in await cursor.to_list()]

    async def _group(
        self, collection: str, match: dict[str, Any], key: str, totals: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """One document per distinct value of `key` among those matching `match`: that value as
        _id, and the accumulators `totals`."""
        cursor = await self._db[collection].aggregate(
            [{"$match": match}, {"$group": {"_id": key, **totals}}]
        )
        return await cursor.to_list()

    async def _children(self, cls: type[T], collection: str, time: str, post_id: str) -> list[T]:
        cursor = self._db[collection].find({"post_id": post_id}).sort([(time, 1), ("_id", 1)])
        return [_from_doc(cls, doc) for doc in await cursor.to_list()]
