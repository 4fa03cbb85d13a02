"""Writes sent at the same moment through HTTP: with the writer grouping them into shared
commits, each one still lands exactly once, with everything that goes with it, and each is
answered only once it is stored."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.people import login_as

REPLIERS = 6
REPLIES_EACH = 5  # under the new accounts' write limit


@pytest.mark.gen_test(timeout=60)
async def test_replies_sent_at_once_each_land_exactly_once(api, store):
    owner = await login_as(api, store, "owner")
    post_id = (
        await owner.post("/boards/forum/posts", {"title": "同时回复", "body": "来吧"})
    ).json()["post"]["id"]
    repliers = [await login_as(api, store, f"replier{i}") for i in range(REPLIERS)]
    bodies = [f"第{who}位的第{n}条回复" for who in range(REPLIERS) for n in range(REPLIES_EACH)]
    answers = await asyncio.gather(
        *(
            repliers[i // REPLIES_EACH].post(f"/posts/{post_id}/replies", {"body": body})
            for i, body in enumerate(bodies)
        )
    )
    assert [answer.status for answer in answers] == [201] * len(bodies), [
        answer.text[:200] for answer in answers if answer.status != 201
    ]
    answered = {answer.json()["reply"]["id"]: answer.json()["reply"]["body"] for answer in answers}
    stored = await store.list_replies(post_id)
    assert {reply.id: reply.body for reply in stored} == answered  # each once, none lost
    assert sorted(answered.values()) == sorted(bodies)
    assert (await store.get_post(post_id)).reply_count == len(bodies)
    owner_user = await store.get_user_by_name("owner")
    assert await store.count_unread(owner_user.id) == len(bodies)  # one notice per reply
