"""Each use case is one unit of work: a store that fails at any one of its writes leaves
nothing of it behind (no status without its event and audit entry, no post without its search
entry, no notice of a step that did not happen), and the same use case then succeeds whole.

Over SQLite, and over MongoDB when FORUM_TEST_MONGODB_URI names a real replica set (the
in-process stand-in has no transactions to roll back)."""
from __future__ import annotations

import dataclasses
import functools

import pytest

from forum.errors import StoreUnavailable
from forum.model import PostFilter, Role, Status
from forum.services import cases, consulting, moderation, posting, setup
from tests.support import stores
from tests.support.faults import FailingStore
from tests.support.people import person
from tests.support.outbox import take_all_mail

LETTER = {"title": "小区门口路灯不亮", "body": "已经一个月了", "category": "城乡建设",
          "contact": "13812345678", "public": True}


@pytest.fixture(params=["sqlite"] + (["mongodb"] if stores.MONGO_URI else []))
def real_store(request, io_loop, tmp_path):
    store = stores.make(request.param, tmp_path)
    io_loop.run_sync(store.open)
    io_loop.run_sync(lambda: setup.prepare_store(store))
    yield store
    io_loop.run_sync(lambda: stores.dispose(store))


@dataclasses.dataclass
class Snapshot:
    posts: list[tuple[str, Status, int]]
    events: int
    audit: int
    unread: dict[str, int]
    searchable: int


async def snapshot(store, people, post_ids) -> Snapshot:
    posts = [(p.id, p.status, p.reply_count)
             for p in await store.list_posts(PostFilter(), None, 100)]
    events = sum([len(await store.list_events(i)) for i in post_ids])
    audit = len(await store.list_audit(actor_id=None, target=None, after=None, limit=100))
    unread = {u.username: await store.count_unread(u.id) for u in people}
    searchable = len(await store.search_posts(["路灯", "化肥"], [PostFilter()], 0, 100))
    return Snapshot(sorted(posts), events, audit, unread, searchable)


async def cast(store):
    return (await person(store, "writer"), await person(store, "mod", Role.MODERATOR),
            await person(store, "clerk", Role.STAFF, department="housing"),
            await person(store, "lawyer", Role.LAWYER))


async def check_use_case(store, prepare, act):
    """`prepare(store)` makes the state and returns the post ids to watch; `act(store, ids)`
    is the use case. For k = 1 .. its number of writes, a run failing at write k changes
    nothing; a run without a fault then succeeds."""
    people = await cast(store)
    post_ids = await prepare(store, people)
    before = await snapshot(store, people, post_ids)
    k = 1
    while True:
        failing = FailingStore(store, fail_at=k)
        try:
            await act(failing, people, post_ids)
        except StoreUnavailable:
            assert await snapshot(store, people, post_ids) == before, f"fault at write {k}"
            assert await take_all_mail(store) == [], f"mail kept after a fault at write {k}"
            k += 1
            continue
        break   # the use case made fewer than k writes: it ran whole
    assert await snapshot(store, people, post_ids) != before
    return k - 1   # the writes it made, each of which was failed once


async def letter(store, people, *, route=False, reply=False):
    writer, mod, clerk, _ = people
    view = await posting.create_post(store, writer, "mayor", LETTER)
    if route or reply:
        await moderation.moderate(store, mod, view.post.id, "accept")
        await cases.route_case(store, mod, view.post.id, "housing", 5)
    if reply:
        await posting.add_reply(store, clerk, view.post.id, "已安排维修")
    return [view.post.id]


routed_letter = functools.partial(letter, route=True)
replied_letter = functools.partial(letter, reply=True)


@pytest.mark.gen_test
async def test_creating_a_post_stores_it_with_its_event_and_search_entry_or_nothing(real_store):
    async def act(store, people, ids):
        await posting.create_post(store, people[0], "forum", {"title": "路灯不亮", "body": "化肥"})
    assert await check_use_case(real_store, prepare_nothing, act) >= 2


async def prepare_nothing(store, people):
    return []


@pytest.mark.gen_test
async def test_accepting_a_case_stores_status_event_audit_and_notice_or_nothing(real_store):
    async def act(store, people, ids):
        await moderation.moderate(store, people[1], ids[0], "accept")
    assert await check_use_case(real_store, letter, act) >= 3


@pytest.mark.gen_test
async def test_routing_stores_status_event_audit_and_both_notices_or_nothing(real_store):
    async def prepare(store, people):
        ids = await letter(store, people)
        await moderation.moderate(store, people[1], ids[0], "accept")
        return ids

    async def act(store, people, ids):
        await cases.route_case(store, people[1], ids[0], "housing", 5)
    assert await check_use_case(real_store, prepare, act) >= 4


@pytest.mark.gen_test
async def test_an_official_reply_stores_reply_status_event_audit_and_notice_or_nothing(
        real_store):
    async def act(store, people, ids):
        await posting.add_reply(store, people[2], ids[0], "已安排维修")
    assert await check_use_case(real_store, routed_letter, act) >= 3


@pytest.mark.gen_test
async def test_a_rating_stores_status_event_and_notice_or_nothing(real_store):
    async def act(store, people, ids):
        await cases.rate_case(store, people[0], ids[0], "unsatisfied", "没修好")
    assert await check_use_case(real_store, replied_letter, act) >= 1


@pytest.mark.gen_test
async def test_returning_a_case_stores_status_event_audit_and_notice_or_nothing(real_store):
    async def act(store, people, ids):
        await cases.return_case(store, people[2], ids[0], "不属于本部门")
    assert await check_use_case(real_store, routed_letter, act) >= 3


@pytest.mark.gen_test
async def test_accepting_an_answer_stores_status_event_and_mark_or_nothing(real_store):
    async def prepare(store, people):
        writer, _, _, lawyer = people
        view = await posting.create_post(store, writer, "lawyer",
                                         {"title": "化肥买到假货", "body": "怎么维权"})
        await posting.add_reply(store, lawyer, view.post.id, "可以向市场监管部门投诉")
        return [view.post.id]

    async def act(store, people, ids):
        reply = (await store.list_replies(ids[0]))[0]
        await consulting.accept_answer(store, people[0], ids[0], reply.id)
    assert await check_use_case(real_store, prepare, act) >= 1


@pytest.mark.gen_test
async def test_hiding_a_post_stores_status_event_audit_and_notice_or_nothing(real_store):
    async def prepare(store, people):
        view = await posting.create_post(store, people[0], "forum",
                                         {"title": "路灯不亮", "body": "化肥"})
        return [view.post.id]

    async def act(store, people, ids):
        await moderation.moderate(store, people[1], ids[0], "hide", "广告")
    assert await check_use_case(real_store, prepare, act) >= 3
