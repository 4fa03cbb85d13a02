"""Following a case by its tracking code (查询码), without an account: looking the case up
as its writer sees it, and adding a follow-up and evidence to it (补充材料) while it is open.
Every look-up counts under the per-address limit.
"""

from __future__ import annotations

from typing import Any

from forum import workflow
from forum.clock import now
from forum.errors import Conflict, NotFound
from forum.limits import TRACKING_KEY
from forum.model import Post, Reply, ReplyKind, new_id
from forum.security import token_hash, tracking_key
from forum.services import attachments, decided, following, forms, notify, posting, throttle
from forum.services.fields import Fields, required
from forum.services.presenting import Thread, present_thread, step
from forum.store.base import Store


async def case_by_code(store: Store, code: Any) -> Post | None:
    """The case a tracking code names, read as people type it (any case, spaces and dashes
    allowed); None for a malformed or unknown code. Not rate limited: callers that show the
    case limit the look-ups themselves."""
    cleaned = tracking_key(code) if isinstance(code, str) else ""
    if not TRACKING_KEY.fullmatch(cleaned):
        return None
    return await store.get_post_by_tracking(token_hash(cleaned))


async def track(store: Store, code: Any, address: str) -> Thread:
    """The case behind a tracking code, as its writer sees it. Rate limited per address; a
    malformed code answers like an unknown one. Raises RateLimited, NotFound."""
    # Every look-up counts, known code or not: guessing is what the limit is for.
    await throttle.reserve(store, throttle.TRACKING_PER_ADDRESS, address)
    post = await case_by_code(store, code)
    if post is None:
        raise NotFound("查询码无效")
    board = await posting.get_board(store, None, post.board)
    return await present_thread(
        store,
        None,
        post,
        board,
        await store.list_replies(post.id),
        [],
        await store.list_events(post.id),
        holds_code=True,
    )


async def supplement_case(store: Store, code: Any, address: str) -> Post:
    """The open case a tracking code lets its holder add to (补充材料). Counts as a look-up under
    the per-address limit; a malformed or unknown code answers as a look-up does. Raises
    RateLimited, NotFound, Conflict (closed or locked)."""
    await throttle.reserve(store, throttle.TRACKING_PER_ADDRESS, address)
    post = await case_by_code(store, code)
    if post is None:
        raise NotFound("查询码无效")
    if post.locked:
        raise Conflict("该帖已锁定，不能回复", code="locked")
    # Conflict when the case is closed; a follow-up leaves the status as it is.
    step(post, workflow.reply_action(ReplyKind.FOLLOW_UP), None, holds_code=True)
    return post


async def supplement(
    store: Store,
    code: Any,
    address: str,
    body: Any,
    files: list[tuple[Any, bytes]],
    *,
    case: Post | None = None,
) -> Post:
    """补充材料: the holder of a case's tracking code adds a follow-up (and evidence) to it, as
    its writer would, while the case is open. `case` is what supplement_case found for the
    code already (an upload asks before its files are read), else it is asked here. Raises as
    supplement_case, and Conflict (changed meanwhile), Invalid (body, files)."""
    post = case or await supplement_case(store, code, address)
    # The code makes its holder the writer's party for a follow-up, and for nothing else.
    kind = ReplyKind.FOLLOW_UP
    fields = Fields()
    text_body = fields.take(forms.BODY, "body", body)
    fields.done()
    text_body = required(text_body)
    existing = len(await store.list_attachments(post.id)) if files else 0
    prepared = await attachments.prepare(files, already=existing) if files else []
    html = await posting.render_text(text_body)
    # The follow-up and its files: one unit, conditional on the case as read (a follow-up
    # racing a close gets 409); a file over the cap leaves no follow-up behind.
    async with decided.unit_decided_from(store, post):
        at = now()
        reply = Reply(new_id(), post.id, None, text_body, html, kind, at, board=post.board)
        replied = await store.add_reply(
            reply,
            {"updated_at": at},
            None,
            expect={"status": post.status, "department": post.department},
        )
        if prepared:
            await attachments.save(store, None, post.id, prepared)
        told = await notify.tell_author(store, post, posting.REPLY_NOTICE[kind], None)
        await following.tell_of_reply(store, replied, kind, None, told)
    return post
