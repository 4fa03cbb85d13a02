"""SQLite's reads by key on the event loop's own connection (_Core._read with by_key): posts and
people by id, and a search whose terms' candidates are kept, run without a hop to a reader
thread; lists, and a search that must read a term from the index, keep the hop. Reads on the
loop see every committed write, and a failure there is the store being unavailable."""

from __future__ import annotations

import datetime as dt

import pytest

from forum.errors import StoreUnavailable
from forum.model import PostFilter
from forum.store.sqlite.search import SEARCH_CACHE_MATCHES_MIN
from tests.store.test_contract import T0, event_for, make_post, make_user
from tests.support.faults import FailingConnection, count_handoffs


@pytest.fixture
def store(bare_sqlite):
    return bare_sqlite


@pytest.fixture
def hops(store, monkeypatch):
    """The calls handed to a reader thread."""
    return count_handoffs(store._readers, "reader", monkeypatch)


async def posts_about(store, word: str, count: int):
    author = make_user("writer")
    await store.add_user(author)
    posts = []
    for number in range(count):
        post = make_post(
            author_id=author.id, title=f"{word} {number}", at=T0 + dt.timedelta(minutes=number)
        )
        await store.add_post(post, event_for(post.id))
        await store.index_post(post.id, [word, f"第{number}"])
        posts.append(post)
    return author, posts


@pytest.mark.gen_test
async def test_reads_by_key_run_on_the_loop_and_lists_on_a_reader(store, hops):
    author, posts = await posts_about(store, "停车", 3)
    hops.clear()
    assert (await store.get_post(posts[0].id)).title == "停车 0"
    assert [post.id for post in await store.get_posts([posts[2].id, posts[1].id])] == [
        posts[2].id,
        posts[1].id,
    ]
    assert (await store.get_user(author.id)).username == "writer"
    assert set(await store.get_users([author.id])) == {author.id}
    assert hops == []
    listed = await store.list_posts(PostFilter(board="forum"), None, 10)
    assert len(listed) == 3 and hops == ["reader"]


@pytest.mark.gen_test
async def test_a_search_over_kept_candidates_runs_on_the_loop_until_a_write(store, hops):
    """Two terms to read from the index: a reader thread; both kept: the loop; one more term to
    read (here a word no post holds): still the loop."""
    _, posts = await posts_about(store, "停车", SEARCH_CACHE_MATCHES_MIN + 5)
    for post in posts:
        await store.index_post(post.id, ["停车", "路灯"])
    everyone = [PostFilter(board="forum")]
    hops.clear()
    first = await store.search_ranks(["停车", "路灯"], everyone, 10)
    assert hops == ["reader"]  # the terms read from the index, and kept
    again = await store.search_ranks(["停车", "路灯"], everyone, 10)
    assert hops == ["reader"] and again == first  # over the kept candidates: on the loop
    assert [rank.post_id for rank in first] == [post.id for post in posts[::-1][:10]]
    assert await store.search_ranks(["停车", "路灯", "无此词"], everyone, 10) == first
    assert hops == ["reader"]
    # A write moves the content version on: the next search reads both terms again, on a
    # reader thread, and finds the new post first.
    newer = make_post(author_id=posts[0].author_id, title="停车 新", at=T0 + dt.timedelta(days=1))
    await store.add_post(newer, event_for(newer.id))
    await store.index_post(newer.id, ["停车", "路灯"])
    hops.clear()
    after = await store.search_ranks(["停车", "路灯"], everyone, 10)
    assert hops == ["reader"] and after[0].post_id == newer.id


@pytest.mark.gen_test
async def test_a_read_on_the_loop_sees_the_write_committed_before_it(store):
    _, posts = await posts_about(store, "路灯", 1)
    assert (await store.get_post(posts[0].id)).title == "路灯 0"
    await store.update_post(posts[0].id, {"title": "路灯 改"})
    assert (await store.get_post(posts[0].id)).title == "路灯 改"
    assert [post.title for post in await store.get_posts([posts[0].id])] == ["路灯 改"]


@pytest.mark.gen_test
async def test_a_read_on_the_loop_that_fails_is_the_store_unavailable(store):
    _, posts = await posts_about(store, "路灯", 1)
    await store.content_version()  # the loop's connection is open
    # Another process holding the database past the timeout.
    locked = FailingConnection(store._loop_connection, lambda sql: True, "database is locked")
    store._loop_connection = locked
    with pytest.raises(StoreUnavailable):
        await store.get_post(posts[0].id)
    with pytest.raises(StoreUnavailable):
        await store.content_version()
