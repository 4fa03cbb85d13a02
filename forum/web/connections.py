"""The HTTP server's guard against hostile or careless connections.

Tornado's HTTPServer, with:

- a cap on open connections (`max_connections`): one accepted beyond it gets a short
  `503 Service Unavailable` with `Connection: close` and is closed at once, before anything of
  its request is read, so that a flood of idle sockets cannot take every file descriptor;
- an accept loop that survives running out of file descriptors (EMFILE, ENFILE) or kernel
  memory (ENOBUFS, ENOMEM): it stops accepting for ACCEPT_PAUSE_SECONDS and tries again, and
  says so in the log once per LOG_INTERVAL_SECONDS with a count, instead of Tornado's loop,
  which raises on every wake-up of a listening socket that stays readable (one core spinning,
  a traceback per try).

The timeouts are Tornado's own settings, passed through by server.py: `idle_connection_timeout`
(also the time a client has to send its headers, on a new connection as between requests),
`body_timeout` (the whole body) and `max_header_size`.
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from typing import Any, Callable, Iterable

import tornado.httpserver
import tornado.iostream
from tornado.concurrent import Future
from tornado.ioloop import IOLoop

log = logging.getLogger("forum.connections")

DEFAULT_MAX_CONNECTIONS = 1000
ACCEPT_PAUSE_SECONDS = 0.5
LOG_INTERVAL_SECONDS = 60.0
# What accept() raises when the process or the system is out of descriptors or buffers: the
# connection stays in the backlog, and the listening socket stays readable.
RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
ACCEPTS_PER_WAKE_UP = 128  # as Tornado's own loop: others get a turn between batches
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 20\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    b"too many connections"
)


class ThrottledWarning:
    """A warning logged at most once per `interval` seconds, with how often it happened."""

    def __init__(self, message: str, interval: float = LOG_INTERVAL_SECONDS):
        self.message, self.interval = message, interval
        self.count = 0
        self.last = float("-inf")

    def __call__(self, *args: Any) -> None:
        self.count += 1
        moment = time.monotonic()
        if moment - self.last >= self.interval:
            log.warning(self.message + " (%d time(s) since the last warning)", *args, self.count)
            self.last, self.count = moment, 0


class GuardedHTTPServer(tornado.httpserver.HTTPServer):
    """HTTPServer with a connection cap and an accept loop that survives EMFILE."""

    def initialize(
        self, *args: Any, max_connections: int = DEFAULT_MAX_CONNECTIONS, **kwargs: Any
    ) -> None:
        super().initialize(*args, **kwargs)
        self.max_connections = max_connections
        self.refused = 0  # connections refused for the cap, since the start
        self._warn_full = ThrottledWarning("connection refused: %d open, the most allowed")
        self._warn_accept = ThrottledWarning("cannot accept connections (%s); pausing %.1fs")

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = self._accept_on(sock)

    def _accept_on(self, sock: socket.socket) -> Callable[[], None]:
        """Accept connections on `sock` until the returned function is called (server.stop)."""
        loop = IOLoop.current()
        state = {"removed": False, "paused": False}

        def accept(_fd: Any, _events: int) -> None:
            for _ in range(ACCEPTS_PER_WAKE_UP):
                if state["removed"] or state["paused"]:
                    return
                try:
                    connection, address = sock.accept()
                except (BlockingIOError, InterruptedError):
                    return
                except ConnectionAbortedError:
                    continue
                except OSError as error:
                    if error.errno not in RESOURCE_ERRORS:
                        raise
                    self._warn_accept(
                        errno.errorcode.get(error.errno, str(error.errno)), ACCEPT_PAUSE_SECONDS
                    )
                    state["paused"] = True
                    loop.remove_handler(sock)
                    loop.call_later(ACCEPT_PAUSE_SECONDS, resume)
                    return
                self._handle_connection(connection, address)

        def resume() -> None:
            if state["paused"] and not state["removed"]:
                state["paused"] = False
                loop.add_handler(sock, accept, IOLoop.READ)

        def remove() -> None:
            if not state["removed"] and not state["paused"]:
                loop.remove_handler(sock)
            state["removed"] = True

        loop.add_handler(sock, accept, IOLoop.READ)
        return remove

    def handle_stream(self, stream: tornado.iostream.IOStream, address: tuple[Any, ...]) -> None:
        if len(self._connections) >= self.max_connections:
            self.refused += 1
            self._warn_full(len(self._connections))
            self._refuse(stream)
            return
        super().handle_stream(stream, address)

    @staticmethod
    def _refuse(stream: tornado.iostream.IOStream) -> None:
        try:
            written = stream.write(REFUSAL)
        except tornado.iostream.StreamClosedError:
            return

        def close(done: Future[None]) -> None:
            done.exception()  # asked for, so a refusal the client did not wait for logs nothing
            stream.close()

        written.add_done_callback(close)
