"""The application's `log_function`: Tornado calls it once for every finished request. It counts
the request in the metrics and writes one line to the 'tornado.access' logger: route (the
handler), method, a path whose free-form parts are masked, status, duration in milliseconds,
user id (or null) and request id. Never the query string, cookies, headers or the body."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Callable

import tornado.web
from tornado.httputil import HTTPServerRequest

from forum import boards
from forum.logs import neutral
from forum.web.base import route_name
from forum.web.metrics import Metrics, method_label

log = logging.getLogger("tornado.access")

HEX_ID = re.compile(r"[0-9a-fA-F]{24}")
# Path parts kept as they are: record ids and board slugs. Every other captured part (tracking
# codes, e-mail confirmation tokens, user names, search-free text a route may take) is logged
# as "*": a log should not hold what works as a secret or names a person.
KEPT_WORDS = frozenset(boards.BOARD_ORDER)
MASK = "*"
# The fields a text line adds after its message (which says the rest already).
TEXT_FIELDS = ("route", "user_id", "request_id")


class RequestLog:
    def __init__(self, metrics: Metrics, rules: list[tuple[Any, ...]]) -> None:
        self.metrics = metrics
        # The URL table's patterns by handler, to find which parts of a path were captured.
        self.patterns: dict[type, list[re.Pattern[str]]] = {}
        for rule in rules:
            pattern, handler = rule[0], rule[1]
            self.patterns.setdefault(handler, []).append(re.compile(pattern))

    def __call__(self, handler: tornado.web.RequestHandler) -> None:
        self.record(
            handler.request,
            handler.get_status(),
            route_name(handler),
            lambda: self.masked_path(handler),
            getattr(handler.current_user, "id", None),
            getattr(handler, "request_id", None),
        )

    def record(
        self,
        request: HTTPServerRequest,
        status: int,
        route: str,
        path_of: Callable[[], str],
        user_id: str | None,
        request_id: str | None,
    ) -> None:
        """The metrics and the log line of one answered request (`path_of` gives its masked
        path, worked out only when the line is written)."""
        seconds = request.request_time()
        method = method_label(request.method or "")
        self.metrics.observe(route, method, status, seconds)
        level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        if not log.isEnabledFor(level):
            return
        request_id = request_id or uuid.uuid4().hex
        path = path_of()
        millis = round(seconds * 1000, 2)
        # The record made and handed on directly: Logger.log would also look up the caller's
        # file and line by walking the stack, which no format of ours shows.
        log.handle(
            log.makeRecord(
                log.name,
                level,
                "",
                0,
                "%d %s %s %.2fms",
                (status, method, neutral(path), millis),
                None,
                extra={
                    "fields": {
                        "route": route,
                        "method": method,
                        "path": path,
                        "status": status,
                        "duration_ms": millis,
                        "user_id": user_id,
                        "request_id": request_id,
                    },
                    "text_fields": TEXT_FIELDS,
                },
            )
        )

    def masked_path(self, handler: tornado.web.RequestHandler) -> str:
        """The request's path (never its query string) with every captured part that is not a
        record id or a board slug replaced by "*"."""
        path = handler.request.path
        for pattern in self.patterns.get(type(handler), ()):
            match = pattern.fullmatch(path)
            if match is None:
                continue
            pieces, last = [], 0
            for group in range(1, pattern.groups + 1):
                start, end = match.span(group)
                if start < last:  # a group that did not take part (-1) or one inside another
                    continue
                value = match.group(group)
                keep = HEX_ID.fullmatch(value) or value in KEPT_WORDS
                pieces += [path[last:start], value if keep else MASK]
                last = end
            return "".join(pieces) + path[last:]
        return path
