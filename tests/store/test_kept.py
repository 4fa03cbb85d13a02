"""KeptReads (forum/store/kept.py) over both adapters: a content read is answered from memory
only while the content version stands; any write, through it or around it (another process),
is on the next read; inside a unit of work every read goes to the store."""
from __future__ import annotations

import pytest

from forum.model import PostFilter
from forum.store.kept import KeptReads
from tests.store.test_contract import event_for, make_post, make_reply, make_user
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


def test_only_content_reads_are_kept():
    from forum.store.kept import KEPT_READS
    # Sessions, notifications and subscriptions are not covered by the content version.
    assert not KEPT_READS & {"get_session", "get_user", "count_unread", "get_subscription",
                             "list_notifications", "list_subscriptions", "count_hits"}
