"""The JSON API of API.md. Each handler parses, calls one service, and answers."""
from __future__ import annotations

from forum.errors import NotLoggedIn
from forum.model import iso
from forum.services import accounts, admin, consulting, departments, flags, posting
from forum.web import views
from forum.web.base import ApiHandler


def _login_required(handler: ApiHandler) -> None:
    if handler.user is None:
        raise NotLoggedIn()


class RegisterHandler(ApiHandler):
    async def post(self) -> None:
        data = self.json_body()
        user = await accounts.register(
            self.store, self.passwords, username=data.get("username"),
            password=data.get("password"), display_name=data.get("display_name"),
            email=data.get("email"), address=self.address)
        self.respond(201, {"user": views.user_json(user, private=True)})


class LoginHandler(ApiHandler):
    async def post(self) -> None:
        data = self.json_body()
        login = await accounts.login(self.store, self.passwords, username=data.get("username"),
                                     password=data.get("password"), kind="bearer",
                                     address=self.address)
        self.respond(200, {"token": login.token, "user": views.user_json(login.user, private=True),
                           "expires_at": iso(login.expires_at)})


class LogoutHandler(ApiHandler):
    async def post(self) -> None:
        _login_required(self)
        await accounts.logout(self.store, self._token)
        if self._auth_kind == "cookie":
            self.clear_cookie("session")
        self.respond(204)


class MeHandler(ApiHandler):
    async def get(self) -> None:
        _login_required(self)
        self.respond(200, {"user": views.user_json(self.user, private=True)})


class BoardsHandler(ApiHandler):
    async def get(self) -> None:
        items = await posting.list_boards(self.store, self.user)
        self.respond(200, {"items": [views.board_json(b) for b in items]})


class BoardPostsHandler(ApiHandler):
    async def get(self, slug: str) -> None:
        page = await posting.list_posts(
            self.store, self.user, slug, status=self.query("status"),
            category=self.query("category"), cursor=self.query("cursor"),
            limit=self.query("limit"))
        self.respond(200, views.page_json(page))

    async def post(self, slug: str) -> None:
        data = self.json_body()
        view = await posting.create_post(self.store, self.user, slug, data)
        self.respond(201, {"post": views.post_json(view)})


class PostHandler(ApiHandler):
    async def get(self, post_id: str) -> None:
        thread = await posting.get_thread(self.store, self.user, post_id)
        self.respond(200, views.thread_json(thread))

    async def patch(self, post_id: str) -> None:
        data = self.json_body()
        view = await posting.edit_post(self.store, self.user, post_id, data)
        self.respond(200, {"post": views.post_json(view)})


class RepliesHandler(ApiHandler):
    async def get(self, post_id: str) -> None:
        thread = await posting.get_thread(self.store, self.user, post_id)
        self.respond(200, {"items": [views.reply_json(r) for r in thread.replies],
                           "next_cursor": None})

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
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        flag = await flags.flag_post(self.store, self.user, post_id, data.get("reason"))
        self.respond(201, {"flag": views.flag_json(flag)})


class WorkspaceHandler(ApiHandler):
    async def get(self) -> None:
        space = await consulting.workspace(
            self.store, self.user, board=self.query("board"), category=self.query("category"),
            everything=self.query("all") in ("1", "true"), cursor=self.query("cursor"),
            limit=self.query("limit"))
        self.respond(200, views.workspace_json(space))


class UserProfileHandler(ApiHandler):
    async def get(self, username: str) -> None:
        profile = await consulting.profile(self.store, self.user, username)
        self.respond(200, views.profile_json(profile))


class AdminUsersHandler(ApiHandler):
    async def get(self) -> None:
        users, next_cursor = await admin.find_users(self.store, self.user, self.query("q"),
                                                    after=self.query("cursor"),
                                                    limit=self.query("limit"))
        self.respond(200, {"items": [views.user_json(u, private=True) for u in users],
                           "next_cursor": next_cursor})


class AdminUserHandler(ApiHandler):
    async def put(self, username: str) -> None:
        data = self.json_body()
        user = await admin.update_user(self.store, self.user, username, data)
        self.respond(200, {"user": views.user_json(user, private=True)})
