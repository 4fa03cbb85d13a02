"""Log lines for people (text) and for machines (JSON, one object a line), the request a line
belongs to, and the neutralising of whatever a client chose.

What goes into a line is decided where it is written: the request line (forum/web/access.py)
holds the route, method, status, duration, user id and request id, and a path whose free-form
parts are masked; auth events, permission denials and staff actions hold ids and action names.
Never query strings, cookies, tokens, passwords, request bodies, e-mail addresses or addresses.
Whatever text does reach a line (a path, an exception message) cannot forge a second line or
drive a terminal: JSON escapes every control character, and the text format writes them as
\\uNNNN.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import time
from dataclasses import dataclass
from typing import Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields every JSON line has; a line's own fields never overwrite them.
RESERVED = frozenset({"time", "level", "logger", "pid", "message", "exception"})


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    route: str
    user_id: str | None = None


# The request the running task serves, so that lines written below the web layer (the auth
# events of forum/services/accounts.py, the staff actions of forum/services/audit.py) name it
# without services knowing about requests. Not state shared between requests: each asyncio task,
# and so each request, has its own value (a task starts with a copy of its creator's context), and
# it is only ever read into a log line.
current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "forum_current_request", default=None
)

# C0 and C1 controls (newline, carriage return, ESC of ANSI sequences, ...), DEL, and the Unicode
# line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def neutral(text: str) -> str:
    """`text` with every control character written as \\uNNNN: a value a client chose cannot
    start a forged line or recolour an operator's terminal."""
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """One event line: `name` as its message and `fields` as JSON keys (key=value in text).
    The current request's id, route and user id are added unless given."""
    line: dict[str, Any] = {"event": name, **fields}
    context = current_request.get()
    if context is not None:
        line.setdefault("request_id", context.request_id)
        line.setdefault("route", context.route)
        line.setdefault("user_id", context.user_id)
    logger.log(level, name, extra={"fields": line})


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = dict(getattr(record, "fields", None) or {})
    if not fields:
        # Another library's line written while serving a request (formatted as it is written).
        context = current_request.get()
        if context is not None:
            fields = {"request_id": context.request_id, "route": context.route}
    return {key: value for key, value in fields.items() if key not in RESERVED}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, pid, message, then the
    line's fields. ASCII only: json.dumps writes every control and non-ASCII character as an
    escape, so a line is always exactly one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=True, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...` for people reading a terminal; control
    characters in the message and the values are escaped (a traceback keeps its lines)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def format(self, record: logging.LogRecord) -> str:
        text = neutral(record.getMessage())
        shown = getattr(record, "text_fields", None)  # those the message does not say already
        if shown is not None:
            given = getattr(record, "fields", None) or {}
            fields = {key: given[key] for key in shown if key in given}
        else:
            fields = _fields(record)
            fields.pop("event", None)  # the message is the event's name
        if fields:
            text += " " + " ".join(
                f"{key}={'-' if value is None else neutral(str(value))}"
                for key, value in fields.items()
            )
        # TEXT_FORMAT written directly (the record itself is left unchanged for other handlers).
        line = f"{self.formatTime(record)} {record.levelname} {record.name}: {text}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """logging's default time (local, `2026-11-28 05:39:21,123`), its date and time part
        formatted once a second: every request writes a line."""
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if self._second[0] != second:
            self._second = (
                second,
                time.strftime(self.default_time_format, self.converter(record.created)),
            )
        if not self.default_msec_format:  # as logging does: no milliseconds then
            return self._second[1]
        return self.default_msec_format % (self._second[1], record.msecs)


def configure(log_format: str = "text", level: int = logging.INFO) -> None:
    """Send every logger's lines to standard error in `log_format` ("text" or "json")."""
    if log_format not in FORMATS:
        raise ValueError(f"unknown log format {log_format!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
