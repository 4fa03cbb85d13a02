"""Server-rendered pages. Forms post to their own page's path with the API's field names; the
same service calls as the JSON API make every decision. Here what every page shares (PageHandler:
the page's frame, the flash after a form, the way to the login, the error page) and the pages of
no family (not found, the header's switches); the pages themselves are in account_pages,
me_pages, post_pages, case_pages, casework_pages, search_pages and admin_pages."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import tornado.web

from forum.errors import Invalid, NotLoggedIn
from forum.messages import msg
from forum.services import notify, posting
from forum.web import i18n, reader_pages
from forum.web.base import BaseHandler
from forum.web.pagecache import FLASH_COOKIES


# A flash (what a redirect after a form shows once) outlives its redirect by this much at most.
FLASH_SECONDS = 120


def safe_next(target: str | None) -> str:
    """Only local paths: `next` must never send someone to another site, nor carry a line
    break into the Location header."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ch < " " or ch == "\x7f" for ch in target)
    ):
        return "/"
    return target


class PageHandler(BaseHandler):
    _flash: dict[str, Any] | None = None
    # Whether this page's GET, for a signed-in reader, may come from the pages kept for every
    # reader it looks the same to (reader_pages): it must read nothing of its reader but the
    # context it is given and a Reader.
    kept_for_readers = False

    async def render_page(
        self,
        template: str,
        status: int = 200,
        *,
        slots: dict[str, str | bytes] | None = None,
        **context: Any,
    ) -> None:
        """`slots`: what differs from request to request on a page otherwise kept for readers
        alike (see reader_pages.kept_page); text is escaped, bytes are markup."""
        self.set_status(status)
        nav = await posting.navigation(self.store)
        unread = await notify.unread_count(self.store, self.user)
        flash = self.take_flash()
        context.update(nav=nav, unread=unread, flash=flash)
        if self.kept_for_readers and status == 200 and not flash and self.request.method == "GET":
            page = reader_pages.kept_page(self, template, context, slots or {})
            if page is not None:
                self.finish(page)
                return
        self.render(template, user=self.user, **context, **(slots or {}))

    @property
    def flash_cookie(self) -> str:
        # Over HTTPS under the __Host- prefix, as the session cookie (see base.session_cookie).
        return FLASH_COOKIES[1] if self.config.behind_https else FLASH_COOKIES[0]

    def redirect_after(self, url: str, **flash: Any) -> None:
        """The answer to a form that changed something: 303 See Other to the page that shows
        the result, so that reloading that page repeats nothing. `flash` (JSON values) is shown
        there once, from a signed cookie: never in the URL, which browsers keep in history and
        proxies log."""
        if flash:
            # For that page only: another page read first (another tab) leaves it there.
            flash["page"] = urlsplit(url).path
            self.set_signed_cookie(
                self.flash_cookie,
                json.dumps(flash, ensure_ascii=False),
                max_age=FLASH_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=self.config.behind_https,
                path="/",
            )
        self.no_store()
        self.redirect(url, status=303)

    def take_flash(self) -> dict[str, Any]:
        """What the redirect to this page carried, read once: the cookie is cleared, and the
        answer that shows it is kept by no cache (the page cache included, as it sets a
        cookie). {} when there is none, or it is too old or not ours; and for a form shown
        again with its errors, which leaves it for the page after the form."""
        if self._flash is None:
            self._flash = {}
            if self.request.method != "GET" or self.get_cookie(self.flash_cookie) is None:
                return self._flash
            raw = self.get_signed_cookie(self.flash_cookie, max_age_days=FLASH_SECONDS / 86400)
            try:
                found = json.loads(raw) if raw else {}
            except ValueError:
                found = {}
            if not isinstance(found, dict):
                found = {}
            if found and found.get("page") != self.request.path:
                return self._flash
            self.clear_cookie(
                self.flash_cookie,
                path="/",
                httponly=True,
                samesite="Lax",
                secure=self.config.behind_https,
            )
            self.no_store()
            self._flash = found
        return self._flash

    def form(self, name: str) -> str | None:
        return self.get_body_argument(name, None, strip=False)

    def checkbox(self, name: str) -> bool:
        return self.get_body_argument(name, None) not in (None, "", "0")

    def login_redirect(self) -> None:
        self.redirect("/login?" + urlencode({"next": self.request.uri}), status=303)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        if isinstance(error, NotLoggedIn) and self.request.method == "GET":
            self.login_redirect()
            return
        status, _code, message, fields = self.error_details(status_code, kwargs.get("exc_info"))
        self.set_status(status)
        try:
            nav = self.settings["static_nav"]
            self.render(
                "error.html",
                user=self.current_user,
                nav=nav,
                unread=0,
                status=status,
                message=message,
                fields=fields,
            )
        except Exception:  # the error page itself failed: fall back to plain text, and log why
            self.log_exception(*kwargs.get("exc_info") or (None, None, None))
            self.clear()
            self.set_status(status)
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            self.finish(f"{status} {message}")


class NotFoundPage(PageHandler):
    async def prepare(self) -> None:
        await super().prepare()
        raise tornado.web.HTTPError(404)


class BadPreference(Invalid):
    """A value the preference switches never send: 400, naming the field."""

    status, code = 400, "malformed"


# What the header's switches may set: the locale, and 关怀版 on ("1") or off ("0").
PREFERENCE_VALUES = {i18n.LANG_COOKIE: i18n.SUPPORTED_LOCALES, i18n.CARE_COOKIE: ("0", "1")}


class PreferencesPage(PageHandler):
    """The header's switches: language (lang = zh_CN | en_US) and 关怀版 (care = 1 | 0). Each is
    kept in the caller's own cookie for a year; then back to `next`, a local path (else /)."""

    def check_xsrf_cookie(self) -> None:
        # Exempt from XSRF: this route changes no server state, only the caller's own display
        # cookies (lang, care). A forged request can at most switch the language or text size
        # of the browser that sends it. The switch form sits in the header of every page, and
        # pages for anonymous readers are cached whole, so it cannot carry a per-visitor token.
        return

    async def post(self) -> None:
        chosen: dict[str, str] = {}
        for name, allowed in PREFERENCE_VALUES.items():
            value = self.get_body_argument(name, None, strip=False)
            if value is None:
                continue
            if value not in allowed:
                raise BadPreference({name: msg("可选值：{choices}", choices=list(allowed))})
            chosen[name] = value
        if not chosen:
            raise BadPreference({i18n.LANG_COOKIE: "必填"})
        for name, value in chosen.items():
            self.set_cookie(
                name,
                value,
                expires_days=i18n.PREFERENCE_COOKIE_DAYS,
                path="/",
                samesite="Lax",
                secure=self.config.behind_https,
            )
        self.set_header("Cache-Control", "no-store")
        self.redirect(safe_next(self.get_body_argument("next", None, strip=False)), status=303)
