"""The forms of the second release's casework on a case's page: each posts to the path of its
API twin with the same field names, and answers like the post page's other forms (back to the
case with a flash, or the case again with the form's errors)."""

from __future__ import annotations

from forum.services import casework
from forum.web.post_pages import PostActionPage


class NotePage(PostActionPage):
    done = "note"

    async def act(self, post_id: str) -> None:
        await casework.add_note(self.store, self.user, post_id, self.form("body"))


class AssignPage(PostActionPage):
    done = "assign"

    async def act(self, post_id: str) -> None:
        await casework.assign(self.store, self.user, post_id, self.form("username") or None)


class ExtensionPage(PostActionPage):
    done = "extension_request"

    async def act(self, post_id: str) -> None:
        await casework.request_extension(
            self.store, self.user, post_id, self.form("days") or None, self.form("reason") or None
        )


class ExtensionDecisionPage(PostActionPage):
    done = "extension_decide"

    async def act(self, post_id: str) -> None:
        approve = {"1": True, "0": False}.get(self.form("approve") or "", self.form("approve"))
        await casework.decide_extension(
            self.store, self.user, post_id, approve, self.form("reason") or None
        )


class UrgePage(PostActionPage):
    done = "urge"

    async def act(self, post_id: str) -> None:
        await casework.urge(self.store, self.user, post_id, self.form("note") or None)


class SupervisePage(PostActionPage):
    done = "supervise"

    async def act(self, post_id: str) -> None:
        await casework.supervise(self.store, self.user, post_id, self.form("reason") or None)


class CallbackPage(PostActionPage):
    done = "callback"

    async def act(self, post_id: str) -> None:
        reached = {"1": True, "0": False}.get(self.form("reached") or "", self.form("reached"))
        await casework.callback(
            self.store,
            self.user,
            post_id,
            reached,
            self.form("score") or None,
            self.form("note") or None,
        )


class MergePage(PostActionPage):
    done = "merge"

    async def act(self, post_id: str) -> None:
        await casework.merge(
            self.store,
            self.user,
            post_id,
            (self.form("into") or "").strip() or None,
            self.form("reason") or None,
        )


def routes(post_id: str) -> list[tuple[str, type]]:
    """The page routes, with `post_id` the pattern of a post's id."""
    return [
        (rf"/posts/{post_id}/notes", NotePage),
        (rf"/posts/{post_id}/assign", AssignPage),
        (rf"/posts/{post_id}/extension", ExtensionPage),
        (rf"/posts/{post_id}/extension/decision", ExtensionDecisionPage),
        (rf"/posts/{post_id}/urge", UrgePage),
        (rf"/posts/{post_id}/supervise", SupervisePage),
        (rf"/posts/{post_id}/callback", CallbackPage),
        (rf"/posts/{post_id}/merge", MergePage),
    ]
