"""Mass assignment (issue 7, ASVS V8.2.3 and V15.3.3): no route's JSON body sets a field the
route does not own. Each service reads only the fields its action owns: the routes for everyone
ignore the rest, and the admin routes (which change accounts and boards, where a silently
ignored typo would mislead) refuse it with a 422 naming the field. Either way every test reads
the record back from the store to show nothing else changed.
"""

from __future__ import annotations

import pytest

from forum.model import Role, Status
from tests.support.people import login_as, person
from tests.support.web import PASSWORD

OTHER_ID = "0123456789abcdef01234567"
# Fields no write route for citizens, answerers or staff owns.
FOREIGN = {
    "roles": ["admin"],
    "role": "admin",
    "author": "root",
    "author_id": OTHER_ID,
    "status": "resolved",
    "department": "police",
    "accepted_reply_id": OTHER_ID,
    "accepted_answer": OTHER_ID,
    "verified": True,
    "id": OTHER_ID,
    "created_at": "2000-01-01T00:00:00Z",
    "hidden": True,
    "pinned": True,
    "locked": True,
    "disabled": True,
    "specialties": ["劳动"],
    "board": "tax",
    "kind": "official",
    "username": "root",
    "public": True,
}


def assert_plain_citizen(user, *, username: str) -> None:
    assert user.username == username
    assert user.roles == [Role.CITIZEN]
    assert user.department is None and user.specialties == [] and not user.disabled
    assert user.created_at.year > 2000


@pytest.mark.gen_test
async def test_register_ignores_roles_and_account_fields(api, store):
    response = await api.post(
        "/auth/register", {**FOREIGN, "username": "newcomer", "password": PASSWORD}
    )
    assert response.status == 201, response.text
    answer = response.json()["user"]
    assert answer["username"] == "newcomer" and answer["roles"] == ["citizen"]
    user = await store.get_user_by_name("newcomer")
    assert_plain_citizen(user, username="newcomer")
    assert user.id != OTHER_ID and not user.email_confirmed
    assert await store.get_user_by_name("root") is None


@pytest.mark.gen_test
async def test_me_and_password_change_touch_only_their_own_fields(api, store):
    me = await login_as(api, store, "citizen1")
    changed = await me.patch(
        "/me", {**FOREIGN, "email": "c1@example.org", "current_password": PASSWORD}
    )
    assert changed.status == 200, changed.text
    user = await store.get_user_by_name("citizen1")
    assert_plain_citizen(user, username="citizen1")
    assert user.email == "c1@example.org"

    password = await me.post(
        "/auth/password",
        {**FOREIGN, "current_password": PASSWORD, "new_password": "another-horse-7"},
    )
    assert password.status == 200, password.text
    assert_plain_citizen(await store.get_user_by_name("citizen1"), username="citizen1")


@pytest.mark.gen_test
async def test_create_post_ignores_author_status_and_flags(api, store):
    writer = await login_as(api, store, "writer")
    created = await writer.post("/boards/forum/posts", {**FOREIGN, "title": "标题", "body": "正文"})
    assert created.status == 201, created.text
    post = await store.get_post(created.json()["post"]["id"])
    writer_id = (await store.get_user_by_name("writer")).id
    assert post.id != OTHER_ID and post.board == "forum" and post.author_id == writer_id
    assert post.status is Status.PUBLISHED and post.created_at.year > 2000
    assert not post.pinned and not post.locked and post.accepted_reply_id is None
    assert post.department is None and not post.public

    # A letter: its writer owns `public` and `contact`, never its status or department.
    letter = await writer.post(
        "/boards/mayor/posts",
        {
            **FOREIGN,
            "title": "路灯",
            "body": "不亮",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13812345678",
            "status": "routed",
        },
    )
    assert letter.status == 201, letter.text
    case = await store.get_post(letter.json()["post"]["id"])
    assert case.status is Status.SUBMITTED and case.department is None and case.due_at is None
    assert case.author_id == writer_id and case.board == "mayor" and case.public  # owned


@pytest.mark.gen_test
async def test_edit_reply_and_flag_change_only_their_own_fields(api, store):
    writer = await login_as(api, store, "writer")
    other = await login_as(api, store, "other")
    post_id = (await writer.post("/boards/forum/posts", {"title": "标题", "body": "正文"})).json()[
        "post"
    ]["id"]
    before = await store.get_post(post_id)

    edited = await writer.patch(f"/posts/{post_id}", {**FOREIGN, "body": "新正文"})
    assert edited.status == 200, edited.text
    after = await store.get_post(post_id)
    assert after.body == "新正文"
    for name in (
        "id",
        "board",
        "author_id",
        "status",
        "created_at",
        "pinned",
        "locked",
        "accepted_reply_id",
        "department",
        "public",
        "anonymous",
    ):
        assert getattr(after, name) == getattr(before, name), name

    reply = await other.post(f"/posts/{post_id}/replies", {**FOREIGN, "body": "回复"})
    assert reply.status == 201, reply.text
    assert reply.json()["reply"]["kind"] == "comment"
    assert reply.json()["reply"]["author"]["username"] == "other"
    thread = (await writer.get(f"/posts/{post_id}")).json()
    assert [r["id"] for r in thread["replies"]] == [reply.json()["reply"]["id"]]
    assert thread["replies"][0]["author"]["username"] == "other"

    flagged = await other.post(f"/posts/{post_id}/flag", {**FOREIGN, "reason": "广告"})
    assert flagged.status == 201, flagged.text
    assert flagged.json()["flag"]["open"]
    again = await store.get_post(post_id)
    assert again.status is Status.PUBLISHED and again.accepted_reply_id is None
    assert again.author_id == before.author_id and not again.pinned and not again.locked


@pytest.mark.gen_test
async def test_accept_takes_only_the_reply_it_names(api, store):
    asker = await login_as(api, store, "asker")
    lawyer = await login_as(api, store, "lawyer1", Role.LAWYER)
    post_id = (
        await asker.post(
            "/boards/lawyer/posts", {"title": "合同", "body": "没有合同", "category": "劳动"}
        )
    ).json()["post"]["id"]
    first = (await lawyer.post(f"/posts/{post_id}/replies", {"body": "一"})).json()["reply"]["id"]
    second = (await lawyer.post(f"/posts/{post_id}/replies", {"body": "二"})).json()["reply"]["id"]
    accepted = await asker.post(
        f"/posts/{post_id}/accept",
        {
            **FOREIGN,
            "accepted_reply_id": second,
            "accepted_answer": second,
            "status": "open",
            "reply_id": first,
        },
    )
    assert accepted.status == 200, accepted.text
    post = await store.get_post(post_id)
    assert post.accepted_reply_id == first and post.status is Status.RESOLVED
    assert post.author_id == (await store.get_user_by_name("asker")).id and not post.pinned


@pytest.mark.gen_test
async def test_case_actions_take_only_their_own_fields(api, store):
    writer = await login_as(api, store, "writer")
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    clerk = await login_as(api, store, "clerk", Role.STAFF, department="housing")
    post_id = (
        await writer.post(
            "/boards/mayor/posts",
            {
                "title": "路灯",
                "body": "不亮",
                "letter_type": "complaint",
                "area": "city",
                "contact": "13812345678",
                "public": False,
            },
        )
    ).json()["post"]["id"]
    writer_id = (await store.get_user_by_name("writer")).id

    accepted = await mod.post(f"/posts/{post_id}/moderate", {**FOREIGN, "action": "accept"})
    assert accepted.status == 200, accepted.text
    post = await store.get_post(post_id)
    assert post.status is Status.ACCEPTED and post.department is None
    assert not post.public and not post.pinned and not post.locked and post.author_id == writer_id

    routed = await mod.post(
        f"/posts/{post_id}/route", {**FOREIGN, "department": "housing", "status": "closed"}
    )
    assert routed.status == 200, routed.text
    post = await store.get_post(post_id)
    assert post.status is Status.ROUTED and post.department == "housing"  # department: owned
    assert post.author_id == writer_id and not post.public

    returned = await clerk.post(
        f"/posts/{post_id}/return", {**FOREIGN, "reason": "不属于本部门", "department": "police"}
    )
    assert returned.status == 200, returned.text
    post = await store.get_post(post_id)
    assert post.status is Status.ACCEPTED and post.department is None

    await mod.post(f"/posts/{post_id}/route", {"department": "housing"})
    assert (
        await clerk.post(f"/posts/{post_id}/replies", {**FOREIGN, "body": "已安排"})
    ).status == 201
    rated = await writer.post(
        f"/posts/{post_id}/rating", {**FOREIGN, "score": "unsatisfied", "status": "closed"}
    )
    assert rated.status == 200, rated.text
    post = await store.get_post(post_id)
    assert post.status is Status.ACCEPTED and post.rating == "unsatisfied"  # reopened, per rule
    # Reopened: back to the bureau, so the department is cleared by the rule, not set to police.
    assert post.department is None and post.author_id == writer_id and not post.public


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "field",
    [
        "role",
        "author",
        "author_id",
        "status",
        "verified",
        "id",
        "created_at",
        "hidden",
        "pinned",
        "username",
        "password_hash",
        "email",
    ],
)
async def test_admin_user_update_names_fields_it_does_not_own(api, store, field):
    admin = await login_as(api, store, "root", Role.ADMIN)
    await person(store, "target")
    before = await store.get_user_by_name("target")
    response = await admin.call(
        "PUT", "/admin/users/target", {"department": "housing", field: FOREIGN.get(field, "x")}
    )
    assert response.status == 422, response.text
    assert field in response.error["fields"]
    after = await store.get_user_by_name("target")
    assert after == before  # nothing applied, not even the owned field beside it


@pytest.mark.gen_test
@pytest.mark.parametrize("field", ["posters", "confidential", "kind", "status", "slug", "id"])
async def test_admin_board_update_names_fields_it_does_not_own(api, store, field):
    admin = await login_as(api, store, "root", Role.ADMIN)
    before = await store.get_board("forum")
    response = await admin.call("PUT", "/admin/boards/forum", {"name": "新名字", field: True})
    assert response.status == 422, response.text
    assert field in response.error["fields"]
    assert await store.get_board("forum") == before
