"""Upgrading an existing MongoDB database: one an older version left opens, gains the new
indexes and reads its documents (on the stand-in unless FORUM_TEST_MONGODB_URI is set)."""
from __future__ import annotations

import pytest

from forum.model import PostFilter, Status
from forum.store.mongo import MIGRATIONS, _to_doc
from tests.store.test_contract import T0, ids, make_post
from tests.support import stores


@pytest.mark.gen_test
async def test_a_version_3_database_gains_the_overdue_index_and_its_posts_read_as_not_noted(
        tmp_path):
    store = stores.make("mongodb", tmp_path)
    db = store._db
    try:
        for step in MIGRATIONS[:3]:
            await step(db)
        await db["meta"].update_one({"_id": "schema"}, {"$set": {"version": 3}}, upsert=True)
        # A post as version 3 wrote it: no overdue_since field at all.
        old = make_post(board="mayor", status=Status.ROUTED)
        doc = _to_doc(old)
        del doc["overdue_since"]
        await db["posts"].insert_one(doc)
        assert "status_overdue" not in await db["posts"].index_information()

        await store.open()
        indexes = await db["posts"].index_information()
        assert indexes["status_overdue"]["key"] == [("status", 1), ("overdue_since", 1)]
        assert (await db["meta"].find_one({"_id": "schema"}))["version"] == len(MIGRATIONS)
        assert await store.get_post(old.id) == old  # overdue_since None
        assert ids(await store.list_posts(PostFilter(overdue_noted=False), None, 5)) == [old.id]
        assert await store.list_posts(PostFilter(overdue_noted=True), None, 5) == []
        noted = await store.update_post(old.id, {"overdue_since": T0},
                                        expect={"status": Status.ROUTED})
        assert noted.overdue_since == T0
        assert ids(await store.list_posts(PostFilter(overdue_noted=True), None, 5)) == [old.id]
        await store.open()  # opening again changes nothing
        assert (await db["meta"].find_one({"_id": "schema"}))["version"] == len(MIGRATIONS)
    finally:
        await stores.dispose(store)
