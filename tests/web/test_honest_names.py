"""Honest names through HTTP: display names and titles without hidden characters, offices'
names only for officials, and badges on replies that only a role gives."""

from __future__ import annotations

import pytest

from forum.model import Role
from tests.support.people import person


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "shown",
    [
        "张敏（市信访局）",  # a department's name
        "张敏(市信访局)",
        "市长\u200b",  # an office title with a zero-width space after it
        "市\u200b长",  # ... or inside it
        "\u202e局访信市\u202c",  # shown backwards on screen as 市信访局
        "王局 长",  # an office title split by a space
        "教育体育局 王芳",
        "ＸＦＪ主任",  # full-width letters
    ],
)
async def test_a_citizen_cannot_be_named_like_an_office(api, shown):
    registered = await api.register("someone", display_name=shown)
    assert registered.status == 422 and list(registered.error["fields"]) == ["display_name"]


@pytest.mark.gen_test
async def test_names_and_titles_are_nfkc_and_refuse_hidden_characters(api, store):
    registered = await api.register("wide", display_name="Ｌｉ　Ｍｉｎｇ")
    assert registered.status == 201 and registered.json()["user"]["display_name"] == "Li Ming"
    writer = await api.login("wide")
    for title in ("路灯\u202e坏了", "路灯\u200b坏了", "路灯\u2066坏了\u2069", "路灯\x07坏了"):
        created = await writer.post("/boards/forum/posts", {"title": title, "body": "正文"})
        assert created.status == 422 and list(created.error["fields"]) == ["title"], title
    created = await writer.post(
        "/boards/forum/posts", {"title": "ＡＢＣ小区路灯，坏了？", "body": "正文"}
    )
    # Look-alike letters folded, Chinese punctuation kept.
    assert created.status == 201 and created.json()["post"]["title"] == "ABC小区路灯，坏了？"
    post_id = created.json()["post"]["id"]
    edited = await writer.patch(f"/posts/{post_id}", {"title": "市长\u200b请看"})
    assert edited.status == 422 and list(edited.error["fields"]) == ["title"]


@pytest.mark.gen_test
async def test_only_an_official_signs_with_an_office(api, store):
    await person(store, "root", Role.ADMIN)
    root = await api.login("root")
    assert (await api.register("zhangmin", display_name="张敏")).status == 201
    as_citizen = await root.call(
        "PUT", "/admin/users/zhangmin", {"display_name": "张敏（市信访局）"}
    )
    assert as_citizen.status == 422 and list(as_citizen.error["fields"]) == ["display_name"]
    granted = await root.call(
        "PUT",
        "/admin/users/zhangmin",
        {"roles": ["moderator"], "department": "xinfang", "display_name": "张敏（市信访局）"},
    )
    assert granted.status == 200 and granted.json()["user"]["display_name"] == "张敏（市信访局）"
    # The office's name leaves with the office.
    dropped = await root.call("PUT", "/admin/users/zhangmin", {"roles": []})
    assert dropped.status == 422 and list(dropped.error["fields"]) == ["display_name"]
    hidden = await root.call("PUT", "/admin/users/zhangmin", {"display_name": "张敏\u202e"})
    assert hidden.status == 422 and list(hidden.error["fields"]) == ["display_name"]


@pytest.mark.gen_test
async def test_officials_replies_carry_a_badge_nobody_else_can_get(api, browser, store):
    await person(store, "mod", Role.MODERATOR, department="xinfang")
    await person(store, "clerk", Role.STAFF, department="housing")
    await person(store, "lawyer1", Role.LAWYER)
    citizen = await api.new_user("citizen")
    post_id = (await citizen.post("/boards/forum/posts", {"title": "路灯", "body": "坏了"})).json()[
        "post"
    ]["id"]
    for name in ("mod", "clerk", "citizen"):
        replied = await (await api.login(name)).post(f"/posts/{post_id}/replies", {"body": "收到"})
        assert replied.status == 201, replied.text
    replies = (await api.get(f"/posts/{post_id}")).json()["replies"]
    assert [r["author"].get("badge") for r in replies] == ["市信访局", "工作人员", None]
    page = await browser.get(f"/posts/{post_id}")
    assert page.text.count('class="badge badge-verified"') == 2
    question = (
        await citizen.post(
            "/boards/lawyer/posts", {"title": "劳动合同", "body": "怎么办", "category": "劳动"}
        )
    ).json()["post"]["id"]
    lawyer = await api.login("lawyer1")
    assert (await lawyer.post(f"/posts/{question}/replies", {"body": "仲裁"})).status == 201
    answers = (await api.get(f"/posts/{question}")).json()["replies"]
    assert [r["author"]["badge"] for r in answers] == ["认证律师"]
