"""Throttling hits, and the answers kept for Idempotency-Keys."""

from __future__ import annotations

import datetime as dt
import sqlite3

from forum.model import IdempotencyRecord, iso
from forum.store.base import IDEMPOTENCY_RETENTION
from forum.store.codec import to_plain
from forum.store.sqlite.core import _Core
from forum.store.sqlite.rows import _count, _from_row, _insert

HIT_RETENTION = dt.timedelta(days=1)


def _reserve_hit(
    conn: sqlite3.Connection, key: str, at: dt.datetime, since: dt.datetime, limit: int
) -> str | None:
    # Counted and inserted in the writer's BEGIN IMMEDIATE transaction, which holds the database
    # write lock: no other thread or process can add a hit between the count and the insert.
    conn.execute("DELETE FROM hits WHERE key = ? AND at < ?", (key, iso(at - HIT_RETENTION)))
    (used,) = conn.execute(
        "SELECT COUNT(*) FROM hits WHERE key = ? AND at >= ?", (key, iso(since))
    ).fetchone()
    if used >= limit:
        return None
    # The hits table has no id column (and no migration may add one here), so a hit is named by
    # its implicit rowid. VACUUM may renumber a rowid table; release_hit also matches the key, so
    # at worst it takes back another hit of the same key, which counts the same.
    return str(conn.execute("INSERT INTO hits (key, at) VALUES (?, ?)", (key, iso(at))).lastrowid)


class _Limits(_Core):
    """Throttling hits, idempotency keys."""

    # throttling ------------------------------------------------------------------------------
    async def count_hits(self, key: str, since: dt.datetime) -> int:
        return await self._read(
            lambda conn: _count(
                conn, "SELECT COUNT(*) FROM hits WHERE key = ? AND at >= ?", (key, iso(since))
            )
        )

    async def reserve_hit(
        self, key: str, at: dt.datetime, since: dt.datetime, limit: int
    ) -> str | None:
        return await self._write(
            lambda conn: _reserve_hit(conn, key, at, since, limit), content=False
        )

    async def release_hit(self, key: str, hit_id: str) -> None:
        if not hit_id.isdigit():
            return  # no rowid names it, so no hit of ours
        await self._write(
            lambda conn: conn.execute(
                "DELETE FROM hits WHERE key = ? AND rowid = ?", (key, int(hit_id))
            ),
            content=False,
        )

    async def clear_hits(self, key: str) -> None:
        await self._write(
            lambda conn: conn.execute("DELETE FROM hits WHERE key = ?", (key,)), content=False
        )

    # idempotency keys ------------------------------------------------------------------------
    async def claim_idempotency(
        self, caller: str, key: str, body_hash: str, at: dt.datetime
    ) -> IdempotencyRecord | None:
        def work(conn: sqlite3.Connection) -> IdempotencyRecord | None:
            # The writer's transaction makes the look-up and the insert one step.
            conn.execute(
                "DELETE FROM idempotency WHERE created_at < ?", (iso(at - IDEMPOTENCY_RETENTION),)
            )
            row = conn.execute(
                "SELECT * FROM idempotency WHERE caller = ? AND key = ?", (caller, key)
            ).fetchone()
            if row is not None:
                return _from_row(IdempotencyRecord, row)
            _insert(conn, "idempotency", to_plain(IdempotencyRecord(caller, key, body_hash, at)))
            return None

        return await self._write(work, content=False)

    async def finish_idempotency(
        self, caller: str, key: str, status: int, content_type: str, body: str
    ) -> None:
        await self._write(
            lambda conn: conn.execute(
                "UPDATE idempotency SET status = ?, content_type = ?, body = ? "
                "WHERE caller = ? AND key = ?",
                (status, content_type, body, caller, key),
            ),
            content=False,
        )

    async def release_idempotency(self, caller: str, key: str) -> None:
        await self._write(
            lambda conn: conn.execute(
                "DELETE FROM idempotency WHERE caller = ? AND key = ?", (caller, key)
            ),
            content=False,
        )
