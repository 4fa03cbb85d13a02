"""The JSON API's administration: accounts, departments, boards, the sensitive words, the
working calendar, API keys and the audit log. Each handler parses, calls one service, and
answers; every one of them is for administrators only (the services refuse anyone else)."""

from __future__ import annotations


from forum.services import admin, apikeys, posting, settings
from forum.web import i18n, views
from forum.web.base import ApiHandler
from forum.web.idempotent import idempotent


class AdminUsersHandler(ApiHandler):
    async def get(self) -> None:
        users, next_cursor = await admin.find_users(
            self.store,
            self.user,
            self.query("q"),
            after=self.query("cursor"),
            limit=self.query("limit"),
        )
        self.respond(
            200,
            {
                "items": [views.user_json(u, private=True) for u in users],
                "next_cursor": next_cursor,
            },
        )


class AdminUserHandler(ApiHandler):
    async def put(self, username: str) -> None:
        data = self.json_body()
        user = await admin.update_user(self.store, self.user, username, data)
        self.respond(200, {"user": views.user_json(user, private=True)})


class AuditHandler(ApiHandler):
    async def get(self) -> None:
        lines, next_cursor = await admin.audit_log(
            self.store,
            self.user,
            actor=self.query("actor"),
            post_id=self.query("post_id"),
            cursor=self.query("cursor"),
            limit=self.query("limit"),
        )
        self.respond(
            200, {"items": [views.audit_json(line) for line in lines], "next_cursor": next_cursor}
        )


class AdminDepartmentsHandler(ApiHandler):
    @idempotent
    async def post(self) -> None:
        data = self.json_body()
        department = await admin.add_department(
            self.store, self.user, data.get("slug"), data.get("name")
        )
        self.respond(201, {"department": views.department_json(department)})


class SensitiveWordsHandler(ApiHandler):
    async def get(self) -> None:
        admin.require_admin(self.user)
        self.respond(200, {"words": await settings.sensitive_words(self.store)})

    async def put(self) -> None:
        data = self.json_body()
        words = await settings.save_sensitive_words(self.store, self.user, data.get("words"))
        self.respond(200, {"words": words})


class CalendarHandler(ApiHandler):
    """The admins' holidays and working days on top of `chinesecalendar`, the years it covers,
    and a warning while next year is not among them."""

    async def get(self) -> None:
        kept = await settings.calendar_settings(self.store, self.user)
        self.respond(
            200, views.calendar_json(kept, i18n.translate_message(self.locale, kept.warning))
        )

    async def put(self) -> None:
        data = self.json_body()
        kept = await settings.save_calendar(
            self.store, self.user, data.get("holidays"), data.get("workdays")
        )
        self.respond(
            200, views.calendar_json(kept, i18n.translate_message(self.locale, kept.warning))
        )


class AdminBoardHandler(ApiHandler):
    async def put(self, slug: str) -> None:
        data = self.json_body()
        await admin.update_board(self.store, self.user, slug, data)
        board = await posting.get_board(self.store, self.user, slug)
        self.respond(200, {"board": views.board_json(board)})


class ApiKeysHandler(ApiHandler):
    """Admins issue keys for Open311 clients; the key itself is in this answer only."""

    async def get(self) -> None:
        keys = await apikeys.list_keys(self.store, self.user)
        self.respond(200, {"items": [views.api_key_json(k) for k in keys]})

    @idempotent
    async def post(self) -> None:
        data = self.json_body()
        issued = await apikeys.issue(self.store, self.user, data.get("name"))
        self.respond(201, {"key": issued.key, "api_key": views.api_key_json(issued.api_key)})


class ApiKeyHandler(ApiHandler):
    async def delete(self, key_id: str) -> None:
        revoked = await apikeys.revoke(self.store, self.user, key_id, self.query("reason"))
        self.respond(200, {"api_key": views.api_key_json(revoked)})
