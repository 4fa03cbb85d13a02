"""Logged-in pages from kept parts: the login (services/accounts.KeptLogins), the records
(forum/store/kept.py) and the rendered list items and replies (web/modules.Fragments). Each page
is still personal, shows nothing its reader may not see, and is never older than the last write,
in this process or another over the same database; a logout or a changed account is effective
on the next request."""

from __future__ import annotations

import pytest
import tornado.httpserver
from tornado.httpclient import AsyncHTTPClient
from tornado.testing import bind_unused_port

from forum.model import Role
from tests.support import stores
from tests.support.apps import build_app, seeded
from tests.support.people import person
from tests.support.versions import count_version_reads
from tests.support.web import Api, Browser

PHONE = "13912345678"
MASKED = "139****5678"


async def reader(http_client, base_url, store, name: str, *roles: Role) -> Browser:
    await person(store, name, *roles)
    browser = Browser(http_client, base_url)
    await browser.log_in(name)
    return browser


async def write_post(api: Api, store, title: str = f"路灯坏了 {PHONE}") -> tuple[Api, str]:
    await person(store, "writer")
    writer = await api.login("writer")
    made = await writer.post("/boards/forum/posts", {"title": title, "body": f"电话 {PHONE}"})
    assert made.status == 201, made.text
    return writer, made.json()["post"]["id"]


@pytest.mark.gen_test
async def test_a_moderators_unmasked_page_never_reaches_a_citizen(
    app, api, store, http_client, base_url
):
    writer, post_id = await write_post(api, store)
    assert (
        await writer.post(f"/posts/{post_id}/replies", {"body": f"再说一遍 {PHONE}"})
    ).status == 201
    moderator = await reader(http_client, base_url, store, "mod", Role.MODERATOR)
    citizen = await reader(http_client, base_url, store, "citizen")
    for _ in range(2):  # the second time from what the first kept
        for path in ("/boards/forum", f"/posts/{post_id}"):
            assert PHONE in (await moderator.get(path)).text, path
            seen = (await citizen.get(path)).text
            assert PHONE not in seen and MASKED in seen, path
    assert len(app.settings["fragments"]) > 0


@pytest.mark.gen_test
async def test_a_hidden_post_leaves_the_citizens_pages_at_once(
    app, api, store, http_client, base_url
):
    _, post_id = await write_post(api, store, "要被隐藏的帖子")
    await person(store, "mod", Role.MODERATOR)
    moderator = await api.login("mod")
    citizen = await reader(http_client, base_url, store, "citizen")
    assert "要被隐藏的帖子" in (await citizen.get("/boards/forum")).text
    assert (await citizen.get(f"/posts/{post_id}")).status == 200
    hidden = await moderator.post(
        f"/posts/{post_id}/moderate", {"action": "hide", "reason": "广告"}
    )
    assert hidden.status == 200, hidden.text
    assert "要被隐藏的帖子" not in (await citizen.get("/boards/forum")).text
    assert (await citizen.get(f"/posts/{post_id}")).status == 404


@pytest.mark.gen_test
async def test_the_page_stays_personal(app, api, store, http_client, base_url):
    await write_post(api, store, "大家的帖子")
    first = await reader(http_client, base_url, store, "reader_a")
    second = await reader(http_client, base_url, store, "reader_b")
    for _ in range(2):
        a, b = (await first.get("/boards/forum")).text, (await second.get("/boards/forum")).text
        assert "reader_a" in a and "reader_b" not in a
        assert "reader_b" in b and "reader_a" not in b
        assert "大家的帖子" in a and "大家的帖子" in b


@pytest.mark.gen_test
async def test_a_write_is_on_the_next_logged_in_read(app, api, store, http_client, base_url):
    writer, post_id = await write_post(api, store)
    citizen = await reader(http_client, base_url, store, "citizen")
    await citizen.get("/boards/forum")
    await citizen.get(f"/posts/{post_id}")
    assert (await writer.post(f"/posts/{post_id}/replies", {"body": "新的回复"})).status == 201
    assert (
        await writer.post("/boards/forum/posts", {"title": "第二个帖子", "body": "正文"})
    ).status == 201
    assert "新的回复" in (await citizen.get(f"/posts/{post_id}")).text
    assert "第二个帖子" in (await citizen.get("/boards/forum")).text


@pytest.mark.gen_test
async def test_a_write_through_another_process_is_on_the_next_logged_in_read(
    app, api, store, http_client, base_url, tmp_path
):
    """Two applications over one SQLite file, as `--processes 2` runs them."""
    writer, post_id = await write_post(api, store)
    citizen = await reader(http_client, base_url, store, "citizen")
    await citizen.get(f"/posts/{post_id}")
    other_store = stores.make("sqlite", tmp_path)  # the same forum.db, its own connections
    await seeded(other_store)
    sock, port = bind_unused_port()
    server = tornado.httpserver.HTTPServer(build_app(other_store))
    server.add_sockets([sock])
    try:
        other = await Api(AsyncHTTPClient(), f"http://127.0.0.1:{port}").login("writer")
        assert (
            await other.post(f"/posts/{post_id}/replies", {"body": "另一个进程的回复"})
        ).status == 201
        assert "另一个进程的回复" in (await citizen.get(f"/posts/{post_id}")).text
        # A logout there ends the login here too, on the next request.
        elsewhere = Browser(AsyncHTTPClient(), f"http://127.0.0.1:{port}")
        elsewhere.cookies = dict(citizen.cookies)
        assert (await elsewhere.submit("/logout", {})).status in (302, 303)
        assert "citizen" not in (await citizen.get("/boards/forum")).text
    finally:
        server.stop()
        await other_store.close()


@pytest.mark.gen_test
async def test_logout_is_effective_at_once(app, store, http_client, base_url):
    citizen = await reader(http_client, base_url, store, "citizen")
    assert "citizen" in (await citizen.get("/boards/forum")).text
    kept_cookies = dict(citizen.cookies)
    assert (await citizen.submit("/logout", {})).status in (302, 303)
    # The old cookie, sent again (a copy a thief kept), is nobody's now.
    replay = Browser(http_client, base_url)
    replay.cookies = kept_cookies
    page = await replay.get("/me")
    assert page.status in (302, 303) and "/login" in page.headers["Location"]


@pytest.mark.gen_test
async def test_a_role_change_or_a_ban_is_effective_at_once(app, api, store, http_client, base_url):
    await person(store, "admin", Role.ADMIN)
    admin = await api.login("admin")
    staff = await reader(http_client, base_url, store, "helper", Role.MODERATOR)
    assert (await staff.get("/moderation")).status == 200
    changed = await admin.call("PUT", "/admin/users/helper", {"roles": ["citizen"]})
    assert changed.status == 200, changed.text
    assert (await staff.get("/moderation")).status == 403
    banned = await admin.call("PUT", "/admin/users/helper", {"disabled": True})
    assert banned.status == 200, banned.text
    page = await staff.get("/me")
    assert page.status in (302, 303) and "/login" in page.headers["Location"]


@pytest.mark.gen_test
async def test_a_page_reads_the_content_version_once(
    app, api, store, http_client, base_url, monkeypatch
):
    writer, post_id = await write_post(api, store)
    assert (await writer.post(f"/posts/{post_id}/replies", {"body": "回复"})).status == 201
    citizen = await reader(http_client, base_url, store, "citizen")
    reads = count_version_reads(monkeypatch, app.settings["store"].store)  # under KeptReads
    for path in ("/boards/forum", f"/posts/{post_id}", "/"):
        for _ in range(2):  # the records read, then kept
            reads.clear()
            page = await citizen.get(path)
            assert page.status == 200 and "citizen" in page.text, path
            assert len(reads) == 1, (path, reads)
    # A write in another request is on the next page at once.
    assert (await writer.post(f"/posts/{post_id}/replies", {"body": "第二条回复"})).status == 201
    assert "第二条回复" in (await citizen.get(f"/posts/{post_id}")).text


@pytest.mark.gen_test
async def test_a_page_holding_a_fresh_form_token_has_no_etag(app, store, http_client, base_url):
    citizen = await reader(http_client, base_url, store, "citizen")
    first, second = await citizen.get("/boards/forum"), await citizen.get("/boards/forum")
    assert first.status == second.status == 200
    # The XSRF token is masked afresh each time, so no two answers are alike, and a tag of one
    # could never be matched: none is sent.
    assert first.text != second.text
    assert "Etag" not in first.headers and "Etag" not in second.headers
    anonymous = Browser(http_client, base_url)
    assert "Etag" in (await anonymous.get("/boards/forum")).headers
