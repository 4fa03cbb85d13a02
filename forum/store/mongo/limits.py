"""Limits: hits counted against rate limits, and idempotency keys."""

from __future__ import annotations

import datetime as dt

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from forum.model import IdempotencyRecord
from forum.store.base import IDEMPOTENCY_RETENTION, Conflict
from forum.store.codec import as_utc, from_plain, to_plain
from forum.store.mongo.core import _Core


class _Limits(_Core):
    """Throttling hits, idempotency keys."""

    # throttling ------------------------------------------------------------------------------
    # One document per key, {_id: key, at: its latest hit, hits: [{id, at}, ...]}, so that a
    # reservation is one atomic update (see reserve_hit). The TTL index on `at` (see
    # _create_indexes) drops a key's document a day after its latest hit. Documents of the
    # earlier shape, one per hit with a `key` field, are never read; the same index drops them.
    async def count_hits(self, key: str, since: dt.datetime) -> int:
        found = await self._db["hits"].find_one({"_id": key})
        return sum(1 for hit in (found or {}).get("hits", []) if as_utc(hit["at"]) >= since)

    async def reserve_hit(
        self, key: str, at: dt.datetime, since: dt.datetime, limit: int
    ) -> str | None:
        # Never inside a unit of work: a limit counts the attempt on its own, before the work,
        # and a transaction would turn two attempts at once into a write conflict.
        hits = self._database["hits"]
        hit_id = str(ObjectId())
        await hits.update_one({"_id": key}, {"$pull": {"hits": {"at": {"$lt": since}}}})
        if limit <= 0:
            return None
        # The key's document takes the hit only while its array has no element at index
        # limit - 1, i.e. fewer than `limit` hits: one conditional update, atomic on any
        # deployment. (Inserting a hit and then counting those before it would need the order
        # of hits to be the order of their inserts, which neither client ids nor times give
        # across connections and processes.)
        room = {"_id": key, f"hits.{limit - 1}": {"$exists": False}}
        push = {"$push": {"hits": {"id": hit_id, "at": at}}, "$max": {"at": at}}
        try:
            await hits.update_one(room, push, upsert=True)
            return hit_id
        except DuplicateKeyError:
            # The document is there and full, or another first hit made it meanwhile: ask once
            # more, now that it exists.
            return hit_id if (await hits.update_one(room, push)).matched_count else None

    async def release_hit(self, key: str, hit_id: str) -> None:
        await self._database["hits"].update_one({"_id": key}, {"$pull": {"hits": {"id": hit_id}}})

    async def clear_hits(self, key: str) -> None:
        await self._db["hits"].delete_one({"_id": key})

    # idempotency keys ------------------------------------------------------------------------
    async def claim_idempotency(
        self, caller: str, key: str, body_hash: str, at: dt.datetime
    ) -> IdempotencyRecord | None:
        records = self._db["idempotency"]
        pair = {"caller": caller, "key": key}
        record = to_plain(IdempotencyRecord(caller, key, body_hash, at))
        for _ in range(3):
            # The TTL monitor runs about once a minute, by the server's clock: a record past its
            # day is dropped here, by the caller's, before the key can be taken anew.
            await records.delete_one({**pair, "created_at": {"$lt": at - IDEMPOTENCY_RETENTION}})
            try:
                await records.insert_one(dict(record))
                return None
            except DuplicateKeyError:  # the unique (caller, key) index: taken already
                found = await records.find_one(pair, {"_id": 0})
            existing = from_plain(IdempotencyRecord, found) if found is not None else None
            if existing is not None and existing.created_at >= at - IDEMPOTENCY_RETENTION:
                return existing
            # Gone or expired between the insert and the read: try again.
        raise Conflict()

    async def finish_idempotency(
        self, caller: str, key: str, status: int, content_type: str, body: str
    ) -> None:
        await self._db["idempotency"].update_one(
            {"caller": caller, "key": key},
            {"$set": {"status": status, "content_type": content_type, "body": body}},
        )

    async def release_idempotency(self, caller: str, key: str) -> None:
        await self._db["idempotency"].delete_one({"caller": caller, "key": key})
