"""Graceful shutdown: the requests in flight are counted, so that a stopping server can wait for
them to finish before it closes the store, and a request that arrives on a kept-alive connection
while it stops is answered 503 with `Connection: close` instead of being started.

`Draining(app)` stands between Tornado's HTTPServer and the application (it is the server's
request callback). A request counts from its headers to the moment its handler finishes the
answer, or to the connection's close when no handler ever ran (a body cut short)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tornado import httputil
from tornado.concurrent import Future

UNAVAILABLE_BODY = json.dumps(
    {"error": {"code": "unavailable", "message": "the server is restarting; try again"}}
).encode()


class Draining(httputil.HTTPServerConnectionDelegate):
    def __init__(self, app: httputil.HTTPServerConnectionDelegate):
        self.app = app
        self.in_flight = 0
        self.stopping = False
        self._open: set[Any] = set()  # the connections of the requests in flight
        self._idle: asyncio.Event | None = None
        self._answered: set[Any] = set()  # connections answered while stopping

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        return _Request(self, server_conn, request_conn)

    def on_close(self, server_conn: object) -> None:
        self.app.on_close(server_conn)

    async def drain(self, timeout: float) -> int:
        """Refuse new requests from now on and wait up to `timeout` seconds for those in flight;
        returns how many are still running."""
        self.stopping = True
        for conn in self._open:
            _close_after(conn)  # their answers say `Connection: close`
        deadline = asyncio.get_running_loop().time() + timeout
        if self.in_flight:
            self._idle = asyncio.Event()
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        # A finished answer may still sit in a connection's buffer: closing the connection now
        # would drop it.
        while (
            any(_writing(conn) for conn in self._answered)
            and asyncio.get_running_loop().time() < deadline
        ):
            await asyncio.sleep(0.01)
        return self.in_flight

    def _started(self, conn: Any) -> None:
        self.in_flight += 1
        self._open.add(conn)

    def _ended(self, conn: Any) -> None:
        self.in_flight -= 1
        self._open.discard(conn)
        if self.stopping:
            self._answered.add(conn)
        if self.in_flight == 0 and self._idle is not None:
            self._idle.set()


def _close_after(conn: Any) -> None:
    # HTTP1Connection then answers `Connection: close` and closes once the answer is written;
    # a connection of another kind has no such switch and is closed with the server.
    if hasattr(conn, "_disconnect_on_finish"):
        conn._disconnect_on_finish = True


def _writing(conn: Any) -> bool:
    stream = getattr(conn, "stream", None)
    return stream is not None and not stream.closed() and stream.writing()


class _Request(httputil.HTTPMessageDelegate):
    def __init__(self, owner: Draining, server_conn: object, request_conn: httputil.HTTPConnection):
        self.owner, self.server_conn, self.conn = owner, server_conn, request_conn
        self.inner: httputil.HTTPMessageDelegate | None = None
        self.counted = self.handed = False

    def headers_received(self, start_line: Any, headers: httputil.HTTPHeaders) -> Any:
        if self.owner.stopping:
            _close_after(self.conn)
            return None  # answered in finish(), once the body is read
        self.counted = True
        self.owner._started(self.conn)
        self.inner = self.owner.app.start_request(self.server_conn, _Counted(self))
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return None if self.inner is None else self.inner.data_received(chunk)

    def finish(self) -> None:
        if self.inner is None:
            self.conn.write_headers(
                httputil.ResponseStartLine("HTTP/1.1", 503, "Service Unavailable"),
                httputil.HTTPHeaders(
                    {
                        "Content-Type": "application/json; charset=UTF-8",
                        "Content-Length": str(len(UNAVAILABLE_BODY)),
                        "Retry-After": "5",
                        "Connection": "close",
                    }
                ),
                UNAVAILABLE_BODY,
            )
            self.conn.finish()
            return
        self.handed = True  # the handler runs from here, and ends by finishing the answer
        self.inner.finish()

    def on_connection_close(self) -> None:
        if self.inner is not None:
            self.inner.on_connection_close()
            if not self.handed:  # no handler ever ran: nothing will finish this request
                self.ended()

    def ended(self) -> None:
        if self.counted:
            self.counted = False
            self.owner._ended(self.conn)


class _Counted(httputil.HTTPConnection):
    """The request's connection as the application sees it: finishing the answer ends the
    request's count. Everything else is the connection's own."""

    def __init__(self, request: _Request):
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request.conn, name)

    # HTTPConnection's own methods are found on the class, before __getattr__ is asked.
    def write_headers(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
        chunk: bytes | None = None,
    ) -> Future[None]:
        return self._request.conn.write_headers(start_line, headers, chunk)

    def write(self, chunk: bytes) -> Future[None]:
        return self._request.conn.write(chunk)

    def finish(self) -> None:
        try:
            self._request.conn.finish()
        finally:
            self._request.ended()
