"""The boards and their posts: the home page, a board, writing and editing a post, the post with
its replies and the forms on it that every board has (accept an answer, flag, moderate, attach,
加入常见问题); the experts' workspace and an answerer's profile."""

from __future__ import annotations

from typing import Any

from forum.errors import Invalid
from forum.services import (
    attachments,
    cases,
    casework,
    consulting,
    departments,
    faq,
    flags,
    following,
    moderation,
    posting,
    searching,
    stats,
    stats_reports,
    templates,
)
from forum.web.pagecache import AnonymousPageCache
from forum.web.pages import PageHandler
from forum.web.uploads import UploadHandler


class HomePage(AnonymousPageCache, PageHandler):
    async def get(self) -> None:
        sections = await posting.latest_by_board(self.store, self.user)
        figures = await stats_reports.year_summary(
            self.settings["stats_cache"], self.store, cases.CASE_BOARDS
        )
        await self.render_page("home.html", sections=sections, figures=figures)


class BoardPage(AnonymousPageCache, PageHandler):
    kept_for_readers = True

    async def get(self, slug: str) -> None:
        category = self.get_query_argument("category", None) or None
        page = await posting.list_posts(
            self.store,
            self.user,
            slug,
            category=category,
            cursor=self.get_query_argument("cursor", None),
            before=self.get_query_argument("before", None),
        )
        board = await posting.get_board(self.store, self.user, slug)
        figures, names = await self._case_figures(board.slug)
        subscription = await following.following(self.store, self.user, f"board:{board.slug}")
        await self.render_page(
            "board.html",
            board=board,
            page=page,
            category=category,
            figures=figures,
            department_names=names,
            subscription=subscription,
            followable=following.may_follow_board(board, self.user),
            faq_entries=await faq.for_board(self.store, board.slug),
            faq_removable=faq.may_delete(self.user),
        )

    async def _case_figures(self, slug: str) -> tuple[stats.Summary | None, dict[str, str] | None]:
        """A case board's figures of the year, and the departments' names they use."""
        if slug not in cases.CASE_BOARDS:
            return None, None
        figures = await stats_reports.year_summary(
            self.settings["stats_cache"], self.store, (slug,)
        )
        names = {d.slug: d.name for d in await departments.list_departments(self.store)}
        return figures, names


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
            view = await cases.submit(
                self.store, self.user, slug, values, self.uploads(), address=self.address
            )
        except Invalid as error:
            board = await posting.get_board(self.store, self.user, slug)
            await self.render_page(
                "new_post.html", 422, board=board, values=values, errors=error.fields, similar=None
            )
            return
        if not view.tracking_code:
            self.redirect_after(f"/posts/{view.post.id}")
            return
        # The code is the only key an anonymous reporter holds: shown once, on the page the
        # redirect leads to (the case for its writer, else the tracking page).
        post = view.post
        self.redirect_after(
            f"/posts/{post.id}" if self.user else "/track",
            submitted={"code": view.tracking_code, "title": post.title, "board": post.board},
        )

    def draft(self) -> dict[str, Any]:
        """The form's fields as the services take them; a board's own fields only when sent."""
        values: dict[str, Any] = {
            "title": self.form("title"),
            "body": self.form("body"),
            "category": self.form("category") or None,
            "anonymous": self.checkbox("anonymous"),
        }
        for name in (
            "contact",
            "case_number",
            "received_on",
            "department",
            "letter_type",
            "area",
            "real_name",
        ):
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
            found = await searching.similar_with_faq(
                self.store, self.user, values["title"], board=slug
            )
            similar, entries = found.items, found.faq
        except Invalid as error:
            similar, errors = None, error.fields
        await self.render_page(
            "new_post.html",
            422 if errors else 200,
            board=board,
            values=values,
            errors=errors,
            similar=similar,
            similar_faq=entries,
        )


class EditPostPage(PageHandler):
    async def get(self, post_id: str) -> None:
        thread = await posting.get_thread_for_editing(self.store, self.user, post_id)
        post = thread.post.post
        await self.render_page(
            "edit_post.html",
            thread=thread,
            values={"title": post.title, "body": post.body},
            errors={},
        )

    async def post(self, post_id: str) -> None:
        values = {"title": self.form("title"), "body": self.form("body")}
        try:
            await posting.edit_post(self.store, self.user, post_id, values)
        except Invalid as error:
            thread = await posting.get_thread(self.store, self.user, post_id)
            await self.render_page(
                "edit_post.html", 422, thread=thread, values=values, errors=error.fields
            )
            return
        self.redirect_after(f"/posts/{post_id}")


class PostPage(AnonymousPageCache, PageHandler):
    kept_for_readers = True

    async def get(self, post_id: str) -> None:
        await self.render_post(post_id)

    async def render_post(
        self,
        post_id: str,
        status: int = 200,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
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
        await self.render_page(
            "post.html",
            status,
            thread=thread,
            values=values,
            errors=errors or {},
            attachments=files,
            departments=choices,
            reply_templates=offered,
            chosen_template=chosen,
            may_add_faq=faq.may_add(self.user, post),
            colleagues=colleagues,
            subscription=subscription,
        )

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
            values: dict[str, Any] = {
                k: self.get_body_argument(k, "") for k in self.request.body_arguments
            }
            values["helpers"] = self.get_body_arguments("helpers")
            await self.render_post(post_id, 422, values, error.fields)
            return
        self.redirect_after(self.done_url(post_id), **(self.done_flash or {"done": self.done}))

    def done_url(self, post_id: str) -> str:
        return f"/posts/{post_id}"


class ModeratePage(PostActionPage):
    async def act(self, post_id: str) -> None:
        await moderation.moderate(
            self.store, self.user, post_id, self.form("action"), self.form("reason") or None
        )
        self.done = self.form("action") or ""  # moderate() has taken it: a word


class AcceptPage(PageHandler):
    """The accept button on an answer (a form posting reply_id)."""

    async def post(self, post_id: str) -> None:
        await consulting.accept_answer(self.store, self.user, post_id, self.form("reply_id"))
        self.redirect_after(f"/posts/{post_id}#answers")


class FlagPage(PostActionPage):
    done_flash = {"flagged": True}

    async def act(self, post_id: str) -> None:
        await flags.flag_post(self.store, self.user, post_id, self.form("reason"))


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


class FaqAddPage(PostActionPage):
    """加入常见问题: an entry made from this post."""

    done = "faq_added"

    async def act(self, post_id: str) -> None:
        await faq.add_entry(
            self.store,
            self.user,
            {"post_id": post_id, "question": self.form("question"), "answer": self.form("answer")},
        )


class FaqDeletePage(PageHandler):
    async def post(self, entry_id: str) -> None:
        entry = await faq.delete_entry(self.store, self.user, entry_id)
        self.redirect_after(f"/boards/{entry.board}#faq", done="faq_deleted")


class WorkspacePage(PageHandler):
    async def get(self) -> None:
        space = await consulting.workspace(
            self.store,
            self.user,
            board=self.get_query_argument("board", None),
            category=self.get_query_argument("category", None) or None,
            everything=self.get_query_argument("all", None) == "1",
            cursor=self.get_query_argument("cursor", None),
        )
        await self.render_page("workspace.html", space=space)


class ProfilePage(PageHandler):
    async def get(self, username: str) -> None:
        profile = await consulting.profile(self.store, self.user, username)
        await self.render_page("profile.html", profile=profile)
