"""Whole rendered pages for anonymous readers, kept in the process's memory and valid while the
store's content version stays where it was when the page was read.

A city portal is read far more than it is written, and in bursts (a storm, a tax deadline, a news
story) everyone reads the same few pages. A handler that mixes in `AnonymousPageCache` answers
a GET from a reader without a login from here when it can. Correctness rests on three things:

- Only what is the same for every anonymous reader is kept: GET, status 200, no login (no
  session cookie, no Authorization header, no user), no flash cookie, nothing that set a cookie, asked for the
  XSRF token or said Cache-Control. Pages are kept per path and query, language (the locale's
  code) and 关怀版 (the `care` cookie), which are all that changes an anonymous page.
- Invalidation goes through the store: `Store.content_version()` is read before the page's
  data, and the page is kept under that number; any later write of what pages show, by this
  process or another sharing the store (`--processes N`, several machines on MongoDB), moves
  the number on, and the next reader gets a fresh page. No time-based staleness is allowed.
- The cache is bounded (entries and bytes, least recently used out first) and belongs to one
  application (make_app builds it), never to the module. Search pages have a shelf of their own
  (`PageCache.searches`, smaller): a flood of queries that are each asked once fills only that
  shelf, and never pushes out the boards and posts everyone reads.

A kept page's ETag (the SHA-1 of its body, as Tornado makes it) is computed once, when the page
is kept, and served with it: a reader who sends it back in If-None-Match gets a 304.
"""

from __future__ import annotations

import collections
import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tornado.escape import utf8

from forum.web.base import route_name
from forum.web.kept_answers import REQUEST_OWN_HEADERS, request_key

if TYPE_CHECKING:  # mixed into handlers: checked as one
    from forum.web.base import BaseHandler as _Handler
else:
    _Handler = object

CARE_COOKIE = "care"  # the 关怀版 switch (forum/web/i18n.py sets it)
SESSION_COOKIES = ("session", "__Host-session")  # both names forum/web/base.py may use
# What a redirect after a form shows once (forum/web/pages.py), by both names it may have.
FLASH_COOKIES = ("flash", "__Host-flash")
MAX_ENTRIES = 2000
MAX_BYTES = 64 << 20
# What a page shows can also change with the clock alone (a case turning overdue, which the
# periodic job writes only every 10 minutes): a kept page is rendered again after this long.
MAX_AGE_SECONDS = 60
# The search shelf: popular words during a burst repeat and are kept; the long tail of queries
# asked once each turns over here alone.
SEARCH_MAX_ENTRIES = 500
SEARCH_MAX_BYTES = 16 << 20


@dataclass(frozen=True)
class CachedPage:
    version: int
    content_type: str
    body: bytes
    at: float = 0.0  # time.monotonic() when rendered
    etag: str | None = None  # computed once, when kept (None: Tornado computes it per answer)
    # What forum/web/kept_answers.py needs to answer it again without a handler: the headers the
    # handler sent (but the request's own: its id and the date), and the route and masked path
    # of its log line.
    headers: tuple[tuple[str, str], ...] = ()
    route: str = ""
    path: str = ""


def etag_of(body: bytes) -> str:
    """The ETag Tornado's RequestHandler.compute_etag gives a response of `body` alone."""
    return '"%s"' % hashlib.sha1(body).hexdigest()


class PageCache:
    """Least recently used pages, at most `max_entries` of them and `max_bytes` in all."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        max_age_seconds: float = MAX_AGE_SECONDS,
        *,
        search_entries: int = SEARCH_MAX_ENTRIES,
        search_bytes: int = SEARCH_MAX_BYTES,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_age_seconds = max_age_seconds
        self._pages: collections.OrderedDict[Any, CachedPage] = collections.OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        # Which kept page answers a request, by what of the request decides it (see
        # kept_answers.request_key): the page's key and shelf. As bounded as the pages.
        self.answers: collections.OrderedDict[Any, tuple[Any, str | None]] = (
            collections.OrderedDict()
        )
        # Search pages, bounded on their own (None: searches are not kept).
        self.searches: PageCache | None = (
            PageCache(search_entries, search_bytes, max_age_seconds, search_entries=0)
            if search_entries > 0
            else None
        )

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: Any, version: int) -> CachedPage | None:
        """The page kept under `key` if it was read at `version` less than max_age_seconds
        ago; an older one is dropped."""
        page = self._pages.get(key)
        if (
            page is not None
            and page.version == version
            and time.monotonic() - page.at < self.max_age_seconds
        ):
            self._pages.move_to_end(key)
            self.hits += 1
            return page
        if page is not None:
            self._drop(key)
        self.misses += 1
        return None

    def note_answer(self, request_key: Any, key: Any, shelf: str | None) -> None:
        self.answers[request_key] = (key, shelf)
        self.answers.move_to_end(request_key)
        while len(self.answers) > self.max_entries:
            self.answers.popitem(last=False)

    def answer_for(self, request_key: Any) -> tuple[PageCache, Any] | None:
        """The shelf and key of the page kept for a request like this one, if any."""
        found = self.answers.get(request_key)
        if found is None:
            return None
        key, shelf = found
        cache = self if shelf is None else getattr(self, shelf)
        return None if cache is None else (cache, key)

    def put(self, key: Any, page: CachedPage) -> None:
        if len(page.body) > self.max_bytes // 8:
            return  # one page must not push out most of the others
        if key in self._pages:
            self._drop(key)
        self._pages[key] = page
        self._bytes += len(page.body)
        while len(self._pages) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._pages)))

    def _drop(self, key: Any) -> None:
        self._bytes -= len(self._pages.pop(key).body)


class AnonymousPageCache(_Handler):
    """Mixed into a handler (before its base class) whose GET page depends only on the URL,
    the language, the 关怀版 switch and the store's content."""

    # Which shelf of the cache: "searches" for search answers, kept apart from the pages.
    page_shelf: str | None = None
    _page_slot: tuple[Any, int] | None = None
    _page_etag: tuple[bytes, str] | None = None  # (the kept body, its ETag)

    def _page_cache(self) -> PageCache | None:
        cache: PageCache | None = self.settings.get("page_cache")
        if cache is not None and self.page_shelf is not None:
            cache = getattr(cache, self.page_shelf)
        return cache

    async def prepare(self) -> None:
        await super().prepare()
        cache = self._page_cache()
        if cache is None or self._finished or not self._anonymous_get():
            return
        key = (
            self.request.uri,
            self.locale.code,
            self.get_cookie(CARE_COOKIE) or "",
        )
        # Before any of the page's data is read: a write after this moves the number on.
        version = await self.store.content_version()
        page = cache.get(key, version)
        if page is not None:
            self._note_answer(key)  # a request like this one is answered before its handler
            self.set_header("Content-Type", page.content_type)
            if page.etag is not None:
                self._page_etag = (page.body, page.etag)
            self.finish(page.body)
            return
        self._page_slot = (key, version)

    def _note_answer(self, key: Any) -> None:
        asked = request_key(self.request)
        if asked is not None:
            answers: PageCache = self.settings["page_cache"]
            answers.note_answer(asked, key, self.page_shelf)

    def _anonymous_get(self) -> bool:
        request = self.request
        return (
            request.method == "GET"
            and self.current_user is None
            and "Authorization" not in request.headers
            # A flash belongs to one reader: the page that shows it is rendered for them.
            and not any(self.get_cookie(name) for name in (*SESSION_COOKIES, *FLASH_COOKIES))
        )

    def _shareable(self) -> bool:
        """Nothing in this response belongs to one reader: no cookie set, no XSRF token made
        (Tornado keeps it in _xsrf_token once asked), no caching instruction of its own."""
        return (
            self.get_status() == 200
            and not hasattr(self, "_new_cookie")
            and not hasattr(self, "_xsrf_token")
            and "Cache-Control" not in self._headers
            and not self._write_buffer
        )

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> Any:
        slot, self._page_slot = self._page_slot, None
        cache = self._page_cache()
        if (
            slot is not None
            and cache is not None
            and isinstance(chunk, (str, bytes))
            and self._shareable()
        ):
            body = utf8(chunk)
            etag = etag_of(body)
            self._page_etag = (body, etag)
            headers = self._headers
            log_function = self.settings.get("log_function")
            masked_path = getattr(log_function, "masked_path", None)
            cache.put(
                slot[0],
                CachedPage(
                    slot[1],
                    headers.get("Content-Type", "text/html; charset=UTF-8"),
                    body,
                    time.monotonic(),
                    etag,
                    tuple(
                        (name, value)
                        for name, value in headers.get_all()
                        if name not in REQUEST_OWN_HEADERS
                    ),
                    route_name(self),
                    masked_path(self) if masked_path else self.request.path,
                ),
            )
            self._note_answer(slot[0])
            chunk = body
        return super().finish(chunk)

    def compute_etag(self) -> str | None:
        """The kept page's ETag when this answer is one (Tornado then sets it and answers 304
        to a matching If-None-Match), else Tornado's SHA-1 over what was written."""
        kept = self._page_etag
        if kept is None and hasattr(self, "_xsrf_token"):
            # The page holds this request's XSRF token, masked afresh for every request: its
            # hash would never match again, so it is not worked out.
            return None
        buffer = self._write_buffer
        # Only when what is written is exactly the kept body, as one piece.
        if kept is not None and len(buffer) == 1 and buffer[0] is kept[0]:
            return kept[1]
        etag: str | None = super().compute_etag()
        return etag
