"""The tax board explains how to report and to follow a report, with the tracking form; the
holder of a tracking code adds information and evidence to the open case (补充材料)."""

from __future__ import annotations

import re

import pytest

from forum.model import ReplyKind, Role, Status
from forum.services import throttle
from tests.support import files
from tests.support.people import person
from tests.support.web import Browser, multipart


async def send(browser, path, fields, uploads=()):
    fields = {**fields, "_xsrf": await browser.xsrf()}
    body, content_type = multipart([("files", n, d) for n, d in uploads], fields)
    return await browser.request("POST", path, body, {"Content-Type": content_type})


async def report(visitor, title="虚开发票"):
    """An anonymous tax report; its post id and tracking code."""
    sent = await send(visitor, "/boards/tax/new", {"title": title, "body": "某公司虚开发票"})
    assert sent.status == 303
    shown = await visitor.follow(sent)
    return re.search(r'<code id="tracking-code">([^<]+)</code>', shown.text).group(1)


async def case_of(store, code):
    from forum.services import tracking

    return await tracking.case_by_code(store, code)


@pytest.mark.gen_test
async def test_the_tax_board_explains_reporting_and_tracking(http_client, base_url, store):
    page = await Browser(http_client, base_url).get("/boards/tax")
    assert page.status == 200
    assert "如何举报" in page.text and "无需注册或登录" in page.text and "保密" in page.text
    assert "查询码" in page.text and "只显示这一次" in page.text
    assert re.search(r'<form method="post" action="/track"[^>]*>', page.text)
    assert 'name="code"' in page.text and 'name="_xsrf"' in page.text
    assert "我的主页" not in page.text.split("<main", 1)[-1]
    await person(store, "reporter")
    member = Browser(http_client, base_url)
    await member.log_in("reporter")
    mine = await member.get("/boards/tax")
    assert "您登录后提交的举报也可以在“我的主页”查看" in mine.text
    # The form on the board looks up as /track does.
    wrong = await member.submit("/track", {"code": "AAAAAAAAAAAAAAAA"})
    assert wrong.status == 404
    english = await Browser(http_client, base_url).get("/boards/tax?lang=en_US")
    assert english.status == 200


@pytest.mark.gen_test
async def test_a_code_holder_adds_information_and_evidence(http_client, base_url, store):
    visitor = Browser(http_client, base_url)
    code = await report(visitor)
    shown = await visitor.submit("/track", {"code": code})
    assert shown.status == 200 and 'action="/track/supplement"' in shown.text
    added = await send(
        visitor,
        "/track/supplement",
        {"code": code, "body": "补充：还有收据"},
        [("收据.png", files.png())],
    )
    assert added.status == 303 and added.headers["Location"] == "/track"
    assert code not in added.headers["Location"]
    back = await visitor.follow(added)
    assert back.status == 200 and "补充材料已提交" in back.text and "补充：还有收据" in back.text
    assert back.headers["Cache-Control"] == "no-store"
    post = await case_of(store, code)
    replies = await store.list_replies(post.id)
    assert [(r.kind, r.body, r.author_id) for r in replies] == [
        (ReplyKind.FOLLOW_UP, "补充：还有收据", None)
    ]
    assert [a.filename for a in await store.list_attachments(post.id)] == ["收据.png"]
    assert (await store.get_post(post.id)).status is Status.SUBMITTED
    # The moderators see it on the case.
    await person(store, "mod", Role.MODERATOR)
    mod = Browser(http_client, base_url)
    await mod.log_in("mod")
    case_page = await mod.get(f"/posts/{post.id}")
    assert "补充：还有收据" in case_page.text and "/attachments/" in case_page.text
    # Bad input shows the case again with the error, and adds nothing.
    empty = await send(visitor, "/track/supplement", {"code": code, "body": ""})
    assert empty.status == 422 and 'aria-invalid="true"' in empty.text
    too_many = await send(
        visitor,
        "/track/supplement",
        {"code": code, "body": "更多"},
        [(f"{n}.png", files.png()) for n in range(5)],
    )
    assert too_many.status == 422 and "每件最多 5 个附件" in too_many.text
    assert len(await store.list_replies(post.id)) == 1
    assert len(await store.list_attachments(post.id)) == 1


@pytest.mark.gen_test
async def test_a_wrong_code_adds_nothing_and_a_closed_case_refuses(http_client, base_url, store):
    visitor = Browser(http_client, base_url)
    code = await report(visitor)
    post = await case_of(store, code)
    wrong = await send(
        visitor, "/track/supplement", {"code": "AAAA-AAAA-AAAA-AAAA", "body": "冒充"}
    )
    assert wrong.status == 404 and "查询码无效" in wrong.text
    in_url = await visitor.submit(f"/track/{code}", {"body": "不走表单"})
    assert in_url.status == 404
    assert await store.list_replies(post.id) == []
    await person(store, "mod", Role.MODERATOR)
    mod = Browser(http_client, base_url)
    await mod.log_in("mod")
    rejected = await mod.submit(
        f"/posts/{post.id}/moderate", {"action": "reject", "reason": "不属于涉税事项"}
    )
    assert rejected.status == 303
    shown = await visitor.submit("/track", {"code": code})
    assert shown.status == 200 and 'action="/track/supplement"' not in shown.text
    closed = await send(
        visitor, "/track/supplement", {"code": code, "body": "还有"}, [("a.png", files.png())]
    )
    assert closed.status == 409
    assert await store.list_replies(post.id) == []
    assert await store.list_attachments(post.id) == []


@pytest.mark.gen_test(timeout=60)
async def test_supplements_count_under_the_look_up_limit(http_client, base_url, store):
    visitor = Browser(http_client, base_url)
    code = await report(visitor)
    limit = throttle.TRACKING_PER_ADDRESS.count
    statuses = []
    for n in range(limit + 3):
        statuses.append(
            (
                await send(
                    visitor, "/track/supplement", {"code": "AAAA-AAAA-AAAA-AAAA", "body": f"猜{n}"}
                )
            ).status
        )
    assert statuses == [404] * limit + [429] * 3
    refused = await send(visitor, "/track/supplement", {"code": code, "body": "对的码"})
    assert refused.status == 429
    assert await store.list_replies((await case_of(store, code)).id) == []


@pytest.mark.gen_test
async def test_a_code_makes_its_holder_the_writer_only_for_a_follow_up(
    http_client, base_url, store
):
    from forum.errors import Forbidden
    from forum.services.presenting import step

    visitor = Browser(http_client, base_url)
    post = await case_of(store, await report(visitor))
    assert step(post, "follow_up", None, holds_code=True) is Status.SUBMITTED
    for action in ("accept", "reject", "rate_satisfied", "official"):
        with pytest.raises(Forbidden):
            step(post, action, None, holds_code=True)
    with pytest.raises(Forbidden):
        step(post, "follow_up", None)


@pytest.mark.gen_test(timeout=60)
async def test_supplements_at_once_add_only_up_to_the_limit(http_server, base_url, store):
    """Fired together with the right code, only the limit's count land (each also a look-up)."""
    import asyncio
    import collections

    from tornado.httpclient import AsyncHTTPClient

    client = AsyncHTTPClient(force_instance=True, max_clients=100)
    try:
        visitor = Browser(client, base_url)
        code = await report(visitor)
        limit = throttle.TRACKING_PER_ADDRESS.count
        answers = await asyncio.gather(
            *(
                send(visitor, "/track/supplement", {"code": code, "body": f"补充{n}"})
                for n in range(limit + 20)
            )
        )
        statuses = collections.Counter(answer.status for answer in answers)
        assert statuses == {303: limit, 429: 20}
        post = await case_of(store, code)
        assert len(await store.list_replies(post.id)) == limit
    finally:
        client.close()
