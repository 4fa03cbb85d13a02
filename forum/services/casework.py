"""Casework of the second release, as a 12345 centre does it: notes between the offices (协办意见),
the named officer (承办人), extensions (延期), urging and supervision (催办/督办) with the clock's
reminders, callbacks (回访) and the history of every rating, merging duplicates (重复件).

Every step goes through the lifecycle authority (presenting.step → workflow.step) and is stored
as one unit with its event, audit entry and notices (cases.apply_step).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from forum import boards, privacy, workflow
from forum.clock import now
from forum.errors import Conflict, Invalid, NotLoggedIn
from forum.messages import msg
from forum.model import (
    Event,
    Kind,
    Post,
    PostFilter,
    Reply,
    ReplyKind,
    Role,
    Status,
    User,
    iso,
    new_id,
)
from forum.services import decided, following, forms, notify, settings
from forum.services.cases import (
    CASE_BOARDS,
    CLOCK,
    EXPIRE_BATCH,
    apply_step,
    case_for,
    close_unrated,
    note_overdue,
)
from forum.services.fields import Fields, required
from forum.services.posting import render_text
from forum.services.reading import get_board
from forum.services.presenting import PostView, ReplyView, is_insider, may_see, present_thread, step
from forum.store.base import Store

RATING_SOURCES = ("rating", "callback")


# notes between the offices -------------------------------------------------------------------
async def add_note(store: Store, viewer: User | None, post_id: Any, body: Any) -> ReplyView:
    """协办意见: a note by the lead's or a helper's staff, or a moderator, that the writer, the
    public and a tracking code never see. Raises NotLoggedIn, NotFound, Forbidden, Invalid,
    Conflict."""
    if viewer is None:
        raise NotLoggedIn()
    post = await case_for(store, viewer, post_id)
    step(post, "note", viewer)
    fields = Fields()
    text_body = fields.take(forms.BODY, "body", body)
    fields.done()
    text_body = required(text_body)
    html = await render_text(text_body)
    async with decided.unit_decided_from(store, post):
        at = now()
        reply = Reply(
            new_id(), post.id, viewer.id, text_body, html, ReplyKind.INTERNAL, at, board=post.board
        )
        # Not counted: the public's reply count must not reveal that the offices talk.
        await store.add_reply(
            reply,
            {"updated_at": at},
            None,
            counted=False,
            expect={"status": post.status, "department": post.department},
        )
        if post.department and viewer.department != post.department:
            await notify.tell_department(store, post, post.department, "note")
    thread = await present_thread(
        store, viewer, post, await get_board(store, viewer, post.board), [reply], [], []
    )
    return thread.replies[0]


# the officer ---------------------------------------------------------------------------------
async def assign(store: Store, viewer: User | None, post_id: Any, username: Any) -> PostView:
    """The lead department names one of its own members as the case's officer (承办人).
    Raises NotLoggedIn, NotFound, Forbidden, Invalid (username: not a member), Conflict."""
    post = await case_for(store, viewer, post_id)
    new = step(post, "assign", viewer)
    fields = Fields()
    name = fields.take(forms.OFFICER_NAME, "username", username)
    fields.done()
    officer = await store.get_user_by_name(name) if name else None
    if (
        officer is None
        or officer.disabled
        or not officer.has(Role.STAFF)
        or officer.department != post.department
    ):
        raise Invalid({"username": "不是本部门的工作人员"})
    return await apply_step(
        store,
        viewer,
        post,
        "assign",
        new,
        {"officer_id": officer.id},
        officer.username,
        tell_writer=False,
    )


# extensions ----------------------------------------------------------------------------------
async def request_extension(
    store: Store, viewer: User | None, post_id: Any, days: Any, reason: Any
) -> PostView:
    """The lead department asks for 1 to 15 more working days, once per routing (again only
    after a refusal). Raises NotLoggedIn, NotFound, Forbidden, Invalid, Conflict (one pending or
    approved already)."""
    post = await case_for(store, viewer, post_id)
    new = step(post, "extension_request", viewer)
    fields = Fields()
    count = fields.take(forms.EXTENSION_DAYS, "days", days)
    text_reason = fields.take(forms.REASON, "reason", reason)
    fields.done()
    if post.extension_status in ("requested", "approved"):
        raise Conflict(
            "本次转办已申请过延期",
            code="extension_exists",
            state={"extension": post.extension_status},
        )
    changes = {
        "extension_status": "requested",
        "extension_days": count,
        "extension_reason": text_reason,
    }

    async def tell(updated: Post) -> None:
        await notify.tell_moderators(store, updated, "extension")

    return await apply_step(
        store,
        viewer,
        post,
        "extension_request",
        new,
        changes,
        msg("申请延期 {days} 个工作日：{reason}", days=count, reason=text_reason),
        tell_writer=False,
        also=tell,
        expect={"extension_status": post.extension_status},
    )


async def decide_extension(
    store: Store, viewer: User | None, post_id: Any, approve: Any, reason: Any = None
) -> PostView:
    """A moderator approves (the due time moves on by the days asked, the writer is told) or
    refuses a pending extension. Raises NotLoggedIn, NotFound, Forbidden, Invalid, Conflict (no
    pending request)."""
    post = await case_for(store, viewer, post_id)
    new = step(post, "extension_decide", viewer)
    fields = Fields()
    approved = fields.take(forms.APPROVE, "approve", approve)
    text_reason = fields.take(forms.OPTIONAL_REASON, "reason", reason)
    fields.done()
    if post.extension_status != "requested":
        raise Conflict(
            "没有待审批的延期申请",
            code="no_extension_request",
            state={"extension": post.extension_status},
        )
    changes: dict[str, Any] = {"extension_status": "approved" if approved else "refused"}
    days = post.extension_days or 0
    if approved:
        calendar = await settings.load_calendar(store)
        start = post.due_at or now()
        # The due time is the end of a working day: counting on from that day adds `days`.
        changes.update(
            extended=True,
            overdue_since=None,
            due_at=calendar.due(start - dt.timedelta(seconds=1), days),
        )
    words = msg("同意延期 {days} 个工作日", days=days) if approved else msg("不同意延期")
    note = f"{words}。{text_reason}" if text_reason else words

    async def tell(updated: Post) -> None:
        if updated.department:
            await notify.tell_department(store, updated, updated.department, "extension")

    return await apply_step(
        store,
        viewer,
        post,
        "extension_decide",
        new,
        changes,
        note,
        tell_writer=approved,
        also=tell,
        expect={"extension_status": "requested"},
    )


# urging and supervision ----------------------------------------------------------------------
async def urge(store: Store, viewer: User | None, post_id: Any, note: Any = None) -> PostView:
    """催办: a moderator reminds the lead department, with a note. Raises NotLoggedIn, NotFound,
    Forbidden, Invalid, Conflict."""
    post = await case_for(store, viewer, post_id)
    new = step(post, "urge", viewer)
    text_note = _optional_text("note", note)

    async def tell(updated: Post) -> None:
        await notify.tell_department(store, updated, updated.department, "urge", text_note or "")

    return await apply_step(
        store, viewer, post, "urge", new, {}, text_note or "", tell_writer=False, also=tell
    )


async def supervise(store: Store, viewer: User | None, post_id: Any, reason: Any) -> PostView:
    """督办: a moderator marks a routed case; it heads the queue until it is replied. Raises
    NotLoggedIn, NotFound, Forbidden, Invalid (reason), Conflict (already supervised)."""
    post = await case_for(store, viewer, post_id)
    new = step(post, "supervise", viewer)
    fields = Fields()
    text_reason = fields.take(forms.REASON, "reason", reason)
    fields.done()
    if post.supervised:
        raise Conflict("该事项已在督办中", code="already_supervised", state={"supervised": True})
    at = now()

    async def tell(updated: Post) -> None:
        await notify.tell_department(
            store, updated, updated.department, "supervise", text_reason or ""
        )

    return await apply_step(
        store,
        viewer,
        post,
        "supervise",
        new,
        {"supervised": True, "supervised_at": at},
        text_reason or "",
        tell_writer=True,
        also=tell,
        expect={"supervised": False},
    )


async def remind_due(store: Store, at: dt.datetime | None = None) -> int:
    """The clock's reminder: routed cases due within REMIND_BEFORE_DAYS working days, once per
    routing, to the lead department. Returns how many were reminded."""
    at = at or now()
    calendar = await settings.load_calendar(store)
    horizon = calendar.due(at, workflow.REMIND_BEFORE_DAYS)
    where = PostFilter(
        boards=CASE_BOARDS,
        statuses=(Status.ROUTED,),
        due_before=horizon,
        due_from=at,
        reminded=False,
    )

    async def tell(post: Post) -> None:
        await notify.tell_department(store, post, post.department, "remind")

    return await _sweep(
        store,
        where,
        "remind",
        lambda post: {"reminded_at": at},
        "即将到期，请按时答复",
        at,
        tell,
        expect={"reminded_at": None},
    )


async def supervise_overdue(store: Store, at: dt.datetime | None = None) -> int:
    """The clock's supervision: routed cases overdue by more than SUPERVISE_AFTER_DAYS working
    days become supervised. Returns how many."""
    at = at or now()
    calendar = await settings.load_calendar(store)
    where = PostFilter(
        boards=CASE_BOARDS, statuses=(Status.ROUTED,), due_before=at, supervised=False
    )

    def late(post: Post) -> bool:
        return (
            post.due_at is not None
            and calendar.due(post.due_at - dt.timedelta(seconds=1), workflow.SUPERVISE_AFTER_DAYS)
            < at
        )

    async def tell(post: Post) -> None:
        await notify.tell_department(store, post, post.department, "supervise")
        await notify.tell_moderators(store, post, "supervise")

    return await _sweep(
        store,
        where,
        "supervise",
        lambda post: {"supervised": True, "supervised_at": at} if late(post) else None,
        msg("超期超过 {days} 个工作日，自动督办", days=workflow.SUPERVISE_AFTER_DAYS),
        at,
        tell,
        expect={"supervised": False},
    )


async def _sweep(
    store: Store,
    where: PostFilter,
    action: str,
    changes_for: Any,
    note: str,
    at: dt.datetime,
    tell: Any,
    *,
    expect: dict[str, Any],
) -> int:
    """Take the clock's `action` on every matching case `changes_for` gives changes for, each
    conditional on `expect` (so that two processes sweeping at once mark a case once)."""
    done, after = 0, None
    while True:
        batch = await store.list_posts(where, after, EXPIRE_BATCH, oldest_first=True)
        for post in batch:
            changes = changes_for(post)
            if changes is None:
                continue
            new = workflow.step(Kind.CASE, action, post.status, CLOCK)
            event = Event(new_id(), post.id, at, None, action, post.status.value, new.value, note)
            try:
                async with store.transaction():
                    updated = await store.update_post(
                        post.id,
                        {**changes, "updated_at": at},
                        event=event,
                        expect={"status": post.status, "department": post.department, **expect},
                    )
                    await tell(updated)
            except Conflict:
                continue
            done += 1
        if len(batch) < EXPIRE_BATCH:
            return done
        after = (batch[-1].created_at, batch[-1].id)


# callbacks and the rating history ------------------------------------------------------------
async def callback(
    store: Store,
    viewer: User | None,
    post_id: Any,
    reached: Any,
    score: Any = None,
    note: Any = None,
) -> PostView:
    """回访: a moderator records a call to the writer of a replied or closed case. 不满意
    reopens it (once per case, shared with ratings); satisfaction closes a replied case.
    Raises NotLoggedIn, NotFound, Forbidden, Invalid, Conflict (an open case)."""
    post = await case_for(store, viewer, post_id)
    fields = Fields()
    was_reached = fields.take(forms.REACHED, "reached", reached)
    chosen = fields.take(forms.CALLBACK_SCORE, "score", score)
    text_note = fields.take(forms.OPTIONAL_REASON, "note", note)
    if chosen is not None and not was_reached:
        fields.fail("score", "未联系上写信人时不能记录满意度")
    fields.done()
    action = workflow.callback_action(chosen, post.reopened, post.status)
    new = step(post, action, viewer)
    at = now()
    entry = {
        "at": iso(at),
        "source": "callback",
        "score": chosen,
        "comment": text_note,
        "department": post.department,
        "reached": was_reached,
    }
    changes: dict[str, Any] = {"ratings": [*post.ratings, entry]}
    if new is Status.CLOSED:
        changes["closed_at"] = at
    elif new is Status.ACCEPTED:
        changes.update(
            reopened=True,
            department=None,
            helpers=[],
            officer_id=None,
            due_at=None,
            closed_at=None,
            extension_status=None,
        )
    words = (
        "未联系上写信人"
        if not was_reached
        else "回访" + (f"：{workflow_score_name(chosen)}" if chosen else "")
    )
    return await apply_step(
        store,
        viewer,
        post,
        action,
        new,
        changes,
        f"{words}。{text_note}" if text_note else words,
        tell_writer=new is not post.status,
        expect={"updated_at": post.updated_at},
    )


def workflow_score_name(score: str) -> str:
    return {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}[score]


@dataclasses.dataclass
class RatingView:
    at: str
    source: str
    score: str | None
    comment: str | None
    department: str | None
    reached: bool | None


async def ratings(store: Store, viewer: User | None, post_id: Any) -> list[RatingView]:
    """A case's ratings and callbacks, oldest first, to those who may follow it. Raises
    NotFound (also for a case the viewer may not see), Forbidden (not a case)."""
    post = await case_for(store, viewer, post_id, visitors=True)
    shown = post if may_see_unmasked(post, viewer) else _public_history(post)
    return [
        RatingView(
            e["at"],
            e["source"],
            e.get("score"),
            e.get("comment"),
            e.get("department"),
            e.get("reached"),
        )
        for e in shown.ratings
    ]


def may_see_unmasked(post: Post, viewer: User | None) -> bool:
    return is_insider(post, viewer) or (viewer is not None and viewer.id == post.author_id)


def _public_history(post: Post) -> Post:
    return privacy.public_post(post)


# merging duplicates --------------------------------------------------------------------------
async def merge(
    store: Store, viewer: User | None, post_id: Any, into: Any, reason: Any
) -> PostView:
    """A moderator merges a case into an earlier case of the same board on the same matter: it
    becomes `merged`, links to that case, and its writer is told and follows it. Raises
    NotLoggedIn, NotFound, Forbidden, Invalid (into, reason), Conflict."""
    post = await case_for(store, viewer, post_id)
    new = step(post, "merge", viewer)
    fields = Fields()
    target_id = fields.take(forms.INTO, "into", into)
    text_reason = fields.take(forms.REASON, "reason", reason)
    fields.done()
    target_id = required(target_id)
    target = await store.get_post(target_id)
    if target is None or not may_see(target, _policy(target), viewer):
        raise Invalid({"into": "要合并到的事项不存在"})
    if target.id == post.id:
        raise Invalid({"into": "不能合并到自身"})
    if target.board != post.board:
        raise Invalid({"into": "只能合并到同一栏目的事项"})
    if (target.created_at, target.id) >= (post.created_at, post.id):
        raise Invalid({"into": "只能合并到更早提交的事项"})
    if target.status in (Status.MERGED, Status.REJECTED, Status.SUBMITTED):
        raise Invalid({"into": "要合并到的事项尚未受理、已不予受理或本身已被合并"})
    at = now()
    words = f"与事项 {target.id} 为同一事项，已合并办理"

    async def follow_joined(updated: Post) -> None:
        # Its writer follows the case it joined, to hear of its reply; one they may not read
        # (a private letter of someone else) they are told of, but do not follow.
        writer = await store.get_user(updated.author_id) if updated.author_id else None
        if writer is not None and not writer.disabled and may_see(target, _policy(target), writer):
            await following.follow(store, writer, following.target_of("post", target.id))

    return await apply_step(
        store,
        viewer,
        post,
        "merge",
        new,
        {"merged_into": target.id, "closed_at": at, "supervised": False},
        f"{words}。{text_reason}" if text_reason else words,
        tell_writer=True,
        also=follow_joined,
    )


def _policy(post: Post) -> Any:
    return boards.POLICIES[post.board]


def _optional_text(name: str, value: Any) -> str | None:
    fields = Fields()
    text = fields.take(forms.OPTIONAL_REASON, name, value)
    fields.done()
    return text


@dataclasses.dataclass
class Round:
    """What one round of the clock's casework did."""

    unrated: int = 0  # replied cases closed without a rating
    overdue: int = 0  # newly past their due time
    reminded: int = 0  # lead departments reminded of a due time two working days away
    supervised: int = 0  # cases overdue long enough to be supervised

    def __bool__(self) -> bool:
        return any(dataclasses.astuple(self))


async def clock_round(store: Store, at: dt.datetime | None = None) -> Round:
    """Everything the clock does to cases, once: what the periodic job runs. Each step is
    conditional in the store, so several processes may run this at once."""
    at = at or now()
    return Round(
        unrated=await close_unrated(store, at),
        overdue=await note_overdue(store, at),
        reminded=await remind_due(store, at),
        supervised=await supervise_overdue(store, at),
    )


async def colleagues(store: Store, viewer: User | None, view: PostView) -> list[User]:
    """Whom the lead department's staff may name as the case's officer: their department's
    staff, when the viewer may assign now; nobody otherwise."""
    if "assign" not in view.actions or view.post.department is None:
        return []
    return [
        user
        for user in await store.list_users(
            role=Role.STAFF, department=view.post.department, limit=notify.RECIPIENTS_MAX
        )
        if not user.disabled
    ]
