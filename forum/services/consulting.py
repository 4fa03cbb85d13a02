"""The consultation boards (lawyer, agri): accepting an answer, the answerers' workspace and
their public record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from forum import boards, workflow
from forum.boards import Policy
from forum.clock import now
from forum.errors import Forbidden, Invalid, NotFound, NotLoggedIn
from forum.model import Event, Kind, Page, PostFilter, ReplyKind, ReplyStats, Status, User, new_id
from forum.services import decided, following, forms, posting
from forum.services.fields import Fields, check_limit
from forum.services.paging import decode_cursor, encode_cursor
from forum.services.presenting import BADGES, PostView, may_answer, may_see, present_posts, step
from forum.store.base import Store


def consultation_boards() -> list[Policy]:
    return [p for slug, p in boards.POLICIES.items() if p.kind is Kind.CONSULTATION]


def answerable_boards(viewer: User | None) -> list[Policy]:
    """The consultation boards in which the viewer is a verified answerer."""
    return [p for p in consultation_boards() if may_answer(p, viewer)]


async def accept_answer(store: Store, viewer: User | None, post_id: Any, reply_id: Any) -> PostView:
    """The asker marks one answer as best; the question becomes resolved. Raises NotLoggedIn,
    NotFound, Forbidden (not the asker, or not a consultation), Invalid (reply_id is not an
    answer of this question), Conflict (already resolved, or not public)."""
    if viewer is None:
        raise NotLoggedIn()
    post, policy = await posting.visible_post(store, viewer, post_id)
    if policy.kind is not Kind.CONSULTATION:
        raise Forbidden("只有咨询类栏目可以采纳解答", code="not_a_consultation")
    new_status = step(post, "accept_answer", viewer)
    fields = Fields()
    chosen = fields.take(forms.REPLY_ID, "reply_id", reply_id)
    fields.done()
    reply = next((r for r in await store.list_replies(post.id) if r.id == chosen), None)
    if reply is None:
        raise Invalid({"reply_id": "不是这个问题下的回复"})
    if reply.kind is not ReplyKind.ANSWER:
        raise Invalid({"reply_id": "只能采纳律师或专家的解答，不能采纳追问或评论"})
    at = now()
    event = Event(
        new_id(),
        post.id,
        at,
        viewer.id,
        "accept_answer",
        post.status.value,
        new_status.value,
        note=reply.id,
    )
    # Conditional on the status the accept was decided from: of two accepts at once (two
    # answers, two tabs), one wins and the other gets 409; one best answer, never two.
    async with decided.unit_decided_from(store, post):
        updated = await store.accept_reply(
            post.id,
            reply.id,
            {"status": new_status, "accepted_reply_id": reply.id, "updated_at": at},
            event,
            expect={"status": post.status},
        )
        # The question's followers hear it is resolved (the asker did it).
        await following.tell_of_status(
            store, post, updated, viewer, workflow.ACTION_NAMES["accept_answer"]
        )
    (view,) = await present_posts(store, viewer, [updated])
    return view


# the workspace -------------------------------------------------------------------------------
@dataclass
class Workspace:
    boards: list[Policy]  # every board the viewer answers in
    board: Policy  # the one shown
    category: str | None  # the category chosen, if any
    mine_only: bool  # limited to the viewer's specialties
    counts: dict[str | None, int]  # open questions per category in the shown filter's board
    page: Page


async def workspace(
    store: Store,
    viewer: User | None,
    *,
    board: Any = None,
    category: Any = None,
    everything: bool = False,
    cursor: Any = None,
    limit: Any = None,
) -> Workspace:
    """Open questions an answerer can take, oldest first: in one board they answer, in their
    specialties unless `everything` or a category is asked for. Raises NotLoggedIn, Forbidden
    (not a verified answerer), Invalid (board, category, cursor, limit)."""
    if viewer is None:
        raise NotLoggedIn()
    mine = answerable_boards(viewer)
    if not mine:
        raise Forbidden("只有认证律师和农业专家可以使用解答工作台", code="not_an_answerer")
    fields = Fields()
    slug = (
        fields.take(forms.CONSULTATION_BOARD.among(p.slug for p in mine), "board", board)
        or mine[0].slug
    )
    shown = boards.POLICIES[slug]
    settings = await store.get_board(slug)
    chosen = fields.take(
        forms.CATEGORY.among(settings.categories if settings else []), "category", category
    )
    fields.done()
    size = check_limit(limit)
    after = decode_cursor(cursor)
    where = PostFilter(board=slug, statuses=(Status.OPEN,))
    specialties = tuple(s for s in viewer.specialties if settings and s in settings.categories)
    mine_only = chosen is None and not everything and bool(specialties)
    if chosen is not None:
        where.category = chosen
    elif mine_only:
        where.categories = specialties
    counts = await store.count_posts_by_category(PostFilter(board=slug, statuses=(Status.OPEN,)))
    posts = await store.list_posts(where, after, size + 1, oldest_first=True)
    views = await present_posts(store, viewer, posts[:size])
    last = posts[size - 1] if len(posts) > size else None
    return Workspace(
        boards=mine,
        board=shown,
        category=chosen,
        mine_only=mine_only,
        counts=counts,
        page=Page(views, encode_cursor((last.created_at, last.id)) if last else None),
    )


# answerers' record ---------------------------------------------------------------------------
@dataclass
class AnswerRecord:
    """One answer on a profile: where and when, not what (the text stays with its question,
    where masking and visibility apply)."""

    post_id: str
    post_title: str
    answered_at: dt.datetime
    accepted: bool


@dataclass
class Profile:
    user: User
    badges: list[str]
    stats: ReplyStats
    recent: list[AnswerRecord]


RECENT_ANSWERS = 10


async def profile(store: Store, viewer: User | None, username: Any) -> Profile:
    """An answerer's public record: answers given, accepted, per board, and their latest answers
    on questions the viewer may see. Raises NotFound, also for people who never answered."""
    user = await store.get_user_by_name(username) if isinstance(username, str) else None
    if user is None or user.disabled:
        raise NotFound("用户不存在")
    stats = await store.reply_stats(user.id, ReplyKind.ANSWER)
    badges = [BADGES[role] for role in BADGES if user.has(role)]
    if not badges and stats.total == 0:
        # Only answerers have a public record; other accounts stay private.
        raise NotFound("用户不存在")
    replies = await store.list_replies_by_author(user.id, ReplyKind.ANSWER, None, RECENT_ANSWERS)
    recent = []
    for reply in replies:
        post = await store.get_post(reply.post_id)
        policy = boards.policy(post.board) if post else None
        if post is not None and policy is not None and may_see(post, policy, viewer):
            (view,) = await present_posts(store, viewer, [post])
            recent.append(AnswerRecord(post.id, view.post.title, reply.created_at, reply.accepted))
    return Profile(user=user, badges=badges, stats=stats, recent=recent)
