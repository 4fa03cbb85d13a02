"""Upgrading an existing MongoDB database: one an older version left opens, gains the new
indexes and reads its documents (on the stand-in unless FORUM_TEST_MONGODB_URI is set)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from forum.model import Mail, Notification, PostFilter, Status, new_id
from forum.store.mongo import MIGRATIONS, _to_doc
from tests.store.test_contract import T0, ids, make_api_key, make_post, make_user
from tests.support import stores


@pytest.mark.gen_test
async def test_a_version_3_database_gains_the_overdue_index_and_its_posts_read_as_not_noted(
    tmp_path,
):
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
        noted = await store.update_post(
            old.id, {"overdue_since": T0}, expect={"status": Status.ROUTED}
        )
        assert noted.overdue_since == T0
        assert ids(await store.list_posts(PostFilter(overdue_noted=True), None, 5)) == [old.id]
        await store.open()  # opening again changes nothing
        assert (await db["meta"].find_one({"_id": "schema"}))["version"] == len(MIGRATIONS)
    finally:
        await stores.dispose(store)


# The version that added the notification and mail indexes (and User.email_confirmed).
NOTIFICATIONS_VERSION = 6


@pytest.mark.gen_test
async def test_a_version_5_database_gains_the_notification_and_mail_indexes(tmp_path):
    store = stores.make("mongodb", tmp_path)
    db = store._db
    try:
        before = NOTIFICATIONS_VERSION - 1
        for step in MIGRATIONS[:before]:
            await step(db)
        await db["meta"].update_one({"_id": "schema"}, {"$set": {"version": before}}, upsert=True)
        # A user as earlier versions wrote them: no email_confirmed field at all.
        old = make_user("lawyer")
        doc = _to_doc(old)
        del doc["email_confirmed"]
        await db["users"].insert_one({**doc, "username_key": "lawyer"})

        await store.open()
        notifications = await db["notifications"].index_information()
        assert notifications["user_time"]["key"] == [
            ("user_id", 1),
            ("created_at", -1),
            ("_id", -1),
        ]
        assert notifications["user_read"]["key"] == [("user_id", 1), ("read", 1)]
        mail_indexes = await db["mail"].index_information()
        assert mail_indexes["next_attempt_at"]["key"] == [("next_attempt_at", 1)]
        assert (await db["meta"].find_one({"_id": "schema"}))["version"] == len(MIGRATIONS)

        assert await store.get_user(old.id) == old  # email_confirmed False
        await store.update_user(old.id, {"email_confirmed": True})
        assert await store.get_user(old.id) == dataclasses.replace(old, email_confirmed=True)
        notification = Notification(new_id(), old.id, "answer", None, "您的咨询有了答复", T0)
        await store.add_notifications([notification])
        assert await store.list_notifications(old.id, None, 5) == [notification]
        assert await store.mark_read(old.id, None) == 1
        mail = Mail(new_id(), "lawyer@example.org", "答复", "请登录查看", T0, next_attempt_at=T0)
        await store.enqueue_mail(mail)
        assert await store.claim_mail(T0, T0 + dt.timedelta(minutes=5), 5) == [mail]
        await store.open()  # opening again changes nothing
        assert (await db["meta"].find_one({"_id": "schema"}))["version"] == len(MIGRATIONS)
    finally:
        await stores.dispose(store)


# The version that added the search terms index.
SEARCH_VERSION = 5


@pytest.mark.gen_test
async def test_a_version_4_database_gains_the_terms_index_and_its_posts_can_be_found(tmp_path):
    store = stores.make("mongodb", tmp_path)
    db = store._db
    try:
        before = SEARCH_VERSION - 1
        for step in MIGRATIONS[:before]:
            await step(db)
        await db["meta"].update_one({"_id": "schema"}, {"$set": {"version": before}}, upsert=True)
        old = make_post()  # as version 4 wrote it: no terms field
        await db["posts"].insert_one(_to_doc(old))
        assert "terms" not in await db["posts"].index_information()

        await store.open()
        assert (await db["posts"].index_information())["terms"]["key"] == [("terms", 1)]
        assert await store.search_posts(["标题"], [PostFilter()], 0, 5) == []
        await store.index_post(old.id, ["标题", "正文"])
        (hit,) = await store.search_posts(["正文"], [PostFilter(board="forum")], 0, 5)
        assert hit.post == old
        assert await store.get_post(old.id) == old  # the terms field is not part of a Post
        await store.open()
        assert (await db["meta"].find_one({"_id": "schema"}))["version"] == len(MIGRATIONS)
    finally:
        await stores.dispose(store)


# The version that added the API keys of Open311 clients.
API_KEYS_VERSION = 8


@pytest.mark.gen_test
async def test_a_version_7_database_gains_the_api_key_indexes(tmp_path):
    store = stores.make("mongodb", tmp_path)
    db = store._db
    try:
        before = API_KEYS_VERSION - 1
        for step in MIGRATIONS[:before]:
            await step(db)
        await db["meta"].update_one({"_id": "schema"}, {"$set": {"version": before}}, upsert=True)
        await store.open()
        indexes = await db["api_keys"].index_information()
        assert indexes["key_hash"]["key"] == [("key_hash", 1)] and indexes["key_hash"]["unique"]
        assert indexes["time"]["key"] == [("created_at", -1), ("_id", -1)]
        assert (await db["meta"].find_one({"_id": "schema"}))["version"] == len(MIGRATIONS)
        key = make_api_key()
        await store.add_api_key(key)
        assert await store.list_api_keys() == [key]
    finally:
        await stores.dispose(store)


@pytest.mark.gen_test
async def test_a_database_of_a_newer_schema_is_refused_naming_both_versions(tmp_path):
    from forum.store.base import StoreRefused

    store = stores.make("mongodb", tmp_path)
    try:
        await store._db["meta"].update_one(
            {"_id": "schema"}, {"$set": {"version": len(MIGRATIONS) + 2}}, upsert=True
        )
        with pytest.raises(StoreRefused) as refused:
            await store.open()
        assert (
            f"schema version {len(MIGRATIONS) + 2}, newer than this code's {len(MIGRATIONS)}"
        ) in str(refused.value)
        assert await store._db["posts"].index_information() == {}  # no step ran
    finally:
        await stores.dispose(store)
