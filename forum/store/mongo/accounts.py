"""Users, their sessions, and the API keys of other systems."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from forum.model import ApiKey, Role, Session, User
from forum.store.base import Conflict, NotFound
from forum.store.codec import plain_changes
from forum.store.mongo.core import _Core
from forum.store.mongo.documents import _from_doc, _oid, _to_doc


class _Accounts(_Core):
    """Users, sessions, API keys."""

    # users and sessions ----------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        doc = _to_doc(user)
        doc["username_key"] = user.username.casefold()  # the unique index compares this
        try:
            await self._db["users"].insert_one(doc)
        except DuplicateKeyError as exc:
            raise Conflict(code="username_taken") from exc

    async def get_user(self, user_id: str) -> User | None:
        doc = await self._db["users"].find_one({"_id": _oid(user_id)})
        return _from_doc(User, doc) if doc else None

    async def get_user_by_name(self, username: str) -> User | None:
        doc = await self._db["users"].find_one({"username_key": username.casefold()})
        return _from_doc(User, doc) if doc else None

    async def get_users(self, user_ids: list[str]) -> dict[str, User]:
        if not user_ids:
            return {}
        cursor = self._db["users"].find({"_id": {"$in": [_oid(i) for i in set(user_ids)]}})
        users = [_from_doc(User, doc) for doc in await cursor.to_list()]
        return {user.id: user for user in users}

    async def update_user(self, user_id: str, changes: dict[str, Any]) -> None:
        values = plain_changes(changes)
        if "username" in values:
            values["username_key"] = values["username"].casefold()
        users = self._db["users"]
        if not values:  # an empty $set is an error on the server; still say whether they exist
            if await users.find_one({"_id": _oid(user_id)}, {"_id": 1}) is None:
                raise NotFound()
            return
        try:
            result = await users.update_one({"_id": _oid(user_id)}, {"$set": values})
        except DuplicateKeyError as exc:
            raise Conflict(code="username_taken") from exc
        if result.matched_count == 0:
            raise NotFound()

    async def find_users(self, prefix: str, after: str | None, limit: int) -> list[User]:
        if limit <= 0:  # limit(0) means "no limit" to MongoDB
            return []
        key = prefix.casefold()
        # The same range as SQLite's (so both answer alike), served by the username_key index.
        bounds: dict[str, Any] = {"$gte": key, "$lt": key + "\uffff"}
        if after is not None:
            bounds["$gt"] = after.casefold()
        cursor = self._db["users"].find({"username_key": bounds}).sort("username_key", 1)
        return [_from_doc(User, doc) for doc in await cursor.limit(limit).to_list()]

    async def list_users(
        self, *, role: Role | None, department: str | None, limit: int
    ) -> list[User]:
        if limit <= 0:  # limit(0) means "no limit" to MongoDB
            return []
        query: dict[str, Any] = {"disabled": False}
        if role is not None:
            query["roles"] = Role(role).value  # matches an element of the roles array
        if department is not None:
            query["department"] = department
        cursor = self._db["users"].find(query).sort("username_key", 1).limit(limit)
        return [_from_doc(User, doc) for doc in await cursor.to_list()]

    async def add_session(self, session: Session) -> None:
        await self._db["sessions"].insert_one(_to_doc(session))

    async def get_session(self, token_hash: str) -> Session | None:
        doc = await self._db["sessions"].find_one({"_id": token_hash})
        return _from_doc(Session, doc) if doc else None

    async def touch_session(self, token_hash: str, at: dt.datetime) -> None:
        await self._db["sessions"].update_one({"_id": token_hash}, {"$set": {"last_seen_at": at}})

    async def delete_session(self, token_hash: str) -> None:
        await self._db["sessions"].delete_one({"_id": token_hash})

    async def delete_user_sessions(self, user_id: str) -> int:
        return (await self._db["sessions"].delete_many({"user_id": user_id})).deleted_count

    async def take_session(self, token_hash: str, kind: str) -> Session | None:
        # find_one_and_delete is atomic on one document: at most one caller gets it.
        doc = await self._db["sessions"].find_one_and_delete({"_id": token_hash, "kind": kind})
        return _from_doc(Session, doc) if doc else None

    # API keys --------------------------------------------------------------------------------
    async def add_api_key(self, key: ApiKey) -> None:
        try:
            await self._db["api_keys"].insert_one(_to_doc(key))
        except DuplicateKeyError as exc:  # the id or the key's hash is taken
            raise Conflict(code="key_taken") from exc

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        doc = await self._db["api_keys"].find_one({"key_hash": key_hash})
        return _from_doc(ApiKey, doc) if doc else None

    async def list_api_keys(self) -> list[ApiKey]:
        cursor = self._db["api_keys"].find().sort([("created_at", -1), ("_id", -1)])
        return [_from_doc(ApiKey, doc) for doc in await cursor.to_list()]

    async def revoke_api_key(self, key_id: str, at: dt.datetime) -> ApiKey:
        keys = self._db["api_keys"]
        # Only a key not yet revoked is changed (null matches a missing field too), so a second
        # revocation keeps the first one's time.
        doc = await keys.find_one_and_update(
            {"_id": _oid(key_id), "revoked_at": None},
            {"$set": {"revoked_at": at}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            doc = await keys.find_one({"_id": _oid(key_id)})
        if doc is None:
            raise NotFound()
        return _from_doc(ApiKey, doc)
