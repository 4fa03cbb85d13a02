"""The city's departments: the units cases are routed to and staff belong to."""

from __future__ import annotations

from forum import boards
from forum.model import Department
from forum.store.base import Store


async def list_departments(store: Store) -> list[Department]:
    return await store.list_departments()


async def routable(store: Store) -> list[Department]:
    """The departments a case may be routed to: every one but the bureau that routes."""
    return [d for d in await store.list_departments() if d.slug != boards.BUREAU]
