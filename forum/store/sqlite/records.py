"""Backup and restore: every record out (one snapshot) and in, their counts, the restore's
mark, and emptying the store."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncGenerator, Callable

from forum.durable import sync_folder
from forum.model import Setting, User, is_id, iso
from forum.store.base import RECORD_KINDS, Conflict, StoreUnavailable, importable_kind, record_key
from forum.store.codec import as_utc, from_plain, to_plain
from forum.store.sqlite.core import BUSY_TIMEOUT_MS, MOVE_NOTICES, _Core
from forum.store.sqlite.rows import T, _count, _from_row, _insert

EXPORT_BATCH = 500
# Tables prepare_store fills on every start; a store holding nothing else counts as empty.
SEEDED_TABLES = frozenset({"departments", "boards"})


def _plain_record(cls: type, row: sqlite3.Row) -> dict[str, Any]:
    """A row as export_records gives it: the record's plain dict, whatever else the row holds."""
    if cls is Setting:
        return {"key": row["key"], "value": json.loads(row["value"])}
    return to_plain(_from_row(cls, row))


def _record_tables(conn: sqlite3.Connection) -> list[str]:
    """Every table that holds records: all but SQLite's own, the FTS5 (and fts5vocab) virtual
    tables and their shadow tables, whose content follows search_docs through its trigger."""
    tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [
        name for name, sql in tables if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")
    ]
    return [
        name
        for name, _ in tables
        if not name.startswith("sqlite_")
        and name not in virtual
        and name not in ("content_version", "auth_version", "notices_version", "restore_mark")
        and not any(name.startswith(f"{table}_") for table in virtual)
    ]


class _Records(_Core):
    """Export, import, counts, the restore mark, wipe."""

    async def export_records(self) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        # A connection of its own, on a thread of its own, holding one read transaction from the
        # first SELECT to the last: under WAL that is one snapshot of the whole database, which
        # the writer's commits meanwhile do not change (they wait in the WAL until it ends).
        thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-export")
        loop = asyncio.get_running_loop()

        def run(work: Callable[[], T]) -> asyncio.Future[T]:
            return loop.run_in_executor(thread, work)

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("BEGIN")  # deferred: the snapshot is taken by the first SELECT
            return conn

        try:
            conn = await run(connect)
        except sqlite3.OperationalError as exc:
            thread.shutdown(wait=False)
            raise StoreUnavailable() from exc
        try:
            for kind, cls in RECORD_KINDS.items():
                cursor = await run(
                    lambda: conn.execute(f'SELECT * FROM {kind} ORDER BY "{record_key(kind)}"')
                )
                while rows := await run(lambda: cursor.fetchmany(EXPORT_BATCH)):
                    for row in rows:
                        yield kind, _plain_record(cls, row)
            await run(lambda: conn.execute("COMMIT"))
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable() from exc
        finally:
            await run(conn.close)
            thread.shutdown(wait=False)

    async def import_records(self, kind: str, records: list[dict[str, Any]]) -> None:
        cls = importable_kind(kind)
        rows = []
        for record in records:
            values = to_plain(from_plain(cls, record))
            if cls is User:
                values["username_key"] = values["username"].casefold()
            if cls is Setting:
                values["value"] = json.dumps(values["value"], ensure_ascii=False)
            rows.append(values)

        def work(conn: sqlite3.Connection) -> None:
            try:
                for values in rows:
                    _insert(conn, kind, values)
            except sqlite3.IntegrityError as exc:  # a taken id or name, or a missing reference
                raise Conflict(f"{kind}: {exc}") from exc
            conn.execute(MOVE_NOTICES)

        await self._write(work)

    async def count_records(self) -> dict[str, int]:
        def work(conn: sqlite3.Connection) -> dict[str, int]:
            return {kind: _count(conn, f"SELECT COUNT(*) FROM {kind}") for kind in RECORD_KINDS}

        return await self._read(work)

    async def mark_restoring(self, started_at: dt.datetime | None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM restore_mark")
            if started_at is not None:
                conn.execute(
                    "INSERT INTO restore_mark (one, started_at) VALUES (1, ?)", (iso(started_at),)
                )

        await self._write(work)

    async def unfinished_restore(self) -> dt.datetime | None:
        def work(conn: sqlite3.Connection) -> dt.datetime | None:
            row = conn.execute("SELECT started_at FROM restore_mark").fetchone()
            return as_utc(row[0]) if row else None

        return await self._read(work)

    async def is_empty(self) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            return not any(
                conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone()
                for table in _record_tables(conn)
                if table not in SEEDED_TABLES
            )

        return await self._read(work)

    async def wipe(self) -> None:
        def work(conn: sqlite3.Connection) -> None:
            # References are checked at COMMIT, when nothing is left to refer to.
            conn.execute("PRAGMA defer_foreign_keys = ON")
            # search_docs first: its trigger takes each post's tokens out of the FTS index.
            for table in sorted(_record_tables(conn), key=lambda name: name != "search_docs"):
                conn.execute(f'DELETE FROM "{table}"')
            conn.execute("UPDATE auth_version SET version = version + 1")  # every login gone
            conn.execute(MOVE_NOTICES)

        await self._write(work)

        def remove_files() -> None:
            # After the rows: a crash in between leaves files no row names (which a restore's
            # add_attachment replaces), never a row without its file.
            for name in os.listdir(self.files):
                if is_id(name):
                    os.remove(os.path.join(self.files, name))
            sync_folder(self.files)

        await asyncio.to_thread(remove_files)
