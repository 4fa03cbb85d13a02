"""The JSON shapes of API.md, made from the views services return."""

from __future__ import annotations

from typing import Any, Sequence

from forum import boards
from forum.model import (
    ApiKey,
    Attachment,
    Department,
    FaqEntry,
    Flag,
    Kind,
    Notification,
    Page,
    Post,
    ReplyTemplate,
    Revision,
    User,
    iso,
)
from forum.services.admin import AuditLine
from forum.services.desks import DepartmentCases
from forum.services.consulting import Profile, Workspace
from forum.services.moderation import Queue, QueueItem
from forum.services.following import SubscriptionView
from forum.services.notify import Inbox
from forum.services.searching import Results
from forum.services.stats import Report
from forum.services.stats_reports import Record
from forum.services.presenting import Author, BoardView, EventView, PostView, ReplyView, Thread
from forum.services.settings import CalendarSettings


def user_json(user: User, *, private: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "roles": [role.value for role in user.roles],
        "department": user.department,
        "specialties": list(user.specialties),
    }
    if private:
        data["email"] = user.email
        data["email_confirmed"] = user.email_confirmed
        data["created_at"] = iso(user.created_at)
    return data


def author_json(author: Author | None) -> dict[str, Any] | None:
    if author is None:
        return None
    data: dict[str, Any] = {"username": author.username, "display_name": author.display_name}
    if author.badge:
        data["badge"] = author.badge
        data["specialties"] = list(author.specialties)
    return data


def board_json(board: BoardView) -> dict[str, Any]:
    settings = board.settings
    return {
        "slug": settings.slug,
        "name": settings.name,
        "kind": board.policy.kind.value,
        "description": settings.description,
        "categories": list(settings.categories),
        "open": settings.is_open,
        "may_post": board.may_post,
        **(
            {"accept_days": settings.accept_days, "reply_days": settings.reply_days}
            if board.policy.kind is Kind.CASE
            else {}
        ),
    }


def post_json(view: PostView) -> dict[str, Any]:
    post = view.post
    data: dict[str, Any] = {
        "id": post.id,
        "board": post.board,
        "title": post.title,
        "body": post.body,
        "html": post.html,
        "author": author_json(view.author),
        "status": post.status.value,
        "category": post.category,
        "created_at": iso(post.created_at),
        "updated_at": iso(post.updated_at),
        "reply_count": post.reply_count,
        "accepted_reply_id": post.accepted_reply_id,
        "pinned": post.pinned,
        "locked": post.locked,
        "anonymous": post.anonymous,
        "actions": {
            "edit": view.may_edit,
            "reply": view.may_reply,
            "accept": view.may_accept,
            "flag": view.may_flag,
        },
        # The lifecycle's own names for what this caller may do now (workflow.offered).
        "steps": sorted(view.actions),
    }
    kind = boards.POLICIES[post.board].kind
    if kind is Kind.CASE:
        data.update(
            {
                "public": post.public,
                "department": post.department,
                "due_at": iso(post.due_at),
                "overdue": view.overdue,
                "reopened": post.reopened,
                "rating": post.rating,
                "rating_comment": post.rating_comment,
                "contact": post.contact,
                "status_note": post.status_note,
                "accept_due_at": iso(post.accept_due_at),
                "accepted_at": iso(post.accepted_at),
                "replied_at": iso(post.replied_at),
                "closed_at": iso(post.closed_at),
                "helpers": list(post.helpers),
                "extension": extension_json(post),
                "extended": post.extended,
                "supervised": post.supervised,
                "merged_into": post.merged_into,
                "officer": author_json(view.officer) if view.officer else None,
                "real_name": post.real_name,
            }
        )
        data["actions"].update(
            rate=view.may_rate, moderate=view.may_moderate, **{"return": view.may_return}
        )
    if kind is Kind.BULLETIN:
        data.update(
            {
                "case_number": post.case_number,
                "received_on": post.received_on,
                "department": post.department,
            }
        )
    if boards.POLICIES[post.board].typed:
        data.update({"letter_type": post.letter_type, "area": post.area})
    return data


def extension_json(post: Post) -> dict[str, Any] | None:
    """This routing's extension, when one was asked; the reason is for the offices."""
    if post.extension_status is None:
        return None
    return {
        "status": post.extension_status,
        "days": post.extension_days,
        "reason": post.extension_reason,
    }


def reply_json(view: ReplyView) -> dict[str, Any]:
    reply = view.reply
    return {
        "id": reply.id,
        "post_id": reply.post_id,
        "body": reply.body,
        "html": reply.html,
        "author": author_json(view.author),
        "kind": reply.kind.value,
        "accepted": reply.accepted,
        "created_at": iso(reply.created_at),
    }


def revision_json(revision: Revision) -> dict[str, Any]:
    return {
        "id": revision.id,
        "title": revision.title,
        "body": revision.body,
        "edited_at": iso(revision.edited_at),
    }


def thread_json(thread: Thread, files: Sequence[Attachment] = ()) -> dict[str, Any]:
    return {
        "post": post_json(thread.post),
        "replies": [reply_json(r) for r in thread.replies],
        "events": [event_json(e) for e in thread.events],
        "attachments": [attachment_json(a) for a in files],
        "edited": thread.edited,
        "revisions": [revision_json(r) for r in thread.revisions],
    }


def page_json(page: Page) -> dict[str, Any]:
    data = {"items": [post_json(item) for item in page.items], "next_cursor": page.next_cursor}
    if page.prev_cursor is not None:
        data["prev_cursor"] = page.prev_cursor  # back with ?before=
    return data


def department_json(department: Department) -> dict[str, str]:
    return {"slug": department.slug, "name": department.name, "kind": department.kind}


def flag_json(flag: Flag) -> dict[str, Any]:
    return {
        "id": flag.id,
        "post_id": flag.post_id,
        "reason": flag.reason,
        "created_at": iso(flag.created_at),
        "open": flag.open,
    }


def workspace_json(space: Workspace) -> dict[str, Any]:
    return {
        "boards": [p.slug for p in space.boards],
        "board": space.board.slug,
        "category": space.category,
        "mine_only": space.mine_only,
        "counts": {(k if k is not None else ""): v for k, v in space.counts.items()},
        **page_json(space.page),
    }


def profile_json(profile: Profile) -> dict[str, Any]:
    stats = profile.stats
    return {
        "user": user_json(profile.user),
        "badges": profile.badges,
        "answers": {
            "total": stats.total,
            "accepted": stats.accepted,
            "by_board": dict(stats.by_board),
        },
        "recent": [
            {
                "post_id": r.post_id,
                "post_title": r.post_title,
                "answered_at": iso(r.answered_at),
                "accepted": r.accepted,
            }
            for r in profile.recent
        ],
    }


def event_json(view: EventView) -> dict[str, Any]:
    event = view.event
    return {
        "at": iso(event.at),
        "actor": view.actor,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
    }


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": f"/api/v1/attachments/{attachment.id}",
        "created_at": iso(attachment.created_at),
    }


def queue_item_json(item: QueueItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "post": post_json(item.post),
        "reason": item.reason,
        "since": iso(item.since),
    }


def queue_json(queue: Queue) -> dict[str, Any]:
    return {
        "items": [queue_item_json(item) for item in queue.items],
        "counts": dict(queue.counts),
        "next_cursor": None,
        "supervised": [queue_item_json(item) for item in queue.supervised],
        "extension_requests": [
            {**queue_item_json(item), "extension": extension_json(item.post.post)}
            for item in queue.extension_requests
        ],
        "callbacks_due": [queue_item_json(item) for item in queue.callbacks_due],
    }


def department_cases_json(found: DepartmentCases) -> dict[str, Any]:
    return {
        "department": {"slug": found.slug, "name": found.name},
        "role": found.role,
        "officer": found.officer,
        "overdue": [post_json(v) for v in found.overdue],
        **page_json(found.page),
    }


def stats_json(report: Report) -> dict[str, Any]:
    return {
        "from": iso(report.since),
        "to": iso(report.until),
        "computed_at": iso(report.computed_at),
        "boards": {slug: f.as_dict() for slug, f in report.boards.items()},
        "departments": {slug: f.as_dict() for slug, f in report.departments.items()},
        "months": {month: f.as_dict() for month, f in sorted(report.months.items())},
        "areas": {slug: f.as_dict() for slug, f in report.areas.items()},
        "types": {slug: f.as_dict() for slug, f in report.types.items()},
        "levels": {kind: f.as_dict() for kind, f in report.levels.items()},
        "department_levels": dict(report.department_levels),
    }


def record_json(record: Record) -> dict[str, Any]:
    return {
        "department": {"slug": record.slug, "name": record.name, "kind": record.kind},
        "since": record.since,
        "stats": record.figures.as_dict(),
        "recent": [post_json(view) for view in record.recent],
    }


def audit_json(line: AuditLine) -> dict[str, Any]:
    entry, actor = line.entry, line.actor
    return {
        "at": iso(entry.at),
        "actor_id": entry.actor_id,
        "actor": (
            {
                "username": actor.username,
                "display_name": actor.display_name,
                "roles": [role.value for role in actor.roles],
            }
            if actor
            else None
        ),
        "action": entry.action,
        "target": entry.target,
        "reason": entry.reason,
        "detail": entry.detail,
    }


def calendar_json(kept: CalendarSettings, warning: str | None) -> dict[str, Any]:
    """The admins' additions and the years `chinesecalendar` covers; `warning` in the reader's
    language, or None while next year is covered."""
    return {
        "covered_years": list(kept.covered_years),
        "holidays": sorted(d.isoformat() for d in kept.holidays),
        "workdays": sorted(d.isoformat() for d in kept.workdays),
        "warning": warning,
    }


def results_json(results: Results) -> dict[str, Any]:
    return {
        "query": results.query,
        "terms": results.terms,
        "items": [
            {"post": post_json(r.view), "snippet": r.snippet, "score": r.score}
            for r in results.items
        ],
        "next_cursor": results.next_cursor,
        "sort": results.sort,
        "total": results.total,
        "total_capped": results.total_capped,
        "faq": [faq_json(entry) for entry in results.faq],
    }


def template_json(template: ReplyTemplate) -> dict[str, Any]:
    return {
        "id": template.id,
        "department": template.department,
        "title": template.title,
        "body": template.body,
        "created_at": iso(template.created_at),
    }


def faq_json(entry: FaqEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "board": entry.board,
        "question": entry.question,
        "answer": entry.answer,
        "answer_html": entry.answer_html,
        "post_id": entry.post_id,
        "created_at": iso(entry.created_at),
    }


def notification_json(item: Notification) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "post_id": item.post_id,
        "text": item.text,
        "created_at": iso(item.created_at),
        "read": item.read,
    }


def inbox_json(inbox: Inbox) -> dict[str, Any]:
    return {
        "items": [notification_json(n) for n in inbox.items],
        "unread": inbox.unread,
        "next_cursor": inbox.next_cursor,
    }


def subscription_json(view: SubscriptionView) -> dict[str, Any]:
    """What the follower may know of a subscription: its target's kind, key, name and page
    (name and url null when they may no longer see it)."""
    item = view.subscription
    return {
        "id": item.id,
        "target": item.target,
        "kind": view.kind,
        "key": view.key,
        "name": view.name,
        "url": view.path,
        "created_at": iso(item.created_at),
    }


def api_key_json(key: ApiKey) -> dict[str, Any]:
    """An issued API key as admins see it: never the key itself, nor its hash."""
    return {
        "id": key.id,
        "name": key.name,
        "created_by": key.created_by,
        "created_at": iso(key.created_at),
        "revoked_at": iso(key.revoked_at),
        "active": key.revoked_at is None,
    }
