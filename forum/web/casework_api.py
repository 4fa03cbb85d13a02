"""The JSON API of the second release's casework (API.md "Casework, second release"): notes,
the officer, extensions, urging, supervision, callbacks, the rating history, merging. Each
handler parses, calls one service, and answers."""

from __future__ import annotations

import dataclasses

from forum.services import casework
from forum.web import views
from forum.web.base import ApiHandler
from forum.web.idempotent import idempotent


class NotesHandler(ApiHandler):
    @idempotent
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        reply = await casework.add_note(self.store, self.user, post_id, data.get("body"))
        self.respond(201, {"reply": views.reply_json(reply)})


class AssignHandler(ApiHandler):
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await casework.assign(self.store, self.user, post_id, data.get("username"))
        self.respond(200, {"post": views.post_json(view)})


class ExtensionHandler(ApiHandler):
    @idempotent
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await casework.request_extension(
            self.store, self.user, post_id, data.get("days"), data.get("reason")
        )
        self.respond(
            201, {"extension": views.extension_json(view.post), "post": views.post_json(view)}
        )


class ExtensionDecisionHandler(ApiHandler):
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await casework.decide_extension(
            self.store, self.user, post_id, data.get("approve"), data.get("reason")
        )
        self.respond(200, {"post": views.post_json(view)})


class UrgeHandler(ApiHandler):
    @idempotent
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await casework.urge(self.store, self.user, post_id, data.get("note"))
        self.respond(201, {"post": views.post_json(view)})


class SuperviseHandler(ApiHandler):
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await casework.supervise(self.store, self.user, post_id, data.get("reason"))
        self.respond(200, {"post": views.post_json(view)})


class CallbackHandler(ApiHandler):
    @idempotent
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await casework.callback(
            self.store, self.user, post_id, data.get("reached"), data.get("score"), data.get("note")
        )
        self.respond(201, {"post": views.post_json(view)})


class RatingsHandler(ApiHandler):
    async def get(self, post_id: str) -> None:
        history = await casework.ratings(self.store, self.user, post_id)
        self.respond(200, {"items": [dataclasses.asdict(entry) for entry in history]})


class MergeHandler(ApiHandler):
    async def post(self, post_id: str) -> None:
        data = self.json_body()
        view = await casework.merge(
            self.store, self.user, post_id, data.get("into"), data.get("reason")
        )
        self.respond(200, {"post": views.post_json(view)})


def routes(post_id: str) -> list[tuple[str, type]]:
    """The routes, under /api/v1, with `post_id` the pattern of a post's id."""
    return [
        (rf"/api/v1/posts/{post_id}/notes", NotesHandler),
        (rf"/api/v1/posts/{post_id}/assign", AssignHandler),
        (rf"/api/v1/posts/{post_id}/extension", ExtensionHandler),
        (rf"/api/v1/posts/{post_id}/extension/decision", ExtensionDecisionHandler),
        (rf"/api/v1/posts/{post_id}/urge", UrgeHandler),
        (rf"/api/v1/posts/{post_id}/supervise", SuperviseHandler),
        (rf"/api/v1/posts/{post_id}/callback", CallbackHandler),
        (rf"/api/v1/posts/{post_id}/ratings", RatingsHandler),
        (rf"/api/v1/posts/{post_id}/merge", MergeHandler),
    ]
