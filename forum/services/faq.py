"""The knowledge base (常见问题): answered questions and closed public cases turned into entries
with an edited question and answer. Each board shows its entries; search and similar
questions show matching ones first (searching.py).

Moderators make entries on any board; the verified answerers of a consultation board (lawyers
on the lawyer board, experts on the agri board) on theirs. Moderators remove them. Confidential
boards have none: their cases are never public.
"""

from __future__ import annotations

import asyncio
from typing import Any

from forum import boards, privacy, text
from forum.boards import Policy
from forum.clock import now
from forum.errors import Forbidden, Invalid, NotFound, NotLoggedIn
from forum.model import FaqEntry, Kind, Page, Post, Status, User, is_id, new_id
from forum.services import audit, forms
from forum.services.fields import Fields, check_limit, required
from forum.services.paging import decode_cursor, encode_cursor
from forum.services.presenting import is_moderator, may_answer, may_see
from forum.store.base import Store

BOARD_SHOWN = 10  # the latest entries a board's page lists
ANSWERED = (Status.ANSWERED, Status.RESOLVED)


def may_curate(viewer: User | None, policy: Policy) -> bool:
    """Whether the viewer makes entries on this board: moderators on any board, the verified
    answerers of a consultation board on theirs. (Which posts may become one is
    source_refusal's to say: nothing of a confidential board.)"""
    if viewer is None or viewer.disabled:
        return False
    return is_moderator(viewer) or (policy.kind is Kind.CONSULTATION and may_answer(policy, viewer))


def _curates_somewhere(viewer: User) -> bool:
    return any(may_curate(viewer, policy) for policy in boards.POLICIES.values())


def source_refusal(post: Post, policy: Policy) -> str | None:
    """Why this post cannot become an entry; None when it can: an answered (or resolved)
    question, or a closed public case."""
    if policy.confidential:
        return "保密栏目的内容不能加入常见问题"
    if policy.kind is Kind.CONSULTATION:
        return None if post.status in ANSWERED else "只有已解答的问题可以加入常见问题"
    if policy.kind is Kind.CASE:
        return (
            None
            if post.status is Status.CLOSED and post.public
            else "只有已办结的公开信件可以加入常见问题"
        )
    return "只有已解答的咨询和已办结的公开信件可以加入常见问题"


def may_add(viewer: User | None, post: Post) -> bool:
    """Whether the post page offers 加入常见问题 to this viewer."""
    policy = boards.POLICIES[post.board]
    return (
        may_curate(viewer, policy)
        and may_see(post, policy, viewer)
        and source_refusal(post, policy) is None
    )


async def add_entry(store: Store, viewer: User | None, data: dict[str, Any]) -> FaqEntry:
    """Make an entry from the post `post_id` with an edited `question` and `answer`
    (Markdown). Personal data in both is masked, as the public record holds it; the answer is
    rendered and sanitised as post bodies are. Raises NotLoggedIn, Forbidden (no curator, or
    not of this board), Invalid (post_id, question, answer: missing, of the wrong type, too
    long, or a post that cannot become an entry), NotFound (a post the viewer may not see)."""
    if viewer is None:
        raise NotLoggedIn()
    if not _curates_somewhere(viewer):
        raise Forbidden("只有管理员、认证律师和农业专家可以整理常见问题")
    fields = Fields()
    post_id = fields.take(forms.FAQ_POST, "post_id", data.get("post_id"))
    question = fields.take(forms.FAQ_QUESTION, "question", data.get("question"))
    answer = fields.take(forms.FAQ_ANSWER, "answer", data.get("answer"))
    fields.done()
    post_id, question, answer = required(post_id), required(question), required(answer)
    post = await store.get_post(post_id)
    policy = boards.policy(post.board) if post else None
    if post is None or policy is None or not may_see(post, policy, viewer):
        raise NotFound("内容不存在或无权查看", denied=post is not None)
    if not may_curate(viewer, policy):
        raise Forbidden("您不能为此栏目整理常见问题")
    refusal = source_refusal(post, policy)
    if refusal:
        raise Invalid({"post_id": refusal})
    question, answer = privacy.mask(question), privacy.mask(answer)
    html = await asyncio.to_thread(text.render, answer)
    entry = FaqEntry(
        id=new_id(),
        board=post.board,
        post_id=post.id,
        question=question,
        answer=answer,
        answer_html=html,
        author_id=viewer.id,
        created_at=now(),
    )
    async with store.transaction():
        await store.add_faq(entry)
        await audit.record(
            store,
            viewer,
            "add_faq",
            f"post:{post.id}",
            detail={"faq": entry.id, "board": entry.board},
        )
    return entry


def may_delete(viewer: User | None) -> bool:
    """Moderators (and admins) remove entries."""
    return viewer is not None and not viewer.disabled and is_moderator(viewer)


async def delete_entry(store: Store, viewer: User | None, entry_id: Any) -> FaqEntry:
    """Remove an entry; returns it as it was. Raises NotLoggedIn, Forbidden (moderators only),
    NotFound."""
    if viewer is None:
        raise NotLoggedIn()
    if not may_delete(viewer):
        raise Forbidden("只有信访局管理员可以删除常见问题")
    async with store.transaction():
        entry = await store.get_faq(entry_id) if is_id(entry_id) else None
        if entry is None:
            raise NotFound("常见问题不存在")
        await store.delete_faq(entry.id)
        await audit.record(
            store,
            viewer,
            "delete_faq",
            f"post:{entry.post_id}",
            detail={"faq": entry.id, "board": entry.board},
        )
    return entry


async def list_entries(
    store: Store, board: Any = None, *, cursor: Any = None, limit: Any = None
) -> Page:
    """A page of entries, newest first: of one board when given, else of every board. Anyone
    may read them; a confidential board has none. Raises Invalid (board, cursor, limit)."""
    fields = Fields()
    chosen = fields.take(forms.BOARD, "board", board if board != "" else None)
    fields.done()
    size = check_limit(limit)
    after = decode_cursor(cursor)
    if chosen is not None and boards.POLICIES[chosen].confidential:
        return Page(items=[], next_cursor=None)
    found = await store.list_faq(chosen, after, size + 1)
    items = [entry for entry in found[:size] if not boards.POLICIES[entry.board].confidential]
    last = found[size - 1] if len(found) > size else None
    return Page(
        items=items, next_cursor=encode_cursor((last.created_at, last.id)) if last else None
    )


async def for_board(store: Store, slug: str) -> list[FaqEntry]:
    """The latest entries of a board, for its page; [] for a confidential board."""
    policy = boards.policy(slug)
    if policy is None or policy.confidential:
        return []
    return await store.list_faq(slug, None, BOARD_SHOWN)
