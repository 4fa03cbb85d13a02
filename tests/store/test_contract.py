"""The store contract: every adapter must pass every test here (see conftest's any_store)."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import hashlib

import pytest

from forum.clock import SYSTEM_CLOCK, now
from forum.errors import Conflict, NotFound
from forum.model import (
    ApiKey,
    Attachment,
    AuditEntry,
    BoardSettings,
    Department,
    Event,
    FaqEntry,
    Flag,
    Mail,
    Notification,
    Post,
    PostFilter,
    Reply,
    ReplyKind,
    ReplyStats,
    ReplyTemplate,
    Revision,
    Role,
    Session,
    Status,
    Subscription,
    User,
    new_id,
)
from forum.store.base import RECORD_KINDS, TRANSIENT_KINDS, record_key
from forum.store.codec import to_plain
from tests.support import stores

# The suite's moment is today, not a calendar date: the stores keep some records against the real
# clock (MongoDB's TTL index expires throttling hits a day after they were made), so a fixed date
# would pass when written and fail once it is a day old.
T0 = SYSTEM_CLOCK.now()


def make_user(name="alice", **extra) -> User:
    return User(
        id=new_id(),
        username=name,
        display_name=extra.pop("display_name", name.title()),
        password_hash="$argon2id$fake",
        created_at=T0,
        **extra,
    )


def make_post(board="forum", at=T0, **extra) -> Post:
    return Post(
        id=extra.pop("id", new_id()),
        board=board,
        title=extra.pop("title", "标题"),
        body="正文",
        html="<p>正文</p>",
        author_id=extra.pop("author_id", None),
        status=extra.pop("status", Status.PUBLISHED),
        created_at=at,
        updated_at=at,
        **extra,
    )


def event_for(post_id, action="create", at=T0) -> Event:
    return Event(
        id=new_id(),
        post_id=post_id,
        at=at,
        actor_id=None,
        action=action,
        from_status=None,
        to_status="published",
        note="",
    )


def make_reply(post_id, at=T0, **extra) -> Reply:
    return Reply(
        id=new_id(),
        post_id=post_id,
        author_id=extra.pop("author_id", None),
        body="回复",
        html="<p>回复</p>",
        kind=extra.pop("kind", ReplyKind.ANSWER),
        created_at=at,
        **extra,
    )


def at_minutes(*minutes) -> list[dt.datetime]:
    return [T0 + dt.timedelta(minutes=m) for m in minutes]


def ids(records) -> list[str]:
    return [record.id for record in records]


# departments and boards ----------------------------------------------------------------------
@pytest.mark.gen_test
async def test_departments_are_ensured_once_and_listed_by_slug(any_store):
    await any_store.ensure_departments(
        [Department("tax", "税务局"), Department("agri", "农业农村局")]
    )
    await any_store.ensure_departments([Department("tax", "改名"), Department("hrss", "人社局")])
    assert [(d.slug, d.name) for d in await any_store.list_departments()] == [
        ("agri", "农业农村局"),
        ("hrss", "人社局"),
        ("tax", "税务局"),
    ]


@pytest.mark.gen_test
async def test_add_department_refuses_a_taken_slug(any_store):
    await any_store.add_department(Department("police", "公安局"))
    with pytest.raises(Conflict):
        await any_store.add_department(Department("police", "另一个"))
    assert len(await any_store.list_departments()) == 1


@pytest.mark.gen_test
async def test_board_settings_keep_admin_changes_across_ensure(any_store):
    forum = BoardSettings(slug="forum", name="强市论坛", categories=["城建", "交通"])
    await any_store.ensure_boards([forum])
    forum.description = "管理员改过"
    forum.categories = ["只剩一个"]
    forum.is_open = False
    await any_store.save_board(forum)
    await any_store.ensure_boards([BoardSettings(slug="forum", name="强市论坛")])
    (stored,) = await any_store.list_boards()
    assert stored == forum
    assert await any_store.get_board("forum") == forum
    assert await any_store.get_board("nope") is None


@pytest.mark.gen_test
async def test_save_board_unknown_slug_is_not_found(any_store):
    with pytest.raises(NotFound):
        await any_store.save_board(BoardSettings(slug="nope", name="x"))


# users and sessions --------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_user_round_trips_with_every_field(any_store):
    user = make_user(
        roles=[Role.CITIZEN, Role.LAWYER],
        email="a@example.org",
        department="justice",
        specialties=["劳动", "合同"],
        disabled=True,
        display_name="张三 <b>",
        email_confirmed=True,
    )
    await any_store.add_user(user)
    assert await any_store.get_user(user.id) == user
    assert await any_store.get_user_by_name("ALICE") == user
    assert await any_store.get_user(new_id()) is None
    assert await any_store.get_user_by_name("bob") is None


@pytest.mark.gen_test
async def test_usernames_are_unique_case_insensitively(any_store):
    await any_store.add_user(make_user("Alice"))
    with pytest.raises(Conflict):
        await any_store.add_user(make_user("aLICE"))


@pytest.mark.gen_test
async def test_get_users_returns_found_ones_by_id(any_store):
    a, b = make_user("a_user"), make_user("b_user")
    await any_store.add_user(a)
    await any_store.add_user(b)
    missing = new_id()
    found = await any_store.get_users([a.id, b.id, a.id, missing])
    assert found == {a.id: a, b.id: b}
    assert await any_store.get_users([]) == {}


@pytest.mark.gen_test
async def test_update_user_changes_fields_and_refuses_unknown(any_store):
    user = make_user()
    await any_store.add_user(user)
    await any_store.update_user(
        user.id,
        {"roles": [Role.CITIZEN, Role.ADMIN], "disabled": True, "password_hash": "$argon2id$new"},
    )
    stored = await any_store.get_user(user.id)
    assert stored.roles == [Role.CITIZEN, Role.ADMIN]
    assert stored.disabled is True and stored.password_hash == "$argon2id$new"
    with pytest.raises(NotFound):
        await any_store.update_user(new_id(), {"disabled": True})


@pytest.mark.gen_test
async def test_sessions_are_stored_found_and_revoked(any_store):
    user = make_user()
    await any_store.add_user(user)
    later = T0 + dt.timedelta(days=30)
    first = Session("h1", user.id, "cookie", T0, later)
    second = Session("h2", user.id, "bearer", T0, later)
    await any_store.add_session(first)
    await any_store.add_session(second)
    assert await any_store.get_session("h1") == first
    await any_store.delete_session("h1")
    await any_store.delete_session("h1")  # absent: no error
    assert await any_store.get_session("h1") is None
    assert await any_store.delete_user_sessions(user.id) == 1
    assert await any_store.get_session("h2") is None


@pytest.mark.gen_test
async def test_a_single_use_session_is_taken_once_and_only_of_its_kind(any_store):
    user = make_user()
    await any_store.add_user(user)
    reset = Session("r1", user.id, "password_reset", T0, T0 + dt.timedelta(minutes=30))
    login = Session("l1", user.id, "cookie", T0, T0 + dt.timedelta(days=30))
    await any_store.add_session(reset)
    await any_store.add_session(login)
    assert await any_store.take_session("l1", "password_reset") is None  # another kind
    assert await any_store.get_session("l1") == login  # left alone
    first, second = await asyncio.gather(
        any_store.take_session("r1", "password_reset"),
        any_store.take_session("r1", "password_reset"),
    )
    assert [first, second].count(None) == 1 and (first or second) == reset
    assert await any_store.get_session("r1") is None
    assert await any_store.take_session("absent", "password_reset") is None


# API keys ------------------------------------------------------------------------------------
def make_api_key(name="网关", at=T0, **extra) -> ApiKey:
    return ApiKey(
        id=extra.pop("id", new_id()),
        name=name,
        key_hash=extra.pop("key_hash", hashlib.sha256(name.encode()).hexdigest()),
        created_by=extra.pop("created_by", new_id()),
        created_at=at,
        **extra,
    )


@pytest.mark.gen_test
async def test_api_keys_are_stored_found_by_hash_and_listed_newest_first(any_store):
    assert await any_store.list_api_keys() == []
    older, newer = make_api_key("甲", T0), make_api_key("乙", T0 + dt.timedelta(minutes=1))
    tied = make_api_key("丙", T0 + dt.timedelta(minutes=1))
    for key in (older, newer, tied):
        await any_store.add_api_key(key)
    assert await any_store.get_api_key_by_hash(newer.key_hash) == newer
    assert await any_store.get_api_key_by_hash("0" * 64) is None
    assert await any_store.list_api_keys() == [
        *sorted([newer, tied], key=lambda k: k.id, reverse=True),
        older,
    ]


@pytest.mark.gen_test
async def test_add_api_key_refuses_a_taken_id_or_hash(any_store):
    first = make_api_key("甲")
    await any_store.add_api_key(first)
    with pytest.raises(Conflict):
        await any_store.add_api_key(make_api_key("乙", key_hash=first.key_hash))
    with pytest.raises(Conflict):
        await any_store.add_api_key(make_api_key("丙", id=first.id))
    assert await any_store.list_api_keys() == [first]


@pytest.mark.gen_test
async def test_revoke_api_key_keeps_the_first_revocation_and_the_key_stays_findable(any_store):
    key = make_api_key()
    await any_store.add_api_key(key)
    revoked = await any_store.revoke_api_key(key.id, T0 + dt.timedelta(hours=1))
    assert revoked == dataclasses.replace(key, revoked_at=T0 + dt.timedelta(hours=1))
    again = await any_store.revoke_api_key(key.id, T0 + dt.timedelta(hours=2))
    assert again.revoked_at == T0 + dt.timedelta(hours=1)
    assert await any_store.get_api_key_by_hash(key.key_hash) == revoked
    assert await any_store.list_api_keys() == [revoked]
    with pytest.raises(NotFound):
        await any_store.revoke_api_key(new_id(), T0)
    with pytest.raises(NotFound):
        await any_store.revoke_api_key("not-an-id", T0)


@pytest.mark.gen_test
async def test_find_users_by_name_prefix_in_name_order_with_paging(any_store):
    names = ["alina", "Alice", "AL_x", "alfa", "bob", "al", "xal", "ALEX"]
    for name in names:
        await any_store.add_user(make_user(name))

    async def found(prefix, after=None, limit=10):
        return [u.username for u in await any_store.find_users(prefix, after, limit)]

    assert await found("aL") == ["al", "AL_x", "ALEX", "alfa", "Alice", "alina"]
    page = await found("al", limit=3)
    assert page == ["al", "AL_x", "ALEX"]
    assert await found("al", after="alex") == ["alfa", "Alice", "alina"]
    assert await found("al", after="ALEX") == ["alfa", "Alice", "alina"]
    assert await found("ali") == ["Alice", "alina"]
    assert await found("") == sorted(names, key=str.casefold)
    assert await found("", after="alina", limit=2) == ["bob", "xal"]
    assert await found("zz") == []
    assert await found("al", limit=0) == []
    # Characters that are wildcards to LIKE (or a regex) match only themselves.
    assert await found("al_") == ["AL_x"]
    for pattern in ("a%", "%", "_", "a.", ".*", "al["):
        assert await found(pattern) == []
    stored = (await any_store.find_users("alice", None, 1))[0]
    assert stored == await any_store.get_user_by_name("alice")


# posts ---------------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_post_round_trips_with_every_field(any_store):
    step = iter(at_minutes(*range(1, 11)))
    post = make_post(
        board="mayor",
        category="城建",
        anonymous=True,
        pinned=True,
        locked=True,
        public=True,
        contact="13812345678",
        department="housing",
        due_at=T0 + dt.timedelta(days=21),
        reopened=True,
        rating="satisfied",
        tracking_hash="abc",
        status=Status.ROUTED,
        title="<script>x</script>",
        accept_due_at=next(step),
        accepted_at=next(step),
        routed_at=next(step),
        replied_at=next(step),
        closed_at=next(step),
        rated_at=next(step),
        rating_comment="处理及时 <b>",
        status_note="重复提交",
        case_number="12345-0001",
        received_on="2026-11-27",
        overdue_since=next(step),
    )
    await any_store.add_post(post, event_for(post.id))
    assert await any_store.get_post(post.id) == post
    assert await any_store.get_post(new_id()) is None
    (event,) = await any_store.list_events(post.id)
    assert event.action == "create" and event.at == T0
    bare = make_post()  # every case field None
    await any_store.add_post(bare)
    assert await any_store.get_post(bare.id) == bare


@pytest.mark.gen_test
async def test_update_post_sets_and_clears_case_fields(any_store):
    post = make_post(board="mayor", status=Status.SUBMITTED, accept_due_at=T0)
    await any_store.add_post(post)
    later = T0 + dt.timedelta(days=2)
    changes = {
        "status": Status.CLOSED,
        "accept_due_at": None,
        "accepted_at": T0,
        "replied_at": later,
        "closed_at": later,
        "rated_at": later,
        "rating_comment": "满意",
        "status_note": "已办结",
        "letter_type": "complaint",
        "area": "city",
        "case_number": "A-1",
        "received_on": "2026-11-28",
        "overdue_since": T0 + dt.timedelta(days=1),
    }
    updated = await any_store.update_post(post.id, changes)
    assert updated == dataclasses.replace(post, **changes)
    assert await any_store.get_post(post.id) == updated
    cleared = await any_store.update_post(post.id, {"overdue_since": None})
    assert cleared == dataclasses.replace(updated, overdue_since=None)
    assert await any_store.get_post(post.id) == cleared


@pytest.mark.gen_test
async def test_get_post_by_tracking_finds_the_one_post_with_that_hash(any_store):
    tracked, other = make_post(tracking_hash="h" * 64), make_post(tracking_hash="x" * 64)
    for post in (tracked, other, make_post(), make_post()):  # untracked posts do not collide
        await any_store.add_post(post)
    assert await any_store.get_post_by_tracking("h" * 64) == tracked
    assert await any_store.get_post_by_tracking("H" * 64) is None
    assert await any_store.get_post_by_tracking("nope") is None
    with pytest.raises(Conflict):  # a hash names one post only
        await any_store.add_post(make_post(tracking_hash="h" * 64))


@pytest.mark.gen_test
async def test_add_post_refuses_a_duplicate_id(any_store):
    post = make_post()
    await any_store.add_post(post)
    with pytest.raises(Conflict):
        await any_store.add_post(make_post(id=post.id))


@pytest.mark.gen_test
async def test_list_posts_is_newest_first_with_keyset_paging(any_store):
    posts = [make_post(at=T0 + dt.timedelta(minutes=i)) for i in range(5)]
    # Two posts in the same millisecond are still ordered (by id) and neither is skipped.
    posts.append(make_post(at=posts[-1].created_at))
    for post in posts:
        await any_store.add_post(post)
    expected = sorted(posts, key=lambda p: (p.created_at, p.id), reverse=True)
    first = await any_store.list_posts(PostFilter(board="forum"), None, 4)
    last = first[-1]
    second = await any_store.list_posts(PostFilter(board="forum"), (last.created_at, last.id), 4)
    assert [p.id for p in first + second] == [p.id for p in expected]


@pytest.mark.gen_test
async def test_list_posts_oldest_first_reverses_the_keyset(any_store):
    posts = [make_post(at=at) for at in at_minutes(3, 0, 4, 1, 2)]
    posts.append(make_post(at=posts[0].created_at))  # same millisecond: ordered by id
    posts.append(make_post(board="mayor", at=T0))  # another board: never listed
    for post in posts:
        await any_store.add_post(post)
    expected = sorted(posts[:-1], key=lambda p: (p.created_at, p.id))
    where = PostFilter(board="forum")
    first = await any_store.list_posts(where, None, 4, oldest_first=True)
    last = first[-1]
    rest = await any_store.list_posts(where, (last.created_at, last.id), 4, oldest_first=True)
    assert ids(first + rest) == ids(expected)
    # The same key read newest first goes the other way from it.
    assert ids(await any_store.list_posts(where, (last.created_at, last.id), 10)) == ids(
        reversed(expected[:3])
    )
    assert await any_store.list_posts(where, None, 0, oldest_first=True) == []


@pytest.mark.gen_test
async def test_list_posts_filters_by_any_of_several_categories(any_store):
    city, traffic, school = (
        make_post(category=c, at=at) for c, at in zip(("城建", "交通", "教育"), at_minutes(0, 1, 2))
    )
    others = [make_post(at=T0), make_post(board="mayor", category="交通", at=T0)]
    for post in [city, traffic, school, *others]:
        await any_store.add_post(post)

    async def listed(**where):
        return ids(await any_store.list_posts(PostFilter(board="forum", **where), None, 10))

    assert await listed(categories=("交通", "城建", "没有的")) == ids([traffic, city])
    assert await listed(categories=("交通", "城建"), category="城建") == ids([city])
    assert await listed(categories=("交通",), category="城建") == []
    assert await listed(categories=()) == []
    assert await listed(categories=("教育", "交通"), statuses=(Status.PUBLISHED,)) == ids(
        [school, traffic]
    )
    assert ids(
        await any_store.list_posts(
            PostFilter(board="forum", categories=("交通", "教育")),
            (traffic.created_at, traffic.id),
            10,
            oldest_first=True,
        )
    ) == ids([school])


async def add_filter_cases(store) -> tuple[Post, PostFilter]:
    """One post that matches a filter on every field, and for each field one that misses it by
    that field alone. Returns the post and the filter."""
    author = make_user()
    await store.add_user(author)
    wanted = make_post(
        category="交通",
        author_id=author.id,
        status=Status.ROUTED,
        department="transport",
        board="mayor",
        pinned=True,
        public=True,
    )
    others = [
        make_post(board="forum"),
        make_post(
            board="mayor",
            category="城建",
            author_id=author.id,
            status=Status.ROUTED,
            department="transport",
            pinned=True,
        ),
        make_post(
            board="mayor",
            category="交通",
            status=Status.ROUTED,
            department="transport",
            pinned=True,
        ),
        make_post(
            board="mayor",
            category="交通",
            author_id=author.id,
            status=Status.CLOSED,
            department="transport",
            pinned=True,
        ),
        make_post(
            board="mayor",
            category="交通",
            author_id=author.id,
            status=Status.ROUTED,
            department="tax",
            pinned=True,
        ),
        make_post(
            board="mayor",
            category="交通",
            author_id=author.id,
            status=Status.ROUTED,
            department="transport",
            pinned=False,
            public=True,
        ),
        make_post(
            board="mayor",
            category="交通",
            author_id=author.id,
            status=Status.ROUTED,
            department="transport",
            pinned=True,
            public=False,
        ),
    ]
    for post in [wanted, *others]:
        await store.add_post(post)
    where = PostFilter(
        board="mayor",
        statuses=(Status.ROUTED, Status.REPLIED),
        category="交通",
        author_id=author.id,
        department="transport",
        pinned=True,
        public=True,
    )
    return wanted, where


@pytest.mark.gen_test
async def test_list_posts_applies_every_filter(any_store):
    wanted, where = await add_filter_cases(any_store)
    assert [p.id for p in await any_store.list_posts(where, None, 10)] == [wanted.id]
    assert await any_store.list_posts(PostFilter(board="lawyer"), None, 10) == []
    assert await any_store.list_posts(PostFilter(statuses=()), None, 10) == []


@pytest.mark.gen_test
async def test_count_posts_by_category_applies_every_filter(any_store):
    _, where = await add_filter_cases(any_store)
    count = any_store.count_posts_by_category
    assert await count(where) == {"交通": 1}
    assert await count(dataclasses.replace(where, categories=("交通", "城建"))) == {"交通": 1}
    assert await count(dataclasses.replace(where, categories=("城建",))) == {}
    assert await count(PostFilter(board="mayor", pinned=True)) == {"交通": 5, "城建": 1}
    assert await count(PostFilter(board="mayor", public=False)) == {"交通": 4, "城建": 1}
    assert await count(PostFilter(board="mayor", public=True)) == {"交通": 2}
    assert await count(PostFilter(board="mayor", categories=("城建", "教育"))) == {"城建": 1}
    assert await count(PostFilter(board="forum")) == {None: 1}  # no category: counted as None
    assert await count(PostFilter()) == {"交通": 6, "城建": 1, None: 1}
    assert await count(PostFilter(statuses=())) == {}
    assert await count(PostFilter(categories=())) == {}


async def matching(store, where: PostFilter) -> list[str]:
    """The ids list_posts finds for `where`, oldest first, once count_posts_by_category has been
    seen to count exactly those posts."""
    found = await store.list_posts(where, None, 100, oldest_first=True)
    assert await store.count_posts_by_category(where) == collections.Counter(
        post.category for post in found
    )
    return ids(found)


@pytest.mark.gen_test
async def test_case_filters_by_boards_reopening_and_times(any_store):
    opened, closing = T0, T0 + dt.timedelta(hours=1)  # the created_from .. created_before window
    due = T0 + dt.timedelta(days=3)
    ms = dt.timedelta(milliseconds=1)
    on_start = make_post(board="mayor", at=opened, due_at=due - ms, reopened=True, category="交通")
    inside = make_post(board="hotline", at=opened + ms, due_at=opened)
    before = make_post(board="mayor", at=opened - ms, due_at=opened, category="交通")
    on_end = make_post(board="mayor", at=closing, category="城建")
    due_on_bound = make_post(board="hotline", at=opened + 2 * ms, due_at=due, reopened=True)
    elsewhere = make_post(board="forum", at=opened + 3 * ms, due_at=opened)
    posts = [before, on_start, inside, due_on_bound, elsewhere, on_end]  # oldest first
    for post in reversed(posts):
        await any_store.add_post(post)

    async def found(**where):
        return await matching(any_store, PostFilter(**where))

    def all_but(*left_out):
        return ids(post for post in posts if post not in left_out)

    assert await found(boards=("mayor", "hotline", "lawyer")) == all_but(elsewhere)
    assert await found(boards=("forum",)) == ids([elsewhere])
    assert await found(boards=()) == []
    assert await found(boards=("mayor",), board="mayor") == ids([before, on_start, on_end])
    assert await found(boards=("mayor",), board="hotline") == []  # both must hold
    assert await found(reopened=True) == ids([on_start, due_on_bound])
    assert await found(reopened=False) == all_but(on_start, due_on_bound)
    assert await found(created_from=opened) == all_but(before)  # at or after
    assert await found(created_before=closing) == all_but(on_end)  # strictly before
    assert await found(created_from=opened, created_before=closing) == all_but(before, on_end)
    # Strictly before the bound, and never a post without a due time.
    assert await found(due_before=due) == all_but(due_on_bound, on_end)
    assert await found(due_before=opened) == []
    assert await found(
        boards=("mayor", "hotline"),
        statuses=(Status.PUBLISHED,),
        created_from=opened,
        created_before=closing,
        due_before=due,
        reopened=False,
    ) == ids([inside])
    # The new conditions page like any other.
    page = await any_store.list_posts(PostFilter(created_from=opened), None, 2)
    rest = await any_store.list_posts(
        PostFilter(created_from=opened), (page[-1].created_at, page[-1].id), 10
    )
    assert ids(page + rest) == all_but(before)[::-1]


@pytest.mark.gen_test
async def test_overdue_noted_filters_by_whether_overdue_since_is_set(any_store):
    noted, routed, replied = (
        make_post(board="mayor", at=at, status=status, category="交通", overdue_since=since)
        for at, status, since in zip(
            at_minutes(0, 1, 2), (Status.ROUTED, Status.ROUTED, Status.REPLIED), (T0, None, None)
        )
    )
    noted_replied = make_post(
        board="hotline",
        at=T0 + dt.timedelta(minutes=3),
        status=Status.REPLIED,
        overdue_since=T0 + dt.timedelta(days=1),
    )
    posts = [noted, routed, replied, noted_replied]  # oldest first
    for post in posts:
        await any_store.add_post(post)

    async def found(**where):
        return await matching(any_store, PostFilter(**where))

    assert await found(overdue_noted=True) == ids([noted, noted_replied])
    assert await found(overdue_noted=False) == ids([routed, replied])
    assert await found() == ids(posts)
    assert await found(overdue_noted=False, statuses=(Status.ROUTED,)) == ids([routed])
    assert await found(overdue_noted=True, statuses=(Status.ROUTED,)) == ids([noted])
    assert await found(overdue_noted=True, board="mayor") == ids([noted])
    assert await found(overdue_noted=True, due_before=T0) == []  # both must hold
    # Noting it (or clearing the note) moves a post from one side to the other.
    await any_store.update_post(routed.id, {"overdue_since": T0}, expect={"status": Status.ROUTED})
    await any_store.update_post(noted_replied.id, {"overdue_since": None})
    assert await found(overdue_noted=True) == ids([noted, routed])
    assert await found(overdue_noted=False) == ids([replied, noted_replied])
    page = await any_store.list_posts(PostFilter(overdue_noted=True), None, 1)
    rest = await any_store.list_posts(
        PostFilter(overdue_noted=True), (page[-1].created_at, page[-1].id), 10
    )
    assert ids(page + rest) == ids([routed, noted])


@pytest.mark.gen_test
async def test_casework_fields_round_trip_and_filter_helpers_supervision_reminders(any_store):
    history = [
        {
            "at": "2026-01-02T03:04:05.000Z",
            "source": "rating",
            "score": "unsatisfied",
            "comment": "没修好",
            "department": "housing",
            "reached": None,
        }
    ]
    helped, supervised, reminded = (
        make_post(
            board="mayor", at=at, status=Status.ROUTED, due_at=T0 + dt.timedelta(days=d), **extra
        )
        for at, d, extra in zip(
            at_minutes(0, 1, 2),
            (1, 2, 3),
            (
                {
                    "helpers": ["police", "market"],
                    "letter_type": "complaint",
                    "area": "hongta",
                    "real_name": "李建华",
                    "officer_id": new_id(),
                    "extension_status": "requested",
                    "extension_days": 3,
                    "extension_reason": "勘查",
                    "ratings": history,
                },
                {
                    "supervised": True,
                    "supervised_at": T0,
                    "extended": True,
                    "merged_into": new_id(),
                },
                {"reminded_at": T0},
            ),
        )
    )
    posts = [helped, supervised, reminded]
    for post in posts:
        await any_store.add_post(post)
    for post in posts:
        assert await any_store.get_post(post.id) == post

    async def found(**where):
        return await matching(any_store, PostFilter(**where))

    assert await found(helper="police") == ids([helped])
    assert await found(helper="market", statuses=(Status.ROUTED,)) == ids([helped])
    assert await found(helper="housing") == []
    assert await found(supervised=True) == ids([supervised])
    assert await found(supervised=False) == ids([helped, reminded])
    assert await found(reminded=True) == ids([reminded])
    assert await found(reminded=False) == ids([helped, supervised])
    assert await found(due_from=T0 + dt.timedelta(days=2)) == ids([supervised, reminded])
    assert await found(extension_status="requested") == ids([helped])
    assert await found(extension_status="approved") == []
    assert await found(officer_id=helped.officer_id, statuses=(Status.ROUTED,)) == ids([helped])
    assert await found(officer_id=new_id()) == []
    assert await found(
        due_from=T0 + dt.timedelta(days=2), due_before=T0 + dt.timedelta(days=3)
    ) == ids([supervised])
    # lists are replaced whole, and a condition on them holds or refuses the write
    more = [*history, {**history[0], "score": "satisfied", "department": "gov-hongta"}]
    updated = await any_store.update_post(
        helped.id, {"ratings": more, "helpers": []}, expect={"updated_at": helped.updated_at}
    )
    assert updated.ratings == more and updated.helpers == []
    assert await found(helper="police") == []


@pytest.mark.gen_test
async def test_a_note_is_stored_without_counting_as_a_reply(any_store):
    post = make_post(board="mayor", status=Status.ROUTED)
    await any_store.add_post(post)
    note = make_reply(post.id, kind=ReplyKind.INTERNAL)
    after = await any_store.add_reply(note, {"updated_at": T0}, counted=False)
    assert after.reply_count == 0 and await any_store.list_replies(post.id) == [note]
    await any_store.add_reply(make_reply(post.id, at=T0 + dt.timedelta(seconds=1)), {})
    assert (await any_store.get_post(post.id)).reply_count == 1


@pytest.mark.gen_test
async def test_a_restore_mark_is_kept_apart_from_the_records(any_store):
    assert await any_store.unfinished_restore() is None
    await any_store.mark_restoring(T0)
    assert await any_store.unfinished_restore() == T0
    assert await any_store.is_empty()  # not a record
    await any_store.wipe()
    assert await any_store.unfinished_restore() == T0  # a wipe does not clear it
    assert not [kind async for kind, _ in any_store.export_records()]
    await any_store.mark_restoring(None)
    assert await any_store.unfinished_restore() is None


@pytest.mark.gen_test
async def test_departments_have_a_kind(any_store):
    await any_store.ensure_departments([Department("gov-hongta", "红塔区人民政府", "county")])
    found = {d.slug: d for d in await any_store.list_departments()}
    assert found["gov-hongta"].kind == "county"


@pytest.mark.gen_test
async def test_update_post_keeps_revision_and_event_together(any_store):
    post = make_post()
    await any_store.add_post(post)
    later = T0 + dt.timedelta(minutes=5)
    revision = Revision(new_id(), post.id, post.title, post.body, "editor", later)
    updated = await any_store.update_post(
        post.id,
        {"title": "新标题", "updated_at": later, "status": Status.HIDDEN, "pinned": True},
        revision=revision,
        event=event_for(post.id, "edit", later),
    )
    assert (updated.title, updated.updated_at, updated.status, updated.pinned) == (
        "新标题",
        later,
        Status.HIDDEN,
        True,
    )
    assert await any_store.get_post(post.id) == updated
    assert await any_store.list_revisions(post.id) == [revision]
    assert [e.action for e in await any_store.list_events(post.id)] == ["edit"]


@pytest.mark.gen_test
async def test_update_post_missing_is_not_found_and_writes_nothing(any_store):
    ghost = new_id()
    with pytest.raises(NotFound):
        await any_store.update_post(ghost, {"title": "x"})
    assert await any_store.list_revisions(ghost) == []


@pytest.mark.gen_test
async def test_update_post_with_the_expected_status_is_applied(any_store):
    post = make_post(board="mayor", status=Status.ROUTED)
    await any_store.add_post(post)
    later = T0 + dt.timedelta(days=1)
    revision = Revision(new_id(), post.id, post.title, post.body, "editor", later)
    changes = {"status": Status.REPLIED, "replied_at": later, "updated_at": later}
    updated = await any_store.update_post(
        post.id,
        changes,
        revision,
        event_for(post.id, "reply", later),
        expect={"status": Status.ROUTED},
    )
    assert updated == dataclasses.replace(post, **changes)
    assert await any_store.get_post(post.id) == updated
    assert await any_store.list_revisions(post.id) == [revision]
    assert [e.action for e in await any_store.list_events(post.id)] == ["reply"]
    # The condition alone, with no change: still checked, the event still recorded.
    assert (
        await any_store.update_post(
            post.id, {}, event=event_for(post.id, "note", later), expect={"status": Status.REPLIED}
        )
        == updated
    )
    assert [e.action for e in await any_store.list_events(post.id)] == ["reply", "note"]


@pytest.mark.gen_test
async def test_update_post_whose_status_moved_on_is_a_conflict_and_writes_nothing(any_store):
    post = make_post(board="mayor", status=Status.REPLIED)
    await any_store.add_post(post, event_for(post.id))
    events = await any_store.list_events(post.id)
    later = T0 + dt.timedelta(days=1)
    for changes in (
        {"status": Status.CLOSED, "closed_at": later, "title": "新"},
        {"overdue_since": later},
        {},
    ):
        revision = Revision(new_id(), post.id, post.title, post.body, "editor", later)
        with pytest.raises(Conflict) as refused:
            await any_store.update_post(
                post.id,
                changes,
                revision,
                event_for(post.id, "close", later),
                expect={"status": Status.ROUTED},
            )
        assert refused.value.code == "stale"  # a code: the services choose the words
        assert await any_store.get_post(post.id) == post
        assert await any_store.list_revisions(post.id) == []
        assert await any_store.list_events(post.id) == events
    # A post that does not exist is NotFound still, not a conflict.
    ghost = new_id()
    with pytest.raises(NotFound):
        await any_store.update_post(
            ghost,
            {"status": Status.CLOSED},
            event=event_for(ghost),
            expect={"status": Status.ROUTED},
        )
    assert await any_store.list_events(ghost) == []
    with pytest.raises(NotFound):
        await any_store.update_post("not-an-id", {}, expect={"status": Status.ROUTED})


@pytest.mark.gen_test
async def test_of_two_racing_conditional_updates_exactly_one_wins(any_store):
    post = make_post(board="mayor", status=Status.SUBMITTED)
    await any_store.add_post(post)
    later = T0 + dt.timedelta(hours=1)

    def step(status, note):
        return any_store.update_post(
            post.id,
            {"status": status, "status_note": note, "updated_at": later},
            event=event_for(post.id, note, later),
            expect={"status": Status.SUBMITTED},
        )

    outcomes = await asyncio.gather(
        step(Status.ACCEPTED, "accept"), step(Status.REJECTED, "reject"), return_exceptions=True
    )
    won = [outcome for outcome in outcomes if isinstance(outcome, Post)]
    lost = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert lost[0].code == "stale"
    (winner,) = won
    assert await any_store.get_post(post.id) == winner
    assert [e.action for e in await any_store.list_events(post.id)] == [winner.status_note]
    # Five at once (the periodic job in several processes, say): still exactly one.
    late = make_post(board="mayor", status=Status.ROUTED)
    await any_store.add_post(late)
    outcomes = await asyncio.gather(
        *(
            any_store.update_post(
                late.id,
                {"status": Status.CLOSED, "status_note": f"job{i}", "overdue_since": later},
                event=event_for(late.id, f"job{i}", later),
                expect={"status": Status.ROUTED},
            )
            for i in range(5)
        ),
        return_exceptions=True,
    )
    (winner,) = [outcome for outcome in outcomes if isinstance(outcome, Post)]
    assert sum(isinstance(outcome, Conflict) for outcome in outcomes) == 4, outcomes
    assert await any_store.get_post(late.id) == winner
    assert [e.action for e in await any_store.list_events(late.id)] == [winner.status_note]


@pytest.mark.gen_test
async def test_replies_count_and_change_their_post(any_store):
    post = make_post(board="lawyer", status=Status.OPEN)
    await any_store.add_post(post)
    replies = [
        Reply(
            new_id(),
            post.id,
            None,
            f"回复{i}",
            f"<p>回复{i}</p>",
            ReplyKind.ANSWER,
            T0 + dt.timedelta(seconds=i),
            board="lawyer",
            accepted=i == 1,
        )
        for i in range(3)
    ]
    replies.append(make_reply(post.id, T0 + dt.timedelta(seconds=9)))  # board None, not accepted
    for reply in reversed(replies):
        after = await any_store.add_reply(
            reply, {"status": Status.ANSWERED, "updated_at": reply.created_at}
        )
    assert after.reply_count == 4 and after.status == Status.ANSWERED
    assert await any_store.list_replies(post.id) == replies
    assert await any_store.list_replies(new_id()) == []


@pytest.mark.gen_test
async def test_reply_to_missing_post_is_not_found_and_not_stored(any_store):
    ghost = new_id()
    reply = Reply(new_id(), ghost, None, "x", "<p>x</p>", ReplyKind.COMMENT, T0)
    with pytest.raises(NotFound):
        await any_store.add_reply(reply, {})
    assert await any_store.list_replies(ghost) == []


async def add_post_with_replies(store, count=2, **post_fields) -> tuple[Post, list[Reply]]:
    post = make_post(board="lawyer", status=Status.ANSWERED, **post_fields)
    await store.add_post(post)
    replies = [make_reply(post.id, at, board="lawyer") for at in at_minutes(*range(count))]
    for reply in replies:
        post = await store.add_reply(reply, {})  # the post as stored, counting its replies
    return post, replies


@pytest.mark.gen_test
async def test_accept_reply_marks_it_and_changes_the_post_at_once(any_store):
    post, (first, second) = await add_post_with_replies(any_store)
    later = T0 + dt.timedelta(hours=1)
    changes = {"accepted_reply_id": second.id, "status": Status.RESOLVED, "updated_at": later}
    accepted = await any_store.accept_reply(
        post.id, second.id, changes, event_for(post.id, "accept", later)
    )
    assert (accepted.accepted_reply_id, accepted.status, accepted.updated_at) == (
        second.id,
        Status.RESOLVED,
        later,
    )
    assert accepted.reply_count == 2
    assert await any_store.get_post(post.id) == accepted
    assert [(r.id, r.accepted) for r in await any_store.list_replies(post.id)] == [
        (first.id, False),
        (second.id, True),
    ]
    assert [e.action for e in await any_store.list_events(post.id)] == ["accept"]
    # No changes at all is allowed: the reply is still marked, the post returned as it is.
    assert await any_store.accept_reply(post.id, first.id, {}) == accepted
    assert all(r.accepted for r in await any_store.list_replies(post.id))


@pytest.mark.gen_test
async def test_accept_reply_not_of_that_post_is_not_found_and_writes_nothing(any_store):
    post, (reply,) = await add_post_with_replies(any_store, 1)
    other, _ = await add_post_with_replies(any_store, 1)
    changes = {"accepted_reply_id": reply.id, "status": Status.RESOLVED}
    for post_id, reply_id in (
        (other.id, reply.id),  # a reply, but of another post
        (post.id, new_id()),  # no such reply
        (new_id(), reply.id),  # no such post
        (post.id, "not-an-id"),
    ):
        with pytest.raises(NotFound):
            await any_store.accept_reply(post_id, reply_id, changes, event_for(post_id, "accept"))
    assert await any_store.get_post(post.id) == post
    assert (await any_store.get_post(other.id)).status == Status.ANSWERED
    for unchanged in (post, other):
        assert not any(r.accepted for r in await any_store.list_replies(unchanged.id))
    assert await any_store.list_events(post.id) == await any_store.list_events(other.id) == []


@pytest.mark.gen_test
async def test_accept_reply_refuses_unknown_changes(any_store):
    post, (reply,) = await add_post_with_replies(any_store, 1)
    with pytest.raises(ValueError):
        await any_store.accept_reply(post.id, reply.id, {"board": "forum"})
    assert not (await any_store.list_replies(post.id))[0].accepted


@pytest.mark.gen_test
async def test_list_replies_by_author_is_newest_first_with_keyset_paging(any_store):
    lawyer, someone = make_user("lawyer"), make_user("someone")
    for user in (lawyer, someone):
        await any_store.add_user(user)
    first, second = make_post(board="lawyer"), make_post(board="forum")
    for post in (first, second):
        await any_store.add_post(post)
    answers = [
        make_reply(post.id, at, author_id=lawyer.id, board=post.board)
        for post, at in zip((first, second, first, second), at_minutes(0, 2, 1, 3))
    ]
    answers.append(make_reply(second.id, answers[-1].created_at, author_id=lawyer.id))  # a tie
    comments = [
        make_reply(first.id, at, author_id=lawyer.id, kind=ReplyKind.COMMENT)
        for at in at_minutes(1, 5)
    ]
    strangers = [make_reply(first.id, T0, author_id=someone.id)]
    for reply in [*answers, *comments, *strangers]:
        await any_store.add_reply(reply, {})

    def newest_first(replies):
        return ids(sorted(replies, key=lambda r: (r.created_at, r.id), reverse=True))

    page = await any_store.list_replies_by_author(lawyer.id, ReplyKind.ANSWER, None, 3)
    last = page[-1]
    rest = await any_store.list_replies_by_author(
        lawyer.id, ReplyKind.ANSWER, (last.created_at, last.id), 3
    )
    assert ids(page + rest) == newest_first(answers)
    assert page[0] in answers  # read back whole, board and all
    everything = await any_store.list_replies_by_author(lawyer.id, None, None, 10)
    assert ids(everything) == newest_first(answers + comments)
    assert await any_store.list_replies_by_author(new_id(), None, None, 10) == []
    assert await any_store.list_replies_by_author(lawyer.id, ReplyKind.OFFICIAL, None, 10) == []
    assert await any_store.list_replies_by_author(lawyer.id, None, None, 0) == []


@pytest.mark.gen_test
async def test_reply_stats_count_all_accepted_and_per_board(any_store):
    expert, other = make_user("expert"), make_user("other")
    for user in (expert, other):
        await any_store.add_user(user)
    posts = [make_post(board=board) for board in ("agri", "agri", "lawyer")]
    for post in posts:
        await any_store.add_post(post)
    mine = [make_reply(post.id, author_id=expert.id, board=post.board) for post in posts]
    mine.append(make_reply(posts[0].id, author_id=expert.id))  # board None: in the total only
    not_counted = [
        make_reply(
            posts[0].id, author_id=expert.id, board="agri", kind=ReplyKind.COMMENT, accepted=True
        ),
        make_reply(posts[0].id, author_id=other.id, board="agri"),
    ]
    for reply in [*mine, *not_counted]:
        await any_store.add_reply(reply, {})
    await any_store.accept_reply(posts[1].id, mine[1].id, {"accepted_reply_id": mine[1].id})
    await any_store.accept_reply(posts[0].id, mine[3].id, {})
    assert await any_store.reply_stats(expert.id, ReplyKind.ANSWER) == ReplyStats(
        total=4, accepted=2, by_board={"agri": 2, "lawyer": 1}
    )
    assert await any_store.reply_stats(expert.id, ReplyKind.COMMENT) == ReplyStats(
        total=1, accepted=1, by_board={"agri": 1}
    )
    assert await any_store.reply_stats(expert.id, ReplyKind.OFFICIAL) == ReplyStats()
    assert await any_store.reply_stats(new_id(), ReplyKind.ANSWER) == ReplyStats()


@pytest.mark.gen_test
async def test_concurrent_replies_all_count(any_store):
    post = make_post()
    await any_store.add_post(post)
    replies = [
        Reply(new_id(), post.id, None, "x", "<p>x</p>", ReplyKind.COMMENT, now()) for _ in range(20)
    ]
    await asyncio.gather(*(any_store.add_reply(r, {}) for r in replies))
    assert (await any_store.get_post(post.id)).reply_count == 20


# flags and audit -----------------------------------------------------------------------------
def make_flag(post_id, user_id, at=T0, **extra) -> Flag:
    return Flag(
        id=new_id(),
        post_id=post_id,
        user_id=user_id,
        reason=extra.pop("reason", "广告"),
        created_at=at,
        **extra,
    )


@pytest.mark.gen_test
async def test_a_reader_has_one_open_flag_per_post(any_store):
    post, other = make_post(), make_post()
    for p in (post, other):
        await any_store.add_post(p)
    reader, neighbour = new_id(), new_id()
    times = iter(at_minutes(*range(10)))
    closed = make_flag(post.id, reader, next(times), open=False)
    first = make_flag(post.id, reader, next(times), reason="人身攻击 <b>")
    kept = [closed, first, make_flag(post.id, neighbour, next(times))]
    for flag in kept:
        await any_store.add_flag(flag)
    with pytest.raises(Conflict) as refused:
        await any_store.add_flag(make_flag(post.id, reader, next(times)))
    assert refused.value.code == "already_flagged"
    # Closed flags may pile up beside the open one; another post is another matter.
    kept.append(make_flag(post.id, reader, next(times), open=False))
    await any_store.add_flag(kept[-1])
    elsewhere = make_flag(other.id, reader, next(times))
    await any_store.add_flag(elsewhere)
    assert await any_store.list_flags(post.id) == kept
    assert await any_store.list_flags(other.id) == [elsewhere]
    assert await any_store.list_flags(new_id()) == []


@pytest.mark.gen_test
async def test_flags_of_a_post_are_listed_oldest_first(any_store):
    post = make_post()
    await any_store.add_post(post)
    flags = [make_flag(post.id, new_id(), at) for at in at_minutes(5, 1, 3, 1)]
    for flag in flags:
        await any_store.add_flag(flag)
    assert ids(await any_store.list_flags(post.id)) == ids(
        sorted(flags, key=lambda f: (f.created_at, f.id))
    )


@pytest.mark.gen_test
async def test_open_flags_of_all_posts_are_listed_oldest_first_with_keyset_paging(any_store):
    first, second = make_post(), make_post()
    for post in (first, second):
        await any_store.add_post(post)
    times = at_minutes(4, 0, 2, 2, 1, 3)  # two in the same millisecond: ordered by id
    flags = [
        make_flag(post.id, new_id(), at)
        for post, at in zip((first, second, first, second, first, second), times)
    ]
    flags.append(make_flag(first.id, new_id(), T0, open=False))  # closed: never listed
    for flag in flags:
        await any_store.add_flag(flag)
    expected = sorted(flags[:-1], key=lambda f: (f.created_at, f.id))
    page = await any_store.list_open_flags(None, 4)
    rest = await any_store.list_open_flags((page[-1].created_at, page[-1].id), 4)
    assert page + rest == expected
    assert await any_store.list_open_flags((expected[-1].created_at, expected[-1].id), 4) == []
    assert await any_store.list_open_flags(None, 0) == []


@pytest.mark.gen_test
async def test_close_flags_closes_the_open_flags_of_one_post(any_store):
    post, other = make_post(), make_post()
    for p in (post, other):
        await any_store.add_post(p)
    reader = new_id()
    times = iter(at_minutes(*range(10)))
    closed_before = make_flag(post.id, reader, next(times), open=False)
    open_ones = [make_flag(post.id, reader, next(times)), make_flag(post.id, new_id(), next(times))]
    elsewhere = make_flag(other.id, reader, next(times))
    for flag in (closed_before, *open_ones, elsewhere):
        await any_store.add_flag(flag)
    assert await any_store.close_flags(post.id) == 2
    assert await any_store.list_flags(post.id) == [
        closed_before,
        *(dataclasses.replace(flag, open=False) for flag in open_ones),
    ]
    assert await any_store.list_open_flags(None, 10) == [elsewhere]
    assert await any_store.close_flags(post.id) == 0  # nothing open any more
    assert await any_store.close_flags(new_id()) == 0
    # Once closed, the reader may flag the post again.
    again = make_flag(post.id, reader, next(times))
    await any_store.add_flag(again)
    assert await any_store.list_open_flags(None, 10) == [elsewhere, again]


def make_audit(actor_id, target, at=T0, action="hide") -> AuditEntry:
    return AuditEntry(
        id=new_id(),
        at=at,
        actor_id=actor_id,
        action=action,
        target=target,
        reason="违规",
        detail='{"status": "hidden"}',
    )


@pytest.mark.gen_test
async def test_audit_is_newest_first_filtered_and_paged(any_store):
    mod, admin = new_id(), new_id()
    entries = [
        make_audit(actor, target, at)
        for actor, target, at in zip(
            (mod, admin, mod, mod, admin, mod),
            ("post:1", "user:bob", "user:bob", "post:1", "post:1", "post:2"),
            at_minutes(0, 1, 2, 3, 3, 4),
        )
    ]  # two in the same millisecond: ordered by id
    for entry in entries:
        await any_store.add_audit(entry)

    def newest_first(chosen):
        return sorted(chosen, key=lambda e: (e.at, e.id), reverse=True)

    async def audit(actor_id=None, target=None, after=None, limit=10):
        return await any_store.list_audit(
            actor_id=actor_id, target=target, after=after, limit=limit
        )

    page = await audit(limit=4)
    rest = await audit(after=(page[-1].at, page[-1].id), limit=4)
    assert page + rest == newest_first(entries)
    assert await audit(actor_id=mod) == newest_first([e for e in entries if e.actor_id == mod])
    assert await audit(target="post:1") == newest_first(
        [e for e in entries if e.target == "post:1"]
    )
    assert await audit(actor_id=mod, target="post:1") == newest_first(
        [e for e in entries if e.actor_id == mod and e.target == "post:1"]
    )
    first_of_mod = await audit(actor_id=mod, limit=1)
    assert (
        await audit(actor_id=mod, after=(first_of_mod[0].at, first_of_mod[0].id))
        == (newest_first([e for e in entries if e.actor_id == mod])[1:])
    )
    assert await audit(actor_id=new_id()) == []
    assert await audit(target="department:tax") == []
    assert await audit(limit=0) == []


# attachments ---------------------------------------------------------------------------------
def make_attachment(post_id, data: bytes, at=T0, **extra) -> Attachment:
    return Attachment(
        id=extra.pop("id", new_id()),
        post_id=post_id,
        filename=extra.pop("filename", "现场照片.jpg"),
        content_type=extra.pop("content_type", "image/jpeg"),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploader_id=extra.pop("uploader_id", None),
        created_at=at,
    )


@pytest.mark.gen_test
async def test_attachments_keep_their_bytes_and_are_listed_oldest_first(any_store):
    post, other = make_post(board="mayor"), make_post(board="mayor")
    for p in (post, other):
        await any_store.add_post(p)
    every_byte = bytes(range(256)) * 4
    large = bytes(range(251)) * 3000  # several GridFS chunks (255 KiB each)
    files = [
        (make_attachment(post.id, data, at, uploader_id=uploader, filename=name), data)
        for data, at, uploader, name in (
            (every_byte, T0 + dt.timedelta(minutes=2), new_id(), "证据.pdf"),
            (large, T0, None, "../../static/x.js"),
            (b"", T0 + dt.timedelta(minutes=2), new_id(), "空.txt"),
        )
    ]  # a tie: by id
    elsewhere = (make_attachment(other.id, b"other", T0), b"other")
    for attachment, data in [*files, elsewhere]:
        await any_store.add_attachment(attachment, data)
    expected = sorted((a for a, _ in files), key=lambda a: (a.created_at, a.id))
    assert await any_store.list_attachments(post.id) == expected
    assert await any_store.list_attachments(other.id) == [elsewhere[0]]
    assert await any_store.list_attachments(new_id()) == []
    for attachment, data in [*files, elsewhere]:
        assert await any_store.get_attachment(attachment.id) == (attachment, data)
    for unknown in (new_id(), "not-an-id", "../forum.db", post.id):
        assert await any_store.get_attachment(unknown) is None


@pytest.mark.gen_test
async def test_add_attachment_refuses_a_taken_id_and_keeps_the_first_bytes(any_store):
    post = make_post(board="mayor")
    await any_store.add_post(post)
    first = make_attachment(post.id, b"first")
    await any_store.add_attachment(first, b"first")
    with pytest.raises(Conflict):
        await any_store.add_attachment(make_attachment(post.id, b"second", id=first.id), b"second")
    assert await any_store.get_attachment(first.id) == (first, b"first")
    assert await any_store.list_attachments(post.id) == [first]


@pytest.mark.gen_test
async def test_add_attachment_to_a_missing_post_is_not_found_and_not_stored(any_store):
    ghost = new_id()
    attachment = make_attachment(ghost, b"data")
    with pytest.raises(NotFound):
        await any_store.add_attachment(attachment, b"data")
    assert await any_store.get_attachment(attachment.id) is None
    assert await any_store.list_attachments(ghost) == []


@pytest.mark.gen_test
async def test_add_attachments_keeps_all_or_none_within_the_cap(any_store):
    post = make_post(board="mayor")
    await any_store.add_post(post)
    three = [(make_attachment(post.id, bytes([n])), bytes([n])) for n in range(3)]
    await any_store.add_attachments(post.id, three, 5)
    over = [(make_attachment(post.id, bytes([n])), bytes([n])) for n in range(3)]
    with pytest.raises(Conflict) as refused:
        await any_store.add_attachments(post.id, over, 5)
    assert refused.value.code == "too_many_files"
    for attachment, _ in over:
        assert await any_store.get_attachment(attachment.id) is None
    # A taken id among them stores none of them either, and the places stay free.
    taken = [
        (make_attachment(post.id, b"new"), b"new"),
        (make_attachment(post.id, b"dup", id=three[0][0].id), b"dup"),
    ]
    with pytest.raises(Conflict):
        await any_store.add_attachments(post.id, taken, 5)
    assert await any_store.get_attachment(taken[0][0].id) is None
    await any_store.add_attachments(post.id, over[:2], 5)
    assert ids(await any_store.list_attachments(post.id)) == sorted(
        ids(a for a, _ in three + over[:2]), key=lambda i: (T0, i)
    )
    with pytest.raises(NotFound):
        await any_store.add_attachments(new_id(), over[2:], 5)


@pytest.mark.gen_test
async def test_add_attachments_racing_never_pass_the_cap(any_store):
    """Three uploads of two files at once, half through a second store over the same data (as
    from another process), to a post that takes five: two get in, the third is refused whole."""
    post = make_post(board="mayor")
    await any_store.add_post(post)
    other = stores.another(any_store)
    await other.open()
    try:
        answers = await asyncio.gather(
            *(
                (any_store if n % 2 else other).add_attachments(
                    post.id, [(make_attachment(post.id, b"x"), b"x") for _ in range(2)], 5
                )
                for n in range(3)
            ),
            return_exceptions=True,
        )
    finally:
        await other.close()
    refused = [answer for answer in answers if isinstance(answer, Exception)]
    assert [answer.code for answer in refused] == ["too_many_files"]
    assert len(await any_store.list_attachments(post.id)) == 4


# settings ------------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_settings_are_stored_replaced_and_absent_as_none(any_store):
    assert await any_store.get_setting("calendar") is None
    calendar = {
        "holidays": ["2026-10-01", "2026-10-02"],
        "workdays": [],
        "note": "国庆 <b>",
        "version": 3,
        "ratio": 0.5,
        "strict": True,
        "nested": {"a": [1, None]},
    }
    await any_store.put_setting("calendar", calendar)
    await any_store.put_setting("words", ["词一", "词二"])
    assert await any_store.get_setting("calendar") == calendar
    await any_store.put_setting("calendar", {"holidays": []})
    assert await any_store.get_setting("calendar") == {"holidays": []}
    assert await any_store.get_setting("words") == ["词一", "词二"]
    for value in ("text", 0, False, []):
        await any_store.put_setting("scalar", value)
        stored = await any_store.get_setting("scalar")
        assert stored == value and type(stored) is type(value)


# notifications and mail ----------------------------------------------------------------------
def make_notification(user_id, at=T0, **extra) -> Notification:
    return Notification(
        id=new_id(),
        user_id=user_id,
        kind=extra.pop("kind", "answer"),
        post_id=extra.pop("post_id", None),
        text=extra.pop("text", "您的咨询有了答复"),
        created_at=at,
        **extra,
    )


def by_newest(records):
    return sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)


@pytest.mark.gen_test
async def test_notifications_are_listed_newest_first_per_user_with_keyset_paging(any_store):
    alice, bob = new_id(), new_id()
    mine = [make_notification(alice, at, post_id=new_id()) for at in at_minutes(3, 0, 4, 1, 2)]
    mine[1].read = True
    mine.append(
        make_notification(
            alice,
            mine[0].created_at,
            kind="overdue",  # a tie: by id
            text="案件已超期 <b>",
        )
    )
    theirs = [make_notification(bob, at, kind="routed") for at in at_minutes(5, 0)]
    await any_store.add_notifications([*mine[:3], *theirs, *mine[3:]])  # several users at once
    await any_store.add_notifications([])

    page = await any_store.list_notifications(alice, None, 4)
    rest = await any_store.list_notifications(alice, (page[-1].created_at, page[-1].id), 4)
    assert page + rest == by_newest(mine)  # read back whole, every field
    last = by_newest(mine)[-1]
    assert await any_store.list_notifications(alice, (last.created_at, last.id), 4) == []
    assert await any_store.list_notifications(bob, None, 10) == by_newest(theirs)
    assert await any_store.list_notifications(new_id(), None, 10) == []
    assert await any_store.list_notifications(alice, None, 0) == []
    assert await any_store.count_unread(alice) == 5
    assert await any_store.count_unread(bob) == 2
    assert await any_store.count_unread(new_id()) == 0


@pytest.mark.gen_test
async def test_all_unread_notifications_are_counted_together(any_store):
    alice, bob = new_id(), new_id()
    assert await any_store.count_all_unread() == 0
    await any_store.add_notifications(
        [
            *(make_notification(alice, at) for at in at_minutes(0, 1, 2)),
            make_notification(alice, T0, read=True),
            make_notification(bob, T0),
        ]
    )
    assert await any_store.count_all_unread() == 4
    await any_store.mark_read(alice, None)
    assert await any_store.count_all_unread() == 1


@pytest.mark.gen_test
async def test_mark_read_changes_only_the_users_own_unread_notifications(any_store):
    alice, bob = new_id(), new_id()
    hers = [make_notification(alice, at) for at in at_minutes(0, 1, 2, 3)]
    already = make_notification(alice, T0, read=True)
    his = [make_notification(bob, at) for at in at_minutes(0, 1)]
    await any_store.add_notifications([*hers, already, *his])

    # Already read, another user's, unknown, malformed and repeated ids change nothing.
    assert (
        await any_store.mark_read(
            alice,
            [hers[0].id, hers[1].id, already.id, his[0].id, new_id(), "not-an-id", hers[0].id],
        )
        == 2
    )
    assert await any_store.count_unread(alice) == 2
    assert await any_store.count_unread(bob) == 2
    assert await any_store.mark_read(alice, [hers[0].id]) == 0
    assert await any_store.mark_read(bob, [hers[2].id, hers[3].id]) == 0
    assert await any_store.count_unread(alice) == 2
    assert await any_store.mark_read(alice, []) == 0
    assert await any_store.mark_read(new_id(), None) == 0

    assert await any_store.mark_read(alice, None) == 2  # all of hers
    assert await any_store.count_unread(alice) == 0
    assert await any_store.mark_read(alice, None) == 0
    assert all(n.read for n in await any_store.list_notifications(alice, None, 10))
    assert await any_store.list_notifications(bob, None, 10) == by_newest(his)  # unread
    assert await any_store.count_unread(bob) == 2


def make_mail(due, **extra) -> Mail:
    return Mail(
        id=new_id(),
        to=extra.pop("to", "citizen@example.org"),
        subject=extra.pop("subject", "您的信件有了答复"),
        body="请登录查看 <a>",
        created_at=T0,
        next_attempt_at=due,
        **extra,
    )


def oldest_due_first(mails):
    return sorted(mails, key=lambda m: (m.next_attempt_at, m.id))


@pytest.mark.gen_test
async def test_due_mail_is_claimed_oldest_first_up_to_the_limit(any_store):
    due = [make_mail(at) for at in at_minutes(3, 1, 2)]
    due.append(make_mail(due[1].next_attempt_at, attempts=2, last_error="421 稍后再试"))  # a tie
    later = make_mail(T0 + dt.timedelta(hours=1))
    done = [
        make_mail(None, sent_at=T0, attempts=1),  # sent
        make_mail(None, attempts=5, last_error="550 no such user"),
    ]  # given up
    for mail in [*due, later, *done]:
        await any_store.enqueue_mail(mail)
    assert await any_store.count_mail_waiting() == 5

    at = T0 + dt.timedelta(minutes=10)
    lease = at + dt.timedelta(minutes=5)
    assert await any_store.claim_mail(at, lease, 0) == []
    first = await any_store.claim_mail(at, lease, 3)
    rest = await any_store.claim_mail(at, lease, 3)
    assert first + rest == oldest_due_first(due)  # as they were before the claim, every field
    # Claimed ones wait for their lease to end; the later one is not due; done ones never are.
    assert await any_store.claim_mail(at, lease, 10) == []
    assert await any_store.claim_mail(lease - dt.timedelta(milliseconds=1), lease, 10) == []
    assert await any_store.count_mail_waiting() == 5

    # Once the lease has ended (a sender that died), they are due again, at the lease's time.
    again = await any_store.claim_mail(lease, lease + dt.timedelta(minutes=5), 10)
    assert again == oldest_due_first(
        dataclasses.replace(mail, next_attempt_at=lease) for mail in due
    )
    assert await any_store.claim_mail(later.next_attempt_at, later.next_attempt_at, 10) == [
        *oldest_due_first(
            dataclasses.replace(mail, next_attempt_at=lease + dt.timedelta(minutes=5))
            for mail in due
        ),
        later,
    ]


@pytest.mark.gen_test
async def test_concurrent_claimers_take_disjoint_mails(any_store):
    mails = [make_mail(at) for at in at_minutes(*range(12))]
    for mail in mails:
        await any_store.enqueue_mail(mail)
    at = T0 + dt.timedelta(hours=1)
    batches = await asyncio.gather(
        *(any_store.claim_mail(at, at + dt.timedelta(minutes=5), 5) for _ in range(4))
    )
    claimed = [mail.id for batch in batches for mail in batch]
    assert sorted(claimed) == sorted(ids(mails))  # every mail once, none twice
    for batch in batches:  # how the 12 split among the claimers depends on the interleaving
        assert len(batch) <= 5 and batch == oldest_due_first(batch)
    assert await any_store.claim_mail(at, at, 10) == []


@pytest.mark.gen_test
async def test_finish_mail_records_sent_retry_and_give_up(any_store):
    sent, retried, dropped = (make_mail(at) for at in at_minutes(0, 1, 2))
    for mail in (sent, retried, dropped):
        await any_store.enqueue_mail(mail)
    at = T0 + dt.timedelta(minutes=5)
    lease = at + dt.timedelta(minutes=5)
    assert ids(await any_store.claim_mail(at, lease, 10)) == ids([sent, retried, dropped])

    await any_store.finish_mail(
        sent.id, sent_at=at, next_attempt_at=None, attempts=1, error=None, body="（已发送）"
    )
    retry_at = T0 + dt.timedelta(minutes=30)
    await any_store.finish_mail(
        retried.id, sent_at=None, next_attempt_at=retry_at, attempts=1, error="421 稍后再试"
    )
    await any_store.finish_mail(
        dropped.id, sent_at=None, next_attempt_at=None, attempts=5, error="550 no such user"
    )
    assert await any_store.count_mail_waiting() == 1
    # The retry is due at its new time and not before, with what the last attempt left.
    assert await any_store.claim_mail(retry_at - dt.timedelta(milliseconds=1), lease, 10) == []
    far = T0 + dt.timedelta(days=365)
    assert await any_store.claim_mail(retry_at, far, 10) == [
        dataclasses.replace(
            retried, next_attempt_at=retry_at, attempts=1, last_error="421 稍后再试"
        )
    ]
    assert ids(await any_store.claim_mail(far, far, 10)) == [retried.id]  # never the others
    kept = {m["id"]: m async for kind, m in any_store.export_records() if kind == "mail"}
    assert kept[sent.id]["body"] == "（已发送）" and kept[retried.id]["body"] == retried.body

    await any_store.finish_mail(
        retried.id, sent_at=far, next_attempt_at=None, attempts=2, error=None
    )
    assert await any_store.count_mail_waiting() == 0
    assert await any_store.claim_mail(far, far, 10) == []


# throttling ----------------------------------------------------------------------------------
WINDOW = dt.timedelta(minutes=10)


async def reserve(store, key, at=T0, limit=3):
    return await store.reserve_hit(key, at, at - WINDOW, limit)


@pytest.mark.gen_test
async def test_hits_are_counted_in_their_window_and_cleared(any_store):
    for minutes in (0, 5, 10):
        assert await reserve(any_store, "login:alice", T0 + dt.timedelta(minutes=minutes))
    assert await reserve(any_store, "login:bob")
    assert await any_store.count_hits("login:alice", T0 + dt.timedelta(minutes=5)) == 2
    assert await any_store.count_hits("login:alice", T0) == 3
    await any_store.clear_hits("login:alice")
    assert await any_store.count_hits("login:alice", T0) == 0
    assert await any_store.count_hits("login:bob", T0) == 1


@pytest.mark.gen_test
async def test_reserve_hit_records_only_while_the_limit_has_room(any_store):
    # All at the same millisecond, as under a frozen clock: each hit still counts once.
    taken = [await reserve(any_store, "tracking:1.2.3.4") for _ in range(3)]
    assert all(taken) and len(set(taken)) == 3
    assert await reserve(any_store, "tracking:1.2.3.4") is None
    assert await any_store.count_hits("tracking:1.2.3.4", T0) == 3
    # Another key has its own count; a limit of nothing lets nothing through.
    assert await reserve(any_store, "tracking:5.6.7.8")
    assert await reserve(any_store, "tracking:9.9.9.9", limit=0) is None
    assert await any_store.count_hits("tracking:9.9.9.9", T0 - WINDOW) == 0


@pytest.mark.gen_test
async def test_reserve_hit_counts_only_the_window(any_store):
    for minutes in (0, 1, 2):
        assert await reserve(any_store, "login:carol", T0 + dt.timedelta(minutes=minutes))
    assert await reserve(any_store, "login:carol", T0 + dt.timedelta(minutes=9)) is None
    # Ten minutes after the first hit it has left the window (which starts at `since`,
    # inclusive): one place is free again, and only one.
    later = T0 + dt.timedelta(minutes=10, milliseconds=1)
    assert await reserve(any_store, "login:carol", later)
    assert await reserve(any_store, "login:carol", later) is None


@pytest.mark.gen_test
async def test_release_hit_gives_the_place_back_once(any_store):
    first, second, third = [await reserve(any_store, "register:1.2.3.4") for _ in range(3)]
    await reserve(any_store, "register:other")
    await any_store.release_hit("register:1.2.3.4", second)
    assert await any_store.count_hits("register:1.2.3.4", T0) == 2
    # Released twice, or under another key, or an id never given: nothing more goes.
    await any_store.release_hit("register:1.2.3.4", second)
    await any_store.release_hit("register:other", first)
    await any_store.release_hit("register:1.2.3.4", "not-an-id")
    assert await any_store.count_hits("register:1.2.3.4", T0) == 2
    assert await any_store.count_hits("register:other", T0) == 1
    fourth = await reserve(any_store, "register:1.2.3.4")
    assert fourth and await reserve(any_store, "register:1.2.3.4") is None
    for hit_id in (first, third, fourth):
        await any_store.release_hit("register:1.2.3.4", hit_id)
    assert await any_store.count_hits("register:1.2.3.4", T0) == 0


@pytest.mark.gen_test
async def test_reserve_hit_racing_lets_exactly_the_limit_through(any_store, tmp_path):
    """Many reservations at once, half of them through a second store over the same data (as
    from another process), at the same millisecond: exactly `limit` get an id."""
    other = stores.another(any_store)
    await other.open()
    try:
        answers = await asyncio.gather(
            *(
                (any_store if n % 2 else other).reserve_hit("login:dave", T0, T0 - WINDOW, 5)
                for n in range(40)
            )
        )
    finally:
        await other.close()
    assert sum(answer is not None for answer in answers) == 5
    assert await any_store.count_hits("login:dave", T0 - WINDOW) == 5


# durability and upgrades ---------------------------------------------------------------------
@pytest.mark.gen_test
async def test_open_twice_keeps_data(any_store):
    user = make_user()
    await any_store.add_user(user)
    await any_store.open()  # a restart runs the upgrade step again; it must be harmless
    assert await any_store.get_user(user.id) == user


@pytest.mark.gen_test
async def test_ping_answers(any_store):
    await any_store.ping()


@pytest.mark.gen_test
async def test_check_finds_nothing_wrong_in_a_sound_store(any_store):
    await any_store.add_user(make_user())
    assert await any_store.check() == []


@pytest.mark.gen_test
async def test_update_post_can_expect_a_field_to_be_unset(any_store):
    post = make_post(board="mayor", status=Status.ROUTED)
    await any_store.add_post(post)
    expect = {"status": Status.ROUTED, "overdue_since": None}
    results = await asyncio.gather(
        *(
            any_store.update_post(
                post.id, {"overdue_since": T0}, event=event_for(post.id, "overdue"), expect=expect
            )
            for _ in range(3)
        ),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Conflict", "Post"]
    assert [e.action for e in await any_store.list_events(post.id)] == ["overdue"]
    with pytest.raises(ValueError):
        await any_store.update_post(post.id, {}, expect={"id": post.id})


# search --------------------------------------------------------------------------------------
async def found(store, terms, where=(PostFilter(),), offset=0, limit=20) -> list[str]:
    return ids(hit.post for hit in await store.search_posts(terms, list(where), offset, limit))


async def indexed(store, terms, **extra) -> Post:
    post = make_post(**extra)
    await store.add_post(post)
    await store.index_post(post.id, terms)
    return post


@pytest.mark.gen_test
async def test_search_finds_posts_having_any_of_the_terms(any_store):
    labour = await indexed(
        any_store, ["劳动", "合同", "劳动合同", "纠纷"], title="劳动合同纠纷怎么处理"
    )
    wages = await indexed(any_store, ["工资", "拖欠", "合同"], at=T0 + dt.timedelta(minutes=1))
    await indexed(any_store, ["道路", "维修"])
    await any_store.add_post(make_post())  # never indexed

    (hit,) = await any_store.search_posts(["劳动合同"], [PostFilter()], 0, 10)
    assert hit.post == await any_store.get_post(labour.id) and hit.score > 0
    assert set(await found(any_store, ["合同"])) == {labour.id, wages.id}
    assert set(await found(any_store, ["劳动", "工资"])) == {labour.id, wages.id}
    assert await found(any_store, ["工资", "不存在的词"]) == [wages.id]
    assert await found(any_store, ["不存在的词"]) == []
    assert await found(any_store, ["劳"]) == []  # whole terms only, no prefixes


@pytest.mark.gen_test
async def test_search_ranks_more_matching_terms_first_then_newer(any_store):
    query = ["劳动", "合同", "劳动合同"]
    # Common terms in a long text against one rare term in a short one: the count comes first.
    filler = [f"词{n}" for n in range(40)]
    for minute in range(5):
        await indexed(any_store, ["劳动", "合同", *filler], at=T0 + dt.timedelta(minutes=minute))
    all_three = await indexed(any_store, [*query, *filler], at=T0 - dt.timedelta(days=1))
    two = await indexed(any_store, ["劳动", "合同", *filler], at=T0 - dt.timedelta(days=1))
    rare = await indexed(any_store, ["劳动合同"], at=T0 + dt.timedelta(days=1))
    # Equal terms, equal texts: the newer first.
    older = await indexed(any_store, ["仲裁", "申请"], at=T0)
    newer = await indexed(any_store, ["仲裁", "申请"], at=T0 + dt.timedelta(minutes=1))

    hits = await any_store.search_posts(query, [PostFilter()], 0, 20)
    order = ids(hit.post for hit in hits)
    assert order[0] == all_three.id
    assert order.index(two.id) < order.index(rare.id) and order[-1] == rare.id
    assert len(order) == 8
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    assert await found(any_store, ["仲裁"]) == [newer.id, older.id]
    assert await found(any_store, ["申请", "仲裁", "申请"]) == [newer.id, older.id]


@pytest.mark.gen_test
async def test_search_keeps_posts_matching_any_one_of_the_filters(any_store):
    terms = ["噪音", "扰民"]
    author = make_user()
    await any_store.add_user(author)
    forum_post = await indexed(any_store, terms, board="forum")
    await indexed(any_store, terms, board="forum", status=Status.HIDDEN)
    public_letter = await indexed(
        any_store, terms, board="mayor", status=Status.ACCEPTED, public=True
    )
    private_letter = await indexed(
        any_store, terms, board="mayor", status=Status.ACCEPTED, public=False, author_id=author.id
    )
    await indexed(any_store, terms, board="mayor", status=Status.SUBMITTED, public=True)
    await indexed(any_store, terms, board="report", status=Status.ACCEPTED, public=True)

    public = [
        PostFilter(board="forum", statuses=(Status.PUBLISHED,)),
        PostFilter(board="mayor", statuses=(Status.ACCEPTED,), public=True),
    ]
    assert set(await found(any_store, terms, public)) == {forum_post.id, public_letter.id}
    for offset in range(6):  # on no page either
        assert private_letter.id not in await found(any_store, ["噪音"], public, offset, 1)
    # The author's own filter is one more way in, for the author only.
    own = [*public, PostFilter(author_id=author.id)]
    assert set(await found(any_store, terms, own)) == {
        forum_post.id,
        public_letter.id,
        private_letter.id,
    }
    assert await found(any_store, terms, [PostFilter(board="forum", statuses=())]) == []


@pytest.mark.gen_test
async def test_index_post_replaces_the_terms_and_an_empty_list_removes_the_post(any_store):
    post = await indexed(any_store, ["旧词", "共同"])
    await any_store.index_post(post.id, ["新词", "共同"])
    assert await found(any_store, ["旧词"]) == []
    assert await found(any_store, ["新词"]) == [post.id]
    assert await found(any_store, ["共同"]) == [post.id]  # once, not once per indexing

    # Changes to the post keep its terms.
    await any_store.update_post(
        post.id,
        {"title": "改过的标题", "status": Status.HIDDEN},
        revision=None,
        event=event_for(post.id, "edit"),
    )
    await any_store.add_reply(make_reply(post.id), {"updated_at": T0})
    reply = make_reply(post.id)
    await any_store.add_reply(reply, {})
    await any_store.accept_reply(post.id, reply.id, {"accepted_reply_id": reply.id})
    (hit,) = await any_store.search_posts(["新词"], [PostFilter()], 0, 5)
    assert hit.post == await any_store.get_post(post.id)
    assert hit.post.title == "改过的标题" and hit.post.reply_count == 2

    await any_store.index_post(post.id, [])
    assert await found(any_store, ["新词", "共同"]) == []
    await any_store.index_post(post.id, [])  # not indexed: nothing to remove, no error
    await any_store.index_post(post.id, ["回来"])
    assert await found(any_store, ["回来"]) == [post.id]
    with pytest.raises(NotFound):
        await any_store.index_post(new_id(), ["词"])
    with pytest.raises(NotFound):
        await any_store.index_post("not-an-id", [])


@pytest.mark.gen_test
async def test_search_pages_by_offset_and_limit(any_store):
    posts = [await indexed(any_store, ["公交", "线路"], at=at) for at in at_minutes(3, 0, 4, 1, 2)]
    newest_first = ids(sorted(posts, key=lambda p: p.created_at, reverse=True))
    assert await found(any_store, ["公交"]) == newest_first
    pages = [await found(any_store, ["公交"], offset=offset, limit=2) for offset in (0, 2, 4)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    assert await found(any_store, ["公交"], offset=5, limit=2) == []
    assert await found(any_store, ["公交"], limit=0) == []
    assert await found(any_store, ["公交"], offset=-1, limit=1) == newest_first[:1]


@pytest.mark.gen_test
async def test_search_terms_are_words_never_syntax(any_store):
    odd = [
        '"NEAR(*',
        "NEAR",
        "AND",
        "OR",
        "NOT",
        "-",
        "a-b",
        "$ne",
        '{"$ne":null}',
        "*",
        "(x)",
        "'; DROP",
        "%00",
        "col:val",
        "^x",
        '"',
        '""',
        "+",
        "\\",
        "a b",
        "\x00",
        "\ue000",
        "$where",
        "$$this",
        "劳动*",
    ]
    special = await indexed(any_store, odd)
    plain = await indexed(any_store, ["near", "and", "ne", "x", "drop", "00", "劳动", "val", "a"])
    for term in odd:
        assert await found(any_store, [term]) == [special.id], term
    assert await found(any_store, odd) == [special.id]
    assert await found(any_store, ["near", "ne", "x"]) == [plain.id]
    for term in ("NEA", "near(*", "Ne", "a", "b", "ne", "x", "00", "劳动"):
        assert special.id not in await found(any_store, [term]), term
    where = [PostFilter(board='forum" OR 1=1 --'), PostFilter(category="$ne")]
    assert await found(any_store, odd, where) == []


@pytest.mark.gen_test
async def test_search_without_terms_or_filters_finds_nothing(any_store):
    await indexed(any_store, ["城市", "绿化"])
    assert await found(any_store, []) == []
    assert await found(any_store, [""]) == []
    assert await found(any_store, ["城市"], []) == []
    assert await any_store.search_posts(["城市"], [PostFilter()], 0, 5) != []


@pytest.mark.gen_test
async def test_list_users_by_role_and_department(any_store):
    people = [
        make_user("zed", roles=[Role.CITIZEN, Role.STAFF], department="tax"),
        make_user("amy", roles=[Role.CITIZEN, Role.STAFF], department="tax"),
        make_user("bob", roles=[Role.CITIZEN, Role.STAFF], department="police"),
        make_user("cat", roles=[Role.CITIZEN, Role.MODERATOR]),
        make_user("dan", roles=[Role.CITIZEN, Role.STAFF], department="tax", disabled=True),
        make_user("eve", roles=[Role.CITIZEN], department="tax"),
    ]
    for user in people:
        await any_store.add_user(user)

    def names(users):
        return [u.username for u in users]

    assert names(await any_store.list_users(role=Role.STAFF, department="tax", limit=10)) == [
        "amy",
        "zed",
    ]
    assert names(await any_store.list_users(role=Role.MODERATOR, department=None, limit=10)) == [
        "cat"
    ]
    assert names(await any_store.list_users(role=None, department="tax", limit=10)) == [
        "amy",
        "eve",
        "zed",
    ]
    assert len(await any_store.list_users(role=None, department=None, limit=3)) == 3
    assert await any_store.list_users(role=Role.ADMIN, department=None, limit=10) == []


@pytest.mark.gen_test
async def test_search_weighs_repeated_terms_within_an_equal_match(any_store):
    weighted = make_post(title="weighted", at=T0)
    plain = make_post(title="plain", at=T0 + dt.timedelta(minutes=1))  # newer, but lighter
    for post, terms in ((weighted, ["合同", "合同", "合同", "甲"]), (plain, ["合同", "乙"])):
        await any_store.add_post(post)
        await any_store.index_post(post.id, terms)
    hits = await any_store.search_posts(["合同"], [PostFilter()], 0, 10)
    assert [hit.post.title for hit in hits] == ["weighted", "plain"]
    assert hits[0].score > hits[1].score


@pytest.mark.gen_test
async def test_search_scores_are_the_terms_matched_then_how_often_alike_in_both_stores(any_store):
    query = ["合同", "纠纷"]
    titled = await indexed(any_store, ["合同", "合同", "合同", "纠纷"], at=T0)
    both = await indexed(any_store, ["纠纷", "合同", "其他"], at=T0)
    often = await indexed(any_store, ["纠纷"] * 4, at=T0)
    once = await indexed(any_store, ["合同"], at=T0 + dt.timedelta(days=1))  # newest, yet last
    hits = await any_store.search_posts(query, [PostFilter()], 0, 10)
    assert ids(hit.post for hit in hits) == [titled.id, both.id, often.id, once.id]
    assert [hit.score for hit in hits] == pytest.approx(
        [2 + 4 / 5, 2 + 2 / 3, 1 + 4 / 5, 1 + 1 / 2]
    )


@pytest.mark.gen_test
async def test_search_pages_through_hits_most_of_which_the_filters_leave_out(any_store):
    posts = [
        await indexed(
            any_store,
            ["街道"] * (1 + n % 3),
            at=T0 + dt.timedelta(minutes=n),
            board="agri" if n % 4 == 0 else "forum",
        )
        for n in range(40)
    ]
    kept = [post for post in posts if post.board == "agri"]
    # More repeats first, then newer.
    weight = {post.id: 1 + n % 3 for n, post in enumerate(posts)}
    expected = ids(sorted(kept, key=lambda p: (weight[p.id], p.created_at), reverse=True))
    where = [PostFilter(board="agri")]
    pages = [await found(any_store, ["街道"], where, offset, 3) for offset in range(0, 12, 3)]
    assert [post_id for page in pages for post_id in page] == expected
    assert await found(any_store, ["街道"], where, 9, 3) == expected[9:]


# idempotency keys ----------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_an_idempotency_key_is_claimed_once_then_answers_its_record(any_store):
    assert await any_store.claim_idempotency("user:a", "k-1", "hash1", T0) is None
    running = await any_store.claim_idempotency("user:a", "k-1", "hash2", T0)
    assert (running.caller, running.key, running.body_hash) == ("user:a", "k-1", "hash1")
    assert running.created_at == T0 and running.status is None and running.body is None
    await any_store.finish_idempotency("user:a", "k-1", 201, "application/json", '{"id":1}')
    done = await any_store.claim_idempotency("user:a", "k-1", "hash1", T0 + dt.timedelta(hours=1))
    assert (done.status, done.content_type, done.body) == (201, "application/json", '{"id":1}')
    # Another caller's key of the same name is its own.
    assert await any_store.claim_idempotency("addr:10.0.0.1", "k-1", "hash1", T0) is None


@pytest.mark.gen_test
async def test_an_idempotency_key_is_new_again_after_a_day_or_when_released(any_store):
    assert await any_store.claim_idempotency("user:a", "k", "h", T0) is None
    await any_store.finish_idempotency("user:a", "k", 201, "application/json", "{}")
    assert await any_store.claim_idempotency("user:a", "k", "h", T0 + dt.timedelta(hours=23))
    assert (
        await any_store.claim_idempotency("user:a", "k", "h2", T0 + dt.timedelta(hours=25)) is None
    )
    fresh = await any_store.claim_idempotency("user:a", "k", "h", T0 + dt.timedelta(hours=26))
    assert fresh.body_hash == "h2" and fresh.status is None
    await any_store.release_idempotency("user:a", "k")
    await any_store.release_idempotency("user:a", "absent")  # nothing to forget: no error
    assert await any_store.claim_idempotency("user:a", "k", "h3", T0) is None


@pytest.mark.gen_test
async def test_concurrent_claims_of_one_key_leave_exactly_one_winner(any_store):
    results = await asyncio.gather(
        *(any_store.claim_idempotency("user:a", "race", f"h{n}", T0) for n in range(8))
    )
    assert sum(result is None for result in results) == 1
    winner = {result.body_hash for result in results if result is not None}
    assert len(winner) == 1


# subscriptions -------------------------------------------------------------------------------
def make_subscription(user_id, target, at=T0) -> Subscription:
    return Subscription(new_id(), user_id, target, at)


@pytest.mark.gen_test
async def test_a_subscription_is_stored_once_per_user_and_target(any_store):
    alice, bob = new_id(), new_id()
    first = make_subscription(alice, "board:forum")
    assert await any_store.add_subscription(first) == (first, True)
    again = make_subscription(alice, "board:forum", T0 + dt.timedelta(minutes=1))
    assert await any_store.add_subscription(again) == (first, False)  # the earlier one
    other = make_subscription(bob, "board:forum")
    assert await any_store.add_subscription(other) == (other, True)
    assert await any_store.get_subscription(alice, "board:forum") == first
    assert await any_store.get_subscription(alice, "board:agri") is None
    assert await any_store.list_subscriptions(alice, None, 10) == [first]


@pytest.mark.gen_test
async def test_simultaneous_follows_of_one_target_by_one_user_store_one(any_store):
    alice = new_id()
    attempts = [make_subscription(alice, "department:tax") for _ in range(8)]
    results = await asyncio.gather(*(any_store.add_subscription(s) for s in attempts))
    assert sum(created for _, created in results) == 1
    assert len({stored.id for stored, _ in results}) == 1
    assert len(await any_store.list_subscriptions(alice, None, 20)) == 1
    assert len(await any_store.list_subscribers("department:tax", None, 20)) == 1


@pytest.mark.gen_test
async def test_a_follow_inside_a_unit_that_finds_one_keeps_the_unit(any_store):
    alice = new_id()
    first = make_subscription(alice, "board:forum")
    await any_store.add_subscription(first)
    post = make_post()
    async with any_store.transaction():
        assert await any_store.add_subscription(make_subscription(alice, "board:forum")) == (
            first,
            False,
        )
        await any_store.add_post(post)  # the unit goes on and commits
    assert await any_store.get_post(post.id) is not None


@pytest.mark.gen_test
async def test_subscriptions_are_listed_newest_first_per_user_with_keyset_paging(any_store):
    alice, bob = new_id(), new_id()
    mine = [
        make_subscription(alice, f"board:b{n}", at)
        for n, at in enumerate(at_minutes(0, 1, 1, 2, 3))
    ]
    for subscription in [*mine, make_subscription(bob, "board:b0")]:
        await any_store.add_subscription(subscription)
    newest = sorted(mine, key=lambda s: (s.created_at, s.id), reverse=True)
    page = await any_store.list_subscriptions(alice, None, 3)
    rest = await any_store.list_subscriptions(alice, (page[-1].created_at, page[-1].id), 3)
    assert page + rest == newest
    assert await any_store.list_subscriptions(new_id(), None, 10) == []
    assert await any_store.list_subscriptions(alice, None, 0) == []


@pytest.mark.gen_test
async def test_subscribers_of_a_target_are_paged_by_user(any_store):
    people = sorted(new_id() for _ in range(7))
    for user_id in reversed(people):
        await any_store.add_subscription(make_subscription(user_id, "post:" + "a" * 24))
    await any_store.add_subscription(make_subscription(people[0], "post:" + "b" * 24))
    seen, after = [], None
    while page := await any_store.list_subscribers("post:" + "a" * 24, after, 3):
        seen.extend(page)
        after = page[-1].user_id
    assert [s.user_id for s in seen] == people
    assert await any_store.list_subscribers("post:" + "c" * 24, None, 3) == []
    assert await any_store.list_subscribers("post:" + "a" * 24, None, 0) == []


@pytest.mark.gen_test
async def test_delete_subscription_removes_only_the_users_own(any_store):
    alice, bob = new_id(), new_id()
    hers = make_subscription(alice, "board:forum")
    await any_store.add_subscription(hers)
    assert not await any_store.delete_subscription(hers.id, bob)  # not his
    assert not await any_store.delete_subscription(new_id(), alice)
    assert not await any_store.delete_subscription("not-an-id", alice)
    assert await any_store.list_subscriptions(alice, None, 10) == [hers]
    assert await any_store.delete_subscription(hers.id, alice)
    assert not await any_store.delete_subscription(hers.id, alice)  # gone already
    assert await any_store.list_subscriptions(alice, None, 10) == []
    assert await any_store.list_subscribers("board:forum", None, 10) == []
    # Following again afterwards makes a new one.
    again = make_subscription(alice, "board:forum")
    assert await any_store.add_subscription(again) == (again, True)


# reply templates and the knowledge base ------------------------------------------------------
def make_template(department="housing", at=T0, **extra) -> ReplyTemplate:
    return ReplyTemplate(
        id=extra.pop("id", new_id()),
        department=department,
        title=extra.pop("title", "已安排维修"),
        body="您好，已安排维修。",
        author_id=extra.pop("author_id", new_id()),
        created_at=at,
    )


def make_faq(board="lawyer", at=T0, **extra) -> FaqEntry:
    return FaqEntry(
        id=extra.pop("id", new_id()),
        board=board,
        post_id=extra.pop("post_id", new_id()),
        question=extra.pop("question", "不签劳动合同怎么办"),
        answer="可主张二倍工资。",
        answer_html="<p>可主张二倍工资。</p>",
        author_id=new_id(),
        created_at=at,
    )


@pytest.mark.gen_test
async def test_templates_are_kept_per_department_newest_first_and_deleted(any_store):
    assert await any_store.list_templates("housing") == []
    older, newer = make_template(at=T0), make_template(at=T0 + dt.timedelta(minutes=1))
    tied = make_template(at=T0 + dt.timedelta(minutes=1))
    other = make_template("police")
    for template in (older, newer, tied, other):
        await any_store.add_template(template)
    assert await any_store.list_templates("housing") == [
        *sorted([newer, tied], key=lambda t: t.id, reverse=True),
        older,
    ]
    assert await any_store.list_templates("police") == [other]
    assert await any_store.get_template(older.id) == older
    assert await any_store.get_template(new_id()) is None
    assert await any_store.get_template("not-an-id") is None
    with pytest.raises(Conflict):
        await any_store.add_template(make_template(id=older.id))
    assert await any_store.delete_template(older.id) is True
    assert await any_store.delete_template(older.id) is False
    assert await any_store.delete_template("not-an-id") is False
    assert ids(await any_store.list_templates("housing")) == ids(
        sorted([newer, tied], key=lambda t: t.id, reverse=True)
    )


@pytest.mark.gen_test
async def test_faq_entries_are_listed_by_board_newest_first_in_pages_and_deleted(any_store):
    assert await any_store.list_faq("lawyer", None, 10) == []
    times = at_minutes(0, 1, 2, 3)
    made = [make_faq("lawyer", at) for at in times[:3]] + [make_faq("agri", times[3])]
    for entry in made:
        await any_store.add_faq(entry)
    lawyer = await any_store.list_faq("lawyer", None, 10)
    assert lawyer == list(reversed(made[:3]))
    assert ids(await any_store.list_faq(None, None, 10)) == ids(reversed(made))
    first = await any_store.list_faq("lawyer", None, 2)
    assert ids(first) == ids(lawyer[:2])
    rest = await any_store.list_faq("lawyer", (first[-1].created_at, first[-1].id), 2)
    assert ids(rest) == ids(lawyer[2:])
    assert await any_store.list_faq("lawyer", None, 0) == []
    assert await any_store.get_faq(made[0].id) == made[0]
    assert await any_store.get_faq("nope") is None
    with pytest.raises(Conflict):
        await any_store.add_faq(make_faq(id=made[0].id))
    assert await any_store.delete_faq(made[0].id) is True
    assert await any_store.delete_faq(made[0].id) is False
    assert await any_store.get_faq(made[0].id) is None


@pytest.mark.gen_test
async def test_template_and_faq_writes_move_the_content_version(any_store):
    before = await any_store.content_version()
    template, entry = make_template(), make_faq()
    await any_store.add_template(template)
    after_template = await any_store.content_version()
    assert after_template > before
    await any_store.add_faq(entry)
    after_faq = await any_store.content_version()
    assert after_faq > after_template
    await any_store.delete_faq(entry.id)
    assert await any_store.content_version() > after_faq


# backup and restore --------------------------------------------------------------------------
async def every_kind(store) -> dict[str, list]:
    """One or more records of every kind a backup holds, plus a login and a rate-limit hit (which
    it does not); returns the records made, by kind, each kind in record_key order."""
    author, admin = (
        make_user("author", roles=[Role.CITIZEN], specialties=["劳动"]),
        make_user(
            "root", roles=[Role.CITIZEN, Role.ADMIN], email="root@example.cn", email_confirmed=True
        ),
    )
    post = make_post(
        board="mayor",
        author_id=author.id,
        status=Status.ROUTED,
        department="tax",
        due_at=T0 + dt.timedelta(days=15),
        tracking_hash="f" * 64,
        public=True,
    )
    reply = make_reply(post.id, author_id=admin.id, kind=ReplyKind.OFFICIAL, board="mayor")
    revision = Revision(new_id(), post.id, "旧标题", "旧正文", author.id, T0)
    flag = Flag(new_id(), post.id, admin.id, "广告", T0)
    attachment = make_attachment(
        post.id,
        b"%PDF-1.4 evidence",
        filename="证据.pdf",
        content_type="application/pdf",
        uploader_id=author.id,
    )
    audit = AuditEntry(new_id(), T0, admin.id, "route", f"post:{post.id}", "转办", "tax")
    notification = Notification(new_id(), author.id, "official", post.id, "已答复", T0)
    mail = Mail(new_id(), "root@example.cn", "主题", "正文", T0, next_attempt_at=T0)
    api_key = make_api_key(created_by=admin.id)
    subscription = Subscription(new_id(), author.id, f"post:{post.id}", T0)
    await store.ensure_departments([Department("tax", "税务局")])
    await store.ensure_boards([BoardSettings("mayor", "市长书记信箱", categories=["城建"])])
    for user in (author, admin):
        await store.add_user(user)
    await store.add_api_key(api_key)
    await store.add_post(post, event_for(post.id))
    await store.add_reply(reply, {"replied_at": T0})
    await store.update_post(post.id, {"title": "新标题"}, revision)
    await store.add_flag(flag)
    await store.add_attachment(attachment, b"%PDF-1.4 evidence")
    await store.add_audit(audit)
    await store.add_notifications([notification])
    await store.enqueue_mail(mail)
    await store.add_subscription(subscription)
    await store.put_setting("calendar", {"holidays": ["2026-10-01"], "workdays": []})
    await store.put_setting("sensitive_words", ["赌博"])
    await store.index_post(post.id, ["路灯", "路灯", "维修"])
    await store.add_session(
        Session("token-hash", author.id, "cookie", T0, T0 + dt.timedelta(days=1))
    )
    await store.reserve_hit("login:author", T0, T0, 1)
    template = make_template("tax", author_id=admin.id)
    entry = make_faq("mayor", post_id=post.id)
    await store.add_template(template)
    await store.add_faq(entry)
    made = {
        "departments": [Department("tax", "税务局")],
        "boards": [BoardSettings("mayor", "市长书记信箱", categories=["城建"])],
        "users": [author, admin],
        "api_keys": [api_key],
        "posts": [await store.get_post(post.id)],
        "replies": await store.list_replies(post.id),
        "revisions": [revision],
        "events": await store.list_events(post.id),
        "flags": [flag],
        "attachments": [attachment],
        "audit": [audit],
        "notifications": [notification],
        "mail": [mail],
        "settings": [
            {"key": "calendar", "value": {"holidays": ["2026-10-01"], "workdays": []}},
            {"key": "sensitive_words", "value": ["赌博"]},
        ],
        "subscriptions": [subscription],
        "templates": [template],
        "faq": [entry],
    }
    return {
        kind: sorted(
            (r if isinstance(r, dict) else to_plain(r) for r in records),
            key=lambda r, kind=kind: r[record_key(kind)],
        )
        for kind, records in made.items()
    }


async def exported(store) -> dict[str, list[dict]]:
    by_kind: dict[str, list[dict]] = {}
    async for kind, record in store.export_records():
        by_kind.setdefault(kind, []).append(record)
    return by_kind


@pytest.mark.gen_test
async def test_export_gives_every_record_of_every_kind_in_order_and_no_transient_ones(any_store):
    made = await every_kind(any_store)
    kinds = []
    async for kind, _ in any_store.export_records():
        if kind not in kinds:
            kinds.append(kind)
    assert kinds == list(RECORD_KINDS)  # what a record refers to comes before it
    # Plain records of the model's fields only: no sessions or hits, no search terms, no
    # adapter's helper fields (username_key, _id).
    assert await exported(any_store) == made
    assert not set(TRANSIENT_KINDS) & set(await exported(any_store))
    assert await any_store.count_records() == {kind: len(made[kind]) for kind in RECORD_KINDS}


@pytest.mark.gen_test
async def test_import_records_restores_an_export_as_it_was_ids_kept(any_store):
    made = await every_kind(any_store)
    data = {
        attachment["id"]: (await any_store.get_attachment(attachment["id"]))[1]
        for attachment in made["attachments"]
    }
    await any_store.wipe()
    assert await exported(any_store) == {}
    for kind, records in made.items():
        if kind == "attachments":
            for record in records:
                await any_store.add_attachment(Attachment(**record), data[record["id"]])
            continue
        # Datetimes as an archive holds them: ISO strings.
        await any_store.import_records(
            kind,
            [
                {
                    name: value.isoformat() if isinstance(value, dt.datetime) else value
                    for name, value in record.items()
                }
                for record in records
            ],
        )
    assert await exported(any_store) == made
    author = made["users"][0]
    assert (await any_store.get_user_by_name(author["username"].upper())).id == author["id"]
    assert await any_store.get_setting("sensitive_words") == ["赌博"]
    assert await any_store.get_attachment(made["attachments"][0]["id"]) == (
        Attachment(**made["attachments"][0]),
        b"%PDF-1.4 evidence",
    )


@pytest.mark.gen_test
async def test_import_records_refuses_taken_ids_and_kinds_it_does_not_import(any_store):
    user = make_user("alice")
    await any_store.add_user(user)
    with pytest.raises(Conflict):
        await any_store.import_records("users", [to_plain(user)])
    for kind in ("attachments", "sessions", "hits", "nope"):
        with pytest.raises(ValueError):
            await any_store.import_records(kind, [])
    assert (await exported(any_store))["users"] == [to_plain(user)]


@pytest.mark.gen_test
async def test_is_empty_counts_every_kind_but_the_seeded_departments_and_boards(any_store):
    assert await any_store.is_empty()
    await any_store.ensure_departments([Department("tax", "税务局")])
    await any_store.ensure_boards([BoardSettings("forum", "强市论坛")])
    assert await any_store.is_empty()
    await any_store.reserve_hit("login:x", T0, T0, 1)  # even a transient record is something
    assert not await any_store.is_empty()
    await any_store.wipe()
    assert await any_store.is_empty()
    await any_store.put_setting("k", 1)
    assert not await any_store.is_empty()


@pytest.mark.gen_test
async def test_wipe_removes_everything_and_keeps_the_schema(any_store):
    made = await every_kind(any_store)
    attachment_id = made["attachments"][0]["id"]
    await any_store.wipe()
    assert await any_store.is_empty() and await exported(any_store) == {}
    assert await any_store.count_records() == {kind: 0 for kind in RECORD_KINDS}
    assert await any_store.get_session("token-hash") is None
    assert await any_store.count_hits("login:author", T0) == 0
    assert await any_store.get_attachment(attachment_id) is None
    assert await any_store.search_posts(["路灯"], [PostFilter()], 0, 10) == []
    # The indexes are still there: names stay unique, search still finds.
    await any_store.add_user(make_user("alice"))
    with pytest.raises(Conflict):
        await any_store.add_user(make_user("ALICE"))
    post = make_post()
    await any_store.add_post(post)
    await any_store.index_post(post.id, ["路灯"])
    assert [
        hit.post.id for hit in await any_store.search_posts(["路灯"], [PostFilter()], 0, 5)
    ] == [post.id]


@pytest.mark.gen_test
async def test_export_reads_one_snapshot_while_writes_go_on(any_store):
    before = make_user("before")
    await any_store.add_user(before)
    if any_store.kind == "mongodb" and not await any_store._supports_snapshots():
        # A standalone server (and the stand-in) has no snapshot reads: export reads plainly,
        # so everything written before it began is there, whatever happens meanwhile.
        users = (await exported(any_store))["users"]
        assert [record["id"] for record in users] == [before.id]
        return
    records = any_store.export_records()
    first = await records.__anext__()  # the snapshot is taken by the first read
    later, post = make_user("later"), make_post()
    await any_store.add_user(later)
    await any_store.add_post(post, event_for(post.id))
    rest = [first] + [item async for item in records]
    assert [record["id"] for kind, record in rest if kind == "users"] == [before.id]
    assert not [record for kind, record in rest if kind in ("posts", "events")]
    assert len((await exported(any_store))["users"]) == 2  # a new export sees them


@pytest.mark.gen_test
async def test_export_leaves_out_no_table_or_collection(any_store):
    """A new table or collection must be exported or named transient: a backup that silently
    leaves a kind of record out is found out here, not on the day of a restore."""
    await every_kind(any_store)
    if any_store.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(any_store.path)
        try:
            from forum.store.sqlite import _record_tables

            found = set(_record_tables(conn))
        finally:
            conn.close()
        internal = {"search_docs", "search_marks"}  # the search index, rebuilt by a restore
    else:
        found = set(await any_store._db.list_collection_names())
        found = {
            name.split(".")[0] if name.startswith("attachments.") else name
            for name in found
            if not name.startswith("system.")
        }
        internal = {"meta"}  # the schema version
    assert found - internal == set(RECORD_KINDS) | set(TRANSIENT_KINDS)


# bulk loading --------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_add_posts_bulk_stores_each_post_whole_with_its_terms(any_store):
    author = make_user()
    await any_store.add_user(author)
    earlier = await indexed(any_store, ["公交", "线路"], at=T0 - dt.timedelta(days=1))
    posts = [
        make_post(
            at=T0 + dt.timedelta(minutes=n),
            title=f"帖子{n}",
            author_id=author.id,
            category="交通出行",
            pinned=n == 0,
            reply_count=n,
        )
        for n in range(5)
    ]
    posts.append(
        make_post(
            board="mayor",
            status=Status.ROUTED,
            at=T0 + dt.timedelta(hours=1),
            public=True,
            contact="13812345678",
            department="housing",
            due_at=T0 + dt.timedelta(days=15),
            accepted_at=T0,
            routed_at=T0,
            rating="satisfied",
            reopened=True,
            tracking_hash="ab" * 32,
        )
    )
    terms = [["公交", "公交", "线路"], ["公交"], [], ["停车", ""], ["路灯"], ["公交", "转办"]]
    await any_store.add_posts_bulk(posts, terms)
    await any_store.add_posts_bulk([], [])

    for post in posts:
        assert await any_store.get_post(post.id) == post
    assert ids(await any_store.list_posts(PostFilter(board="forum"), None, 10)) == ids(
        sorted(posts[:5], key=lambda p: p.created_at, reverse=True)
    ) + [earlier.id]
    assert await any_store.get_post_by_tracking("ab" * 32) == posts[5]
    # Found alike with the posts indexed one by one, repeats weighing as index_post's do.
    assert await found(any_store, ["公交"]) == [posts[0].id, posts[5].id, posts[1].id, earlier.id]
    assert await found(any_store, ["停车"]) == [posts[3].id]
    assert await found(any_store, ["帖子2"]) == []
    # index_post replaces bulk-loaded terms like any others.
    await any_store.index_post(posts[4].id, ["新词"])
    assert await found(any_store, ["路灯"]) == [] and await found(any_store, ["新词"]) == [
        posts[4].id
    ]
    late = await indexed(any_store, ["公交"], at=T0 + dt.timedelta(days=2))
    assert await found(any_store, ["公交"]) == [
        posts[0].id,
        late.id,
        posts[5].id,
        posts[1].id,
        earlier.id,
    ]


@pytest.mark.gen_test
async def test_add_posts_bulk_refuses_a_duplicate_id(any_store):
    taken = make_post()
    await any_store.add_post(taken)
    with pytest.raises(Conflict):
        await any_store.add_posts_bulk([make_post(id=taken.id, title="另一个")], [["词"]])
    assert (await any_store.get_post(taken.id)).title == "标题"
    with pytest.raises(ValueError):
        await any_store.add_posts_bulk([make_post()], [])


@pytest.mark.gen_test
async def test_search_ties_of_one_moment_go_by_id_newest_first_on_every_page(any_store):
    same = [make_post(at=T0) for _ in range(7)]
    for post in same:
        await any_store.add_post(post)
    for post in reversed(same):  # indexed in the other order than their ids
        await any_store.index_post(post.id, ["同时"])
    heavier = await indexed(any_store, ["同时", "同时"], at=T0 - dt.timedelta(days=1))
    expected = [heavier.id, *sorted(ids(same), reverse=True)]
    assert await found(any_store, ["同时"]) == expected
    for limit in (1, 2, 3):
        pages = [
            await found(any_store, ["同时"], offset=offset, limit=limit)
            for offset in range(0, 8, limit)
        ]
        assert [post_id for page in pages for post_id in page] == expected, limit


@pytest.mark.gen_test
async def test_search_ties_of_one_moment_longer_than_a_batch_are_read_to_their_end(any_store):
    # More posts of one moment and one rank than SQLite checks in its first batch (wanted + a
    # few): the newest ids are among the last indexed, and none of the run may be missed.
    same = [make_post(at=T0) for _ in range(80)]
    for post in same:
        await any_store.add_post(post)
        await any_store.index_post(post.id, ["同时"])
    older = await indexed(any_store, ["同时"], at=T0 - dt.timedelta(days=1))
    expected = [*sorted(ids(same), reverse=True), older.id]
    assert await found(any_store, ["同时"], limit=3) == expected[:3]
    assert await found(any_store, ["同时"], offset=75, limit=10) == expected[75:]
    ranks = await any_store.search_ranks(["同时"], [PostFilter()], 2)
    assert [rank.post_id for rank in ranks] == expected[:2]


@pytest.mark.gen_test
async def test_touch_session_records_its_last_use(any_store):
    user = make_user()
    await any_store.add_user(user)
    await any_store.add_session(Session("h1", user.id, "cookie", T0, T0 + dt.timedelta(days=30)))
    assert (await any_store.get_session("h1")).last_seen_at is None
    later = T0 + dt.timedelta(hours=3)
    await any_store.touch_session("h1", later)
    await any_store.touch_session("absent", later)  # no error
    assert (await any_store.get_session("h1")).last_seen_at == later


@pytest.mark.gen_test
async def test_search_finds_the_few_visible_hits_behind_many_hidden_ones(any_store):
    hidden = [make_post(status=Status.HIDDEN, at=T0 + dt.timedelta(minutes=n)) for n in range(90)]
    tied = [make_post(at=T0 - dt.timedelta(days=1)) for _ in range(80)]  # one moment, one rank
    shown = [make_post(at=T0 - dt.timedelta(days=2, minutes=n)) for n in range(3)]
    for post in [*hidden, *tied, *shown]:
        await any_store.add_post(post)
    for post in reversed([*hidden, *tied, *shown]):
        await any_store.index_post(post.id, ["河道", "整治"])
    published = [PostFilter(statuses=(Status.PUBLISHED,))]
    expected = [*sorted(ids(tied), reverse=True), *ids(shown)]
    assert await found(any_store, ["河道"], published, 0, 1) == expected[:1]
    assert await found(any_store, ["河道", "整治"], published, 79, 3) == expected[79:82]
    assert await found(any_store, ["河道"], published, 0, 100) == expected

    # Enough posts have every term, but most are hidden: the page goes on with fewer terms.
    both = [
        await indexed(
            any_store,
            ["水质", "监测"],
            at=T0 + dt.timedelta(hours=n),
            status=Status.HIDDEN if n < 3 else Status.PUBLISHED,
        )
        for n in range(5)
    ]
    one = [await indexed(any_store, ["监测"], at=T0 + dt.timedelta(days=n)) for n in range(3)]
    assert await found(any_store, ["水质", "监测"], published, 0, 4) == [
        both[4].id,
        both[3].id,
        one[2].id,
        one[1].id,
    ]


@pytest.mark.gen_test
async def test_search_ranks_are_the_hits_of_search_posts_without_the_posts(any_store):
    posts = [
        await indexed(
            any_store,
            terms,
            at=T0 + dt.timedelta(minutes=n),
            status=Status.HIDDEN if n % 5 == 4 else Status.PUBLISHED,
        )
        for n, terms in enumerate(
            [["路灯"], ["路灯", "路灯", "维修"], ["维修"], ["路灯", "维修"]] * 8
        )
    ]
    same = [make_post(at=T0 - dt.timedelta(days=1)) for _ in range(4)]
    for post in same:
        await any_store.add_post(post)
        await any_store.index_post(post.id, ["路灯"])
    published = [PostFilter(statuses=(Status.PUBLISHED,))]
    for terms in (["路灯"], ["维修", "路灯"], ["维修"], ["没有的词"]):
        for where in ([PostFilter()], published):
            for limit in (1, 5, 40):
                hits = await any_store.search_posts(terms, where, 0, limit)
                ranks = await any_store.search_ranks(terms, where, limit)
                assert [(rank.post_id, rank.created_at, rank.score) for rank in ranks] == [
                    (hit.post.id, hit.post.created_at, hit.score) for hit in hits
                ]
    assert len(await any_store.search_ranks(["路灯"], published, 100)) == 23
    assert await any_store.search_ranks([], published, 10) == []
    assert await any_store.search_ranks(["路灯"], [], 10) == []
    assert await any_store.search_ranks(["路灯"], published, 0) == []
    assert posts  # made for the ranks above


@pytest.mark.gen_test
async def test_get_posts_gives_them_in_the_order_asked_and_skips_unknown_ids(any_store):
    posts = [make_post(at=T0 + dt.timedelta(minutes=n), title=f"第{n}帖") for n in range(3)]
    for post in posts:
        await any_store.add_post(post)
    asked = [posts[2].id, new_id(), posts[0].id, "not-an-id", posts[1].id]
    assert await any_store.get_posts(asked) == [posts[2], posts[0], posts[1]]
    assert await any_store.get_posts([]) == []


@pytest.mark.gen_test
async def test_search_finds_every_write_at_once_after_the_same_words_were_searched(any_store):
    """A store may keep what searches read (each common word's candidates, which posts passed
    the filters) while nothing is written: every write must show in the next search, also in
    another process over the same database."""
    many = [
        await indexed(any_store, ["停车", "小区"], at=T0 + dt.timedelta(minutes=n))
        for n in range(30)
    ]
    published = [PostFilter(statuses=(Status.PUBLISHED,))]
    expected = ids(reversed(many))
    for _ in range(2):  # the second time from whatever the first kept
        assert await found(any_store, ["停车"], published, 0, 40) == expected
        assert await found(any_store, ["小区", "停车"], published, 0, 40) == expected
    newest = await indexed(any_store, ["停车"], at=T0 + dt.timedelta(hours=1))
    assert await found(any_store, ["停车"], published, 0, 2) == [newest.id, expected[0]]
    await any_store.update_post(many[-1].id, {"status": Status.HIDDEN})
    assert await found(any_store, ["停车"], published, 0, 2) == [newest.id, expected[1]]
    await any_store.index_post(many[-2].id, [])
    assert await found(any_store, ["小区", "停车"], published, 0, 1) == [expected[2]]
    await any_store.index_post(many[0].id, ["停车", "停车", "小区", "路灯"])
    assert await found(any_store, ["小区", "停车"], published, 0, 1) == [many[0].id]
    assert [rank.post_id for rank in await any_store.search_ranks(["路灯"], published, 5)] == [
        many[0].id
    ]

    other = stores.another(any_store)
    await other.open()
    try:
        assert await found(other, ["停车"], published, 0, 1) == [many[0].id]  # 停车 twice
        await other.update_post(many[0].id, {"status": Status.HIDDEN})
        assert await found(any_store, ["停车"], published, 0, 1) == [newest.id]
        late = await indexed(other, ["停车"], at=T0 + dt.timedelta(hours=2))
        assert await found(any_store, ["停车"], published, 0, 1) == [late.id]
    finally:
        await other.close()


# the content version -------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_content_version_moves_on_with_what_pages_show_and_not_with_bookkeeping(any_store):
    """Pages cached for anonymous readers are valid while this number stays: every write of
    what they show must move it, in every process sharing the store."""
    author = make_user("writer")
    seen = [await any_store.content_version()]

    async def moved() -> bool:
        seen.append(await any_store.content_version())
        return seen[-1] != seen[-2]

    await any_store.add_user(author)
    assert await moved()
    post = make_post(author_id=author.id)
    await any_store.add_post(post, event_for(post.id))
    assert await moved()
    await any_store.add_reply(make_reply(post.id, author_id=author.id), {"updated_at": T0})
    assert await moved()
    await any_store.update_post(post.id, {"pinned": True})
    assert await moved()
    await any_store.update_user(author.id, {"display_name": "新名字"})
    assert await moved()
    board = (await any_store.list_boards())[0] if await any_store.list_boards() else None
    if board is not None:
        await any_store.save_board(dataclasses.replace(board, description="新说明"))
        assert await moved()
    await any_store.put_setting("sensitive_words", ["词"])
    assert await moved()
    # Bookkeeping that no shared page shows leaves it where it is.
    await any_store.add_session(
        Session("a" * 64, author.id, "cookie", T0, T0 + dt.timedelta(days=1))
    )
    await any_store.touch_session("a" * 64, T0 + dt.timedelta(minutes=10))
    await any_store.reserve_hit("posts-account:x", T0, T0, 1)
    await any_store.add_notifications([make_notification(author.id)])
    await any_store.mark_read(author.id, None)
    await any_store.add_audit(make_audit(author.id, f"post:{post.id}"))
    await any_store.delete_session("a" * 64)
    assert not await moved()
    # A write that fails still may not leave a stale page behind: at worst it moves the number.
    with pytest.raises(NotFound):
        await any_store.update_post(new_id(), {"pinned": True})


@pytest.mark.gen_test
async def test_auth_version_moves_on_when_a_login_ends_or_its_account_changes(any_store):
    """Logins are kept in each process's memory while this number stays: every write that
    changes who a login is must move it, and opening or touching a session need not."""
    user = make_user("holder")
    await any_store.add_user(user)
    seen = [await any_store.auth_version()]

    async def moved() -> bool:
        seen.append(await any_store.auth_version())
        return seen[-1] != seen[-2]

    for name in ("a", "b", "c", "d"):
        await any_store.add_session(
            Session(name * 64, user.id, "cookie", T0, T0 + dt.timedelta(days=1))
        )
    await any_store.touch_session("a" * 64, T0 + dt.timedelta(minutes=10))
    await any_store.add_post(make_post(author_id=user.id))
    assert not await moved()
    await any_store.delete_session("a" * 64)  # logout
    assert await moved()
    await any_store.update_user(user.id, {"roles": ["citizen", "moderator"]})  # a role changed
    assert await moved()
    await any_store.update_user(user.id, {"disabled": True})  # banned
    assert await moved()
    await any_store.delete_user_sessions(user.id)  # a password changed
    assert await moved()
    await any_store.add_session(
        Session("e" * 64, user.id, "confirm", T0, T0 + dt.timedelta(days=1))
    )
    assert await any_store.take_session("e" * 64, "confirm") is not None
    assert await moved()
    # Inside a unit of work, as outside it.
    async with any_store.transaction():
        await any_store.update_user(user.id, {"display_name": "改名"})
    assert await moved()


@pytest.mark.gen_test
async def test_the_three_versions_read_at_once_are_each_read_alone(any_store):
    async def alone() -> tuple[int, int, int]:
        return (
            await any_store.content_version(),
            await any_store.auth_version(),
            await any_store.notices_version(),
        )

    user = make_user("all-three")
    seen = [await any_store.versions()]
    assert seen[0] == await alone()
    await any_store.add_user(user)  # content
    await any_store.add_session(Session("v" * 64, user.id, "cookie", T0, T0 + dt.timedelta(days=1)))
    await any_store.delete_session("v" * 64)  # auth
    await any_store.add_notifications([make_notification(user.id)])  # notices
    seen.append(await any_store.versions())
    assert seen[1] == await alone()
    assert all(after > before for before, after in zip(*seen))


@pytest.mark.gen_test
async def test_notices_version_moves_on_with_every_write_of_notifications_and_subscriptions(
    any_store,
):
    """A person's unread count and subscriptions are kept in each process's memory while this
    number stays: every write of them must move it, and content or logins need not."""
    user = make_user("reader")
    await any_store.add_user(user)
    seen = [await any_store.notices_version()]

    async def moved() -> bool:
        seen.append(await any_store.notices_version())
        return seen[-1] != seen[-2]

    post = make_post(author_id=user.id)
    await any_store.add_post(post, event_for(post.id))
    await any_store.add_session(Session("a" * 64, user.id, "cookie", T0, T0 + dt.timedelta(days=1)))
    await any_store.delete_session("a" * 64)
    assert not await moved()
    await any_store.add_notifications([make_notification(user.id)])
    assert await moved()
    assert await any_store.mark_read(user.id, None) == 1
    assert await moved()
    made, fresh = await any_store.add_subscription(
        Subscription(new_id(), user.id, f"post:{post.id}", T0)
    )
    assert fresh and await moved()
    assert await any_store.delete_subscription(made.id, user.id)
    assert await moved()
    # Inside a unit of work, as outside it.
    async with any_store.transaction():
        await any_store.add_notifications([make_notification(user.id)])
    assert await moved()
    await any_store.wipe()
    assert await moved()


# indexes -------------------------------------------------------------------------------------
# The keys every list query of the store is served by, as (table or collection, fields in
# order); each must lead an index in both stores, so that no page view scans or sorts a table.
LIST_QUERY_INDEXES = [
    ("posts", ("board", "pinned", "status", "created_at", "id")),  # a board's list
    ("posts", ("author_id", "created_at", "id")),  # one's own posts
    ("posts", ("department", "status", "created_at", "id")),  # a department's cases
    ("posts", ("status", "created_at", "id")),  # the moderation queue
    ("posts", ("status", "due_at")),  # due and overdue cases
    ("posts", ("status", "overdue_since")),
    ("posts", ("tracking_hash",)),
    ("replies", ("post_id", "created_at", "id")),
    ("replies", ("author_id", "kind", "created_at", "id")),
    ("revisions", ("post_id", "edited_at", "id")),
    ("events", ("post_id", "at", "id")),
    ("flags", ("post_id", "created_at", "id")),
    ("flags", ("open", "created_at", "id")),
    ("audit", ("actor_id", "at", "id")),
    ("audit", ("target", "at", "id")),
    ("audit", ("at", "id")),
    ("notifications", ("user_id", "created_at", "id")),
    ("notifications", ("user_id", "read")),
    ("mail", ("next_attempt_at",)),
    ("subscriptions", ("user_id", "target")),
    ("subscriptions", ("user_id", "created_at", "id")),
    ("subscriptions", ("target", "user_id")),
    ("users", ("username_key",)),
    ("users", ("department", "username_key")),
    ("api_keys", ("created_at", "id")),
    ("api_keys", ("key_hash",)),
    ("hits", ("key", "at")),
    ("sessions", ("user_id",)),
    ("attachments", ("post_id", "created_at", "id")),
]


async def index_keys(store) -> set[tuple[str, tuple[str, ...]]]:
    """(table, fields) of every index of the store, in the store-neutral names above."""
    found = set()
    if store.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(store.path)
        try:
            for table, index in conn.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'"
            ).fetchall():
                columns = [row[2] for row in conn.execute(f'PRAGMA index_info("{index}")')]
                found.add((table, tuple(columns)))
        finally:
            conn.close()
        return found
    for name in await store._db.list_collection_names():
        table = "attachments" if name == "attachments.files" else name
        for info in (await store._db[name].index_information()).values():
            fields = tuple(
                "id" if key == "_id" else key.removeprefix("metadata.") for key, _ in info["key"]
            )
            found.add((table, fields))
    return found


@pytest.mark.gen_test
async def test_every_list_query_has_its_index(any_store):
    indexes = await index_keys(any_store)
    missing = [
        (table, fields)
        for table, fields in LIST_QUERY_INDEXES
        if not any(t == table and have[: len(fields)] == fields for t, have in indexes)
    ]
    assert not missing, f"{any_store.kind} lacks indexes for {missing}"


@pytest.mark.gen_test
async def test_add_reply_to_a_missing_post_stores_nothing(any_store):
    author = make_user("asker")
    await any_store.add_user(author)
    with pytest.raises(NotFound):
        await any_store.add_reply(make_reply(new_id()), {"updated_at": T0})
    assert await any_store.list_replies_by_author(author.id, None, None, 10) == []


@pytest.mark.gen_test
async def test_boards_and_departments_changed_by_another_process_are_seen_at_once(
    any_store, tmp_path
):
    """Boards and departments may be kept between calls (SQLite keeps them while the content
    version stands); a change through another store over the same data, as from another
    process, is still seen."""
    await any_store.ensure_boards([BoardSettings("forum", "论坛", "说明", [], True, 3, 15)])
    await any_store.ensure_departments([Department("tax", "税务局")])
    other = stores.another(any_store)
    await other.open()
    try:
        assert (await other.get_board("forum")).description == "说明"
        assert [d.slug for d in await other.list_departments()] == ["tax"]
        board = await any_store.get_board("forum")
        await any_store.save_board(dataclasses.replace(board, description="新说明"))
        await any_store.add_department(Department("jtj", "交通运输局"))
        assert (await other.get_board("forum")).description == "新说明"
        assert [b.description for b in await other.list_boards()] == ["新说明"]
        assert [d.slug for d in await other.list_departments()] == ["jtj", "tax"]
    finally:
        await other.close()


@pytest.mark.gen_test
async def test_index_posts_indexes_a_batch_as_index_post_does_each(any_store):
    first = await indexed(any_store, ["旧词"])
    second, third = (
        make_post(at=T0 + dt.timedelta(minutes=1)),
        make_post(at=T0 + dt.timedelta(minutes=2)),
    )
    await any_store.add_post(second)
    await any_store.add_post(third)
    await any_store.index_posts(
        [
            (first.id, ["新词", "共同"]),
            (second.id, ["共同"]),
            (third.id, ["多余"]),
            (third.id, ["共同", "第三"]),
            (new_id(), ["词"]),
        ]
    )  # a post that is not there: skipped
    assert await found(any_store, ["旧词"]) == []
    assert await found(any_store, ["新词"]) == [first.id]
    assert sorted(await found(any_store, ["共同"])) == sorted([first.id, second.id, third.id])
    assert await found(any_store, ["多余"]) == [] and await found(any_store, ["第三"]) == [third.id]
    await any_store.index_posts([(first.id, []), (second.id, ["共同"])])
    assert sorted(await found(any_store, ["共同"])) == sorted([second.id, third.id])
    await any_store.index_posts([])


# the unit of work ---------------------------------------------------------------------------
# Rolling back needs transactions: SQLite always has them; MongoDB's in-process stand-in has
# none, so those tests run on MongoDB only against a real server (FORUM_TEST_MONGODB_URI), as
# the report header says.
TRANSACTIONAL = ["sqlite"] + (["mongodb"] if stores.MONGO_URI else [])


@pytest.fixture(params=TRANSACTIONAL)
def transactional_store(request, io_loop, tmp_path):
    store = stores.make(request.param, tmp_path)
    io_loop.run_sync(store.open)
    yield store
    io_loop.run_sync(lambda: stores.dispose(store))


@pytest.mark.gen_test
async def test_a_unit_of_work_commits_everything_it_wrote_and_sees_its_own_writes(any_store):
    author = make_user("asker")
    await any_store.add_user(author)
    post = make_post(author_id=author.id)
    before = await any_store.content_version()
    async with any_store.transaction():
        await any_store.add_post(post, event_for(post.id))
        assert (await any_store.get_post(post.id)).id == post.id  # its own write, inside
        async with any_store.transaction():  # a nested block joins it
            await any_store.index_post(post.id, ["路灯"])
        await any_store.add_notifications([make_notification(author.id)])
        await any_store.add_audit(make_audit(author.id, f"post:{post.id}"))
    assert (await any_store.get_post(post.id)).id == post.id
    assert [e.post_id for e in await any_store.list_events(post.id)] == [post.id]
    assert await any_store.count_unread(author.id) == 1
    assert (
        len(await any_store.list_audit(actor_id=author.id, target=None, after=None, limit=5)) == 1
    )
    assert await any_store.content_version() > before


@pytest.mark.gen_test
async def test_a_unit_of_work_that_raises_stores_nothing(transactional_store):
    store = transactional_store
    author = make_user("asker")
    await store.add_user(author)
    post = make_post(author_id=author.id, status=Status.SUBMITTED, board="mayor")
    await store.add_post(post)
    before = await store.content_version()
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await store.update_post(
                post.id,
                {"status": Status.ACCEPTED},
                event=event_for(post.id, "accept"),
                expect={"status": Status.SUBMITTED},
            )
            await store.add_reply(make_reply(post.id), {"updated_at": T0})
            await store.add_notifications([make_notification(author.id)])
            await store.enqueue_mail(make_mail(T0))
            await store.add_audit(make_audit(author.id, f"post:{post.id}"))
            await store.index_post(post.id, ["路灯"])
            raise RuntimeError("the process fails half way")
    assert (await store.get_post(post.id)).status is Status.SUBMITTED
    assert await store.list_events(post.id) == [] and await store.list_replies(post.id) == []
    assert await store.count_unread(author.id) == 0 and await store.count_mail_waiting() == 0
    assert await store.list_audit(actor_id=author.id, target=None, after=None, limit=5) == []
    assert await store.search_posts(["路灯"], [PostFilter()], 0, 10) == []
    assert await store.content_version() == before


@pytest.mark.gen_test
async def test_units_of_work_take_turns_so_a_read_decides_what_is_written(transactional_store):
    """Ten units read a counter and write it plus one, all at once: every increment lands
    (no unit decides from a value another changed meanwhile)."""
    store = transactional_store
    await store.put_setting("counter", 0)

    async def increment() -> None:
        async with store.transaction():
            value = await store.get_setting("counter")
            await asyncio.sleep(0)  # let the others run between the read and the write
            await store.put_setting("counter", value + 1)

    results = await asyncio.gather(*(increment() for _ in range(10)), return_exceptions=True)
    wins = sum(result is None for result in results)
    # SQLite serialises the units; MongoDB lets the losers of a write conflict fail.
    assert await store.get_setting("counter") == wins and wins >= 1
    if store.kind == "sqlite":
        assert wins == 10


@pytest.mark.gen_test
async def test_a_reply_and_an_accept_are_written_only_while_the_status_they_expect_stands(
    any_store,
):
    post = make_post(board="lawyer", status=Status.ANSWERED)
    await any_store.add_post(post)
    first, second = make_reply(post.id), make_reply(post.id)
    await any_store.add_reply(first, {"updated_at": T0}, expect={"status": Status.ANSWERED})
    await any_store.add_reply(second, {"updated_at": T0}, expect={"status": Status.ANSWERED})
    accepted = await any_store.accept_reply(
        post.id,
        first.id,
        {"status": Status.RESOLVED, "accepted_reply_id": first.id},
        expect={"status": Status.ANSWERED},
    )
    assert accepted.status is Status.RESOLVED
    with pytest.raises(Conflict):
        await any_store.accept_reply(
            post.id,
            second.id,
            {"status": Status.RESOLVED, "accepted_reply_id": second.id},
            expect={"status": Status.ANSWERED},
        )
    with pytest.raises(Conflict):
        await any_store.add_reply(
            make_reply(post.id), {"updated_at": T0}, expect={"status": Status.ANSWERED}
        )
    stored = await any_store.get_post(post.id)
    assert (stored.accepted_reply_id, stored.reply_count) == (first.id, 2)
    assert [r.id for r in await any_store.list_replies(post.id) if r.accepted] == [first.id]
    assert len(await any_store.list_replies(post.id)) == 2
