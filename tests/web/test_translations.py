"""Every string the pages show has an English translation, English pages show no Chinese
chrome, and dates and numbers follow the locale."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from forum.messages import msg, term
from forum.model import Role
from forum.web import i18n, labels
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
    (tmp_path / "page.html").write_text(
        '{{ _("一句新话") }} {{ _("%(n)s 条", "%(n)s 条", n) }}', encoding="utf-8"
    )
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
    assert (
        i18n.translate_message(en, msg("可选值：{choices}", choices=["a", "b"])) == "One of: a, b"
    )
    assert i18n.translate_message(en, "用户名或密码错误") == "Wrong user name or password"
    assert i18n.translate_message(en, "用户的原话") == "用户的原话"  # no key: as it is
    assert i18n.translate_message(en, None) is None


def test_the_notes_case_services_write_follow_the_page_language():
    en, zh = i18n.get_locale("en_US").translate, i18n.get_locale("zh_CN").translate
    routed = "转办至住房和城乡建设局，15个工作日内答复"
    assert labels.event_note("route", routed, zh) == routed
    assert labels.event_note("route", routed, en) == (
        "Routed to Housing and Urban-Rural Development Bureau, to be answered within 15 "
        "working days"
    )
    typed = labels.event_note("route", routed + "。请核实后答复。", en)
    assert typed.startswith("Routed to ") and typed.endswith(". 请核实后答复。")
    assert labels.event_note("expire", "15日内未评价，自动办结", en) == (
        "Not rated within 15 days: closed automatically"
    )
    assert labels.event_note("overdue", "超过答复期限", en) == "Past the reply due date"
    assert labels.event_note("reject", "转办至某处，3个工作日内答复", en).startswith("转办至")


def test_the_notes_casework_services_write_follow_the_page_language():
    en, zh = i18n.get_locale("en_US").translate, i18n.get_locale("zh_CN").translate
    helped = "转办至红塔区人民政府，15个工作日内答复。协办：住房和城乡建设局、公安局。请现场核查。"
    assert labels.event_note("route", helped, zh) == helped
    assert labels.event_note("route", helped, en) == (
        "Routed to Hongta District Government, to be answered within 15 working days."
        " Helped by Housing and Urban-Rural Development Bureau, Public Security Bureau. 请现场核查。"
    )
    notes = {
        (
            "extension_request",
            "申请延期 5 个工作日：需现场核查",
        ): "Extension of 5 working days requested: 需现场核查",
        ("extension_decide", "同意延期 5 个工作日"): "Extension of 5 working days approved",
        ("extension_decide", "不同意延期。请按时办结"): "Extension refused. 请按时办结",
        (
            "supervise",
            "超期超过 5 个工作日，自动督办",
        ): "Overdue by more than 5 working days: supervised",
        ("remind", "即将到期，请按时答复"): "Due soon: please reply in time",
        ("callback", "未联系上写信人"): "The writer could not be reached",
        ("callback_close", "回访：满意。问题已解决"): "Callback: Satisfied. 问题已解决",
        ("callback", "回访"): "Callback",
        (
            "merge",
            "与事项 0123456789abcdef01234567 为同一事项，已合并办理。同一路段",
        ): "The same matter as case 0123456789abcdef01234567: merged into it. 同一路段",
    }
    for (action, note), english in notes.items():
        assert labels.event_note(action, note, zh) == note
        assert labels.event_note(action, note, en) == english
    assert labels.event_note("urge", "请加快办理", en) == "请加快办理"  # typed: as it is


def test_notifications_follow_the_page_language():
    en = i18n.get_locale("en_US")
    zh = i18n.get_locale("zh_CN")

    def shown(locale, kind, text):
        return labels.notification_text(
            kind,
            text,
            locale.translate,
            lambda context, word: i18n.translate_in(locale, context, word),
        )

    routed = "您的事项状态有更新：楼道灯不亮（转办）"
    assert shown(zh, "status", routed) == routed
    assert shown(en, "status", routed) == "Your case has moved on: 楼道灯不亮 (Routed)"
    assert (
        shown(en, "reply", "您的帖子有了新回复：路灯（坏了）")
        == "New reply to your post: 路灯（坏了）"
    )
    assert shown(en, "reply", "别的样子") == "别的样子"


# dates and numbers --------------------------------------------------------------------------------
MOMENT = dt.datetime(2026, 11, 28, 6, 5, tzinfo=dt.timezone.utc)  # 14:05 in Beijing


@pytest.mark.parametrize(
    "code, time, day, due, month, number",
    [
        ("zh_CN", "2026-11-28 14:05", "2026年11月28日", "2026-11-27 24:00", "2026年3月", "1234567"),
        (
            "en_US",
            "Nov 28, 2026, 14:05",
            "Nov 28, 2026",
            "Nov 27, 2026, 24:00",
            "Mar 2026",
            "1,234,567",
        ),
    ],
)
def test_dates_and_numbers_follow_the_locale(code, time, day, due, month, number):
    assert i18n.format_time(MOMENT, code) == time
    assert i18n.format_day(dt.date(2026, 11, 28), code) == day
    assert i18n.format_due(dt.datetime(2026, 11, 27, 16, 0, tzinfo=dt.timezone.utc), code) == due
    assert i18n.format_month("2026-03", code) == month
    assert i18n.format_number(1234567, code) == number
    assert i18n.format_number(None, code) == "—"


# English pages ------------------------------------------------------------------------------------
chinese_chrome = translations.chinese_chrome


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/boards/forum",
        "/boards/lawyer",
        "/boards/tax",
        "/boards/tax/new",
        "/login",
        "/register",
        "/track",
        "/stats",
        "/stats/2000-01",
        "/departments/housing",
        "/search",
        "/search?q=zzz",
        "/search/similar?title=x",
        "/nowhere",
        "/api/docs",
        "/track/AAAA-BBBB",
    ],
)
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
    letter = await citizen.submit(
        "/boards/mayor/new",
        {
            "title": "Bus stop",
            "body": "Move it.",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13812345678",
        },
    )
    assert letter.status in (201, 303), letter.text
    for path in (
        post_path,
        "/me",
        "/password",
        "/logout",
        "/boards/mayor",
        "/boards/mayor/new",
        "/boards/lawyer/new",
        "/boards/forum/new",
        post_path + "/edit",
    ):
        page = await citizen.get(path)
        assert page.status == 200, path
        assert chinese_chrome(page.text) == [], path
    bad = await citizen.submit(post_path, {"body": ""})
    assert bad.status == 422
    assert chinese_chrome(bad.text) == []
    assert "Please correct the following and submit again:" in bad.text

    for name, paths in (
        ("mod_en", ("/moderation", post_path)),
        ("admin_en", ("/admin", "/admin/audit", "/admin/settings", "/admin/users/citizen_en")),
    ):
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
    staff = await browser_for(
        http_client, base_url, store, "clerk_en", Role.STAFF, department="housing"
    )
    lawyer = await browser_for(http_client, base_url, store, "lawyer_en", Role.LAWYER)
    for browser in (writer, mod, staff, lawyer):
        browser.cookies["lang"] = "en_US"
    notes = {"timeline-note"}

    sent = await submit_multipart(
        writer,
        "/boards/mayor/new",
        {
            "title": "Street lamp",
            "body": "Broken for a month",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13812345678",
            "public": "1",
        },
        [],
    )
    post = sent.headers["Location"]
    shown = await writer.follow(sent)
    assert chinese_chrome(shown.text) == []
    assert "Write the tracking code down" in shown.text
    code = re.search(r'<code id="tracking-code">([^<]+)</code>', shown.text).group(1)
    assert chinese_chrome((await mod.get(post)).text) == []
    assert (await mod.submit(post + "/moderate", {"action": "accept"})).status == 303
    wrong = await mod.submit(post + "/route", {"form": "route", "department": "", "due_days": "99"})
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
