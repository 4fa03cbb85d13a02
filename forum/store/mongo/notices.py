"""Notifications, subscriptions (关注) and the mail outbox."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from forum.model import Mail, Notification, Subscription
from forum.store.mongo.core import _Core
from forum.store.mongo.documents import _from_doc, _oid, _to_doc

if TYPE_CHECKING:
    from pymongo.asynchronous.client_session import AsyncClientSession


class _Notices(_Core):
    """Notifications, subscriptions, mail."""

    # notifications and mail ------------------------------------------------------------------
    async def add_notifications(self, notifications: list[Notification]) -> None:
        if not notifications:
            return
        docs = [_to_doc(notification) for notification in notifications]

        async def write(session: AsyncClientSession | None) -> None:
            # Ordered: without a transaction, a crash leaves the first ones stored, each whole.
            await self._db["notifications"].insert_many(docs, ordered=True, session=session)

        await self._atomically(write)

    async def list_notifications(
        self, user_id: str, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Notification]:
        return await self._page(
            Notification, "notifications", "created_at", {"user_id": user_id}, after, limit
        )

    async def count_unread(self, user_id: str) -> int:
        return await self._db["notifications"].count_documents({"user_id": user_id, "read": False})

    async def count_all_unread(self) -> int:
        return await self._db["notifications"].count_documents({"read": False})

    async def mark_read(self, user_id: str, ids: list[str] | None) -> int:
        # The user's own unread documents only: another user's ids match nothing, and those
        # already read are not modified, so the count is of those that changed.
        query: dict[str, Any] = {"user_id": user_id, "read": False}
        if ids is not None:
            query["_id"] = {"$in": [_oid(i) for i in set(ids)]}
        result = await self._db["notifications"].update_many(query, {"$set": {"read": True}})
        return result.modified_count

    # subscriptions ---------------------------------------------------------------------------
    async def add_subscription(self, subscription: Subscription) -> tuple[Subscription, bool]:
        doc = _to_doc(subscription)
        pair = {"user_id": subscription.user_id, "target": subscription.target}
        # An upsert on the unique (user_id, target) index: the server inserts the document only
        # when the pair is absent (and retries by itself an upsert that lost the race to the
        # key), so no failed insert ever aborts the caller's transaction.
        try:
            stored = await self._db["subscriptions"].find_one_and_update(
                pair,
                {"$setOnInsert": {k: v for k, v in doc.items() if k not in pair}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            # A server that does not retry the upsert itself: the other caller's is there.
            stored = await self._db["subscriptions"].find_one(pair)
            if stored is None:
                raise
        assert stored is not None  # an upsert's document AFTER it is there: inserted or found
        found = _from_doc(Subscription, stored)
        return found, found.id == subscription.id

    async def list_subscriptions(
        self, user_id: str, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Subscription]:
        return await self._page(
            Subscription, "subscriptions", "created_at", {"user_id": user_id}, after, limit
        )

    async def get_subscription(self, user_id: str, target: str) -> Subscription | None:
        doc = await self._db["subscriptions"].find_one({"user_id": user_id, "target": target})
        return _from_doc(Subscription, doc) if doc else None

    async def list_subscribers(
        self, target: str, after: str | None, limit: int
    ) -> list[Subscription]:
        if limit <= 0:
            return []
        query: dict[str, Any] = {"target": target}
        if after is not None:
            query["user_id"] = {"$gt": after}
        cursor = self._db["subscriptions"].find(query).sort("user_id", 1).limit(limit)
        return [_from_doc(Subscription, doc) for doc in await cursor.to_list()]

    async def delete_subscription(self, subscription_id: str, user_id: str) -> bool:
        result = await self._db["subscriptions"].delete_one(
            {"_id": _oid(subscription_id), "user_id": user_id}
        )
        return result.deleted_count == 1

    async def enqueue_mail(self, mail: Mail) -> None:
        await self._insert("mail", mail, None)

    async def claim_mail(self, at: dt.datetime, lease_until: dt.datetime, limit: int) -> list[Mail]:
        mail = self._db["mail"]
        docs: list[dict[str, Any]] = []
        for _ in range(max(limit, 0)):
            # Each claim is one write the server applies atomically: of two senders reaching for
            # the same mail, the second no longer finds it due. ($lte on a date matches dates
            # only, so sent and given-up mails, null here, never match.) Those taken already
            # are left out, so that one call returns a mail once even with a lease before `at`.
            doc = await mail.find_one_and_update(
                {"next_attempt_at": {"$lte": at}, "_id": {"$nin": [d["_id"] for d in docs]}},
                {"$set": {"next_attempt_at": lease_until}},
                sort=[("next_attempt_at", 1), ("_id", 1)],
                return_document=ReturnDocument.BEFORE,
            )
            if doc is None:
                break
            docs.append(doc)
        return [_from_doc(Mail, doc) for doc in docs]

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
        changes = {
            "sent_at": sent_at,
            "next_attempt_at": next_attempt_at,
            "attempts": attempts,
            "last_error": error,
        }
        if body is not None:
            changes["body"] = body
        await self._db["mail"].update_one({"_id": _oid(mail_id)}, {"$set": changes})

    async def count_mail_waiting(self) -> int:
        # $type rather than $ne: null, so the next_attempt_at index bounds the count.
        return await self._db["mail"].count_documents({"next_attempt_at": {"$type": "date"}})
