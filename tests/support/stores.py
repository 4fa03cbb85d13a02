"""Building stores for tests: SQLite in a temporary folder; MongoDB on a real server when
FORUM_TEST_MONGODB_URI is set, else on the in-process stand-in."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from forum.store import open_store
from forum.store.base import Store

MONGO_URI = os.environ.get("FORUM_TEST_MONGODB_URI")


def redact(uri: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", uri)


def make(kind: str, tmp_path: Path) -> Store:
    """A new, unopened store over an empty database of the given kind."""
    if kind == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'forum.db'}")
    database = f"forum_test_{uuid.uuid4().hex[:12]}"
    if MONGO_URI:
        from forum.store.mongo import MongoStore
        return MongoStore(MONGO_URI, database=database)
    from tests.support.mongo_standin import standin_store
    return standin_store(database)


async def dispose(store: Store) -> None:
    """Close the store; on a real MongoDB server also drop the test's database."""
    await store.close()
    if MONGO_URI and store.kind == "mongodb":
        from pymongo import AsyncMongoClient
        client = AsyncMongoClient(MONGO_URI)
        try:
            await client.drop_database(store.database_name)
        finally:
            await client.close()
