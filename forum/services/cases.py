"""Case handling (mayor letters, tax reports): submitting, routing to departments, returns, the
writer's rating, and the clock's steps (closing unrated cases, marking overdue ones). Following
a case by its tracking code is tracking.py's; a department's desk and public page, desks.py's.

Accepting and rejecting are moderator actions and live in moderation.py; official replies and
follow-ups are replies (posting.add_reply). The order of it all is workflow.py's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Awaitable, Callable

from forum import boards, workflow
from forum.clock import now
from forum.errors import Conflict, Forbidden, Invalid, NotLoggedIn
from forum.limits import HELPERS_MAX
from forum.messages import msg
from forum.model import (
    Event,
    Kind,
    Post,
    PostFilter,
    Status,
    User,
    iso,
    new_id,
)
from forum.services import (
    attachments,
    audit,
    decided,
    departments,
    following,
    forms,
    notify,
    posting,
    settings,
)
from forum.services.fields import Fields, required
from forum.services.presenting import (
    PostView,
    is_author,
    present_posts,
    step,
)
from forum.store.base import Store

CASE_BOARDS = boards.CASE_BOARDS
OPEN_CASE_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.ROUTED, Status.REPLIED)
EXPIRE_BATCH = 200
UNSET_WHEN_DUE = frozenset({"overdue_since", "closed_at"})
CLOCK = frozenset({workflow.Party.SYSTEM})  # who closes unrated cases and marks overdue ones


async def submit(
    store: Store,
    viewer: User | None,
    slug: Any,
    data: dict[str, Any],
    files: list[tuple[Any, bytes]],
    *,
    address: str = "",
) -> PostView:
    """Create a post with its attachments (case boards take files). The files are checked
    before anything is stored, so a bad file leaves no half-made case. Raises as create_post,
    and Invalid (files)."""
    prepared = await attachments.prepare(files) if files else []
    if prepared and boards.policy(slug) is not None and boards.POLICIES[slug].kind is not Kind.CASE:
        raise Invalid({"files": "只有信件和举报可以带附件"})
    if not prepared:
        return await posting.create_post(store, viewer, slug, data, address=address)
    # The case and its files are one unit: a file that fails to store leaves no case behind.
    async with store.transaction():
        view = await posting.create_post(store, viewer, slug, data, address=address)
        await attachments.save(store, viewer, view.post.id, prepared)
    return view


async def case_for(
    store: Store, viewer: User | None, post_id: Any, *, visitors: bool = False
) -> Post:
    """The case `post_id` as `viewer` may see it. Raises NotLoggedIn (unless `visitors` may
    read it), NotFound, Forbidden (not a case)."""
    if viewer is None and not visitors:
        raise NotLoggedIn()
    post, policy = await posting.visible_post(store, viewer, post_id)
    if policy.kind is not Kind.CASE:
        raise Forbidden("只有信件和举报可以这样处理", code="not_a_case")
    return post


def _require(party: bool, message: str) -> None:
    if not party:
        raise Forbidden(message)


def _reason(value: Any) -> str:
    fields = Fields()
    reason = fields.take(forms.REASON, "reason", value)
    fields.done()
    return required(reason)


async def apply_step(
    store: Store,
    viewer: User | None,
    post: Post,
    action: str,
    new: Status,
    changes: dict[str, Any],
    note: str = "",
    *,
    tell_writer: bool = True,
    also: Callable[[Post], Awaitable[set[str] | None]] | None = None,
    expect: dict[str, Any] | None = None,
) -> PostView:
    """Apply one lifecycle step decided by workflow.step: the post's changes, its event, the
    audit entry, the writer's notice (`tell_writer`) and `also`'s notices, as one unit,
    conditional on the status and department read (and on `expect`)."""
    at = now()
    changes = {"status": new, "updated_at": at, **changes}
    event = Event(
        new_id(),
        post.id,
        at,
        viewer.id if viewer else None,
        action,
        post.status.value,
        new.value,
        note,
    )
    # One unit: the step, its event, the audit entry and the notices are stored together.
    async with decided.unit_decided_from(store, post):
        # Conditional on the status (and department) just read: when two people act at once,
        # one wins, the other gets 409 instead of both steps landing.
        updated = await store.update_post(
            post.id,
            changes,
            event=event,
            expect={"status": post.status, "department": post.department, **(expect or {})},
        )
        if viewer is not None and not is_author(post, viewer):
            await audit.record(store, viewer, action, f"post:{post.id}", reason=note)
        told: set[str] = set()
        if tell_writer:
            told |= await notify.tell_author(
                store, updated, "status", viewer, workflow.ACTION_NAMES[action]
            )
        if also is not None:
            told |= await also(updated) or set()
        # Followers hear of the step too, but nobody twice, and never of the offices' own
        # steps (the writer is not told of them either).
        if tell_writer:
            await following.tell_of_status(
                store, post, updated, viewer, workflow.ACTION_NAMES[action], told
            )
    (view,) = await present_posts(store, viewer, [updated])
    return view


async def route_case(
    store: Store,
    viewer: User | None,
    post_id: Any,
    department: Any,
    due_days: Any = None,
    note: Any = None,
    helpers: Any = None,
) -> PostView:
    """Route (转办) or re-route an accepted case to a lead department, due in working days,
    with up to three helper departments (协办). Raises NotLoggedIn, NotFound, Forbidden,
    Invalid, Conflict."""
    post = await case_for(store, viewer, post_id)
    new = step(post, "route", viewer)
    fields = Fields()
    known = {d.slug: d.name for d in await departments.routable(store)}
    slug = fields.take(forms.DEPARTMENT.among(sorted(known)), "department", department)
    chosen_helpers = _helpers(fields, helpers, known, slug)
    days = fields.take(forms.DUE_DAYS, "due_days", due_days)
    text_note = fields.take(forms.OPTIONAL_REASON, "note", note)
    fields.done()
    slug = required(slug)
    board = (await posting.get_board(store, viewer, post.board)).settings
    calendar = await settings.load_calendar(store)
    at = now()
    due = calendar.due(at, days if days is not None else board.reply_days)
    # A new routing starts afresh: its own officer, extension, reminder and overdue mark.
    changes = {
        "department": slug,
        "due_at": due,
        "routed_at": post.routed_at or at,
        "overdue_since": None,
        "helpers": chosen_helpers,
        "officer_id": None,
        "extension_status": None,
        "extension_days": None,
        "extension_reason": None,
        "reminded_at": None,
    }
    words = f"转办至{known[slug]}，{days or board.reply_days}个工作日内答复"
    if chosen_helpers:
        words += "。协办：" + "、".join(known[h] for h in chosen_helpers)

    async def tell(updated: Post) -> set[str]:
        told: set[str] = set()
        for office in (slug, *chosen_helpers):
            told |= await notify.tell_department(store, updated, office)
        return told

    return await apply_step(
        store,
        viewer,
        post,
        "route",
        new,
        changes,
        f"{words}。{text_note}" if text_note else words,
        also=tell,
    )


def _helpers(fields: Fields, value: Any, known: dict[str, str], lead: str | None) -> list[str]:
    """Helper departments: a list of known slugs (a form's comma-separated text too), at most
    HELPERS_MAX, none twice, not the lead."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        fields.fail("helpers", "应为部门代码的列表")
        return []
    if len(value) > HELPERS_MAX:
        fields.fail("helpers", msg("最多 {n} 个协办部门", n=HELPERS_MAX))
        return []
    unknown = [item for item in value if item not in known]
    if unknown:
        fields.fail("helpers", msg("未知的部门：{slugs}", slugs=unknown[:3]))
        return []
    if lead is not None and lead in value:
        fields.fail("helpers", "主办部门不能同时是协办部门")
        return []
    if len(set(value)) != len(value):
        fields.fail("helpers", "协办部门重复")
        return []
    return list(value)


async def return_case(store: Store, viewer: User | None, post_id: Any, reason: Any) -> PostView:
    """Staff send a case that is not theirs back to the moderators. Raises NotLoggedIn,
    NotFound, Forbidden, Invalid (reason), Conflict."""
    post = await case_for(store, viewer, post_id)
    new = step(post, "return", viewer)
    text_reason = _reason(reason)
    # Back in the queue and out of the department's list until it is routed again.
    return await apply_step(
        store,
        viewer,
        post,
        "return",
        new,
        {
            "department": None,
            "due_at": None,
            "helpers": [],
            "officer_id": None,
            "extension_status": None,
            "supervised": False,
        },
        text_reason,
    )


async def rate_case(
    store: Store, viewer: User | None, post_id: Any, score: Any, comment: Any = None
) -> PostView:
    """The writer rates the official reply: 满意 or 基本满意 close the case, 不满意 reopens it
    once. Raises NotLoggedIn, NotFound, Forbidden, Invalid, Conflict (no reply yet, or rated)."""
    post = await case_for(store, viewer, post_id)
    fields = Fields()
    chosen = fields.take(forms.RATING_SCORE, "score", score)
    text_comment = fields.take(forms.OPTIONAL_REASON, "comment", comment)
    fields.done()
    chosen = required(chosen)
    action = workflow.rating_action(chosen, post.reopened)
    new = step(post, action, viewer)
    at = now()
    # Every rating stays in the history against the department whose reply it judged, so a
    # 不满意 still counts when a later reply satisfies.
    entry = {
        "at": iso(at),
        "source": "rating",
        "score": chosen,
        "comment": text_comment,
        "department": post.department,
        "reached": None,
    }
    changes: dict[str, Any] = {
        "rating": chosen,
        "rating_comment": text_comment,
        "rated_at": at,
        "ratings": [*post.ratings, entry],
    }
    if new is Status.CLOSED:
        changes["closed_at"] = at
    else:
        changes.update(
            reopened=True,
            department=None,
            due_at=None,
            helpers=[],
            officer_id=None,
            extension_status=None,
        )
    return await apply_step(store, viewer, post, action, new, changes, text_comment or "")


async def close_unrated(store: Store, at: dt.datetime | None = None) -> int:
    """Close the replied cases whose writer did not rate within the window; return how many.
    Safe with several processes: each close is conditional on the case still being replied."""
    at = at or now()
    deadline = at - dt.timedelta(days=workflow.RATING_WINDOW_DAYS)
    note = f"{workflow.RATING_WINDOW_DAYS}日内未评价，自动办结（未评价）"
    return await _sweep(
        store,
        PostFilter(boards=CASE_BOARDS, statuses=(Status.REPLIED,)),
        # From the case's last activity, not its first reply: a reopened case
        # answered again gets its own fifteen days.
        lambda post: post.updated_at <= deadline,
        "expire",
        {"closed_at": at, "updated_at": at},
        note,
        at,
    )


async def note_overdue(store: Store, at: dt.datetime | None = None) -> int:
    """Mark routed cases that passed their due time unanswered, once each, with an event the
    writer sees and the queue shows; return how many were newly marked."""
    at = at or now()
    where = PostFilter(
        boards=CASE_BOARDS, statuses=(Status.ROUTED,), due_before=at, overdue_noted=False
    )
    return await _sweep(
        store, where, lambda post: True, "overdue", {"overdue_since": at}, "超过答复期限", at
    )


async def _sweep(
    store: Store,
    where: PostFilter,
    due: Any,
    action: str,
    changes: dict[str, Any],
    note: str,
    at: dt.datetime,
) -> int:
    """Apply the clock's `action` to every matching case `due` says is ready."""
    done, after = 0, None
    while True:
        batch = await store.list_posts(where, after, EXPIRE_BATCH, oldest_first=True)
        for post in batch:
            if not due(post):
                continue
            new = workflow.step(Kind.CASE, action, post.status, CLOCK)
            event = Event(new_id(), post.id, at, None, action, post.status.value, new.value, note)
            # Conditional on what made the case due (its status, and for the overdue mark that
            # it is unmarked): a second process sweeping at once finds nothing left to do.
            expect = {
                "status": post.status,
                **{name: None for name in changes if name in UNSET_WHEN_DUE},
            }
            try:
                async with store.transaction():  # the step with its event and notices
                    updated = await store.update_post(
                        post.id, {"status": new, **changes}, event=event, expect=expect
                    )
                    if action == "overdue":
                        told = await notify.tell_moderators(store, post, "overdue")
                    else:
                        told = await notify.tell_author(
                            store, post, "status", None, workflow.ACTION_NAMES[action]
                        )
                    await following.tell_of_status(
                        store, post, updated, None, workflow.ACTION_NAMES[action], told
                    )
            except Conflict:
                continue  # another process, or a person, got there first
            done += 1
        if len(batch) < EXPIRE_BATCH:
            return done
        after = (batch[-1].created_at, batch[-1].id)
