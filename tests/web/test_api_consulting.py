"""The consultation boards through the JSON API: the journeys and the permission matrix."""

from __future__ import annotations

import pytest

from forum.model import Role
from tests.support.people import person

QUESTION = {"title": "公司不签劳动合同怎么办", "body": "入职三个月没有合同。", "category": "劳动"}
ROLES = ["visitor", "citizen", "lawyer", "expert", "staff", "moderator", "admin", "asker"]


async def as_role(api, store, role: str, name: str | None = None):
    """An API client acting as someone holding `role` ("visitor": nobody logged in)."""
    if role == "visitor":
        return api.as_user(None)
    name = name or f"{role}_user"
    if await store.get_user_by_name(name) is None:
        roles = [] if role in ("citizen", "asker") else [Role(role)]
        await person(store, name, *roles, department="justice" if role == "staff" else None)
    return await api.login(name)


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "board, category, answerer", [("lawyer", "劳动", "lawyer"), ("agri", "种植", "expert")]
)
async def test_ask_verify_answer_follow_up_accept(api, store, board, category, answerer):
    admin = await as_role(api, store, "admin", "root")
    asker = await as_role(api, store, "citizen", "farmer")
    await api.register("volunteer")
    verified = await admin.call(
        "PUT", "/admin/users/volunteer", {"roles": [answerer], "specialties": [category]}
    )
    assert verified.status == 200 and answerer in verified.json()["user"]["roles"]
    volunteer = await api.login("volunteer")

    asked = await asker.post(
        f"/boards/{board}/posts", {**QUESTION, "category": category, "anonymous": True}
    )
    assert asked.status == 201
    post = asked.json()["post"]
    assert post["status"] == "open" and post["anonymous"] is True
    assert (await api.get(f"/posts/{post['id']}")).json()["post"]["author"] is None

    space = (await volunteer.get(f"/workspace?board={board}")).json()
    assert [p["id"] for p in space["items"]] == [post["id"]] and space["counts"] == {category: 1}

    answer = await volunteer.post(f"/posts/{post['id']}/replies", {"body": "可以申请劳动仲裁。"})
    assert answer.status == 201
    reply = answer.json()["reply"]
    assert reply["kind"] == "answer" and reply["author"]["specialties"] == [category]
    assert (await api.get(f"/posts/{post['id']}")).json()["post"]["status"] == "answered"

    follow = await asker.post(f"/posts/{post['id']}/replies", {"body": "仲裁要多久？"})
    assert follow.status == 201 and follow.json()["reply"]["kind"] == "follow_up"
    assert follow.json()["reply"]["author"]["username"] == "farmer"  # the asker sees themselves

    accepted = await asker.post(f"/posts/{post['id']}/accept", {"reply_id": reply["id"]})
    assert accepted.status == 200 and accepted.json()["post"]["status"] == "resolved"
    public = (await api.get(f"/posts/{post['id']}")).json()
    assert public["replies"][0]["accepted"] and public["post"]["accepted_reply_id"] == reply["id"]
    assert "farmer" not in str(public)  # anonymous: no username anywhere for the public

    profile = (await api.get("/users/volunteer")).json()
    assert profile["answers"] == {"total": 1, "accepted": 1, "by_board": {board: 1}}


@pytest.mark.gen_test
@pytest.mark.parametrize("board", ["lawyer", "agri"])
@pytest.mark.parametrize("role", ROLES)
async def test_permission_matrix(api, store, board, role):
    """Every role against answer, follow-up, accept and the admin route, on both boards."""
    answerer = {"lawyer": "lawyer", "agri": "expert"}[board]
    asker = await as_role(api, store, "citizen", "the_asker")
    expert_or_lawyer = await as_role(api, store, answerer, "the_answerer")
    post = (await asker.post(f"/boards/{board}/posts", {**QUESTION, "category": None})).json()[
        "post"
    ]
    answer_id = (
        await expert_or_lawyer.post(f"/posts/{post['id']}/replies", {"body": "解答"})
    ).json()["reply"]["id"]
    client = asker if role == "asker" else await as_role(api, store, role)

    reply = await client.post(f"/posts/{post['id']}/replies", {"body": "回复"})
    expected_reply = {"visitor": 401, "asker": 201, answerer: 201}.get(role, 403)
    assert reply.status == expected_reply, reply.text
    if reply.status == 201:
        assert reply.json()["reply"]["kind"] == ("follow_up" if role == "asker" else "answer")

    accept = await client.post(f"/posts/{post['id']}/accept", {"reply_id": answer_id})
    assert accept.status == {"visitor": 401, "asker": 200}.get(role, 403), accept.text

    change = await client.call("PUT", "/admin/users/the_asker", {"roles": ["moderator"]})
    assert change.status == {"visitor": 401, "admin": 200}.get(role, 403), change.text


@pytest.mark.gen_test
async def test_accept_and_admin_bad_input(api, store):
    admin = await as_role(api, store, "admin", "root")
    asker = await as_role(api, store, "citizen", "asker")
    lawyer = await as_role(api, store, "lawyer", "lawyer1")
    post = (await asker.post("/boards/lawyer/posts", QUESTION)).json()["post"]
    answer = (await lawyer.post(f"/posts/{post['id']}/replies", {"body": "解答"})).json()["reply"]
    follow = (await asker.post(f"/posts/{post['id']}/replies", {"body": "追问"})).json()["reply"]
    for body, status in (
        ({}, 422),
        ({"reply_id": follow["id"]}, 422),
        ({"reply_id": {"$ne": None}}, 422),
        ({"reply_id": "x" * 24}, 422),
    ):
        response = await asker.post(f"/posts/{post['id']}/accept", body)
        assert response.status == status and "reply_id" in response.error["fields"]
    assert (await asker.post(f"/posts/{post['id']}/accept", raw=b"{oops")).status == 400
    assert (
        await asker.post(f"/posts/{post['id']}/accept", {"reply_id": answer["id"]})
    ).status == 200
    again = await asker.post(f"/posts/{post['id']}/accept", {"reply_id": answer["id"]})
    assert again.status == 409
    for body, field in (
        ({"roles": ["tsar"]}, "roles"),
        ({"department": "mars"}, "department"),
        ({"specialties": ["占卜"]}, "specialties"),
        ({"disabled": 1}, "disabled"),
    ):
        response = await admin.call("PUT", "/admin/users/asker", body)
        assert response.status == 422 and field in response.error["fields"]
    assert (await admin.call("PUT", "/admin/users/nobody", {"roles": []})).status == 404
    assert (await admin.call("PUT", "/admin/users/%3Cscript%3E", {"roles": []})).status == 404


@pytest.mark.gen_test
async def test_disabled_account_loses_its_sessions(api, store):
    admin = await as_role(api, store, "admin", "root")
    victim = await as_role(api, store, "citizen", "victim")
    assert (await victim.get("/me")).status == 200
    assert (await admin.call("PUT", "/admin/users/victim", {"disabled": True})).status == 200
    assert (await victim.get("/me")).status == 401
    login = await api.post("/auth/login", {"username": "victim", "password": "correct-horse-9"})
    assert login.status == 401


@pytest.mark.gen_test
async def test_flag_once(api, store):
    asker = await as_role(api, store, "citizen", "asker")
    reader = await as_role(api, store, "citizen", "reader")
    post = (await asker.post("/boards/forum/posts", {"title": "t", "body": "b"})).json()["post"]
    assert (await api.post(f"/posts/{post['id']}/flag", {"reason": "广告"})).status == 401
    first = await reader.post(f"/posts/{post['id']}/flag", {"reason": "广告"})
    assert first.status == 201 and first.json()["flag"]["open"]
    assert (await reader.post(f"/posts/{post['id']}/flag", {"reason": "又是广告"})).status == 409
    bad = await reader.post(f"/posts/{post['id']}/flag", {"reason": ["x"]})
    assert bad.status == 422 and "reason" in bad.error["fields"]


@pytest.mark.gen_test
async def test_personal_data_masked_for_the_public_only(api, store):
    asker = await as_role(api, store, "citizen", "asker")
    body = {**QUESTION, "body": "我的电话13812345678，身份证11010519491231002X"}
    post = (await asker.post("/boards/lawyer/posts", body)).json()["post"]
    public = (await api.get(f"/posts/{post['id']}")).json()["post"]
    assert "13812345678" not in str(public) and "138****5678" in public["body"]
    assert "11010519491231002X" not in str(public)
    listed = (await api.get("/boards/lawyer/posts")).json()["items"][0]
    assert "13812345678" not in str(listed)
    own = (await asker.get(f"/posts/{post['id']}")).json()["post"]
    assert "13812345678" in own["body"]


@pytest.mark.gen_test
async def test_workspace_and_admin_list_refuse_others(api, store):
    citizen = await as_role(api, store, "citizen")
    assert (await api.get("/workspace")).status == 401
    assert (await citizen.get("/workspace")).status == 403
    assert (await citizen.get("/admin/users")).status == 403
    admin = await as_role(api, store, "admin", "root")
    listed = (await admin.get("/admin/users?q=ROO")).json()["items"]
    assert [u["username"] for u in listed] == ["root"]
