"""The XSS corpus through every place user text is written and read: posts, replies, titles,
display names, categories, department names, notifications, search, feeds. Pages are parsed as
a browser would, and nothing active may come out of user text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

from forum.errors import Invalid
from forum.model import Role
from forum.services import accounts
from tests.security.xss_payloads import PAYLOADS
from tests.support.apps import TEST_PASSWORDS
from tests.support.people import person
from tests.support.web import PASSWORD, Browser

NEVER_IN_OUR_PAGES = {"iframe", "object", "embed", "base", "frame", "frameset", "applet"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href"}


def url_scheme(value: str) -> str | None:
    """The scheme a browser reads from an attribute's URL (WHATWG URL parsing: outer C0 controls
    and spaces trimmed, tabs and newlines removed anywhere), or None for a relative URL."""
    cleaned = re.sub(
        r"[\t\n\r]",
        "",
        value.strip(
            "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b"
            "\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
            "\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f \t\n\r"
        ),
    )
    match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", cleaned)
    return match.group(1).lower() if match else None


class ActiveParts(HTMLParser):
    """Everything in a page that could run: inline scripts, handlers, dangerous URLs and tags."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag in NEVER_IN_OUR_PAGES:
            self.problems.append(f"<{tag}>")
        if tag == "meta" and any(
            k == "http-equiv" and (v or "").lower() == "refresh" for k, v in attrs
        ):
            self.problems.append("<meta refresh>")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>")
            if name == "style":
                self.problems.append(f"<{tag} style>")
            if name in URL_ATTRIBUTES and url_scheme(value) not in (
                None,
                "http",
                "https",
                "mailto",
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            sources = dict(attrs).get("src") or ""
            if not sources.startswith("/static/"):
                self.problems.append("<script> not from /static/")
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline script")


def assert_inert(page: str, where: str) -> None:
    problems = ActiveParts(page).problems
    assert problems == [], (where, problems)


@pytest.mark.gen_test(timeout=120)
async def test_the_corpus_stays_text_everywhere(api, store, http_client, base_url):
    await person(store, "root", Role.ADMIN)
    admin = await api.login("root")
    # Staff are not rate limited: the corpus is more posts than a citizen may write at once.
    await person(store, "writer", Role.STAFF, department="xinfang")
    await person(store, "reader", Role.STAFF, department="xinfang")
    writer, reader_api = await api.login("writer"), await api.login("reader")
    post_ids = []
    for index, payload in enumerate(PAYLOADS):
        # Display names through the service (each from its own address: registering is
        # limited per address), then one reply each so the names appear on a page.
        try:
            named = await accounts.register(
                store,
                TEST_PASSWORDS,
                username=f"user{index:02d}",
                password=PASSWORD,
                display_name=payload[:40],
                address=f"10.0.{index}.1",
            )
        except Invalid:
            named = None  # a payload with control characters is refused, which is fine too
        created = await writer.post(
            "/boards/forum/posts", {"title": payload[:120], "body": payload}
        )
        assert created.status == 201, created.text
        post_id = created.json()["post"]["id"]
        post_ids.append(post_id)
        replied = await reader_api.post(f"/posts/{post_id}/replies", {"body": payload})
        assert replied.status == 201
        if named is not None:
            await (await api.login(named.username)).post(
                f"/posts/{post_id}/replies", {"body": "同上"}
            )
        bad_category = await writer.post(
            "/boards/forum/posts", {"title": "t", "body": "b", "category": payload}
        )
        assert bad_category.status == 422 and "XSSMARK" not in bad_category.text
        assert bad_category.headers["Content-Type"].startswith("application/json")
    department = await admin.post("/admin/departments", {"slug": "xss", "name": PAYLOADS[5][:40]})
    assert department.status == 201

    browser = Browser(http_client, base_url)
    await browser.log_in("writer")  # the writer's notifications hold every title
    pages = [
        "/",
        "/boards/forum",
        "/me",
        "/search?q=" + quote("XSSMARK alert"),
        *(f"/posts/{post_id}" for post_id in post_ids),
    ]
    for path in pages:
        page = await browser.get(path)
        assert page.status == 200, path
        assert_inert(page.text, path)
    admin_browser = Browser(http_client, base_url)
    await admin_browser.log_in("root")
    for path in ("/admin", "/admin/settings", "/admin/audit", "/moderation"):
        page = await admin_browser.get(path)
        assert page.status == 200, path
        assert_inert(page.text, path)
    feed = await browser.get("/boards/forum/feed.atom")
    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    # Feed readers show a title as text and content of type="html" as HTML they sanitise: the
    # payloads must arrive as character data, never as elements of the feed.
    atom = "{http://www.w3.org/2005/Atom}"
    entries = ET.fromstring(feed.raw.body).findall(f"{atom}entry")
    assert entries
    for entry in entries:
        for element in (entry.find(f"{atom}title"), entry.find(f"{atom}content")):
            assert len(list(element)) == 0
        assert_inert(entry.find(f"{atom}content").text or "", "feed content")


def test_the_checker_catches_what_it_looks_for():
    for page in (
        '<img src=x onerror="alert(1)">',
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" java\tscript:x">x</a>',
        "<iframe src=/x></iframe>",
        '<p style="x">',
        '<svg onload="x">',
    ):
        assert ActiveParts(page).problems, page
    assert url_scheme("java%09script:alert(1)") is None  # percent-encoded: a relative path
    assert url_scheme(" \x01JaVa\tScRiPt:alert(1)") == "javascript"
    assert (
        ActiveParts('<a href="/posts/1">x</a><script src="/static/site.js"></script>').problems
        == []
    )


def test_the_corpus_covers_every_class():
    assert len(PAYLOADS) >= 40
    text = "\n".join(PAYLOADS).lower()
    for needle in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "vbscript:",
        "data:text/html",
        "![",
        "<svg",
        "<math",
        "<noscript",
        "<style",
        "<!--",
        '"><',
        "'>",
    ):
        assert needle in text, needle
