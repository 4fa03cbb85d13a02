"""Every string the pages show has an English translation, English pages show no Chinese
chrome, and dates and numbers follow the locale."""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from forum.messages import msg, term
from forum.model import Role
from forum.web import i18n
from tests.support import translations
from tests.support.people import person
from tests.support.web import Browser

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


# the translation file ---------------------------------------------------------------------------
def test_every_template_string_has_an_english_translation():
    keys = translations.template_keys()
    assert len(keys) > 400  # the scan found the templates' strings
    assert translations.missing() == []


def test_service_messages_are_translatable_not_interpolated():
    keys, interpolated = translations.message_keys()
    assert "用户名或密码错误" in keys and "最多 {count} 个字符" in keys
    # an f-string message would be a new key for every value: use forum.messages.msg()
    assert interpolated == []


def test_translations_keep_their_parameters():
    table = translations.english()
    for kind, entries in table.items():
        for key, text in entries.items():
            wanted = sorted(re.findall(r"%\(\w+\)s|\{\w+\}", key))
            assert sorted(re.findall(r"%\(\w+\)s|\{\w+\}", text)) == wanted, (key, text)


def test_the_scan_catches_a_new_untranslated_string(tmp_path, monkeypatch):
    (tmp_path / "page.html").write_text('{{ _("一句新话") }} {{ _("%(n)s 条", "%(n)s 条", n) }}',
                                        encoding="utf-8")
    monkeypatch.setattr(translations, "TEMPLATES", tmp_path)
    assert {"一句新话", "%(n)s 条 (singular)", "%(n)s 条 (plural)"} <= set(translations.missing())


# messages from services ---------------------------------------------------------------------------
def test_messages_translate_in_the_web_layer():
    en, zh = i18n.get_locale("en_US"), i18n.get_locale("zh_CN")
    long = msg("最多 {count} 个字符", count=40)
    assert long == "最多 40 个字符"  # services and the API still see the Chinese text
    assert i18n.translate_message(en, long) == "At most 40 characters"
    assert i18n.translate_message(zh, long) == "最多 40 个字符"
    conflict = msg("当前状态下不能{verb}", verb=term("受理", "动作"))
    assert conflict == "当前状态下不能受理"
    assert i18n.translate_message(en, conflict) == "Cannot accept in the current state"
    # a word Chinese writes alike in two uses: the context tells them apart, else the word
    assert i18n.translate_in(en, "事件", "受理") == "Accepted"
    assert i18n.translate_in(en, "无此用法", "受理") == "Accept"
    assert i18n.translate_in(zh, "事件", "受理") == "受理"
    assert i18n.translate_message(en, msg("可选值：{choices}", choices=["a", "b"])) == "One of: a, b"
    assert i18n.translate_message(en, "用户名或密码错误") == "Wrong user name or password"
    assert i18n.translate_message(en, "用户的原话") == "用户的原话"  # no key: as it is
    assert i18n.translate_message(en, None) is None


# dates and numbers --------------------------------------------------------------------------------
MOMENT = dt.datetime(2026, 11, 28, 6, 5, tzinfo=dt.timezone.utc)  # 14:05 in Beijing


@pytest.mark.parametrize("code, time, day, due, month, number", [
    ("zh_CN", "2026-11-28 14:05", "2026年11月28日", "2026-11-27 24:00", "2026年3月", "1234567"),
    ("en_US", "Nov 28, 2026, 14:05", "Nov 28, 2026", "Nov 27, 2026, 24:00", "Mar 2026",
     "1,234,567"),
])
def test_dates_and_numbers_follow_the_locale(code, time, day, due, month, number):
    assert i18n.format_time(MOMENT, code) == time
    assert i18n.format_day(dt.date(2026, 11, 28), code) == day
    assert i18n.format_due(dt.datetime(2026, 11, 27, 16, 0, tzinfo=dt.timezone.utc), code) == due
    assert i18n.format_month("2026-03", code) == month
    assert i18n.format_number(1234567, code) == number
    assert i18n.format_number(None, code) == "—"


# English pages ------------------------------------------------------------------------------------
class _Chrome(HTMLParser):
    """The text and shown attributes of a page, without what is not UI chrome: elements marked
    as another language (the 中文 button) and those listed as user content."""

    SHOWN = ("aria-label", "placeholder", "title", "alt", "data-label", "value")

    def __init__(self, content_classes: set[str]):
        super().__init__()
        self.content_classes = content_classes
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def skipping(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        skip = (attrs.get("lang", "").startswith("zh") or bool(classes & self.content_classes)
                or tag in ("textarea", "code", "time"))
        if not self.skipping() and not skip:
            for name in self.SHOWN:
                if name in attrs and attrs[name] and CJK.search(attrs[name]):
                    if name == "value" and attrs.get("type") not in ("submit", "button"):
                        continue
                    self.found.append(f"<{tag} {name}={attrs[name]!r}>")
        if tag not in ("input", "meta", "link", "br", "img", "rect", "circle", "line",
                       "polyline"):
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not self.skipping() and CJK.search(data):
            self.found.append(data.strip())


def chinese_chrome(html: str, content: set[str] = frozenset()) -> list[str]:
    parser = _Chrome(set(content))
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("path", ["/", "/boards/forum", "/boards/lawyer", "/boards/tax",
                                  "/boards/tax/new", "/login", "/register", "/track",
                                  "/stats", "/search", "/search?q=zzz", "/search/similar?title=x",
                                  "/nowhere", "/api/docs", "/track/AAAA-BBBB"])
@pytest.mark.gen_test
async def test_english_pages_have_no_chinese_chrome(browser, path):
    browser.cookies["lang"] = "en_US"
    page = await browser.get(path)
    assert page.status in (200, 404), (path, page.status)
    assert '<html lang="en-US"' in page.text
    assert chinese_chrome(page.text) == []


@pytest.mark.gen_test
async def test_english_pages_with_content_and_roles(http_client, base_url, store):
    """A post, its replies and the pages of a citizen, a moderator and an admin, in English.
    What people wrote (titles, bodies, names) is content and stays as written."""
    await person(store, "citizen_en")
    await person(store, "mod_en", Role.MODERATOR)
    await person(store, "admin_en", Role.ADMIN)
    citizen = Browser(http_client, base_url)
    citizen.cookies["lang"] = "en_US"
    await citizen.log_in("citizen_en")
    sent = await citizen.submit("/boards/forum/new", {"title": "Street lamps", "body": "Broken."})
    assert sent.status == 303, sent.text
    post_path = sent.headers["Location"]
    assert (await citizen.submit(post_path, {"body": "Still broken."})).status == 303
    letter = await citizen.submit("/boards/mayor/new", {"title": "Bus stop", "body": "Move it.",
                                                        "contact": "13812345678"})
    assert letter.status in (201, 303), letter.text
    for path in (post_path, "/me", "/password", "/logout", "/boards/mayor", "/boards/mayor/new",
                 "/boards/lawyer/new", "/boards/forum/new", post_path + "/edit"):
        page = await citizen.get(path)
        assert page.status == 200, path
        assert chinese_chrome(page.text) == [], path
    bad = await citizen.submit(post_path, {"body": ""})
    assert bad.status == 422
    assert chinese_chrome(bad.text) == []
    assert "Please correct the following and submit again:" in bad.text

    for name, paths in (("mod_en", ("/moderation", post_path)),
                        ("admin_en", ("/admin", "/admin/audit", "/admin/settings",
                                      "/admin/users/citizen_en"))):
        staff = Browser(http_client, base_url)
        staff.cookies["lang"] = "en_US"
        await staff.log_in(name)
        for path in paths:
            page = await staff.get(path)
            assert page.status == 200, path
            assert chinese_chrome(page.text) == [], (name, path)


@pytest.mark.gen_test
async def test_english_page_counts_and_plurals(http_client, base_url, store):
    await person(store, "counter")
    writer = Browser(http_client, base_url)
    await writer.log_in("counter")
    sent = await writer.submit("/boards/forum/new", {"title": "One reply", "body": "x"})
    await writer.submit(sent.headers["Location"], {"body": "only one"})
    writer.cookies["lang"] = "en_US"
    board = (await writer.get("/boards/forum")).text
    assert "1 reply<" in board and "1 replies" not in board
    writer.cookies["lang"] = "zh_CN"
    assert "1 回复" in (await writer.get("/boards/forum")).text


@pytest.mark.gen_test
async def test_api_errors_keep_codes_and_fields_and_follow_accept_language(api):
    body = {"username": "x", "password": "short"}
    zh = await api.post("/auth/register", body)
    en = await api.post("/auth/register", body, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert zh.status == en.status == 422
    assert zh.error["code"] == en.error["code"] == "invalid"
    assert set(zh.error["fields"]) == set(en.error["fields"]) == {"username", "password"}
    assert zh.error["fields"]["password"] == "长度应为 8 到 256 个字符"
    assert en.error["fields"]["password"] == "Must be 8 to 256 characters long"
    assert not CJK.search(en.error["message"])
    missing = await api.get("/posts/" + "0" * 24, headers={"Accept-Language": "en"})
    assert missing.status == 404 and missing.error["code"] == "not_found"
    assert not CJK.search(missing.error["message"])


@pytest.mark.gen_test(timeout=30)
async def test_a_letter_through_its_lifecycle_in_english(http_client, base_url, store):
    """Writing, accepting, routing, replying, tracking, rating, statistics: each page in
    English. A case's history notes are records kept as written, so they are left out."""
    from tests.web.test_case_pages import browser_for, submit_multipart
    writer = await browser_for(http_client, base_url, store, "writer_en")
    mod = await browser_for(http_client, base_url, store, "mod_en2", Role.MODERATOR)
    staff = await browser_for(http_client, base_url, store, "clerk_en", Role.STAFF,
                              department="housing")
    lawyer = await browser_for(http_client, base_url, store, "lawyer_en", Role.LAWYER)
    for browser in (writer, mod, staff, lawyer):
        browser.cookies["lang"] = "en_US"
    notes = {"timeline-note"}

    sent = await submit_multipart(writer, "/boards/mayor/new", {
        "title": "Street lamp", "body": "Broken for a month", "contact": "13812345678",
        "public": "1"}, [])
    assert sent.status == 201
    assert chinese_chrome(sent.text) == []
    code = re.search(r"\b([A-HJ-NP-Z2-9]{4}(?:-[A-HJ-NP-Z2-9]{4}){6})\b", sent.text).group(1)
    post = "/posts/" + re.search(r'href="/posts/([0-9a-f]{24})"', sent.text).group(1)
    assert chinese_chrome((await mod.get(post)).text) == []
    assert (await mod.submit(post + "/moderate", {"action": "accept"})).status == 303
    wrong = await mod.submit(post + "/route", {"form": "route", "department": "",
                                               "due_days": "99"})
    assert wrong.status == 422 and chinese_chrome(wrong.text) == []
    assert (await mod.submit(post + "/route", {"department": "housing"})).status == 303
    assert chinese_chrome((await staff.get("/departments/housing")).text) == []
    assert chinese_chrome((await staff.get(post)).text, notes) == []
    assert (await staff.submit(post, {"body": "Fixed."})).status == 303
    tracker = Browser(http_client, base_url)
    tracker.cookies["lang"] = "en_US"
    tracked = await tracker.submit("/track", {"code": code})
    assert tracked.status == 200 and chinese_chrome(tracked.text, notes) == []
    unknown = await tracker.submit("/track", {"code": "AAAA"})
    assert unknown.status == 404 and chinese_chrome(unknown.text) == []
    rating = await writer.get(post)
    assert "Are you satisfied with the reply?" in rating.text
    assert chinese_chrome(rating.text, notes) == []
    assert (await writer.submit(post + "/rating", {"score": "satisfied"})).status == 303
    closed = await writer.get(post)
    assert "Closed" in closed.text and chinese_chrome(closed.text, notes) == []
    again = await mod.submit(post + "/moderate", {"action": "accept"})
    assert again.status == 409 and "Cannot accept in the current state" in again.text
    assert chinese_chrome(again.text) == []
    assert chinese_chrome((await mod.get("/stats")).text) == []
    assert chinese_chrome((await lawyer.get("/workspace")).text) == []
    assert chinese_chrome((await lawyer.get("/users/lawyer_en")).text) == []
