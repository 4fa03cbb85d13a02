"""Case handling through the pages, as the writer, the bureau and a department use them."""

from __future__ import annotations

import re

import pytest

from forum.model import PostFilter, Role
from tests.support import files
from tests.support.people import person
from tests.support.web import Browser, form_errors, multipart


async def browser_for(http_client, base_url, store, name, *roles, department=None):
    await person(store, name, *roles, department=department)
    browser = Browser(http_client, base_url)
    await browser.log_in(name)
    return browser


async def submit_multipart(browser, path, fields, uploads):
    fields = {**fields, "_xsrf": await browser.xsrf()}
    body, content_type = multipart([("files", n, d) for n, d in uploads], fields)
    return await browser.request("POST", path, body, {"Content-Type": content_type})


@pytest.mark.gen_test
async def test_letter_from_writing_to_closing_through_pages(http_client, base_url, store):
    writer = await browser_for(http_client, base_url, store, "writer")
    mod = await browser_for(http_client, base_url, store, "mod", Role.MODERATOR)
    staff = await browser_for(
        http_client, base_url, store, "clerk", Role.STAFF, department="housing"
    )
    form = await writer.get("/boards/mayor/new")
    assert form.status == 200 and 'name="contact"' in form.text and 'name="files"' in form.text
    sent = await submit_multipart(
        writer,
        "/boards/mayor/new",
        {
            "title": "小区路灯坏了",
            "body": "一个月没人修",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13812345678",
            "public": "1",
            "category": "城乡建设",
        },
        [("现场.jpg", files.jpeg_with_location())],
    )
    assert sent.status == 303
    post_id = re.fullmatch(r"/posts/([0-9a-f]{24})", sent.headers["Location"]).group(1)
    shown = await writer.follow(sent)
    assert shown.status == 200 and "小区路灯坏了" in shown.text
    code = re.search(r'<code id="tracking-code">([^<]+)</code>', shown.text).group(1)
    assert code not in sent.headers["Location"]
    again = await writer.get(f"/posts/{post_id}")  # the code is shown once
    assert again.status == 200 and code not in again.text and "tracking-code" not in again.text
    assert len(await store.list_posts(PostFilter(board="mayor"), None, 10)) == 1

    queue = await mod.get("/moderation")
    assert queue.status == 200 and "小区路灯坏了" in queue.text
    assert (await mod.submit(f"/posts/{post_id}/moderate", {"action": "accept"})).status == 303
    missing = await mod.submit(f"/posts/{post_id}/route", {"form": "route", "department": ""})
    assert missing.status == 422 and form_errors(missing.text)
    routed = await mod.submit(f"/posts/{post_id}/route", {"department": "housing", "due_days": "5"})
    assert routed.status == 303

    mine = await staff.get("/departments/housing")
    assert mine.status == 200 and "小区路灯坏了" in mine.text
    case_page = await staff.get(f"/posts/{post_id}")
    assert "13812345678" in case_page.text and "/attachments/" in case_page.text
    assert (await staff.submit(f"/posts/{post_id}", {"body": "已修复。"})).status == 303

    tracked = await Browser(http_client, base_url).submit("/track", {"code": code.lower()})
    assert tracked.status == 200 and "已修复" in tracked.text
    assert (await writer.submit(f"/posts/{post_id}/rating", {"score": "satisfied"})).status == 303
    closed = await writer.get(f"/posts/{post_id}")
    assert "已办结" in closed.text

    public = await Browser(http_client, base_url).get(f"/posts/{post_id}")
    assert public.status == 200 and "13812345678" not in public.text
    assert "/attachments/" not in public.text
    stats = await Browser(http_client, base_url).get("/stats")
    assert stats.status == 200 and "办结率" in stats.text


@pytest.mark.gen_test
async def test_anonymous_tax_report_page_shows_the_code_once(http_client, base_url, store):
    visitor = Browser(http_client, base_url)
    form = await visitor.get("/boards/tax/new")
    assert form.status == 200
    sent = await submit_multipart(
        visitor, "/boards/tax/new", {"title": "虚开发票", "body": "某公司"}, []
    )
    # See Other to the tracking page, the code in no URL and in no answer but the page's.
    assert sent.status == 303 and sent.headers["Location"] == "/track"
    assert sent.headers["Cache-Control"] == "no-store"
    shown = await visitor.follow(sent)
    assert shown.status == 200 and shown.headers["Cache-Control"] == "no-store"
    code = re.search(r'<code id="tracking-code">([^<]+)</code>', shown.text).group(1)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}(?:-[A-HJ-NP-Z2-9]{4}){6}", code)
    assert code not in sent.text and "请记下查询码" in shown.text and "虚开发票" in shown.text
    # Reloading shows it no more and files nothing again.
    reloaded = await visitor.get("/track")
    assert reloaded.status == 200 and code not in reloaded.text
    assert 'id="tracking-code"' not in reloaded.text
    assert len(await store.list_posts(PostFilter(board="tax"), None, 10)) == 1
    assert (await visitor.get(f"/track/{code}")).status == 200
    wrong = await visitor.submit("/track", {"code": "AAAAAAAAAAAAAAAA"})
    assert wrong.status == 404 and "查询码无效" in wrong.text


@pytest.mark.gen_test
async def test_bureau_pages_refuse_others(http_client, base_url, store):
    citizen = await browser_for(http_client, base_url, store, "citizen")
    police = await browser_for(http_client, base_url, store, "cop", Role.STAFF, department="police")
    for path in ("/moderation", "/admin/audit", "/admin/settings"):
        assert (await citizen.get(path)).status == 403, path
    # Another department's address shows its public page, never its desk.
    other = await police.get("/departments/housing")
    assert other.status == 200 and "承办事项" not in other.text and "今年承办" in other.text
    assert "承办事项" in (await police.get("/departments/police")).text
    assert (await Browser(http_client, base_url).get("/moderation")).status == 303


@pytest.mark.gen_test
async def test_admin_settings_pages(http_client, base_url, store):
    root = await browser_for(http_client, base_url, store, "root", Role.ADMIN)
    assert (await root.get("/admin/settings")).status == 200
    words = await root.submit_and_follow(
        "/admin/settings", {"form": "words", "words": "赌博\n代开发票"}
    )
    assert words.status == 200 and "代开发票" in words.text and "敏感词已保存" in words.text
    bad = await root.submit(
        "/admin/settings", {"form": "calendar", "holidays": "2026-13-01", "workdays": ""}
    )
    assert bad.status == 422 and form_errors(bad.text)
    good = await root.submit_and_follow(
        "/admin/settings",
        {"form": "calendar", "holidays": "2026-10-01\n2026-10-02", "workdays": "2026-09-27"},
    )
    assert good.status == 200
    department = await root.submit_and_follow(
        "/admin/settings", {"form": "department", "slug": "water", "name": "水务局"}
    )
    assert department.status == 200 and "水务局" in department.text
    audit = await root.get("/admin/audit")
    assert audit.status == 200 and "department:water" in audit.text


@pytest.mark.gen_test
async def test_an_officials_action_is_confirmed_once_with_the_way_back_to_the_work(
    http_client, base_url, store
):
    from forum.services import posting

    writer = await person(store, "writer")
    mod = await browser_for(http_client, base_url, store, "mod", Role.MODERATOR)
    view = await posting.create_post(
        store,
        writer,
        "mayor",
        {
            "title": "路灯",
            "body": "不亮",
            "letter_type": "complaint",
            "area": "city",
            "contact": "138",
            "public": True,
        },
    )
    accepted = await mod.submit(
        f"/posts/{view.post.id}/moderate", {"form": "accept", "action": "accept"}
    )
    assert accepted.status == 303
    page = await mod.follow(accepted)
    assert "已受理。" in page.text and 'href="/moderation"' in page.text
    assert "已受理。" not in (await mod.get(f"/posts/{view.post.id}")).text
    staff = await browser_for(
        http_client, base_url, store, "clerk", Role.STAFF, department="housing"
    )
    routed = await mod.submit(
        f"/posts/{view.post.id}/route", {"form": "route", "department": "housing"}
    )
    assert "已转办。" in (await mod.follow(routed)).text
    returned = await staff.submit(
        f"/posts/{view.post.id}/return", {"form": "return", "reason": "不属于本部门"}
    )
    assert returned.headers["Location"] == "/departments/housing"
    back = await staff.follow(returned)
    assert back.status == 200 and "已退回市信访局。" in back.text


@pytest.mark.gen_test(timeout=30)
async def test_a_department_shows_the_public_its_figures_and_its_desk_keeps_an_archive(
    http_client, base_url, store
):
    from tests.support.casework import letter_until

    writer = await person(store, "writer")
    mod = await person(store, "mod", Role.MODERATOR)
    clerk = await browser_for(
        http_client, base_url, store, "clerk", Role.STAFF, department="housing"
    )
    staff = await store.get_user_by_name("clerk")
    await letter_until(store, writer, mod, staff, "closed", title="路灯修好了吗")
    visitor = await Browser(http_client, base_url).get("/departments/housing")
    assert visitor.status == 200 and "路灯修好了吗" in visitor.text
    assert "<dt>办结率</dt><dd>100.0%</dd>" in visitor.text
    desk = await clerk.get("/departments/housing")
    assert "路灯修好了吗" not in desk.text  # done: off the working list
    archive = await clerk.get("/departments/housing?status=closed")
    assert archive.status == 200 and "路灯修好了吗" in archive.text
    assert (await Browser(http_client, base_url).get("/departments/mars")).status == 404
