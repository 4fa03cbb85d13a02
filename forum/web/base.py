"""What every handler shares: who is asking, parsing input, turning domain errors into HTTP,
security headers. Handlers built on these hold no business rules."""

from __future__ import annotations

import functools
import http
import itertools
import json
import logging
import os
import re
from types import TracebackType
from typing import Any, Awaitable, Callable
from urllib.parse import quote

import tornado.httputil
import tornado.iostream
import tornado.locale
import tornado.web

from forum import clock, limits
from forum.config import Config
from forum.errors import Conflict, DomainError, Invalid, RateLimited, StoreUnavailable
from forum.logs import RequestContext, current_request, event
from forum.model import Attachment, User, iso
from forum.security import Passwords
from forum.services import accounts, idempotency
from forum.store.base import Store
from forum.store.kept import KeptReads, VersionPin
from forum.web import i18n

log = logging.getLogger("forum.web")

MAX_BODY_BYTES = 1 << 20
MAX_JSON_DEPTH = 32  # objects and arrays within each other; deeper is a 400, before parsing
SESSION_COOKIE = "session"
SESSION_COOKIE_DAYS = accounts.SESSION_DAYS
HSTS_SECONDS = 365 * 24 * 3600
# Every answer to a logged-in caller may hold personal data (their name, their letters, their
# notifications): no browser or proxy may keep a copy (ASVS V14.3.2). Answers to anonymous
# readers say nothing, so public pages stay cacheable; a handler whose anonymous answer is
# personal (a tracking-code look-up, a login's token) marks itself with `no_store()`.
PRIVATE_CACHE_CONTROL = "no-store"

# A request id that a trusted proxy (--behind-https) passes in X-Request-ID is kept when it looks
# like one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# The same on every answer: set as they are, without set_header's checks each time (they are
# constants, checked here once).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)
# Tornado says "TornadoServer/6.5.x": a version tells an attacker which advisories apply.
SERVER_HEADER = ("Server", "yuxi-forum")
HSTS_HEADER = ("Strict-Transport-Security", f"max-age={HSTS_SECONDS}; includeSubDomains")
assert all(
    tornado.web.RequestHandler._VALID_HEADER_CHARS.fullmatch(value)
    for _, value in (*SECURITY_HEADERS, HSTS_HEADER)
)


class BaseHandler(tornado.web.RequestHandler):
    """Resolves the current user (bearer token or session cookie) before any method runs."""

    _token: str | None = None
    _auth_kind: str | None = None  # "bearer" | "cookie" | None
    _request_id: str | None = None
    _version_pin: VersionPin | None = None  # see KeptReads.pin_version
    # The most a request to this route may send; uploads raise it. Checked against
    # Content-Length before the body is read, and counted while a chunked one is (BodyLimits).
    max_body_bytes = MAX_BODY_BYTES

    @property
    def store(self) -> Store:
        store: Store = self.settings["store"]
        return store

    @property
    def passwords(self) -> Passwords:
        passwords: Passwords = self.settings["passwords"]
        return passwords

    @property
    def config(self) -> Config:
        config: Config = self.settings["config"]
        return config

    @property
    def address(self) -> str:
        return self.request.remote_ip or ""

    def bearer_token(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def session_token(self) -> str | None:
        raw = self.get_signed_cookie(self.session_cookie, max_age_days=SESSION_COOKIE_DAYS)
        return raw.decode("ascii", "replace") if raw else None

    @property
    def request_id(self) -> str:
        """This request's id: in the X-Request-ID response header and in its log lines."""
        if self._request_id is None:
            self._request_id = request_id_of(self.request, self.settings["config"].behind_https)
        return self._request_id

    def initialize(self) -> None:
        # The application's clock for this request: every rule that decides by time asks it.
        # Set in the connection's context, which the request's task copies; every request on a
        # connection belongs to the same application, so the setting never leaks elsewhere.
        clock.install(self.config.clock)

    async def prepare(self) -> None:
        current_request.set(RequestContext(self.request_id, route_name(self)))
        store = self.settings["store"]
        if isinstance(store, KeptReads):  # the content version read once per request
            self._version_pin = store.pin_version()
        token = self.bearer_token()
        kind = "bearer" if token else None
        if token is None:
            token = self.session_token()
            kind = "cookie" if token else None
        user = await accounts.user_for_token(self.store, token, self.settings.get("kept_logins"))
        if user is not None:
            self._token, self._auth_kind = token, kind
            self.current_user = user
            current_request.set(RequestContext(self.request_id, route_name(self), user.id))
            self.set_header("Cache-Control", PRIVATE_CACHE_CONTROL)
        elif kind == "cookie":
            self.end_session_cookie()

    def on_finish(self) -> None:
        self._let_go_of_version()
        super().on_finish()

    def on_connection_close(self) -> None:
        self._let_go_of_version()
        super().on_connection_close()

    def _let_go_of_version(self) -> None:
        if self._version_pin is not None:
            KeptReads.unpin_version(self._version_pin)

    @property
    def user(self) -> User | None:
        user: User | None = self.current_user
        return user

    # display preferences: the caller's own cookies, set by /preferences -----------------------
    def get_user_locale(self) -> tornado.locale.Locale:
        """The `lang` cookie first, then Accept-Language, else Simplified Chinese; only zh_CN
        and en_US. `self.locale.code` is the answer, computed once per request. An answer that
        asked for it depends on Accept-Language, and says so to caches."""
        self.add_header("Vary", "Accept-Language")
        return i18n.get_locale(
            i18n.choose_locale(
                self.get_cookie(i18n.LANG_COOKIE), self.request.headers.get("Accept-Language")
            )
        )

    @property
    def care_mode(self) -> bool:
        """关怀版 (elder-friendly display: larger text, higher contrast) is on."""
        return self.get_cookie(i18n.CARE_COOKIE) == "1"

    def get_template_namespace(self) -> dict[str, Any]:
        namespace = super().get_template_namespace()
        code = self.locale.code
        namespace.update(
            care_mode=self.care_mode,
            lang=code,
            html_lang=code.replace("_", "-"),
            tm=lambda message: i18n.translate_message(self.locale, message),
            _in=lambda context, text: i18n.translate_in(self.locale, context, text),
            local_time=lambda stamp: i18n.format_time(stamp, code),
            local_due=lambda stamp: i18n.format_due(stamp, code),
            local_day=lambda day: i18n.format_day(day, code),
            month_name=lambda month: i18n.format_month(month, code),
            number=lambda value: i18n.format_number(value, code),
            # <time datetime>: UTC to the millisecond, as HTML allows (not Python's six digits).
            machine_time=iso,
            # Fields' maxlength, min and max come from the rules the services check.
            limits=limits,
        )
        return namespace

    def set_default_headers(self) -> None:
        headers = self._headers
        if self.settings["config"].behind_https:
            headers[HSTS_HEADER[0]] = HSTS_HEADER[1]
        for name, value in (*SECURITY_HEADERS, SERVER_HEADER):
            headers[name] = value
        headers["X-Request-ID"] = self.request_id  # checked by REQUEST_ID, or made here
        if getattr(self, "_current_user", None) is not None:  # an error page, headers cleared
            self.set_header("Cache-Control", PRIVATE_CACHE_CONTROL)

    def no_store(self) -> None:
        """This answer must not be kept by any cache, whoever asked."""
        self.set_header("Cache-Control", PRIVATE_CACHE_CONTROL)

    _capture: list[idempotency.Answer] | None = None  # set while an @idempotent create runs

    def send_answer(self, status: int, content_type: str, body: str | bytes) -> None:
        """Finish with this body; inside an @idempotent create, keep it for the decorator."""
        if self._capture is not None:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            self._capture.append(idempotency.Answer(status, content_type, text))
            return
        self.set_status(status)
        self.set_header("Content-Type", content_type)
        self.finish(body)

    def send_file(self, attachment: Attachment, data: bytes) -> None:
        """An attachment as a download that the browser will not run or render in the page."""
        self.set_header("Content-Type", attachment.content_type)
        self.set_header(
            "Content-Disposition", f"attachment; filename*=UTF-8''{quote(attachment.filename)}"
        )
        self.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
        self.set_header("Cache-Control", "private, no-store")
        self.finish(data)

    @property
    def session_cookie(self) -> str:
        # Over HTTPS the __Host- prefix makes browsers refuse the cookie unless it is Secure,
        # host-only and for path /, so no sibling domain or plain-HTTP page can plant one.
        return f"__Host-{SESSION_COOKIE}" if self.config.behind_https else SESSION_COOKIE

    def start_session(self, token: str) -> None:
        self.set_signed_cookie(
            self.session_cookie,
            token,
            expires_days=SESSION_COOKIE_DAYS,
            httponly=True,
            samesite="Lax",
            secure=self.config.behind_https,
            path="/",
        )

    def end_session_cookie(self) -> None:
        self.clear_cookie(
            self.session_cookie,
            path="/",
            secure=self.config.behind_https,
            httponly=True,
            samesite="Lax",
        )

    # errors ----------------------------------------------------------------------------------
    def log_exception(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(value, DomainError):
            return  # an expected answer, not a fault
        super().log_exception(typ, value, tb)

    def error_details(
        self, status_code: int, exc_info: Any
    ) -> tuple[int, str, str, dict[str, str]]:
        """(status, code, message, fields) for an error, whatever raised it. A store outage is
        counted in the metrics and logged; a refusal (403) is logged."""
        status, code, message, fields = self._error_details(status_code, exc_info)
        error = exc_info[1] if exc_info else None
        if isinstance(error, StoreUnavailable):
            metrics = self.settings.get("metrics")
            if metrics is not None:
                metrics.store_error(route_name(self))
            cause = error.__cause__
            log.warning(
                "store unavailable: %s",
                f"{type(cause).__name__}: {cause}"[:300] if cause is not None else "-",
            )
        elif status == 403:
            reason = code
            if (
                isinstance(error, tornado.web.HTTPError)
                and "xsrf" in (error.log_message or "").lower()
            ):
                reason = "xsrf"
            event(
                log,
                "forbidden",
                method=self.request.method,
                reason=reason,
                user_id=getattr(self.current_user, "id", None),
                route=route_name(self),
                request_id=self.request_id,
            )
        elif status == 404 and getattr(error, "denied", False):
            # Answered as absent so that nothing is revealed, but it was a refusal: logged
            # with the route only, never the content.
            event(
                log,
                "denied",
                method=self.request.method,
                reason="not_visible",
                user_id=getattr(self.current_user, "id", None),
                route=route_name(self),
                request_id=self.request_id,
            )
        return (status, code, *self.translated_error(error, message, fields))

    def translated_error(
        self, error: Any, message: str, fields: dict[str, str]
    ) -> tuple[str, dict[str, str]]:
        """An error's message and field messages in the reader's language (services write them
        in Chinese; forum.messages). Codes and field names never change."""
        fields = i18n.translate_fields(self.locale, fields) if fields else fields
        if isinstance(error, Invalid) and fields:
            separator = "; " if self.locale.code.startswith("en") else "；"
            return separator.join(f"{name}: {why}" for name, why in fields.items()), fields
        return i18n.translate_message(self.locale, message), fields

    def _error_details(
        self, status_code: int, exc_info: Any
    ) -> tuple[int, str, str, dict[str, str]]:
        error = exc_info[1] if exc_info else None
        if isinstance(error, DomainError):
            if isinstance(error, RateLimited):
                self.set_header("Retry-After", str(error.retry_after_seconds))
            fields = error.fields if isinstance(error, Invalid) else {}
            return error.status, error.code, error.message, fields
        if isinstance(error, tornado.web.HTTPError):
            status_code = error.status_code
        reason = (
            http.HTTPStatus(status_code).phrase
            if status_code in http.HTTPStatus._value2member_map_
            else "Error"
        )
        code = {
            400: "malformed",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
        }.get(status_code, "server_error" if status_code >= 500 else "error")
        message = {
            400: "请求格式有误",
            403: "请求被拒绝（缺少或错误的 XSRF 令牌）",
            404: "页面不存在",
            405: "不支持此方法",
            413: "提交的内容太大",
        }.get(status_code, "服务器出错了，请稍后再试" if status_code >= 500 else reason)
        return status_code, code, message, {}


class ApiHandler(BaseHandler):
    """JSON in, JSON out, errors in API.md's shape."""

    def check_xsrf_cookie(self) -> None:
        # XSRF guards the ambient authority of a cookie. A bearer token is sent on purpose, and
        # a request with no session cookie carries no authority to abuse.
        if self.bearer_token() or not self.get_cookie(self.session_cookie):
            return
        super().check_xsrf_cookie()

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object; 400 when it is not one."""
        return json_object(self.request.body or b"{}")

    def query(self, name: str) -> str | None:
        return self.get_query_argument(name, None)

    def respond(self, status: int = 200, payload: Any = None) -> None:
        if payload is None:
            self.set_status(status)
            self.finish()
            return
        self.send_answer(
            status,
            "application/json; charset=UTF-8",
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        status, code, message, fields = self.error_details(status_code, kwargs.get("exc_info"))
        self.set_status(status)
        error: dict[str, Any] = {"code": code, "message": message}
        if fields:
            error["fields"] = fields
        raised = kwargs["exc_info"][1] if kwargs.get("exc_info") else None
        if isinstance(raised, Conflict) and raised.state:
            error["state"] = raised.state
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"error": error}, ensure_ascii=False))


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


def request_id_of(request: tornado.httputil.HTTPServerRequest, behind_https: bool) -> str:
    """The id a trusted proxy (--behind-https) passed in X-Request-ID when it looks like one,
    else a new one: 32 hex digits, as uuid4().hex, without building a UUID."""
    given = request.headers.get("X-Request-ID", "") if behind_https else ""
    return given if given and REQUEST_ID.fullmatch(given) else os.urandom(16).hex()


def route_name(handler: tornado.web.RequestHandler) -> str:
    """The name a request's route goes by in metrics and logs: the handler's module and class
    (api.PostHandler, post_pages.PostPage), a short and fixed set, never the path with its ids."""
    cls = type(handler)
    return f"{cls.__module__.rpartition('.')[2]}.{cls.__qualname__}"


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# A JSON string (escapes included), and everything but the four brackets.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def json_depth(raw: bytes) -> int:
    """How deeply `raw`'s objects and arrays nest, counting brackets outside strings; for
    text that is not JSON, a figure that may be off (json.loads refuses it anyway)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # too few brackets to nest too deep, whatever the strings hold
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    steps = (1 if step == 1 else -1 for step in brackets.translate(_DEPTH_STEP))
    return max(itertools.accumulate(steps, initial=0))


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object; 400 when it is none, or nests deeper than
    MAX_JSON_DEPTH (checked before parsing, so a deep one never reaches the recursive parser)."""
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise tornado.web.HTTPError(400, "JSON nested deeper than %d", MAX_JSON_DEPTH)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise tornado.web.HTTPError(400) from None
    if not isinstance(data, dict):
        raise tornado.web.HTTPError(400)
    return data


class BodyLimits(tornado.web.Application):
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


class NotFoundApiHandler(ApiHandler):
    async def prepare(self) -> None:
        raise tornado.web.HTTPError(404)
