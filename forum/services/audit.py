"""The audit log: every moderator, staff and admin action, with who, when, what and why. The
application only ever appends to it."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from forum.clock import now
from forum.logs import event
from forum.model import AuditEntry, User, new_id
from forum.services.fields import check_limit
from forum.services.paging import decode_cursor, encode_cursor
from forum.store.base import Store


log = logging.getLogger("forum.audit")


async def record(
    store: Store,
    actor: User,
    action: str,
    target: str,
    *,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    await store.add_audit(
        AuditEntry(
            id=new_id(),
            at=now(),
            actor_id=actor.id,
            action=action,
            target=target,
            reason=reason or "",
            detail=json.dumps(detail, ensure_ascii=False, default=_plain) if detail else "",
        )
    )
    # The log line names the action and its target, not the reason or details (free text that
    # may hold personal data; they are in the audit log), nor a user's name.
    event(
        log,
        "audit",
        action=action,
        actor_id=actor.id,
        target="user" if target.startswith("user:") else target,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return getattr(value, "value", str(value))


async def list_entries(
    store: Store, *, actor_id: str | None, target: str | None, cursor: Any = None, limit: Any = None
) -> tuple[list[AuditEntry], str | None]:
    """Newest first; (entries, next cursor or None). Raises Invalid (cursor, limit)."""
    size = check_limit(limit)
    entries = await store.list_audit(
        actor_id=actor_id, target=target, after=decode_cursor(cursor), limit=size + 1
    )
    more = len(entries) > size
    entries = entries[:size]
    return entries, (encode_cursor((entries[-1].at, entries[-1].id)) if more else None)
