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

LETTER = {
    "title": "小区门口路灯不亮",
    "body": "已经一个月了",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13812345678",
    "public": True,
}


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
    posts = [
        (p.id, p.status, p.reply_count) for p in await store.list_posts(PostFilter(), None, 100)
    ]
    events = sum([len(await store.list_events(i)) for i in post_ids])
    audit = len(await store.list_audit(actor_id=None, target=None, after=None, limit=100))
    unread = {u.username: await store.count_unread(u.id) for u in people}
    searchable = len(await store.search_posts(["路灯", "化肥"], [PostFilter()], 0, 100))
    return Snapshot(sorted(posts), events, audit, unread, searchable)


async def cast(store):
    return (
        await person(store, "writer"),
        await person(store, "mod", Role.MODERATOR),
        await person(store, "clerk", Role.STAFF, department="housing"),
        await person(store, "lawyer", Role.LAWYER),
    )


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
        break  # the use case made fewer than k writes: it ran whole
    assert await snapshot(store, people, post_ids) != before
    return k - 1  # the writes it made, each of which was failed once


async def letter(store, people, *, route=False, reply=False):
    writer, mod, clerk, _ = people
    view = await posting.create_post(store, writer, "mayor", LETTER)
    if route or reply:
        await moderation.moderate(store, mod, view.post.id, "accept")
        await cases.route_case(store, mod, view.post.id, "housing", 5)
    if reply:
        await posting.add_reply(store, clerk, view.post.id, "已安排维修")
    return [view.post.id]


async def prepare_nothing(store, people):
    return []


async def accepted_letter(store, people):
    ids = await letter(store, people)
    await moderation.moderate(store, people[1], ids[0], "accept")
    return ids


async def answered_question(store, people):
    writer, _, _, lawyer = people
    view = await posting.create_post(
        store, writer, "lawyer", {"title": "化肥买到假货", "body": "怎么维权"}
    )
    await posting.add_reply(store, lawyer, view.post.id, "可以向市场监管部门投诉")
    return [view.post.id]


async def forum_post(store, people):
    view = await posting.create_post(
        store, people[0], "forum", {"title": "路灯不亮", "body": "化肥"}
    )
    return [view.post.id]


async def accept_best_answer(store, people, ids):
    reply = (await store.list_replies(ids[0]))[0]
    await consulting.accept_answer(store, people[0], ids[0], reply.id)


# (what the use case stores, the state it starts from, the use case, its fewest writes);
# people are (writer, moderator, housing clerk, lawyer).
USE_CASES = [
    (
        "a post with its event and search entry",
        prepare_nothing,
        lambda store, people, ids: posting.create_post(
            store, people[0], "forum", {"title": "路灯不亮", "body": "化肥"}
        ),
        2,
    ),
    (
        "accepting: status, event, audit, notice",
        letter,
        lambda store, people, ids: moderation.moderate(store, people[1], ids[0], "accept"),
        3,
    ),
    (
        "routing: status, event, audit, both notices",
        accepted_letter,
        lambda store, people, ids: cases.route_case(store, people[1], ids[0], "housing", 5),
        4,
    ),
    (
        "an official reply: reply, status, event, audit, notice",
        functools.partial(letter, route=True),
        lambda store, people, ids: posting.add_reply(store, people[2], ids[0], "已安排维修"),
        3,
    ),
    (
        "a rating: status, event, notice",
        functools.partial(letter, reply=True),
        lambda store, people, ids: cases.rate_case(
            store, people[0], ids[0], "unsatisfied", "没修好"
        ),
        1,
    ),
    (
        "a return: status, event, audit, notice",
        functools.partial(letter, route=True),
        lambda store, people, ids: cases.return_case(store, people[2], ids[0], "不属于本部门"),
        3,
    ),
    ("accepting an answer: status, event, mark", answered_question, accept_best_answer, 1),
    (
        "hiding: status, event, audit, notice",
        forum_post,
        lambda store, people, ids: moderation.moderate(store, people[1], ids[0], "hide", "广告"),
        3,
    ),
]


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "stored, prepare, act, fewest", USE_CASES, ids=[case[0] for case in USE_CASES]
)
async def test_a_use_case_stores_all_of_itself_or_nothing(real_store, stored, prepare, act, fewest):
    assert await check_use_case(real_store, prepare, act) >= fewest
