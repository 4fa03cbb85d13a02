"""The in-process MongoDB the contract suite uses when FORUM_TEST_MONGODB_URI is not set.

pymongo_async_mock gives mongomock PyMongo's async API. MongoStore is written for a real server,
so the few things such a server has and the mock lacks are added here, and only here:

- the `hello` command: answered as a standalone server does, so MongoStore takes its
  no-transaction path (mongomock has no sessions, hence no transactions);
- an awaitable `close()` on the client (mongomock's is synchronous and does nothing).

mongomock keeps partial and TTL index options (it does not expire documents, which no test
needs) and returns naive datetimes where a real server returns aware ones; the codec reads naive
datetimes as UTC, so neither needs a shim.
"""
from __future__ import annotations

from typing import Any

from pymongo_async_mock import AsyncMongoMockClient

from forum.store.mongo import MongoStore

# Never contacted: the stand-in client is passed in, the URL only fills the signature.
STANDIN_URL = "mongodb://standin.invalid/forum"

# What a standalone mongod answers to hello: no setName (not a replica set), no "isdbgrid" (not
# a mongos router).
STANDALONE_HELLO = {"isWritablePrimary": True, "maxWireVersion": 21, "ok": 1.0}


def standin_store(database: str) -> MongoStore:
    """A new, unopened MongoStore over an empty in-process database."""
    return MongoStore(STANDIN_URL, database=database, client=StandinClient())


class StandinDatabase:
    """A mock database that also answers `hello`."""

    def __init__(self, mock: Any):
        self._mock = mock

    async def command(self, command: str | dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        name = command if isinstance(command, str) else next(iter(command))
        if name.lower() in ("hello", "ismaster"):
            return dict(STANDALONE_HELLO)
        return await self._mock.command(command, **kwargs)

    def __getitem__(self, name: str) -> Any:
        return self._mock[name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mock, name)


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
        raise NotImplementedError("the stand-in has no sessions; it answers hello as a "
                                  "standalone server, so MongoStore should never ask for one")

    async def close(self) -> None:
        pass
