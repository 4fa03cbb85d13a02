"""Signed cookie values an application checked lately, with what they hold.

A session cookie comes back with every request of its reader, and checking it (Tornado's
decode_signed_value: the value's fields parsed, its HMAC computed, its age judged) was a
twentieth of a logged-in page. Its value is the same on every request, so what the check found
is kept by the value for a while; the value is checked in full again after CHECK_SECONDS, so one
that grows too old is refused at most that much later (the session it holds has an expiry of its
own, judged on every request). Only values that passed are kept: a forged one is checked, and
refused, every time. Bounded, least recently used out first; one per application (each has its
own secret).
"""

from __future__ import annotations

import collections
import time
from typing import Callable

CHECK_SECONDS = 60.0
MAX_VALUES = 10_000


class CheckedCookies:
    def __init__(self, max_values: int = MAX_VALUES, seconds: float = CHECK_SECONDS) -> None:
        self.max_values = max_values
        self.seconds = seconds
        self._found: collections.OrderedDict[tuple[str, str], tuple[float, bytes]] = (
            collections.OrderedDict()
        )

    def __len__(self) -> int:
        return len(self._found)

    def value(self, name: str, raw: str, check: Callable[[], bytes | None]) -> bytes | None:
        """What the cookie `name` sent as `raw` holds: from an earlier check of the very same
        value, or `check()` (None: it does not pass)."""
        key = (name, raw)
        kept = self._found.get(key)
        now = time.monotonic()
        if kept is not None and now - kept[0] < self.seconds:
            self._found.move_to_end(key)
            return kept[1]
        found = check()
        if found is None:
            self._found.pop(key, None)
            return None
        self._found[key] = (now, found)
        self._found.move_to_end(key)
        if len(self._found) > self.max_values:
            self._found.popitem(last=False)
        return found
