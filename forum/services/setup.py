"""Bringing a store into service: schema upgrades, then the boards and departments that must
exist from the first start."""

from __future__ import annotations

from forum import boards
from forum.model import iso
from forum.store.base import Store, StoreRefused


async def prepare_store(store: Store) -> None:
    """Open the store and seed it; safe on every start (existing settings are kept). Raises
    StoreRefused for a database a restore left half-loaded."""
    await store.open()
    started = await store.unfinished_restore()
    if started is not None:
        raise StoreRefused(
            f"a restore into this {store.kind} database started {iso(started)} and did not "
            f"finish, so it holds part of an archive: run the restore again with --force, or "
            f"restore into a new database"
        )
    await store.ensure_departments(list(boards.DEPARTMENTS))
    await store.ensure_boards(boards.default_settings())
