"""A store that fails part way through a use case: the k-th write raises, as a full disk or a
lost connection would, so tests can show that nothing of the use case was stored."""

from __future__ import annotations

import sqlite3
from typing import Any

from forum.errors import StoreUnavailable

# Every Store method that writes.
WRITES = frozenset(
    {
        "add_department",
        "ensure_departments",
        "ensure_boards",
        "save_board",
        "add_user",
        "update_user",
        "add_session",
        "touch_session",
        "delete_session",
        "delete_user_sessions",
        "take_session",
        "add_api_key",
        "revoke_api_key",
        "add_post",
        "add_posts_bulk",
        "update_post",
        "add_reply",
        "accept_reply",
        "add_flag",
        "close_flags",
        "add_attachment",
        "put_setting",
        "add_audit",
        "index_post",
        "index_posts",
        "add_notifications",
        "mark_read",
        "enqueue_mail",
        "claim_mail",
        "finish_mail",
        "add_hit",
        "clear_hits",
        "import_records",
        "wipe",
    }
)


class FailingStore:
    """Wraps a store; its `fail_at`-th write (1 for the first) raises StoreUnavailable, and
    every call goes to the real store otherwise. `writes` counts the writes asked for."""

    def __init__(self, inner: Any, fail_at: int | None = None):
        self._inner = inner
        self.fail_at = fail_at
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in WRITES:
            return attribute

        async def write(*args: Any, **kwargs: Any) -> Any:
            self.writes += 1
            if self.writes == self.fail_at:
                raise StoreUnavailable()
            return await attribute(*args, **kwargs)

        return write


class FailingConnection:
    """An SQLite connection whose statements for which `fails(sql)` is true raise `message` as
    sqlite3.OperationalError, as a full disk or a database locked past the timeout would; the
    rest go through."""

    def __init__(self, conn: Any, fails: Any, message: str) -> None:
        self._conn, self._fails, self._message = conn, fails, message

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, sql: str, *args: Any) -> Any:
        if self._fails(sql):
            raise sqlite3.OperationalError(self._message)
        return self._conn.execute(sql, *args)


def count_handoffs(pool: Any, name: str, monkeypatch: Any) -> list[str]:
    """Each call handed to the thread pool `pool` (an SQLite store's _readers or _writer),
    recorded as `name` in the list returned."""
    handed: list[str] = []
    submit = pool.submit

    def counted(call: Any, *args: Any) -> Any:
        handed.append(name)
        return submit(call, *args)

    monkeypatch.setattr(pool, "submit", counted)
    return handed
