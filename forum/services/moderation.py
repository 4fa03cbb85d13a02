"""The letters-and-visits bureau's work: the review queue and the moderator actions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from forum import boards, workflow
from forum.clock import now
from forum.errors import Conflict, Forbidden, NotLoggedIn
from forum.messages import Message, msg, term
from forum.model import Event, Kind, Post, PostFilter, Status, User, new_id
from forum.services import audit, decided, following, forms, notify, posting
from forum.services.cases import CASE_BOARDS
from forum.services.fields import Fields, required
from forum.services.presenting import PostView, is_moderator, present_posts, step
from forum.store.base import Store

NEEDS_REASON = frozenset({"reject", "hide"})
QUEUE_SECTION_MAX = 100
CALLBACK_WINDOW_DAYS = 30  # replied or closed within this many days: due a callback (回访)
# Recent answered cases read for the callbacks due, newest first: a bound, so the queue stays
# one indexed read however long the archive grows.
CALLBACK_SCAN_MAX = 500
ANSWERED_STATUSES = (Status.REPLIED, Status.CLOSED, Status.UNRATED)

# Flags on a post, not statuses: (field, value) each action sets.
MARKS = {
    "lock": ("locked", True),
    "unlock": ("locked", False),
    "pin": ("pinned", True),
    "unpin": ("pinned", False),
}


def require_moderator(viewer: User | None) -> User:
    if viewer is None:
        raise NotLoggedIn()
    if not is_moderator(viewer):
        raise Forbidden("只有信访局管理员可以进行此操作")
    return viewer


# the queue -----------------------------------------------------------------------------------
@dataclasses.dataclass
class QueueItem:
    kind: str  # "submitted" | "reopened" | "to_route" | "pending" | "flagged" | "overdue"
    #                    and, in their own sections: "supervised" | "extension_request" |
    #                    "callback_due"
    post: PostView
    reason: str
    since: dt.datetime


@dataclasses.dataclass
class Queue:
    items: list[QueueItem]
    counts: dict[str, int]
    # The casework sections of the second release, apart from `items` (whose kinds clients
    # already know): supervised cases (督办件) head the queue; extensions asked for (延期申请);
    # answered cases not yet called back (待回访), unsatisfied ones first.
    supervised: list[QueueItem] = dataclasses.field(default_factory=list)
    extension_requests: list[QueueItem] = dataclasses.field(default_factory=list)
    callbacks_due: list[QueueItem] = dataclasses.field(default_factory=list)
    # Every department's name by slug: each case's lead is named.
    departments: dict[str, str] = dataclasses.field(default_factory=dict)


async def queue(store: Store, viewer: User | None) -> Queue:
    """What needs a moderator, oldest first within each kind, with counts per kind. Raises
    NotLoggedIn, Forbidden."""
    moderator = require_moderator(viewer)
    at = now()
    sections: list[tuple[str, list[tuple[Post, str, dt.datetime]]]] = []

    submitted = await _oldest(store, PostFilter(boards=CASE_BOARDS, statuses=(Status.SUBMITTED,)))
    sections.append(
        (
            "submitted",
            [
                (
                    p,
                    term("已超过受理期限")
                    if workflow.is_overdue(p, at)
                    else term("新来信，请决定是否受理"),
                    p.created_at,
                )
                for p in submitted
            ],
        )
    )
    waiting = await _oldest(store, PostFilter(boards=CASE_BOARDS, statuses=(Status.ACCEPTED,)))
    sections.append(
        (
            "reopened",
            [
                (p, term("写信人不满意，重新办理"), p.rated_at or p.updated_at)
                for p in waiting
                if p.reopened
            ],
        )
    )
    sections.append(
        (
            "to_route",
            [
                (
                    p,
                    term("待转办") if p.routed_at is None else term("部门退回，待重新转办"),
                    p.updated_at,
                )
                for p in waiting
                if not p.reopened
            ],
        )
    )
    pending = await _oldest(store, PostFilter(statuses=(Status.PENDING,)))
    sections.append(
        ("pending", [(p, term("待审核（敏感词或新账号链接）"), p.updated_at) for p in pending])
    )
    flags = await store.list_open_flags(None, QUEUE_SECTION_MAX)
    # One item for each flagged post, since its first flag, with every flagger's reason.
    flagged: dict[str, tuple[Post, list[str], dt.datetime]] = {}
    for flag in flags:
        if flag.post_id in flagged:
            flagged[flag.post_id][1].append(flag.reason)
            continue
        flagged_post = await store.get_post(flag.post_id)
        if flagged_post is not None:
            flagged[flag.post_id] = (flagged_post, [flag.reason], flag.created_at)
    # The reasons are the flaggers' own words: a parameter, never translated.
    sections.append(
        (
            "flagged",
            [
                (p, msg("举报：{reasons}", reasons="；".join(reasons)), since)
                for p, reasons, since in flagged.values()
            ],
        )
    )
    overdue = await _oldest(
        store, PostFilter(boards=CASE_BOARDS, statuses=(Status.ROUTED,), due_before=at)
    )
    names = {d.slug: d.name for d in await store.list_departments()}
    sections.append(
        (
            "overdue",
            [
                (
                    p,
                    msg(
                        "{department}超期 {days} 天",
                        department=term(names.get(p.department or "", "")),
                        days=max(1, (at - p.due_at).days + 1),
                    ),
                    p.due_at,
                )
                for p in overdue
                if p.due_at is not None
            ],
        )
    )

    items: list[QueueItem] = []
    counts: dict[str, int] = {}
    for kind, entries in sections:
        counts[kind] = len(entries)
        items.extend(await _items(store, moderator, kind, entries))
    found = Queue(items, counts, departments=names)
    for key, kind, entries in await _casework_sections(store, at, names):
        counts[key] = len(entries)
        setattr(found, key, await _items(store, moderator, kind, entries))
    return found


async def _items(
    store: Store, viewer: User, kind: str, entries: list[tuple[Post, str, dt.datetime]]
) -> list[QueueItem]:
    views = await present_posts(store, viewer, [post for post, _, _ in entries])
    return [
        QueueItem(kind, view, reason, since) for view, (_, reason, since) in zip(views, entries)
    ]


async def _casework_sections(
    store: Store, at: dt.datetime, names: dict[str, str]
) -> list[tuple[str, str, list[tuple[Post, str, dt.datetime]]]]:
    """(key in Queue, item kind, entries) of the second release's sections."""

    def lead(post: Post) -> Message:
        return term(names.get(post.department or "", ""))

    supervised = await _oldest(
        store, PostFilter(boards=CASE_BOARDS, supervised=True, statuses=(Status.ROUTED,))
    )
    asked = await _oldest(
        store,
        PostFilter(boards=CASE_BOARDS, statuses=(Status.ROUTED,), extension_status="requested"),
    )
    recent = await store.list_posts(
        PostFilter(boards=CASE_BOARDS, statuses=ANSWERED_STATUSES), None, CALLBACK_SCAN_MAX
    )
    since = at - dt.timedelta(days=CALLBACK_WINDOW_DAYS)
    due = [
        (post, answered)
        for post in recent
        if (answered := post.closed_at or post.replied_at) is not None
        and answered >= since
        and not any(entry.get("source") == "callback" for entry in post.ratings)
    ]
    # Unsatisfied first, then the longest waiting.
    due.sort(key=lambda pair: (not _unsatisfied(pair[0]), pair[1]))
    return [
        (
            "supervised",
            "supervised",
            [
                (
                    p,
                    msg("督办件：{department}承办", department=lead(p)),
                    p.supervised_at or p.updated_at,
                )
                for p in supervised
            ],
        ),
        (
            "extension_requests",
            "extension_request",
            [
                # The reason is the department's own words: a parameter, never translated.
                (
                    p,
                    msg(
                        "{department}申请延期 {days} 个工作日：{reason}",
                        department=lead(p),
                        days=p.extension_days or 0,
                        reason=p.extension_reason or "",
                    ),
                    p.updated_at,
                )
                for p in asked
            ],
        ),
        (
            "callbacks_due",
            "callback_due",
            [
                (
                    p,
                    term("写信人不满意，待回访")
                    if _unsatisfied(p)
                    else term("已答复，待回访")
                    if p.status is Status.REPLIED
                    else term("已办结，待回访"),
                    answered,
                )
                for p, answered in due[:QUEUE_SECTION_MAX]
            ],
        ),
    ]


def _unsatisfied(post: Post) -> bool:
    return post.rating == "unsatisfied" or any(
        entry.get("score") == "unsatisfied" for entry in post.ratings
    )


async def _oldest(store: Store, where: PostFilter) -> list[Post]:
    return await store.list_posts(where, None, QUEUE_SECTION_MAX, oldest_first=True)


# actions -------------------------------------------------------------------------------------
async def moderate(
    store: Store, viewer: User | None, post_id: Any, action: Any, reason: Any = None
) -> PostView:
    """One moderator action on a post. Raises NotLoggedIn, Forbidden, NotFound, Invalid (action,
    or a missing reason for reject and hide), Conflict (the lifecycle does not allow it)."""
    moderator = require_moderator(viewer)
    post, policy = await posting.visible_post(store, moderator, post_id)
    fields = Fields()
    chosen = fields.take(forms.ACTION, "action", action)
    text_reason = fields.take(
        dataclasses.replace(forms.REASON, required=chosen in NEEDS_REASON), "reason", reason
    )
    fields.done()
    chosen = required(chosen)
    # One unit: the change, its event, the audit entry and the writer's notice.
    async with decided.unit_decided_from(store, post):
        at = now()
        changes: dict[str, Any] = {"updated_at": at}
        new_status = post.status
        if chosen in MARKS:
            name, value = MARKS[chosen]
            changes[name] = value
        elif chosen == "dismiss_flags":
            closed = await store.close_flags(post.id)
            if closed == 0:
                raise Conflict("此帖没有待处理的举报", code="no_open_flags")
        else:
            new_status = step(post, chosen, moderator)
            if chosen == "restore" or (chosen == "accept" and post.status is Status.PENDING):
                new_status = await _status_before(store, post, policy.kind)
        if new_status is not post.status:
            changes["status"] = new_status
        if chosen == "accept" and policy.kind is Kind.CASE:
            changes["accepted_at"] = at
        if chosen in NEEDS_REASON:
            changes["status_note"] = text_reason
        event = Event(
            new_id(),
            post.id,
            at,
            moderator.id,
            chosen,
            post.status.value,
            new_status.value,
            text_reason or "",
        )
        updated = await store.update_post(
            post.id, changes, event=event, expect={"status": post.status}
        )
        await audit.record(store, moderator, chosen, f"post:{post.id}", reason=text_reason or "")
        if new_status is not post.status:
            told = await notify.tell_author(
                store, updated, "status", moderator, workflow.ACTION_NAMES.get(chosen, chosen)
            )
            # Its followers; and its board's, when this made it public (a held post approved,
            # a public letter accepted).
            await following.tell_of_status(
                store, post, updated, moderator, workflow.ACTION_NAMES.get(chosen, chosen), told
            )
    (view,) = await present_posts(store, moderator, [updated])
    return view


async def _status_before(store: Store, post: Post, kind: Kind) -> Status:
    """Restoring a hidden post, or approving a held one, returns it to the status it had before
    (the event log keeps it); a post held from the start takes its board's first status."""
    expected = post.status
    for event in reversed(await store.list_events(post.id)):
        if (
            event.to_status == expected.value
            and event.from_status
            and event.from_status not in (Status.HIDDEN.value, Status.PENDING.value)
        ):
            return Status(event.from_status)
    return boards.INITIAL_STATUS[kind]
