"""Bringing a store into service: schema upgrades, then the boards and departments that must
exist from the first start."""
from __future__ import annotations

from forum import boards
from forum.store.base import Store


async def prepare_store(store: Store) -> None:
    """Open the store and seed it; safe on every start (existing settings are kept)."""
    await store.open()
    await store.ensure_departments(list(boards.DEPARTMENTS))
    await store.ensure_boards(boards.default_settings())
