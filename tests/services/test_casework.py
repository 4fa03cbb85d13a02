"""Casework of the second release without HTTP: type and area, lead and helpers, notes, the
officer, extensions, urging, supervision, reminders, callbacks, the rating history, unrated
closing, merging. Every wrong party is refused and bad input names its field."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from forum.errors import Conflict, Forbidden, Invalid, NotFound, NotLoggedIn
from forum.model import ReplyKind, Role, Status
from forum.services import cases, casework, moderation, posting
from tests.support.people import person

LETTER = {
    "title": "玉兴路路灯不亮",
    "body": "已经一个月了，电话13812345678",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "hongta",
    "contact": "13812345678",
    "real_name": "李建华",
    "public": True,
}


async def cast(store):
    """A writer, a moderator, lead staff (housing), a second housing officer, helper staff
    (police), other staff (tax), a bystander."""
    return {
        "writer": await person(store, "writer"),
        "mod": await person(store, "mod", Role.MODERATOR),
        "lead": await person(store, "lead_staff", Role.STAFF, department="housing"),
        "officer": await person(store, "officer", Role.STAFF, department="housing"),
        "helper": await person(store, "helper_staff", Role.STAFF, department="police"),
        "other": await person(store, "tax_staff", Role.STAFF, department="tax"),
        "bystander": await person(store, "bystander"),
    }


async def routed(store, p, *, helpers=("police",), days=5, **extra):
    view = await posting.create_post(store, p["writer"], "mayor", {**LETTER, **extra})
    await moderation.moderate(store, p["mod"], view.post.id, "accept")
    await cases.route_case(store, p["mod"], view.post.id, "housing", days, None, list(helpers))
    return view.post.id


# type, area, counties ------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_a_letter_has_a_type_and_an_area_and_counties_are_departments(store):
    p = await cast(store)
    view = await posting.create_post(store, p["writer"], "mayor", LETTER)
    assert (view.post.letter_type, view.post.area, view.post.real_name) == (
        "complaint",
        "hongta",
        "李建华",
    )
    counties = [d for d in await store.list_departments() if d.kind == "county"]
    assert len(counties) == 9 and "gov-hongta" in {d.slug for d in counties}
    for field, value in (
        ("letter_type", None),
        ("letter_type", "rant"),
        ("area", 3),
        ("area", "kunming"),
        ("letter_type", "<script>"),
    ):
        with pytest.raises(Invalid) as caught:
            await posting.create_post(store, p["writer"], "mayor", {**LETTER, field: value})
        assert field in caught.value.fields
    # 属地管理: a case goes to the county that must act
    await moderation.moderate(store, p["mod"], view.post.id, "accept")
    routed_ = await cases.route_case(store, p["mod"], view.post.id, "gov-hongta")
    assert routed_.post.department == "gov-hongta"


@pytest.mark.gen_test
async def test_the_real_name_is_for_the_writer_and_the_offices_only(store):
    p = await cast(store)
    post_id = await routed(store, p)
    for viewer, seen in (
        (p["writer"], "李建华"),
        (p["mod"], "李建华"),
        (p["lead"], "李建华"),
        (p["helper"], "李建华"),
        (p["bystander"], None),
        (None, None),
    ):
        thread = await posting.get_thread(store, viewer, post_id)
        assert thread.post.post.real_name == seen


# lead, helpers, notes, officer ---------------------------------------------------------------
@pytest.mark.gen_test
async def test_helpers_see_the_case_and_add_notes_nobody_outside_sees(store):
    p = await cast(store)
    post_id = await routed(store, p)
    post = await store.get_post(post_id)
    assert post.helpers == ["police"]
    helper_view = await posting.get_thread(store, p["helper"], post_id)
    assert helper_view.post.post.contact == "13812345678"  # helpers work it: unmasked
    note = await casework.add_note(store, p["helper"], post_id, "派出所已到现场核实")
    assert note.reply.kind is ReplyKind.INTERNAL
    await casework.add_note(store, p["mod"], post_id, "请两部门配合")
    # never counted in the public's reply count, never shown to the writer, public or code
    assert (await store.get_post(post_id)).reply_count == 0
    for viewer in (p["writer"], p["bystander"], None):
        thread = await posting.get_thread(store, viewer, post_id)
        assert all(r.reply.kind is not ReplyKind.INTERNAL for r in thread.replies)
    for viewer in (p["lead"], p["helper"], p["mod"]):
        thread = await posting.get_thread(store, viewer, post_id)
        assert len([r for r in thread.replies if r.reply.kind is ReplyKind.INTERNAL]) == 2
    # only the lead replies officially; the writer, others and the public add no notes
    with pytest.raises(Forbidden):
        await posting.add_reply(store, p["helper"], post_id, "答复")
    for viewer in (p["writer"], p["other"]):
        with pytest.raises((Forbidden, NotFound)):
            await casework.add_note(store, viewer, post_id, "看看")
    with pytest.raises(NotLoggedIn):
        await casework.add_note(store, None, post_id, "看看")
    for body in (None, "", 5, "x" * 20001):
        with pytest.raises(Invalid) as caught:
            await casework.add_note(store, p["lead"], post_id, body)
        assert "body" in caught.value.fields


@pytest.mark.gen_test
async def test_routing_refuses_bad_helpers_and_stores_nothing(store):
    p = await cast(store)
    view = await posting.create_post(store, p["writer"], "mayor", LETTER)
    await moderation.moderate(store, p["mod"], view.post.id, "accept")
    for helpers in (
        ["housing"],
        ["police", "tax", "market", "health"],
        ["nowhere"],
        ["police", "police"],
        7,
        [1],
        ["xinfang"],
    ):
        with pytest.raises(Invalid) as caught:
            await cases.route_case(store, p["mod"], view.post.id, "housing", None, None, helpers)
        assert "helpers" in caught.value.fields, helpers
    assert (await store.get_post(view.post.id)).status is Status.ACCEPTED
    # a form's comma-separated list is read as a list
    done = await cases.route_case(
        store, p["mod"], view.post.id, "housing", None, None, "police, market"
    )
    assert done.post.helpers == ["police", "market"]


@pytest.mark.gen_test
async def test_the_lead_names_an_officer_whom_only_the_offices_see(store):
    p = await cast(store)
    post_id = await routed(store, p)
    assigned = await casework.assign(store, p["lead"], post_id, "officer")
    assert assigned.post.officer_id == p["officer"].id and assigned.officer.username == "officer"
    for viewer in (p["writer"], p["bystander"], None):
        shown = (await posting.get_thread(store, viewer, post_id)).post
        assert shown.post.officer_id is None and shown.officer is None
    assert (await posting.get_thread(store, p["mod"], post_id)).post.officer.username == "officer"
    for name in ("helper_staff", "writer", "nobody", None, 5, "<b>x</b>"):
        with pytest.raises(Invalid) as caught:
            await casework.assign(store, p["lead"], post_id, name)
        assert "username" in caught.value.fields
    for viewer in (p["helper"], p["mod"], p["writer"]):
        with pytest.raises(Forbidden):
            await casework.assign(store, viewer, post_id, "officer")


# extensions ----------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_an_extension_is_asked_once_and_approval_moves_the_due_time(store):
    p = await cast(store)
    post_id = await routed(store, p)
    due = (await store.get_post(post_id)).due_at
    for days, reason, field in (
        (0, "需要现场勘查", "days"),
        (16, "x", "days"),
        ("x", "x", "days"),
        (None, "x", "days"),
        (True, "x", "days"),
        (3, None, "reason"),
        (3, "x" * 501, "reason"),
    ):
        with pytest.raises(Invalid) as caught:
            await casework.request_extension(store, p["lead"], post_id, days, reason)
        assert field in caught.value.fields
    for viewer in (p["helper"], p["writer"], p["mod"]):
        with pytest.raises(Forbidden):
            await casework.request_extension(store, viewer, post_id, 3, "需要现场勘查")
    with pytest.raises(Conflict):  # nothing to decide yet
        await casework.decide_extension(store, p["mod"], post_id, True)
    asked = await casework.request_extension(store, p["lead"], post_id, 3, "需要现场勘查")
    assert asked.post.extension_status == "requested" and asked.post.extension_days == 3
    with pytest.raises(Conflict):  # one pending
        await casework.request_extension(store, p["lead"], post_id, 2, "再延")
    for viewer in (p["lead"], p["writer"]):
        with pytest.raises(Forbidden):
            await casework.decide_extension(store, viewer, post_id, True)
    with pytest.raises(Invalid) as caught:
        await casework.decide_extension(store, p["mod"], post_id, None)
    assert "approve" in caught.value.fields
    approved = await casework.decide_extension(store, p["mod"], post_id, True, "同意")
    assert approved.post.extended and approved.post.extension_status == "approved"
    assert approved.post.due_at - due >= dt.timedelta(days=3)
    with pytest.raises(Conflict):  # approved once in this routing
        await casework.request_extension(store, p["lead"], post_id, 2, "再延")
    events = [e.action for e in await store.list_events(post_id)]
    assert events[-2:] == ["extension_request", "extension_decide"]
    writer_notes = await store.list_notifications(p["writer"].id, None, 50)
    assert any("审批延期" in n.text for n in writer_notes)


@pytest.mark.gen_test
async def test_a_refused_extension_may_be_asked_again_and_two_decisions_at_once_make_one(store):
    p = await cast(store)
    post_id = await routed(store, p)
    await casework.request_extension(store, p["lead"], post_id, 3, "需要现场勘查")
    refused = await casework.decide_extension(store, p["mod"], post_id, False, "期限足够")
    assert refused.post.extension_status == "refused" and not refused.post.extended
    await casework.request_extension(store, p["lead"], post_id, 2, "材料未齐")
    second_mod = await person(store, "mod2", Role.MODERATOR)
    results = await asyncio.gather(
        casework.decide_extension(store, p["mod"], post_id, True),
        casework.decide_extension(store, second_mod, post_id, False),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "PostView"]
    decided = [e for e in await store.list_events(post_id) if e.action == "extension_decide"]
    assert len(decided) == 2  # the refusal before, and exactly one now


# urging, supervision, the clock --------------------------------------------------------------
@pytest.mark.gen_test
async def test_urging_tells_the_lead_and_supervision_lasts_until_the_official_reply(store):
    p = await cast(store)
    post_id = await routed(store, p)
    await casework.urge(store, p["mod"], post_id, "请加快办理")
    lead_notes = await store.list_notifications(p["lead"].id, None, 50)
    assert any(n.kind == "urge" for n in lead_notes)
    with pytest.raises(Invalid) as caught:
        await casework.supervise(store, p["mod"], post_id, None)
    assert "reason" in caught.value.fields
    for viewer in (p["lead"], p["writer"], p["bystander"]):
        with pytest.raises((Forbidden, NotFound)):
            await casework.supervise(store, viewer, post_id, "群众反映强烈")
    marked = await casework.supervise(store, p["mod"], post_id, "群众反映强烈")
    assert marked.post.supervised and marked.post.supervised_at is not None
    with pytest.raises(Conflict):
        await casework.supervise(store, p["mod"], post_id, "再次督办")
    await posting.add_reply(store, p["lead"], post_id, "已修复")
    replied = await store.get_post(post_id)
    assert not replied.supervised and replied.supervised_at is not None  # counted, cleared


@pytest.mark.gen_test
async def test_the_clock_reminds_before_due_and_supervises_long_overdue_cases_once(store, clock):
    p = await cast(store)
    post_id = await routed(store, p, days=5)
    due = (await store.get_post(post_id)).due_at
    assert (await casework.clock_round(store, clock.now())).reminded == 0
    # the reminder comes within two working days of the due time, once
    near = due - dt.timedelta(days=1)
    first, second = await asyncio.gather(
        casework.remind_due(store, near), casework.remind_due(store, near)
    )
    assert first + second == 1
    assert any(n.kind == "remind" for n in await store.list_notifications(p["lead"].id, None, 50))
    # past the due time: overdue; five working days later: supervised
    assert (await casework.clock_round(store, due + dt.timedelta(hours=1))).supervised == 0
    late = due + dt.timedelta(days=9)
    done = await casework.clock_round(store, late)
    assert done.supervised == 1 and (await store.get_post(post_id)).supervised
    assert (await casework.clock_round(store, late)).supervised == 0


# callbacks and the rating history ------------------------------------------------------------
@pytest.mark.gen_test
async def test_every_unsatisfied_rating_stays_against_the_department_it_judged(store):
    p = await cast(store)
    post_id = await routed(store, p)
    await posting.add_reply(store, p["lead"], post_id, "已处理")
    await cases.rate_case(store, p["writer"], post_id, "unsatisfied", "没修好")
    await cases.route_case(store, p["mod"], post_id, "gov-hongta")
    county = await person(store, "hongta_staff", Role.STAFF, department="gov-hongta")
    await posting.add_reply(store, county, post_id, "区里已修复")
    await cases.rate_case(store, p["writer"], post_id, "satisfied")
    history = await casework.ratings(store, p["writer"], post_id)
    assert [(h.source, h.score, h.department) for h in history] == [
        ("rating", "unsatisfied", "housing"),
        ("rating", "satisfied", "gov-hongta"),
    ]
    # the public reads the history of a public letter, comments masked
    public = await casework.ratings(store, None, post_id)
    assert [h.score for h in public] == ["unsatisfied", "satisfied"]


@pytest.mark.gen_test
async def test_callbacks_record_reopen_once_and_close_a_replied_case(store):
    p = await cast(store)
    post_id = await routed(store, p)
    with pytest.raises(Conflict):  # a callback on an open case
        await casework.callback(store, p["mod"], post_id, True, "satisfied")
    await posting.add_reply(store, p["lead"], post_id, "已处理")
    for reached, score, field in (
        (None, None, "reached"),
        ("yes", None, "reached"),
        (True, "great", "score"),
        (False, "satisfied", "score"),
    ):
        with pytest.raises(Invalid) as caught:
            await casework.callback(store, p["mod"], post_id, reached, score)
        assert field in caught.value.fields
    for viewer in (p["lead"], p["writer"]):
        with pytest.raises(Forbidden):
            await casework.callback(store, viewer, post_id, True, "satisfied")
    missed = await casework.callback(store, p["mod"], post_id, False, None, "电话无人接听")
    assert missed.post.status is Status.REPLIED
    reopened = await casework.callback(store, p["mod"], post_id, True, "unsatisfied", "仍不亮")
    assert reopened.post.status is Status.ACCEPTED and reopened.post.reopened
    await cases.route_case(store, p["mod"], post_id, "housing")
    await posting.add_reply(store, p["lead"], post_id, "已更换灯具")
    # reopened once in all: a second 不满意 is recorded, and closes nothing open
    await cases.rate_case(store, p["writer"], post_id, "unsatisfied")
    closed = await store.get_post(post_id)
    assert closed.status is Status.CLOSED
    history = await casework.ratings(store, p["mod"], post_id)
    assert [(h.source, h.score) for h in history] == [
        ("callback", None),
        ("callback", "unsatisfied"),
        ("rating", "unsatisfied"),
    ]
    again = await casework.callback(store, p["mod"], post_id, True, "unsatisfied")
    assert again.post.status is Status.CLOSED  # recorded only


@pytest.mark.gen_test
async def test_a_satisfied_callback_closes_a_replied_case(store):
    p = await cast(store)
    post_id = await routed(store, p)
    await posting.add_reply(store, p["lead"], post_id, "已处理")
    done = await casework.callback(store, p["mod"], post_id, True, "basically_satisfied")
    assert done.post.status is Status.CLOSED and done.post.closed_at is not None


# merging -------------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_a_duplicate_merges_into_an_earlier_case_and_its_writer_is_told(store):
    p = await cast(store)
    earlier = await routed(store, p)
    neighbour = await person(store, "neighbour")
    later = await posting.create_post(store, neighbour, "mayor", {**LETTER, "title": "路灯又坏"})
    other_board = await posting.create_post(
        store, neighbour, "tax", {"title": "某公司偷税", "body": "线索"}
    )
    for into, field in (
        (later.post.id, "into"),
        (None, "into"),
        ("nope", "into"),
        (other_board.post.id, "into"),
    ):
        with pytest.raises(Invalid) as caught:
            await casework.merge(store, p["mod"], later.post.id, into, "同一事项")
        assert field in caught.value.fields
    with pytest.raises(Invalid) as caught:  # into a later case
        await casework.merge(store, p["mod"], earlier, later.post.id, "同一事项")
    assert "into" in caught.value.fields
    with pytest.raises(Invalid) as caught:
        await casework.merge(store, p["mod"], later.post.id, earlier, None)
    assert "reason" in caught.value.fields
    with pytest.raises(NotFound):  # staff do not see a case not routed to them
        await casework.merge(store, p["lead"], later.post.id, earlier, "同一事项")
    with pytest.raises(Forbidden):
        await casework.merge(store, neighbour, later.post.id, earlier, "同一事项")
    merged = await casework.merge(store, p["mod"], later.post.id, earlier, "同一路段路灯")
    assert merged.post.status is Status.MERGED and merged.post.merged_into == earlier
    told = await store.list_notifications(neighbour.id, None, 50)
    assert any("合并" in n.text for n in told)
    # the writer follows the case their letter joined, and hears of its reply
    assert await store.get_subscription(neighbour.id, f"post:{earlier}") is not None
    await posting.add_reply(store, p["lead"], earlier, "已修复")
    heard = await store.list_notifications(neighbour.id, None, 50)
    assert any(n.post_id == earlier for n in heard)
    with pytest.raises(Conflict):  # merged is closed: no second merge
        await casework.merge(store, p["mod"], later.post.id, earlier, "再合并")


@pytest.mark.gen_test
async def test_a_writer_merged_into_a_private_letter_is_told_but_does_not_follow_it(store):
    p = await cast(store)
    earlier = await routed(store, p, public=False)
    neighbour = await person(store, "neighbour")
    later = await posting.create_post(store, neighbour, "mayor", {**LETTER, "title": "路灯又坏"})
    merged = await casework.merge(store, p["mod"], later.post.id, earlier, "同一事项")
    assert merged.post.status is Status.MERGED
    assert await store.get_subscription(neighbour.id, f"post:{earlier}") is None
    with pytest.raises(NotFound):  # still not theirs to read
        await posting.get_thread(store, neighbour, earlier)


@pytest.mark.gen_test
async def test_how_the_offices_share_the_work_stays_out_of_the_writers_history(store):
    p = await cast(store)
    post_id = await routed(store, p)
    await casework.assign(store, p["lead"], post_id, "officer")
    await casework.request_extension(store, p["lead"], post_id, 3, "需要供电部门配合")
    await casework.urge(store, p["mod"], post_id, "请加快")
    await casework.decide_extension(store, p["mod"], post_id, True)
    mine = [e.event.action for e in (await posting.get_thread(store, p["writer"], post_id)).events]
    assert mine == ["create", "accept", "route", "extension_decide"]
    theirs = [e.event.action for e in (await posting.get_thread(store, p["lead"], post_id)).events]
    assert theirs == [
        "create",
        "accept",
        "route",
        "assign",
        "extension_request",
        "urge",
        "extension_decide",
    ]
    assert all(
        "officer" not in e.event.note
        for e in (await posting.get_thread(store, p["writer"], post_id)).events
    )
