"""Conflicting actions fired at the same moment through HTTP: exactly one wins, the other gets
409 `conflict` (or the lifecycle's own 409 when it read after the winner) with the state now,
and the final state holds exactly one outcome, with its event and audit entry."""

from __future__ import annotations

import asyncio

import pytest

from forum.model import Role, Status
from tests.support.people import login_as

LETTER = {
    "title": "小区门口路灯不亮",
    "body": "一个月了",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13812345678",
    "public": True,
}


def one_winner(responses, win_status=200):
    statuses = sorted(r.status for r in responses)
    assert statuses == sorted([win_status] + [409] * (len(responses) - 1)), [
        (r.status, r.text[:200]) for r in responses
    ]
    losers = [r for r in responses if r.status == 409]
    for lost in losers:
        assert lost.error["code"] in ("conflict", "invalid_transition")
        assert lost.error["state"]["status"], lost.text  # the state now, to decide again
    return next(r for r in responses if r.status == win_status)


async def routed_letter(api, store):
    writer = await login_as(api, store, "writer")
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    post_id = (await writer.post("/boards/mayor/posts", LETTER)).json()["post"]["id"]
    assert (await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})).status == 200
    assert (await mod.post(f"/posts/{post_id}/route", {"department": "housing"})).status == 200
    return writer, mod, post_id


async def events(store, post_id):
    return [e.action for e in await store.list_events(post_id)]


@pytest.mark.gen_test
async def test_two_moderators_accepting_one_letter_at_once_accept_it_once(api, store):
    writer = await login_as(api, store, "writer")
    mods = [await login_as(api, store, f"mod{i}", Role.MODERATOR) for i in range(5)]
    post_id = (await writer.post("/boards/mayor/posts", LETTER)).json()["post"]["id"]
    answers = await asyncio.gather(
        *(m.post(f"/posts/{post_id}/moderate", {"action": "accept"}) for m in mods)
    )
    one_winner(answers)
    assert await events(store, post_id) == ["create", "accept"]
    audit = await store.list_audit(actor_id=None, target=f"post:{post_id}", after=None, limit=10)
    assert [a.action for a in audit] == ["accept"]


@pytest.mark.gen_test
async def test_accept_and_reject_at_once_leave_one_decision(api, store):
    writer = await login_as(api, store, "writer")
    first = await login_as(api, store, "mod1", Role.MODERATOR)
    second = await login_as(api, store, "mod2", Role.MODERATOR)
    post_id = (await writer.post("/boards/mayor/posts", LETTER)).json()["post"]["id"]
    answers = await asyncio.gather(
        first.post(f"/posts/{post_id}/moderate", {"action": "accept"}),
        second.post(f"/posts/{post_id}/moderate", {"action": "reject", "reason": "重复"}),
    )
    winner = one_winner(answers)
    final = await store.get_post(post_id)
    assert final.status.value == winner.json()["post"]["status"]
    assert final.status in (Status.ACCEPTED, Status.REJECTED)
    assert len(await events(store, post_id)) == 2


@pytest.mark.gen_test
async def test_two_accepts_of_answers_at_once_leave_one_best_answer(api, store):
    asker = await login_as(api, store, "asker")
    lawyers = [await login_as(api, store, f"lawyer{i}", Role.LAWYER) for i in range(2)]
    post_id = (
        await asker.post(
            "/boards/lawyer/posts", {"title": "加班费怎么算", "body": "每天加班两小时"}
        )
    ).json()["post"]["id"]
    reply_ids = [
        (await lawyer.post(f"/posts/{post_id}/replies", {"body": f"解答{i}"})).json()["reply"]["id"]
        for i, lawyer in enumerate(lawyers)
    ]
    answers = await asyncio.gather(
        *(asker.post(f"/posts/{post_id}/accept", {"reply_id": r}) for r in reply_ids)
    )
    winner = one_winner(answers)
    final = await store.get_post(post_id)
    accepted = [r.id for r in await store.list_replies(post_id) if r.accepted]
    assert final.status is Status.RESOLVED and accepted == [final.accepted_reply_id]
    assert winner.json()["post"]["accepted_reply_id"] == final.accepted_reply_id


@pytest.mark.gen_test
async def test_an_official_reply_and_a_colleagues_return_at_once_leave_one_outcome(api, store):
    _, _, post_id = await routed_letter(api, store)
    staff = [
        await login_as(api, store, f"clerk{i}", Role.STAFF, department="housing") for i in range(2)
    ]
    for _ in range(10):  # the race, many times over: never both
        answers = await asyncio.gather(
            staff[0].post(f"/posts/{post_id}/replies", {"body": "已安排维修"}),
            staff[1].post(f"/posts/{post_id}/return", {"reason": "不属于本部门"}),
        )
        final = await store.get_post(post_id)
        replied, returned = answers[0].status == 201, answers[1].status == 200
        assert replied != returned, [(a.status, a.text[:120]) for a in answers]
        loser = answers[1] if replied else answers[0]
        if loser.status == 409:
            assert loser.error["state"]["status"] == final.status.value
        else:
            # The reply read the case after the return: no longer this department's to see.
            assert loser is answers[0] and loser.status == 404, loser.text
        if replied:
            assert (final.status, final.department) == (Status.REPLIED, "housing")
            break
        # returned: in the queue, in no department, with no official reply
        assert (final.status, final.department) == (Status.ACCEPTED, None)
        assert [r.kind.value for r in await store.list_replies(post_id)] == []
        mod = await api.login("mod")
        assert (await mod.post(f"/posts/{post_id}/route", {"department": "housing"})).status == 200


@pytest.mark.gen_test
async def test_a_rating_and_a_reply_at_once_never_leave_a_reply_after_closing(api, store):
    writer, _, post_id = await routed_letter(api, store)
    staff = await login_as(api, store, "clerk", Role.STAFF, department="housing")
    assert (await staff.post(f"/posts/{post_id}/replies", {"body": "已修好"})).status == 201
    answers = await asyncio.gather(
        writer.post(f"/posts/{post_id}/rating", {"score": "satisfied"}),
        staff.post(f"/posts/{post_id}/replies", {"body": "补充答复"}),
    )
    final = await store.get_post(post_id)
    replies = await store.list_replies(post_id)
    if answers[0].status == 200:
        assert final.status is Status.CLOSED
        assert all(r.created_at <= final.closed_at for r in replies)
    assert sorted(a.status for a in answers) in ([200, 409], [201, 409], [200, 201])
    if answers[1].status == 201 and answers[0].status == 200:
        # the reply came first and the rating judged the case with it: both in order
        assert replies[-1].created_at <= final.closed_at
    assert final.reply_count == len(replies)
