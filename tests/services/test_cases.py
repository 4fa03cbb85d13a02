"""Case handling without HTTP: letters, reports, moderation, routing, replies, ratings."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import re

import pytest

from forum.errors import Conflict, Forbidden, Invalid, NotFound, NotLoggedIn, RateLimited
from forum import security
from forum.model import ReplyKind, Role, Status
from forum.services import cases, desks, moderation, posting, stats, tracking
from tests.support.people import person

LETTER = {
    "title": "小区门口路灯不亮",
    "body": "已经一个月了，电话13812345678",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13812345678",
    "public": True,
}


async def cast(store):
    """The people of a case: a writer, a moderator, housing staff, tax staff, a bystander."""
    return (
        await person(store, "writer"),
        await person(store, "mod", Role.MODERATOR),
        await person(store, "housing_staff", Role.STAFF, department="housing"),
        await person(store, "tax_staff", Role.STAFF, department="tax"),
        await person(store, "bystander"),
    )


async def routed_letter(store, writer, mod, **extra):
    view = await posting.create_post(store, writer, "mayor", {**LETTER, **extra})
    await moderation.moderate(store, mod, view.post.id, "accept")
    await cases.route_case(store, mod, view.post.id, "housing", 5, "请尽快处理")
    return view


@pytest.mark.gen_test
async def test_letter_journey_to_closed(store):
    writer, mod, staff, _, bystander = await cast(store)
    submitted = await posting.create_post(store, writer, "mayor", LETTER)
    post_id = submitted.post.id
    assert submitted.post.status is Status.SUBMITTED
    assert re.fullmatch(r"([A-HJ-NP-Z2-9]{4}-){6}[A-HJ-NP-Z2-9]{4}", submitted.tracking_code)
    assert submitted.post.accept_due_at is not None
    for viewer in (None, bystander, staff):
        with pytest.raises(NotFound):
            await posting.get_thread(store, viewer, post_id)
    queue = await moderation.queue(store, mod)
    assert [(i.kind, i.post.post.id) for i in queue.items] == [("submitted", post_id)]

    await moderation.moderate(store, mod, post_id, "accept")
    public = await posting.get_thread(store, None, post_id)
    assert public.post.post.contact is None and "138****5678" in public.post.post.body
    routed = await cases.route_case(store, mod, post_id, "housing", 5)
    assert routed.post.status is Status.ROUTED and routed.post.due_at > routed.post.created_at
    staff_view = await posting.get_thread(store, staff, post_id)
    assert staff_view.post.post.contact == "13812345678"
    department = await desks.department_cases(store, staff, "housing")
    assert [v.post.id for v in department.page.items] == [post_id]

    reply = await posting.add_reply(store, staff, post_id, "已安排维修，三日内修复。")
    assert reply.reply.kind is ReplyKind.OFFICIAL
    follow = await posting.add_reply(store, writer, post_id, "谢谢，已经修好了")
    assert follow.reply.kind is ReplyKind.FOLLOW_UP
    rated = await cases.rate_case(store, writer, post_id, "satisfied", "很及时")
    assert rated.post.status is Status.CLOSED and rated.post.closed_at is not None
    thread = await posting.get_thread(store, writer, post_id)
    assert [e.event.action for e in thread.events] == [
        "create",
        "accept",
        "route",
        "official",
        "rate_satisfied",
    ]
    assert {e.actor for e in thread.events} == {"写信人", "市信访局", "住房和城乡建设局"}
    assert (await posting.get_thread(store, None, post_id)).events == []
    figures = (await stats.report(store)).boards["mayor"].as_dict()
    assert (figures["received"], figures["accepted"], figures["replied"], figures["closed"]) == (
        1,
        1,
        1,
        1,
    )
    assert figures["completion_rate"] == 1.0 and figures["satisfaction"]["satisfied"] == 1


@pytest.mark.gen_test
async def test_private_letters_stay_private_and_rejections_tell_why(store):
    writer, mod, _, _, bystander = await cast(store)
    private = await posting.create_post(store, writer, "mayor", {**LETTER, "public": False})
    await moderation.moderate(store, mod, private.post.id, "accept")
    with pytest.raises(NotFound):
        await posting.get_thread(store, bystander, private.post.id)
    other = await posting.create_post(store, writer, "mayor", LETTER)
    with pytest.raises(Invalid) as caught:
        await moderation.moderate(store, mod, other.post.id, "reject")
    assert "reason" in caught.value.fields
    rejected = await moderation.moderate(store, mod, other.post.id, "reject", "不属于受理范围")
    assert rejected.post.status is Status.REJECTED
    seen = await posting.get_thread(store, writer, other.post.id)
    assert seen.post.post.status_note == "不属于受理范围"


@pytest.mark.gen_test
async def test_mayor_letters_need_a_contact_and_an_account(store):
    writer = await person(store, "writer")
    with pytest.raises(Invalid) as caught:
        await posting.create_post(
            store,
            writer,
            "mayor",
            {**LETTER, "letter_type": "complaint", "area": "city", "contact": None},
        )
    assert "contact" in caught.value.fields
    with pytest.raises(NotLoggedIn):
        await posting.create_post(store, None, "mayor", LETTER)


@pytest.mark.gen_test
async def test_unsatisfied_reopens_once(store):
    writer, mod, staff, _, _ = await cast(store)
    view = await routed_letter(store, writer, mod, public=False)
    post_id = view.post.id
    with pytest.raises(Conflict):
        await cases.rate_case(store, writer, post_id, "satisfied")  # no reply yet
    await posting.add_reply(store, staff, post_id, "答复一")
    reopened = await cases.rate_case(store, writer, post_id, "unsatisfied", "没解决")
    assert reopened.post.status is Status.ACCEPTED and reopened.post.reopened
    assert reopened.post.department is None
    queue = await moderation.queue(store, mod)
    assert [i.kind for i in queue.items] == ["reopened"]
    with pytest.raises(NotFound):
        await posting.get_thread(store, staff, post_id)  # private, and no longer theirs
    await cases.route_case(store, mod, post_id, "housing")
    await posting.add_reply(store, staff, post_id, "答复二")
    final = await cases.rate_case(store, writer, post_id, "unsatisfied")
    assert final.post.status is Status.CLOSED
    with pytest.raises(Conflict):
        await cases.rate_case(store, writer, post_id, "satisfied")


@pytest.mark.gen_test
async def test_staff_return_a_case_that_is_not_theirs(store):
    writer, mod, staff, tax_staff, _ = await cast(store)
    view = await routed_letter(store, writer, mod)
    with pytest.raises(Forbidden):  # a public letter: they may read it, not return it
        await cases.return_case(store, tax_staff, view.post.id, "不是我们的")
    with pytest.raises(Invalid):
        await cases.return_case(store, staff, view.post.id, "")
    returned = await cases.return_case(store, staff, view.post.id, "应由交通运输局办理")
    assert returned.post.status is Status.ACCEPTED and returned.post.department is None
    assert [i.reason for i in (await moderation.queue(store, mod)).items] == [
        "部门退回，待重新转办"
    ]


@pytest.mark.gen_test
async def test_route_bad_input_and_permissions(store):
    writer, mod, staff, _, _ = await cast(store)
    view = await posting.create_post(store, writer, "mayor", LETTER)
    with pytest.raises(Conflict):
        await cases.route_case(store, mod, view.post.id, "housing")  # not accepted yet
    await moderation.moderate(store, mod, view.post.id, "accept")
    for department, days, field in (
        ("mars", None, "department"),
        (None, None, "department"),
        ({"$ne": 1}, None, "department"),
        ("housing", 0, "due_days"),
        ("housing", "abc", "due_days"),
        ("housing", 61, "due_days"),
    ):
        with pytest.raises(Invalid) as caught:
            await cases.route_case(store, mod, view.post.id, department, days)
        assert field in caught.value.fields
    for outsider in (writer, staff):
        with pytest.raises(Forbidden):
            await cases.route_case(store, outsider, view.post.id, "housing")


@pytest.mark.gen_test
async def test_unrated_cases_close_as_unrated_after_fifteen_days(store):
    writer, mod, staff, _, _ = await cast(store)
    view = await routed_letter(store, writer, mod)
    await posting.add_reply(store, staff, view.post.id, "答复")
    replied = await store.get_post(view.post.id)
    assert await cases.close_unrated(store, replied.replied_at + dt.timedelta(days=14)) == 0
    assert await cases.close_unrated(store, replied.replied_at + dt.timedelta(days=15)) == 1
    closed = await store.get_post(view.post.id)
    # Closed, but as 未评价: never counted as satisfied.
    assert closed.status is Status.UNRATED and closed.rating is None and closed.ratings == []


@pytest.mark.gen_test
async def test_anonymous_tax_report_is_confidential_and_tracked(store):
    _, mod, housing, tax_staff, bystander = await cast(store)
    report = await posting.create_post(
        store, None, "tax", {"title": "某公司虚开发票", "body": "证据见附件"}, address="10.1.1.1"
    )
    assert report.post.author_id is None and report.post.anonymous
    for viewer in (None, bystander, housing, tax_staff):
        with pytest.raises(NotFound):
            await posting.get_thread(store, viewer, report.post.id)
    assert (await posting.list_posts(store, bystander, "tax")).items == []
    tracked = await tracking.track(store, report.tracking_code.lower(), "10.1.1.1")
    assert tracked.post.post.id == report.post.id and tracked.events
    await moderation.moderate(store, mod, report.post.id, "accept")
    await cases.route_case(store, mod, report.post.id, "tax")
    assert (await posting.get_thread(store, tax_staff, report.post.id)).post.post.id
    with pytest.raises(NotFound):
        await posting.get_thread(store, housing, report.post.id)
    with pytest.raises(Invalid):
        await posting.create_post(store, None, "tax", {"title": "t", "body": "b", "public": True})


def test_tracking_codes_carry_at_least_128_bits_and_differ():
    codes = {security.new_tracking_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        key = security.tracking_key(code)
        assert len(key) == security.TRACKING_CODE_CHARS and set(key) <= set(
            security.TRACKING_ALPHABET
        )
    assert security.TRACKING_CODE_CHARS * math.log2(len(security.TRACKING_ALPHABET)) >= 128


@pytest.mark.gen_test
async def test_tracking_codes_are_read_as_people_type_them_and_old_codes_still_work(
    store, monkeypatch
):
    writer = await person(store, "writer")
    new = await posting.create_post(store, writer, "mayor", LETTER)
    typed = " " + new.tracking_code.replace("-", " ").lower() + " "
    assert (await tracking.track(store, typed, "10.3.3.3")).post.post.id == new.post.id
    assert (
        await tracking.track(store, security.tracking_key(new.tracking_code), "10.3.3.3")
    ).post.post.id == new.post.id
    # A code handed out before the change: 16 characters, without dashes.
    monkeypatch.setattr(security, "new_tracking_code", lambda: "ABCDEFGHJKLMNPQR")
    old = await posting.create_post(store, writer, "mayor", LETTER)
    for form in ("ABCDEFGHJKLMNPQR", "abcd-efgh-jklm-npqr", "ABCD EFGH JKLM NPQR"):
        assert (await tracking.track(store, form, "10.3.3.3")).post.post.id == old.post.id
    for wrong in (
        new.tracking_code[:-1],
        new.tracking_code + "A",
        "ABCDEFGHJKLMNPQ",
        new.tracking_code.replace("-", "")[:16],
    ):
        with pytest.raises(NotFound):
            await tracking.track(store, wrong, "10.3.3.4")


@pytest.mark.gen_test
async def test_tracking_codes_answer_alike_and_are_rate_limited(store):
    for code in ("WRONGCODEWRONG22", "short", "", None, {"$ne": None}, "' OR 1=1 --"):
        with pytest.raises(NotFound):
            await tracking.track(store, code, "10.9.9.9")
    for _ in range(14):
        with pytest.raises(NotFound):
            await tracking.track(store, "AAAAAAAAAAAAAAAA", "10.9.9.9")
    with pytest.raises(RateLimited):
        await tracking.track(store, "AAAAAAAAAAAAAAAA", "10.9.9.9")


@pytest.mark.gen_test
async def test_hotline_bulletins(store):
    staff = await person(store, "clerk", Role.STAFF, department="health")
    citizen = await person(store, "citizen")
    data = {
        "title": "咨询医保报销比例",
        "body": "按市医保政策执行……",
        "letter_type": "complaint",
        "area": "city",
        "case_number": "12345-2026-0001",
        "received_on": "2026-11-20",
        "department": "health",
        "category": "医疗卫生",
    }
    view = await posting.create_post(store, staff, "hotline", data)
    assert view.post.status is Status.PUBLISHED and view.post.case_number == "12345-2026-0001"
    assert view.tracking_code is None
    for bad, field in (
        ({"received_on": "20/11/2026"}, "received_on"),
        ({"department": "mars"}, "department"),
        ({"letter_type": "complaint", "area": "city", "case_number": None}, "case_number"),
    ):
        with pytest.raises(Invalid) as caught:
            await posting.create_post(store, staff, "hotline", {**data, **bad})
        assert field in caught.value.fields
    with pytest.raises(Forbidden):
        await posting.add_reply(store, citizen, view.post.id, "评论")
    with pytest.raises(Forbidden):
        await posting.create_post(store, citizen, "hotline", data)


@pytest.mark.gen_test
async def test_a_hotline_reply_speaks_for_the_publishers_department_only(store):
    clerk = await person(store, "clerk", Role.STAFF, department="housing")
    mod = await person(store, "mod", Role.MODERATOR, department="xinfang")
    data = {
        "title": "路灯维修答复",
        "body": "已修复",
        "category": "城乡建设",
        "letter_type": "complaint",
        "area": "city",
        "case_number": "12345-2026-0001",
        "received_on": "2026-11-02",
        "department": "tax",
    }
    with pytest.raises(Invalid) as caught:
        await posting.create_post(store, clerk, "hotline", data)
    assert list(caught.value.fields) == ["department"]
    own = await posting.create_post(store, clerk, "hotline", {**data, "department": "housing"})
    assert own.post.department == "housing"
    assert (await posting.create_post(store, mod, "hotline", data)).post.department == "tax"


@pytest.mark.gen_test
async def test_moderator_actions_on_forum_posts(store):
    writer, mod, _, _, bystander = await cast(store)
    view = await posting.create_post(store, writer, "forum", {"title": "t", "body": "b"})
    post_id = view.post.id
    with pytest.raises(Invalid):
        await moderation.moderate(store, mod, post_id, "hide")
    with pytest.raises(Invalid):
        await moderation.moderate(store, mod, post_id, "explode")
    await moderation.moderate(store, mod, post_id, "hide", "广告")
    with pytest.raises(NotFound):
        await posting.get_thread(store, bystander, post_id)
    with pytest.raises(Conflict):
        await moderation.moderate(store, mod, post_id, "hide", "again")
    restored = await moderation.moderate(store, mod, post_id, "restore")
    assert restored.post.status is Status.PUBLISHED
    assert (await moderation.moderate(store, mod, post_id, "lock")).post.locked
    assert (await moderation.moderate(store, mod, post_id, "pin")).post.pinned
    with pytest.raises(Conflict):
        await moderation.moderate(store, mod, post_id, "dismiss_flags")
    for outsider in (None, writer):
        with pytest.raises(NotLoggedIn if outsider is None else Forbidden):
            await moderation.moderate(store, outsider, post_id, "unlock")
    audit = await store.list_audit(actor_id=mod.id, target=None, after=None, limit=10)
    assert [a.action for a in reversed(audit)] == ["hide", "restore", "lock", "pin"]


@pytest.mark.gen_test
async def test_sensitive_words_hold_posts_for_review(store):
    from forum.services import settings

    root = await person(store, "root", Role.ADMIN)
    writer, mod = await person(store, "writer"), await person(store, "mod", Role.MODERATOR)
    await settings.save_sensitive_words(store, root, ["赌博", " 代开发票 "])
    held = await posting.create_post(store, writer, "forum", {"title": "网上赌博", "body": "x"})
    assert held.post.status is Status.PENDING
    assert [i.kind for i in (await moderation.queue(store, mod)).items] == ["pending"]
    approved = await moderation.moderate(store, mod, held.post.id, "accept")
    assert approved.post.status is Status.PUBLISHED
    with pytest.raises(Forbidden):
        await settings.save_sensitive_words(store, writer, ["x"])
    with pytest.raises(Invalid):
        await settings.save_sensitive_words(store, root, "赌博")


@pytest.mark.gen_test
async def test_overdue_cases_are_marked_once_and_the_sweeps_race_safely(store):
    writer, mod, staff, _, _ = await cast(store)
    view = await routed_letter(store, writer, mod, public=False)
    routed = await store.get_post(view.post.id)
    later = routed.due_at + dt.timedelta(minutes=1)
    assert await cases.note_overdue(store, routed.due_at - dt.timedelta(minutes=1)) == 0
    marked = await asyncio.gather(
        cases.note_overdue(store, later), cases.note_overdue(store, later)
    )
    assert sum(marked) == 1
    assert await cases.note_overdue(store, later) == 0
    events = [e.action for e in await store.list_events(view.post.id)]
    assert events.count("overdue") == 1
    await posting.add_reply(store, staff, view.post.id, "答复")
    replied = await store.get_post(view.post.id)
    expire_at = replied.replied_at + dt.timedelta(days=16)
    closed = await asyncio.gather(
        cases.close_unrated(store, expire_at), cases.close_unrated(store, expire_at)
    )
    assert sum(closed) == 1
    thread = await posting.get_thread(store, writer, view.post.id)
    assert [e.actor for e in thread.events if e.event.action in ("overdue", "expire")] == [
        "系统",
        "系统",
    ]


@pytest.mark.gen_test
async def test_two_moderators_accepting_at_once_accept_once(store):
    writer, mod, _, _, _ = await cast(store)
    other = await person(store, "mod2", Role.MODERATOR)
    view = await posting.create_post(store, writer, "mayor", LETTER)
    results = await asyncio.gather(
        moderation.moderate(store, mod, view.post.id, "accept"),
        moderation.moderate(store, other, view.post.id, "accept"),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "PostView"]
    assert [e.action for e in await store.list_events(view.post.id)] == ["create", "accept"]


@pytest.mark.gen_test
async def test_queue_lists_overdue_cases_and_flags_with_reasons(store):
    writer, mod, _, _, bystander = await cast(store)
    view = await routed_letter(store, writer, mod)
    await store.update_post(view.post.id, {"due_at": view.post.created_at})  # long past
    chat = await posting.create_post(store, writer, "forum", {"title": "t", "body": "b"})
    from forum.services import flags

    await flags.flag_post(store, bystander, chat.post.id, "广告")
    queue = await moderation.queue(store, mod)
    assert [(i.kind, i.reason) for i in queue.items] == [
        ("flagged", "举报：广告"),
        ("overdue", "住房和城乡建设局超期 1 天"),
    ]
    assert queue.counts["overdue"] == 1 and queue.counts["submitted"] == 0
    assert queue.items[1].post.overdue
    with pytest.raises(Forbidden):
        await moderation.queue(store, writer)


@pytest.mark.gen_test
async def test_queue_lists_a_post_flagged_twice_once_with_both_reasons_since_the_first(store):
    from forum.clock import clock_at, now
    from forum.services import flags

    writer, mod, _, _, bystander = await cast(store)
    other = await person(store, "reader2", Role.CITIZEN)
    chat = await posting.create_post(store, writer, "forum", {"title": "t", "body": "b"})
    first = now()
    with clock_at(first):
        await flags.flag_post(store, bystander, chat.post.id, "广告")
    with clock_at(first + dt.timedelta(minutes=5)):
        await flags.flag_post(store, other, chat.post.id, "辱骂")
    queue = await moderation.queue(store, mod)
    (item,) = [i for i in queue.items if i.kind == "flagged"]
    assert (item.post.post.id, item.reason, item.since) == (chat.post.id, "举报：广告；辱骂", first)
    # the flaggers' words are the message's parameter, never translated
    assert item.reason.args == {"reasons": "广告；辱骂"}
    assert queue.counts["flagged"] == 1


@pytest.mark.gen_test
async def test_a_reopened_case_gets_fifteen_days_from_its_new_reply(store):
    from forum.clock import clock_at

    writer, mod, staff, _, _ = await cast(store)
    view = await routed_letter(store, writer, mod, public=False)
    start = (await store.get_post(view.post.id)).created_at
    with clock_at(start + dt.timedelta(days=1)):
        await posting.add_reply(store, staff, view.post.id, "答复一")
    with clock_at(start + dt.timedelta(days=2)):
        await cases.rate_case(store, writer, view.post.id, "unsatisfied")
        await cases.route_case(store, mod, view.post.id, "housing")
    with clock_at(start + dt.timedelta(days=20)):
        await posting.add_reply(store, staff, view.post.id, "答复二")
    assert await cases.close_unrated(store, start + dt.timedelta(days=21)) == 0
    assert await cases.close_unrated(store, start + dt.timedelta(days=36)) == 1
