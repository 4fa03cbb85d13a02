"""Open311 without HTTP: the services, what the public may list and read (never a tax report,
never a letter before it is public), the arguments of a list, and requests posted with a key."""

from __future__ import annotations

import datetime as dt

import pytest

from forum.clock import now
from forum.errors import BadCredentials, Forbidden, Invalid, NotFound, RateLimited
from forum import workflow
from forum.model import Post, PostFilter, Role, Status, new_id
from forum.services import (
    accounts,
    admin,
    apikeys,
    cases,
    moderation,
    open311,
    posting,
    throttle,
    tracking,
)
from tests.support.apps import TEST_PASSWORDS
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
# Every field the issue names for a request.
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
}


async def issued_key(store, name="12345 热线系统"):
    root = await store.get_user_by_name("root") or await person(store, "root", Role.ADMIN)
    return await apikeys.issue(store, root, name)


async def cast(store):
    return (
        await person(store, "writer"),
        await person(store, "mod", Role.MODERATOR),
        await person(store, "housing_staff", Role.STAFF, department="housing"),
    )


async def accepted_letter(store, writer, mod, **extra):
    view = await posting.create_post(store, writer, "mayor", {**LETTER, **extra})
    await moderation.moderate(store, mod, view.post.id, "accept")
    return view


async def dated_letter(store, at, *, status=Status.ACCEPTED, public=True, board="mayor"):
    """A letter as the store keeps it, requested at `at` (the services cannot backdate)."""
    post = Post(
        id=new_id(),
        board=board,
        title=f"来信 {at:%m-%d %H:%M}",
        body="正文",
        html="<p>正文</p>",
        author_id=None,
        status=status,
        created_at=at,
        updated_at=at,
        public=public,
        contact="13800000000",
    )
    await store.add_post(post)
    return post


def ids(found):
    return [item["service_request_id"] for item in found]


# services --------------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_the_services_are_the_two_case_boards(store):
    found = await open311.list_services(store)
    assert [s["service_code"] for s in found] == ["tax", "mayor"]
    tax, mayor = found
    assert mayor == {
        "service_code": "mayor",
        "service_name": "市长书记信箱",
        "description": mayor["description"],
        "metadata": False,
        "type": "batch",
        "keywords": mayor["keywords"],
        "group": "市信访局",
    }
    assert "城乡建设" in mayor["keywords"].split(", ")
    assert tax["type"] == "blackbox" and tax["metadata"] is False and tax["group"] == "税务局"
    assert await open311.service_definition(store, "mayor") == {
        "service_code": "mayor",
        "attributes": [],
    }
    for unknown in ("forum", "nope", "", None):
        with pytest.raises(NotFound):
            await open311.service_definition(store, unknown)


# what the public sees ----------------------------------------------------------------------
@pytest.mark.gen_test
async def test_a_public_letter_is_listed_with_the_right_fields_through_its_lifecycle(store):
    writer, mod, staff = await cast(store)
    view = await accepted_letter(store, writer, mod)
    post_id = view.post.id

    (item,) = await open311.list_requests(store, {})
    assert set(item) >= REQUEST_FIELDS and "contact" not in item
    assert item["service_request_id"] == post_id and item["service_code"] == "mayor"
    assert item["service_name"] == "市长书记信箱"
    assert (item["status"], item["status_notes"]) == ("open", "已受理，待转办")
    assert item["agency_responsible"] == "市信访局" and item["expected_datetime"] is None
    assert item["description"].startswith("小区门口路灯不亮\n\n")
    assert "138****5678" in item["description"] and "13812345678" not in item["description"]
    assert item["requested_datetime"] == open311.w3c(view.post.created_at)
    assert item["requested_datetime"].endswith("+08:00")
    assert "工作日" in item["service_notice"]

    routed = await cases.route_case(store, mod, post_id, "housing", 5)
    (item,) = await open311.get_request(store, post_id)
    assert (item["status"], item["status_notes"]) == ("open", "已转办至住房和城乡建设局")
    assert item["agency_responsible"] == "住房和城乡建设局"
    assert item["expected_datetime"] == open311.w3c(routed.post.due_at)

    await posting.add_reply(store, staff, post_id, "已安排维修。")
    (item,) = await open311.get_request(store, post_id)
    assert (item["status"], item["status_notes"]) == (
        "open",
        "住房和城乡建设局已答复，待写信人评价",
    )

    rated = await cases.rate_case(store, writer, post_id, "basically_satisfied")
    (item,) = await open311.list_requests(store, {"status": "closed"})
    assert (item["status"], item["status_notes"]) == ("closed", "已办结，写信人评价：基本满意")
    assert item["updated_datetime"] == open311.w3c(rated.post.closed_at)
    assert await open311.list_requests(store, {"status": "open"}) == []


@pytest.mark.gen_test
async def test_letters_the_public_may_not_see_are_neither_listed_nor_readable(store):
    writer, mod, _ = await cast(store)
    waiting = await posting.create_post(store, writer, "mayor", LETTER)
    private = await accepted_letter(store, writer, mod, public=False)
    rejected = await posting.create_post(store, writer, "mayor", LETTER)
    await moderation.moderate(store, mod, rejected.post.id, "reject", "重复来信")
    forum = await posting.create_post(store, writer, "forum", {"title": "论坛", "body": "帖子"})
    assert await open311.list_requests(store, {}) == []
    for view in (waiting, private, rejected, forum):
        with pytest.raises(NotFound):
            await open311.get_request(store, view.post.id)
    for code in (waiting.tracking_code, private.tracking_code, rejected.tracking_code):
        with pytest.raises(NotFound):
            await open311.request_for_token(store, code)
    for nonsense in ("", "x", None, new_id(), "../etc/passwd"):
        with pytest.raises(NotFound):
            await open311.get_request(store, nonsense)


@pytest.mark.gen_test
async def test_a_tax_report_posted_with_a_key_is_never_listed_nor_readable_by_id(store):
    key = await issued_key(store)
    _, mod, _ = await cast(store)
    tax_staff = await person(store, "tax_staff", Role.STAFF, department="tax")
    (answer,) = await open311.create_request(
        store,
        {
            "api_key": key.key,
            "service_code": "tax",
            "description": "某公司虚开发票\n金额巨大",
            "first_name": "三",
            "last_name": "张",
            "phone": "13812345678",
        },
    )
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    assert answer["service_request_id"] is None and answer["account_id"] is None
    token = answer["token"]
    assert len(token) == 34 and token in answer["service_notice"]
    report = await tracking.case_by_code(store, token)
    assert report.board == "tax" and report.author_id is None and report.anonymous
    assert report.contact == "张三，13812345678" and report.title == "某公司虚开发票"

    # However far it gets, the public never learns of it.
    await moderation.moderate(store, mod, report.id, "accept")
    await cases.route_case(store, mod, report.id, "tax", 5)
    await posting.add_reply(store, tax_staff, report.id, "已立案调查。")
    for args in (
        {},
        {"service_code": "tax"},
        {"status": "open,closed"},
        {"service_request_id": report.id},
    ):
        assert await open311.list_requests(store, args) == []
    with pytest.raises(NotFound):
        await open311.get_request(store, report.id)
    with pytest.raises(NotFound):
        await open311.request_for_token(store, token)
    # The reporter still follows it with the token, as with any tracking code.
    tracked = await tracking.track(store, token.lower(), "127.0.0.1")
    assert tracked.post.post.id == report.id


# the arguments of a list -----------------------------------------------------------------------
@pytest.mark.gen_test
async def test_lists_filter_by_service_status_and_dates_within_90_days(store):
    at = now()
    recent = await dated_letter(store, at - dt.timedelta(days=10))
    closed = await dated_letter(store, at - dt.timedelta(days=20), status=Status.CLOSED)
    old = await dated_letter(store, at - dt.timedelta(days=100))
    assert ids(await open311.list_requests(store, {})) == [recent.id, closed.id]
    assert ids(await open311.list_requests(store, {"status": "open"})) == [recent.id]
    assert ids(await open311.list_requests(store, {"status": "closed"})) == [closed.id]
    assert ids(
        await open311.list_requests(store, {"status": "open,closed", "service_code": "mayor,tax"})
    ) == [recent.id, closed.id]
    assert await open311.list_requests(store, {"service_code": "tax"}) == []

    def w3c(delta):
        return open311.w3c(at - dt.timedelta(days=delta))

    assert ids(await open311.list_requests(store, {"start_date": w3c(120)})) == [old.id]
    assert ids(await open311.list_requests(store, {"end_date": w3c(15)})) == [closed.id, old.id]
    assert ids(
        await open311.list_requests(store, {"start_date": w3c(101), "end_date": w3c(15)})
    ) == [closed.id, old.id]
    # end_date is the latest time included; UTC and a "+" a query string turned into a space.
    exact = closed.created_at.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")
    assert ids(await open311.list_requests(store, {"end_date": exact.replace("+00:00", "Z")})) == [
        closed.id,
        old.id,
    ]
    spaced = open311.w3c(closed.created_at - dt.timedelta(seconds=1)).replace("+", " ")
    assert ids(await open311.list_requests(store, {"end_date": spaced})) == [old.id]
    # A date is that whole day in the city's time.
    day = (at - dt.timedelta(days=10)).astimezone(workflow.CHINA_STANDARD_TIME).date()
    assert ids(
        await open311.list_requests(
            store, {"start_date": day.isoformat(), "end_date": day.isoformat()}
        )
    ) == [recent.id]


@pytest.mark.gen_test
async def test_a_list_is_capped_newest_first_and_pinned_letters_keep_their_place(
    store, monkeypatch
):
    monkeypatch.setattr(open311, "REQUESTS_MAX", 5)
    monkeypatch.setattr(open311, "PAGE_SIZE", 2)
    at = now()
    letters = [await dated_letter(store, at - dt.timedelta(hours=n)) for n in range(8)]
    await store.update_post(letters[6].id, {"pinned": True})
    assert ids(await open311.list_requests(store, {})) == [p.id for p in letters[:5]]


@pytest.mark.gen_test
async def test_service_request_ids_override_the_other_arguments(store):
    at = now()
    first = await dated_letter(store, at - dt.timedelta(days=200), status=Status.CLOSED)
    second = await dated_letter(store, at - dt.timedelta(days=1))
    hidden = await dated_letter(store, at - dt.timedelta(days=1), public=False)
    found = await open311.list_requests(
        store,
        {
            "service_request_id": f"{first.id}, {hidden.id},{second.id},{first.id},nonsense",
            "status": "open",
            "service_code": "tax",
        },
    )
    assert ids(found) == [first.id, second.id]
    with pytest.raises(Invalid):
        await open311.list_requests(store, {"service_request_id": ",".join([new_id()] * 1001)})


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "args, field",
    [
        ({"status": "<script>alert(1)</script>"}, "status"),
        ({"status": "open,pending"}, "status"),
        ({"service_code": "forum"}, "service_code"),
        ({"service_code": "mayor' OR 1=1 --"}, "service_code"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2026-01-01T00:00:00"}, "start_date"),  # no time zone
        ({"end_date": "2026-02-30"}, "end_date"),
        ({"end_date": "2026-01-01T25:00:00Z"}, "end_date"),
        ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:01Z"}, "end_date"),
        ({"start_date": "2026-01-01", "end_date": "2026-04-01"}, "end_date"),  # 91 days
        ({"end_date": "9999-12-31"}, "end_date"),  # the day after overflows
        ({"end_date": "9999-12-31T23:59:59.999999Z"}, "end_date"),
    ],
)
async def test_bad_list_arguments_are_invalid_without_echoing_them(store, args, field):
    with pytest.raises(Invalid) as caught:
        await open311.list_requests(store, args)
    assert field in caught.value.fields
    assert "<script>" not in caught.value.message and "OR 1=1" not in caught.value.message


@pytest.mark.gen_test
async def test_ninety_days_exactly_is_allowed(store):
    assert (
        await open311.list_requests(store, {"start_date": "2026-01-01", "end_date": "2026-03-31"})
        == []
    )
    assert (
        await open311.list_requests(
            store,
            {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-04-01T00:00:00+08:00"},
        )
        == []
    )


# posting ---------------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_posting_needs_a_live_key(store):
    key = await issued_key(store)
    report = {"service_code": "tax", "description": "虚开发票"}
    for presented in (None, "", "not-a-key", key.key + "x", 12345):
        with pytest.raises(Forbidden) as caught:
            await open311.create_request(store, {**report, "api_key": presented})
        assert caught.value.code == open311.KEY_REFUSED
    await open311.create_request(store, {**report, "api_key": key.key})
    root = await store.get_user_by_name("root")
    await apikeys.revoke(store, root, key.api_key.id)
    with pytest.raises(Forbidden) as caught:
        await open311.create_request(store, {**report, "api_key": key.key})
    assert caught.value.code == open311.KEY_REFUSED and "吊销" in caught.value.message


@pytest.mark.gen_test
async def test_a_letter_posted_with_a_key_is_written_by_the_keys_gateway_account(store):
    key = await issued_key(store)
    _, mod, _ = await cast(store)
    with pytest.raises(Invalid) as caught:
        await open311.create_request(
            store, {"api_key": key.key, "service_code": "mayor", "description": "路灯不亮"}
        )
    assert set(caught.value.fields) == {"last_name", "phone"}  # 实名 and a contact

    letter = {
        "api_key": key.key,
        "service_code": "mayor",
        "description": "# 小区门口路灯不亮\r\n已经一个月了。",
        "first_name": "三",
        "last_name": "张",
        "email": "zhang@example.cn",
        "phone": "+86 138-1234-5678",
        "attribute[WHISPAWN]": "ignored",
        "media_url": "http://example.com/x.jpg",
        "jurisdiction_id": "yuxi.gov.cn",
    }
    (answer,) = await open311.create_request(store, letter)
    post = await tracking.case_by_code(store, answer["token"])
    assert post.board == "mayor" and post.status is Status.SUBMITTED and not post.public
    assert post.title == "小区门口路灯不亮"
    assert post.contact == "张三，+86 138-1234-5678，zhang@example.cn"
    gateway = await store.get_user(post.author_id)
    assert gateway.username == f"open311-{key.api_key.id}" and gateway.disabled
    assert gateway.display_name == "12345 热线系统（Open311）"
    (again,) = await open311.create_request(store, {**letter, "email": None})
    assert (await tracking.case_by_code(store, again["token"])).author_id == gateway.id
    with pytest.raises(BadCredentials):
        await accounts.login(
            store, TEST_PASSWORDS, username=gateway.username, password="whatever-9", kind="bearer"
        )

    # Private unless the client says the citizen agreed: accepted, it is still not public.
    await moderation.moderate(store, mod, post.id, "accept")
    assert await open311.list_requests(store, {}) == []
    with pytest.raises(NotFound):
        await open311.request_for_token(store, answer["token"])


@pytest.mark.gen_test
async def test_a_public_letter_posted_with_a_key_gets_its_id_by_token_once_accepted(store):
    key = await issued_key(store)
    _, mod, _ = await cast(store)
    (answer,) = await open311.create_request(
        store,
        {
            "api_key": key.key,
            "service_code": "mayor",
            "description": "路灯不亮",
            "last_name": "李",
            "phone": "13900000000",
            "public": "true",
            "address_string": "红塔区玉兴路 1 号",
            "lat": "24.35",
            "long": 102.54,
        },
    )
    token = answer["token"]
    with pytest.raises(NotFound):
        await open311.request_for_token(store, token)  # not public before acceptance
    post = await tracking.case_by_code(store, token)
    assert "地点：红塔区玉兴路 1 号（坐标 24.350000, 102.540000）" in post.body
    await moderation.moderate(store, mod, post.id, "accept")
    assert await open311.request_for_token(store, token) == [
        {"service_request_id": post.id, "token": token}
    ]
    (item,) = await open311.list_requests(store, {})
    assert item["service_request_id"] == post.id and "13900000000" not in str(item)


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "data, error, field",
    [
        ({}, Invalid, "service_code"),
        ({"service_code": ""}, Invalid, "service_code"),
        ({"service_code": "forum", "description": "x"}, NotFound, None),
        ({"service_code": ["tax"], "description": "x"}, NotFound, None),
        ({"service_code": "tax"}, Invalid, "description"),
        ({"service_code": "tax", "description": "  "}, Invalid, "description"),
        ({"service_code": "tax", "description": "x" * 4001}, Invalid, "description"),
        ({"service_code": "tax", "description": "x\x00y"}, Invalid, "description"),
        ({"service_code": "tax", "description": "x", "public": "true"}, Invalid, "public"),
        ({"service_code": "tax", "description": "x", "public": "maybe"}, Invalid, "public"),
        ({"service_code": "tax", "description": "x", "lat": "24.3"}, Invalid, "long"),
        ({"service_code": "tax", "description": "x", "lat": "north", "long": "1"}, Invalid, "lat"),
        ({"service_code": "tax", "description": "x", "lat": "91", "long": "1"}, Invalid, "lat"),
        ({"service_code": "tax", "description": "x", "email": "not-mail"}, Invalid, "email"),
        ({"service_code": "tax", "description": "x", "phone": "call me"}, Invalid, "phone"),
        (
            {"service_code": "tax", "description": "x", "first_name": "名" * 21},
            Invalid,
            "first_name",
        ),
        (
            {
                "service_code": "tax",
                "description": "x",
                "email": "a" * 90 + "@example.cn",
                "last_name": "张",
            },
            Invalid,
            "email",
        ),
    ],
)
async def test_bad_requests_are_refused_and_nothing_is_stored(store, data, error, field):
    key = await issued_key(store)
    with pytest.raises(error) as caught:
        await open311.create_request(store, {"api_key": key.key, **data})
    if field:
        assert field in caught.value.fields
    assert await store.list_posts(PostFilter(), None, 10) == []


@pytest.mark.gen_test
async def test_hostile_text_is_kept_as_text_and_never_becomes_markup(store):
    key = await issued_key(store)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>\n[点我](javascript:alert(1))'
    (answer,) = await open311.create_request(
        store, {"api_key": key.key, "service_code": "tax", "description": hostile}
    )
    post = await tracking.case_by_code(store, answer["token"])
    assert post.body == hostile and post.title.startswith("<script>")
    assert "<script" not in post.html and "<img" not in post.html
    assert "&lt;script&gt;" in post.html and "href" not in post.html


@pytest.mark.gen_test
async def test_posts_are_rate_limited_per_key(store):
    key, other = await issued_key(store, "甲"), await issued_key(store, "乙")
    report = {"service_code": "tax", "description": "虚开发票"}
    for _ in range(throttle.OPEN311_POSTS_PER_KEY.count):
        await open311.create_request(store, {**report, "api_key": key.key})
    with pytest.raises(RateLimited):
        await open311.create_request(store, {**report, "api_key": key.key})
    await open311.create_request(store, {**report, "api_key": other.key})


@pytest.mark.gen_test
async def test_a_closed_board_refuses_posts_as_a_plain_error(store):
    key = await issued_key(store)
    root = await store.get_user_by_name("root")
    await admin.update_board(store, root, "tax", {"is_open": False})
    with pytest.raises(Forbidden) as caught:
        await open311.create_request(
            store, {"api_key": key.key, "service_code": "tax", "description": "虚开发票"}
        )
    assert caught.value.code != open311.KEY_REFUSED
