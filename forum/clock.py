"""What time it is, as an input.

The product decides by time in many places (due times, the 15-day rating window, edit windows,
session expiry, throttling windows, the periodic job). All of them ask `now()`, which answers
the clock in force: the system's, unless a caller put another one in force for its own context
(`using(clock)`). The server puts `Config.clock` in force for every request and periodic job;
tests hand an app a `ManualClock` and move it, instead of sleeping or depending on today's date;
the demo loader replays a year under `clock_at(day)`.

A context variable, not a module global: tasks and threads started inside `using()` inherit the
clock, nothing else sees it, so tests can build many apps with different clocks side by side.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import time
from collections.abc import Iterator
from typing import Protocol


def _to_millis(stamp: dt.datetime) -> dt.datetime:
    # Both stores keep milliseconds (BSON dates have no finer grain): a time read back equals
    # the time written.
    stamp = stamp.astimezone(dt.timezone.utc)
    return stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware in UTC, to the millisecond."""


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        # From whole milliseconds since the epoch: a third of the cost of now() and then
        # _to_millis, and a page asks the time for every case it lists.
        # Exact: a whole number of milliseconds over 1000 is within 0.3 µs of its true value
        # up to the year 2200, and fromtimestamp rounds to the nearest microsecond.
        return dt.datetime.fromtimestamp(time.time_ns() // 1_000_000 / 1000, dt.timezone.utc)


class ManualClock:
    """A clock that stands still until it is set or advanced: for tests, and for replaying
    history. Starts at the system's time unless told otherwise, so what a store keeps with
    real-time expiry (MongoDB's TTL indexes) is not already expired when it is written."""

    def __init__(self, start: dt.datetime | None = None):
        self._at = _to_millis(start or dt.datetime.now(dt.timezone.utc))

    def now(self) -> dt.datetime:
        return self._at

    def set(self, stamp: dt.datetime) -> None:
        self._at = _to_millis(stamp)

    def advance(self, delta: dt.timedelta | None = None, **parts: float) -> dt.datetime:
        """Moves the clock on by `delta` or by timedelta's keyword parts; returns the new time."""
        self._at = _to_millis(self._at + (delta or dt.timedelta(**parts)))
        return self._at


SYSTEM_CLOCK = SystemClock()
_CURRENT: contextvars.ContextVar[Clock] = contextvars.ContextVar("clock", default=SYSTEM_CLOCK)


def now() -> dt.datetime:
    return _CURRENT.get().now()


def current() -> Clock:
    return _CURRENT.get()


@contextlib.contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Within the block (and the tasks and threads it starts) `now()` asks `clock`."""
    token = _CURRENT.set(clock)
    try:
        yield clock
    finally:
        _CURRENT.reset(token)


def install(clock: Clock) -> None:
    """Puts `clock` in force for the rest of the current task (a request's handler runs in a
    task of its own, whose context ends with it)."""
    if _CURRENT.get() is not clock:
        _CURRENT.set(clock)


@contextlib.contextmanager
def clock_at(stamp: dt.datetime) -> Iterator[None]:
    """Within the block `now()` answers `stamp`: services then stamp what they write with that
    time, as if it were done then. For loading history (demo data) and tests, never requests."""
    with using(ManualClock(stamp)):
        yield
