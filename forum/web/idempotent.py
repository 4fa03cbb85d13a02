"""The @idempotent decorator: a create handler's retry, with the same Idempotency-Key, gets the
first answer again (forum/services/idempotency.py keeps it)."""

from __future__ import annotations

import functools
from typing import Any, Awaitable, Callable

from forum.services import idempotency
from forum.web.base import BaseHandler, route_name

Handler = Callable[..., Awaitable[None]]


def idempotent(method: Handler) -> Handler:
    """A create handler's method that honours Idempotency-Key (forum/services/idempotency.py):
    without the header it runs as it is; with it, a retry gets the first answer again, marked
    `Idempotent-Replayed: true`. The method answers through send_answer (respond, Open311's
    answer), which is what is kept."""

    @functools.wraps(method)
    async def run(self: BaseHandler, *args: Any) -> None:
        key = idempotency.parse_key(self.request.headers.get(idempotency.HEADER))
        if key is None:
            await method(self, *args)
            return
        request = idempotency.Request(
            idempotency.caller_of(self.current_user, self.address),
            key,
            self.request.method or "",
            self.request.uri or "",
            self.request.body or b"",
        )

        async def create() -> idempotency.Answer:
            self._capture = []
            try:
                await method(self, *args)
            finally:
                captured, self._capture = self._capture, None
            if len(captured) != 1:
                raise RuntimeError(f"{route_name(self)} did not answer through send_answer")
            return captured[0]

        answer = await idempotency.once(
            self.store, self.config.cookie_secret.encode("utf-8"), request, create
        )
        if answer.replayed:
            self.set_header("Idempotent-Replayed", "true")
            self.no_store()  # the answer may hold what only its caller may see
        self.send_answer(answer.status, answer.content_type, answer.body)

    return run
