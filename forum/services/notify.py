"""Telling people what reached them: notifications in the site, and e-mail to confirmed
addresses through an outbox in the store that a background sender drains.

Sending never blocks or fails the request that caused it: a request only writes notifications
and outbox rows; the sender (forum/mailer.py) delivers them with retries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from forum import boards
from forum.clock import now
from forum.errors import Invalid, NotLoggedIn
from forum.model import Mail, Notification, Post, Role, Session, User, is_id, new_id
from forum.security import new_token, token_hash
from forum.services.fields import check_limit
from forum.services.paging import decode_cursor, encode_cursor
from forum.store.base import Store

# The site's address is not known to services; the sender fills it in from its configuration.
SITE = "{site}"
CONFIRM_DAYS = 2
# The subject of the mail that confirms an address: its body holds a one-use link, so backups
# leave such mail out while it is unsent (forum/ops/backup.py).
CONFIRM_SUBJECT = "[玉溪网] 请确认您的邮箱"
RECIPIENTS_MAX = 500

KIND_TEXT = {
    "reply": "您的帖子有了新回复",
    "answer": "您的问题有了新的解答",
    "official": "您的信件有了官方答复",
    "status": "您的事项状态有更新",
    "routed": "有新的事项转办到本部门",
    "overdue": "有事项超过答复期限",
    "note": "承办事项有新的协办意见",
    "extension": "延期申请有更新",
    "urge": "信访局催办",
    "remind": "事项即将到期，请按时答复",
    "supervise": "事项已列为督办件",
    # to followers (关注, forum/services/following.py)
    "follow_reply": "您关注的帖子有了新回复",
    "follow_answer": "您关注的问题有了新的解答",
    "follow_official": "您关注的信件有了官方答复",
    "follow_status": "您关注的事项状态有更新",
    "follow_post": "您关注的栏目有新帖",
    "follow_department": "您关注的部门有新的官方答复",
}


async def tell(
    store: Store, recipients: list[User], kind: str, post: Post, detail: str = ""
) -> set[str]:
    """Notify each recipient (once, whatever the list repeats), and queue an e-mail to those
    with a confirmed address. Returns the ids of those told."""
    notifications, mails = notices(recipients, kind, post, detail)
    if notifications:
        await store.add_notifications(notifications)
    for mail in mails:
        await store.enqueue_mail(mail)
    return {notification.user_id for notification in notifications}


def notices(
    recipients: list[User], kind: str, post: Post, detail: str = ""
) -> tuple[list[Notification], list[Mail]]:
    """What `tell` stores: a notification for each recipient (once), a mail for each with a
    confirmed address."""
    unique = list({user.id: user for user in recipients if not user.disabled}.values())
    at = now()
    summary = KIND_TEXT[kind] + f"：{post.title}" + (f"（{detail}）" if detail else "")
    notifications = [Notification(new_id(), user.id, kind, post.id, summary, at) for user in unique]
    mails = [
        Mail(
            new_id(),
            user.email,
            f"[玉溪网] {KIND_TEXT[kind]}",
            f"{user.display_name}，您好：\n\n{summary}\n\n查看：{SITE}/posts/{post.id}\n\n"
            f"如不想再收到邮件，可在个人主页删除邮箱地址。\n",
            at,
            next_attempt_at=at,
        )
        for user in unique
        if user.email and user.email_confirmed
    ]
    return notifications, mails


async def tell_author(
    store: Store, post: Post, kind: str, actor: User | None, detail: str = ""
) -> set[str]:
    """The writer of `post` hears of it, unless they did it themselves (or wrote anonymously
    without an account). Inside the caller's unit of work, with the change it tells of.
    Returns the ids of those told (the writer's, or none)."""
    writer = await writer_to_tell(store, post, actor)
    return await tell(store, [writer], kind, post, detail) if writer else set()


async def writer_to_tell(store: Store, post: Post, actor: User | None) -> User | None:
    """Whom tell_author tells of `actor`'s change to `post`. A use case may ask before its unit
    of work and `tell` them inside it: a unit holds the store's writer for as long as it runs,
    and a read inside it is one more turn of the event loop that every other unit waits for."""
    if post.author_id is None or (actor is not None and actor.id == post.author_id):
        return None
    return (await store.get_users([post.author_id])).get(post.author_id)


async def tell_department(
    store: Store,
    post: Post,
    department: str | None,
    kind: str = "routed",
    detail: str | None = None,
) -> set[str]:
    """The staff of `department` hear of a case (routed to them, by default). Returns the ids
    of those told."""
    if department is None:
        return set()
    staff = await store.list_users(role=Role.STAFF, department=department, limit=RECIPIENTS_MAX)
    return await tell(
        store, staff, kind, post, boards.POLICIES[post.board].name if detail is None else detail
    )


async def tell_moderators(store: Store, post: Post, kind: str) -> set[str]:
    people = [*await store.list_users(role=Role.MODERATOR, department=None, limit=RECIPIENTS_MAX)]
    return await tell(store, people, kind, post)


# reading -------------------------------------------------------------------------------------
@dataclass
class Inbox:
    items: list[Notification]
    unread: int
    next_cursor: str | None


def _require(viewer: User | None) -> User:
    if viewer is None:
        raise NotLoggedIn()
    return viewer


async def inbox(
    store: Store, viewer: User | None, *, cursor: Any = None, limit: Any = None
) -> Inbox:
    """The viewer's notifications, newest first, and how many are unread."""
    user = _require(viewer)
    size = check_limit(limit)
    found = await store.list_notifications(user.id, decode_cursor(cursor), size + 1)
    last = found[size - 1] if len(found) > size else None
    return Inbox(
        found[:size],
        await store.count_unread(user.id),
        encode_cursor((last.created_at, last.id)) if last else None,
    )


async def unread_count(store: Store, viewer: User | None) -> int:
    return 0 if viewer is None else await store.count_unread(viewer.id)


async def mark_read(store: Store, viewer: User | None, ids: Any) -> int:
    """Mark some (a list of ids) or all (None) of the viewer's notifications read."""
    user = _require(viewer)
    if ids is not None and (
        not isinstance(ids, list) or len(ids) > 100 or not all(is_id(i) for i in ids)
    ):
        raise Invalid({"ids": "应为最多 100 个通知编号的列表"})
    return await store.mark_read(user.id, ids)


# e-mail addresses ----------------------------------------------------------------------------
async def request_confirmation(store: Store, user: User) -> None:
    """Mail a link that confirms the user's address; only confirmed addresses get e-mail."""
    if not user.email:
        return
    token = new_token()
    at = now()
    await store.add_session(
        Session(
            token_hash(token), user.id, "confirm_email", at, at + dt.timedelta(days=CONFIRM_DAYS)
        )
    )
    await store.enqueue_mail(
        Mail(
            new_id(),
            user.email,
            CONFIRM_SUBJECT,
            f"{user.display_name}，您好：\n\n请在 {CONFIRM_DAYS} 天内打开下面的链接确认邮箱，"
            f"确认后您会收到回复和办理进度的邮件提醒：\n\n{SITE}/confirm-email/{token}\n\n"
            "如果这不是您的操作，请忽略此邮件。\n",
            at,
            next_attempt_at=at,
        )
    )


async def confirm_email(store: Store, token: Any) -> User:
    """Confirm the address a token was sent to. Raises Invalid (token)."""
    session = await store.get_session(token_hash(token)) if isinstance(token, str) else None
    if session is None or session.kind != "confirm_email" or session.expires_at <= now():
        raise Invalid({"token": "链接无效或已过期"})
    await store.delete_session(session.token_hash)
    await store.update_user(session.user_id, {"email_confirmed": True})
    user = await store.get_user(session.user_id)
    assert user is not None
    return user
