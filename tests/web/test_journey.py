"""The foundation journey end to end through HTTP, over each store: register, log in, post with
Markdown (and a script), another user replies, the author fixes a typo. The restart and kill -9
half of the journey runs against a real server process in tests/test_server.py."""

from __future__ import annotations

import re

import pytest

from tests.support.apps import build_app, seeded
from tests.support.web import PASSWORD, Api, Browser


@pytest.fixture
def app(any_store, io_loop):
    io_loop.run_sync(lambda: seeded(any_store))
    return build_app(any_store)


@pytest.mark.gen_test
async def test_citizen_journey(http_client, base_url, any_store):
    alice = Browser(http_client, base_url)
    assert (await alice.get("/")).status == 200
    assert (
        await alice.submit("/register", {"username": "alice", "password": PASSWORD})
    ).status == 303
    assert (await alice.submit("/logout", {})).status == 303
    await alice.log_in("alice")
    created = await alice.submit(
        "/boards/forum/new",
        {
            "title": "聂耳公园的路灯坏了",
            "body": "**三盏**路灯不亮，晚上很黑。<script>alert(1)</script>",
        },
    )
    post_path = created.headers["Location"]
    post_id = post_path.rsplit("/", 1)[1]

    bob = await Api(http_client, base_url).new_user("bob")
    assert (await bob.post(f"/posts/{post_id}/replies", {"body": "我也看到了"})).status == 201

    fixed = await alice.submit(
        f"{post_path}/edit", {"title": "聂耳公园的路灯坏了", "body": "**三盏**路灯不亮，晚上很黑。"}
    )
    assert fixed.status == 303

    page = await alice.get(post_path)
    assert "<strong>三盏</strong>" in page.text and "我也看到了" in page.text
    assert not re.search(r"<script>alert", page.text)

    thread = (await bob.get(f"/posts/{post_id}")).json()
    assert (
        thread["post"]["reply_count"] == 1 and thread["replies"][0]["author"]["username"] == "bob"
    )
    assert (await alice.get("/me")).status == 200
