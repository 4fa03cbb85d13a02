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


def another(store: Store) -> Store:
    """A second, unopened store over the same data, as another process would open it. On the
    stand-in it shares the first one's in-process client, which is where the data lives."""
    if store.kind == "sqlite":
        return open_store(f"sqlite:///{store.path}")
    from forum.store.mongo import MongoStore

    if MONGO_URI:
        return MongoStore(MONGO_URI, database=store.database_name)
    from tests.support.mongo_standin import STANDIN_URL, StandinGridFSBucket

    return MongoStore(
        STANDIN_URL,
        database=store.database_name,
        client=store._client,
        gridfs_bucket=StandinGridFSBucket,
    )


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


def damage_table(db_file: Path | str, table: str) -> None:
    """Overwrite the first page of an SQLite table (its root) with bytes no page holds, as a
    failing disk or a stray write would: reading the table then fails as malformed."""
    import sqlite3

    conn = sqlite3.connect(db_file)
    try:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        [root] = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
    finally:
        conn.close()
    with open(db_file, "r+b") as file:
        file.seek((root - 1) * size)
        file.write(b"\xff" * size)


def made_sqlite(path: Path | str) -> str:
    """An SQLite forum database at `path`, made (schema and seed) and closed again; its path."""
    import asyncio

    from forum.services.setup import prepare_store

    async def make() -> None:
        store = open_store(f"sqlite:///{path}")
        await prepare_store(store)
        await store.close()

    asyncio.run(make())
    return str(path)
