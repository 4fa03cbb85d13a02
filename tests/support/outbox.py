"""Reading the mail outbox in tests: everything waiting, however far ahead it is due."""

from __future__ import annotations

import datetime as dt

from forum.clock import now
from forum.model import Mail

# Later than any retry the mailer schedules (its longest back-off is hours, not a year).
AHEAD = dt.timedelta(days=366)


async def take_all_mail(store, limit: int = 100) -> list[Mail]:
    """Every mail in the outbox, claimed (so a second call finds only what came since)."""
    later = now() + AHEAD
    return await store.claim_mail(later, later + dt.timedelta(days=1), limit)
