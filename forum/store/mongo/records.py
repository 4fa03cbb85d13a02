"""Records for backup and restore: export, import, counts, wipe, the restore mark."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING, Any, AsyncGenerator

from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, PyMongoError

from forum.model import User
from forum.store.base import RECORD_KINDS, Conflict, StoreUnavailable, importable_kind
from forum.store.codec import as_utc, from_plain, to_plain
from forum.store.mongo.core import _Core
from forum.store.mongo.documents import ATTACHMENTS, _attachment, _from_doc, _to_doc

if TYPE_CHECKING:
    from pymongo.asynchronous.client_session import AsyncClientSession


# Collections prepare_store fills on every start; a store holding nothing else counts as empty.
SEEDED_COLLECTIONS = frozenset({"departments", "boards"})
# Snapshot reads (export_records) came with MongoDB 5.0, wire version 13.
SNAPSHOT_WIRE_VERSION = 13


def _kept_collection(name: str) -> bool:
    """Whether wipe() and is_empty() leave a collection alone: the schema version (meta) and the
    server's own."""
    return name == "meta" or name.startswith("system.")


class _Records(_Core):
    """Backup and restore."""

    # backup and restore ----------------------------------------------------------------------
    async def _supports_snapshots(self) -> bool:
        """Snapshot reads need a replica set or sharded cluster (as transactions do) of 5.0 or
        later."""
        try:
            hello = await self._client.admin.command("hello")
        except PyMongoError:
            return False
        return (bool(hello.get("setName")) or hello.get("msg") == "isdbgrid") and hello.get(
            "maxWireVersion", 0
        ) >= SNAPSHOT_WIRE_VERSION

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
                        self._client.start_session(snapshot=True)
                    )
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
        return {
            kind: await self._db[
                f"{ATTACHMENTS}.files" if kind == "attachments" else kind
            ].count_documents({})
            for kind in RECORD_KINDS
        }

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
        names = [
            name for name in await self._db.list_collection_names() if not _kept_collection(name)
        ]
        # Attachments' chunks last: a crash before them leaves bytes no description names,
        # never a description without its bytes. delete_many, not drop: the indexes stay.
        for name in sorted(names, key=lambda name: name == f"{ATTACHMENTS}.chunks"):
            await self._db[name].delete_many({})
