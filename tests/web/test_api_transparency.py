"""Search, similar questions, notifications, feeds and statistics through HTTP."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from forum.model import Role
from tests.support.people import person
from tests.support.web import PASSWORD

ATOM = "{http://www.w3.org/2005/Atom}"


async def login(api, store, name, *roles, department=None):
    await person(store, name, *roles, department=department)
    return await api.login(name)


@pytest.mark.gen_test
async def test_search_and_similar(api, store):
    asker = await login(api, store, "asker")
    lawyer = await login(api, store, "lawyer1", Role.LAWYER)
    post = (
        await asker.post(
            "/boards/lawyer/posts",
            {"title": "劳动合同纠纷怎么处理", "body": "公司拖欠工资", "category": "劳动"},
        )
    ).json()
    post_id = post["post"]["id"]
    await lawyer.post(f"/posts/{post_id}/replies", {"body": "申请仲裁"})
    found = await api.get("/search?q=" + quote("劳动合同"))
    assert found.status == 200
    first = found.json()["items"][0]
    assert first["post"]["id"] == post_id and "<mark>" in first["snippet"] and first["score"] > 0
    assert (await api.get("/search?q=" + quote("劳动合同") + "&board=forum")).json()["items"] == []
    # Two content words in common (劳动合同, 纠纷): offered, with or without the board.
    for board in ("", "&board=lawyer"):
        similar = await api.get("/search/similar?title=" + quote("劳动合同纠纷如何解决") + board)
        assert [p["id"] for p in similar.json()["items"]] == [post_id]
    # Only one of two (到期 is not in it): not close; another board: not offered.
    for query in ("劳动合同到期", "劳动合同纠纷如何解决&board=agri"):
        assert (await api.get("/search/similar?title=" + quote(query, safe="&="))).json()[
            "items"
        ] == []
    bad = await api.get("/search/similar?title=" + quote("劳动合同") + "&board=forum")
    assert bad.status == 422 and "board" in bad.error["fields"]
    for query, field in (("", "q"), ("q=" + "x" * 101, "q"), ("q=a&board=zzz", "board")):
        bad = await api.get("/search?" + query)
        assert bad.status == 422 and field in bad.error["fields"]
    hostile = await api.get("/search?q=" + quote('"NEAR(* {"$ne":null} \'; DROP %00'))
    assert hostile.status == 200


@pytest.mark.gen_test
async def test_notifications_api(api, store):
    asker = await login(api, store, "asker")
    other = await login(api, store, "other")
    post_id = (await asker.post("/boards/forum/posts", {"title": "t", "body": "b"})).json()["post"][
        "id"
    ]
    await other.post(f"/posts/{post_id}/replies", {"body": "回复"})
    inbox = (await asker.get("/notifications")).json()
    assert inbox["unread"] == 1 and inbox["items"][0]["kind"] == "reply"
    assert inbox["items"][0]["post_id"] == post_id and inbox["items"][0]["read"] is False
    marked = await asker.post("/notifications/read", {"ids": [inbox["items"][0]["id"]]})
    assert marked.status == 200 and marked.json() == {"marked": 1, "unread": 0}
    assert (await other.post("/notifications/read", {"ids": [inbox["items"][0]["id"]]})).json()[
        "marked"
    ] == 0
    assert (await api.get("/notifications")).status == 401
    bad = await asker.post("/notifications/read", {"ids": "all"})
    assert bad.status == 422 and "ids" in bad.error["fields"]


@pytest.mark.gen_test
async def test_atom_feeds(api, store, http_client, base_url):
    asker = await login(api, store, "asker")
    await asker.post(
        "/boards/lawyer/posts",
        {
            "title": "电话13812345678能打通吗",
            "body": "<b>x</b>",
            "category": "劳动",
            "anonymous": True,
        },
    )
    response = await http_client.fetch(
        base_url + "/boards/lawyer/feed.atom", headers={"Host": "evil.example"}
    )
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    # Links from the configured site address, never from the Host header a requester sends.
    assert b"evil.example" not in response.body and b"http://127.0.0.1:8888/posts/" in response.body
    feed = ET.fromstring(response.body)
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "电话138****5678能打通吗"
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "网友"
    assert b"asker" not in response.body
    assert "<b>" not in entry.find(f"{ATOM}content").text
    for slug in ("tax", "nope"):
        missing = await http_client.fetch(base_url + f"/boards/{slug}/feed.atom", raise_error=False)
        assert missing.code == 404


@pytest.mark.gen_test
async def test_stats_json(api, store):
    figures = await api.get("/stats?from=2026-01-01&to=2027-01-01")
    assert figures.status == 200
    body = figures.json()
    assert set(body["boards"]) == {"mayor", "tax"} and "housing" in body["departments"]
    assert set(body["boards"]["mayor"]) >= {
        "received",
        "accepted",
        "replied",
        "closed",
        "reply_rate",
        "completion_rate",
        "on_time_rate",
        "median_first_reply_hours",
        "overdue",
        "satisfaction",
    }
    bad = await api.get("/stats?from=tomorrow")
    assert bad.status == 422 and "from" in bad.error["fields"]


@pytest.mark.gen_test
async def test_email_change_through_the_api_and_the_page(api, store, browser):
    user = await login(api, store, "mailer")
    changed = await user.patch("/me", {"email": "m@example.org", "current_password": PASSWORD})
    assert changed.status == 200 and changed.json()["user"]["email_confirmed"] is False
    assert await store.count_mail_waiting() == 1
    bad = await user.patch("/me", {"email": "nope", "current_password": PASSWORD})
    assert bad.status == 422 and "email" in bad.error["fields"]
    # The address receives password-reset links: changing it needs the password.
    for body in (
        {"email": "thief@example.org"},
        {"email": "thief@example.org", "current_password": "not-" + PASSWORD},
        {"email": "thief@example.org", "current_password": ["x"]},
    ):
        refused = await user.patch("/me", body)
        assert refused.status == 422 and "current_password" in refused.error["fields"]
    assert (await store.get_user_by_name("mailer")).email == "m@example.org"
    await browser.log_in("mailer")
    page = await browser.submit(
        "/me", {"form": "email", "email": "not-an-address", "current_password": PASSWORD}
    )
    assert page.status == 422
    no_password = await browser.submit("/me", {"form": "email", "email": "t@example.org"})
    assert no_password.status == 422 and 'id="current_password-error"' in no_password.text
    removed = await browser.submit(
        "/me", {"form": "email", "email": "", "current_password": PASSWORD}
    )
    assert removed.status == 303
    assert (await store.get_user_by_name("mailer")).email is None


@pytest.mark.gen_test
async def test_similar_questions_step_without_javascript_keeps_the_draft(api, store, browser):
    asker = await login(api, store, "asker")
    lawyer = await login(api, store, "lawyer1", Role.LAWYER)
    post_id = (
        await asker.post(
            "/boards/lawyer/posts",
            {"title": "劳动合同纠纷怎么处理", "body": "x", "category": "劳动"},
        )
    ).json()["post"]["id"]
    await lawyer.post(f"/posts/{post_id}/replies", {"body": "申请仲裁"})
    await browser.log_in("asker")
    step = await browser.submit(
        "/boards/lawyer/new",
        {"title": "劳动合同纠纷到期怎么办", "body": "我的草稿", "check_similar": "1"},
    )
    assert step.status == 200 and f"/posts/{post_id}" in step.text and "我的草稿" in step.text
    assert len((await api.get("/boards/lawyer/posts")).json()["items"]) == 1  # nothing created


@pytest.mark.gen_test
async def test_stats_page_names_a_bad_date(browser):
    page = await browser.get("/stats?from=bad")
    assert page.status == 422 and 'id="from-error"' in page.text


@pytest.mark.gen_test
async def test_stats_page_of_a_new_portal(browser):
    page = await browser.get("/stats")
    assert page.status == 200 and "办结率" in page.text
