"""What every handler shares: who is asking, parsing input, turning domain errors into HTTP,
security headers. Handlers built on these hold no business rules."""

from __future__ import annotations

import http
import json
import logging
import os
import re
from types import TracebackType
from typing import Any, overload
from urllib.parse import quote

import tornado.httputil
import tornado.locale
import tornado.web

from forum import clock, limits
from forum.config import Config
from forum.errors import Conflict, DomainError, Invalid, NotLoggedIn, RateLimited, StoreUnavailable
from forum.logs import RequestContext, current_request, event
from forum.model import Attachment, User, iso
from forum.security import Passwords
from forum.services import accounts, idempotency
from forum.store.base import Store
from forum.store.kept import KeptReads, VersionPin
from forum.web import i18n
from forum.web.json_input import json_object
from forum.web.signed_cookies import CheckedCookies

log = logging.getLogger("forum.web")

MAX_BODY_BYTES = 1 << 20
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
    # While a page is rendered to be kept for every reader who looks the same (reader_pages),
    # what its templates may read of the reader, in place of the user.
    kept_reader: Any = None
    # The most a request to this route may send; uploads raise it. Checked against
    # Content-Length before the body is read, and counted while a chunked one is (BodyLimits).
    max_body_bytes = MAX_BODY_BYTES

    @overload
    def get_cookie(self, name: str, default: str) -> str: ...

    @overload
    def get_cookie(self, name: str, default: None = None) -> str | None: ...

    def get_cookie(self, name: str, default: str | None = None) -> str | None:
        # Tornado's reads request.cookies (see sent_cookies); its signed cookies and XSRF check
        # come here too.
        return sent_cookies(self.request).get(name, default)

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
        name = self.session_cookie
        sent = self.get_cookie(name)
        if sent is None:
            return None
        checked: CheckedCookies | None = self.settings.get("checked_cookies")

        def check() -> bytes | None:
            return self.get_signed_cookie(name, sent, max_age_days=SESSION_COOKIE_DAYS)

        raw = check() if checked is None else checked.value(name, sent, check)
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

    def pinned_version(self) -> int | None:
        """The content version this request's kept records were all read at; None when none
        was read yet, or a write let go of it."""
        return KeptReads.pinned(self._version_pin)

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
        if self.kept_reader is not None:
            namespace["current_user"] = self.kept_reader
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
            # Where the page is, for a form that comes back to it (a kept page's slot).
            here=self.request.uri,
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


def login_required(handler: BaseHandler) -> User:
    """The caller; NotLoggedIn (401) when there is none."""
    if handler.user is None:
        raise NotLoggedIn()
    return handler.user


def sent_cookies(request: tornado.httputil.HTTPServerRequest) -> dict[str, str]:
    """The cookies a request sent, by name, parsed once. Tornado's own `request.cookies` makes a
    SimpleCookie of Morsels of them, every value quoted again on the way in, which took a
    twentieth of a logged-in page; its values are these same strings. Unlike it, a name that
    SimpleCookie would refuse is kept (an empty one, say): no cookie of ours has such a name."""
    found: dict[str, str] | None = getattr(request, "_sent_cookies", None)
    if found is None:
        header = request.headers.get("Cookie")
        found = tornado.httputil.parse_cookie(header) if header else {}
        request._sent_cookies = found  # type: ignore[attr-defined]
    return found


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


class NotFoundApiHandler(ApiHandler):
    async def prepare(self) -> None:
        raise tornado.web.HTTPError(404)
