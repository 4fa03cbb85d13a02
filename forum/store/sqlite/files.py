"""Attachments: their rows, and their bytes in the files folder beside the database."""

from __future__ import annotations

import os
import sqlite3

from forum.durable import write_whole
from forum.model import Attachment, is_id
from forum.store.base import TOO_MANY_FILES, Conflict, NotFound
from forum.store.codec import to_plain
from forum.store.sqlite.core import _Core
from forum.store.sqlite.rows import _from_row, _insert


class _Files(_Core):
    """Attachments."""

    def _file_path(self, attachment_id: str) -> str:
        # Only well-formed ids name a file, so no id can point outside the folder.
        if not is_id(attachment_id):
            raise ValueError(f"not an attachment id: {attachment_id!r}")
        return os.path.join(self.files, attachment_id)

    async def add_attachment(self, attachment: Attachment, data: bytes) -> None:
        await self.add_attachments(attachment.post_id, [(attachment, data)], None)

    async def add_attachments(
        self, post_id: str, items: list[tuple[Attachment, bytes]], max_per_post: int | None
    ) -> None:
        paths = [self._file_path(attachment.id) for attachment, _ in items]

        def work(conn: sqlite3.Connection) -> None:
            # Asked before any byte is written: renaming over a taken id would replace the bytes
            # of the attachment that has it. The writer thread runs one of these at a time, and
            # its transaction holds the write lock, so the count below stays true until commit.
            ids = [attachment.id for attachment, _ in items]
            if (
                len(set(ids)) < len(ids)
                or conn.execute(
                    f"SELECT 1 FROM attachments WHERE id IN ({', '.join('?' for _ in ids)})", ids
                ).fetchone()
            ):
                raise Conflict(code="attachment_taken")
            if not conn.execute("SELECT 1 FROM posts WHERE id = ?", (post_id,)).fetchone():
                raise NotFound()
            if max_per_post is not None:
                (kept,) = conn.execute(
                    "SELECT COUNT(*) FROM attachments WHERE post_id = ?", (post_id,)
                ).fetchone()
                if kept + len(items) > max_per_post:
                    raise Conflict(code=TOO_MANY_FILES)
            # The files first, durably, then the rows: a crash in between leaves files no row
            # names (space lost), never a row naming a file that is not there.
            written = []
            try:
                for path, (attachment, data) in zip(paths, items):
                    write_whole(path, data)
                    written.append(path)
                    _insert(conn, "attachments", to_plain(attachment))
            except BaseException:
                for path in written:
                    os.remove(path)
                raise

        await self._write(work)

    async def get_attachment(self, attachment_id: str) -> tuple[Attachment, bytes] | None:
        def work(conn: sqlite3.Connection) -> tuple[Attachment, bytes] | None:
            row = conn.execute(
                "SELECT * FROM attachments WHERE id = ?", (attachment_id,)
            ).fetchone()
            if row is None:
                return None
            with open(self._file_path(row["id"]), "rb") as file:
                return _from_row(Attachment, row), file.read()

        return await self._read(work)

    async def list_attachments(self, post_id: str) -> list[Attachment]:
        return await self._children(Attachment, "attachments", "created_at", post_id)
