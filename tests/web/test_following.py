"""Following (关注) through HTTP: the JSON API (POST, GET /subscriptions, DELETE
/subscriptions/{id}) and the 关注 / 已关注（取消关注） buttons of the pages, on both stores."""

from __future__ import annotations

import asyncio
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from forum.model import Role
from forum.services import posting  # noqa: F401  (first: see tests/services/test_following.py)
from forum.services import moderation
from tests.support.people import login_as, person
from tests.support.web import Browser

LETTER = {
    "title": "小区路灯不亮",
    "body": "已经一个月了",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13812345678",
}


@pytest.fixture
def store(seeded_store):
    """This module's app runs over each kind of store."""
    return seeded_store


async def notifications(client) -> list[tuple[str, str | None]]:
    response = await client.get("/notifications?limit=100")
    assert response.status == 200, response.text
    return [(n["kind"], n["post_id"]) for n in reversed(response.json()["items"])]


async def new_topic(client, title="公交站没有顶棚") -> str:
    made = await client.post("/boards/forum/posts", {"title": title, "body": "下雨没处躲"})
    assert made.status == 201, made.text
    return made.json()["post"]["id"]


# the API -------------------------------------------------------------------------------------
@pytest.mark.gen_test(timeout=30)
async def test_follow_again_list_and_unfollow(api, store):
    alice, bob = await api.new_user("alice"), await api.new_user("bob")
    post_id = await new_topic(bob)
    ids = {}
    for target in (f"post:{post_id}", "board:agri", "department:housing"):
        first = await alice.post("/subscriptions", {"target": target})
        assert first.status == 201, first.text
        item = first.json()["subscription"]
        assert item["target"] == target and item["created_at"].endswith("Z")
        again = await alice.post("/subscriptions", {"target": target})
        assert again.status == 200 and again.json()["subscription"] == item
        ids[target] = item["id"]
    listed = (await alice.get("/subscriptions")).json()
    assert [i["id"] for i in listed["items"]] == list(reversed(ids.values()))
    assert listed["items"][0]["url"] == "/departments/housing"
    assert listed["items"][2]["name"] == "公交站没有顶棚"
    assert (await bob.get("/subscriptions")).json() == {"items": [], "next_cursor": None}
    some = ids["board:agri"]
    assert (await bob.call("DELETE", f"/subscriptions/{some}")).status == 404  # not his
    assert (await alice.call("DELETE", f"/subscriptions/{some}")).status == 204
    assert (await alice.call("DELETE", f"/subscriptions/{some}")).status == 404
    assert (await alice.call("DELETE", "/subscriptions/not-an-id")).status == 404
    assert len((await alice.get("/subscriptions")).json()["items"]) == 2
    page = (await alice.get("/subscriptions?limit=1")).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    assert (await alice.get("/subscriptions?limit=0")).status == 422
    assert (await alice.get("/subscriptions?cursor=%3Cscript%3E")).status == 422


@pytest.mark.gen_test(timeout=30)
async def test_simultaneous_follows_answer_one_subscription(api, store):
    alice = await api.new_user("alice")
    answers = await asyncio.gather(
        *(alice.post("/subscriptions", {"target": "board:forum"}) for _ in range(8))
    )
    assert sorted(a.status for a in answers) == [200] * 7 + [201]
    assert len({a.json()["subscription"]["id"] for a in answers}) == 1
    assert len((await alice.get("/subscriptions")).json()["items"]) == 1


@pytest.mark.gen_test(timeout=30)
async def test_visitors_are_told_to_log_in(api, store):
    assert (await api.get("/subscriptions")).status == 401
    assert (await api.post("/subscriptions", {"target": "board:forum"})).status == 401
    assert (await api.post("/subscriptions", raw=b"{not json")).status == 401
    assert (await api.call("DELETE", "/subscriptions/0123456789abcdef01234567")).status == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"target": None},
        {"target": ""},
        {"target": 7},
        {"target": True},
        {"target": ["board:forum"]},
        {"target": {"board": "forum"}},
        {"targets": "board:forum"},
        {"target": "board:" + "a" * 200},
        {"target": "x" * 100_000},
        {"target": "<script>alert(1)</script>"},
        {"target": "board:<img src=x onerror=alert(1)>"},
        {"target": "post:../../etc/passwd"},
        {"target": 'post:{"$ne": null}'},
        {"target": "department:tax' OR '1'='1"},
        {"target": "user:admin"},
        {"target": "board:forum\r\nSet-Cookie: x=1"},
        {"target": "board:论坛"},
        {"target": "post:0123456789abcdef0123456"},
    ],
)
@pytest.mark.gen_test(timeout=30)
async def test_a_malformed_target_is_422_naming_target(api, store, body):
    alice = await api.new_user("alice")
    answer = await alice.post("/subscriptions", body)
    assert answer.status == 422, answer.text
    assert answer.error["code"] == "invalid" and list(answer.error["fields"]) == ["target"]
    assert (await alice.get("/subscriptions")).json()["items"] == []


@pytest.mark.parametrize(
    "raw", [b"{not json", b"[]", b'"board:forum"', b"null", b"[" * 100 + b"]" * 100]
)
@pytest.mark.gen_test(timeout=30)
async def test_a_body_that_is_no_json_object_is_400(api, store, raw):
    alice = await api.new_user("alice")
    assert (await alice.post("/subscriptions", raw=raw)).status == 400


@pytest.mark.gen_test(timeout=30)
async def test_what_one_may_not_read_answers_404_as_reading_it_would(api, store):
    writer, reader = await api.new_user("writer"), await api.new_user("reader")
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    private = (await writer.post("/boards/mayor/posts", LETTER)).json()["post"]["id"]
    assert (await mod.post(f"/posts/{private}/moderate", {"action": "accept"})).status == 200
    hidden = await new_topic(writer)
    assert (
        await mod.post(f"/posts/{hidden}/moderate", {"action": "hide", "reason": "广告"})
    ).status == 200
    report = (await api.post("/boards/tax/posts", {"title": "举报", "body": "虚开发票"})).json()[
        "post"
    ]["id"]
    for target, path in (
        (f"post:{private}", f"/posts/{private}"),
        (f"post:{hidden}", f"/posts/{hidden}"),
        (f"post:{report}", f"/posts/{report}"),
        ("post:0123456789abcdef01234567", "/posts/0123456789abcdef01234567"),
        ("board:nope", "/boards/nope/posts"),
        ("board:tax", None),
        ("department:nope", None),
    ):
        answer = await reader.post("/subscriptions", {"target": target})
        assert answer.status == 404, (target, answer.text)
        if path is not None:  # the same answer as reading it
            assert (await reader.get(path)).status == 404
    assert (await mod.post("/subscriptions", {"target": "board:tax"})).status == 201
    assert (await writer.post("/subscriptions", {"target": f"post:{private}"})).status == 201


@pytest.mark.gen_test(timeout=30)
async def test_a_follower_gets_one_notification_per_event_and_the_actor_none(api, store):
    writer, replier = await api.new_user("writer"), await api.new_user("replier")
    fan = await api.new_user("fan")
    post_id = await new_topic(writer)
    for client, target in (
        (fan, f"post:{post_id}"),
        (fan, "board:forum"),
        (replier, f"post:{post_id}"),
        (writer, f"post:{post_id}"),
    ):
        assert (await client.post("/subscriptions", {"target": target})).status == 201
    assert (await replier.post(f"/posts/{post_id}/replies", {"body": "同感"})).status == 201
    assert await notifications(fan) == [("follow_reply", post_id)]
    assert await notifications(replier) == []  # the actor
    assert await notifications(writer) == [("reply", post_id)]  # as the writer, once
    second = await new_topic(writer, "又一个问题")
    assert await notifications(fan) == [("follow_reply", post_id), ("follow_post", second)]
    assert await notifications(writer) == [("reply", post_id)]


@pytest.mark.gen_test(timeout=30)
async def test_a_case_follower_hears_of_status_and_official_reply_once(api, store):
    writer, fan = await api.new_user("writer"), await api.new_user("fan")
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    clerk = await login_as(api, store, "clerk", Role.STAFF, department="housing")
    letter = (await writer.post("/boards/mayor/posts", {**LETTER, "public": True})).json()["post"][
        "id"
    ]
    assert (await fan.post("/subscriptions", {"target": "board:mayor"})).status == 201
    assert (await fan.post("/subscriptions", {"target": "department:housing"})).status == 201
    await mod.post(f"/posts/{letter}/moderate", {"action": "accept"})
    assert await notifications(fan) == [("follow_post", letter)]
    assert (await fan.post("/subscriptions", {"target": f"post:{letter}"})).status == 201
    await mod.post(f"/posts/{letter}/route", {"department": "housing"})
    await clerk.post(f"/posts/{letter}/replies", {"body": "已安排维修。"})
    assert await notifications(fan) == [
        ("follow_post", letter),
        ("follow_status", letter),
        ("follow_official", letter),
    ]
    assert await notifications(mod) == []


# the pages -----------------------------------------------------------------------------------
async def logged_in(http_client, base_url, store, name, *roles) -> Browser:
    await person(store, name, *roles)
    browser = Browser(http_client, base_url)
    await browser.log_in(name)
    return browser


def follow_forms(page: str) -> list[str]:
    """The actions of the follow and unfollow forms on a page."""
    return re.findall(r'<form method="post" action="(/subscriptions[^"]*)"', page)


@pytest.mark.gen_test(timeout=30)
async def test_the_buttons_follow_and_unfollow_a_post_board_and_department(
    http_client, base_url, store
):
    writer = await person(store, "writer")
    topic = await posting.create_post(store, writer, "forum", {"title": "帖", "body": "x"})
    reader = await logged_in(http_client, base_url, store, "reader")
    for path, target in (
        (f"/posts/{topic.post.id}", f"post:{topic.post.id}"),
        ("/boards/agri", "board:agri"),
        ("/departments/housing", "department:housing"),
    ):
        page = (await reader.get(path)).text
        assert follow_forms(page) == ["/subscriptions"] and f'value="{target}"' in page
        assert "关注" in page and "已关注（取消关注）" not in page
        done = await reader.submit("/subscriptions", {"target": target})
        assert done.status == 303 and done.headers["Location"] == path
        page = (await reader.follow(done)).text
        assert "已关注（取消关注）" in page and "已关注：有新内容时会通知您。" in page
        (unfollow,) = follow_forms(page)
        assert re.fullmatch(r"/subscriptions/[0-9a-f]{24}/delete", unfollow)
        again = (await reader.get(path)).text  # the flash is shown once
        assert "已关注：有新内容时会通知您。" not in again
        # Reloading the form repeats nothing: following again keeps the one subscription.
        assert (await reader.submit("/subscriptions", {"target": target})).status == 303
    me = (await reader.get("/me")).text
    assert me.count('/delete"') == 3 and "我的关注" in me
    assert all(
        f'href="{p}"' in me
        for p in (f"/posts/{topic.post.id}", "/boards/agri", "/departments/housing")
    )
    unfollow = re.findall(r'action="(/subscriptions/[0-9a-f]{24}/delete)"', me)[0]
    gone = await reader.submit(unfollow, {"next": "/me#following"})
    assert gone.status == 303 and gone.headers["Location"] == "/me#following"
    me = (await reader.follow(gone)).text
    assert me.count('/delete"') == 2 and "已取消关注。" in me
    # Away from this site, never: `next` is a local path or the home page.
    other = re.findall(r'action="(/subscriptions/[0-9a-f]{24}/delete)"', me)[0]
    away = await reader.submit(other, {"next": "//evil.example/"})
    assert away.headers["Location"] == "/"


@pytest.mark.gen_test(timeout=30)
async def test_page_forms_refuse_bad_targets_unseen_ones_and_missing_xsrf(
    http_client, base_url, store
):
    reader = await logged_in(http_client, base_url, store, "reader")
    for target, status in (
        ("", 422),
        ("<script>alert(1)</script>", 422),
        ("board:tax", 404),
        ("department:nope", 404),
    ):
        answer = await reader.submit("/subscriptions", {"target": target})
        assert answer.status == status, (target, answer.status)
        assert "<script>alert(1)</script>" not in answer.text
    assert (
        await reader.submit("/subscriptions", {"target": "board:forum"}, xsrf=False)
    ).status == 403
    assert (
        await reader.submit("/subscriptions/0123456789abcdef01234567/delete", {"next": "/me"})
    ).status == 404
    # The confidential board offers no button to a citizen.
    assert follow_forms((await reader.get("/boards/tax")).text) == []


@pytest.mark.gen_test(timeout=30)
async def test_visitors_are_sent_to_log_in_and_come_back(http_client, base_url, store):
    writer = await person(store, "writer")
    topic = await posting.create_post(store, writer, "forum", {"title": "帖", "body": "x"})
    visitor = Browser(http_client, base_url)
    page = (await visitor.get(f"/posts/{topic.post.id}")).text
    assert follow_forms(page) == []  # no form: the page is the same for every visitor
    (link,) = re.findall(r'<a class="[^"]*follow-button" href="([^"]+)"', page)
    assert parse_qs(urlsplit(html.unescape(link)).query)["next"] == [f"/posts/{topic.post.id}"]
    listed = await visitor.get("/subscriptions")
    assert listed.status == 303
    assert parse_qs(urlsplit(listed.headers["Location"]).query)["next"] == ["/subscriptions"]
    posted = await visitor.submit(
        "/subscriptions", {"target": "board:forum", "next": "/boards/forum"}
    )
    assert posted.status == 303 and posted.headers["Location"].startswith("/login?")
    assert parse_qs(urlsplit(posted.headers["Location"]).query)["next"] == ["/boards/forum"]
    assert (await visitor.get("/me")).status in (302, 303)


@pytest.mark.gen_test(timeout=30)
async def test_a_followed_post_hidden_since_is_listed_without_its_title(
    http_client, base_url, store
):
    writer, mod = await person(store, "writer"), await person(store, "mod", Role.MODERATOR)
    topic = await posting.create_post(store, writer, "forum", {"title": "秘密标题", "body": "x"})
    reader = await logged_in(http_client, base_url, store, "reader")
    await reader.submit("/subscriptions", {"target": f"post:{topic.post.id}"})
    await moderation.moderate(store, mod, topic.post.id, "hide", "广告")
    me = (await reader.get("/me")).text
    assert "秘密标题" not in me and "已无法查看的内容" in me and '/delete"' in me


@pytest.mark.gen_test(timeout=30)
async def test_the_buttons_speak_english_on_english_pages(http_client, base_url, store):
    reader = await logged_in(http_client, base_url, store, "reader")
    reader.cookies["lang"] = "en_US"
    page = (await reader.get("/boards/forum")).text
    assert ">Follow<" in page or ">Follow<span" in page
    await reader.submit("/subscriptions", {"target": "board:forum"})
    me = (await reader.get("/me")).text
    assert "Following" in me and "Unfollow" in me


def test_followers_notifications_read_in_the_page_language():
    from forum.web import i18n, labels

    en = i18n.get_locale("en_US")

    def shown(kind, text):
        return labels.notification_text(
            kind, text, en.translate, lambda context, word: i18n.translate_in(en, context, word)
        )

    assert shown("follow_status", "您关注的事项状态有更新：路灯（转办）") == (
        "A case you follow has a new status: 路灯 (Routed)"
    )
    assert (
        shown("follow_post", "您关注的栏目有新帖：路灯") == "New post in a board you follow: 路灯"
    )
