"""What reaches a person: notifications, what they follow (subscriptions), the mail outbox."""

from __future__ import annotations

import datetime as dt
import sqlite3

from forum.model import Mail, Notification, Subscription, iso
from forum.store.codec import to_plain
from forum.store.sqlite.core import MOVE_NOTICES, _Core
from forum.store.sqlite.rows import _count, _from_row, _insert, _is_in, _to_sql, _where


class _Notices(_Core):
    """Notifications, subscriptions, mail."""

    # notifications and mail ------------------------------------------------------------------
    async def add_notifications(self, notifications: list[Notification]) -> None:
        if not notifications:
            return

        def work(conn: sqlite3.Connection) -> None:
            for notification in notifications:
                _insert(conn, "notifications", to_plain(notification))
            conn.execute(MOVE_NOTICES)

        await self._write(work, content=False)

    async def list_notifications(
        self, user_id: str, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Notification]:
        return await self._page(
            Notification, "notifications", "created_at", ["user_id = ?"], [user_id], after, limit
        )

    async def count_unread(self, user_id: str) -> int:
        return await self._read(
            lambda conn: _count(
                conn,
                "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read = 0",
                (user_id,),
            )
        )

    async def count_all_unread(self) -> int:
        # Answered from the (user_id, read) index alone, without reading the rows.
        return await self._read(
            lambda conn: _count(conn, "SELECT COUNT(*) FROM notifications WHERE read = 0")
        )

    async def mark_read(self, user_id: str, ids: list[str] | None) -> int:
        # The user's own unread rows only: another user's ids match nothing, and rows already
        # read are not changed, so the count is of those that changed.
        clauses, params = ["user_id = ?", "read = 0"], [user_id]
        if ids is not None:
            unique = sorted(set(ids))
            clauses.append(_is_in("id", tuple(unique)))
            params.extend(unique)

        def work(conn: sqlite3.Connection) -> int:
            changed: int = conn.execute(
                f"UPDATE notifications SET read = 1{_where(clauses)}", params
            ).rowcount
            if changed:
                conn.execute(MOVE_NOTICES)
            return changed

        return await self._write(work, content=False)

    # subscriptions ---------------------------------------------------------------------------
    async def add_subscription(self, subscription: Subscription) -> tuple[Subscription, bool]:
        values = to_plain(subscription)

        def work(conn: sqlite3.Connection) -> tuple[Subscription, bool]:
            # The unique (user_id, target) index decides, in the write itself: DO NOTHING when
            # the pair is there, and then the row that was there is the answer.
            cursor = conn.execute(
                "INSERT INTO subscriptions (id, user_id, target, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id, target) DO NOTHING",
                [_to_sql(values[name]) for name in ("id", "user_id", "target", "created_at")],
            )
            row = conn.execute(
                "SELECT * FROM subscriptions WHERE user_id = ? AND target = ?",
                (subscription.user_id, subscription.target),
            ).fetchone()
            if cursor.rowcount == 1:
                conn.execute(MOVE_NOTICES)
            return _from_row(Subscription, row), cursor.rowcount == 1

        return await self._write(work, content=False)

    async def list_subscriptions(
        self, user_id: str, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Subscription]:
        return await self._page(
            Subscription, "subscriptions", "created_at", ["user_id = ?"], [user_id], after, limit
        )

    async def get_subscription(self, user_id: str, target: str) -> Subscription | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT * FROM subscriptions WHERE user_id = ? AND target = ?", (user_id, target)
            ).fetchone()
        )
        return _from_row(Subscription, row) if row else None

    async def list_subscribers(
        self, target: str, after: str | None, limit: int
    ) -> list[Subscription]:
        clauses, params = ["target = ?"], [target]
        if after is not None:
            clauses.append("user_id > ?")
            params.append(after)
        sql = f"SELECT * FROM subscriptions{_where(clauses)} ORDER BY user_id LIMIT ?"
        rows = await self._read(lambda conn: conn.execute(sql, [*params, max(limit, 0)]).fetchall())
        return [_from_row(Subscription, row) for row in rows]

    async def delete_subscription(self, subscription_id: str, user_id: str) -> bool:

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "DELETE FROM subscriptions WHERE id = ? AND user_id = ?", (subscription_id, user_id)
            )
            if cursor.rowcount == 1:
                conn.execute(MOVE_NOTICES)
            return cursor.rowcount == 1

        return await self._write(work, content=False)

    async def enqueue_mail(self, mail: Mail) -> None:
        await self._write(lambda conn: _insert(conn, "mail", to_plain(mail)), content=False)

    async def claim_mail(self, at: dt.datetime, lease_until: dt.datetime, limit: int) -> list[Mail]:
        if limit <= 0:
            return []

        def work(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            # Read and moved in one writer transaction: the single writer runs one claim at a
            # time, so no other claim sees these mails due. A NULL next_attempt_at (sent or given
            # up) is never <= anything.
            rows = conn.execute(
                "SELECT * FROM mail WHERE next_attempt_at <= ? "
                "ORDER BY next_attempt_at, id LIMIT ?",
                (iso(at), limit),
            ).fetchall()
            claimed = tuple(row["id"] for row in rows)
            if claimed:
                conn.execute(
                    f"UPDATE mail SET next_attempt_at = ? WHERE {_is_in('id', claimed)}",
                    (iso(lease_until), *claimed),
                )
            return rows

        return [_from_row(Mail, row) for row in await self._write(work, content=False)]

    async def finish_mail(
        self,
        mail_id: str,
        *,
        sent_at: dt.datetime | None,
        next_attempt_at: dt.datetime | None,
        attempts: int,
        error: str | None,
        body: str | None = None,
    ) -> None:
        await self._write(
            lambda conn: conn.execute(
                "UPDATE mail SET sent_at = ?, next_attempt_at = ?, attempts = ?, last_error = ?, "
                "body = coalesce(?, body) WHERE id = ?",
                (iso(sent_at), iso(next_attempt_at), attempts, error, body, mail_id),
            ),
            content=False,
        )

    async def count_mail_waiting(self) -> int:
        return await self._read(
            lambda conn: _count(conn, "SELECT COUNT(*) FROM mail WHERE next_attempt_at IS NOT NULL")
        )
