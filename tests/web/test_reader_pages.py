"""Board and post pages kept for signed-in readers (forum/web/reader_pages.py): shared by every
reader they look the same to, each answer still naming its own reader and holding their own
form token, and byte for byte the page rendered afresh."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from forum.model import Role
from forum.web.reader_pages import NAME_MARK, TOKEN_MARK
from tests.support.people import person
from tests.support.web import Browser

PHONE = "13912345678"
TOKEN = re.compile(rb'name="_xsrf" value="[^"]*"')
# A display name that would break out of an element or an attribute if it were not escaped.
HOSTILE = "<b>李&\"'四</b>"


async def reader(http_client, base_url, store, name: str, *roles: Role) -> Browser:
    user = await person(store, name, *roles)
    if name.startswith("hostile"):
        await store.update_user(user.id, {"display_name": HOSTILE + name})
    browser = Browser(http_client, base_url)
    await browser.log_in(name)
    return browser


async def a_thread(api, store) -> tuple[str, str]:
    """A discussion post with a reply, and a mayor letter, both holding a phone number."""
    await person(store, "writer")
    writer = await api.login("writer")
    made = await writer.post("/boards/forum/posts", {"title": "路灯坏了", "body": f"电话 {PHONE}"})
    assert made.status == 201, made.text
    post_id = made.json()["post"]["id"]
    replied = await writer.post(f"/posts/{post_id}/replies", {"body": f"还是 {PHONE}"})
    assert replied.status == 201, replied.text
    letter = await writer.post(
        "/boards/mayor/posts",
        {
            "title": "噪音扰民",
            "body": f"夜间施工，电话 {PHONE}",
            "public": True,
            "letter_type": "complaint",
            "area": "city",
            "contact": "13800000000",
        },
    )
    assert letter.status == 201, letter.text
    return post_id, letter.json()["post"]["id"]


def tokens_out(page: bytes) -> bytes:
    return TOKEN.sub(b'name="_xsrf" value="-"', page)


@pytest.mark.gen_test(timeout=60)
async def test_a_kept_page_is_the_page_rendered_afresh_for_every_kind_of_reader(
    app, api, store, http_client, base_url
):
    post_id, letter_id = await a_thread(api, store)
    readers = [
        ("citizen", ()),
        ("hostile_citizen", ()),
        ("writer", None),
        ("mod", (Role.MODERATOR,)),
        ("lawyer", (Role.LAWYER,)),
        ("staff", (Role.STAFF,)),
    ]
    shelf = app.settings["reader_pages"]
    paths = ["/boards/forum", "/boards/mayor", f"/posts/{post_id}"]
    for name, roles in readers:
        browser = (
            await reader(http_client, base_url, store, name, *roles)
            if roles is not None
            else Browser(http_client, base_url)
        )
        if roles is None:
            await browser.log_in(name)
        # The letter is not public until accepted: its writer and the moderators read it.
        for path in [*paths, f"/posts/{letter_id}"] if name in ("writer", "mod") else paths:
            first = await browser.get(path)
            hits = shelf.hits
            second = await browser.get(path)
            assert shelf.hits == hits + 1, (name, path)
            app.settings["reader_pages"] = None  # the same app, rendering afresh
            try:
                fresh = await browser.get(path)
            finally:
                app.settings["reader_pages"] = shelf
            assert first.status == second.status == fresh.status == 200, (name, path)
            kept = second.raw.body
            assert tokens_out(kept) == tokens_out(fresh.raw.body), (name, path)
            assert NAME_MARK.encode() not in kept and TOKEN_MARK.encode() not in kept


@pytest.mark.gen_test
async def test_readers_who_look_the_same_share_a_page_each_with_their_name_and_token(
    app, api, store, http_client, base_url
):
    post_id, _ = await a_thread(api, store)
    first = await reader(http_client, base_url, store, "reader_a")
    second = await reader(http_client, base_url, store, "hostile_b")
    shelf = app.settings["reader_pages"]
    for path in ("/boards/forum", f"/posts/{post_id}"):
        mine = await first.get(path)
        hits = shelf.hits
        theirs = await second.get(path)
        assert shelf.hits == hits + 1, path
        assert ">reader_a<" not in theirs.text and ">reader_a<" in mine.text
        escaped = "&lt;b&gt;李&amp;&quot;&#x27;四&lt;/b&gt;hostile_b"
        assert escaped in theirs.text and HOSTILE not in theirs.text
        assert PHONE not in theirs.text
    # Each answer's form token is its reader's: a form sent with it is taken.
    token = re.search(r'name="_xsrf" value="([^"]*)"', theirs.text).group(1)
    followed = await second.submit(
        "/subscriptions", {"_xsrf": token, "target": f"post:{post_id}"}, xsrf=False
    )
    assert followed.status == 303, followed.text


@pytest.mark.gen_test
async def test_what_changes_a_page_is_on_the_next_read(app, api, store, http_client, base_url):
    post_id, _ = await a_thread(api, store)
    citizen = await reader(http_client, base_url, store, "citizen")
    writer = await api.login("writer")
    shelf = app.settings["reader_pages"]
    assert "已关注" not in (await citizen.get(f"/posts/{post_id}")).text
    followed = await citizen.submit("/subscriptions", {"target": f"post:{post_id}"})
    assert followed.status == 303
    assert "已关注" in (await citizen.get(f"/posts/{post_id}")).text
    await citizen.get("/boards/forum")
    assert (await writer.post(f"/posts/{post_id}/replies", {"body": "新的回复内容"})).status == 201
    hits = shelf.hits
    page = (await citizen.get(f"/posts/{post_id}")).text
    assert "新的回复内容" in page and shelf.hits == hits
    # The reply told the follower: the unread count in the header moves with it.
    assert 'class="unread-count"' in page


# Queries whose text would break out of the title, the form's value or the results if it were
# not escaped, or would look like a slot's mark.
SEARCHES = [
    "路灯",
    "  路灯 坏了  ",
    "<script>路灯</script>",
    '路灯" onfocus="alert(1)',
    "路灯 &amp; 'x'",
    "路灯 slot-query-0123",
]


@pytest.mark.gen_test(timeout=60)
async def test_a_kept_search_page_is_the_page_rendered_afresh_around_each_query(
    app, api, store, http_client, base_url
):
    await a_thread(api, store)
    shelf = app.settings["reader_pages"]
    for name, roles in [("hostile_citizen", ()), ("mod", (Role.MODERATOR,))]:
        browser = await reader(http_client, base_url, store, name, *roles)
        await browser.get("/search?" + urlencode({"q": "噪音"}))  # the page kept
        for query in SEARCHES:
            for extra in ({}, {"board": "forum", "sort": "newest"}):
                path = "/search?" + urlencode({"q": query, **extra})
                hits = shelf.hits
                kept = await browser.get(path)
                if not extra:  # the page around the query was kept by the first search
                    assert shelf.hits == hits + 1, (name, query)
                app.settings["reader_pages"] = None
                try:
                    fresh = await browser.get(path)
                finally:
                    app.settings["reader_pages"] = shelf
                assert kept.status == fresh.status == 200, (name, query)
                assert tokens_out(kept.raw.body) == tokens_out(fresh.raw.body), (name, path)
                assert b"slot-" + b"query-" not in kept.raw.body.replace(b"slot-query-0123", b"")
                assert "路灯坏了" in kept.text  # the thread's title, found
                assert "<script>路灯" not in kept.text
                assert (PHONE in kept.text) == (name == "mod")  # masked but for moderators
        # The moderator reads the letter the public may not; the citizen does not find it.
        letter = await browser.get("/search?" + urlencode({"q": "夜间施工"}))
        assert ("噪音扰民" in letter.text) == (name == "mod")


@pytest.mark.gen_test
async def test_a_kept_search_page_shows_each_query_and_its_own_results(
    app, api, store, http_client, base_url
):
    await a_thread(api, store)
    citizen = await reader(http_client, base_url, store, "citizen")
    shelf = app.settings["reader_pages"]
    first = await citizen.get("/search?" + urlencode({"q": "路灯"}))
    hits = shelf.hits
    second = await citizen.get("/search?" + urlencode({"q": "没有的词"}))
    assert shelf.hits == hits + 1
    assert "路灯坏了" in first.text and "路灯坏了" not in second.text
    assert "<title>搜索：没有的词" in second.text and 'value="没有的词"' in second.text
    assert "没有找到相关内容" in second.text
    # A post written since is found by the next search, around the same kept page.
    writer = await api.login("writer")
    made = await writer.post("/boards/forum/posts", {"title": "没有的词出现了", "body": "正文"})
    assert made.status == 201, made.text
    third = await citizen.get("/search?" + urlencode({"q": "没有的词"}))
    assert "没有的词出现了" in third.text
