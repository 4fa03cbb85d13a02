"""Personal data through HTTP: what a visitor can read, search for and subscribe to never holds a
number the pages mask (forum/privacy.py)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from forum import search
from forum.model import Role
from forum.services import searching
from tests.support.people import person

ID_NUMBER = "530402199001011238"
CARD = "6222021234567890128"


async def login(api, store, name, *roles, department=None):
    await person(store, name, *roles, department=department)
    return await api.login(name)


@pytest.mark.gen_test
async def test_a_search_cannot_recover_a_masked_number(api, browser, store):
    writer = await login(api, store, "writer")
    created = await writer.post(
        "/boards/forum/posts",
        {
            "title": "路灯坏了 13912345678",
            "body": f"请联系 139-1234-5678 或 0877-2012345，身份证 {ID_NUMBER}，卡号 {CARD}",
        },
    )
    assert created.status == 201
    post_id = created.json()["post"]["id"]
    shown = (await api.get(f"/posts/{post_id}")).json()["post"]
    assert shown["title"] == "路灯坏了 139****5678"
    for query in (
        "13912345678",
        "1391234",
        "12345678",
        "2012345",
        ID_NUMBER,
        "19900101",
        CARD,
        "0212345678",
    ):
        found = await api.get("/search?q=" + quote(query))
        assert found.status == 200 and found.json()["items"] == [], query
        page = await browser.get("/search?q=" + quote(query))
        assert page.status == 200 and f"/posts/{post_id}" not in page.text, query
    # What the page shows is still found, and the snippet shows it masked.
    found = (await api.get("/search?q=" + quote("路灯"))).json()["items"]
    assert [item["post"]["id"] for item in found] == [post_id]
    assert "139-****-5678" in found[0]["snippet"] and "1234" not in found[0]["snippet"]


@pytest.mark.gen_test
async def test_reindex_turns_an_index_of_raw_text_into_the_masked_one(api, store):
    writer = await login(api, store, "writer")
    created = await writer.post("/boards/forum/posts", {"title": "求助", "body": "电话13912345678"})
    post_id = created.json()["post"]["id"]
    # An index written before masking moved to the source held the raw text.
    await store.index_post(post_id, search.terms_for("求助", "电话13912345678"))
    assert len((await api.get("/search?q=13912345678")).json()["items"]) == 1
    assert await searching.reindex(store) == 1
    assert (await api.get("/search?q=13912345678")).json()["items"] == []
    assert len((await api.get("/search?q=" + quote("求助"))).json()["items"]) == 1


@pytest.mark.gen_test
async def test_a_rating_comment_is_masked_for_the_public(api, browser, store):
    writer = await login(api, store, "writer")
    mod = await login(api, store, "mod", Role.MODERATOR)
    staff = await login(api, store, "clerk", Role.STAFF, department="housing")
    created = await writer.post(
        "/boards/mayor/posts",
        {
            "title": "小区门口路灯不亮",
            "body": "一个月了",
            "category": "城乡建设",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13812345678",
            "public": True,
        },
    )
    post_id = created.json()["post"]["id"]
    await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})
    await mod.post(f"/posts/{post_id}/route", {"department": "housing", "due_days": 5})
    await staff.post(f"/posts/{post_id}/replies", {"body": "已安排维修。"})
    rated = await writer.post(
        f"/posts/{post_id}/rating",
        {"score": "unsatisfied", "comment": "没人修，请打 138 1234 5678"},
    )
    assert rated.status == 200
    assert (await writer.get(f"/posts/{post_id}")).json()["post"]["rating_comment"] == (
        "没人修，请打 138 1234 5678"
    )
    public = (await api.get(f"/posts/{post_id}")).json()["post"]
    assert public["rating_comment"] == "没人修，请打 138 **** 5678" and public["contact"] is None
    page = await browser.get(f"/posts/{post_id}")
    assert page.status == 200 and "138 **** 5678" in page.text and "138 1234" not in page.text
