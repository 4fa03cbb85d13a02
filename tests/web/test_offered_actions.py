"""The post page and the API offer exactly the lifecycle actions the authority allows
(workflow.offered), for every party and every status of a case, and for the other kinds: no
form for an action the service would refuse, none missing for one it would take."""

from __future__ import annotations

import re

import pytest
from forum import boards, workflow
from forum.model import Kind, Role, Status
from forum.services import posting
from forum.services.presenting import parties
from tests.support.people import person
from tests.support.web import Api, Browser

# What on the page stands for each action: a form, found by its target and action field.
MARKERS = {
    "accept": r'name="action" value="accept"',
    "reject": r'name="action" value="reject"',
    "hide": r'name="action" value="hide"',
    "restore": r'name="action" value="restore"',
    "route": r'action="/posts/{id}/route"',
    "return": r'action="/posts/{id}/return"',
    "rate": r'action="/posts/{id}/rating"',
    "flag": r'action="/posts/{id}/flag"',
    "reply": r'name="form" value="reply"',
    "accept_answer": r'action="/posts/{id}/accept"',
}
REPLIES = {"official", "follow_up", "answer", "comment"}


def shown(html: str, post_id: str) -> set[str]:
    found = {
        name
        for name, pattern in MARKERS.items()
        if re.search(pattern.replace("{id}", post_id), html)
    }
    return found


def expected_on_page(actions: frozenset[str]) -> set[str]:
    page = {a for a in actions if a in MARKERS}
    if any(a.startswith("rate_") for a in actions):
        page.add("rate")
    if actions & REPLIES:
        page.add("reply")
    return page


PEOPLE = [
    ("writer", ()),
    ("mod", (Role.MODERATOR,)),
    ("clerk", (Role.STAFF,)),
    ("other_clerk", (Role.STAFF,)),
    ("reader", ()),
    ("lawyer", (Role.LAWYER,)),
]
DEPARTMENT = {"clerk": "housing", "other_clerk": "tax"}


async def everyone(store):
    return {
        name: await person(store, name, *roles, department=DEPARTMENT.get(name))
        for name, roles in PEOPLE
    }


async def check_every_viewer(http_client, base_url, store, users, post_id, kind, status):
    for name, user in [*users.items(), ("visitor", None)]:
        browser = Browser(http_client, base_url)
        api = Api(http_client, base_url)
        if user is not None:
            await browser.log_in(name)
            api = await api.login(name)
        post = await store.get_post(post_id)
        allowed = workflow.offered(
            kind, post.status, parties(post, boards.POLICIES[post.board], user)
        )
        page = await browser.get(f"/posts/{post_id}")
        got = await api.get(f"/posts/{post_id}")
        if page.status == 404:
            assert got.status == 404 and not allowed, (name, status)
            continue
        assert page.status == 200, (name, status, page.status)
        assert shown(page.text, post_id) == expected_on_page(allowed), (name, status.value)
        assert got.json()["post"]["steps"] == sorted(allowed), (name, status.value)


CASE_STATES = [
    (Status.SUBMITTED, {}),
    (Status.ACCEPTED, {}),
    (Status.ROUTED, {"department": "housing"}),
    (Status.REPLIED, {"department": "housing"}),
    (Status.CLOSED, {"department": "housing"}),
    (Status.REJECTED, {}),
]


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize("status, extra", CASE_STATES, ids=[s.value for s, _ in CASE_STATES])
async def test_a_case_page_and_the_api_offer_what_the_lifecycle_allows(
    http_client, base_url, store, status, extra
):
    users = await everyone(store)
    view = await posting.create_post(
        store,
        users["writer"],
        "mayor",
        {
            "title": "路灯不亮",
            "body": "一个月了",
            "letter_type": "complaint",
            "area": "city",
            "contact": "138",
            "public": True,
        },
    )
    await store.update_post(view.post.id, {"status": status, **extra})
    await check_every_viewer(http_client, base_url, store, users, view.post.id, Kind.CASE, status)


OTHER_STATES = [
    ("forum", Status.PUBLISHED),
    ("forum", Status.HIDDEN),
    ("forum", Status.PENDING),
    ("lawyer", Status.OPEN),
    ("lawyer", Status.ANSWERED),
    ("lawyer", Status.RESOLVED),
]


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize(
    "board, status", OTHER_STATES, ids=[f"{b}-{s.value}" for b, s in OTHER_STATES]
)
async def test_discussion_and_consultation_pages_offer_what_the_lifecycle_allows(
    http_client, base_url, store, board, status
):
    users = await everyone(store)
    view = await posting.create_post(
        store, users["writer"], board, {"title": "化肥", "body": "怎么办"}
    )
    if board == "lawyer" and status is not Status.OPEN:
        await posting.add_reply(store, users["lawyer"], view.post.id, "可以投诉")
    await store.update_post(view.post.id, {"status": status})
    kind = Kind.DISCUSSION if board == "forum" else Kind.CONSULTATION
    await check_every_viewer(http_client, base_url, store, users, view.post.id, kind, status)
