"""The moderator's queue and a department's desk through HTTP, on both stores: the API's new
sections and filters (valid against the OpenAPI document), the pages that show them, the forms
that decide an extension from the queue, and the wrong callers and values refused."""

from __future__ import annotations

import pytest

from forum.model import Role
from forum.services import posting  # noqa: F401  (first: see tests/services/test_following.py)
from forum.web import openapi
from tests.support.people import login_as
from tests.support.web import Browser
from tests.web.test_openapi import Contract

LETTER = {
    "title": "玉兴路路灯不亮",
    "body": "一个月了",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "hongta",
    "contact": "13812345678",
    "public": True,
}


@pytest.fixture
def store(seeded_store):
    """This module's app runs over each kind of store."""
    return seeded_store


@pytest.fixture(scope="module")
def contract():
    return Contract(openapi.document())


async def cast(api, store):
    return {
        "writer": await login_as(api, store, "writer"),
        "mod": await login_as(api, store, "mod", Role.MODERATOR),
        "lead": await login_as(api, store, "lead", Role.STAFF, department="housing"),
        "officer": await login_as(api, store, "officer", Role.STAFF, department="housing"),
        "helper": await login_as(api, store, "helper", Role.STAFF, department="police"),
        "other": await login_as(api, store, "other", Role.STAFF, department="tax"),
        "visitor": api,
    }


async def routed_letter(p, title="玉兴路路灯不亮", helpers=("police",)):
    created = await p["writer"].post("/boards/mayor/posts", {**LETTER, "title": title})
    assert created.status == 201, created.text
    post_id = created.json()["post"]["id"]
    assert (await p["mod"].post(f"/posts/{post_id}/moderate", {"action": "accept"})).status == 200
    routed = await p["mod"].post(
        f"/posts/{post_id}/route",
        {"department": "housing", "due_days": 5, "helpers": list(helpers)},
    )
    assert routed.status == 200, routed.text
    return post_id


async def browser(http_client, base_url, name):
    made = Browser(http_client, base_url)
    await made.log_in(name)
    return made


def section_ids(queue, key):
    return [item["post"]["id"] for item in queue[key]]


# the queue ----------------------------------------------------------------------------------
@pytest.mark.gen_test(timeout=60)
async def test_the_queue_api_sections_come_and_go(api, store, clock, contract):
    p = await cast(api, store)
    ok = contract.check
    plain = await routed_letter(p, "普通件")
    marked = await routed_letter(p, "督办件")
    first = ok(await p["mod"].get("/moderation/queue"), 200).json()
    assert first["supervised"] == [] and first["extension_requests"] == []
    assert first["counts"]["supervised"] == 0 and "submitted" in first["counts"]
    before_items = first["items"]

    assert (await p["mod"].post(f"/posts/{marked}/supervise", {"reason": "反映强烈"})).status == 200
    assert (
        await p["lead"].post(f"/posts/{plain}/extension", {"days": 3, "reason": "需勘查"})
    ).status == 201
    queue = ok(await p["mod"].get("/moderation/queue"), 200).json()
    assert section_ids(queue, "supervised") == [marked]
    assert queue["supervised"][0]["kind"] == "supervised"
    assert queue["supervised"][0]["post"]["supervised"] is True
    assert section_ids(queue, "extension_requests") == [plain]
    assert queue["extension_requests"][0]["extension"] == {
        "status": "requested",
        "days": 3,
        "reason": "需勘查",
    }
    assert queue["counts"]["supervised"] == 1 and queue["counts"]["extension_requests"] == 1
    # the first release's items are as they were
    assert queue["items"] == before_items

    assert (
        await p["mod"].post(
            f"/posts/{plain}/extension/decision", {"approve": False, "reason": "理由不足"}
        )
    ).status == 200
    assert (await p["lead"].post(f"/posts/{plain}/replies", {"body": "已修复"})).status == 201
    queue = ok(await p["mod"].get("/moderation/queue"), 200).json()
    assert queue["extension_requests"] == [] and queue["counts"]["extension_requests"] == 0
    assert section_ids(queue, "callbacks_due") == [plain]
    assert queue["callbacks_due"][0]["kind"] == "callback_due"
    assert (
        await p["mod"].post(f"/posts/{plain}/callback", {"reached": True, "score": "satisfied"})
    ).status == 201
    queue = ok(await p["mod"].get("/moderation/queue"), 200).json()
    assert queue["callbacks_due"] == [] and queue["counts"]["callbacks_due"] == 0

    for caller, status in (("visitor", 401), ("writer", 403), ("lead", 403)):
        assert ok(await p[caller].get("/moderation/queue")).status == status, caller


@pytest.mark.gen_test(timeout=60)
async def test_the_queue_page_heads_with_supervised_cases_and_decides_extensions(
    api, store, clock, http_client, base_url
):
    p = await cast(api, store)
    marked = await routed_letter(p, "督办的路灯")
    asked = await routed_letter(p, "要延期的路灯")
    await p["mod"].post(f"/posts/{marked}/supervise", {"reason": "反映强烈"})
    await p["lead"].post(f"/posts/{asked}/extension", {"days": 4, "reason": "等待检测报告"})
    mod = await browser(http_client, base_url, "mod")
    page = await mod.get("/moderation")
    assert page.status == 200
    text = page.text
    # supervised cases come before every other section
    assert (
        text.index('id="queue-supervised"')
        < text.index('id="queue-extension_requests"')
        < text.index('id="queue-submitted"')
        < text.index('id="queue-callbacks_due"')
    )
    assert text.index("督办的路灯") < text.index('id="queue-extension_requests"')
    section = text[text.index('id="queue-extension_requests"') : text.index('id="queue-submitted"')]
    assert "要延期的路灯" in section and "等待检测报告" in section
    assert f'action="/posts/{asked}/extension/decision"' in section
    assert 'name="approve" value="1"' in section and 'name="approve" value="0"' in section
    assert 'name="form" value="extension_decide"' in section and 'name="_xsrf"' in section

    decided = await mod.submit(
        f"/posts/{asked}/extension/decision",
        {"form": "extension_decide", "approve": "1", "reason": ""},
    )
    assert decided.status == 303
    again = (await mod.get("/moderation")).text
    section = again[
        again.index('id="queue-extension_requests"') : again.index('id="queue-submitted"')
    ]
    assert "要延期的路灯" not in section
    # in English too
    mod.cookies["lang"] = "en_US"
    english = await mod.get("/moderation")
    assert english.status == 200 and "Extension requests" in english.text
    assert "Callbacks due" in english.text

    assert (await Browser(http_client, base_url).get("/moderation")).status == 303
    lead = await browser(http_client, base_url, "lead")
    assert (await lead.get("/moderation")).status == 403


# the desk -----------------------------------------------------------------------------------
@pytest.mark.gen_test(timeout=60)
async def test_helper_cases_on_the_helper_desk_and_not_on_a_third(api, store, clock, contract):
    p = await cast(api, store)
    ok = contract.check
    helped = await routed_letter(p, "协办件", helpers=("police",))
    await routed_letter(p, "单独办理", helpers=())
    assert (await p["lead"].post(f"/posts/{helped}/assign", {"username": "officer"})).status == 200
    desk = ok(await p["helper"].get("/departments/police/cases?role=helper"), 200).json()
    assert desk["role"] == "helper" and [c["id"] for c in desk["items"]] == [helped]
    case = desk["items"][0]
    assert case["department"] == "housing" and case["officer"]["username"] == "officer"
    assert ok(await p["helper"].get("/departments/police/cases"), 200).json()["items"] == []
    assert ok(await p["mod"].get("/departments/tax/cases?role=helper"), 200).json()["items"] == []
    # the officer's own, and the whole lead desk
    mine = ok(await p["officer"].get("/departments/housing/cases?officer=me"), 200).json()
    assert mine["officer"] == "me" and [c["id"] for c in mine["items"]] == [helped]
    assert (
        ok(await p["lead"].get("/departments/housing/cases?officer=me"), 200).json()["items"] == []
    )
    assert len(ok(await p["lead"].get("/departments/housing/cases"), 200).json()["items"]) == 2
    # wrong callers and values
    assert ok(await p["other"].get("/departments/police/cases?role=helper"), 403).status == 403
    assert ok(await p["visitor"].get("/departments/police/cases?role=helper")).status == 401
    for query, field in (
        ("role=boss", "role"),
        ("status=merged", "status"),
        ("officer=you", "officer"),
    ):
        wrong = ok(await p["helper"].get(f"/departments/police/cases?{query}"), 422)
        assert field in wrong.error["fields"], query


@pytest.mark.gen_test(timeout=60)
async def test_the_desk_page_shows_helper_cases_officers_and_marks(
    api, store, clock, http_client, base_url
):
    p = await cast(api, store)
    helped = await routed_letter(p, "协办的路灯", helpers=("police",))
    await p["lead"].post(f"/posts/{helped}/assign", {"username": "officer"})
    await p["mod"].post(f"/posts/{helped}/supervise", {"reason": "反映强烈"})
    await p["lead"].post(f"/posts/{helped}/extension", {"days": 2, "reason": "需勘查"})

    helper = await browser(http_client, base_url, "helper")
    page = await helper.get("/departments/police?role=helper")
    assert page.status == 200
    assert "协办的路灯" in page.text and "badge-helper" in page.text
    assert "住房和城乡建设局" in page.text  # the lead department named
    assert "badge-supervised" in page.text and "延期待审批" in page.text
    assert 'href="/departments/police?role=helper" aria-current="page"' in page.text
    assert "协办的路灯" not in (await helper.get("/departments/police")).text

    officer = await browser(http_client, base_url, "officer")
    mine = await officer.get("/departments/housing?officer=me")
    assert mine.status == 200 and "协办的路灯" in mine.text and "我的承办" in mine.text
    lead = await browser(http_client, base_url, "lead")
    desk = (await lead.get("/departments/housing")).text
    assert "协办的路灯" in desk and "承办人" in desk
    assert "协办的路灯" not in (await lead.get("/departments/housing?officer=me")).text

    bad = await helper.get("/departments/police?role=boss")
    assert bad.status == 422
    other = await browser(http_client, base_url, "other")
    third = await other.get("/departments/police?role=helper")
    assert "协办的路灯" not in third.text  # another department sees its public page only
    helper.cookies["lang"] = "en_US"
    english = await helper.get("/departments/police?role=helper")
    assert english.status == 200 and "Cases we help with" in english.text
    assert "Helper" in english.text and "Lead department" in english.text
