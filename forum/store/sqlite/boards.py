"""Departments and boards, the settings, and what departments answer with: reply templates
and the knowledge base (常见问题)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from forum.model import BoardSettings, Department, FaqEntry, ReplyTemplate
from forum.store.base import Conflict, FaqKey, NotFound
from forum.store.codec import to_plain
from forum.store.sqlite.core import _Core
from forum.store.sqlite.rows import _equal, _from_row, _insert, _to_sql


class _Boards(_Core):
    """Departments, boards, reply templates, the knowledge base, settings."""

    # departments and boards ------------------------------------------------------------------
    async def ensure_departments(self, departments: list[Department]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR IGNORE INTO departments (slug, name, kind) VALUES (?, ?, ?)",
                [(d.slug, d.name, d.kind) for d in departments],
            )

        await self._write(work)

    async def add_department(self, department: Department) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "departments", to_plain(department))
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="department_taken") from exc

        await self._write(work)

    async def list_departments(self) -> list[Department]:
        # Kept per content version for pages by forum/store/kept.py, as every content read.
        rows = await self._read(
            lambda conn: conn.execute("SELECT * FROM departments ORDER BY slug").fetchall()
        )
        return [_from_row(Department, row) for row in rows]

    async def ensure_boards(self, boards: list[BoardSettings]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for board in boards:
                if conn.execute("SELECT 1 FROM boards WHERE slug = ?", (board.slug,)).fetchone():
                    continue
                _insert(conn, "boards", to_plain(board))

        await self._write(work)

    async def list_boards(self) -> list[BoardSettings]:
        rows = await self._read(
            lambda conn: conn.execute("SELECT * FROM boards ORDER BY slug").fetchall()
        )
        return [_from_row(BoardSettings, row) for row in rows]

    async def get_board(self, slug: str) -> BoardSettings | None:
        row = await self._read(
            lambda conn: conn.execute("SELECT * FROM boards WHERE slug = ?", (slug,)).fetchone()
        )
        return _from_row(BoardSettings, row) if row else None

    async def save_board(self, board: BoardSettings) -> None:
        values = to_plain(board)
        slug = values.pop("slug")

        def work(conn: sqlite3.Connection) -> None:
            assignments = ", ".join(f"{name} = ?" for name in values)
            cursor = conn.execute(
                f"UPDATE boards SET {assignments} WHERE slug = ?",
                [_to_sql(v) for v in values.values()] + [slug],
            )
            if cursor.rowcount == 0:
                raise NotFound()

        await self._write(work)

    # reply templates and the knowledge base ----------------------------------------------------
    async def add_template(self, template: ReplyTemplate) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "templates", to_plain(template))
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="already_exists") from exc

        await self._write(work)

    async def list_templates(self, department: str) -> list[ReplyTemplate]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT * FROM templates WHERE department = ? ORDER BY created_at DESC, id DESC",
                (department,),
            ).fetchall()
        )
        return [_from_row(ReplyTemplate, row) for row in rows]

    async def get_template(self, template_id: str) -> ReplyTemplate | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT * FROM templates WHERE id = ?", (template_id,)
            ).fetchone()
        )
        return _from_row(ReplyTemplate, row) if row else None

    async def delete_template(self, template_id: str) -> bool:
        return bool(
            await self._write(
                lambda conn: (
                    conn.execute("DELETE FROM templates WHERE id = ?", (template_id,)).rowcount
                )
            )
        )

    async def add_faq(self, entry: FaqEntry) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "faq", to_plain(entry))
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="already_exists") from exc

        await self._write(work)

    async def list_faq(self, board: str | None, after: FaqKey | None, limit: int) -> list[FaqEntry]:
        clauses, params = _equal({"board": board})
        return await self._page(FaqEntry, "faq", "created_at", clauses, params, after, limit)

    async def get_faq(self, entry_id: str) -> FaqEntry | None:
        row = await self._read(
            lambda conn: conn.execute("SELECT * FROM faq WHERE id = ?", (entry_id,)).fetchone()
        )
        return _from_row(FaqEntry, row) if row else None

    async def delete_faq(self, entry_id: str) -> bool:
        return bool(
            await self._write(
                lambda conn: conn.execute("DELETE FROM faq WHERE id = ?", (entry_id,)).rowcount
            )
        )

    # settings --------------------------------------------------------------------------------
    async def get_setting(self, key: str) -> Any:
        row = await self._read(
            lambda conn: conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        )
        return json.loads(row["value"]) if row else None

    async def put_setting(self, key: str, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=False)
        await self._write(
            lambda conn: conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, text),
            )
        )
