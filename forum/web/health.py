"""Operators' endpoints."""

from __future__ import annotations

from forum.errors import StoreUnavailable
from forum.web.base import ApiHandler


class HealthHandler(ApiHandler):
    async def prepare(self) -> None:
        # No session lookup: health must answer even when the store does not.
        pass

    async def get(self) -> None:
        try:
            await self.store.ping()
        except StoreUnavailable:
            self.respond(503, {"status": "unavailable", "store": self.store.kind})
            return
        self.respond(200, {"status": "ok", "store": self.store.kind})
