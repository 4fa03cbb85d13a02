"""Boards and posts as a viewer may read them: the boards, a board's posts page by page, the
viewer's own posts, the home page's newest ones, one post with its replies, a board's feed.

Every function takes the viewer (a User, or None for a visitor) and returns views, which the
pages and the JSON API both print. Writing is posting.py's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from forum import boards
from forum.boards import Policy
from forum.errors import Invalid, NotFound
from forum.model import Kind, Page, Post, PostFilter, Status, User, is_id
from forum.services import forms
from forum.services.fields import Fields, check_limit
from forum.services.paging import decode_cursor, encode_cursor
from forum.services.presenting import (
    BoardView,
    PostView,
    Thread,
    is_moderator,
    may_post,
    may_see,
    present_posts,
    present_thread,
)
from forum.store.base import Store


# boards --------------------------------------------------------------------------------------
async def list_boards(store: Store, viewer: User | None) -> list[BoardView]:
    """The six boards in their fixed order, with the admin's settings."""
    settings = {b.slug: b for b in await store.list_boards()}
    return [
        BoardView(
            settings[slug],
            boards.POLICIES[slug],
            may_post(boards.POLICIES[slug], settings[slug], viewer),
        )
        for slug in boards.BOARD_ORDER
        if slug in settings
    ]


async def navigation(store: Store) -> list[tuple[str, str]]:
    """(slug, name) of the six boards in their fixed order: every page's header."""
    names = {b.slug: b.name for b in await store.list_boards()}
    return [(slug, names[slug]) for slug in boards.BOARD_ORDER if slug in names]


async def get_board(store: Store, viewer: User | None, slug: Any) -> BoardView:
    """Raises NotFound for an unknown slug."""
    policy = boards.policy(slug) if isinstance(slug, str) else None
    if policy is None:
        raise NotFound("栏目不存在")
    settings = await store.get_board(slug)
    if settings is None:
        raise NotFound("栏目不存在")
    return BoardView(settings, policy, may_post(policy, settings, viewer))


# lists ---------------------------------------------------------------------------------------
def _visible_statuses(policy: Policy, viewer: User | None, wanted: Any) -> tuple[Status, ...]:
    allowed = (
        tuple(s for s in Status if s in _board_statuses(policy.kind))
        if is_moderator(viewer)
        else boards.PUBLIC_STATUSES[policy.kind]
    )
    if wanted is None or wanted == "":
        return allowed
    fields = Fields()
    chosen = fields.take(
        forms.POST_STATUS.among(s.value for s in _board_statuses(policy.kind)), "status", wanted
    )
    fields.done()
    return tuple(s for s in allowed if s.value == chosen)


def _board_statuses(kind: Kind) -> tuple[Status, ...]:
    extra = {
        Kind.DISCUSSION: (Status.PENDING, Status.HIDDEN),
        Kind.CONSULTATION: (Status.PENDING, Status.HIDDEN),
        Kind.CASE: (Status.SUBMITTED, Status.REJECTED),
        Kind.BULLETIN: (Status.HIDDEN,),
    }[kind]
    return boards.PUBLIC_STATUSES[kind] + extra


async def list_posts(
    store: Store,
    viewer: User | None,
    slug: Any,
    *,
    status: Any = None,
    category: Any = None,
    cursor: Any = None,
    limit: Any = None,
    created_from: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
    before: Any = None,
) -> Page:
    """A page of the board's posts the viewer may see, newest first, pinned ones first on the
    first page; only those created from `created_from` to before `created_before` when given
    (times the caller has checked). `cursor` goes on to the next page, `before` back to the one
    before it (the first page, pinned posts and all, when it reaches the top). Raises NotFound
    (board), Invalid (status, category, cursor, before, limit)."""
    board = await get_board(store, viewer, slug)
    size = check_limit(limit)
    after = decode_cursor(cursor)
    back = decode_cursor(before, name="before")
    if back is not None and after is not None:
        raise Invalid({"before": "不能与 cursor 同时使用"})
    statuses = _visible_statuses(board.policy, viewer, status)
    fields = Fields()
    chosen_category = fields.take(
        forms.CATEGORY.among(board.settings.categories), "category", category
    )
    fields.done()
    if board.policy.confidential and not is_moderator(viewer):
        # Confidential boards list nothing to the public; their writers follow their own cases.
        return Page(items=[], next_cursor=None)
    where = PostFilter(
        board=board.slug,
        statuses=statuses,
        category=chosen_category,
        created_from=created_from,
        created_before=created_before,
        # Only letters their writers chose to publish are listed to the public.
        public=True if board.policy.kind is Kind.CASE and not is_moderator(viewer) else None,
    )
    unpinned = _with(where, pinned=False)
    if back is not None:
        # The posts just above `before`, nearest first; when they are no more than a page, the
        # page before is the first one.
        newer = await store.list_posts(unpinned, back, size + 1, oldest_first=True)
        if len(newer) > size:
            rest = list(reversed(newer[:size]))
            views = await present_posts(store, viewer, rest)
            return Page(
                items=views,
                next_cursor=encode_cursor((rest[-1].created_at, rest[-1].id)),
                prev_cursor=encode_cursor((rest[0].created_at, rest[0].id)),
            )
    pinned: list[Post] = []
    if after is None:
        pinned = await store.list_posts(_with(where, pinned=True), None, size)
    rest = await store.list_posts(unpinned, after, size - len(pinned) + 1)
    more = len(rest) > size - len(pinned)
    rest = rest[: size - len(pinned)]
    posts = pinned + rest
    views = await present_posts(store, viewer, posts)
    next_cursor = None
    if more:
        # When the pinned posts fill the first page, the next one starts at the newest of the
        # rest: a key after every post there is, so nothing of the board is out of reach.
        last = rest[-1] if rest else None
        next_cursor = encode_cursor((last.created_at, last.id) if last else BEFORE_ALL_POSTS)
    prev_cursor = (
        encode_cursor((rest[0].created_at, rest[0].id)) if after is not None and rest else None
    )
    return Page(items=views, next_cursor=next_cursor, prev_cursor=prev_cursor)


# A list key newer than any post: "after" it, newest first, is the very top.
BEFORE_ALL_POSTS = (dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc), "f" * 24)


async def list_own_posts(
    store: Store, viewer: User, *, cursor: Any = None, limit: Any = None
) -> Page:
    """The viewer's own posts in every board and status, newest first."""
    size = check_limit(limit)
    posts = await store.list_posts(PostFilter(author_id=viewer.id), decode_cursor(cursor), size + 1)
    page_posts = posts[:size]
    views = await present_posts(store, viewer, page_posts)
    next_cursor = None
    if len(posts) > size:  # then the page is full, and its last post is where the next begins
        last = page_posts[-1]
        next_cursor = encode_cursor((last.created_at, last.id))
    return Page(items=views, next_cursor=next_cursor)


def _with(where: PostFilter, **changes: Any) -> PostFilter:
    return PostFilter(**{**where.__dict__, **changes})


async def latest_by_board(
    store: Store, viewer: User | None, per_board: int = 5
) -> list[tuple[BoardView, list[PostView]]]:
    """The home page: each board with its newest posts the viewer may see."""
    result = []
    for board in await list_boards(store, viewer):
        page = await list_posts(store, viewer, board.slug, limit=per_board)
        result.append((board, page.items))
    return result


# one post ------------------------------------------------------------------------------------
async def visible_post(store: Store, viewer: User | None, post_id: Any) -> tuple[Post, Policy]:
    """The post if the viewer may see it; NotFound otherwise, never Forbidden, so a confidential
    or held post does not reveal that it exists."""
    post = await store.get_post(post_id) if is_id(post_id) else None
    policy = boards.policy(post.board) if post else None
    if post is None or policy is None or not may_see(post, policy, viewer):
        raise NotFound("内容不存在或无权查看", denied=post is not None)
    return post, policy


async def get_thread(store: Store, viewer: User | None, post_id: Any) -> Thread:
    """The post with its replies. Raises NotFound."""
    post, policy = await visible_post(store, viewer, post_id)
    board = await get_board(store, viewer, post.board)
    replies = await store.list_replies(post.id)
    revisions = await store.list_revisions(post.id)
    events = await store.list_events(post.id)
    return await present_thread(store, viewer, post, board, replies, revisions, events)


FEED_ENTRIES = 20


async def public_feed(store: Store, slug: Any) -> tuple[BoardView, list[PostView]]:
    """A public board's newest posts as the public sees them, for its Atom feed. Confidential
    boards have no feed: NotFound, as for an unknown board."""
    board = await get_board(store, None, slug)
    if board.policy.confidential:
        raise NotFound("栏目不存在")
    page = await list_posts(store, None, slug, limit=FEED_ENTRIES)
    return board, [view for view in page.items if not view.post.pinned] + [
        view for view in page.items if view.post.pinned
    ]
