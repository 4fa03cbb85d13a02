"""Following (关注): anyone logged in follows a post, a board or a department, and is told (in
the site, and by e-mail where they have a confirmed address) of what is new there: a post's
replies, answers, official replies and status changes; a board's new posts once the public may
see them; a department's official replies on public cases.

What one may follow is what one may read: a target the follower may not see answers NotFound,
exactly as reading it would. Telling followers happens inside the unit of work of the change
that causes it, so the notices are stored with the change or not at all; each follower is told
once per event, never of what they may not see, and never of what they did themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from forum import boards
from forum.clock import now
from forum.errors import Invalid, NotFound, NotLoggedIn
from forum.limits import SUBSCRIPTION_TARGET_MAX, SUBSCRIPTION_TARGET_PATTERN
from forum.model import Page, Post, ReplyKind, Subscription, User, is_id, new_id
from forum.services import notify, posting
from forum.services.fields import check_limit
from forum.services.paging import decode_cursor, encode_cursor
from forum.services.presenting import BoardView, is_moderator, may_see
from forum.store.base import Store

# Followers are read and told this many at a time: a board followed by many thousands is
# told in bounded batches (one add_notifications each) inside the unit of work.
FANOUT_PAGE = 500

TARGET_KINDS = ("post", "board", "department")
BAD_TARGET = "应为 post:<编号>、board:<栏目> 或 department:<部门>"

# What a reply tells those who follow its post, by the reply's kind.
REPLY_NOTICE = {
    ReplyKind.COMMENT: "follow_reply",
    ReplyKind.FOLLOW_UP: "follow_reply",
    ReplyKind.ANSWER: "follow_answer",
    ReplyKind.OFFICIAL: "follow_official",
}


@dataclass
class SubscriptionView:
    """A subscription with what its follower may know of its target now: its kind and key,
    its name (a post's title, a board's or department's name) and its page; name and path are
    None when the follower may no longer see it (a post hidden or gone since)."""

    subscription: Subscription
    kind: str
    key: str
    name: str | None = None
    path: str | None = None
    created: bool = False  # follow(): a new subscription, not one the user had already


class MalformedTarget(Invalid):
    """A target of none of the three shapes (missing, not a string, too long, anything else):
    422 naming the field `target`, as for any invalid field."""


def target_of(kind: str, key: str) -> str:
    """The target string of a post id, a board slug or a department slug."""
    return f"{kind}:{key}"


def parse_target(value: Any) -> tuple[str, str]:
    """(kind, key) of a target string. Raises MalformedTarget (an Invalid naming `target`)
    for anything else: missing, not a string, too long, or not of the three shapes."""
    if value is None or value == "":
        raise MalformedTarget({"target": "不能为空"})
    if (
        not isinstance(value, str)
        or len(value) > SUBSCRIPTION_TARGET_MAX
        or not re.fullmatch(SUBSCRIPTION_TARGET_PATTERN, value)
    ):
        raise MalformedTarget({"target": BAD_TARGET})
    kind, _, key = value.partition(":")
    return kind, key.lower() if kind == "post" else key


async def _resolve(store: Store, viewer: User, kind: str, key: str) -> tuple[str, str]:
    """The name and page of a target the viewer may see. Raises NotFound, as reading it
    would: an unknown or unseen post, an unknown board or department, a confidential board
    to anyone but its moderators."""
    if kind == "post":
        post, _ = await posting.visible_post(store, viewer, key)
        return post.title, f"/posts/{post.id}"
    if kind == "board":
        board = await posting.get_board(store, viewer, key)
        if not may_follow_board(board, viewer):
            # 404, not 403: its list is nobody's business but its moderators'.
            raise NotFound("栏目不存在", denied=True)
        return board.settings.name, f"/boards/{board.slug}"
    known = {d.slug: d.name for d in await store.list_departments()}
    if key not in known:
        raise NotFound("部门不存在")
    return known[key], f"/departments/{key}"


def may_follow_board(board: BoardView, viewer: User | None) -> bool:
    """Whether the board's 关注 button is offered: a confidential board lists nothing but to
    its moderators, so only they may follow it (visitors are offered the login)."""
    return not board.policy.confidential or is_moderator(viewer)


def _require(viewer: User | None) -> User:
    if viewer is None:
        raise NotLoggedIn()
    return viewer


# following -----------------------------------------------------------------------------------
async def follow(store: Store, viewer: User | None, target: Any) -> SubscriptionView:
    """Follow a target ("post:<id>", "board:<slug>" or "department:<slug>"); following it
    again answers the subscription there is (created False). Safe inside a caller's unit of
    work, and against itself racing: one subscription per person and target, kept by the
    store's unique index. Raises NotLoggedIn, MalformedTarget (an Invalid naming `target`, 400),
    NotFound (a target the viewer may not see)."""
    user = _require(viewer)
    kind, key = parse_target(target)
    name, path = await _resolve(store, user, kind, key)
    stored, created = await store.add_subscription(
        Subscription(new_id(), user.id, target_of(kind, key), now())
    )
    return SubscriptionView(stored, kind, key, name, path, created)


async def unfollow(store: Store, viewer: User | None, subscription_id: Any) -> None:
    """Stop following. Raises NotLoggedIn, NotFound (an unknown id, or another user's)."""
    user = _require(viewer)
    if not is_id(subscription_id) or not await store.delete_subscription(subscription_id, user.id):
        raise NotFound("关注不存在")


async def following(store: Store, viewer: User | None, target: str) -> Subscription | None:
    """The viewer's subscription to `target` (for the 关注 / 已关注 button); None for visitors
    and for targets not followed."""
    if viewer is None:
        return None
    return await store.get_subscription(viewer.id, target)


async def list_following(
    store: Store, viewer: User | None, *, cursor: Any = None, limit: Any = None
) -> Page:
    """What the viewer follows, newest first, each with what they may see of it now. Raises
    NotLoggedIn, Invalid (cursor, limit)."""
    user = _require(viewer)
    size = check_limit(limit)
    found = await store.list_subscriptions(user.id, decode_cursor(cursor), size + 1)
    items = []
    for subscription in found[:size]:
        kind, _, key = subscription.target.partition(":")
        view = SubscriptionView(subscription, kind, key)
        try:
            view.name, view.path = await _resolve(store, user, kind, key)
        except NotFound:
            pass  # hidden or gone since: listed, to be unfollowed, but not named
        items.append(view)
    last = found[size - 1] if len(found) > size else None
    return Page(items, encode_cursor((last.created_at, last.id)) if last else None)


# telling followers ---------------------------------------------------------------------------
def _publicly_visible(post: Post) -> bool:
    return may_see(post, boards.POLICIES[post.board], None)


async def _tell(
    store: Store, post: Post, reach: Iterable[tuple[str, str]], detail: str, told: set[str]
) -> set[str]:
    """Tell the followers of each target in `reach` ((target, notice kind), in order), those
    not in `told` and who may see `post` as it is now; each person once, by the first target
    that reaches them. Followers are read and told FANOUT_PAGE at a time. Returns `told` with
    those told now added."""
    policy = boards.POLICIES[post.board]
    for target, kind in reach:
        after = None
        while True:
            page = await store.list_subscribers(target, after, FANOUT_PAGE)
            if not page:
                break
            after = page[-1].user_id
            fresh = [s.user_id for s in page if s.user_id not in told]
            told.update(fresh)  # whether or not they may see it: one judgement per event
            people = await store.get_users(fresh) if fresh else {}
            await notify.tell(
                store,
                [person for person in people.values() if may_see(post, policy, person)],
                kind,
                post,
                detail,
            )
            if len(page) < FANOUT_PAGE:
                break
    return told


def _already(actor: User | None, told: Iterable[str]) -> set[str]:
    """Those not to be told again: the actor, and whoever the change told already."""
    return {*told, *([actor.id] if actor is not None else [])}


async def tell_of_reply(
    store: Store, post: Post, kind: ReplyKind, actor: User | None, told: Iterable[str] = ()
) -> None:
    """A reply was added to `post` (as it is after the reply): its followers hear of it; an
    official reply on a case the public may see, also the followers of the department that
    gave it. Inside the unit of work that adds the reply."""
    reach = [(target_of("post", post.id), REPLY_NOTICE[kind])]
    if kind is ReplyKind.OFFICIAL and post.department is not None and _publicly_visible(post):
        reach.append((target_of("department", post.department), "follow_department"))
    await _tell(store, post, reach, "", _already(actor, told))


async def tell_of_status(
    store: Store,
    before: Post,
    after: Post,
    actor: User | None,
    detail: str = "",
    told: Iterable[str] = (),
) -> None:
    """`before` became `after`: when its status changed, its followers hear of it; when that
    made it public (a held post approved, a case accepted), its board's followers hear of a
    new post. Inside the unit of work of the change."""
    reach = []
    if after.status is not before.status:
        reach.append((target_of("post", after.id), "follow_status"))
    if _publicly_visible(after) and not _publicly_visible(before):
        reach.append((target_of("board", after.board), "follow_post"))
    if reach:
        await _tell(store, after, reach, detail, _already(actor, told))


async def tell_of_new_post(store: Store, post: Post, actor: User | None) -> None:
    """A new post: when the public may see it at once (published, open), its board's
    followers hear of it. Inside the unit of work that stores it."""
    if _publicly_visible(post):
        await _tell(
            store, post, [(target_of("board", post.board), "follow_post")], "", _already(actor, ())
        )
