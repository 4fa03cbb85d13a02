"""The audit log: every moderator, staff and admin action, with who, when, what and why. The
application only ever appends to it."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from forum.model import AuditEntry, User, new_id, now
from forum.services.fields import check_limit
from forum.services.paging import decode_cursor, encode_cursor
from forum.store.base import Store


async def record(store: Store, actor: User, action: str, target: str, *, reason: str = "",
                 detail: dict[str, Any] | None = None) -> None:
    await store.add_audit(AuditEntry(
        id=new_id(), at=now(), actor_id=actor.id, action=action, target=target,
        reason=reason or "",
        detail=json.dumps(detail, ensure_ascii=False, default=_plain) if detail else ""))


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return getattr(value, "value", str(value))


async def list_entries(store: Store, *, actor_id: str | None, target: str | None,
                       cursor: Any = None, limit: Any = None
                       ) -> tuple[list[AuditEntry], str | None]:
    """Newest first; (entries, next cursor or None). Raises Invalid (cursor, limit)."""
    size = check_limit(limit)
    entries = await store.list_audit(actor_id=actor_id, target=target, after=decode_cursor(cursor),
                                     limit=size + 1)
    more = len(entries) > size
    entries = entries[:size]
    return entries, (encode_cursor((entries[-1].at, entries[-1].id)) if more else None)
