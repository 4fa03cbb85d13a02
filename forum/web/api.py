"""The JSON API of API.md. Each handler parses, calls one service, and answers."""

from __future__ import annotations

from typing import Any

from forum.model import iso
from forum.services import (
    accounts,
    attachments,
    cases,
    consulting,
    departments,
    desks,
    faq,
    flags,
    following,
    moderation,
    notify,
    posting,
    recovery,
    searching,
    stats_reports,
    templates,
    tracking,
)
from forum.web import views
from forum.web.base import ApiHandler, login_required
from forum.web.idempotent import idempotent
from forum.web.pagecache import AnonymousPageCache
from forum.web.uploads import UploadHandler


class RegisterHandler(ApiHandler):
    @idempotent
    async def post(self) -> None:
        data = self.json_body()
        user = await accounts.register(
            self.store,
            self.passwords,
            username=data.get("username"),
            password=data.get("password"),
            display_name=data.get("display_name"),
            email=data.get("email"),
            address=self.address,
        )
        self.no_store()  # the new account's e-mail address
        self.respond(201, {"user": views.user_json(user, private=True)})


class LoginHandler(ApiHandler):
    async def post(self) -> None:
        data = self.json_body()
        login = await accounts.login(
            self.store,
            self.passwords,
            username=data.get("username"),
            password=data.get("password"),
            kind="bearer",
            address=self.address,
        )
        self.no_store()  # a bearer token
        self.respond(
            200,
            {
                "token": login.token,
                "user": views.user_json(login.user, private=True),
                "expires_at": iso(login.expires_at),
            },
        )


class LogoutHandler(ApiHandler):
    async def post(self) -> None:
        login_required(self)
        await accounts.logout(self.store, self._token)
        if self._auth_kind == "cookie":
            self.end_session_cookie()
        self.respond(204)


class PasswordHandler(ApiHandler):
    async def post(self) -> None:
        data = self.json_body()
        login = await accounts.change_password(
            self.store,
            self.passwords,
            self.user,
            current=data.get("current_password"),
            new=data.get("new_password"),
            kind=self._auth_kind or "bearer",
        )
        answer = {
            "user": views.user_json(login.user, private=True),
            "expires_at": iso(login.expires_at),
        }
        if self._auth_kind == "cookie":
            # The new session goes into the HttpOnly cookie only: a token in the body would be
            # readable by any script on the page (ASVS V3.3.4).
            self.start_session(login.token)
        else:
            answer["token"] = login.token
        self.respond(200, answer)


class MeHandler(ApiHandler):
    async def get(self) -> None:
        user = login_required(self)
        self.respond(200, {"user": views.user_json(user, private=True)})

    async def patch(self) -> None:
        data = self.json_body()
        user = await accounts.change_email(
            self.store, self.passwords, self.user, data.get("email"), data.get("current_password")
        )
        self.respond(200, {"user": views.user_json(user, private=True)})


class BoardsHandler(ApiHandler):
    async def get(self) -> None:
        items = await posting.list_boards(self.store, self.user)
        self.respond(200, {"items": [views.board_json(b) for b in items]})


class BoardPostsHandler(AnonymousPageCache, ApiHandler):
    async def get(self, slug: str) -> None:
        page = await posting.list_posts(
            self.store,
            self.user,
            slug,
            status=self.query("status"),
            category=self.query("category"),
            cursor=self.query("cursor"),
            limit=self.query("limit"),
            before=self.query("before"),
        )
        self.respond(200, views.page_json(page))

    @idempotent
    async def post(self, slug: str) -> None:
        data = self.json_body()
        view = await posting.create_post(self.store, self.user, slug, data, address=self.address)
        payload: dict[str, Any] = {"post": views.post_json(view)}
        if view.tracking_code:
            payload["tracking_code"] = view.tracking_code
        self.respond(201, payload)


class PostHandler(ApiHandler):
    async def get(self, post_id: str) -> None:
        thread = await posting.get_thread(self.store, self.user, post_id)
        files = await attachments.list_for(self.store, self.user, post_id)
        self.respond(200, views.thread_json(thread, files))

    async def patch(self, post_id: str) -> None:
        data = self.json_body()
        view = await posting.edit_post(self.store, self.user, post_id, data)
        self.respond(200, {"post": views.post_json(view)})


class RepliesHandler(ApiHandler):
    async def get(self, post_id: str) -> None:
        thread = await posting.get_thread(self.store, self.user, post_id)
        self.respond(
            200, {"items": [views.reply_json(r) for r in thread.replies], "next_cursor": None}
        )

    @idempotent
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        reply = await posting.add_reply(self.store, self.user, post_id, data.get("body"))
        self.respond(201, {"reply": views.reply_json(reply)})


class PreviewHandler(ApiHandler):
    """Markdown preview for the writing form; renders exactly as a saved post would."""

    async def post(self) -> None:
        data = self.json_body()
        html = await posting.preview(data.get("body"))
        self.respond(200, {"html": html})


class DepartmentsHandler(ApiHandler):
    async def get(self) -> None:
        items = await departments.list_departments(self.store)
        self.respond(200, {"items": [views.department_json(d) for d in items]})


class AcceptHandler(ApiHandler):
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await consulting.accept_answer(self.store, self.user, post_id, data.get("reply_id"))
        self.respond(200, {"post": views.post_json(view)})


class FlagHandler(ApiHandler):
    @idempotent
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        flag = await flags.flag_post(self.store, self.user, post_id, data.get("reason"))
        self.respond(201, {"flag": views.flag_json(flag)})


class WorkspaceHandler(ApiHandler):
    async def get(self) -> None:
        space = await consulting.workspace(
            self.store,
            self.user,
            board=self.query("board"),
            category=self.query("category"),
            everything=self.query("all") in ("1", "true"),
            cursor=self.query("cursor"),
            limit=self.query("limit"),
        )
        self.respond(200, views.workspace_json(space))


class UserProfileHandler(ApiHandler):
    async def get(self, username: str) -> None:
        profile = await consulting.profile(self.store, self.user, username)
        self.respond(200, views.profile_json(profile))


class TrackHandler(ApiHandler):
    async def get(self, code: str) -> None:
        thread = await tracking.track(self.store, code, self.address)
        self.no_store()  # a case as its writer sees it, contact details included
        self.respond(200, views.thread_json(thread))


class QueueHandler(ApiHandler):
    async def get(self) -> None:
        found = await moderation.queue(self.store, self.user)
        self.respond(200, views.queue_json(found))


class ModerateHandler(ApiHandler):
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await moderation.moderate(
            self.store, self.user, post_id, data.get("action"), data.get("reason")
        )
        self.respond(200, {"post": views.post_json(view)})


class RouteHandler(ApiHandler):
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await cases.route_case(
            self.store,
            self.user,
            post_id,
            data.get("department"),
            data.get("due_days"),
            data.get("note"),
            data.get("helpers"),
        )
        self.respond(200, {"post": views.post_json(view)})


class ReturnHandler(ApiHandler):
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await cases.return_case(self.store, self.user, post_id, data.get("reason"))
        self.respond(200, {"post": views.post_json(view)})


class RatingHandler(ApiHandler):
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await cases.rate_case(
            self.store, self.user, post_id, data.get("score"), data.get("comment")
        )
        self.respond(200, {"post": views.post_json(view)})


class DepartmentCasesHandler(ApiHandler):
    async def get(self, slug: str) -> None:
        found = await desks.department_cases(
            self.store,
            self.user,
            slug,
            status=self.query("status"),
            cursor=self.query("cursor"),
            limit=self.query("limit"),
            role=self.query("role"),
            officer=self.query("officer"),
        )
        self.respond(200, views.department_cases_json(found))


class TemplatesHandler(ApiHandler):
    """A department's reply templates (答复模板)."""

    async def get(self, slug: str) -> None:
        found = await templates.list_templates(self.store, self.user, slug)
        self.respond(200, {"items": [views.template_json(t) for t in found], "next_cursor": None})

    @idempotent
    async def post(self, slug: str) -> None:
        data = self.json_body()
        template = await templates.add_template(
            self.store, self.user, slug, data.get("title"), data.get("body")
        )
        self.respond(201, {"template": views.template_json(template)})


class TemplateHandler(ApiHandler):
    async def delete(self, slug: str, template_id: str) -> None:
        await templates.delete_template(self.store, self.user, slug, template_id)
        self.respond(204)


class FaqHandler(ApiHandler):
    """The knowledge base (常见问题)."""

    async def get(self) -> None:
        page = await faq.list_entries(
            self.store,
            self.query("board") or None,
            cursor=self.query("cursor"),
            limit=self.query("limit"),
        )
        self.respond(
            200, {"items": [views.faq_json(e) for e in page.items], "next_cursor": page.next_cursor}
        )

    @idempotent
    async def post(self) -> None:
        entry = await faq.add_entry(self.store, self.user, self.json_body())
        self.respond(201, {"faq": views.faq_json(entry)})


class FaqEntryHandler(ApiHandler):
    async def delete(self, entry_id: str) -> None:
        await faq.delete_entry(self.store, self.user, entry_id)
        self.respond(204)


class StatsHandler(ApiHandler):
    async def get(self) -> None:
        found = await self.settings["stats_cache"].get(
            self.store, self.query("from"), self.query("to")
        )
        self.respond(200, views.stats_json(found))


class StatsCsvHandler(ApiHandler):
    """The figures as a table for spreadsheets, one row per group."""

    async def get(self) -> None:
        table = await stats_reports.csv_table(
            self.settings["stats_cache"],
            self.store,
            self.query("by"),
            self.query("from"),
            self.query("to"),
        )
        self.set_header(
            "Content-Disposition", f'attachment; filename="stats-{self.query("by")}.csv"'
        )
        self.send_answer(200, "text/csv; charset=utf-8", table.encode("utf-8"))


class DepartmentRecordHandler(ApiHandler):
    async def get(self, slug: str) -> None:
        record = await stats_reports.department_record(
            self.settings["stats_cache"], self.store, self.user, slug
        )
        self.respond(200, views.record_json(record))


class AttachmentsHandler(UploadHandler, ApiHandler):
    """Files for a case, as multipart/form-data fields named `files`, read as they arrive."""

    async def admit(self, *path: str) -> None:
        await attachments.writable_case(self.store, self.user, *path)

    @idempotent
    async def post(self, post_id: str) -> None:
        files = self.uploads()
        saved = await attachments.add_files(self.store, self.user, post_id, files)
        self.respond(201, {"items": [views.attachment_json(a) for a in saved]})


class AttachmentHandler(ApiHandler):
    async def get(self, attachment_id: str) -> None:
        attachment, data = await attachments.download(self.store, self.user, attachment_id)
        self.send_file(attachment, data)


class SearchHandler(AnonymousPageCache, ApiHandler):
    page_shelf = "searches"

    async def get(self) -> None:
        found = await searching.search_posts(
            self.store,
            self.user,
            self.query("q"),
            board=self.query("board") or None,
            cursor=self.query("cursor"),
            limit=self.query("limit"),
            address=self.address,
            sort=self.query("sort"),
            since=self.query("from"),
            until=self.query("to"),
        )
        self.respond(200, views.results_json(found))


class SimilarHandler(ApiHandler):
    async def get(self) -> None:
        found = await searching.similar_with_faq(
            self.store, self.user, self.query("title"), board=self.query("board") or None
        )
        self.respond(
            200,
            {
                "items": [views.post_json(v) for v in found.items],
                "faq": [views.faq_json(e) for e in found.faq],
            },
        )


class NotificationsHandler(ApiHandler):
    async def get(self) -> None:
        inbox = await notify.inbox(
            self.store, self.user, cursor=self.query("cursor"), limit=self.query("limit")
        )
        self.respond(200, views.inbox_json(inbox))


class NotificationsReadHandler(ApiHandler):
    async def post(self) -> None:
        data = self.json_body()
        changed = await notify.mark_read(self.store, self.user, data.get("ids"))
        self.respond(
            200, {"marked": changed, "unread": await notify.unread_count(self.store, self.user)}
        )


class SubscriptionsHandler(ApiHandler):
    """What the caller follows (关注); following a target again answers the subscription
    there is (200, not 201)."""

    async def get(self) -> None:
        page = await following.list_following(
            self.store, self.user, cursor=self.query("cursor"), limit=self.query("limit")
        )
        self.respond(
            200,
            {
                "items": [views.subscription_json(v) for v in page.items],
                "next_cursor": page.next_cursor,
            },
        )

    @idempotent
    async def post(self) -> None:
        login_required(self)
        data = self.json_body()
        view = await following.follow(self.store, self.user, data.get("target"))
        self.respond(201 if view.created else 200, {"subscription": views.subscription_json(view)})


class SubscriptionHandler(ApiHandler):
    async def delete(self, subscription_id: str) -> None:
        await following.unfollow(self.store, self.user, subscription_id)
        self.respond(204)


class PasswordResetHandler(ApiHandler):
    """Ask for a reset link by e-mail; the same answer whether or not the account exists."""

    async def post(self) -> None:
        data = self.json_body()
        await recovery.request_reset(
            self.store, username=data.get("username"), address=self.address
        )
        self.respond(202, {"message": recovery.SENT_MESSAGE})


class PasswordResetConfirmHandler(ApiHandler):
    async def post(self) -> None:
        data = self.json_body()
        await recovery.reset_password(
            self.store,
            self.passwords,
            token=data.get("token"),
            new_password=data.get("new_password"),
            address=self.address,
        )
        self.no_store()
        self.respond(204)
