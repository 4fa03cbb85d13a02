"""Reply templates through the pages: the department desk keeps them, and the official-reply form
of a routed case offers them, filling the reply without JavaScript."""

from __future__ import annotations

import html
import re

import pytest

from forum.model import Role
from forum.services import templates
from tests.support import translations
from tests.support.casework import letter_until
from tests.support.people import person
from tests.support.web import Browser, form_errors

DESK = "/departments/housing"


async def browser_for(http_client, base_url, store, name, *roles, department=None):
    await person(store, name, *roles, department=department)
    browser = Browser(http_client, base_url)
    await browser.log_in(name)
    return browser


@pytest.mark.gen_test
async def test_the_desk_keeps_templates(http_client, base_url, store):
    clerk = await browser_for(
        http_client, base_url, store, "clerk", Role.STAFF, department="housing"
    )
    desk = await clerk.get(DESK)
    assert desk.status == 200 and 'id="templates"' in desk.text and "暂无答复模板。" in desk.text
    added = await clerk.submit(
        f"{DESK}/templates", {"title": "已安排维修", "body": "您好，\n\n已安排维修。"}
    )
    assert added.status == 303 and added.headers["Location"] == f"{DESK}#templates"
    shown = await clerk.follow(added)
    assert "答复模板已保存。" in shown.text and "已安排维修" in shown.text
    template_id = re.search(r'id="template-([0-9a-f]{24})"', shown.text).group(1)
    removed = await clerk.submit(f"{DESK}/templates/{template_id}/delete", {})
    assert removed.status == 303
    after = await clerk.follow(removed)
    assert "答复模板已删除。" in after.text and f"template-{template_id}" not in after.text


@pytest.mark.gen_test
async def test_bad_template_forms_come_back_with_their_errors(http_client, base_url, store):
    clerk = await browser_for(
        http_client, base_url, store, "clerk", Role.STAFF, department="housing"
    )
    refused = await clerk.submit(f"{DESK}/templates", {"title": "", "body": "留着的正文"})
    assert refused.status == 422
    assert form_errors(refused.text) and "留着的正文" in refused.text
    assert await store.list_templates("housing") == []


@pytest.mark.gen_test
async def test_forms_need_their_xsrf_token(http_client, base_url, store):
    clerk = await browser_for(
        http_client, base_url, store, "clerk", Role.STAFF, department="housing"
    )
    refused = await clerk.submit(f"{DESK}/templates", {"title": "t", "body": "b"}, xsrf=False)
    assert refused.status == 403
    assert await store.list_templates("housing") == []


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "name, roles, department",
    [
        ("police_clerk", (Role.STAFF,), "police"),
        ("citizen", (), None),
        ("mod", (Role.MODERATOR,), None),
    ],
)
async def test_others_may_not_keep_a_desks_templates(
    http_client, base_url, store, name, roles, department
):
    owner = await person(store, "clerk", Role.STAFF, department="housing")
    kept = await templates.add_template(store, owner, "housing", "模板", "正文")
    other = await browser_for(http_client, base_url, store, name, *roles, department=department)
    assert (await other.submit(f"{DESK}/templates", {"title": "t", "body": "b"})).status == 403
    assert (await other.submit(f"{DESK}/templates/{kept.id}/delete", {})).status == 403
    desk = await other.get(DESK)
    assert f"template-{kept.id}" not in desk.text or name == "mod"  # moderators read them
    if name == "mod":
        assert f"/templates/{kept.id}/delete" not in desk.text  # ...but keep none
    assert len(await store.list_templates("housing")) == 1


@pytest.mark.gen_test
async def test_an_official_reply_starts_from_a_template_without_javascript(
    http_client, base_url, store
):
    clerk_user = await person(store, "clerk", Role.STAFF, department="housing")
    writer, mod = await person(store, "writer"), await person(store, "mod", Role.MODERATOR)
    kept = await templates.add_template(
        store, clerk_user, "housing", "已安排维修", "您好，已安排维修 <b>三日内</b>。"
    )
    case = (await letter_until(store, writer, mod, clerk_user, "routed")).post
    clerk = Browser(http_client, base_url)
    await clerk.log_in("clerk")
    page = await clerk.get(f"/posts/{case.id}")
    assert 'class="form template-picker"' in page.text
    assert f'<option value="{kept.id}"' in page.text
    filled = await clerk.get(f"/posts/{case.id}?template={kept.id}")
    textarea = re.search(r'<textarea id="body" name="body"[^>]*>([^<]*)</textarea>', filled.text)
    assert html.unescape(textarea.group(1)) == kept.body
    assert f'<option value="{kept.id}" data-body' in filled.text and " selected>" in filled.text
    unknown = await clerk.get(f"/posts/{case.id}?template=0123456789abcdef01234567")
    empty = re.search(r'<textarea id="body" name="body"[^>]*>([^<]*)</textarea>', unknown.text)
    assert empty.group(1) == ""
    # the writer and the public see no templates, whatever the link says
    for viewer in (
        Browser(http_client, base_url),
        await _logged_in(http_client, base_url, "writer"),
    ):
        shown = await viewer.get(f"/posts/{case.id}?template={kept.id}")
        assert "template-picker" not in shown.text and "已安排维修" not in shown.text
    replied = await clerk.submit(f"/posts/{case.id}", {"body": kept.body})
    assert replied.status == 303


async def _logged_in(http_client, base_url, name):
    browser = Browser(http_client, base_url)
    await browser.log_in(name)
    return browser


@pytest.mark.gen_test
async def test_the_desk_and_the_reply_form_in_english(http_client, base_url, store):
    clerk_user = await person(store, "clerk", Role.STAFF, department="housing")
    writer, mod = await person(store, "writer"), await person(store, "mod", Role.MODERATOR)
    await templates.add_template(store, clerk_user, "housing", "已安排维修", "您好")
    case = (await letter_until(store, writer, mod, clerk_user, "routed")).post
    clerk = Browser(http_client, base_url)
    clerk.cookies["lang"] = "en_US"
    await clerk.log_in("clerk")
    content = {"template-item", "cell-title"}  # what people wrote: titles of templates, cases
    desk = await clerk.get(DESK)
    assert "Reply templates (1)" in desk.text
    assert translations.chinese_chrome(desk.text, content) == []
    page = await clerk.get(f"/posts/{case.id}")
    assert "Use template" in page.text
    bad = await clerk.submit(f"{DESK}/templates", {"title": "", "body": ""})
    assert bad.status == 422 and translations.chinese_chrome(bad.text, content) == []
