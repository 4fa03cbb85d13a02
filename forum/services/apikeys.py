"""API keys that admins issue to other systems (Open311 clients such as the 12345 hotline's
system): issuing, listing, revoking, and finding the key a request presents.

A key is 32 random bytes, shown once when it is issued; the store keeps only its SHA-256, as it
does for session tokens, so a leaked database holds no usable key. Every issue and revocation is
written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forum.clock import now
from forum.errors import NotFound
from forum.model import ApiKey, User, is_id, new_id
from forum.security import new_token, token_hash
from forum.services import audit, forms
from forum.services.admin import require_admin
from forum.services.fields import Fields, required
from forum.store.base import Store

# Longer than any key this module issues (43 characters); anything longer is not looked up.
KEY_MAX = 128


@dataclass
class IssuedKey:
    key: str  # the key itself: shown to the admin this once, never again
    api_key: ApiKey


async def issue(store: Store, viewer: User | None, name: Any) -> IssuedKey:
    """A new key for the system called `name`. Raises NotLoggedIn, Forbidden (admins only),
    Invalid (name)."""
    admin = require_admin(viewer)
    fields = Fields()
    label = fields.take(forms.API_KEY_NAME, "name", name)
    fields.done()
    label = required(label)
    key = new_token()
    record = ApiKey(
        id=new_id(), name=label, key_hash=token_hash(key), created_by=admin.id, created_at=now()
    )
    await store.add_api_key(record)
    await audit.record(
        store, admin, "issue_api_key", f"api_key:{record.id}", detail={"name": label}
    )
    return IssuedKey(key, record)


async def list_keys(store: Store, viewer: User | None) -> list[ApiKey]:
    """Every key, revoked ones included, newest first. Raises NotLoggedIn, Forbidden."""
    require_admin(viewer)
    return await store.list_api_keys()


async def revoke(store: Store, viewer: User | None, key_id: Any, reason: Any = None) -> ApiKey:
    """Revoke a key: it stops working at once. Revoking a revoked key changes nothing (and is
    not audited again). Raises NotLoggedIn, Forbidden, NotFound, Invalid (reason)."""
    admin = require_admin(viewer)
    fields = Fields()
    text_reason = fields.take(forms.OPTIONAL_REASON, "reason", reason)
    fields.done()
    if not is_id(key_id):
        raise NotFound("密钥不存在")
    at = now()
    revoked = await store.revoke_api_key(key_id, at)
    if revoked.revoked_at == at:
        await audit.record(
            store,
            admin,
            "revoke_api_key",
            f"api_key:{revoked.id}",
            reason=text_reason or "",
            detail={"name": revoked.name},
        )
    return revoked


async def authenticate(store: Store, key: Any) -> ApiKey | None:
    """The key a request presents, if it is one that was issued and is not revoked; None for
    anything else (absent, malformed, unknown, revoked)."""
    if not isinstance(key, str) or not key or len(key) > KEY_MAX:
        return None
    found = await store.get_api_key_by_hash(token_hash(key))
    if found is None or found.revoked_at is not None:
        return None
    return found
