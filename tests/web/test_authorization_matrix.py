"""The full authorisation matrix through the JSON API (issue 7, ASVS V8.2.1 and V8.2.2).

Every role against every kind of content and every operation. The expectations come from the
small rule table below (who may see, list, reply, edit, moderate, route and download what),
written from PRODUCT.md ("People and roles", "Boards, visibility") and API.md; the test derives
each expected status from it. Refusals: 404 for content the caller may not see (as if it did not
exist), 401 for an anonymous caller's action, 403 for an action the caller's role does not
allow, 409 when the role may act but the content's lifecycle does not allow it now.

Each test builds only its own piece of content (one per store), so the tests stay independent.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from forum.model import Role
from tests.support import files
from tests.support.people import person
from tests.support.web import multipart

ROLES = [
    "anonymous",
    "author",
    "other_citizen",
    "lawyer",
    "expert",
    "routed_staff",
    "other_staff",
    "moderator",
    "admin",
]
CONTENT = [
    "forum_public",
    "forum_pending",
    "forum_hidden",
    "question",
    "letter_public",
    "letter_private",
    "tax_report",
]
OPERATIONS = ["read", "list", "search", "download", "route", "edit", "reply", "moderate"]

EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
MODERATORS = frozenset({"moderator", "admin"})
CASE_INSIDERS = frozenset({"author", "routed_staff"}) | MODERATORS
CASES = frozenset({"letter_public", "letter_private", "tax_report"})

# The rule table ------------------------------------------------------------------------------
# Who sees the content (reads it, finds it by search; everyone else gets 404 for it).
SEES = {
    "forum_public": EVERYONE,
    "question": EVERYONE,  # consultation questions are public; there are no private ones
    "letter_public": EVERYONE,  # a letter its writer chose to publish, once accepted
    "forum_pending": frozenset({"author"}) | MODERATORS,  # held for review
    "forum_hidden": frozenset({"author"}) | MODERATORS,
    "letter_private": CASE_INSIDERS,  # writer, bureau, and staff of the routed department
    "tax_report": CASE_INSIDERS,  # confidential
}
# Who finds it in the board's list: the public statuses to everyone, the rest to moderators only
# (a writer follows their own held, hidden or private posts from their workspace, not the list).
LISTS = {
    content: (EVERYONE if content in ("forum_public", "question", "letter_public") else MODERATORS)
    for content in CONTENT
}
# Who may reply (each by the reply kind of their role): comments on a published discussion,
# answers by the board's verified volunteers and the asker's follow-ups, and on cases the
# writer's follow-ups and the routed department's official reply.
REPLIES = {
    "forum_public": SIGNED_IN,
    "forum_pending": SEES["forum_pending"],  # may reply in principle; lifecycle says 409
    "forum_hidden": SEES["forum_hidden"],  # idem
    "question": frozenset({"author", "lawyer"}),
    "letter_public": frozenset({"author", "routed_staff"}),
    "letter_private": frozenset({"author", "routed_staff"}),
    "tax_report": frozenset({"author", "routed_staff"}),
}
# Who may edit: the author (within the edit window) and moderators; a case is never edited.
EDITS = {
    content: (frozenset() if content in CASES else frozenset({"author"}) | MODERATORS)
    for content in CONTENT
}
# Moderation (hide) and routing: moderators only; routing applies to cases only.
DOWNLOADS = {content: (CASE_INSIDERS if content in CASES else frozenset()) for content in CONTENT}
# Where the role may act but the lifecycle refuses (409).
CONFLICTS = {
    ("reply", "forum_pending"),
    ("reply", "forum_hidden"),  # comments only while published
    ("moderate", "forum_hidden"),  # already hidden
    ("moderate", "letter_public"),
    ("moderate", "letter_private"),
    ("moderate", "tax_report"),  # cases are rejected, not hidden
}
SUCCESS = {"read": 200, "route": 200, "edit": 200, "reply": 201, "moderate": 200, "download": 200}


def expected(operation: str, role: str, content: str) -> int | bool:
    """The status (or, for list and search, whether the post is there) the rule table gives."""
    sees = role in SEES[content]
    if operation == "read":
        return 200 if sees else 404
    if operation == "list":
        return role in LISTS[content]
    if operation == "search":
        return sees
    if operation == "download":
        return 200 if role in DOWNLOADS[content] else 404
    if role == "anonymous":
        return 401
    if operation == "moderate":
        # The role is checked before the post is looked up: 403 whether or not it is visible.
        if role not in MODERATORS:
            return 403
        return 409 if (operation, content) in CONFLICTS else 200
    if not sees:
        return 404
    allowed = {
        "reply": REPLIES[content],
        "edit": EDITS[content],
        "route": MODERATORS if content in CASES else frozenset(),
    }[operation]
    if role not in allowed:
        return 403
    return 409 if (operation, content) in CONFLICTS else SUCCESS[operation]


TITLE = "矩阵事项"


async def _client(api, store, role: str, department: str):
    if role == "anonymous":
        return api.as_user(None)
    name = {"author": "the_author", "routed_staff": "routed_clerk"}.get(role, role)
    if await store.get_user_by_name(name) is None:
        roles, dept = {
            "author": ([], None),
            "other_citizen": ([], None),
            "lawyer": ([Role.LAWYER], None),
            "expert": ([Role.EXPERT], None),
            "routed_staff": ([Role.STAFF], department),
            "other_staff": ([Role.STAFF], "police"),
            "moderator": ([Role.MODERATOR], None),
            "admin": ([Role.ADMIN], None),
        }[role]
        await person(store, name, *roles, department=dept)
    return await api.login(name)


async def _build(api, store, content: str) -> tuple[str, str, str | None, str]:
    """The content: (board, post id, attachment id or None, routed department)."""
    author = await _client(api, store, "author", "")
    mod = await _client(api, store, "moderator", "")
    department = "tax" if content == "tax_report" else "housing"
    attachment = None
    if content in CASES:
        board = "tax" if content == "tax_report" else "mayor"
        body = {
            "title": TITLE,
            "body": "内容",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13812345678",
        }
        if board == "mayor":
            body["public"] = content == "letter_public"
        created = await author.post(f"/boards/{board}/posts", body)
        assert created.status == 201, created.text
        post_id = created.json()["post"]["id"]
        upload_body, content_type = multipart([("files", "a.png", files.png())])
        uploaded = await author.call(
            "POST",
            f"/posts/{post_id}/attachments",
            raw=upload_body,
            headers={"Content-Type": content_type},
        )
        assert uploaded.status == 201, uploaded.text
        attachment = uploaded.json()["items"][0]["id"]
        assert (await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})).status == 200
        routed = await mod.post(f"/posts/{post_id}/route", {"department": department})
        assert routed.status == 200, routed.text
        return board, post_id, attachment, department
    if content == "question":
        created = await author.post(
            "/boards/lawyer/posts",
            {"title": TITLE, "body": "入职三个月没有合同。", "category": "劳动"},
        )
        assert created.status == 201, created.text
        return "lawyer", created.json()["post"]["id"], None, department
    body = "正常内容"
    if content == "forum_pending":
        admin = await _client(api, store, "admin", "")
        saved = await admin.call("PUT", "/admin/sensitive-words", {"words": ["违禁词"]})
        assert saved.status == 200, saved.text
        body = "这里有违禁词"
    created = await author.post("/boards/forum/posts", {"title": TITLE, "body": body})
    assert created.status == 201, created.text
    post = created.json()["post"]
    assert post["status"] == ("pending" if content == "forum_pending" else "published")
    if content == "forum_hidden":
        hidden = await mod.post(
            f"/posts/{post['id']}/moderate", {"action": "hide", "reason": "违规"}
        )
        assert hidden.status == 200 and hidden.json()["post"]["status"] == "hidden"
    return "forum", post["id"], None, department


@pytest.mark.gen_test
@pytest.mark.parametrize("content", CONTENT)
@pytest.mark.parametrize("role", ROLES)
async def test_authorization_matrix(api, store, role, content):
    board, post_id, attachment, department = await _build(api, store, content)
    client = await _client(api, store, role, department)
    got: dict[str, int | bool] = {}

    got["read"] = (await client.get(f"/posts/{post_id}")).status
    listed = await client.get(f"/boards/{board}/posts")
    assert listed.status == 200, listed.text
    got["list"] = post_id in [p["id"] for p in listed.json()["items"]]
    found = await client.get("/search?q=" + quote(TITLE))
    assert found.status == 200, found.text
    got["search"] = post_id in [r["post"]["id"] for r in found.json()["items"]]
    if attachment is not None:
        got["download"] = (await client.get(f"/attachments/{attachment}")).status
    # Route before replying: a case the department has answered is no longer re-routed.
    got["route"] = (await client.post(f"/posts/{post_id}/route", {"department": department})).status
    got["edit"] = (await client.patch(f"/posts/{post_id}", {"body": "修改后的内容"})).status
    got["reply"] = (await client.post(f"/posts/{post_id}/replies", {"body": "再说一句"})).status
    got["moderate"] = (
        await client.post(f"/posts/{post_id}/moderate", {"action": "hide", "reason": "测试"})
    ).status

    want = {
        op: expected(op, role, content)
        for op in OPERATIONS
        if op != "download" or attachment is not None
    }
    assert got == want


def test_the_rule_table_covers_every_cell():
    """The table answers for every role, content and operation, and denies by default: an
    anonymous caller acts on nothing, and only the public kinds are seen by everyone."""
    for content in CONTENT:
        for role in ROLES:
            for operation in OPERATIONS:
                value = expected(operation, role, content)
                assert value in (True, False, 200, 201, 401, 403, 404, 409)
                if role == "anonymous" and operation not in ("read", "list", "search"):
                    assert value in (401, 404)
    assert {c for c in CONTENT if SEES[c] == EVERYONE} == {
        "forum_public",
        "question",
        "letter_public",
    }
