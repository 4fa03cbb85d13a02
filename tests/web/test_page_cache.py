"""Whole pages kept for anonymous readers (forum/web/pagecache.py): served again only while the
store's content version stands, never to or from a logged-in reader, per language and 关怀版."""

from __future__ import annotations

import pytest
from tornado.httpclient import AsyncHTTPClient

from forum.web.pagecache import CachedPage, PageCache
from tests.support import stores
from tests.support.apps import build_app, seeded
from tests.support.web import Api, Browser


def cache_of(app) -> PageCache:
    return app.settings["page_cache"]


async def first_post(api: Api, title: str = "路灯坏了") -> str:
    writer = await api.new_user("writer")
    made = await writer.post("/boards/forum/posts", {"title": title, "body": "请尽快修好。"})
    assert made.status == 201, made.text
    return made.json()["post"]["id"]


@pytest.mark.gen_test
async def test_a_page_read_twice_anonymously_is_rendered_once(app, browser):
    cache = cache_of(app)
    first = await browser.get("/boards/forum")
    hits = cache.hits
    second = await browser.get("/boards/forum")
    assert first.status == second.status == 200
    assert second.text == first.text
    assert cache.hits == hits + 1


@pytest.mark.gen_test
async def test_a_write_is_seen_by_the_next_anonymous_reader(app, api, browser):
    post_id = await first_post(api)
    before = await browser.get("/boards/forum")
    assert "路灯坏了" in before.text
    await browser.get("/boards/forum")  # now kept
    thread = await browser.get(f"/posts/{post_id}")
    listed = await api.get("/boards/forum/posts")
    assert listed.status == 200
    writer = await api.login("writer")
    assert (
        await writer.post(f"/posts/{post_id}/replies", {"body": "同感，晚上很黑"})
    ).status == 201
    assert (
        await writer.post(
            "/boards/forum/posts", {"title": "公交站没有顶棚", "body": "下雨没处躲。"}
        )
    ).status == 201
    assert "公交站没有顶棚" in (await browser.get("/boards/forum")).text
    assert "同感，晚上很黑" in (await browser.get(f"/posts/{post_id}")).text
    assert "同感" not in thread.text
    titles = [item["title"] for item in (await api.get("/boards/forum/posts")).json()["items"]]
    assert "公交站没有顶棚" in titles


@pytest.mark.gen_test
async def test_a_write_through_another_process_is_seen_too(app, store, browser, tmp_path):
    """Two applications over one SQLite file, as `--processes 2` runs them: a reply through the
    second is on the first's next anonymous page."""
    other_store = stores.make("sqlite", tmp_path)  # the same forum.db, its own connections
    await seeded(other_store)
    other = build_app(other_store)
    from tornado.testing import bind_unused_port
    import tornado.httpserver

    sock, port = bind_unused_port()
    server = tornado.httpserver.HTTPServer(other)
    server.add_sockets([sock])
    try:
        other_api = Api(AsyncHTTPClient(), f"http://127.0.0.1:{port}")
        post_id = await first_post(other_api)
        assert "请尽快修好" in (await browser.get(f"/posts/{post_id}")).text
        await browser.get(f"/posts/{post_id}")
        writer = await other_api.login("writer")
        assert (
            await writer.post(f"/posts/{post_id}/replies", {"body": "另一个进程的回复"})
        ).status == 201
        assert "另一个进程的回复" in (await browser.get(f"/posts/{post_id}")).text
    finally:
        server.stop()
        await other_store.close()


@pytest.mark.gen_test
async def test_logged_in_readers_neither_get_nor_leave_kept_pages(app, api, http_client, base_url):
    await first_post(api)
    cache = cache_of(app)
    anonymous = Browser(http_client, base_url)
    await anonymous.get("/boards/forum")
    kept = len(cache)
    reader = Browser(http_client, base_url)
    await reader.submit(
        "/register", {"username": "reader", "password": "correct-horse-9", "display_name": "读者甲"}
    )
    hits = cache.hits
    page = await reader.get("/boards/forum")
    assert "读者甲" in page.text  # the header names them: never a page kept for others
    assert cache.hits == hits and len(cache) == kept
    bearer = await api.login("writer")
    assert (await bearer.get("/boards/forum/posts")).status == 200
    assert cache.hits == hits and len(cache) == kept
    assert "读者甲" not in (await anonymous.get("/boards/forum")).text


@pytest.mark.gen_test
async def test_pages_are_kept_per_language_and_care_mode(app, http_client, base_url):
    chinese, english, care = (Browser(http_client, base_url) for _ in range(3))
    english.cookies["lang"] = "en_US"
    care.cookies["care"] = "1"
    zh = await chinese.get("/boards/forum")
    en = await english.get("/boards/forum")
    big = await care.get("/boards/forum")
    assert 'lang="zh-CN"' in zh.text and 'class="care"' not in zh.text
    assert 'lang="en' in en.text
    assert 'class="care"' in big.text
    # Each is served again as it was, never another's.
    assert (await english.get("/boards/forum")).text == en.text
    assert (await chinese.get("/boards/forum")).text == zh.text
    assert (await care.get("/boards/forum")).text == big.text


@pytest.mark.gen_test
async def test_errors_and_other_methods_are_never_kept(app, browser, api):
    cache = cache_of(app)
    assert (await browser.get("/boards/nosuchboard")).status == 404
    assert (await browser.get("/posts/" + "0" * 24)).status == 404
    assert (await api.get("/boards/nosuchboard/posts")).status == 404
    assert len(cache) == 0


@pytest.mark.gen_test
async def test_a_response_that_sets_a_cookie_or_holds_an_xsrf_token_is_not_kept(app, browser):
    # The login page carries a form with an XSRF token and sets its cookie: not shareable.
    assert (await browser.get("/login")).status == 200
    assert len(cache_of(app)) == 0


def test_the_cache_drops_old_versions_and_stays_within_its_bounds():
    cache = PageCache(max_entries=2, max_bytes=1000)
    cache.put("a", CachedPage(1, "text/html", b"x" * 10, at=0.0))
    assert cache.get("a", 1) is None  # rendered long ago (monotonic 0): too old
    import time

    now = time.monotonic()
    cache.put("a", CachedPage(1, "text/html", b"x" * 10, at=now))
    assert cache.get("a", 1).body == b"x" * 10
    assert cache.get("a", 2) is None and len(cache) == 0  # a write since: dropped
    for key in "bcd":
        cache.put(key, CachedPage(1, "text/html", b"y" * 10, at=now))
    assert len(cache) == 2 and cache.get("b", 1) is None  # the least recently used went
    cache.put("big", CachedPage(1, "text/html", b"z" * 900, at=now))
    assert cache.get("big", 1) is None  # one page may not take most of the room


@pytest.mark.gen_test
async def test_the_cache_can_be_turned_off(store, http_client):
    import dataclasses
    from tests.support.apps import TEST_CONFIG

    app = build_app(store, dataclasses.replace(TEST_CONFIG, page_cache=False))
    assert app.settings["page_cache"] is None


@pytest.mark.gen_test
async def test_a_kept_page_has_its_etag_once_and_answers_304_to_it(app, api, browser):
    post_id = await first_post(api)
    first = await browser.get("/boards/forum")
    etag = first.headers["Etag"]
    cache = cache_of(app)
    hits = cache.hits
    kept = await browser.get("/boards/forum")
    assert cache.hits == hits + 1
    assert kept.headers["Etag"] == etag and kept.text == first.text
    from forum.web.pagecache import etag_of

    assert etag == etag_of(kept.raw.body)  # what Tornado itself would compute
    again = await browser.request("GET", "/boards/forum", headers={"If-None-Match": etag})
    assert again.status == 304 and again.text == ""
    assert (
        await browser.request("GET", "/boards/forum", headers={"If-None-Match": '"other"'})
    ).status == 200
    writer = await api.login("writer")
    assert (
        await writer.post(f"/posts/{post_id}/replies", {"body": "同感，晚上很黑"})
    ).status == 201
    changed = await browser.request("GET", "/boards/forum", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["Etag"] != etag
    listed = await api.get("/boards/forum/posts")
    assert (
        await api.get("/boards/forum/posts", headers={"If-None-Match": listed.headers["Etag"]})
    ).status == 304


@pytest.mark.gen_test
async def test_anonymous_searches_are_kept_on_their_own_shelf_until_a_write(app, api, browser):
    post_id = await first_post(api)
    cache = cache_of(app)
    searches = cache.searches
    pages_kept = len(cache)
    first = await browser.get("/search?q=路灯")
    assert first.status == 200 and "路灯坏了" in first.text
    hits = searches.hits
    assert (await browser.get("/search?q=路灯")).text == first.text
    assert searches.hits == hits + 1 and len(cache) == pages_kept
    answer = await api.get("/search?q=路灯")
    assert answer.status == 200 and (await api.get("/search?q=路灯")).text == answer.text
    assert searches.hits == hits + 2
    writer = await api.login("writer")
    assert (
        await writer.post("/boards/forum/posts", {"title": "路灯又坏了", "body": "西门那一盏。"})
    ).status == 201
    assert "路灯又坏了" in (await browser.get("/search?q=路灯")).text
    titles = [item["post"]["title"] for item in (await api.get("/search?q=路灯")).json()["items"]]
    assert "路灯又坏了" in titles
    assert "路灯坏了" in titles and post_id


@pytest.mark.gen_test
async def test_logged_in_searches_and_refused_queries_are_never_kept(
    app, api, http_client, base_url
):
    await first_post(api)
    searches = cache_of(app).searches
    reader = Browser(http_client, base_url)
    await reader.submit(
        "/register", {"username": "reader", "password": "correct-horse-9", "display_name": "读者甲"}
    )
    assert (await reader.get("/search?q=路灯")).status == 200
    bearer = await api.login("writer")
    assert (await bearer.get("/search?q=路灯")).status == 200
    anonymous = Browser(http_client, base_url)
    assert (await anonymous.get("/search?q=" + "很长" * 80)).status == 422
    assert len(searches) == 0 and searches.hits == 0


def test_a_flood_of_unique_searches_never_pushes_out_pages():
    import time

    now = time.monotonic()
    cache = PageCache(max_entries=10, max_bytes=10_000, search_entries=3, search_bytes=1000)
    cache.put("/boards/forum", CachedPage(1, "text/html", b"b" * 100, at=now))
    for n in range(50):
        cache.searches.put(f"/search?q={n}", CachedPage(1, "text/html", b"s" * 100, at=now))
    assert len(cache.searches) == 3 and cache.get("/boards/forum", 1) is not None
    assert PageCache(search_entries=0).searches is None
