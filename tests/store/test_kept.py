"""KeptReads (forum/store/kept.py) over both adapters: a content read is answered from memory
only while the content version stands; any write, through it or around it (another process),
is on the next read; inside a unit of work every read goes to the store."""

from __future__ import annotations

import pytest

from forum.model import PostFilter, Subscription, new_id
from tests.support.versions import count_version_reads
from forum.store.kept import KeptReads
from tests.store.test_contract import (
    T0,
    event_for,
    make_notification,
    make_post,
    make_reply,
    make_user,
)
from tests.support import stores


@pytest.mark.gen_test
async def test_a_read_is_kept_until_any_write_moves_the_content_version(any_store):
    kept = KeptReads(any_store)
    author = make_user("writer")
    await any_store.add_user(author)
    post = make_post(author_id=author.id, title="第一个")
    await kept.add_post(post, event_for(post.id))
    where = PostFilter(board="forum")
    assert [p.title for p in await kept.list_posts(where, None, 10)] == ["第一个"]
    misses = kept.misses
    assert [p.title for p in await kept.list_posts(where, None, 10)] == ["第一个"]
    assert kept.misses == misses and kept.hits >= 1
    # Around the wrapper, as another process writes: the next read sees it.
    await any_store.update_post(post.id, {"title": "改过的"})
    assert [p.title for p in await kept.list_posts(where, None, 10)] == ["改过的"]
    assert (await kept.get_post(post.id)).title == "改过的"
    await any_store.add_reply(make_reply(post.id, author_id=author.id), {})
    assert len(await kept.list_replies(post.id)) == 1
    await any_store.update_user(author.id, {"display_name": "新名字"})
    assert (await kept.get_users([author.id]))[author.id].display_name == "新名字"


@pytest.mark.gen_test
async def test_another_adapter_over_the_same_database_is_seen(io_loop, tmp_path):
    """Two SQLite stores over one file, as two server processes have."""
    first, second = stores.make("sqlite", tmp_path), stores.make("sqlite", tmp_path)
    await first.open()
    await second.open()
    try:
        kept = KeptReads(first)
        post = make_post(title="旧标题")
        await first.add_post(post, event_for(post.id))
        assert (await kept.get_post(post.id)).title == "旧标题"
        await second.update_post(post.id, {"title": "新标题"})
        assert (await kept.get_post(post.id)).title == "新标题"
    finally:
        await stores.dispose(first)
        await second.close()


@pytest.mark.gen_test
async def test_reads_in_a_unit_of_work_go_to_the_store_and_answers_are_callers_own(any_store):
    kept = KeptReads(any_store)
    post = make_post(title="标题")
    await any_store.add_post(post, event_for(post.id))
    await kept.get_post(post.id)
    async with kept.transaction():
        await kept.update_post(post.id, {"title": "单元里改的"})
        # The unit sees its own write, whatever was kept before it.
        assert (await kept.get_post(post.id)).title == "单元里改的"
    assert (await kept.get_post(post.id)).title == "单元里改的"
    listed = await kept.list_posts(PostFilter(board="forum"), None, 10)
    listed.clear()
    assert len(await kept.list_posts(PostFilter(board="forum"), None, 10)) == 1


def test_only_reads_a_version_covers_are_kept():
    from forum.store.kept import CONTENT, KEPT_READS, NOTICES

    # Sessions and hits are covered by no version; a person's unread count and subscriptions
    # by the notices version, not the content version.
    assert not set(KEPT_READS) & {
        "get_session",
        "get_user",
        "list_notifications",
        "list_subscriptions",
        "count_hits",
    }
    assert {name for name, version in KEPT_READS.items() if version == NOTICES} == {
        "count_unread",
        "get_subscription",
    }
    assert set(KEPT_READS.values()) == {CONTENT, NOTICES}


@pytest.mark.gen_test
async def test_unread_counts_and_subscriptions_are_kept_until_a_notice_is_written(any_store):
    kept = KeptReads(any_store)
    reader = make_user("reader")
    await any_store.add_user(reader)
    assert await kept.count_unread(reader.id) == 0
    assert await kept.get_subscription(reader.id, "board:forum") is None
    misses = kept.misses
    assert await kept.count_unread(reader.id) == 0
    assert kept.misses == misses
    # Around the wrapper, as another process writes: each is on the next read.
    await any_store.add_notifications([make_notification(reader.id)])
    assert await kept.count_unread(reader.id) == 1
    await any_store.mark_read(reader.id, None)
    assert await kept.count_unread(reader.id) == 0
    made, _ = await any_store.add_subscription(Subscription(new_id(), reader.id, "board:forum", T0))
    assert (await kept.get_subscription(reader.id, "board:forum")).id == made.id
    assert await any_store.delete_subscription(made.id, reader.id)
    assert await kept.get_subscription(reader.id, "board:forum") is None
    # A content write leaves them kept; a notice written through the wrapper lets go.
    assert await kept.count_unread(reader.id) == 0
    misses = kept.misses
    post = make_post(author_id=reader.id)
    await any_store.add_post(post, event_for(post.id))
    assert await kept.count_unread(reader.id) == 0 and kept.misses == misses
    kept.pin_version()
    assert await kept.count_unread(reader.id) == 0
    await kept.add_notifications([make_notification(reader.id)])
    assert await kept.count_unread(reader.id) == 1


@pytest.mark.gen_test
async def test_a_pinned_request_reads_its_three_versions_at_once(any_store, monkeypatch):
    kept = KeptReads(any_store)
    reader = make_user("reader")
    await any_store.add_user(reader)
    stored = await any_store.versions()
    asked = []
    for name in ("content_version", "auth_version", "notices_version", "versions"):
        method = getattr(any_store, name)

        async def counted(method=method, name=name):
            asked.append(name)
            return await method()

        monkeypatch.setattr(any_store, name, counted)
    kept.pin_version()
    versions = (
        await kept.content_version(),
        await kept.auth_version(),
        await kept.notices_version(),
    )
    await kept.count_unread(reader.id)
    assert asked == ["versions"] and versions == stored
    # A write lets go of all three: the next asks again, once.
    await kept.update_user(reader.id, {"roles": ["citizen", "moderator"]})
    assert await kept.auth_version() > stored[1] and await kept.content_version() > stored[0]
    assert asked == ["versions", "versions"]


@pytest.mark.gen_test
async def test_a_pinned_request_reads_the_version_once_and_sees_its_own_writes(
    any_store, monkeypatch
):
    kept = KeptReads(any_store)
    post = make_post(title="标题")
    await any_store.add_post(post, event_for(post.id))
    reads = count_version_reads(monkeypatch, any_store)
    kept.pin_version()
    for _ in range(3):
        await kept.get_post(post.id)
        await kept.list_posts(PostFilter(board="forum"), None, 10)
        await kept.list_replies(post.id)
    assert len(reads) == 1
    # A write through the wrapper lets go of the number: the request sees what it wrote.
    await kept.update_post(post.id, {"title": "改过的"})
    assert (await kept.get_post(post.id)).title == "改过的"
    assert len(reads) == 2 and reads[1] > reads[0]
    # So does a unit of work, and a method the wrapper does not know for a read.
    async with kept.transaction():
        await kept.update_post(post.id, {"title": "单元里改的"})
    assert (await kept.get_post(post.id)).title == "单元里改的"
    await kept.put_setting("任意", 1)
    await kept.get_post(post.id)
    assert len(reads) == 4


@pytest.mark.gen_test
async def test_an_unpinned_version_is_read_every_time_even_by_a_task_that_copied_the_pin(
    any_store, monkeypatch
):
    import asyncio

    kept = KeptReads(any_store)
    post = make_post(title="标题")
    await any_store.add_post(post, event_for(post.id))
    reads = count_version_reads(monkeypatch, any_store)
    pin = kept.pin_version()
    await kept.get_post(post.id)
    started = asyncio.Event()
    go_on = asyncio.Event()

    async def outliving_task() -> str:  # started by the request, still running after it
        started.set()
        await go_on.wait()
        return (await kept.get_post(post.id)).title

    task = asyncio.ensure_future(outliving_task())
    await started.wait()
    KeptReads.unpin_version(pin)
    await any_store.update_post(post.id, {"title": "别处改的"})  # around the wrapper
    go_on.set()
    assert await task == "别处改的"
    assert (await kept.get_post(post.id)).title == "别处改的"
    assert len(reads) == 3


def test_every_store_method_is_a_known_read_or_lets_go_of_the_version():
    from forum.store.base import Store
    from forum.store.kept import KEPT_READS, _is_read

    names = {name for name in vars(Store) if not name.startswith("_")}
    writes = {name for name in names if not _is_read(name)}
    # Reads by name; everything else lets go. The writes listed here are the ones whose name
    # says so; a new read named otherwise would only cost a version read, never a stale page.
    assert set(KEPT_READS) <= names - writes
    assert {
        "add_post",
        "update_post",
        "add_reply",
        "accept_reply",
        "touch_session",
        "take_session",
        "claim_mail",
        "reserve_hit",
        "mark_read",
        "wipe",
    } <= writes
    assert not {"count_hits", "get_session", "list_posts", "search_ranks"} & writes


@pytest.mark.gen_test
async def test_posts_read_by_id_are_kept_one_by_one_until_a_write(any_store):
    """A search's pages are new lists of ids; the posts on them are kept each by itself, and
    shared with get_post."""
    kept = KeptReads(any_store)
    a, b, c = (make_post(title=title) for title in ("甲", "乙", "丙"))
    for post in (a, b, c):
        await any_store.add_post(post, event_for(post.id))
    asked: list[list[str]] = []
    original = any_store.get_posts

    async def counted(post_ids):
        asked.append(list(post_ids))
        return await original(post_ids)

    kept.store = _Counting(any_store, get_posts=counted)
    first = await kept.get_posts([a.id, b.id])
    second = await kept.get_posts([c.id, b.id, "no-such-id", b.id])
    assert [p.title for p in second] == ["丙", "乙", "乙"]  # in the order asked, as the store
    assert asked == [[a.id, b.id], [c.id, "no-such-id"]]  # b came from memory
    assert second[1] is first[1]  # the very record: what was made from it is kept with it
    assert await kept.get_post(a.id) is first[0]  # shared with get_post
    # Around the wrapper, as another process writes: every post is read again.
    await any_store.update_post(b.id, {"title": "乙改"})
    assert [p.title for p in await kept.get_posts([a.id, b.id])] == ["甲", "乙改"]
    assert asked[-1] == [a.id, b.id]
    async with kept.transaction():  # in a unit: the store, every time
        await kept.get_posts([a.id])
        await kept.get_posts([a.id])
    assert asked[-2:] == [[a.id], [a.id]]


@pytest.mark.gen_test
async def test_people_read_by_id_are_kept_one_by_one_until_a_write(any_store):
    """The writers of a search's page are new lists of ids; each account is kept by itself,
    the very record, so what was made with it (a post's views) is kept too."""
    kept = KeptReads(any_store)
    a, b, c = (make_user(name) for name in ("amy", "bob", "cat"))
    for user in (a, b, c):
        await any_store.add_user(user)
    asked: list[list[str]] = []
    original = any_store.get_users

    async def counted(user_ids):
        asked.append(list(user_ids))
        return await original(user_ids)

    kept.store = _Counting(any_store, get_users=counted)
    first = await kept.get_users([a.id, b.id])
    second = await kept.get_users([c.id, b.id, "no-such-id", b.id])
    assert {user_id: user.username for user_id, user in second.items()} == {
        c.id: "cat",
        b.id: "bob",
    }
    assert asked == [[a.id, b.id], [c.id, "no-such-id"]]  # bob came from memory
    assert second[b.id] is first[b.id]
    # Around the wrapper, as another process writes: every account is read again.
    await any_store.update_user(b.id, {"display_name": "Bobby"})
    again = await kept.get_users([a.id, b.id])
    assert again[b.id].display_name == "Bobby" and asked[-1] == [a.id, b.id]
    async with kept.transaction():  # in a unit: the store, every time
        await kept.get_users([a.id])
        await kept.get_users([a.id])
    assert asked[-2:] == [[a.id], [a.id]]


class _Counting:
    """An adapter with some methods replaced, the rest its own."""

    def __init__(self, store, **replaced):
        self._store, self._replaced = store, replaced

    def __getattr__(self, name):
        return self._replaced.get(name) or getattr(self._store, name)
