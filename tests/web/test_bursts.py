"""Rate limits and the attachment cap against requests fired at once: each limit lets exactly its
count through, however many requests arrive before the first one is done. The clock stands
still, so every attempt falls in the same millisecond too."""

from __future__ import annotations

import asyncio
import collections

import pytest
from tornado.httpclient import AsyncHTTPClient

from forum.model import PostFilter
from forum.services import attachments, throttle
from tests.support import files
from tests.support.people import person
from tests.support.web import Api
from tests.web.test_api_cases import LETTER, upload
from tests.web.test_open311 import Open311, issue

# More connections than any burst below: the default client sends ten at a time and queues the
# rest, which would let the first requests finish before the last ones start.
CONNECTIONS = 100


@pytest.fixture
def burst_api(http_server, base_url):
    client = AsyncHTTPClient(force_instance=True, max_clients=CONNECTIONS)
    yield Api(client, base_url)
    client.close()


async def at_once(count, make):
    """`count` requests started together; how many answered with each status."""
    answers = await asyncio.gather(*(make(n) for n in range(count)))
    return collections.Counter(answer.status for answer in answers)


@pytest.mark.gen_test(timeout=60)
async def test_wrong_passwords_at_once_are_answered_only_up_to_the_limit(burst_api, store):
    await person(store, "alice")
    limit = throttle.LOGIN_PER_ACCOUNT.count
    statuses = await at_once(
        40,
        lambda _: burst_api.post(
            "/auth/login", {"username": "alice", "password": "wrong-password"}
        ),
    )
    assert statuses == {401: limit, 429: 40 - limit}
    # The limit holds afterwards too, even for the right password from this address.
    right = await burst_api.post(
        "/auth/login", {"username": "alice", "password": "correct-horse-9"}
    )
    assert right.status == 429


@pytest.mark.gen_test(timeout=60)
async def test_tracking_look_ups_at_once_are_answered_only_up_to_the_limit(burst_api):
    limit = throttle.TRACKING_PER_ADDRESS.count
    statuses = await at_once(60, lambda _: burst_api.get("/track/AAAAAAAAAAAAAAAA"))
    assert statuses == {404: limit, 429: 60 - limit}


@pytest.mark.gen_test(timeout=60)
async def test_registrations_at_once_from_one_address_create_only_the_limit(burst_api, store):
    limit = throttle.REGISTER_PER_ADDRESS.count
    statuses = await at_once(30, lambda n: burst_api.register(f"burst_{n}"))
    assert statuses == {201: limit, 429: 30 - limit}
    made = [await store.get_user_by_name(f"burst_{n}") for n in range(30)]
    assert sum(user is not None for user in made) == limit


@pytest.mark.gen_test(timeout=60)
async def test_a_registration_refused_for_its_name_does_not_count(api, store):
    await person(store, "taken")
    for _ in range(throttle.REGISTER_PER_ADDRESS.count):
        assert (await api.register("taken")).status == 409
    assert (await api.register("fresh_name")).status == 201


@pytest.mark.gen_test(timeout=60)
async def test_posts_at_once_by_a_new_account_create_only_the_limit(burst_api, store):
    writer = await burst_api.new_user("newcomer")
    limit = throttle.POSTS_PER_NEW_ACCOUNT.count
    statuses = await at_once(
        25, lambda n: writer.post("/boards/forum/posts", {"title": f"第{n}帖", "body": "正文"})
    )
    assert statuses == {201: limit, 429: 25 - limit}
    user = await store.get_user_by_name("newcomer")
    stored = await store.list_posts(PostFilter(author_id=user.id), None, 100)
    assert len(stored) == limit


@pytest.mark.gen_test(timeout=60)
async def test_replies_at_once_by_a_new_account_count_against_the_same_limit(burst_api, store):
    await person(store, "host")
    host = await burst_api.login("host")
    post_id = (await host.post("/boards/forum/posts", {"title": "讨论", "body": "正文"})).json()[
        "post"
    ]["id"]
    replier = await burst_api.new_user("replier")
    limit = throttle.POSTS_PER_NEW_ACCOUNT.count
    statuses = await at_once(
        25, lambda n: replier.post(f"/posts/{post_id}/replies", {"body": f"回复{n}"})
    )
    assert statuses == {201: limit, 429: 25 - limit}
    assert len(await store.list_replies(post_id)) == limit


@pytest.mark.gen_test(timeout=60)
async def test_uploads_at_once_never_pass_the_cases_cap(burst_api, store):
    await person(store, "writer")
    writer = await burst_api.login("writer")
    post_id = (await writer.post("/boards/mayor/posts", LETTER)).json()["post"]["id"]
    statuses = await at_once(
        3, lambda n: upload(writer, post_id, (f"{n}a.png", files.png()), (f"{n}b.png", files.png()))
    )
    # Two uploads of two fit under five; the third would make six and is refused whole.
    assert statuses == {201: 2, 422: 1}
    assert len(await store.list_attachments(post_id)) == 4 <= attachments.MAX_FILES_PER_CASE


@pytest.mark.gen_test(timeout=60)
async def test_open311_creates_at_once_stop_at_the_keys_limit(
    burst_api, store, http_server, base_url
):
    key = await issue(burst_api, store)
    client = AsyncHTTPClient(force_instance=True, max_clients=CONNECTIONS)
    try:
        o311 = Open311(client, base_url)
        limit = throttle.OPEN311_POSTS_PER_KEY.count
        statuses = await at_once(
            15,
            lambda n: o311.post(
                {"api_key": key, "service_code": "tax", "description": f"虚开发票 {n}"}
            ),
        )
    finally:
        client.close()
    assert statuses == {201: limit, 429: 15 - limit}
    assert len(await store.list_posts(PostFilter(board="tax"), None, 100)) == limit


@pytest.mark.gen_test(timeout=60)
async def test_a_visitors_searches_at_once_are_answered_only_up_to_the_limit(burst_api, api):
    limit = throttle.SEARCHES_PER_ADDRESS.count
    assert limit == 60
    # Each query new, so that no answer comes from the page cache (which costs nothing).
    statuses = await at_once(70, lambda n: burst_api.get(f"/search?q=word{n}"))
    assert statuses == {200: limit, 429: 70 - limit}
    refused = await burst_api.get("/search?q=another")
    assert refused.status == 429 and refused.headers["Retry-After"] == "60"
    # The page shares the limit; someone logged in is not a visitor.
    page = await burst_api.http.fetch(burst_api.base + "/search?q=page", raise_error=False)
    assert page.code == 429 and page.headers["Retry-After"] == "60"
    member = await api.new_user("member")
    assert (await member.get("/search?q=member")).status == 200
