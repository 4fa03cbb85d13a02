"""The store contract: every adapter must pass every test here (see conftest's any_store)."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from forum.errors import Conflict, NotFound
from forum.model import (BoardSettings, Department, Event, Post, PostFilter, Reply, ReplyKind,
                         Revision, Role, Session, Status, User, new_id, now)

T0 = dt.datetime(2026, 11, 28, 9, 30, 0, 123000, tzinfo=dt.timezone.utc)


def make_user(name="alice", **extra) -> User:
    return User(id=new_id(), username=name, display_name=extra.pop("display_name", name.title()),
                password_hash="$argon2id$fake", created_at=T0, **extra)


def make_post(board="forum", at=T0, **extra) -> Post:
    return Post(id=extra.pop("id", new_id()), board=board, title=extra.pop("title", "标题"),
                body="正文", html="<p>正文</p>", author_id=extra.pop("author_id", None),
                status=extra.pop("status", Status.PUBLISHED), created_at=at, updated_at=at,
                **extra)


def event_for(post_id, action="create", at=T0) -> Event:
    return Event(id=new_id(), post_id=post_id, at=at, actor_id=None, action=action,
                 from_status=None, to_status="published", note="")


# departments and boards ----------------------------------------------------------------------
@pytest.mark.gen_test
async def test_departments_are_ensured_once_and_listed_by_slug(any_store):
    await any_store.ensure_departments([Department("tax", "税务局"), Department("agri", "农业农村局")])
    await any_store.ensure_departments([Department("tax", "改名"), Department("hrss", "人社局")])
    assert [(d.slug, d.name) for d in await any_store.list_departments()] == [
        ("agri", "农业农村局"), ("hrss", "人社局"), ("tax", "税务局")]


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
    user = make_user(roles=[Role.CITIZEN, Role.LAWYER], email="a@example.org",
                     department="justice", specialties=["劳动", "合同"], disabled=True,
                     display_name="张三 <b>")
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
    await any_store.update_user(user.id, {"roles": [Role.CITIZEN, Role.ADMIN], "disabled": True,
                                          "password_hash": "$argon2id$new"})
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


# posts ---------------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_post_round_trips_with_every_field(any_store):
    post = make_post(board="mayor", category="城建", anonymous=True, pinned=True, locked=True,
                     public=True, contact="13812345678", department="housing",
                     due_at=T0 + dt.timedelta(days=21), reopened=True, rating="satisfied",
                     tracking_hash="abc", status=Status.ROUTED, title="<script>x</script>")
    await any_store.add_post(post, event_for(post.id))
    assert await any_store.get_post(post.id) == post
    assert await any_store.get_post(new_id()) is None
    (event,) = await any_store.list_events(post.id)
    assert event.action == "create" and event.at == T0


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
async def test_list_posts_applies_every_filter(any_store):
    author = make_user()
    await any_store.add_user(author)
    wanted = make_post(category="交通", author_id=author.id, status=Status.ROUTED,
                       department="transport", board="mayor", pinned=True)
    others = [
        make_post(board="forum"),
        make_post(board="mayor", category="城建", author_id=author.id, status=Status.ROUTED,
                  department="transport", pinned=True),
        make_post(board="mayor", category="交通", status=Status.ROUTED, department="transport",
                  pinned=True),
        make_post(board="mayor", category="交通", author_id=author.id, status=Status.CLOSED,
                  department="transport", pinned=True),
        make_post(board="mayor", category="交通", author_id=author.id, status=Status.ROUTED,
                  department="tax", pinned=True),
        make_post(board="mayor", category="交通", author_id=author.id, status=Status.ROUTED,
                  department="transport", pinned=False),
    ]
    for post in [wanted, *others]:
        await any_store.add_post(post)
    where = PostFilter(board="mayor", statuses=(Status.ROUTED, Status.REPLIED), category="交通",
                       author_id=author.id, department="transport", pinned=True)
    assert [p.id for p in await any_store.list_posts(where, None, 10)] == [wanted.id]
    assert await any_store.list_posts(PostFilter(board="lawyer"), None, 10) == []
    assert await any_store.list_posts(PostFilter(statuses=()), None, 10) == []


@pytest.mark.gen_test
async def test_update_post_keeps_revision_and_event_together(any_store):
    post = make_post()
    await any_store.add_post(post)
    later = T0 + dt.timedelta(minutes=5)
    revision = Revision(new_id(), post.id, post.title, post.body, "editor", later)
    updated = await any_store.update_post(
        post.id, {"title": "新标题", "updated_at": later, "status": Status.HIDDEN, "pinned": True},
        revision=revision, event=event_for(post.id, "edit", later))
    assert (updated.title, updated.updated_at, updated.status, updated.pinned) == (
        "新标题", later, Status.HIDDEN, True)
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
async def test_replies_count_and_change_their_post(any_store):
    post = make_post(board="lawyer", status=Status.OPEN)
    await any_store.add_post(post)
    replies = [Reply(new_id(), post.id, None, f"回复{i}", f"<p>回复{i}</p>", ReplyKind.ANSWER,
                     T0 + dt.timedelta(seconds=i)) for i in range(3)]
    for reply in reversed(replies):
        after = await any_store.add_reply(reply, {"status": Status.ANSWERED,
                                                  "updated_at": reply.created_at})
    assert after.reply_count == 3 and after.status == Status.ANSWERED
    assert await any_store.list_replies(post.id) == replies
    assert await any_store.list_replies(new_id()) == []


@pytest.mark.gen_test
async def test_reply_to_missing_post_is_not_found_and_not_stored(any_store):
    ghost = new_id()
    reply = Reply(new_id(), ghost, None, "x", "<p>x</p>", ReplyKind.COMMENT, T0)
    with pytest.raises(NotFound):
        await any_store.add_reply(reply, {})
    assert await any_store.list_replies(ghost) == []


@pytest.mark.gen_test
async def test_concurrent_replies_all_count(any_store):
    post = make_post()
    await any_store.add_post(post)
    replies = [Reply(new_id(), post.id, None, "x", "<p>x</p>", ReplyKind.COMMENT, now())
               for _ in range(20)]
    await asyncio.gather(*(any_store.add_reply(r, {}) for r in replies))
    assert (await any_store.get_post(post.id)).reply_count == 20


# throttling ----------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_hits_are_counted_in_their_window_and_cleared(any_store):
    for minutes in (0, 5, 10):
        await any_store.add_hit("login:alice", T0 + dt.timedelta(minutes=minutes))
    await any_store.add_hit("login:bob", T0)
    assert await any_store.count_hits("login:alice", T0 + dt.timedelta(minutes=5)) == 2
    assert await any_store.count_hits("login:alice", T0) == 3
    await any_store.clear_hits("login:alice")
    assert await any_store.count_hits("login:alice", T0) == 0
    assert await any_store.count_hits("login:bob", T0) == 1


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
