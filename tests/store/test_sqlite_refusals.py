"""What SqliteStore.open() refuses before it writes anything, and what check() and ping() find
in a damaged file."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from forum.errors import StoreUnavailable
from forum.store import open_store
from forum.store.base import StoreRefused
from forum.store.sqlite import MIGRATIONS
from tests.support.stores import damage_table, made_sqlite


def opening(path) -> None:
    async def run() -> None:
        store = open_store(f"sqlite:///{path}")
        try:
            await store.open()
        finally:
            await store.close()

    asyncio.run(run())


def test_another_applications_database_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    before = path.read_bytes()
    with pytest.raises(StoreRefused, match="another application's SQLite database .*invoices"):
        opening(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]  # no -wal, no files/
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_newer_schema_is_refused_naming_both_versions(tmp_path):
    path = made_sqlite(tmp_path / "forum.db")
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 3}")
    with pytest.raises(StoreRefused) as refused:
        opening(path)
    assert f"schema version {len(MIGRATIONS) + 3}, newer than this code's {len(MIGRATIONS)}" in str(
        refused.value
    )


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "forum.db"
    path.write_bytes(b"not a database, " * 512)
    with pytest.raises(StoreRefused, match="damaged or not an SQLite database"):
        opening(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forum.db"]


def test_check_and_ping_find_a_damaged_table(tmp_path):
    path = made_sqlite(tmp_path / "forum.db")
    store = open_store(f"sqlite:///{path}")
    assert asyncio.run(store.check()) == []
    damage_table(path, "posts")
    problems = asyncio.run(store.check())
    assert problems and "malformed" in " ".join(problems)

    async def ping() -> None:
        try:
            await store.ping()
        finally:
            await store.close()

    with pytest.raises(StoreUnavailable):
        asyncio.run(ping())
