"""Kept pages answered before any handler is made.

The page cache (forum/web/pagecache.py) spares a kept page its reads and its templates, but the
request still went through all of Tornado's handler work: a RequestHandler built, its headers
set one by one, the login looked for, prepare, finish, the ETag. On a kept anonymous page that
work was most of the cost. Here a GET that a kept page is known to answer is answered from the
connection's side of Tornado, with the bytes and headers the handler sent when it kept the page:

- Which page answers a request is learnt from the handler itself: when it keeps a page, it notes
  the request's `request_key` (the URI, and the only request inputs an anonymous page depends
  on: the `lang` and `care` cookies and Accept-Language). A request with anything else that a
  handler might act on (another cookie, a session or flash cookie, Authorization, a body,
  If-None-Match, any method but GET) is not answered here: deny by default.
- The page is still checked against the store's content version, read first as the handler
  does, and against its age; a page that is gone or stale hands the request to its handler,
  which renders and keeps it again. So is a request whose version read fails (the handler then
  answers as it would, 503 while the store is down).
- The answer has what the handler's had: the same status, body, ETag and headers, a request id
  of its own (or the trusted proxy's) and the date; the same access line and metrics, under the
  same route and masked path.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Callable

from tornado import httputil

from forum.web.base import request_id_of, sent_cookies
from forum.web.body_limits import BodyLimits
from forum.web.i18n import CARE_COOKIE, LANG_COOKIE

if TYPE_CHECKING:
    from forum.web.pagecache import CachedPage, PageCache

# Headers that belong to one answer, made again for each.
REQUEST_OWN_HEADERS = frozenset({"X-Request-Id", "Date", "Content-Length", "Etag"})
# Cookies an anonymous page may depend on (`lang`, `care`) or that it ignores (the XSRF token's
# cookie, by both names: a kept page never asked for the token). Any other cookie, the session's
# and the flash's among them, sends the request to its handler.
ANSWERABLE_COOKIES = frozenset({LANG_COOKIE, CARE_COOKIE, "_xsrf", "__Host-_xsrf"})
# Request headers after which the handler must answer: a login, a body, a conditional GET.
HANDLER_HEADERS = ("Authorization", "Content-Length", "Transfer-Encoding", "If-None-Match")


def request_key(request: httputil.HTTPServerRequest) -> tuple[str, ...] | None:
    """What of a GET decides which kept page answers it, or None when it is not such a GET."""
    if request.method != "GET":
        return None
    headers = request.headers
    if any(name in headers for name in HANDLER_HEADERS):
        return None
    lang = care = ""
    if "Cookie" in headers:
        cookies = sent_cookies(request)
        if not cookies.keys() <= ANSWERABLE_COOKIES:
            return None
        lang = cookies.get(LANG_COOKIE, "")
        care = cookies.get(CARE_COOKIE, "")
    return (request.uri or "", lang, care, headers.get("Accept-Language", ""))


class KeptAnswers(BodyLimits):
    """The application: a GET a kept page answers is answered by `_KeptAnswer`, the rest by
    their handlers (BodyLimits's routing)."""

    def find_handler(self, request: Any, **kwargs: Any) -> Any:
        cache: PageCache | None = self.settings.get("page_cache")
        if cache is not None and cache.answers:
            asked = request_key(request)
            if asked is not None and (found := cache.answer_for(asked)) is not None:
                return _KeptAnswer(
                    self,
                    request,
                    *found,
                    lambda: super(KeptAnswers, self).find_handler(request, **kwargs),
                )
        return super().find_handler(request, **kwargs)


class _KeptAnswer(httputil.HTTPMessageDelegate):
    def __init__(
        self,
        app: KeptAnswers,
        request: httputil.HTTPServerRequest,
        shelf: PageCache,
        key: Any,
        handler: Callable[[], httputil.HTTPMessageDelegate],
    ) -> None:
        self.app, self.request, self.shelf, self.key = app, request, shelf, key
        self.handler = handler
        self.start: tuple[Any, httputil.HTTPHeaders] | None = None
        self.inner: httputil.HTTPMessageDelegate | None = None
        self.task: asyncio.Future[None] | None = None

    def headers_received(self, start_line: Any, headers: httputil.HTTPHeaders) -> None:
        self.start = (start_line, headers)

    def data_received(self, chunk: bytes) -> None:
        return None  # a GET without Content-Length or Transfer-Encoding has no body

    def finish(self) -> None:
        self.task = asyncio.ensure_future(self._answer())

    def on_connection_close(self) -> None:
        if self.inner is not None:
            self.inner.on_connection_close()

    async def _answer(self) -> None:
        try:
            version: int | None = await self.app.settings["store"].content_version()
        except Exception:
            version = None  # the handler answers: it knows what to say when the store is down
        page = None if version is None else self.shelf.get(self.key, version)
        # Answered even when the reader has gone, as a handler would be: finishing the answer
        # is what ends the request's count for a draining server (forum/web/draining.py).
        if page is None:
            self._hand_over()
            return
        self._send(page)

    def _send(self, page: CachedPage) -> None:
        request = self.request
        request_id = request_id_of(request, self.app.settings["config"].behind_https)
        headers = httputil.HTTPHeaders()
        for name, value in page.headers:
            headers.add(name, value)
        headers["Date"] = httputil.format_timestamp(time.time())
        headers["X-Request-Id"] = request_id
        if page.etag is not None:
            headers["Etag"] = page.etag
        headers["Content-Length"] = str(len(page.body))
        connection = request.connection
        assert connection is not None
        connection.write_headers(httputil.ResponseStartLine("", 200, "OK"), headers, page.body)
        connection.finish()
        log = self.app.settings.get("log_function")
        record = getattr(log, "record", None)
        if record is not None:
            record(request, 200, page.route, lambda: page.path, None, request_id)

    def _hand_over(self) -> None:
        """The request to its handler, as if it had never come here."""
        assert self.start is not None
        self.inner = self.handler()
        self.inner.headers_received(*self.start)
        self.inner.finish()
