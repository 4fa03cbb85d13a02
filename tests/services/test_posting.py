"""The city forum without HTTP (forum/services/posting.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from forum.clock import now
from forum.errors import Conflict, Forbidden, Invalid, NotFound, NotLoggedIn, RateLimited
from forum.model import Post, Role, Status, new_id
from forum.services import posting
from tests.support.people import person


def post_data(**extra):
    return {"title": "城区停车难怎么办", "body": "**建议**增加停车位", **extra}


@pytest.mark.gen_test
async def test_boards_are_listed_in_order_and_citizens_post_in_all_but_the_hotline(store):
    alice = await person(store, "alice")
    boards = await posting.list_boards(store, alice)
    assert [b.slug for b in boards] == ["forum", "lawyer", "tax", "agri", "mayor", "hotline"]
    assert [b.slug for b in boards if b.may_post] == ["forum", "lawyer", "tax", "agri", "mayor"]
    visitor_boards = await posting.list_boards(store, None)
    assert [b.slug for b in visitor_boards if b.may_post] == ["tax"]


@pytest.mark.gen_test
async def test_create_renders_markdown_and_keeps_the_source(store):
    alice = await person(store, "alice")
    view = await posting.create_post(store, alice, "forum", post_data(category="交通出行"))
    assert view.post.status is Status.PUBLISHED
    assert view.post.html.startswith("<p><strong>建议</strong>")
    assert view.post.body == "**建议**增加停车位"
    assert view.author.username == "alice" and view.may_edit
    events = await store.list_events(view.post.id)
    assert [(e.action, e.to_status) for e in events] == [("create", "published")]


@pytest.mark.gen_test
async def test_visitors_must_log_in_to_post(store):
    with pytest.raises(NotLoggedIn):
        await posting.create_post(store, None, "forum", post_data())


@pytest.mark.gen_test
async def test_only_officials_publish_hotline_replies(store):
    alice = await person(store, "alice", Role.LAWYER)
    with pytest.raises(Forbidden):
        await posting.create_post(store, alice, "hotline", post_data())


@pytest.mark.gen_test
async def test_a_closed_board_refuses_posts(store):
    alice = await person(store, "alice")
    board = await store.get_board("forum")
    board.is_open = False
    await store.save_board(board)
    with pytest.raises(Forbidden) as caught:
        await posting.create_post(store, alice, "forum", post_data())
    assert caught.value.code == "board_closed"


@pytest.mark.gen_test
async def test_unknown_board_is_not_found(store):
    alice = await person(store, "alice")
    for slug in ("nope", {"$ne": None}, None):
        with pytest.raises(NotFound):
            await posting.create_post(store, alice, slug, post_data())


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "data, field",
    [
        ({"title": None}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"title": 7}, "title"),
        ({"title": {"$gt": ""}}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"body": None}, "body"),
        ({"body": "x" * 20_001}, "body"),
        ({"body": ["x"]}, "body"),
        ({"body": "\udcff"}, "body"),
        ({"category": "不存在的分类"}, "category"),
        ({"category": 3}, "category"),
        ({"anonymous": True}, "anonymous"),
        ({"anonymous": "yes"}, "anonymous"),
    ],
)
async def test_bad_fields_are_named_and_nothing_is_stored(store, data, field):
    alice = await person(store, "alice")
    with pytest.raises(Invalid) as caught:
        await posting.create_post(store, alice, "forum", post_data(**data))
    assert field in caught.value.fields
    assert (await posting.list_posts(store, alice, "forum")).items == []


@pytest.mark.gen_test
async def test_longest_title_and_body_are_accepted(store):
    alice = await person(store, "alice")
    view = await posting.create_post(
        store, alice, "forum", {"title": "题" * 120, "body": "文" * 20_000}
    )
    assert len(view.post.title) == 120 and len(view.post.body) == 20_000


@pytest.mark.gen_test
async def test_reply_is_a_comment_and_counts(store):
    alice, bob = await person(store, "alice"), await person(store, "bob")
    view = await posting.create_post(store, alice, "forum", post_data())
    reply = await posting.add_reply(store, bob, view.post.id, "同意，*支持*")
    assert reply.reply.kind.value == "comment" and "<em>支持</em>" in reply.reply.html
    thread = await posting.get_thread(store, None, view.post.id)
    assert thread.post.post.reply_count == 1
    assert [r.author.username for r in thread.replies] == ["bob"]
    assert not thread.post.may_reply  # visitors cannot reply


@pytest.mark.gen_test
async def test_reply_refusals(store):
    alice, mod = await person(store, "alice"), await person(store, "mod", Role.MODERATOR)
    view = await posting.create_post(store, alice, "forum", post_data())
    with pytest.raises(NotLoggedIn):
        await posting.add_reply(store, None, view.post.id, "hi")
    with pytest.raises(NotFound):
        await posting.add_reply(store, alice, new_id(), "hi")
    with pytest.raises(NotFound):
        await posting.add_reply(store, alice, "../etc/passwd", "hi")
    with pytest.raises(Invalid):
        await posting.add_reply(store, alice, view.post.id, "")
    await store.update_post(view.post.id, {"locked": True})
    with pytest.raises(Conflict):
        await posting.add_reply(store, mod, view.post.id, "locked")


@pytest.mark.gen_test
async def test_author_edits_within_the_window_and_history_is_kept(store):
    alice, bob = await person(store, "alice"), await person(store, "bob")
    view = await posting.create_post(store, alice, "forum", post_data(body="错别字"))
    edited = await posting.edit_post(store, alice, view.post.id, {"body": "改好了"})
    assert edited.post.body == "改好了" and edited.post.html == "<p>改好了</p>\n"
    thread = await posting.get_thread(store, alice, view.post.id)
    assert [r.body for r in thread.revisions] == ["错别字"]
    assert (await posting.get_thread(store, bob, view.post.id)).revisions == []
    with pytest.raises(Forbidden):
        await posting.edit_post(store, bob, view.post.id, {"body": "不是我的"})


@pytest.mark.gen_test
async def test_edit_window_closes_for_authors_but_not_moderators(store):
    alice, mod = await person(store, "alice"), await person(store, "mod", Role.MODERATOR)
    # A post written just over the window ago, stored directly instead of waiting half an hour.
    written = now() - dt.timedelta(minutes=posting.EDIT_WINDOW_MINUTES, seconds=1)
    post = Post(
        id=new_id(),
        board="forum",
        title="旧帖",
        body="x",
        html="<p>x</p>",
        author_id=alice.id,
        status=Status.PUBLISHED,
        created_at=written,
        updated_at=written,
    )
    await store.add_post(post)
    with pytest.raises(Forbidden) as caught:
        await posting.edit_post(store, alice, post.id, {"title": "晚了"})
    assert caught.value.code == "edit_window_closed"
    assert (
        await posting.edit_post(store, mod, post.id, {"title": "版主改"})
    ).post.title == "版主改"


@pytest.mark.gen_test
async def test_edit_bad_input(store):
    alice = await person(store, "alice")
    view = await posting.create_post(store, alice, "forum", post_data())
    for data, field in (
        ({}, "body"),
        ({"title": ""}, "title"),
        ({"body": 5}, "body"),
        ({"title": "x" * 121}, "title"),
    ):
        with pytest.raises(Invalid) as caught:
            await posting.edit_post(store, alice, view.post.id, data)
        assert field in caught.value.fields
    assert (await store.get_post(view.post.id)).title == "城区停车难怎么办"


@pytest.mark.gen_test
async def test_list_pages_by_cursor_with_pinned_first(store):
    alice = await person(store, "alice", Role.MODERATOR)
    ids = [
        (await posting.create_post(store, alice, "forum", post_data(title=f"帖子{i}"))).post.id
        for i in range(5)
    ]
    await store.update_post(ids[0], {"pinned": True})
    first = await posting.list_posts(store, None, "forum", limit=3)
    assert [v.post.id for v in first.items] == [ids[0], ids[4], ids[3]]
    second = await posting.list_posts(store, None, "forum", limit=3, cursor=first.next_cursor)
    assert [v.post.id for v in second.items] == [ids[2], ids[1]]
    assert second.next_cursor is None


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "args, field",
    [
        ({"limit": "101"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "' OR 1=1 --"}, "cursor"),
        ({"status": "deleted"}, "status"),
        ({"category": "<script>"}, "category"),
    ],
)
async def test_list_bad_arguments(store, args, field):
    with pytest.raises(Invalid) as caught:
        await posting.list_posts(store, None, "forum", **args)
    assert field in caught.value.fields


@pytest.mark.gen_test
async def test_held_and_hidden_posts_are_seen_only_by_author_and_moderators(store):
    alice, bob = await person(store, "alice"), await person(store, "bob")
    mod = await person(store, "mod", Role.MODERATOR)
    view = await posting.create_post(store, alice, "forum", post_data())
    await store.update_post(view.post.id, {"status": Status.HIDDEN})
    for viewer in (None, bob):
        with pytest.raises(NotFound):
            await posting.get_thread(store, viewer, view.post.id)
        assert (await posting.list_posts(store, viewer, "forum")).items == []
    assert (await posting.get_thread(store, alice, view.post.id)).post.post.id == view.post.id
    assert len((await posting.list_posts(store, mod, "forum", status="hidden")).items) == 1


@pytest.mark.gen_test
async def test_new_accounts_with_many_links_are_held_for_review(store):
    newbie = await person(store, "newbie", age=dt.timedelta(hours=1))
    links = " ".join(f"[l{i}](https://spam{i}.example)" for i in range(3))
    view = await posting.create_post(store, newbie, "forum", post_data(body=links))
    assert view.post.status is Status.PENDING


@pytest.mark.gen_test
async def test_an_edit_that_adds_links_is_held_like_a_new_post(store):
    newbie = await person(store, "newbie", age=dt.timedelta(hours=1))
    view = await posting.create_post(store, newbie, "forum", post_data(body="没有链接"))
    assert view.post.status is Status.PUBLISHED
    links = " ".join(f"[l{i}](https://spam{i}.example)" for i in range(3))
    edited = await posting.edit_post(store, newbie, view.post.id, {"body": links})
    assert edited.post.status is Status.PENDING
    (event,) = [e for e in await store.list_events(view.post.id) if e.action == "edit"]
    assert (event.from_status, event.to_status) == ("published", "pending")


@pytest.mark.gen_test
async def test_posting_is_rate_limited_for_new_accounts(store):
    newbie = await person(store, "newbie", age=dt.timedelta(hours=1))
    for i in range(10):
        await posting.create_post(store, newbie, "forum", post_data(title=f"第{i}帖"))
    with pytest.raises(RateLimited):
        await posting.create_post(store, newbie, "forum", post_data())


@pytest.mark.gen_test
async def test_preview_renders_like_a_saved_post(store):
    assert await posting.preview("*x* <script>") == "<p><em>x</em> &lt;script&gt;</p>\n"
    with pytest.raises(Invalid):
        await posting.preview(["no"])
