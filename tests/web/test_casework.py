"""The second release's casework through HTTP: the API's paths and codes (API.md "Casework,
second release"), the forms on a case's page, wrong roles and bad input on every path, and
conflicting actions fired at once."""

from __future__ import annotations

import asyncio
import re

import pytest

from forum.model import Role
from tests.support.people import login_as, person
from tests.support.web import Browser

LETTER = {
    "title": "玉兴路路灯不亮",
    "body": "一个月了，电话13812345678",
    "letter_type": "complaint",
    "area": "hongta",
    "contact": "13812345678",
    "real_name": "李建华",
    "public": True,
}


async def casework_cast(api, store):
    return {
        "writer": await login_as(api, store, "writer"),
        "mod": await login_as(api, store, "mod", Role.MODERATOR),
        "lead": await login_as(api, store, "lead", Role.STAFF, department="housing"),
        "officer": await login_as(api, store, "officer", Role.STAFF, department="housing"),
        "helper": await login_as(api, store, "helper", Role.STAFF, department="police"),
        "other": await login_as(api, store, "other", Role.STAFF, department="tax"),
        "bystander": await login_as(api, store, "bystander"),
        "visitor": api,
    }


async def routed_letter(p, **extra):
    created = await p["writer"].post("/boards/mayor/posts", {**LETTER, **extra})
    assert created.status == 201, created.text
    post_id = created.json()["post"]["id"]
    assert (await p["mod"].post(f"/posts/{post_id}/moderate", {"action": "accept"})).status == 200
    routed = await p["mod"].post(
        f"/posts/{post_id}/route", {"department": "housing", "due_days": 5, "helpers": ["police"]}
    )
    assert routed.status == 200, routed.text
    return post_id


@pytest.mark.gen_test(timeout=30)
async def test_a_letter_worked_by_lead_and_helper_through_the_api(api, store):
    p = await casework_cast(api, store)
    departments = (await api.get("/departments")).json()["items"]
    assert {d["slug"] for d in departments if d["kind"] == "county"} >= {
        "gov-hongta",
        "gov-yuanjiang",
    }
    post_id = await routed_letter(p)
    seen = (await p["helper"].get(f"/posts/{post_id}")).json()["post"]
    assert seen["helpers"] == ["police"] and seen["letter_type"] == "complaint"
    assert seen["area"] == "hongta" and seen["real_name"] == "李建华"
    public = (await api.get(f"/posts/{post_id}")).json()["post"]
    assert public["real_name"] is None and public["officer"] is None

    note = await p["helper"].post(f"/posts/{post_id}/notes", {"body": "派出所已核实"})
    assert note.status == 201 and note.json()["reply"]["kind"] == "internal"
    for caller in ("writer", "bystander", "visitor"):
        replies = (await p[caller].get(f"/posts/{post_id}")).json()["replies"]
        assert all(r["kind"] != "internal" for r in replies), caller
    assert [r["kind"] for r in (await p["lead"].get(f"/posts/{post_id}")).json()["replies"]] == [
        "internal"
    ]

    assigned = await p["lead"].post(f"/posts/{post_id}/assign", {"username": "officer"})
    assert assigned.status == 200 and assigned.json()["post"]["officer"]["username"] == "officer"
    assert (await p["writer"].get(f"/posts/{post_id}")).json()["post"]["officer"] is None
    wrong = await p["lead"].post(f"/posts/{post_id}/assign", {"username": "helper"})
    assert wrong.status == 422 and "username" in wrong.error["fields"]

    asked = await p["lead"].post(f"/posts/{post_id}/extension", {"days": 3, "reason": "需勘查"})
    assert asked.status == 201
    assert asked.json()["extension"] == {"status": "requested", "days": 3, "reason": "需勘查"}
    again = await p["lead"].post(f"/posts/{post_id}/extension", {"days": 2, "reason": "再延"})
    assert again.status == 409
    decided = await p["mod"].post(f"/posts/{post_id}/extension/decision", {"approve": True})
    assert decided.status == 200 and decided.json()["post"]["extended"] is True

    assert (await p["mod"].post(f"/posts/{post_id}/urge", {"note": "请加快"})).status == 201
    supervised = await p["mod"].post(f"/posts/{post_id}/supervise", {"reason": "反映强烈"})
    assert supervised.status == 200 and supervised.json()["post"]["supervised"] is True

    replied = await p["lead"].post(f"/posts/{post_id}/replies", {"body": "已修复"})
    assert replied.status == 201
    assert (await p["mod"].get(f"/posts/{post_id}")).json()["post"]["supervised"] is False
    called = await p["mod"].post(
        f"/posts/{post_id}/callback", {"reached": True, "score": "unsatisfied", "note": "仍不亮"}
    )
    assert called.status == 201 and called.json()["post"]["status"] == "accepted"
    history = await p["writer"].get(f"/posts/{post_id}/ratings")
    assert history.status == 200
    assert [(h["source"], h["score"], h["department"]) for h in history.json()["items"]] == [
        ("callback", "unsatisfied", "housing")
    ]


@pytest.mark.gen_test(timeout=30)
async def test_each_casework_path_refuses_the_wrong_caller(api, store):
    p = await casework_cast(api, store)
    post_id = await routed_letter(p)
    paths = {
        "notes": {"body": "意见"},
        "assign": {"username": "officer"},
        "extension": {"days": 2, "reason": "需要"},
        "extension/decision": {"approve": True},
        "urge": {"note": "快"},
        "supervise": {"reason": "督办"},
        "callback": {"reached": True},
        "merge": {"into": post_id, "reason": "重复"},
    }
    allowed = {
        "notes": {"lead", "helper", "mod"},
        "assign": {"lead"},
        "extension": {"lead"},
        "extension/decision": {"mod"},
        "urge": {"mod"},
        "supervise": {"mod"},
        "callback": {"mod"},
        "merge": {"mod"},
    }
    for path, body in paths.items():
        for caller in ("visitor", "writer", "bystander", "other", "helper", "lead", "mod"):
            if caller in allowed[path]:
                continue
            answer = await p[caller].post(f"/posts/{post_id}/{path}", body)
            # a public letter: everyone logged in reads it, so the wrong party is 403
            expected = {401} if caller == "visitor" else {403}
            assert answer.status in expected, (path, caller, answer.status, answer.text)
    # what the caller may not see is 404, also for its rating history
    private = await routed_letter(p, public=False)
    for caller in ("bystander", "other", "visitor"):
        assert (await p[caller].get(f"/posts/{private}/ratings")).status == 404


@pytest.mark.gen_test(timeout=30)
async def test_bad_input_on_every_casework_path_names_the_field(api, store):
    p = await casework_cast(api, store)
    post_id = await routed_letter(p)
    cases_ = [
        ("lead", "notes", {}, "body"),
        ("lead", "notes", {"body": ["x"]}, "body"),
        ("lead", "notes", {"body": "x" * 20001}, "body"),
        ("lead", "assign", {}, "username"),
        ("lead", "assign", {"username": 5}, "username"),
        ("lead", "extension", {"reason": "x"}, "days"),
        ("lead", "extension", {"days": "3天", "reason": "x"}, "days"),
        ("lead", "extension", {"days": 16, "reason": "x"}, "days"),
        ("lead", "extension", {"days": 3}, "reason"),
        ("mod", "extension/decision", {}, "approve"),
        ("mod", "extension/decision", {"approve": "yes"}, "approve"),
        ("mod", "urge", {"note": "x" * 501}, "note"),
        ("mod", "supervise", {}, "reason"),
        ("mod", "supervise", {"reason": "<script>" * 100}, "reason"),
        ("mod", "callback", {}, "reached"),
        ("mod", "merge", {"into": "nope", "reason": "x"}, "into"),
        ("mod", "merge", {"into": post_id, "reason": "x"}, "into"),
        ("mod", "route", {"department": "housing", "helpers": ["housing"]}, "helpers"),
        ("mod", "route", {"department": "housing", "helpers": "a" * 5000}, "helpers"),
    ]
    for caller, path, body, field in cases_:
        answer = await p[caller].post(f"/posts/{post_id}/{path}", body)
        assert answer.status == 422, (path, body, answer.status, answer.text[:300])
        assert field in answer.error["fields"], (path, body, answer.error)
    for path in ("notes", "urge", "merge"):
        malformed = await p["mod"].call(
            "POST",
            f"/posts/{post_id}/{path}",
            raw=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert malformed.status == 400
    letter = await p["writer"].post(
        "/boards/mayor/posts", {**LETTER, "area": "kunming", "letter_type": None}
    )
    assert letter.status == 422 and {"area", "letter_type"} <= set(letter.error["fields"])
    # nothing half-stored: the case is as the routing left it
    post = (await p["mod"].get(f"/posts/{post_id}")).json()["post"]
    assert (post["status"], post["helpers"], post["supervised"], post["extension"]) == (
        "routed",
        ["police"],
        False,
        None,
    )


@pytest.mark.gen_test(timeout=30)
async def test_conflicting_casework_at_once_lets_exactly_one_win(api, store):
    p = await casework_cast(api, store)
    second = await login_as(api, store, "mod2", Role.MODERATOR)
    post_id = await routed_letter(p)
    await p["lead"].post(f"/posts/{post_id}/extension", {"days": 3, "reason": "需勘查"})
    answers = await asyncio.gather(
        p["mod"].post(f"/posts/{post_id}/extension/decision", {"approve": True}),
        second.post(f"/posts/{post_id}/extension/decision", {"approve": False}),
        p["mod"].post(f"/posts/{post_id}/extension/decision", {"approve": False}),
    )
    assert sorted(a.status for a in answers) == [200, 409, 409]
    marks = await asyncio.gather(
        *(
            moderator.post(f"/posts/{post_id}/supervise", {"reason": "督办"})
            for moderator in (p["mod"], second, p["mod"], second)
        )
    )
    assert sorted(a.status for a in marks) == [200, 409, 409, 409]
    events = [e["action"] for e in (await p["mod"].get(f"/posts/{post_id}")).json()["events"]]
    assert events.count("extension_decide") == 1 and events.count("supervise") == 1
    # a duplicate merged twice at once: one merge
    earlier = post_id
    later = await routed_letter(p, title="路灯还是不亮")
    merges = await asyncio.gather(
        *(
            moderator.post(f"/posts/{later}/merge", {"into": earlier, "reason": "同一事项"})
            for moderator in (p["mod"], second, p["mod"])
        )
    )
    assert sorted(a.status for a in merges) == [200, 409, 409]
    merged = (await p["writer"].get(f"/posts/{later}")).json()["post"]
    assert merged["status"] == "merged" and merged["merged_into"] == earlier


# pages ---------------------------------------------------------------------------------------
async def browser_for(http_client, base_url, store, name, *roles, department=None):
    await person(store, name, *roles, department=department)
    browser = Browser(http_client, base_url)
    await browser.log_in(name)
    return browser


@pytest.mark.gen_test(timeout=30)
async def test_an_extension_asked_and_approved_through_the_pages(http_client, base_url, store):
    writer = await browser_for(http_client, base_url, store, "writer")
    mod = await browser_for(http_client, base_url, store, "mod", Role.MODERATOR)
    lead = await browser_for(http_client, base_url, store, "lead", Role.STAFF, department="housing")
    helper = await browser_for(
        http_client, base_url, store, "helper", Role.STAFF, department="police"
    )
    form = await writer.get("/boards/mayor/new")
    assert all(f'name="{name}"' in form.text for name in ("letter_type", "area", "real_name"))
    sent = await writer.submit(
        "/boards/mayor/new",
        {
            "title": "路灯不亮",
            "body": "一个月了",
            "letter_type": "complaint",
            "area": "hongta",
            "real_name": "李建华",
            "contact": "13812345678",
            "public": "1",
        },
    )
    assert sent.status == 303, sent.text[:500]
    post_id = re.search(r"/posts/([0-9a-f]{24})", sent.headers["Location"]).group(1)
    await mod.submit_and_follow(f"/posts/{post_id}/moderate", {"action": "accept"})
    routing = await mod.get(f"/posts/{post_id}")
    assert 'name="helpers"' in routing.text
    routed = await mod.request(
        "POST",
        f"/posts/{post_id}/route",
        (f"_xsrf={await mod.xsrf()}&department=housing&helpers=police&helpers=market").encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert routed.status == 303
    desk = await lead.get(f"/posts/{post_id}")
    assert "申请延期" in desk.text and "李建华" in desk.text
    bad = await lead.submit(
        f"/posts/{post_id}/extension", {"form": "extension_request", "days": "30", "reason": "x"}
    )
    assert bad.status == 422 and 'aria-invalid="true"' in bad.text
    asked = await lead.submit_and_follow(
        f"/posts/{post_id}/extension",
        {"form": "extension_request", "days": "3", "reason": "需要现场勘查"},
    )
    assert "延期申请已提交" in asked.text
    shown = await mod.get(f"/posts/{post_id}")
    assert "审批延期" in shown.text and "需要现场勘查" in shown.text
    approved = await mod.submit_and_follow(
        f"/posts/{post_id}/extension/decision",
        {"form": "extension_decide", "approve": "1", "reason": "同意"},
    )
    assert "延期申请已审批" in approved.text and "已延期" in approved.text
    noted = await helper.submit_and_follow(
        f"/posts/{post_id}/notes", {"form": "note", "body": "派出所已到现场"}
    )
    assert "派出所已到现场" in noted.text and "仅工作人员可见" in noted.text
    mine = await writer.get(f"/posts/{post_id}")
    assert "已延期" in mine.text and "派出所已到现场" not in mine.text
    assert "协办部门" in mine.text and "李建华" in mine.text  # the writer's own name
    public = await Browser(http_client, base_url).get(f"/posts/{post_id}")
    assert "李建华" not in public.text and "派出所已到现场" not in public.text
