"""Idempotency-Key on the API's creates and Open311's POST requests, through HTTP."""

from __future__ import annotations

import asyncio
import json

import pytest

from forum.model import PostFilter, Role
from tests.support import files
from tests.support.people import login_as
from tests.support.web import multipart
from tests.web.test_open311 import FORM, Open311, issue

POST = {"title": "公交站没有顶棚", "body": "下雨没处躲。"}


async def posts_in(store, board="forum") -> int:
    return len(await store.list_posts(PostFilter(board=board), None, 100))


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


@pytest.mark.gen_test
async def test_a_retry_gets_the_first_answer_and_creates_nothing(api, store):
    writer = await login_as(api, store, "writer")
    first = await writer.post("/boards/forum/posts", POST, headers=keyed("post-1"))
    assert first.status == 201 and "Idempotent-Replayed" not in first.headers
    again = await writer.post("/boards/forum/posts", POST, headers=keyed("post-1"))
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.text == first.text and again.headers["Cache-Control"] == "no-store"
    assert await posts_in(store) == 1
    # Without the header every request creates, as before.
    assert (await writer.post("/boards/forum/posts", POST)).status == 201
    assert await posts_in(store) == 2


@pytest.mark.gen_test
async def test_the_same_key_with_another_body_is_refused(api, store):
    writer = await login_as(api, store, "writer")
    assert (await writer.post("/boards/forum/posts", POST, headers=keyed("k"))).status == 201
    other = await writer.post(
        "/boards/forum/posts", {**POST, "body": "另一件事"}, headers=keyed("k")
    )
    assert other.status == 422 and set(other.error["fields"]) == {"Idempotency-Key"}
    assert await posts_in(store) == 1


@pytest.mark.gen_test
@pytest.mark.parametrize("key", ["", "x" * 65, "two words", "caf\u00e9"])
async def test_a_malformed_key_is_refused_naming_the_header(api, store, key):
    writer = await login_as(api, store, "writer")
    refused = await writer.post("/boards/forum/posts", POST, headers=keyed(key))
    assert refused.status == 422, refused.text
    assert set(refused.error["fields"]) == {"Idempotency-Key"}
    assert await posts_in(store) == 0


@pytest.mark.gen_test
async def test_keys_are_per_caller(api, store):
    alice = await login_as(api, store, "alice")
    bob = await login_as(api, store, "bob")
    made = [
        await who.post("/boards/forum/posts", POST, headers=keyed("same")) for who in (alice, bob)
    ]
    assert [m.status for m in made] == [201, 201]
    assert not any("Idempotent-Replayed" in m.headers for m in made)
    assert made[0].json()["post"]["id"] != made[1].json()["post"]["id"]
    assert await posts_in(store) == 2


@pytest.mark.gen_test
async def test_concurrent_creates_with_one_key_make_one_record(api, store):
    writer = await login_as(api, store, "writer")
    answers = await asyncio.gather(
        *(writer.post("/boards/forum/posts", POST, headers=keyed("burst")) for _ in range(5))
    )
    assert [a.status for a in answers] == [201] * 5
    assert len({a.json()["post"]["id"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert await posts_in(store) == 1


@pytest.mark.gen_test
async def test_a_key_is_new_again_after_a_day(api, store, clock):
    writer = await login_as(api, store, "writer")
    first = await writer.post("/boards/forum/posts", POST, headers=keyed("daily"))
    clock.advance(hours=23)
    assert (await writer.post("/boards/forum/posts", POST, headers=keyed("daily"))).headers.get(
        "Idempotent-Replayed"
    ) == "true"
    clock.advance(hours=2)
    later = await writer.post("/boards/forum/posts", POST, headers=keyed("daily"))
    assert later.status == 201 and "Idempotent-Replayed" not in later.headers
    assert later.json()["post"]["id"] != first.json()["post"]["id"]
    assert await posts_in(store) == 2


@pytest.mark.gen_test
async def test_a_refused_create_leaves_the_key_free(api, store):
    writer = await login_as(api, store, "writer")
    wrong = await writer.post(
        "/boards/forum/posts", {"title": "", "body": ""}, headers=keyed("fix-me")
    )
    assert wrong.status == 422
    fixed = await writer.post("/boards/forum/posts", POST, headers=keyed("fix-me"))
    assert fixed.status == 201 and "Idempotent-Replayed" not in fixed.headers


@pytest.mark.gen_test
async def test_an_anonymous_report_replays_its_tracking_code_which_the_store_never_holds(
    api, store
):
    report = {"title": "虚开发票", "body": "某公司"}
    first = await api.post("/boards/tax/posts", report, headers=keyed("tax-1"))
    assert first.status == 201
    again = await api.post("/boards/tax/posts", report, headers=keyed("tax-1"))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["tracking_code"] == first.json()["tracking_code"]
    assert await posts_in(store, "tax") == 1
    # What the store keeps for the retry holds neither the code nor the key as sent.
    import sqlite3

    conn = sqlite3.connect(store.path)
    try:
        rows = conn.execute("SELECT * FROM idempotency").fetchall()
    finally:
        conn.close()
    assert len(rows) == 1
    kept = repr(rows)
    assert first.json()["tracking_code"] not in kept and "tax-1" not in kept


@pytest.mark.gen_test
async def test_every_api_create_takes_the_key(api, store):
    root = await login_as(api, store, "root", Role.ADMIN)
    writer = await login_as(api, store, "writer")
    reader = await login_as(api, store, "reader")
    post_id = (
        await writer.post(
            "/boards/mayor/posts",
            {
                "title": "路灯",
                "body": "不亮",
                "letter_type": "complaint",
                "area": "city",
                "contact": "13812345678",
            },
        )
    ).json()["post"]["id"]
    forum_id = (await writer.post("/boards/forum/posts", POST)).json()["post"]["id"]
    body, content_type = multipart([("files", "a.png", files.png())])
    calls = [
        (api, "/auth/register", {"username": "newbie", "password": "correct-horse-9"}, None),
        (reader, f"/posts/{forum_id}/replies", {"body": "同感"}, None),
        (reader, f"/posts/{forum_id}/flag", {"reason": "广告"}, None),
        (root, "/admin/departments", {"slug": "water", "name": "水务局"}, None),
        (root, "/admin/api-keys", {"name": "热线"}, None),
        (writer, f"/posts/{post_id}/attachments", None, (body, content_type)),
        (root, "/departments/housing/templates", {"title": "模板", "body": "正文"}, None),
    ]
    for who, path, data, raw in calls:
        extra = (
            {"raw": raw[0], "headers": {"Content-Type": raw[1], **keyed(path)}}
            if raw
            else {"headers": keyed(path)}
        )
        first = await who.post(path, data, **extra)
        assert first.status == 201, (path, first.text)
        again = await who.post(path, data, **extra)
        assert (again.status, again.text) == (first.status, first.text), path
        assert again.headers["Idempotent-Replayed"] == "true", path
    assert len(await store.list_replies(forum_id)) == 1
    assert len(await store.list_flags(forum_id)) == 1
    assert len(await store.list_attachments(post_id)) == 1
    assert len(await store.list_api_keys()) == 1
    assert len(await store.list_templates("housing")) == 1


@pytest.mark.gen_test
async def test_open311_requests_take_the_key_in_json_and_xml(http_client, base_url, api, store):
    o311 = Open311(http_client, base_url)
    key = await issue(api, store)
    fields = {"api_key": key, "service_code": "tax", "description": "某公司虚开发票"}
    for path in ("/requests.json", "/requests.xml"):
        first = await o311.post(fields, path=path, headers={**FORM, **keyed(path)})
        assert first.status == 201, first.text
        again = await o311.post(fields, path=path, headers={**FORM, **keyed(path)})
        assert (again.status, again.text) == (201, first.text)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert await posts_in(store, "tax") == 2
    other = await o311.post(
        {**fields, "description": "另一件"}, headers={**FORM, **keyed("/requests.json")}
    )
    assert other.status == 422 and "Idempotency-Key" in json.dumps(other.json())
    bad = await o311.post(fields, headers={**FORM, **keyed("x" * 65)})
    assert bad.status == 422
    assert await posts_in(store, "tax") == 2


def test_the_api_document_offers_the_key_on_every_create():
    from forum.web import openapi

    document = openapi.document()
    creates = [
        (path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method == "post" and "201" in op["responses"]
    ]
    assert len(creates) == 14  # each create of API.md: casework, following, FAQ and templates
    for path, op in creates:
        assert {"$ref": "#/components/parameters/idempotencyKey"} in op["parameters"], path
        assert "Idempotent-Replayed" in op["responses"]["201"]["headers"], path
        assert {"409", "422"} <= set(op["responses"]), path
    assert document["components"]["parameters"]["idempotencyKey"]["name"] == "Idempotency-Key"


@pytest.mark.gen_test
async def test_a_retry_while_the_first_still_runs_is_409_on_the_api_and_open311(
    http_client, base_url, api, store, monkeypatch
):
    from forum.services import idempotency, open311, posting

    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    started, release = asyncio.Event(), asyncio.Event()

    def held(create):
        async def slow(*args, **kwargs):
            started.set()
            await release.wait()
            return await create(*args, **kwargs)

        return slow

    monkeypatch.setattr(posting, "create_post", held(posting.create_post))
    monkeypatch.setattr(open311, "create_request", held(open311.create_request))
    writer = await login_as(api, store, "writer")
    o311 = Open311(http_client, base_url)
    fields = {"api_key": await issue(api, store), "service_code": "tax", "description": "发票"}
    for send in (
        lambda: writer.post("/boards/forum/posts", POST, headers=keyed("slow")),
        lambda: o311.post(fields, headers={**FORM, **keyed("slow")}),
    ):
        started.clear()
        release.clear()
        first = asyncio.ensure_future(send())
        await started.wait()
        busy = await send()
        assert busy.status == 409, busy.text
        release.set()
        assert (await first).status == 201
        assert (await send()).headers["Idempotent-Replayed"] == "true"
    assert await posts_in(store) == 1 and await posts_in(store, "tax") == 1
