"""The moderator's queue and a department's desk with the second release's casework, without
HTTP, on both stores: supervised cases head the queue, extensions asked for and callbacks due
come and go as they are decided and recorded; the desk shows the cases a department helps
with, and each officer's own."""

from __future__ import annotations


import pytest

from forum.errors import Forbidden, Invalid, NotLoggedIn
from forum.model import Role
from forum.services import posting  # first: cases, imported before it, meets stats half made
from forum.services import cases, casework, desks, moderation
from tests.support.people import person

LETTER = {
    "title": "玉兴路路灯不亮",
    "body": "已经一个月了",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "hongta",
    "contact": "13812345678",
    "public": True,
}


@pytest.fixture
def store(seeded_store):
    """A seeded store of each kind."""
    return seeded_store


async def cast(store):
    """A writer, a moderator, lead staff and a second officer (housing), helper staff (police),
    staff of a third department (tax)."""
    return {
        "writer": await person(store, "writer"),
        "mod": await person(store, "mod", Role.MODERATOR),
        "lead": await person(store, "lead_staff", Role.STAFF, department="housing"),
        "officer": await person(store, "officer", Role.STAFF, department="housing"),
        "helper": await person(store, "helper_staff", Role.STAFF, department="police"),
        "other": await person(store, "tax_staff", Role.STAFF, department="tax"),
    }


async def routed(store, p, title="玉兴路路灯不亮", helpers=("police",)):
    view = await posting.create_post(store, p["writer"], "mayor", {**LETTER, "title": title})
    await moderation.moderate(store, p["mod"], view.post.id, "accept")
    await cases.route_case(store, p["mod"], view.post.id, "housing", 5, None, list(helpers))
    return view.post.id


def ids(items):
    return [item.post.post.id for item in items]


# the queue ----------------------------------------------------------------------------------
@pytest.mark.gen_test(timeout=30)
async def test_supervised_cases_head_the_queue_apart_from_the_items(store, clock):
    p = await cast(store)
    plain = await routed(store, p, "普通件")
    marked = await routed(store, p, "督办件")
    await casework.supervise(store, p["mod"], marked, "群众反映强烈")
    found = await moderation.queue(store, p["mod"])
    assert ids(found.supervised) == [marked] and found.counts["supervised"] == 1
    assert found.supervised[0].kind == "supervised"
    assert "住房和城乡建设局" in found.supervised[0].reason
    # the first release's sections are as they were
    assert {kind for kind in found.counts} >= {
        "submitted",
        "reopened",
        "to_route",
        "pending",
        "flagged",
        "overdue",
    }
    assert {item.kind for item in found.items} <= {
        "submitted",
        "reopened",
        "to_route",
        "pending",
        "flagged",
        "overdue",
    }
    assert plain not in ids(found.supervised)
    # the official reply ends the supervision
    await posting.add_reply(store, p["lead"], marked, "已修复")
    assert (await moderation.queue(store, p["mod"])).supervised == []


@pytest.mark.gen_test(timeout=30)
async def test_an_extension_request_waits_in_the_queue_until_decided(store, clock):
    p = await cast(store)
    first = await routed(store, p, "第一件")
    second = await routed(store, p, "第二件")
    assert (await moderation.queue(store, p["mod"])).extension_requests == []
    await casework.request_extension(store, p["lead"], first, 3, "需要现场勘查")
    await casework.request_extension(store, p["lead"], second, 5, "等待检测报告")
    found = await moderation.queue(store, p["mod"])
    assert ids(found.extension_requests) == [first, second]
    assert found.counts["extension_requests"] == 2
    item = found.extension_requests[0]
    assert item.kind == "extension_request" and "3" in item.reason and "需要现场勘查" in item.reason
    assert item.post.post.extension_days == 3
    await casework.decide_extension(store, p["mod"], first, True)
    await casework.decide_extension(store, p["mod"], second, False, "理由不充分")
    found = await moderation.queue(store, p["mod"])
    assert found.extension_requests == [] and found.counts["extension_requests"] == 0


@pytest.mark.gen_test(timeout=30)
async def test_callbacks_due_unsatisfied_first_until_recorded_and_only_for_a_month(store, clock):
    p = await cast(store)
    calm = await routed(store, p, "已满意")
    angry = await routed(store, p, "不满意")
    await posting.add_reply(store, p["lead"], calm, "已修复")
    await cases.rate_case(store, p["writer"], calm, "satisfied")
    clock.advance(hours=1)
    await posting.add_reply(store, p["lead"], angry, "已处理")
    await cases.rate_case(store, p["writer"], angry, "unsatisfied", "没修好")
    await cases.route_case(store, p["mod"], angry, "housing")
    await posting.add_reply(store, p["lead"], angry, "已更换灯具")
    found = await moderation.queue(store, p["mod"])
    assert ids(found.callbacks_due) == [angry, calm]  # unsatisfied first
    assert found.counts["callbacks_due"] == 2
    assert {item.kind for item in found.callbacks_due} == {"callback_due"}
    assert [item.reason for item in found.callbacks_due] == [
        "写信人不满意，待回访",
        "已办结，待回访",
    ]
    await casework.callback(store, p["mod"], angry, False, None, "电话无人接听")
    assert ids((await moderation.queue(store, p["mod"])).callbacks_due) == [calm]
    # past the window nobody is called back any more
    clock.advance(days=moderation.CALLBACK_WINDOW_DAYS + 1)
    assert (await moderation.queue(store, p["mod"])).callbacks_due == []


@pytest.mark.gen_test
async def test_only_moderators_see_the_queue(store):
    p = await cast(store)
    with pytest.raises(NotLoggedIn):
        await moderation.queue(store, None)
    for who in ("writer", "lead"):
        with pytest.raises(Forbidden):
            await moderation.queue(store, p[who])


# the desk -----------------------------------------------------------------------------------
@pytest.mark.gen_test(timeout=30)
async def test_a_helper_sees_the_cases_it_helps_with_and_a_third_department_does_not(store):
    p = await cast(store)
    helped = await routed(store, p, "协办件", helpers=("police",))
    alone = await routed(store, p, "单独办理", helpers=())
    desk = await desks.department_cases(store, p["helper"], "police", role="helper")
    assert desk.role == "helper" and [v.post.id for v in desk.page.items] == [helped]
    assert desk.names["housing"] == "住房和城乡建设局"
    assert desk.page.items[0].post.department == "housing"
    # its own desk leads nothing here
    assert (await desks.department_cases(store, p["helper"], "police")).page.items == []
    lead = await desks.department_cases(store, p["lead"], "housing")
    assert lead.role == "lead" and {v.post.id for v in lead.page.items} == {helped, alone}
    assert (await desks.department_cases(store, p["mod"], "tax", role="helper")).page.items == []
    with pytest.raises(Forbidden):
        await desks.department_cases(store, p["other"], "police", role="helper")
    with pytest.raises(NotLoggedIn):
        await desks.department_cases(store, None, "police", role="helper")


@pytest.mark.gen_test(timeout=30)
async def test_my_cases_are_those_assigned_to_me(store):
    p = await cast(store)
    mine = await routed(store, p, "我的")
    theirs = await routed(store, p, "同事的")
    await casework.assign(store, p["lead"], mine, "lead_staff")
    await casework.assign(store, p["lead"], theirs, "officer")
    desk = await desks.department_cases(store, p["lead"], "housing", officer="me")
    assert desk.officer == "me" and [v.post.id for v in desk.page.items] == [mine]
    assert desk.page.items[0].officer.username == "lead_staff"
    other = await desks.department_cases(store, p["officer"], "housing", officer="me")
    assert [v.post.id for v in other.page.items] == [theirs]


@pytest.mark.gen_test
async def test_unknown_desk_filters_name_their_field(store):
    p = await cast(store)
    for given, field in (
        ({"role": "boss"}, "role"),
        ({"status": "merged"}, "status"),
        ({"officer": "you"}, "officer"),
        ({"role": ["helper"]}, "role"),
    ):
        with pytest.raises(Invalid) as caught:
            await desks.department_cases(store, p["lead"], "housing", **given)
        assert field in caught.value.fields, given
