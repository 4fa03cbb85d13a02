"""Kept pages answered before any handler is made (forum/web/kept_answers.py): only a GET that a
kept page is known to answer, with the same body and headers as the handler's, the same log line
and metrics, and never once the content version has moved; anything a handler must see goes to
the handler."""

from __future__ import annotations

import logging

import pytest

from forum.errors import StoreUnavailable
from forum.web import base
from tests.support.web import Browser


@pytest.fixture
def handlers(monkeypatch) -> list[str]:
    """The handlers made, by class name, from the moment the test asks for this."""
    made: list[str] = []
    initialize = base.BaseHandler.initialize

    def counted(self, *args, **kwargs):
        made.append(type(self).__name__)
        return initialize(self, *args, **kwargs)

    monkeypatch.setattr(base.BaseHandler, "initialize", counted)
    return made


def answer_headers(response) -> dict[str, str]:
    own = {"X-Request-Id", "Date"}
    return {name: value for name, value in response.headers.get_all() if name not in own}


@pytest.mark.gen_test
async def test_a_kept_page_is_answered_without_a_handler_as_the_handler_answered(
    app, browser, handlers, caplog
):
    caplog.set_level(logging.INFO, logger="tornado.access")
    rendered = await browser.get("/boards/forum")  # rendered and kept
    assert handlers == ["BoardPage"]
    answered = await browser.get("/boards/forum")
    assert handlers == ["BoardPage"]  # no handler this time
    # Another cookie takes the handler's way, which finds the same kept page.
    kept = await browser.request("GET", "/boards/forum", headers={"Cookie": "tracking=1"})
    assert handlers == ["BoardPage"] * 2
    assert answered.status == 200 and answered.raw.body == rendered.raw.body == kept.raw.body
    assert answer_headers(answered) == answer_headers(kept) == answer_headers(rendered)
    assert answered.headers["X-Request-Id"] != kept.headers["X-Request-Id"]
    lines = [record for record in caplog.records if record.name == "tornado.access"]
    answered_line = lines[-2]
    assert answered_line.getMessage().startswith("200 GET /boards/forum")
    assert answered_line.fields["route"] == lines[-1].fields["route"] == "post_pages.BoardPage"
    assert answered_line.fields["request_id"] == answered.headers["X-Request-Id"]
    assert answered_line.fields["user_id"] is None


@pytest.mark.gen_test
async def test_a_write_sends_the_next_reader_to_the_handler(app, api, browser, handlers):
    writer = await api.new_user("writer")
    await browser.get("/boards/forum")
    await browser.get("/boards/forum")
    assert (
        await writer.post(
            "/boards/forum/posts", {"title": "公交站没有顶棚", "body": "下雨没处躲。"}
        )
    ).status == 201
    made = len(handlers)
    fresh = await browser.get("/boards/forum")
    assert "公交站没有顶棚" in fresh.text and len(handlers) == made + 1
    assert "公交站没有顶棚" in (await browser.get("/boards/forum")).text
    assert len(handlers) == made + 1


@pytest.mark.gen_test
async def test_what_a_handler_must_see_goes_to_the_handler(
    app, api, http_client, base_url, handlers
):
    async def get(headers: dict[str, str] | None = None, method: str = "GET"):
        return await http_client.fetch(
            base_url + "/boards/forum", method=method, headers=headers, raise_error=False
        )

    first = await get()
    assert (await get()).body == first.body and len(handlers) == 1
    token = (await api.new_user("citizen")).token
    asks = [
        {"Cookie": "session=2|1:0|10:1700000000|7:session|4:eHl6|" + "0" * 64},
        {"Cookie": "flash=x"},
        {"Cookie": "tracking=1"},
        {"Cookie": "lang=en_US; other=1"},
        {"Authorization": f"Bearer {token}"},
        {"If-None-Match": first.headers["Etag"]},
    ]
    for headers in asks:
        made = len(handlers)
        answer = await get(headers)
        assert answer.code in (200, 304), headers
        assert len(handlers) == made + 1, headers
    made = len(handlers)
    await get(method="HEAD")
    assert len(handlers) == made + 1
    # A cookie a page depends on: its own page, rendered once, then answered here.
    made = len(handlers)
    assert (await get({"Cookie": "lang=zh_CN; _xsrf=abc"})).code == 200
    assert (await get({"Cookie": "lang=zh_CN; _xsrf=abc"})).body == first.body
    assert (await get()).body == first.body
    assert len(handlers) == made + 1


@pytest.mark.gen_test
async def test_each_language_and_care_mode_is_answered_with_its_own_page(
    app, http_client, base_url, handlers
):
    readers = {name: Browser(http_client, base_url) for name in ("zh", "en", "care", "accept")}
    readers["en"].cookies["lang"] = "en_US"
    readers["care"].cookies["care"] = "1"
    pages = {}
    for name, reader in readers.items():
        headers = {"Accept-Language": "en-US,en;q=0.9"} if name == "accept" else {}
        for _ in range(3):
            pages.setdefault(name, []).append(
                await reader.request("GET", "/boards/forum", headers=headers)
            )
    assert len(handlers) == 4  # each rendered and kept, then answered here
    for name, seen in pages.items():
        assert seen[0].raw.body == seen[2].raw.body, name
    assert 'lang="zh-CN"' in pages["zh"][2].text and 'class="care"' not in pages["zh"][2].text
    assert 'lang="en' in pages["en"][2].text and 'lang="en' in pages["accept"][2].text
    assert 'class="care"' in pages["care"][2].text


@pytest.mark.gen_test
async def test_a_store_that_fails_sends_the_request_to_the_handler(
    app, browser, handlers, monkeypatch
):
    await browser.get("/boards/forum")
    await browser.get("/boards/forum")
    adapter = app.settings["store"].store

    async def down() -> int:
        raise StoreUnavailable()

    monkeypatch.setattr(adapter, "content_version", down)
    monkeypatch.setattr(adapter, "versions", down)  # the handler reads the three at once
    made = len(handlers)
    answer = await browser.get("/boards/forum")
    assert answer.status == 503 and len(handlers) == made + 1


@pytest.mark.gen_test(timeout=10)
async def test_a_reader_gone_before_the_answer_still_ends_the_request_for_draining(
    app, browser, handlers, monkeypatch
):
    import asyncio

    import tornado.httpserver
    import tornado.netutil

    from forum.web.draining import Draining

    await browser.get("/boards/forum")  # kept
    gate = Draining(app)
    server = tornado.httpserver.HTTPServer(gate)
    [sock] = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets([sock])
    adapter, release = app.settings["store"].store, asyncio.Event()
    read = adapter.content_version

    async def held() -> int:
        await release.wait()
        return await read()

    monkeypatch.setattr(adapter, "content_version", held)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
        writer.write(b"GET /boards/forum HTTP/1.1\r\nHost: test\r\n\r\n")
        while gate.in_flight == 0:
            await asyncio.sleep(0.01)
        writer.close()  # the reader goes while the version is being read
        await asyncio.sleep(0.05)
        release.set()
        for _ in range(200):
            if gate.in_flight == 0:
                break
            await asyncio.sleep(0.01)
        assert gate.in_flight == 0
        assert handlers == ["BoardPage"]  # answered here, not by a handler
    finally:
        server.stop()
