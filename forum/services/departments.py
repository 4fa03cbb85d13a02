"""The city's departments: the units cases are routed to and staff belong to."""
from __future__ import annotations

from forum.model import Department
from forum.store.base import Store


async def list_departments(store: Store) -> list[Department]:
    return await store.list_departments()
