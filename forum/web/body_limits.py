"""The application refusing a body over its route's limit (`max_body_bytes`) before reading it,
or, for a chunked body, while it is read."""

from __future__ import annotations

import functools
from typing import Any, Callable

import tornado.httputil
import tornado.iostream
import tornado.web

from forum.logs import RequestContext, current_request
from forum.web.base import route_name
from forum.web.routing import SegmentRouting


class BodyLimits(SegmentRouting):
    """The application, refusing a body over its route's `max_body_bytes` before reading it.

    Tornado reads a whole body before a handler runs (up to the server's max_body_size, the
    largest of all routes), so a check in prepare() comes after the memory is spent. Here the
    route is known as soon as the headers are: a Content-Length over its limit gets the route's
    own 413 (the API's JSON error, a page's error page) at once, and the connection is closed
    without reading a byte of the body. A chunked body is counted while it is read (here, or by
    a route that reads its body as it arrives, `counts_own_body`), and one over the limit gets
    the same 413, the connection closed and the rest unread (Tornado's own count would cut it
    with a bare 400)."""

    def find_handler(self, request: Any, **kwargs: Any) -> Any:
        delegate = super().find_handler(request, **kwargs)
        limit = getattr(delegate.handler_class, "max_body_bytes", None)
        connection = request.connection
        if limit is None or connection is None or not hasattr(connection, "set_max_body_size"):
            return delegate
        if "Content-Length" not in request.headers:  # chunked, or no body at all
            # Counted by the route or by _CountedBody, never by Tornado (whose answer is a 400).
            connection.set_max_body_size(UNCOUNTED_BODY_BYTES)
            if getattr(delegate.handler_class, "counts_own_body", False):
                return delegate
            # Classes are hashable; mypy does not see it of type[T] (python/mypy#11470).
            return _CountedBody(
                delegate,
                limit,
                lambda: self.get_handler_delegate(
                    request,
                    _too_large(delegate.handler_class, unread=False),  # type: ignore[arg-type]
                    delegate.handler_kwargs,
                    delegate.path_args,
                    delegate.path_kwargs,
                ),
            )
        connection.set_max_body_size(limit)
        try:
            declared = int(request.headers.get("Content-Length", "0"))
        except ValueError:
            return delegate  # Tornado refuses it (400) when it reads the body
        if declared <= limit:
            return delegate
        return self.get_handler_delegate(
            request,
            _too_large(delegate.handler_class),  # type: ignore[arg-type]
            delegate.handler_kwargs,
            delegate.path_args,
            delegate.path_kwargs,
        )


# A chunked body's limit as Tornado's connection sees it: the route's own count comes first.
UNCOUNTED_BODY_BYTES = 1 << 62


class _CountedBody(tornado.httputil.HTTPMessageDelegate):
    """A chunked body on its way to a route that reads its body whole: counted as it comes, and
    past the route's limit, what was kept is dropped and the route's 413 answers instead."""

    def __init__(self, inner: Any, limit: int, refusal: Callable[[], Any]):
        self.inner, self.limit, self.refusal = inner, limit, refusal
        self.received = 0
        self.over = False
        self.refused: Any = None
        self.start_line: Any = None
        self.headers: Any = None

    def headers_received(self, start_line: Any, headers: Any) -> Any:
        self.start_line, self.headers = start_line, headers
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        self.received += len(chunk)
        if self.received <= self.limit:
            return self.inner.data_received(chunk)
        if not self.over:
            self.over = True
            self.inner.on_connection_close()  # it lets go of what it kept
        # The rest is read and dropped, so that the answer is read (see forum/web/uploads.py),
        # up to another limit's worth; then answered at once, and the connection closed.
        if self.received > 2 * self.limit and self.refused is None:
            return self.refuse()
        return None

    def refuse(self) -> Any:
        self.refused = self.refusal()
        return self.refused.headers_received(self.start_line, self.headers)

    def finish(self) -> None:
        if not self.over:
            self.inner.finish()
        elif self.refused is None:
            self.refuse()
            refused: Any = self.refused  # made by refuse(), which the checker does not follow
            refused.finish()

    def on_connection_close(self) -> None:
        (self.inner if self.refused is None else self.refused).on_connection_close()


@functools.cache
def _too_large(handler_class: type, unread: bool = True) -> type:
    """`handler_class` answering 413 at once, then closing the connection, so that the rest of
    the body is never read: `unread`, before any of it was (the connection is taken from
    Tornado and closed once the answer is out); else in the middle of it (Tornado closes the
    connection itself once the answer is out, as it does for any answer sent before the body
    has been read). Named as the route, for logs and metrics."""

    @tornado.web.stream_request_body
    class TooLarge(handler_class):  # type: ignore[misc]
        async def prepare(self) -> None:
            current_request.set(RequestContext(self.request_id, route_name(self)))
            raise tornado.web.HTTPError(413)

        def data_received(self, chunk: bytes) -> None:
            pass  # never called: the connection is closed before the body is read

        def check_xsrf_cookie(self) -> None:
            pass  # nothing is done but refusing: the 413 says what is wrong

        def finish(self, chunk: Any = None) -> Any:
            done = super().finish(chunk)
            if not unread:
                return done
            stream = self.request.connection.detach()
            try:
                stream.write(b"").add_done_callback(lambda f: (f.exception(), stream.close()))
            except tornado.iostream.StreamClosedError:
                pass
            return done

    TooLarge.__name__ = handler_class.__name__
    TooLarge.__qualname__ = handler_class.__qualname__
    TooLarge.__module__ = handler_class.__module__
    return TooLarge
