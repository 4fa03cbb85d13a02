"""Posts and replies: what a viewer may write and change (reading them is reading.py's).

Every function takes the viewer (a User, or None for a visitor) and returns views: the records
with what this viewer may know of them and may do with them. Both the pages and the JSON API
print these views, so the rules here hold for both.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

from forum import boards, security, text, workflow
from forum.boards import Policy
from forum.clock import now
from forum.errors import Conflict, Forbidden, NotLoggedIn
from forum.messages import msg, term
from forum.model import (
    Event,
    Kind,
    Post,
    Reply,
    ReplyKind,
    Revision,
    Status,
    User,
    new_id,
)
from forum.services import audit, decided, following, forms, notify, searching, settings, throttle
from forum.services.fields import Fields, required
from forum.services.presenting import (
    BADGES,
    EDIT_WINDOW_MINUTES,
    SUPPORTED_KINDS,
    BoardView,
    PostView,
    ReplyView,
    Thread,
    is_moderator,
    may_edit,
    present_post,
    present_posts,
    present_reply,
    reply_kind,
    step,
)
from forum.services.reading import (
    get_board,
    get_thread,
    latest_by_board,
    list_boards,
    list_own_posts,
    list_posts,
    navigation,
    public_feed,
    visible_post,
)
from forum.store.base import Store

NEW_ACCOUNT_AGE = dt.timedelta(days=1)
NEW_ACCOUNT_MAX_LINKS = 2

# What reading.py holds is named here too: the pages, the API and the tests read and write
# boards and posts through this module.
__all__ = [
    "BoardView",
    "PostView",
    "ReplyView",
    "Thread",
    "EDIT_WINDOW_MINUTES",
    "SUPPORTED_KINDS",
    "get_board",
    "get_thread",
    "latest_by_board",
    "list_boards",
    "list_own_posts",
    "list_posts",
    "navigation",
    "public_feed",
    "visible_post",
]


async def get_thread_for_editing(store: Store, viewer: User | None, post_id: Any) -> Thread:
    """The thread, if the viewer may edit its post now. Raises NotLoggedIn, NotFound, Forbidden."""
    if viewer is None:
        raise NotLoggedIn()
    thread = await get_thread(store, viewer, post_id)
    if not thread.post.may_edit:
        _refuse_edit(thread.post.post, viewer)
    return thread


def _refuse_edit(post: Post, viewer: User) -> None:
    """Why this viewer may not edit this post now: not theirs, or past the window."""
    if not is_moderator(viewer) and post.author_id != viewer.id:
        raise Forbidden("只能修改自己的帖子", code="not_author")
    raise Forbidden(
        msg("发帖 {minutes} 分钟后不能再修改", minutes=EDIT_WINDOW_MINUTES),
        code="edit_window_closed",
    )


# writing -------------------------------------------------------------------------------------
async def _render(body: str) -> str:
    # Long bodies take milliseconds to render: off the event loop.
    return await asyncio.to_thread(text.render, body)


async def render_text(body: str) -> str:
    """The HTML of a checked body, as posts and replies keep it."""
    return await _render(body)


def _is_official(viewer: User | None) -> bool:
    return viewer is not None and viewer.is_official


async def _reserve_write(
    store: Store, viewer: User | None, address: str = ""
) -> throttle.Reservation | None:
    """A place in the limit on how often one account (or, without one, one address) writes,
    taken before the write's slow work; None for officials, who are exempt. Raises
    RateLimited."""
    limited = _write_limit(viewer, address)
    return await throttle.reserve(store, *limited) if limited is not None else None


def _write_limit(viewer: User | None, address: str = "") -> tuple[throttle.Limit, str] | None:
    """The limit a write by `viewer` counts against, and whose count; None for officials."""
    if _is_official(viewer):
        return None
    if viewer is None:
        return throttle.POSTS_PER_ADDRESS, address
    young = now() - viewer.created_at < NEW_ACCOUNT_AGE
    return (throttle.POSTS_PER_NEW_ACCOUNT if young else throttle.POSTS_PER_ACCOUNT), viewer.id


def _held_for_review(viewer: User | None, html: str) -> bool:
    """Spam rule: links from an account under a day old beyond the allowance wait for review."""
    young = viewer is None or now() - viewer.created_at < NEW_ACCOUNT_AGE
    return young and text.count_links(html) > NEW_ACCOUNT_MAX_LINKS


async def _needs_review(
    store: Store, viewer: User | None, title: str | None, body: str | None, html: str
) -> bool:
    """The review rules, on a new post and on every edit alike (an edit must not slip past
    them what a new post could not): too many links from a young account, or a sensitive
    word. Officials' texts are not held."""
    if _is_official(viewer):
        return False
    return _held_for_review(viewer, html) or bool(
        settings.matching_words(await settings.sensitive_words(store), title, body)
    )


async def preview(body: Any) -> str:
    """What `body` would look like once saved. Raises Invalid."""
    fields = Fields()
    checked = fields.take(forms.OPTIONAL_BODY, "body", body)
    fields.done()
    return await _render(checked or "")


async def board_for_writing(store: Store, viewer: User | None, slug: Any) -> BoardView:
    """The board if the viewer may open a post in it. Raises NotFound, NotLoggedIn, Forbidden
    (role, a closed board, or a board whose rules are not built yet)."""
    board = await get_board(store, viewer, slug)
    if board.policy.kind not in SUPPORTED_KINDS:
        raise Forbidden(
            msg("“{board}”暂未开放在线提交", board=term(board.settings.name)),
            code="board_not_available",
        )
    if not board.settings.is_open:
        raise Forbidden(
            msg("“{board}”已暂停提交", board=term(board.settings.name)), code="board_closed"
        )
    if viewer is None and not board.policy.visitors_may_post:
        raise NotLoggedIn()
    if not board.may_post:
        raise Forbidden("您没有在此栏目发帖的权限")
    return board


async def create_post(
    store: Store, viewer: User | None, slug: Any, data: dict[str, Any], *, address: str = ""
) -> PostView:
    """Open a post in a board: a discussion, a question, a case or a hotline bulletin, each with
    its board's fields. A case comes back with its tracking code (shown once). Raises NotFound
    (board), NotLoggedIn, Forbidden (role, closed board), Invalid, RateLimited."""
    board = await board_for_writing(store, viewer, slug)
    policy = board.policy
    fields = Fields()
    title = fields.take(forms.TITLE, "title", data.get("title"))
    body = fields.take(forms.BODY, "body", data.get("body"))
    category = fields.take(
        forms.CATEGORY.among(board.settings.categories), "category", data.get("category")
    )
    anonymous = fields.take(
        dataclasses.replace(forms.ANONYMOUS, default=viewer is None),
        "anonymous",
        data.get("anonymous"),
    )
    if anonymous and not policy.anonymity:
        fields.fail("anonymous", "此栏目不能匿名")
    extra = await _kind_fields(store, fields, policy, data, viewer)
    fields.done()
    title, body = required(title), required(body)
    place = await _reserve_write(store, viewer, address)
    html = await _render(body)
    terms = await searching.terms_of(title, body)
    # The post, its first event, its search entry and a bulletin's audit entry: one unit. The
    # place reserved under the write limit is given back when the unit is refused.
    async with throttle.released_if_refused(store, place), store.transaction():
        at = now()
        status = boards.INITIAL_STATUS[policy.kind]
        if status in (Status.PUBLISHED, Status.OPEN) and await _needs_review(
            store, viewer, title, body, html
        ):
            # Held, never dropped: a moderator approves or hides it from the queue.
            status = Status.PENDING
        code = None
        if policy.kind is Kind.CASE:
            code = security.new_tracking_code()
            calendar = await settings.load_calendar(store)
            extra.update(
                tracking_hash=security.tracking_hash(code),
                accept_due_at=calendar.due(at, board.settings.accept_days),
            )
        post = Post(
            id=new_id(),
            board=board.slug,
            title=title,
            body=body,
            html=html,
            author_id=viewer.id if viewer else None,
            status=status,
            created_at=at,
            updated_at=at,
            category=category,
            anonymous=anonymous,
            **extra,
        )
        event = Event(
            new_id(), post.id, at, viewer.id if viewer else None, "create", None, status.value
        )
        await store.add_post(post, event)
        await store.index_post(post.id, terms)
        if policy.kind is Kind.BULLETIN:
            if viewer is None:  # staff post bulletins: board_for_writing lets no visitor here
                raise NotLoggedIn()
            await audit.record(store, viewer, "publish", f"post:{post.id}")
        # The board's followers (关注), when the public may see it at once.
        await following.tell_of_new_post(store, post, viewer)
    view = present_post(post, viewer, viewer, set(), holds_code=True)
    view.tracking_code = code
    return view


async def _kind_fields(
    store: Store, fields: Fields, policy: Policy, data: dict[str, Any], viewer: User | None
) -> dict[str, Any]:
    """The fields only some boards have: a letter's contact and publicity, a bulletin's
    hotline case number, call date and department (the writer's own, unless a moderator
    publishes: a reply speaks in the name of the office that gave it)."""
    typed = _typed_fields(fields, policy, data)
    if policy.kind is Kind.CASE:
        contact = fields.take(
            dataclasses.replace(forms.CONTACT, required=policy.real_name),
            "contact",
            data.get("contact"),
        )
        real_name = (
            fields.take(forms.REAL_NAME, "real_name", data.get("real_name"))
            if policy.real_name
            else None
        )
        public = fields.take(forms.PUBLIC, "public", data.get("public"))
        if public and policy.confidential:
            fields.fail("public", "举报内容不公开")
        return {"contact": contact, "public": public, "real_name": real_name, **typed}
    if policy.kind is Kind.BULLETIN:
        departments = {d.slug for d in await store.list_departments()}
        department = fields.take(
            forms.DEPARTMENT.among(sorted(departments)), "department", data.get("department")
        )
        if (
            department is not None
            and not is_moderator(viewer)
            and (viewer is None or department != viewer.department)
        ):
            fields.fail("department", "只能以本部门的名义发布")
        return {
            "case_number": fields.take(forms.CASE_NUMBER, "case_number", data.get("case_number")),
            "received_on": fields.take(forms.RECEIVED_ON, "received_on", data.get("received_on")),
            "department": department,
            **typed,
        }
    return {}


def _typed_fields(fields: Fields, policy: Policy, data: dict[str, Any]) -> dict[str, Any]:
    """A letter's (or hotline call's) type and area, on the boards that have them."""
    if not policy.typed:
        return {}
    return {
        "letter_type": fields.take(forms.LETTER_TYPE, "letter_type", data.get("letter_type")),
        "area": fields.take(forms.AREA, "area", data.get("area")),
    }


async def edit_post(
    store: Store, viewer: User | None, post_id: Any, data: dict[str, Any]
) -> PostView:
    """Change title and/or body; the author within EDIT_WINDOW_MINUTES, moderators always. The
    earlier text is kept as a revision. Raises NotLoggedIn, NotFound, Forbidden, Invalid."""
    if viewer is None:
        raise NotLoggedIn()
    post, policy = await visible_post(store, viewer, post_id)
    if policy.kind is Kind.CASE:
        # A letter's text is the record the departments answered; it is added to, not changed.
        raise Forbidden("信件和举报提交后不能修改，可以追加说明", code="case_not_editable")
    if not may_edit(post, viewer, now()):
        _refuse_edit(post, viewer)
    fields = Fields()
    title = fields.take(forms.OPTIONAL_TITLE, "title", data.get("title"))
    body = fields.take(forms.OPTIONAL_BODY, "body", data.get("body"))
    if "title" in data and title is None:
        fields.fail("title", "不能为空")
    if "body" in data and body is None:
        fields.fail("body", "不能为空")
    if title is None and body is None and not fields.errors:
        fields.fail("body", "没有要修改的内容")
    fields.done()
    at = now()
    changes: dict[str, Any] = {"updated_at": at}
    if title is not None:
        changes["title"] = title
    if body is not None:
        changes["body"] = body
        changes["html"] = await _render(body)
    if workflow.allows_now(policy.kind, "hold", post.status) and await _needs_review(
        store, viewer, title, body, changes.get("html", post.html)
    ):
        changes["status"] = workflow.step(policy.kind, "hold", post.status, REVIEW_RULES)
    revision = Revision(new_id(), post.id, post.title, post.body, viewer.id, at)
    event = Event(
        new_id(),
        post.id,
        at,
        viewer.id,
        "edit",
        post.status.value,
        changes.get("status", post.status).value,
    )
    terms = await searching.terms_of(
        changes.get("title", post.title), changes.get("body", post.body)
    )
    async with decided.unit_decided_from(store, post):
        # Conditional on the text and status the edit was decided from: of two edits (or an
        # edit and a moderator's hiding) at once, one wins and the other gets 409.
        updated = await store.update_post(
            post.id,
            changes,
            revision=revision,
            event=event,
            expect={"status": post.status, "updated_at": post.updated_at},
        )
        await store.index_post(post.id, terms)
    (view,) = await present_posts(store, viewer, [updated])
    return view


async def add_reply(store: Store, viewer: User | None, post_id: Any, body: Any) -> ReplyView:
    """Reply to a post; the kind follows from the board and the viewer's role. Raises
    NotLoggedIn, NotFound, Forbidden, Conflict (locked or not open), Invalid, RateLimited."""
    if viewer is None:
        raise NotLoggedIn()
    post, policy = await visible_post(store, viewer, post_id)
    kind = reply_kind(post, policy, viewer)
    if kind is None:
        raise Forbidden(_reply_refusal(policy), code="may_not_reply")
    if post.locked:
        raise Conflict("该帖已锁定，不能回复", code="locked")
    new_status = step(post, workflow.reply_action(kind), viewer)
    fields = Fields()
    text_body = fields.take(forms.BODY, "body", body)
    fields.done()
    text_body = required(text_body)
    place = await _reserve_write(store, viewer)
    html = await _render(text_body)
    writer = await notify.writer_to_tell(store, post, viewer)
    # The reply, its post's new status and event, the writer's notification and mail and the
    # audit entry: one unit, one commit (and one disk flush). The place reserved under the
    # write limit is given back when the unit is refused.
    async with throttle.released_if_refused(store, place), decided.unit_decided_from(store, post):
        at = now()
        reply = Reply(new_id(), post.id, viewer.id, text_body, html, kind, at, board=post.board)
        changes: dict[str, Any] = {"updated_at": at}
        event = None
        if new_status is not post.status:
            changes["status"] = new_status
            event = Event(
                new_id(),
                post.id,
                at,
                viewer.id,
                workflow.reply_action(kind),
                post.status.value,
                new_status.value,
            )
        if kind is ReplyKind.OFFICIAL and post.replied_at is None:
            changes["replied_at"] = at
        if kind is ReplyKind.OFFICIAL and post.supervised:
            changes["supervised"] = False  # 督办 lasts until the official reply
        # Conditional on the status and department the reply was decided from: a reply racing
        # a return, a rating or a close gets 409 instead of landing on a case that moved on.
        replied = await store.add_reply(
            reply, changes, event, expect={"status": post.status, "department": post.department}
        )
        told = await notify.tell(store, [writer], REPLY_NOTICE[kind], post) if writer else set()
        # The post's followers (and a department's, for its official reply on a public case),
        # all but the writer just told and whoever replied.
        await following.tell_of_reply(store, replied, kind, viewer, told)
        if kind is ReplyKind.OFFICIAL:
            await audit.record(
                store, viewer, "official_reply", f"post:{post.id}", detail={"reply_id": reply.id}
            )
    return present_reply(post, viewer, reply)


# Who holds a post for review when its text trips the rules: the system, not the editor.
REVIEW_RULES = frozenset({workflow.Party.SYSTEM})

# What a reply tells the post's writer (their own follow-ups tell nobody: see tell_author).
REPLY_NOTICE = {
    ReplyKind.COMMENT: "reply",
    ReplyKind.FOLLOW_UP: "reply",
    ReplyKind.ANSWER: "answer",
    ReplyKind.OFFICIAL: "official",
}


def _reply_refusal(policy: Policy) -> str:
    if policy.kind is Kind.CONSULTATION:
        names = [term(b) for r, b in BADGES.items() if r in policy.answerers]
        return msg("只有{names}和提问人可以在此回复", names=names)
    return term("您不能在此回复")
