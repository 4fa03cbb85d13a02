"""The consultation boards through their pages and forms, as a browser uses them."""

from __future__ import annotations

import re

import pytest

from forum.model import Role
from tests.support.people import person
from tests.support.web import Browser, form_errors


async def browser_for(http_client, base_url, store, name, *roles, specialties=()):
    user = await person(store, name, *roles)
    if specialties:
        await store.update_user(user.id, {"specialties": list(specialties)})
    browser = Browser(http_client, base_url)
    await browser.log_in(name)
    return browser


@pytest.mark.gen_test
async def test_ask_answer_follow_up_accept_through_forms(http_client, base_url, store):
    asker = await browser_for(http_client, base_url, store, "asker")
    lawyer = await browser_for(
        http_client, base_url, store, "lawyer1", Role.LAWYER, specialties=["劳动"]
    )
    form = await asker.get("/boards/lawyer/new")
    assert form.status == 200 and 'name="anonymous"' in form.text
    asked = await asker.submit(
        "/boards/lawyer/new",
        {
            "title": "加班费怎么算",
            "body": "每天加班两小时。我的电话13812345678",
            "category": "劳动",
            "anonymous": "1",
        },
    )
    assert asked.status == 303
    path = asked.headers["Location"]
    post_id = path.rsplit("/", 1)[1]

    workspace = await lawyer.get("/workspace")
    assert workspace.status == 200 and "加班费怎么算" in workspace.text
    answer_page = await lawyer.get(path)
    # Before answering, a lawyer is a reader like any other: the number is masked.
    assert "138****5678" in answer_page.text and "13812345678" not in answer_page.text
    assert (
        await lawyer.submit(path, {"body": "按《劳动法》第四十四条，不低于150%。"})
    ).status == 303
    assert (await asker.submit(path, {"body": "周末加班呢？"})).status == 303

    page = await asker.get(path)
    reply_id = re.search(r'name="reply_id" value="([0-9a-f]{24})"', page.text).group(1)
    assert "认证律师" in page.text
    assert (await asker.submit(f"/posts/{post_id}/accept", {"reply_id": reply_id})).status == 303

    public = await Browser(http_client, base_url).get(path)
    assert "最佳解答" in public.text and "138****5678" in public.text
    assert "13812345678" not in public.text
    profile = await Browser(http_client, base_url).get("/users/lawyer1")
    assert profile.status == 200 and "加班费怎么算" in profile.text


@pytest.mark.gen_test
async def test_anonymous_asker_name_never_reaches_the_public_page(http_client, base_url, store):
    asker = await browser_for(http_client, base_url, store, "secret_asker")
    asked = await asker.submit(
        "/boards/lawyer/new",
        {"title": "离婚财产分割", "body": "详情", "category": "婚姻家庭", "anonymous": "1"},
    )
    path = asked.headers["Location"]
    await asker.submit(path, {"body": "补充一下"})
    for page_path in (path, "/boards/lawyer", "/"):
        page = await Browser(http_client, base_url).get(page_path)
        assert "secret_asker" not in page.text and "Secret_asker" not in page.text, page_path
    assert "secret_asker" in (await asker.get(path)).text


@pytest.mark.gen_test
async def test_citizens_see_no_answer_form_and_their_replies_are_refused(
    http_client, base_url, store
):
    asker = await browser_for(http_client, base_url, store, "asker")
    other = await browser_for(http_client, base_url, store, "other")
    asked = await asker.submit(
        "/boards/lawyer/new", {"title": "合同纠纷", "body": "x", "category": "合同"}
    )
    path = asked.headers["Location"]
    page = await other.get(path)
    assert 'action="' + path + '"' not in page.text
    assert (await other.submit(path, {"body": "我不是律师"})).status == 403
    assert (await other.get("/workspace")).status == 403


@pytest.mark.gen_test
async def test_flag_form(http_client, base_url, store):
    author = await browser_for(http_client, base_url, store, "author")
    reader = await browser_for(http_client, base_url, store, "reader")
    created = await author.submit("/boards/forum/new", {"title": "广告贴", "body": "买买买"})
    post_id = created.headers["Location"].rsplit("/", 1)[1]
    empty = await reader.submit(f"/posts/{post_id}/flag", {"form": "flag", "reason": ""})
    assert empty.status == 422 and form_errors(empty.text)
    done = await reader.submit(f"/posts/{post_id}/flag", {"reason": "广告"})
    assert done.status == 303 and done.headers["Location"] == f"/posts/{post_id}"
    thanked = await reader.follow(done)
    assert "已收到您的举报" in thanked.text
    assert "已收到您的举报" not in (await reader.get(f"/posts/{post_id}")).text
    assert (await reader.submit(f"/posts/{post_id}/flag", {"reason": "再次"})).status == 409


@pytest.mark.gen_test
async def test_admin_pages(http_client, base_url, store):
    root = await browser_for(http_client, base_url, store, "root", Role.ADMIN)
    citizen = await browser_for(http_client, base_url, store, "citizen")
    listing = await root.get("/admin?q=cit")
    assert listing.status == 200 and "/admin/users/citizen" in listing.text
    assert (await root.get("/admin/users/citizen")).status == 200
    answer = await root.submit("/admin/users/citizen", {"roles": "lawyer", "specialties": "劳动"})
    assert answer.status == 303 and answer.headers["Location"] == "/admin/users/citizen"
    saved = await root.follow(answer)
    assert saved.status == 200 and "已保存" in saved.text
    assert "已保存" not in (await root.get("/admin/users/citizen")).text
    assert (await store.get_user_by_name("citizen")).specialties == ["劳动"]
    wrong = await root.submit("/admin/users/citizen", {"roles": "staff"})
    assert wrong.status == 422 and form_errors(wrong.text)
    assert 'value="staff" checked' in wrong.text  # the admin's choice is kept on the form
    for path in ("/admin", "/admin/users/root"):
        assert (await citizen.get(path)).status == 403
    assert (await citizen.submit("/admin/users/root", {"roles": "citizen"})).status == 403
    assert (await Browser(http_client, base_url).get("/admin")).status == 303
