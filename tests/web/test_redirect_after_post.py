"""Every page form that changes something answers 303 See Other to the page showing the result,
so that reloading that page repeats nothing; what it says once comes in a signed flash cookie."""

from __future__ import annotations

import re

import pytest

from forum.model import PostFilter, Role
from tests.support.outbox import take_all_mail
from tests.support.people import person
from tests.support.web import Browser

CODE = re.compile(r'<code id="tracking-code">([^<]+)</code>')


async def browser_for(http_client, base_url, store, name, *roles, department=None):
    await person(store, name, *roles, department=department)
    browser = Browser(http_client, base_url)
    await browser.log_in(name)
    return browser


async def count(store, board) -> int:
    return len(await store.list_posts(PostFilter(board=board), None, 100))


@pytest.mark.gen_test
async def test_forms_answer_see_other_to_the_result_and_reloading_repeats_nothing(
    http_client, base_url, store
):
    writer = await browser_for(http_client, base_url, store, "writer")
    mod = await browser_for(http_client, base_url, store, "mod", Role.MODERATOR)
    clerk = await browser_for(
        http_client, base_url, store, "clerk", Role.STAFF, department="housing"
    )
    reader = await browser_for(http_client, base_url, store, "reader")

    made = await writer.submit("/boards/forum/new", {"title": "公交站没有顶棚", "body": "下雨"})
    forum_post = made.headers["Location"]
    assert made.status == 303 and re.fullmatch(r"/posts/[0-9a-f]{24}", forum_post)
    letter = await writer.submit(
        "/boards/mayor/new",
        {
            "title": "路灯坏了",
            "body": "一个月",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13812345678",
            "public": "1",
        },
    )
    case = letter.headers["Location"]
    assert letter.status == 303 and re.fullmatch(r"/posts/[0-9a-f]{24}", case)

    steps = [
        (reader, forum_post, {"body": "同感"}, rf"{forum_post}#reply-[0-9a-f]{{24}}"),
        (
            writer,
            f"{forum_post}/edit",
            {"title": "公交站没有顶棚", "body": "下雨没处躲"},
            forum_post,
        ),
        (reader, f"{forum_post}/flag", {"reason": "重复"}, forum_post),
        (mod, f"{case}/moderate", {"action": "accept"}, case),
        (mod, f"{case}/route", {"department": "housing"}, case),
        (clerk, f"{case}/return", {"reason": "不属本部门"}, "/departments/housing"),
        (mod, f"{case}/route", {"department": "housing"}, case),
        (clerk, case, {"body": "已修复"}, rf"{case}#reply-[0-9a-f]{{24}}"),
        (writer, f"{case}/rating", {"score": "satisfied"}, case),
    ]
    for who, path, fields, target in steps:
        answer = await who.submit(path, fields)
        assert answer.status == 303, (path, answer.status, answer.text[:300])
        assert re.fullmatch(target, answer.headers["Location"]), (path, answer.headers["Location"])
        assert answer.headers["Cache-Control"] == "no-store"
        assert (await who.follow(answer)).status == 200
    # Reloading the pages the forms led to made nothing new.
    assert await count(store, "forum") == await count(store, "mayor") == 1
    for path in (forum_post, case):
        assert (await writer.get(path)).status == 200
    assert len(await store.list_replies(forum_post.rsplit("/", 1)[1])) == 1
    assert len(await store.list_replies(case.rsplit("/", 1)[1])) == 1


@pytest.mark.gen_test
async def test_a_letters_tracking_code_shows_once_on_its_page(http_client, base_url, store):
    writer = await browser_for(http_client, base_url, store, "writer")
    sent = await writer.submit(
        "/boards/mayor/new",
        {
            "title": "路灯坏了",
            "body": "一个月",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13812345678",
        },
    )
    assert sent.status == 303 and "flash" in writer.cookies
    shown = await writer.follow(sent)
    code = CODE.search(shown.text).group(1)
    assert code not in sent.headers["Location"] and code not in sent.text
    assert "请记下查询码" in shown.text and shown.headers["Cache-Control"] == "no-store"
    assert "flash" not in writer.cookies  # read once, then cleared
    again = await writer.get(sent.headers["Location"])
    assert again.status == 200 and code not in again.text and not CODE.search(again.text)
    assert await count(store, "mayor") == 1


@pytest.mark.gen_test
async def test_a_flash_is_never_kept_by_the_page_cache(http_client, base_url, store):
    visitor = Browser(http_client, base_url)
    sent = await visitor.submit("/boards/tax/new", {"title": "虚开发票", "body": "某公司"})
    assert sent.status == 303 and sent.headers["Location"] == "/track"
    flash = visitor.cookies["flash"]
    # Read a post's page anonymously so that the cache has pages to give.
    writer = await browser_for(http_client, base_url, store, "writer")
    post = (await writer.submit("/boards/forum/new", {"title": "题", "body": "文"})).headers[
        "Location"
    ]
    for _ in range(2):
        assert (await Browser(http_client, base_url).get(post)).status == 200
    # The same public page with the flash is rendered for this reader, not served from the
    # cache, and the cached copy never holds the flash.
    page = await visitor.get(post)
    assert page.status == 200 and CODE.search(page.text) is None  # for /track only
    assert visitor.cookies["flash"] == flash  # left for the page it is for
    shown = await visitor.get("/track")
    assert CODE.search(shown.text) and shown.headers["Cache-Control"] == "no-store"
    stranger = await Browser(http_client, base_url).get(post)
    assert CODE.search(stranger.text) is None and "no-store" not in stranger.headers.get(
        "Cache-Control", ""
    )


@pytest.mark.gen_test
async def test_a_flash_that_is_not_ours_shows_nothing(http_client, base_url, store):
    visitor = Browser(http_client, base_url)
    visitor.cookies["flash"] = "2|1:0|10:1700000000|5:flash|8:e30=|" + "0" * 64
    page = await visitor.get("/track")
    assert page.status == 200 and CODE.search(page.text) is None
    assert "flash" not in visitor.cookies  # cleared all the same


@pytest.mark.gen_test
async def test_account_forms_answer_see_other(http_client, base_url, store):
    root = await browser_for(http_client, base_url, store, "root", Role.ADMIN)
    await person(store, "citizen")
    user = await browser_for(http_client, base_url, store, "mailer")
    saved = await user.submit(
        "/me", {"form": "email", "email": "m@example.org", "current_password": "correct-horse-9"}
    )
    assert saved.status == 303 and saved.headers["Location"] == "/me#email"
    assert "已保存" in (await user.follow(saved)).text
    assert "已保存" not in (await user.get("/me")).text
    read = await user.submit("/me", {"form": "notifications"})
    assert read.status == 303 and read.headers["Location"] == "/me#notifications"

    (mail,) = [m for m in await take_all_mail(store) if "/confirm-email/" in m.body]
    token = mail.body.split("/confirm-email/")[1].split()[0]
    confirmed = await user.submit(f"/confirm-email/{token}", {})
    assert confirmed.status == 303 and confirmed.headers["Location"] == f"/confirm-email/{token}"
    assert "邮箱已确认" in (await user.follow(confirmed)).text
    assert "邮箱已确认" not in (await user.get(f"/confirm-email/{token}")).text
    assert (await store.get_user_by_name("mailer")).email_confirmed

    for fields in (
        {"form": "words", "words": "赌博"},
        {"form": "department", "slug": "water", "name": "水务局"},
        {"form": "api_key", "key_name": "热线"},
    ):
        answer = await root.submit("/admin/settings", fields)
        assert answer.status == 303 and answer.headers["Location"] == "/admin/settings", fields
        await root.follow(answer)
    assert len(await store.list_api_keys()) == 1
    changed = await root.submit("/admin/users/citizen", {"roles": "lawyer"})
    assert changed.status == 303 and changed.headers["Location"] == "/admin/users/citizen"

    out = await user.submit("/logout", {})
    assert out.status == 303 and out.headers["Location"] == "/"
    newcomer = Browser(http_client, base_url)
    joined = await newcomer.submit(
        "/register", {"username": "newbie", "password": "correct-horse-9"}
    )
    assert joined.status == 303 and joined.headers["Location"] == "/"


class TestFlashOverHttps:
    @pytest.fixture
    def app(self, store, clock):
        import dataclasses

        from tests.support.apps import build_app, config_with

        return build_app(store, dataclasses.replace(config_with(clock=clock), behind_https=True))

    @pytest.mark.gen_test
    async def test_the_flash_cookie_is_host_prefixed_secure_and_http_only(
        self, http_client, base_url, store
    ):
        visitor = Browser(http_client, base_url)
        sent = await visitor.submit("/boards/tax/new", {"title": "虚开发票", "body": "某公司"})
        cookie = next(
            c for c in sent.headers.get_list("Set-Cookie") if c.startswith("__Host-flash=")
        )
        for part in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=120"):
            assert part in cookie, part
        assert "Domain" not in cookie
        shown = await visitor.follow(sent)
        assert CODE.search(shown.text) and "__Host-flash" not in visitor.cookies
