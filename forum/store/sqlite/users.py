"""Users, their sessions (logins), and the API keys of other systems."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from forum.model import ApiKey, Role, Session, User, iso
from forum.store.base import Conflict, NotFound
from forum.store.codec import plain_changes, to_plain
from forum.store.sqlite.core import _Core
from forum.store.sqlite.rows import _from_row, _insert, _to_sql, _where


def _auth_moved(conn: sqlite3.Connection, sql: str, params: Any = ()) -> sqlite3.Cursor:
    """`sql`, which changes who a login is (an account, a session's end), and auth_version
    moved on in the same transaction: no process keeps the old answer past the commit."""
    cursor = conn.execute(sql, params)
    conn.execute("UPDATE auth_version SET version = version + 1")
    return cursor


class _Users(_Core):
    """Users, sessions, API keys."""

    # users and sessions ----------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        values = to_plain(user)
        values["username_key"] = user.username.casefold()

        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "users", values)
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="username_taken") from exc

        await self._write(work)

    async def get_user(self, user_id: str) -> User | None:
        row = await self._read(
            lambda conn: conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone(),
            by_key=True,
        )
        return _from_row(User, row) if row else None

    async def get_user_by_name(self, username: str) -> User | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT * FROM users WHERE username_key = ?", (username.casefold(),)
            ).fetchone()
        )
        return _from_row(User, row) if row else None

    async def get_users(self, user_ids: list[str]) -> dict[str, User]:
        unique = sorted(set(user_ids))
        if not unique:
            return {}

        def work(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            marks = ", ".join("?" for _ in unique)
            return conn.execute(f"SELECT * FROM users WHERE id IN ({marks})", unique).fetchall()

        rows = await self._read(work, by_key=True)
        return {row["id"]: _from_row(User, row) for row in rows}

    async def update_user(self, user_id: str, changes: dict[str, Any]) -> None:
        values = plain_changes(changes)
        if "username" in values:
            values["username_key"] = values["username"].casefold()

        def work(conn: sqlite3.Connection) -> None:
            assignments = ", ".join(f"{name} = ?" for name in values) or "id = id"
            try:
                cursor = _auth_moved(
                    conn,
                    f"UPDATE users SET {assignments} WHERE id = ?",
                    [_to_sql(v) for v in values.values()] + [user_id],
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="username_taken") from exc
            if cursor.rowcount == 0:
                raise NotFound()

        await self._write(work)

    async def find_users(self, prefix: str, after: str | None, limit: int) -> list[User]:
        key = prefix.casefold()
        # A range rather than LIKE: the unique index on username_key serves it, and a prefix
        # holding % or _ means those characters, not wildcards.
        clauses, params = ["username_key >= ?", "username_key < ?"], [key, key + "\uffff"]
        if after is not None:
            clauses.append("username_key > ?")
            params.append(after.casefold())
        return await self._users(clauses, params, limit)

    async def list_users(
        self, *, role: Role | None, department: str | None, limit: int
    ) -> list[User]:
        clauses, params = ["disabled = 0"], []
        if role is not None:
            # Roles are kept as a JSON list; json_each reads it as rows.
            clauses.append("EXISTS (SELECT 1 FROM json_each(users.roles) WHERE value = ?)")
            params.append(Role(role).value)
        if department is not None:
            clauses.append("department = ?")
            params.append(department)
        return await self._users(clauses, params, limit)

    async def _users(self, clauses: list[str], params: list[Any], limit: int) -> list[User]:
        """The accounts `clauses` match, in the order of their names, at most `limit`."""
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT * FROM users{_where(clauses)} ORDER BY username_key LIMIT ?",
                [*params, max(limit, 0)],
            ).fetchall()
        )
        return [_from_row(User, row) for row in rows]

    async def add_session(self, session: Session) -> None:
        await self._write(lambda conn: _insert(conn, "sessions", to_plain(session)), content=False)

    async def get_session(self, token_hash: str) -> Session | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT * FROM sessions WHERE token_hash = ?", (token_hash,)
            ).fetchone()
        )
        return _from_row(Session, row) if row else None

    async def touch_session(self, token_hash: str, at: dt.datetime) -> None:
        await self._write(
            lambda conn: conn.execute(
                "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", (iso(at), token_hash)
            ),
            content=False,
        )

    async def delete_session(self, token_hash: str) -> None:
        await self._write(
            lambda conn: _auth_moved(
                conn, "DELETE FROM sessions WHERE token_hash = ?", (token_hash,)
            ),
            content=False,
        )

    async def delete_user_sessions(self, user_id: str) -> int:
        return await self._write(
            lambda conn: (
                _auth_moved(conn, "DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount
            ),
            content=False,
        )

    async def take_session(self, token_hash: str, kind: str) -> Session | None:
        # One statement in the writer's transaction: two callers cannot both get the row.
        def work(conn: sqlite3.Connection) -> sqlite3.Row | None:
            found: sqlite3.Row | None = conn.execute(
                "DELETE FROM sessions WHERE token_hash = ? AND kind = ? RETURNING *",
                (token_hash, kind),
            ).fetchone()
            if found is not None:  # see _auth_moved
                conn.execute("UPDATE auth_version SET version = version + 1")
            return found

        row = await self._write(work, content=False)
        return _from_row(Session, row) if row else None

    # API keys --------------------------------------------------------------------------------
    async def add_api_key(self, key: ApiKey) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "api_keys", to_plain(key))
            except sqlite3.IntegrityError as exc:  # the id or the key's hash is taken
                raise Conflict(code="key_taken") from exc

        await self._write(work, content=False)

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT * FROM api_keys WHERE key_hash = ?", (key_hash,)
            ).fetchone()
        )
        return _from_row(ApiKey, row) if row else None

    async def list_api_keys(self) -> list[ApiKey]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT * FROM api_keys ORDER BY created_at DESC, id DESC"
            ).fetchall()
        )
        return [_from_row(ApiKey, row) for row in rows]

    async def revoke_api_key(self, key_id: str, at: dt.datetime) -> ApiKey:
        def work(conn: sqlite3.Connection) -> sqlite3.Row:
            # COALESCE keeps the first revocation's time when the key is revoked again.
            conn.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                (iso(at), key_id),
            )
            row: sqlite3.Row | None = conn.execute(
                "SELECT * FROM api_keys WHERE id = ?", (key_id,)
            ).fetchone()
            if row is None:
                raise NotFound()
            return row

        return _from_row(ApiKey, await self._write(work, content=False))
