"""Readers' flags: a post that needs a moderator's look. The queue that works them off comes
with moderation."""

from __future__ import annotations

from typing import Any

from forum.clock import now
from forum.errors import Forbidden, NotLoggedIn
from forum.model import Flag, User, new_id
from forum.services import forms, posting
from forum.services.fields import Fields, required
from forum.services.presenting import is_author, step
from forum.store.base import Store


async def flag_post(store: Store, viewer: User | None, post_id: Any, reason: Any) -> Flag:
    """Record a flag. Raises NotLoggedIn, NotFound, Forbidden (own post), Invalid (reason),
    Conflict (this reader already has an open flag on this post)."""
    if viewer is None:
        raise NotLoggedIn()
    post, _policy = await posting.visible_post(store, viewer, post_id)
    if is_author(post, viewer):
        raise Forbidden("不能举报自己的帖子", code="own_post")
    step(post, "flag", viewer)  # readers flag; officials act on the post itself
    fields = Fields()
    text = fields.take(forms.REASON, "reason", reason)
    fields.done()
    flag = Flag(new_id(), post.id, viewer.id, required(text), now())
    await store.add_flag(flag)
    return flag
