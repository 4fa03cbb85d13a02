"""The demo loader (forum/ops/demo/): a year of content made through the services, bulk posts
for benchmarks, and the command that refuses to load twice.

The demo is loaded once for the module, small (DEMO_SCALE: at least one story of each outcome),
into an SQLite file that each test copies."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import io
import random
import shutil

import pytest

from forum import search, text
from forum.clock import now
from forum.model import PostFilter, ReplyKind, Role, Status
from forum.ops.demo.bulk import TextPool, add_bulk_posts
from forum.ops.demo.command import demo_command, describe
from forum.ops.demo.loading import DEMO_ADMIN, Loaded, database_state, load_demo
from forum.ops.demo.words.letters import REPLY_TEMPLATES
from forum.services import accounts, posting, searching, stats, tracking
from forum.services.setup import prepare_store
from forum.store import open_store
from tests.support import stores
from tests.support.apps import TEST_PASSWORDS

DEMO_SCALE = 0.1

# Every status each board's lifecycle has, as the demo must show them.
STATUSES = {
    "forum": {Status.PUBLISHED, Status.PENDING, Status.HIDDEN},
    "lawyer": {Status.OPEN, Status.ANSWERED, Status.RESOLVED, Status.HIDDEN},
    "agri": {Status.OPEN, Status.ANSWERED, Status.RESOLVED},
    "mayor": {
        Status.SUBMITTED,
        Status.ACCEPTED,
        Status.ROUTED,
        Status.REPLIED,
        Status.CLOSED,
        Status.REJECTED,
        Status.UNRATED,
    },
    "tax": {
        Status.SUBMITTED,
        Status.ACCEPTED,
        Status.ROUTED,
        Status.REPLIED,
        Status.CLOSED,
        Status.REJECTED,
    },
    "hotline": {Status.PUBLISHED, Status.HIDDEN},
}


async def load(store) -> Loaded:
    await prepare_store(store)
    return await load_demo(store, TEST_PASSWORDS, scale=DEMO_SCALE)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    """An SQLite database holding the small demo, and what load_demo said of it."""
    folder = tmp_path_factory.mktemp("demo")

    async def make() -> Loaded:
        store = open_store(f"sqlite:///{folder / 'forum.db'}")
        try:
            return await load(store)
        finally:
            await store.close()

    return folder, asyncio.run(make())


@pytest.fixture
def demo_store(demo_file, tmp_path, io_loop):
    """A copy of the demo database, opened."""
    folder, loaded = demo_file
    shutil.copytree(folder, tmp_path / "demo")
    store = open_store(f"sqlite:///{tmp_path / 'demo' / 'forum.db'}")
    io_loop.run_sync(lambda: prepare_store(store))
    yield store, loaded
    io_loop.run_sync(store.close)


async def every_post(store, where=PostFilter()):
    found, after = [], None
    while True:
        batch = await store.list_posts(where, after, 500)
        found += batch
        if len(batch) < 500:
            return found
        after = (batch[-1].created_at, batch[-1].id)


def statuses_by_board(posts):
    seen = collections.defaultdict(set)
    for post in posts:
        seen[post.board].add(post.status)
    return seen


@pytest.mark.gen_test(timeout=60)
async def test_demo_has_every_status_of_every_board_spread_over_a_year(demo_store):
    store, loaded = demo_store
    posts = await every_post(store)
    assert loaded.posts == len(posts)
    seen = statuses_by_board(posts)
    for board, wanted in STATUSES.items():
        assert wanted <= seen[board], board
    cases_ = [p for p in posts if p.board in ("mayor", "tax")]
    closed = [p for p in cases_ if p.status is Status.CLOSED]
    assert {p.rating for p in closed} >= {"satisfied", "basically_satisfied", "unsatisfied"}
    # A case nobody rated closes as 未评价, never as closed with no rating.
    assert all(p.rating is None for p in cases_ if p.status is Status.UNRATED)
    assert any(p.reopened and p.status is Status.ACCEPTED for p in cases_)  # reopened, waiting
    assert all(p.status_note for p in cases_ if p.status is Status.REJECTED)
    at = now()
    overdue = [p for p in cases_ if p.status is Status.ROUTED and p.due_at < at]
    assert overdue and all(p.overdue_since is not None for p in overdue)
    assert any(p.pinned for p in posts) and any(p.locked for p in posts)
    assert any(p.anonymous for p in posts if p.board == "lawyer")

    # Backdated through the services' clock: the posts, their events and replies alike.
    assert min(p.created_at for p in posts) < at - dt.timedelta(days=300)
    assert max(p.updated_at for p in posts) <= at
    for post in posts[::7]:
        events = await store.list_events(post.id)
        assert events[0].action == "create" and events[0].at == post.created_at
        assert all(e.at <= at for e in events)
        assert all(r.created_at >= post.created_at for r in await store.list_replies(post.id))


@pytest.mark.gen_test(timeout=60)
async def test_demo_people_hold_every_role_and_log_in_with_the_printed_password(demo_store):
    store, loaded = demo_store
    for role in Role:
        assert await store.list_users(role=role, department=None, limit=5), role
    for role in (Role.LAWYER, Role.EXPERT):
        assert all(
            u.specialties for u in await store.list_users(role=role, department=None, limit=10)
        )
    assert len(await store.list_users(role=Role.STAFF, department="tax", limit=5)) == 2
    login = await accounts.login(
        store, TEST_PASSWORDS, username=DEMO_ADMIN, password=loaded.password, kind="bearer"
    )
    assert login.user.has(Role.ADMIN)
    printed = describe(loaded)
    assert loaded.password in printed and "lawyer_wangjg" in printed and "hongta_laowang" in printed
    assert await store.list_audit(actor_id=login.user.id, target=None, after=None, limit=5)
    # What reached people as they were answered and their cases moved on.
    unread = [
        await store.count_unread(user.id)
        for user in await store.list_users(role=Role.CITIZEN, department=None, limit=100)
    ]
    assert sum(unread) > 0
    assert await database_state(store) == "demo"


@pytest.mark.gen_test(timeout=60)
async def test_demo_statistics_search_masking_and_tracking_work_on_the_content(demo_store):
    store, loaded = demo_store
    report = await stats.report(store)
    busy = [month for month, figures in report.months.items() if figures.received]
    assert len(busy) >= 4
    assert sum(1 for figures in report.months.values() if figures.closed) >= 3
    mayor = report.boards["mayor"]
    assert mayor.accepted and mayor.replied and mayor.closed and mayor.overdue
    assert 0 < mayor.as_dict()["completion_rate"] < 1

    for query in ("论坛", "希望", "玉溪"):
        assert (await searching.search_posts(store, None, query)).items, query
    moderator = await store.get_user_by_name("xfj_zhangmin")
    reports = await searching.search_posts(store, moderator, "发票", board="tax")
    assert (
        reports.items and not (await searching.search_posts(store, None, "发票", board="tax")).items
    )

    # A phone number in a public question or letter is masked for the public only.
    public = {
        Status.OPEN,
        Status.ANSWERED,
        Status.RESOLVED,
        Status.ACCEPTED,
        Status.ROUTED,
        Status.REPLIED,
        Status.CLOSED,
    }
    phoned = [
        p
        for p in await every_post(store, PostFilter(boards=("lawyer", "agri", "mayor")))
        if "0877" in p.body and p.status in public and (p.public or p.board != "mayor")
    ]
    assert phoned
    thread = await posting.get_thread(store, None, phoned[0].id)
    assert "****" in thread.post.post.body and "0877" not in thread.post.post.html

    title, code = loaded.tracking_codes[0]
    tracked = await tracking.track(store, code, "192.0.2.1")
    assert tracked.post.post.title == title and tracked.post.post.author_id is None


@pytest.mark.gen_test(timeout=60)
async def test_demo_exercises_every_casework_step_of_the_second_release(demo_store):
    store, _ = demo_store
    cases_ = await every_post(store, PostFilter(boards=("mayor", "tax")))
    by_id = {p.id: p for p in cases_}
    merged = [p for p in cases_ if p.status is Status.MERGED]
    assert merged and all(by_id[p.merged_into].created_at < p.created_at for p in merged)
    assert any(p.status is Status.UNRATED for p in cases_)
    assert any(p.extended for p in cases_)
    assert {p.extension_status for p in cases_} >= {"approved", "refused"}
    assert sum(p.extension_status == "refused" for p in cases_) == 1
    assert any(p.helpers for p in cases_)
    assert any(p.officer_id for p in cases_)
    county = [p for p in cases_ if (p.department or "").startswith("gov-")]
    assert county and all(p.department == f"gov-{p.area}" for p in county)
    callbacks = [e for p in cases_ for e in p.ratings if e["source"] == "callback"]
    assert {e["reached"] for e in callbacks} == {True, False}
    assert any(e["score"] == "unsatisfied" for e in callbacks)
    actions = collections.Counter()
    notes = 0
    for post in cases_:
        actions.update(e.action for e in await store.list_events(post.id))
        notes += sum(r.kind is ReplyKind.INTERNAL for r in await store.list_replies(post.id))
    assert notes > 0
    for action in (
        "assign",
        "extension_request",
        "extension_decide",
        "urge",
        "supervise",
        "remind",
        "callback",
        "callback_reopen",
        "merge",
    ):
        assert actions[action] > 0, action
    # Supervised by a moderator (with a reason) and by the clock (none).
    supervised = [
        e for p in cases_ for e in await store.list_events(p.id) if e.action == "supervise"
    ]
    assert {e.actor_id is None for e in supervised} == {True, False}

    # Followers: of boards, departments and posts; a merged letter's writer follows the case
    # it joined when they may see it.
    subscriptions = collections.Counter()
    for user in await store.list_users(role=Role.CITIZEN, department=None, limit=100):
        page = await store.list_subscriptions(user.id, None, 100)
        subscriptions.update(s.target.split(":")[0] for s in page)
    assert subscriptions["board"] and subscriptions["department"] and subscriptions["post"]
    joined = [by_id[p.merged_into] for p in merged]
    assert any(j.public for j in joined)
    for post, case in zip(merged, joined):
        if case.public:
            followed = await store.list_subscriptions(post.author_id, None, 100)
            assert f"post:{case.id}" in {s.target for s in followed}


@pytest.mark.gen_test
async def test_demo_departments_keep_templates_and_boards_show_faq(demo_store):
    store, _ = demo_store
    assert len(await store.list_templates("housing")) == len(REPLY_TEMPLATES)
    for slug in ("lawyer", "agri", "mayor"):
        entries = await store.list_faq(slug, None, 10)
        assert entries, slug
        for entry in entries:
            post = await store.get_post(entry.post_id)
            assert post.board == slug and entry.question == post.title
    assert await store.list_faq("tax", None, 10) == []


@pytest.mark.gen_test(timeout=60)
async def test_bulk_posts_are_listed_and_searchable(demo_store):
    store, _ = demo_store
    before = len(await every_post(store, PostFilter(board="forum")))
    seen = []
    added = await add_bulk_posts(
        store, 2000, batch=300, progress=lambda done, total: seen.append((done, total))
    )
    assert added == 2000
    assert seen[-1] == (2000, 2000) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    forum = await every_post(store, PostFilter(board="forum"))
    assert len(forum) == before + 2000
    bulk = [
        p for p in forum if p.status is Status.PUBLISHED and not p.pinned and p.reply_count == 0
    ]
    assert len(bulk) >= 2000
    at = now()
    assert all(at - dt.timedelta(days=366) < p.created_at <= at for p in forum)
    page = await posting.list_posts(store, None, "forum")
    assert len(page.items) == 20 and page.next_cursor
    found = await searching.search_posts(store, None, "充电桩", board="forum")
    assert found.items and all(
        "充电桩" in r.view.post.title + r.view.post.body for r in found.items
    )


def test_bulk_texts_have_the_terms_and_html_the_services_would_give(segmenter):
    rng = random.Random(5)
    pool = TextPool(rng)
    posts, terms = pool.posts(rng, [now()] * 200, ["a" * 24])
    for post, post_terms in zip(posts, terms):
        assert sorted(post_terms) == sorted(search.terms_for(post.title, post.body))
        assert post.html == text.render(post.body)
    assert len({post.title for post in posts}) > 150


@pytest.mark.gen_test(timeout=60)
async def test_demo_command_refuses_a_second_load_unless_forced(demo_file, tmp_path):
    folder, _ = demo_file
    shutil.copytree(folder, tmp_path / "demo")
    url = f"sqlite:///{tmp_path / 'demo' / 'forum.db'}"
    out = io.StringIO()
    assert await demo_command(url, 0, False, passwords=TEST_PASSWORDS, out=out) == 1
    assert await demo_command(url, 50, False, passwords=TEST_PASSWORDS, out=out) == 1
    store = open_store(url)
    await prepare_store(store)
    try:
        forum_before = len(await every_post(store, PostFilter(board="forum")))
    finally:
        await store.close()
    # Forced: the demo content is there already, so only the bulk posts are added.
    assert await demo_command(url, 50, True, passwords=TEST_PASSWORDS, out=out) == 0
    assert "added 50 forum posts" in out.getvalue()
    store = open_store(url)
    await prepare_store(store)
    try:
        assert len(await every_post(store, PostFilter(board="forum"))) == forum_before + 50
    finally:
        await store.close()


@pytest.mark.gen_test(timeout=60)
async def test_demo_command_refuses_a_database_with_other_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'forum.db'}"
    store = open_store(url)
    await prepare_store(store)
    try:
        await accounts.create_user(store, TEST_PASSWORDS, username="someone", password="x" * 12)
        assert await database_state(store) == "data"
    finally:
        await store.close()
    assert await demo_command(url, 0, False, passwords=TEST_PASSWORDS) == 1


@pytest.mark.gen_test(timeout=90)
async def test_demo_and_bulk_posts_load_into_mongodb_too(io_loop, tmp_path):
    store = stores.make("mongodb", tmp_path)
    try:
        await load(store)
        seen = statuses_by_board(await every_post(store))
        for board, wanted in STATUSES.items():
            assert wanted <= seen[board], board
        before = len(await every_post(store, PostFilter(board="forum")))
        await add_bulk_posts(store, 300, batch=100)
        assert len(await every_post(store, PostFilter(board="forum"))) == before + 300
        assert (await searching.search_posts(store, None, "停车难")).items
        answered = [
            (await store.reply_stats(user.id, ReplyKind.ANSWER)).total
            for user in await store.list_users(role=Role.LAWYER, department=None, limit=10)
        ]
        assert sum(answered) > 0
    finally:
        await stores.dispose(store)


@pytest.mark.gen_test(timeout=60)
async def test_no_board_of_the_demo_lists_one_title_twice(demo_store):
    store, _ = demo_store
    titles = collections.Counter((p.board, p.title) for p in await every_post(store))
    assert [key for key, count in titles.items() if count > 1] == []
