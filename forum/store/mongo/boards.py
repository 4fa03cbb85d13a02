"""Departments, boards, settings, reply templates and the knowledge base (FAQ)."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from forum.model import BoardSettings, Department, FaqEntry, ReplyTemplate
from forum.store.base import Conflict, FaqKey, NotFound
from forum.store.mongo.core import _Core
from forum.store.mongo.documents import _from_doc, _given, _oid, _to_doc


class _Boards(_Core):
    """Departments, boards, settings, reply templates, the knowledge base."""

    # departments and boards ------------------------------------------------------------------
    async def _insert_missing(self, collection: str, docs: list[dict[str, Any]]) -> None:
        if not docs:
            return
        # $setOnInsert leaves an existing document as it is, so an admin's edits survive and two
        # processes starting at once do not collide.
        await self._db[collection].bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"]},
                    {"$setOnInsert": {k: v for k, v in doc.items() if k != "_id"}},
                    upsert=True,
                )
                for doc in docs
            ],
            ordered=False,
        )

    async def ensure_departments(self, departments: list[Department]) -> None:
        await self._insert_missing("departments", [_to_doc(d) for d in departments])

    async def add_department(self, department: Department) -> None:
        try:
            await self._db["departments"].insert_one(_to_doc(department))
        except DuplicateKeyError as exc:
            raise Conflict(code="department_taken") from exc

    async def list_departments(self) -> list[Department]:
        docs = await self._db["departments"].find().sort("_id", 1).to_list()
        return [_from_doc(Department, doc) for doc in docs]

    async def ensure_boards(self, boards: list[BoardSettings]) -> None:
        await self._insert_missing("boards", [_to_doc(b) for b in boards])

    async def list_boards(self) -> list[BoardSettings]:
        return [_from_doc(BoardSettings, doc) for doc in await self._db["boards"].find().to_list()]

    async def get_board(self, slug: str) -> BoardSettings | None:
        doc = await self._db["boards"].find_one({"_id": slug})
        return _from_doc(BoardSettings, doc) if doc else None

    async def save_board(self, board: BoardSettings) -> None:
        doc = _to_doc(board)
        result = await self._db["boards"].replace_one({"_id": doc["_id"]}, doc)
        if result.matched_count == 0:
            raise NotFound()

    # settings --------------------------------------------------------------------------------
    async def get_setting(self, key: str) -> Any:
        doc = await self._db["settings"].find_one({"_id": key})
        return doc["value"] if doc else None

    async def put_setting(self, key: str, value: Any) -> None:
        await self._db["settings"].update_one({"_id": key}, {"$set": {"value": value}}, upsert=True)

    # reply templates and the knowledge base --------------------------------------------------
    async def add_template(self, template: ReplyTemplate) -> None:
        try:
            await self._insert("templates", template, None)
        except DuplicateKeyError as exc:
            raise Conflict(code="already_exists") from exc

    async def list_templates(self, department: str) -> list[ReplyTemplate]:
        cursor = (
            self._db["templates"]
            .find({"department": department})
            .sort([("created_at", -1), ("_id", -1)])
        )
        return [_from_doc(ReplyTemplate, doc) for doc in await cursor.to_list()]

    async def get_template(self, template_id: str) -> ReplyTemplate | None:
        doc = await self._db["templates"].find_one({"_id": _oid(template_id)})
        return _from_doc(ReplyTemplate, doc) if doc else None

    async def delete_template(self, template_id: str) -> bool:
        result = await self._db["templates"].delete_one({"_id": _oid(template_id)})
        return result.deleted_count > 0

    async def add_faq(self, entry: FaqEntry) -> None:
        try:
            await self._insert("faq", entry, None)
        except DuplicateKeyError as exc:
            raise Conflict(code="already_exists") from exc

    async def list_faq(self, board: str | None, after: FaqKey | None, limit: int) -> list[FaqEntry]:
        return await self._page(
            FaqEntry, "faq", "created_at", _given({"board": board}), after, limit
        )

    async def get_faq(self, entry_id: str) -> FaqEntry | None:
        doc = await self._db["faq"].find_one({"_id": _oid(entry_id)})
        return _from_doc(FaqEntry, doc) if doc else None

    async def delete_faq(self, entry_id: str) -> bool:
        result = await self._db["faq"].delete_one({"_id": _oid(entry_id)})
        return result.deleted_count > 0
