"""Server-rendered pages. Forms post to their own page's path with the API's field names; the
same service calls as the JSON API make every decision."""
from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import tornado.web

from forum.errors import BadCredentials, Conflict, Invalid, NotFound, NotLoggedIn, RateLimited
from forum.messages import msg
from forum.model import Post, Role, is_id
from forum.services import (accounts, admin, apikeys, attachments, cases, casework, consulting,
                            departments, faq, flags, following, moderation, notify, posting,
                            recovery, searching, settings, stats, templates)
from forum.web import i18n
from forum.web.base import BaseHandler
from forum.web.pagecache import FLASH_COOKIES, AnonymousPageCache
from forum.web.uploads import UploadHandler


# A flash (what a redirect after a form shows once) outlives its redirect by this much at most.
FLASH_SECONDS = 120


def safe_next(target: str | None) -> str:
    """Only local paths: `next` must never send someone to another site, nor carry a line
    break into the Location header."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ch < " " or ch == "\x7f" for ch in target)):
        return "/"
    return target


class BadPreference(Invalid):
    """A value the preference switches never send: 400, naming the field."""
    status, code = 400, "malformed"


# What the header's switches may set: the locale, and 关怀版 on ("1") or off ("0").
PREFERENCE_VALUES = {i18n.LANG_COOKIE: i18n.SUPPORTED_LOCALES, i18n.CARE_COOKIE: ("0", "1")}


class PageHandler(BaseHandler):
    _flash: dict[str, Any] | None = None

    async def render_page(self, template: str, status: int = 200, **context: Any) -> None:
        self.set_status(status)
        nav = [(b.slug, b.settings.name) for b in await posting.list_boards(self.store, self.user)]
        unread = await notify.unread_count(self.store, self.user)
        self.render(template, user=self.user, nav=nav, unread=unread, flash=self.take_flash(),
                    **context)

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
            self.set_signed_cookie(self.flash_cookie, json.dumps(flash, ensure_ascii=False),
                                   max_age=FLASH_SECONDS, httponly=True, samesite="Lax",
                                   secure=self.config.behind_https, path="/")
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
            self.clear_cookie(self.flash_cookie, path="/", httponly=True, samesite="Lax",
                              secure=self.config.behind_https)
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
            self.render("error.html", user=self.current_user, nav=nav, unread=0, status=status,
                        message=message, fields=fields)
        except Exception:  # the error page itself failed: fall back to plain text, and log why
            self.log_exception(*kwargs.get("exc_info") or (None, None, None))
            self.clear()
            self.set_status(status)
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            self.finish(f"{status} {message}")


class HomePage(AnonymousPageCache, PageHandler):
    async def get(self) -> None:
        sections = await posting.latest_by_board(self.store, self.user)
        figures = await stats.year_summary(self.settings["stats_cache"], self.store,
                                           cases.CASE_BOARDS)
        await self.render_page("home.html", sections=sections, figures=figures)


class BoardPage(AnonymousPageCache, PageHandler):
    async def get(self, slug: str) -> None:
        category = self.get_query_argument("category", None) or None
        page = await posting.list_posts(self.store, self.user, slug, category=category,
                                        cursor=self.get_query_argument("cursor", None),
                                        before=self.get_query_argument("before", None))
        board = await posting.get_board(self.store, self.user, slug)
        figures, names = None, None
        if board.slug in cases.CASE_BOARDS:
            figures = await stats.year_summary(self.settings["stats_cache"], self.store,
                                               (board.slug,))
            names = {d.slug: d.name for d in await departments.list_departments(self.store)}
        subscription = await following.following(self.store, self.user, f"board:{board.slug}")
        entries = await faq.for_board(self.store, board.slug)
        await self.render_page("board.html", board=board, page=page, category=category,
                               figures=figures, department_names=names,
                               subscription=subscription,
                               followable=following.may_follow_board(board, self.user),
                               faq_entries=entries, faq_removable=faq.may_delete(self.user))


class NewPostPage(UploadHandler, PageHandler):
    async def admit(self, *path: str) -> None:
        await posting.board_for_writing(self.store, self.user, *path)

    async def get(self, slug: str) -> None:
        board = await posting.board_for_writing(self.store, self.user, slug)
        await self.render_page("new_post.html", board=board, values={}, errors={}, similar=None)

    async def post(self, slug: str) -> None:
        values = self.draft()
        if self.form("check_similar"):
            await self.show_similar(slug, values)
            return
        try:
            view = await cases.submit(self.store, self.user, slug, values, self.uploads(),
                                      address=self.address)
        except Invalid as error:
            board = await posting.get_board(self.store, self.user, slug)
            await self.render_page("new_post.html", 422, board=board, values=values,
                                   errors=error.fields, similar=None)
            return
        if not view.tracking_code:
            self.redirect_after(f"/posts/{view.post.id}")
            return
        # The code is the only key an anonymous reporter holds: shown once, on the page the
        # redirect leads to (the case for its writer, else the tracking page).
        post = view.post
        self.redirect_after(f"/posts/{post.id}" if self.user else "/track", submitted={
            "code": view.tracking_code, "title": post.title, "board": post.board})

    def draft(self) -> dict[str, Any]:
        """The form's fields as the services take them; a board's own fields only when sent."""
        values: dict[str, Any] = {
            "title": self.form("title"), "body": self.form("body"),
            "category": self.form("category") or None, "anonymous": self.checkbox("anonymous")}
        for name in ("contact", "case_number", "received_on", "department", "letter_type", "area",
                     "real_name"):
            if self.form(name) is not None:
                values[name] = self.form(name) or None
        if self.get_body_argument("public", None) is not None:
            values["public"] = self.checkbox("public")
        return values

    async def show_similar(self, slug: str, values: dict[str, Any]) -> None:
        """The "check similar questions" step without JavaScript: the draft comes back as typed,
        with the answered questions like its title above it."""
        board = await posting.board_for_writing(self.store, self.user, slug)
        errors: dict[str, str] = {}
        entries = []
        try:
            found = await searching.similar_with_faq(self.store, self.user, values["title"],
                                                     board=slug)
            similar, entries = found.items, found.faq
        except Invalid as error:
            similar, errors = None, error.fields
        await self.render_page("new_post.html", 422 if errors else 200, board=board,
                               values=values, errors=errors, similar=similar,
                               similar_faq=entries)


class PostPage(AnonymousPageCache, PageHandler):
    async def get(self, post_id: str) -> None:
        await self.render_post(post_id)

    async def render_post(self, post_id: str, status: int = 200, values: dict | None = None,
                          errors: dict | None = None) -> None:
        thread = await posting.get_thread(self.store, self.user, post_id)
        files = await attachments.list_for(self.store, self.user, post_id)
        choices = await departments.routable(self.store) if thread.post.may_moderate else []
        post = thread.post.post
        offered = await templates.for_reply(self.store, self.user, post)
        values = dict(values or {})
        chosen = templates.chosen(offered, self.get_query_argument("template", None))
        if chosen is not None and not values.get("body"):
            values["body"] = chosen.body  # 答复模板 without JavaScript: the link fills the form
        colleagues = await casework.colleagues(self.store, self.user, thread.post)
        subscription = await following.following(self.store, self.user, f"post:{post.id}")
        await self.render_page("post.html", status, thread=thread, values=values,
                               errors=errors or {}, attachments=files, departments=choices,
                               reply_templates=offered, chosen_template=chosen,
                               may_add_faq=faq.may_add(self.user, post),
                               colleagues=colleagues, subscription=subscription)

    async def post(self, post_id: str) -> None:
        """The reply form."""
        body = self.form("body")
        try:
            reply = await posting.add_reply(self.store, self.user, post_id, body)
        except Invalid as error:
            await self.render_post(post_id, 422, {"body": body}, error.fields)
            return
        self.redirect_after(f"/posts/{post_id}#reply-{reply.reply.id}")


class PostActionPage(PostPage):
    """A form on the post page that changes the post (moderate, route, return, rate, attach);
    on success back to the post, on bad input the post page with the form's errors."""

    async def act(self, post_id: str) -> None:
        raise NotImplementedError

    # What the post page says once after the form (a flash): by default, what was done.
    done_flash: dict[str, Any] = {}
    done: str = ""

    async def post(self, post_id: str) -> None:
        try:
            await self.act(post_id)
        except Invalid as error:
            values: dict[str, Any] = {k: self.get_body_argument(k, "")
                                      for k in self.request.body_arguments}
            values["helpers"] = self.get_body_arguments("helpers")
            await self.render_post(post_id, 422, values, error.fields)
            return
        self.redirect_after(self.done_url(post_id), **(self.done_flash or {"done": self.done}))

    def done_url(self, post_id: str) -> str:
        return f"/posts/{post_id}"


class ModeratePage(PostActionPage):
    async def act(self, post_id: str) -> None:
        await moderation.moderate(self.store, self.user, post_id, self.form("action"),
                                  self.form("reason") or None)
        self.done = self.form("action") or ""   # moderate() has taken it: a word


class RoutePage(PostActionPage):
    done = "route"

    async def act(self, post_id: str) -> None:
        await cases.route_case(self.store, self.user, post_id, self.form("department") or None,
                               self.form("due_days") or None, self.form("note") or None,
                               [slug for slug in self.get_body_arguments("helpers") if slug])


class ReturnPage(PostActionPage):
    done = "return"

    def done_url(self, post_id: str) -> str:
        # Returned, the case is no longer the department's to see: back to its list.
        department = self.user.department if self.user else None
        return f"/departments/{department}" if department else "/"

    async def act(self, post_id: str) -> None:
        await cases.return_case(self.store, self.user, post_id, self.form("reason"))


class RatingPage(PostActionPage):
    done = "rate"

    async def act(self, post_id: str) -> None:
        await cases.rate_case(self.store, self.user, post_id, self.form("score"),
                              self.form("comment") or None)


class FaqAddPage(PostActionPage):
    """加入常见问题: an entry made from this post."""
    done = "faq_added"

    async def act(self, post_id: str) -> None:
        await faq.add_entry(self.store, self.user, {
            "post_id": post_id, "question": self.form("question"), "answer": self.form("answer")})


class FaqDeletePage(PageHandler):
    async def post(self, entry_id: str) -> None:
        entry = await faq.delete_entry(self.store, self.user, entry_id)
        self.redirect_after(f"/boards/{entry.board}#faq", done="faq_deleted")


class AttachPage(UploadHandler, PostActionPage):
    done = "attach"

    async def admit(self, *path: str) -> None:
        await attachments.writable_case(self.store, self.user, *path)

    async def act(self, post_id: str) -> None:
        await attachments.add_files(self.store, self.user, post_id, self.uploads())


class AttachmentPage(PageHandler):
    async def get(self, attachment_id: str) -> None:
        attachment, data = await attachments.download(self.store, self.user, attachment_id)
        self.send_file(attachment, data)


class TrackPage(PageHandler):
    """Following a case by its tracking code: a form, and the case itself."""

    async def get(self, code: str | None = None) -> None:
        if code is None:
            # After a supplement, the case again: its code came in the signed flash, not the URL.
            added = self.take_flash().get("supplemented")
            if isinstance(added, dict) and isinstance(added.get("code"), str):
                await self.show(added["code"])
                return
            await self.render_page("track.html", thread=None, code="", message=None)
            return
        await self.show(code)

    async def post(self, _in_url: str | None = None) -> None:
        # The code comes in the form, never from the URL (a POST to /track/<code> finds none).
        await self.show(self.form("code") or "")

    async def show(self, code: str, status: int = 200, values: dict | None = None,
                   errors: dict | None = None) -> None:
        try:
            thread = await cases.track(self.store, code, self.address)
        except NotFound as error:
            await self.render_page("track.html", 404, thread=None, code=code,
                                   message=error.message)
            return
        self.no_store()  # the case as its writer sees it, contact details included
        await self.render_page("track.html", status, thread=thread, code=code, message=None,
                               values=values or {}, errors=errors or {})


class TrackSupplementPage(UploadHandler, TrackPage):
    """补充材料: the tracking code's holder adds a follow-up and files to the open case. The
    code comes in the form body and goes back in the signed flash, never in a URL. The code is
    asked for before the first file is kept, so it comes before the files in the form."""
    _case: Post | None = None

    async def admit_files(self) -> None:
        self._case = await cases.supplement_case(self.store, self.form("code") or "",
                                                 self.address)

    async def get(self, code: str | None = None) -> None:
        self.redirect("/track", status=303)

    async def post(self, _in_url: str | None = None) -> None:
        code, body = self.form("code") or "", self.form("body")
        try:
            await cases.supplement(self.store, code, self.address, body, self.uploads(),
                                   case=self._case)
        except NotFound as error:
            await self.render_page("track.html", 404, thread=None, code=code,
                                   message=error.message)
            return
        except Invalid as error:
            await self.show(code, 422, {"body": body or ""}, error.fields)
            return
        self.redirect_after("/track", supplemented={"code": code})


class ModerationPage(PageHandler):
    async def get(self) -> None:
        found = await moderation.queue(self.store, self.user)
        await self.render_page("moderation.html", queue=found)


class DepartmentPage(PageHandler):
    """A department's desk for those who work its cases; for everyone else, its public page:
    this year's figures and its latest closed public letters."""

    async def get(self, slug: str) -> None:
        if not cases.may_work_for(self.user, slug):
            public = await stats.department_record(self.settings["stats_cache"], self.store,
                                                   self.user, slug)
            figures = await stats.year_summary(self.settings["stats_cache"], self.store,
                                               departments=(slug,))
            subscription = await following.following(self.store, self.user,
                                                     f"department:{public.slug}")
            await self.render_page("department_public.html", department=public,
                                   figures=figures, subscription=subscription)
            return
        await self.render_desk(slug)

    async def render_desk(self, slug: str, status: int = 200, values: dict | None = None,
                          errors: dict | None = None) -> None:
        found = await cases.department_cases(
            self.store, self.user, slug, status=self.get_query_argument("status", None) or None,
            cursor=self.get_query_argument("cursor", None),
            role=self.get_query_argument("role", None) or None,
            officer=self.get_query_argument("officer", None) or None)
        kept = await templates.list_templates(self.store, self.user, slug)
        await self.render_page("department.html", status, found=found, reply_templates=kept,
                               may_keep_templates=templates.may_keep(self.user, slug),
                               values=values or {}, errors=errors or {})


class DepartmentTemplatesPage(DepartmentPage):
    """The desk's form that keeps a new reply template."""

    async def post(self, slug: str) -> None:
        values = {"title": self.form("title"), "body": self.form("body")}
        try:
            await templates.add_template(self.store, self.user, slug, values["title"],
                                         values["body"])
        except Invalid as error:
            await self.render_desk(slug, 422, values, error.fields)
            return
        self.redirect_after(f"/departments/{slug}#templates", done="template_added")


class DepartmentTemplatePage(PageHandler):
    """Removing a reply template from the desk."""

    async def post(self, slug: str, template_id: str) -> None:
        await templates.delete_template(self.store, self.user, slug, template_id)
        self.redirect_after(f"/departments/{slug}#templates", done="template_deleted")


class StatsPage(PageHandler):
    async def get(self) -> None:
        since = self.get_query_argument("from", None) or None
        until = self.get_query_argument("to", None) or None
        errors: dict[str, str] = {}
        try:
            report = await self.settings["stats_cache"].get(self.store, since, until)
        except Invalid as error:
            errors = error.fields
            report = await self.settings["stats_cache"].get(self.store, None, None)
        names = {d.slug: d.name for d in await departments.list_departments(self.store)}
        await self.render_page("stats.html", 422 if errors else 200, errors=errors,
                               report=report, since=since or "",
                               until=until or "", department_names=names)


class StatsMonthPage(PageHandler):
    """A month's bulletin (统计公报): its figures by board, department, level, area and type."""

    async def get(self, month: str) -> None:
        found = await stats.bulletin(self.settings["stats_cache"], self.store, month)
        names = {d.slug: d.name for d in await departments.list_departments(self.store)}
        await self.render_page("stats_month.html", bulletin=found, report=found.report,
                               department_names=names)


class AuditPage(PageHandler):
    async def get(self) -> None:
        actor = self.get_query_argument("actor", None) or None
        post_id = self.get_query_argument("post_id", None) or None
        lines, next_cursor = await admin.audit_log(
            self.store, self.user, actor=actor, post_id=post_id,
            cursor=self.get_query_argument("cursor", None))
        await self.render_page("audit.html", entries=[line.entry for line in lines],
                               next_cursor=next_cursor, actor=actor or "", post_id=post_id or "",
                               names={line.entry.actor_id: line.actor.username
                                      for line in lines if line.actor is not None})


class SettingsPage(PageHandler):
    """The admin's settings: sensitive words, the holiday calendar, new departments, API keys
    for Open311 clients (a new key is shown on the answer to its form, once)."""

    async def get(self) -> None:
        admin.require_admin(self.user)
        flash = self.take_flash()
        await self.render_settings(200, {}, saved=flash.get("saved"), issued=flash.get("issued"))

    async def render_settings(self, status: int, errors: dict, saved: str | None,
                              values: dict | None = None,
                              issued: dict[str, str] | None = None) -> None:
        keys = await apikeys.list_keys(self.store, self.user)
        issuers = await self.store.get_users([key.created_by for key in keys])
        if issued is not None:
            # The page holds a key that is never shown again: no copy may be kept anywhere.
            self.set_header("Cache-Control", "no-store")
        calendar = await settings.calendar_settings(self.store, self.user)
        current = {
            "words": "\n".join(await settings.sensitive_words(self.store)),
            "holidays": "\n".join(sorted(d.isoformat() for d in calendar.holidays)),
            "workdays": "\n".join(sorted(d.isoformat() for d in calendar.workdays)),
            "slug": "", "name": "", "key_name": ""}
        await self.render_page("settings.html", status, values={**current, **(values or {})},
                               errors=errors, saved=saved, calendar=calendar,
                               departments=await departments.list_departments(self.store),
                               api_keys=keys, issued=issued,
                               issuers={uid: u.username for uid, u in issuers.items()})

    async def post(self) -> None:
        form = self.form("form")
        values = {k: self.get_body_argument(k, "") for k in self.request.body_arguments}
        try:
            issued = await self._save(form)
        except Invalid as error:
            await self.render_settings(422, error.fields, saved=None, values=values)
            return
        # A new key goes to the next page once, as a tracking code does: the store keeps only
        # its hash, and a reload must not issue another.
        self.redirect_after("/admin/settings", saved=form, **(
            {"issued": {"name": issued.api_key.name, "key": issued.key}} if issued else {}))

    async def _save(self, form: str | None) -> apikeys.IssuedKey | None:
        """Save the settings form named `form`; the key it issued, for the API key form.
        Raises Invalid, naming the form's own fields."""
        if form == "words":
            await settings.save_sensitive_words(self.store, self.user, _lines(self.form("words")))
        elif form == "calendar":
            await settings.save_calendar(self.store, self.user, _lines(self.form("holidays")),
                                         _lines(self.form("workdays")))
        elif form == "department":
            try:
                await admin.add_department(self.store, self.user, self.form("slug"),
                                           self.form("name"))
            except Conflict as taken:
                raise Invalid({"slug": taken.message}) from taken
        elif form == "api_key":
            try:
                return await apikeys.issue(self.store, self.user, self.form("key_name"))
            except Invalid as wrong:  # the form's field is key_name ("name" is a department's)
                raise Invalid({"key_name" if name == "name" else name: why
                               for name, why in wrong.fields.items()}) from wrong
        elif form == "revoke_api_key":
            await apikeys.revoke(self.store, self.user, self.form("key_id"))
        else:
            raise Invalid({"form": "未知的表单"})
        return None


def _lines(value: str | None) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class EditPostPage(PageHandler):
    async def get(self, post_id: str) -> None:
        thread = await posting.get_thread_for_editing(self.store, self.user, post_id)
        post = thread.post.post
        await self.render_page("edit_post.html", thread=thread,
                               values={"title": post.title, "body": post.body}, errors={})

    async def post(self, post_id: str) -> None:
        values = {"title": self.form("title"), "body": self.form("body")}
        try:
            await posting.edit_post(self.store, self.user, post_id, values)
        except Invalid as error:
            thread = await posting.get_thread(self.store, self.user, post_id)
            await self.render_page("edit_post.html", 422, thread=thread, values=values,
                                   errors=error.fields)
            return
        self.redirect_after(f"/posts/{post_id}")


class LoginPage(PageHandler):
    async def get(self) -> None:
        await self.render_page("login.html", values={"next": safe_next(self.get_argument("next", None))},
                               errors={}, message=None)

    async def post(self) -> None:
        next_url = safe_next(self.form("next"))
        values = {"username": self.form("username"), "next": next_url}
        try:
            login = await accounts.login(self.store, self.passwords, username=values["username"],
                                         password=self.form("password"), kind="cookie",
                                         address=self.address)
        except Invalid as error:
            await self.render_page("login.html", 422, values=values, errors=error.fields,
                                   message=None)
            return
        except (BadCredentials, RateLimited) as error:
            if isinstance(error, RateLimited):
                self.set_header("Retry-After", str(error.retry_after_seconds))
            await self.render_page("login.html", error.status, values=values, errors={},
                                   message=error.message)
            return
        await self._end_current_session()
        self.start_session(login.token)
        self.redirect_after(next_url)

    async def _end_current_session(self) -> None:
        # A new login replaces whatever session this browser had (session rotation).
        if self._auth_kind == "cookie":
            await accounts.logout(self.store, self._token)


class RegisterPage(PageHandler):
    """Registering keeps where the visitor was going (`next`), and lands there welcomed."""

    async def get(self) -> None:
        await self.render_page("register.html",
                               values={"next": safe_next(self.get_argument("next", None))},
                               errors={})

    async def post(self) -> None:
        values = {name: self.form(name) for name in ("username", "display_name", "email")}
        next_url = values["next"] = safe_next(self.form("next"))
        password = self.form("password")
        try:
            user = await accounts.register(
                self.store, self.passwords, username=values["username"], password=password,
                display_name=values["display_name"] or None, email=values["email"] or None,
                address=self.address)
        except Invalid as error:
            await self.render_page("register.html", 422, values=values, errors=error.fields)
            return
        except Conflict as taken:  # the form again, the message beside the name it is about
            await self.render_page("register.html", 409, values=values,
                                   errors={"username": taken.message})
            return
        login = await accounts.open_session(self.store, user, "cookie")
        self.start_session(login.token)
        self.redirect_after(next_url, welcome=user.display_name)


class PasswordPage(PageHandler):
    async def get(self) -> None:
        if self.user is None:
            self.login_redirect()
            return
        await self.render_page("password.html", errors={},
                               done=bool(self.take_flash().get("password_changed")))

    async def post(self) -> None:
        try:
            login = await accounts.change_password(
                self.store, self.passwords, self.user, current=self.form("current_password"),
                new=self.form("new_password"), kind="cookie")
        except Invalid as error:
            await self.render_page("password.html", 422, errors=error.fields, done=False)
            return
        self.start_session(login.token)
        self.redirect_after("/password", password_changed=True)


class LogoutPage(PageHandler):
    async def get(self) -> None:
        # Logging out changes state, so GET only shows the button; the form POSTs.
        await self.render_page("logout.html")

    async def post(self) -> None:
        if self._auth_kind == "cookie":
            await accounts.logout(self.store, self._token)
        self.end_session_cookie()
        self.redirect_after("/")


class NotificationPage(PageHandler):
    """Opening a notification: it is read now; on to the post it is about."""

    async def get(self, notification_id: str) -> None:
        if self.user is None:
            self.login_redirect()
            return
        await notify.mark_read(self.store, self.user, [notification_id])
        post_id = self.get_query_argument("post", "")
        self.redirect(f"/posts/{post_id}" if is_id(post_id) else "/me#notifications",
                      status=303)


class MePage(PageHandler):
    """Own posts and cases, and notifications (marked read by the form here)."""

    async def get(self) -> None:
        if self.user is None:
            self.login_redirect()
            return
        await self.render_me(200, {}, None)

    async def render_me(self, status: int, errors: dict, email: str | None) -> None:
        user = self.user
        if user is None:
            self.login_redirect()
            return
        page = await posting.list_own_posts(self.store, user,
                                            cursor=self.get_query_argument("cursor", None))
        inbox = await notify.inbox(self.store, self.user,
                                   cursor=self.get_query_argument("notices", None))
        followed = await following.list_following(
            self.store, self.user, cursor=self.get_query_argument("following", None),
            limit=FOLLOWING_ON_ME)
        await self.render_page("me.html", status, page=page, inbox=inbox, followed=followed,
                               errors=errors,
                               email=user.email if email is None else email,
                               email_saved=bool(self.take_flash().get("email_saved")))

    async def post(self) -> None:
        if self.form("form") == "email":
            try:
                await accounts.change_email(self.store, self.passwords, self.user,
                                            self.form("email"), self.form("current_password"))
            except Invalid as error:
                await self.render_me(422, error.fields, self.form("email"))
                return
            self.redirect_after("/me#email", email_saved=True)
            return
        await notify.mark_read(self.store, self.user, None)
        self.redirect_after("/me#notifications")


# How many of the things one follows /me lists at a time.
FOLLOWING_ON_ME = 50


class SubscriptionsPage(PageHandler):
    """The 关注 button (a form posting `target`): follow, then back to the target's page. The
    list of what one follows is on /me."""

    async def get(self) -> None:
        if self.user is None:
            self.login_redirect()
            return
        self.redirect("/me#following", status=303)

    async def post(self) -> None:
        if self.user is None:
            self.redirect("/login?" + urlencode({"next": safe_next(self.form("next"))}),
                          status=303)
            return
        view = await following.follow(self.store, self.user, self.form("target"))
        self.redirect_after(view.path or "/me#following", followed=True)


class UnfollowPage(PageHandler):
    """已关注（取消关注）: stop following, then back to where the button was (`next`)."""

    async def post(self, subscription_id: str) -> None:
        back = safe_next(self.form("next"))
        if self.user is None:
            self.redirect("/login?" + urlencode({"next": back}), status=303)
            return
        await following.unfollow(self.store, self.user, subscription_id)
        self.redirect_after(back, unfollowed=True)


class SearchPage(AnonymousPageCache, PageHandler):
    page_shelf = "searches"  # popular words repeat in a burst; the long tail stays on its shelf

    async def get(self) -> None:
        query = self.get_query_argument("q", "")
        board = self.get_query_argument("board", None) or None
        sort = self.get_query_argument("sort", "") or ""
        since = self.get_query_argument("from", "")
        until = self.get_query_argument("to", "")
        results = None
        errors: dict[str, str] = {}
        if query.strip():
            try:
                results = await searching.search_posts(
                    self.store, self.user, query, board=board,
                    cursor=self.get_query_argument("cursor", None), address=self.address,
                    sort=sort or None, since=since, until=until)
            except Invalid as error:
                errors = error.fields
        await self.render_page("search.html", 422 if errors else 200, query=query, board=board,
                               sort=sort, since=since, until=until, results=results,
                               errors=errors)


class SimilarPage(PageHandler):
    """The "check similar questions" step of asking, for browsers without JavaScript."""

    async def get(self) -> None:
        title = self.get_query_argument("title", "")
        board = self.get_query_argument("board", None) or None
        try:
            found = await searching.similar_with_faq(self.store, self.user, title, board=board)
        except Invalid as error:
            await self.render_page("similar.html", 422, title=title, board=board, found=[],
                                   faq_entries=[], errors=error.fields)
            return
        await self.render_page("similar.html", title=title, board=board, found=found.items,
                               faq_entries=found.faq, errors={})


class ConfirmEmailPage(PageHandler):
    """The link from the confirmation mail. Opening it shows a button; confirming is a POST,
    so that a mail scanner following links changes nothing."""

    async def get(self, token: str) -> None:
        await self.render_page("confirm_email.html", token=token, message=None,
                               done=bool(self.take_flash().get("email_confirmed")))

    async def post(self, token: str) -> None:
        try:
            await notify.confirm_email(self.store, token)
        except Invalid as error:
            await self.render_page("confirm_email.html", 422, token=token, done=False,
                                   message=error.fields.get("token"))
            return
        self.redirect_after(self.request.path, email_confirmed=True)


class NotFoundPage(PageHandler):
    async def prepare(self) -> None:
        await super().prepare()
        raise tornado.web.HTTPError(404)


class AcceptPage(PageHandler):
    """The accept button on an answer (a form posting reply_id)."""

    async def post(self, post_id: str) -> None:
        await consulting.accept_answer(self.store, self.user, post_id, self.form("reply_id"))
        self.redirect_after(f"/posts/{post_id}#answers")


class FlagPage(PostActionPage):
    done_flash = {"flagged": True}

    async def act(self, post_id: str) -> None:
        await flags.flag_post(self.store, self.user, post_id, self.form("reason"))


class WorkspacePage(PageHandler):
    async def get(self) -> None:
        space = await consulting.workspace(
            self.store, self.user, board=self.get_query_argument("board", None),
            category=self.get_query_argument("category", None) or None,
            everything=self.get_query_argument("all", None) == "1",
            cursor=self.get_query_argument("cursor", None))
        await self.render_page("workspace.html", space=space)


class ProfilePage(PageHandler):
    async def get(self, username: str) -> None:
        profile = await consulting.profile(self.store, self.user, username)
        await self.render_page("profile.html", profile=profile)


class AdminPage(PageHandler):
    async def get(self) -> None:
        query = self.get_query_argument("q", "")
        users, next_cursor = await admin.find_users(self.store, self.user, query,
                                                    after=self.get_query_argument("cursor", None))
        await self.render_page("admin.html", users=users, query=query, next_cursor=next_cursor,
                               departments=await departments.list_departments(self.store))


class AdminUserPage(PageHandler):
    async def get(self, username: str) -> None:
        admin.require_admin(self.user)
        user = await accounts.get_profile(self.store, username)
        await self.render_page("admin_user.html", target=user, errors={},
                               saved=bool(self.take_flash().get("saved")),
                               **await self._choices())

    async def post(self, username: str) -> None:
        roles = self.get_body_arguments("roles")
        specialties = self.get_body_arguments("specialties")
        department, disabled = self.form("department") or None, self.checkbox("disabled")
        data = {"roles": roles, "department": department, "specialties": specialties,
                "disabled": disabled}
        try:
            user = await admin.update_user(self.store, self.user, username, data)
        except Invalid as error:
            user = await accounts.get_profile(self.store, username)
            # Show the form as submitted, so the admin's choices are not lost.
            shown = dataclasses.replace(
                user, roles=[r for r in Role if r.value in roles], department=department,
                specialties=list(specialties), disabled=disabled)
            await self.render_page("admin_user.html", 422, target=shown, errors=error.fields,
                                   saved=False, **await self._choices())
            return
        self.redirect_after(f"/admin/users/{user.username}", saved=True)

    async def _choices(self) -> dict:
        return {"departments": await departments.list_departments(self.store),
                "specialties": admin.known_specialties(), "roles": list(Role)}


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
            self.set_cookie(name, value, expires_days=i18n.PREFERENCE_COOKIE_DAYS, path="/",
                            samesite="Lax", secure=self.config.behind_https)
        self.set_header("Cache-Control", "no-store")
        self.redirect(safe_next(self.get_body_argument("next", None, strip=False)), status=303)


class ForgotPasswordPage(PageHandler):
    """Asking for a reset link by e-mail: the same answer whether or not the account exists."""

    async def get(self) -> None:
        await self.render_page("forgot_password.html", values={}, errors={}, message=None,
                               sent=bool(self.take_flash().get("reset_sent")))

    async def post(self) -> None:
        values = {"username": self.form("username")}
        try:
            await recovery.request_reset(self.store, username=values["username"],
                                         address=self.address)
        except Invalid as error:
            await self.render_page("forgot_password.html", 422, values=values,
                                   errors=error.fields, sent=False, message=None)
            return
        except RateLimited as error:
            self.set_header("Retry-After", str(error.retry_after_seconds))
            await self.render_page("forgot_password.html", 429, values=values, errors={},
                                   sent=False, message=error.message)
            return
        self.redirect_after("/forgot-password", reset_sent=True)


class ResetPasswordPage(PageHandler):
    """The link from the reset mail: choosing a new password, once."""

    async def prepare(self) -> None:
        await super().prepare()
        self.no_store()  # the token is in the address

    async def get(self, token: str) -> None:
        await self.render_page("reset_password.html", token=token, errors={}, message=None,
                               done=bool(self.take_flash().get("password_reset")))

    async def post(self, token: str) -> None:
        try:
            await recovery.reset_password(self.store, self.passwords, token=token,
                                          new_password=self.form("new_password"),
                                          address=self.address)
        except Invalid as error:
            await self.render_page("reset_password.html", 422, token=token, errors=error.fields,
                                   done=False, message=None)
            return
        except RateLimited as error:
            self.set_header("Retry-After", str(error.retry_after_seconds))
            await self.render_page("reset_password.html", 429, token=token, errors={},
                                   done=False, message=error.message)
            return
        self.redirect_after(self.request.path, password_reset=True)
