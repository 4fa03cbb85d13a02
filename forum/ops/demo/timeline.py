"""The demo's clock: its units of time, and the timeline that runs the year's stories in the
order of their steps, each step under clock_at(its time)."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from typing import AsyncGenerator, Callable

from forum import workflow
from forum.clock import clock_at

CST = workflow.CHINA_STANDARD_TIME
UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
YEAR = dt.timedelta(days=365)

Story = AsyncGenerator[dt.datetime, None]


class Timeline:
    """Stories (async generators that yield the time of their next step, then take it) run in
    the order of their steps' times, each step under clock_at(its time)."""

    def __init__(self) -> None:
        self._queue: list[tuple[dt.datetime, int, Story]] = []
        self._order = itertools.count()
        self.steps = 0

    async def add(self, story: Story) -> None:
        try:
            first = await story.__anext__()
        except StopAsyncIteration:
            return
        heapq.heappush(self._queue, (first, next(self._order), story))

    async def run(
        self, until: dt.datetime, progress: Callable[[dt.datetime], None] | None = None
    ) -> None:
        """Take every step up to `until`; `progress(time)` hears the time of each step."""
        while self._queue:
            at, _, story = heapq.heappop(self._queue)
            if at > until:  # a step that would lie in the future is not taken
                await story.aclose()
                continue
            with clock_at(at):
                try:
                    following = await story.__anext__()
                except StopAsyncIteration:
                    following = None
            self.steps += 1
            if progress is not None:
                progress(at)
            if following is not None:
                heapq.heappush(self._queue, (max(following, at + MINUTE), next(self._order), story))
