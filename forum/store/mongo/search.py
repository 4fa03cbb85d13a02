"""Search: each post's terms on its document, ranked in an aggregation."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne

from forum.model import Post, PostFilter, SearchHit, SearchRank
from forum.store.base import NotFound
from forum.store.codec import as_utc
from forum.store.mongo.core import _Core
from forum.store.mongo.documents import _from_doc, _oid, _post_query

SEARCH_CANDIDATES = 500  # per term; see search_posts


class _Search(_Core):
    """The search index and its queries."""

    # search ----------------------------------------------------------------------------------
    async def index_post(self, post_id: str, terms: list[str]) -> None:
        # `terms` lives on the post's document (a Post has no such field; reading ignores it).
        # The other writes to a post $set their fields, so they keep it.
        # Repeats kept: a term given several times (a title's) weighs more in the ranking.
        kept = [term for term in terms if term]
        update = {"$set": {"terms": kept}} if kept else {"$unset": {"terms": ""}}
        result = await self._db["posts"].update_one({"_id": _oid(post_id)}, update)
        if result.matched_count == 0:
            raise NotFound()

    async def index_posts(self, entries: list[tuple[str, list[str]]]) -> None:
        latest = dict(entries)  # a post given twice gets its last terms, as in SQLite
        if not latest:
            return
        operations = []
        for post_id, terms in latest.items():
            kept = [term for term in terms if term]
            operations.append(
                UpdateOne(
                    {"_id": _oid(post_id)},
                    {"$set": {"terms": kept}} if kept else {"$unset": {"terms": ""}},
                )
            )
        # Unordered: each post's terms stand alone; a post that is not there matches nothing.
        await self._db["posts"].bulk_write(operations, ordered=False)

    async def search_posts(
        self, terms: list[str], where: list[PostFilter], offset: int, limit: int
    ) -> list[SearchHit]:
        wanted = list(dict.fromkeys(term for term in terms if term))
        if not wanted or not where or limit <= 0:
            return []
        # The terms are values to compare, never operators or field paths: $in takes them as
        # values, and $literal keeps one like "$ne" from being read as a field inside $filter.
        # Ranked as SQLite ranks: first by how many of the query's terms the post has, then by
        # how often they occur (a title's terms are stored several times, so a title match
        # weighs more), then newer.
        pipeline = self._search_pipeline(wanted, where, offset, limit)
        cursor = await self._db["posts"].aggregate(pipeline)
        return [
            SearchHit(_from_doc(Post, doc), doc["_matched"] + doc["_weight"] / (1 + doc["_weight"]))
            for doc in await cursor.to_list()
        ]

    @staticmethod
    def _search_pipeline(
        wanted: list[str], where: list[PostFilter], offset: int, limit: int
    ) -> list[dict[str, Any]]:
        occurrences = {
            "$size": {
                "$filter": {"input": "$terms", "cond": {"$in": ["$$this", {"$literal": wanted}]}}
            }
        }
        return [
            {
                "$match": {
                    "$and": [
                        {"terms": {"$in": wanted}},
                        {"$or": [_post_query(one) for one in where]},
                    ]
                }
            },
            # Only the newest matches are ranked, as in SQLite (its SEARCH_CANDIDATES per term):
            # ranking every match of a common word costs time that grows with the data.
            {"$sort": {"created_at": -1, "_id": -1}},
            {"$limit": SEARCH_CANDIDATES * len(wanted)},
            {
                "$addFields": {
                    "_matched": {
                        "$size": {
                            "$filter": {
                                "input": {"$literal": wanted},
                                "cond": {"$in": ["$$this", "$terms"]},
                            }
                        }
                    },
                    "_weight": occurrences,
                }
            },
            {"$sort": {"_matched": -1, "_weight": -1, "created_at": -1, "_id": -1}},
            {"$skip": max(offset, 0)},
            {"$limit": limit},
            {"$project": {"terms": 0}},
        ]

    async def search_ranks(
        self, terms: list[str], where: list[PostFilter], limit: int
    ) -> list[SearchRank]:
        wanted = list(dict.fromkeys(term for term in terms if term))
        if not wanted or not where or limit <= 0:
            return []
        pipeline = self._search_pipeline(wanted, where, 0, limit)
        # Only what ranking and counting need leaves the server: not the posts' text.
        pipeline[-1] = {"$project": {"_id": 1, "created_at": 1, "_matched": 1, "_weight": 1}}
        cursor = await self._db["posts"].aggregate(pipeline)
        return [
            SearchRank(
                str(doc["_id"]),
                as_utc(doc["created_at"]),
                doc["_matched"] + doc["_weight"] / (1 + doc["_weight"]),
            )
            for doc in await cursor.to_list()
        ]

    async def get_posts(self, post_ids: list[str]) -> list[Post]:
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return []
        cursor = self._db["posts"].find({"_id": {"$in": [_oid(one) for one in ids]}}, {"terms": 0})
        found = {str(doc["_id"]): _from_doc(Post, doc) for doc in await cursor.to_list()}
        return [found[post_id] for post_id in post_ids if post_id in found]
