"""The in-process MongoDB the contract suite uses when FORUM_TEST_MONGODB_URI is not set.

pymongo_async_mock gives mongomock PyMongo's async API. MongoStore is written for a real server,
so the few things such a server has and the mock lacks are added here, and only here:

- the `hello` command: answered as a standalone server does, so MongoStore takes its
  no-transaction path (mongomock has no sessions, hence no transactions);
- an awaitable `close()` on the client (mongomock's is synchronous and does nothing);
- a pause at every collection operation: the mock's coroutines never give the event loop a turn,
  so calls run side by side (asyncio.gather) would run one whole after the other; a real server's
  round trip lets them interleave, and StandinCollection yields once before each operation so that
  they do here too, and a race between two writers is a race;
- GridFS: AsyncGridFSBucket accepts only a real AsyncDatabase, so the store is given
  StandinGridFSBucket through its `gridfs_bucket` parameter. It keeps files in the collections
  and shape GridFS uses ("<bucket>.files" documents, bytes in "<bucket>.chunks"), so what
  MongoStore reads from the files collection directly reads the same here.

mongomock keeps partial and TTL index options (it does not expire documents, which no test
needs) and returns naive datetimes where a real server returns aware ones; the codec reads naive
datetimes as UTC, so neither needs a shim.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import inspect
from typing import Any

from gridfs.errors import FileExists, NoFile
from mongomock.collection import BulkOperationBuilder
from pymongo_async_mock import AsyncMongoMockClient

from forum.store.mongo import MongoStore

# Never contacted: the stand-in client is passed in, the URL only fills the signature.
STANDIN_URL = "mongodb://standin.invalid/forum"

# What a standalone mongod answers to hello: no setName (not a replica set), no "isdbgrid" (not
# a mongos router).
STANDALONE_HELLO = {"isWritablePrimary": True, "maxWireVersion": 21, "ok": 1.0}


def _bulk_update_without_sort() -> None:
    """pymongo_async_mock makes mongomock's bulk updates ignore `sort` by wrapping
    BulkOperationBuilder.add_update, for every collection it patches, and means to do it once:
    its guard looks for the wrapper's name, which functools.wraps has replaced. So each test's
    collections add a layer, and a few hundred tests on, a bulk_write (ensure_boards) recurses
    too deep. Wrapping it here once, under the name the guard looks for, stops the layering."""
    original = BulkOperationBuilder.add_update
    if original.__name__ == "add_update_compat":
        return

    def add_update_compat(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("sort", None)
        return original(*args, **kwargs)

    BulkOperationBuilder.add_update = add_update_compat


_bulk_update_without_sort()


def standin_store(database: str) -> MongoStore:
    """A new, unopened MongoStore over an empty in-process database."""
    return MongoStore(
        STANDIN_URL, database=database, client=StandinClient(), gridfs_bucket=StandinGridFSBucket
    )


class StandinDatabase:
    """A mock database that also answers `hello`."""

    def __init__(self, mock: Any):
        self._mock = mock

    async def command(self, command: str | dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        name = command if isinstance(command, str) else next(iter(command))
        if name.lower() in ("hello", "ismaster"):
            return dict(STANDALONE_HELLO)
        if name.lower() == "validate":  # documents in memory: nothing on a disk to damage
            return {"ns": f"{self._mock.name}.{command[name]}", "valid": True, "errors": []}
        return await self._mock.command(command, **kwargs)

    def __getitem__(self, name: str) -> StandinCollection:
        return StandinCollection(self._mock[name])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mock, name)


class StandinCollection:
    """A mock collection whose coroutine methods first give the event loop a turn, as waiting
    for a server's answer does."""

    def __init__(self, mock: Any):
        self._mock = mock

    def __getattr__(self, name: str) -> Any:
        member = getattr(self._mock, name)
        if not inspect.iscoroutinefunction(member):
            return member

        @functools.wraps(member)
        async def call(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0)
            return await member(*args, **kwargs)

        return call


class StandinClient:
    """The client calls MongoStore makes, over one fresh in-memory mongomock server."""

    def __init__(self) -> None:
        self._mock = AsyncMongoMockClient(tz_aware=True)

    def get_database(self, name: str, **options: Any) -> StandinDatabase:
        return StandinDatabase(self._mock.get_database(name, **options))

    def get_default_database(self, default: str | None = None, **options: Any) -> StandinDatabase:
        return self.get_database(self._mock.get_default_database(default).name, **options)

    @property
    def admin(self) -> StandinDatabase:
        return self.get_database("admin")

    def start_session(self, **options: Any) -> Any:
        raise NotImplementedError(
            "the stand-in has no sessions; it answers hello as a "
            "standalone server, so MongoStore should never ask for one"
        )

    async def close(self) -> None:
        pass


class StandinGridFSBucket:
    """The calls MongoStore makes on AsyncGridFSBucket, over the mock's collections."""

    CHUNK_SIZE = 255 * 1024  # GridFS's default

    def __init__(self, db: Any, bucket_name: str = "fs", **options: Any):
        self._files = db[f"{bucket_name}.files"]
        self._chunks = db[f"{bucket_name}.chunks"]

    async def upload_from_stream_with_id(
        self,
        file_id: Any,
        filename: str,
        source: bytes,
        metadata: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if await self._files.find_one({"_id": file_id}, {"_id": 1}) is not None:
            raise FileExists(f"file with _id {file_id!r} already exists")
        starts = range(0, len(source), self.CHUNK_SIZE)
        chunks = [
            {"files_id": file_id, "n": n, "data": source[start : start + self.CHUNK_SIZE]}
            for n, start in enumerate(starts)
        ]
        if chunks:
            await self._chunks.insert_many(chunks)
        # Chunks first, the files document last, as GridFS does.
        doc = {
            "_id": file_id,
            "filename": filename,
            "length": len(source),
            "chunkSize": self.CHUNK_SIZE,
            "uploadDate": dt.datetime.now(dt.timezone.utc),
        }
        if metadata is not None:
            doc["metadata"] = metadata
        await self._files.insert_one(doc)

    async def delete(self, file_id: Any, **options: Any) -> None:
        # The files document first, then the chunks, as GridFS does.
        found = await self._files.delete_one({"_id": file_id})
        await self._chunks.delete_many({"files_id": file_id})
        if not found.deleted_count:
            raise NoFile(f"no file could be deleted because none matched {file_id!r}")

    async def open_download_stream(self, file_id: Any, **options: Any) -> StandinGridOut:
        doc = await self._files.find_one({"_id": file_id})
        if doc is None:
            raise NoFile(f"no file in gridfs collection with _id {file_id!r}")
        chunks = await self._chunks.find({"files_id": file_id}).sort("n", 1).to_list()
        return StandinGridOut(doc, b"".join(chunk["data"] for chunk in chunks))


class StandinGridOut:
    """What MongoStore reads of an AsyncGridOut: the file's _id and metadata, and its bytes."""

    def __init__(self, doc: dict[str, Any], data: bytes):
        self._id = doc["_id"]
        self.metadata = doc.get("metadata")
        self._data = data

    async def read(self) -> bytes:
        return self._data


# A stand-in that says it is a replica set, for the plumbing of MongoStore's transactions --------
# mongomock has no sessions, so nothing here rolls back: it records which session each call
# carried and how each transaction ended, so tests can show that every read and write inside a
# unit of work goes with the unit's session and that the unit commits or aborts once. That the
# server then rolls back is MongoDB's part, proven against a real replica set.
REPLICA_SET_HELLO = {**STANDALONE_HELLO, "setName": "rs0"}


class RecordingSession:
    def __init__(self, calls: list[tuple[str, str, Any]]):
        self.calls = calls
        self.outcomes: list[str] = []

    async def __aenter__(self) -> RecordingSession:
        return self

    async def __aexit__(self, *exc: Any) -> bool:
        return False

    async def start_transaction(self, **options: Any) -> Any:
        session = self

        class Transaction:
            async def __aenter__(self) -> None:
                session.outcomes.append("started")

            async def __aexit__(self, kind: Any, error: Any, trace: Any) -> bool:
                session.outcomes.append("committed" if kind is None else "aborted")
                return False

        return Transaction()

    async def with_transaction(self, callback: Any, **options: Any) -> Any:
        async with await self.start_transaction():
            return await callback(self)


class RecordingCollection(StandinCollection):
    def __init__(self, mock: Any, name: str, calls: list[tuple[str, str, Any]]):
        super().__init__(mock)
        self._name, self._calls = name, calls

    def __getattr__(self, name: str) -> Any:
        member = super().__getattr__(name)
        if not callable(member):
            return member

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append((self._name, name, kwargs.pop("session", None)))
            return member(*args, **kwargs)

        return call


class RecordingDatabase(StandinDatabase):
    def __init__(self, mock: Any, calls: list[tuple[str, str, Any]]):
        super().__init__(mock)
        self._calls = calls

    async def command(self, command: str | dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        name = command if isinstance(command, str) else next(iter(command))
        if name.lower() in ("hello", "ismaster"):
            return dict(REPLICA_SET_HELLO)
        return await super().command(command, **kwargs)

    def __getitem__(self, name: str) -> RecordingCollection:
        return RecordingCollection(self._mock[name], name, self._calls)


class RecordingClient(StandinClient):
    """Answers hello as a replica set member and hands out recording sessions."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, Any]] = []
        self.sessions: list[RecordingSession] = []

    def get_database(self, name: str, **options: Any) -> RecordingDatabase:
        return RecordingDatabase(self._mock.get_database(name, **options), self.calls)

    def start_session(self, **options: Any) -> RecordingSession:
        session = RecordingSession(self.calls)
        self.sessions.append(session)
        return session


def recording_store(database: str) -> tuple[MongoStore, RecordingClient]:
    client = RecordingClient()
    return (
        MongoStore(
            STANDIN_URL, database=database, client=client, gridfs_bucket=StandinGridFSBucket
        ),
        client,
    )
