"""Pages kept for signed-in readers, shared by every reader they look the same to.

A board or post page for a signed-in reader is rendered from a context (the views the services
made for this reader, the navigation, the unread count, whether they follow the page, ...) and
the reader. What it may read of the reader is a Reader: the roles and department that decide
what the header and the page offer, never who they are. The two things of one person a page
holds, their name in the header and the XSRF token in its forms, are rendered as marks and put
in for each request. So the page is a function of the template, the request's address, language
and 关怀版, and the context: it is kept with that context and given to the next request whose
context is equal (`==`: the same records and views are the same objects while the content
version stands, so comparing them is cheap; anything that differs, a reader's own view of their
own post, another unread count, a subscription, makes a page of its own). Kept under the content
version the page's records were read at, and never longer than the anonymous pages (the clock
alone can change a page), so it is never older than the store.

A page may also have slots: what differs from one request to the next on a page otherwise alike
(a search's query and its results). The page is kept with a mark in each, by its path rather
than its address (what it shows of the query string must come through the context or a slot;
the address itself is the slot `here`), and each request's own text (escaped) or markup is put
in.
"""

from __future__ import annotations

import collections
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import tornado.escape

from forum.model import Role, User
from forum.web.pagecache import MAX_AGE_SECONDS

if TYPE_CHECKING:
    from forum.web.pages import PageHandler

# Marks for what belongs to one request; random per process, so no text a user writes holds one.
_MARK = secrets.token_hex(16)
NAME_MARK = f"reader-{_MARK}"
TOKEN_MARK = f"token-{_MARK}"
_NAME_BYTES, _TOKEN_BYTES = NAME_MARK.encode(), TOKEN_MARK.encode()
MAX_PAGES = 1000
MAX_BYTES = 32 << 20
VARIANTS_PER_ADDRESS = 16


@dataclass(frozen=True)
class Reader:
    """What a kept page may read of its reader (see User): the roles and the department. Any
    other attribute is missing, so a template that would show one reader's identity to another
    fails instead."""

    roles: tuple[Role, ...]
    department: str | None
    display_name: str = field(default=NAME_MARK, compare=False)
    disabled: bool = False

    has = User.has
    moderates = User.moderates
    is_official = User.is_official

    @classmethod
    def of(cls, user: User) -> Reader:
        return cls(tuple(user.roles), user.department)


@dataclass
class _Kept:
    context: dict[str, Any]
    version: int
    page: bytes
    at: float


class ReaderPages:
    """Pages kept per address, each with the context it was made from; least recently used out
    first, at most `max_pages` and `max_bytes` in all."""

    def __init__(self, max_pages: int = MAX_PAGES, max_bytes: int = MAX_BYTES) -> None:
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self._kept: collections.OrderedDict[Any, list[_Kept]] = collections.OrderedDict()
        self._pages = 0
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return self._pages

    def find(self, address: Any, version: int, context: dict[str, Any]) -> bytes | None:
        variants = self._kept.get(address)
        if variants is not None:
            fresh = time.monotonic() - MAX_AGE_SECONDS
            for kept in variants:
                if kept.version == version and kept.at > fresh and kept.context == context:
                    # Equal, and from now on the same objects: the next comparison is by
                    # identity (requests that read at once may hold records read apart).
                    kept.context = context
                    self._kept.move_to_end(address)
                    self.hits += 1
                    return kept.page
        self.misses += 1
        return None

    def keep(self, address: Any, version: int, context: dict[str, Any], page: bytes) -> None:
        variants = self._kept.pop(address, [])
        fresh = time.monotonic() - MAX_AGE_SECONDS
        kept = [v for v in variants if v.version == version and v.at > fresh]
        kept = [_Kept(context, version, page, time.monotonic()), *kept][:VARIANTS_PER_ADDRESS]
        self._account(variants, -1)
        self._account(kept, 1)
        self._kept[address] = kept
        while self._kept and (self._pages > self.max_pages or self._bytes > self.max_bytes):
            self._account(self._kept.popitem(last=False)[1], -1)

    def _account(self, variants: list[_Kept], sign: int) -> None:
        self._pages += sign * len(variants)
        self._bytes += sign * sum(len(v.page) for v in variants)


def kept_page(
    handler: PageHandler,
    template: str,
    context: dict[str, Any],
    slots: dict[str, str | bytes] | None = None,
) -> bytes | None:
    """The page `template` makes of `context` for the handler's signed-in reader, from the shelf
    or rendered now and kept; None when it may not be kept (no shelf, no reader, a version the
    request's records were not all read at). `slots`: the values that are put into the kept
    page for this request, text escaped and bytes as they are; the template must show each
    only as `{{ name }}` or `{% raw name %}`, and decide nothing by it but that it is there."""
    shelf: ReaderPages | None = handler.settings.get("reader_pages")
    user, version = handler.user, handler.pinned_version()
    if shelf is None or user is None or version is None:
        return None
    reader = Reader.of(user)
    # A page kept by its path holds its own address in a slot too (the preferences form's
    # way back: templates show it as `here`).
    filled = {**slots, "here": handler.request.uri} if slots else {}
    marks = {name: _slot_mark(name, value) for name, value in filled.items()}
    context = {**context, **marks, "user": reader}
    where = handler.request.path if filled else handler.request.uri
    address = (template, where, handler.locale.code, handler.care_mode)
    page = shelf.find(address, version, context)
    if page is None:
        page = _render_for(handler, reader, template, context)
        shelf.keep(address, version, context, page)
    page = _personal(page, handler.xsrf_token, user)
    for name, value in filled.items():
        mark = marks[name]
        page = page.replace(
            mark.encode() if isinstance(mark, str) else mark,
            tornado.escape.xhtml_escape(value).encode() if isinstance(value, str) else value,
        )
    return page


def _slot_mark(name: str, value: str | bytes) -> str | bytes:
    """What a slot holds in the kept page: letters, digits and dashes, which escaping keeps as
    they are; of the value's type, so the template shows it as it would the value."""
    mark = f"slot-{name}-{_MARK}"
    return mark if isinstance(value, str) else mark.encode()


def _render_for(
    handler: PageHandler, reader: Reader, template: str, context: dict[str, Any]
) -> bytes:
    token = handler.xsrf_token  # this request's own, made (and its cookie set) first
    handler._xsrf_token = _TOKEN_BYTES
    handler.kept_reader = reader
    # The pieces' namespace, when the request made one (a slot's markup), is its user's.
    namespace = handler.__dict__.pop("_piece_namespace", None)
    try:
        return handler.render_string(template, **context)
    finally:
        handler._xsrf_token = token
        handler.kept_reader = None
        handler.__dict__.pop("_piece_namespace", None)  # built for the reader: not for later
        if namespace is not None:
            handler.__dict__["_piece_namespace"] = namespace


def _personal(page: bytes, token: bytes, user: User) -> bytes:
    name = tornado.escape.xhtml_escape(user.display_name).encode()
    return page.replace(_TOKEN_BYTES, token).replace(_NAME_BYTES, name)
