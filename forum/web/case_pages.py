"""Cases (letters to the mayor, tax reports, the hotline's answers) beyond what every post has:
routing, return and rating on a case's page; following a case by its tracking code, and adding
to it; the moderation queue; a department's desk and its reply templates; the statistics."""

from __future__ import annotations

from forum.errors import Invalid, NotFound
from forum.model import Post
from forum.services import (
    cases,
    departments,
    desks,
    following,
    moderation,
    stats_reports,
    templates,
    tracking,
)
from forum.web.pages import PageHandler
from forum.web.post_pages import PostActionPage
from forum.web.uploads import UploadHandler


class RoutePage(PostActionPage):
    done = "route"

    async def act(self, post_id: str) -> None:
        await cases.route_case(
            self.store,
            self.user,
            post_id,
            self.form("department") or None,
            self.form("due_days") or None,
            self.form("note") or None,
            [slug for slug in self.get_body_arguments("helpers") if slug],
        )


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
        await cases.rate_case(
            self.store, self.user, post_id, self.form("score"), self.form("comment") or None
        )


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

    async def show(
        self,
        code: str,
        status: int = 200,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        try:
            thread = await tracking.track(self.store, code, self.address)
        except NotFound as error:
            await self.render_page("track.html", 404, thread=None, code=code, message=error.message)
            return
        self.no_store()  # the case as its writer sees it, contact details included
        await self.render_page(
            "track.html",
            status,
            thread=thread,
            code=code,
            message=None,
            values=values or {},
            errors=errors or {},
        )


class TrackSupplementPage(UploadHandler, TrackPage):
    """补充材料: the tracking code's holder adds a follow-up and files to the open case. The
    code comes in the form body and goes back in the signed flash, never in a URL. The code is
    asked for before the first file is kept, so it comes before the files in the form."""

    _case: Post | None = None

    async def admit_files(self) -> None:
        self._case = await tracking.supplement_case(
            self.store, self.form("code") or "", self.address
        )

    async def get(self, code: str | None = None) -> None:
        self.redirect("/track", status=303)

    async def post(self, _in_url: str | None = None) -> None:
        code, body = self.form("code") or "", self.form("body")
        try:
            await tracking.supplement(
                self.store, code, self.address, body, self.uploads(), case=self._case
            )
        except NotFound as error:
            await self.render_page("track.html", 404, thread=None, code=code, message=error.message)
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
        if not desks.may_work_for(self.user, slug):
            public = await stats_reports.department_record(
                self.settings["stats_cache"], self.store, self.user, slug
            )
            figures = await stats_reports.year_summary(
                self.settings["stats_cache"], self.store, departments=(slug,)
            )
            subscription = await following.following(
                self.store, self.user, f"department:{public.slug}"
            )
            await self.render_page(
                "department_public.html",
                department=public,
                figures=figures,
                subscription=subscription,
            )
            return
        await self.render_desk(slug)

    async def render_desk(
        self,
        slug: str,
        status: int = 200,
        values: dict[str, str | None] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        found = await desks.department_cases(
            self.store,
            self.user,
            slug,
            status=self.get_query_argument("status", None) or None,
            cursor=self.get_query_argument("cursor", None),
            role=self.get_query_argument("role", None) or None,
            officer=self.get_query_argument("officer", None) or None,
        )
        kept = await templates.list_templates(self.store, self.user, slug)
        await self.render_page(
            "department.html",
            status,
            found=found,
            reply_templates=kept,
            may_keep_templates=templates.may_keep(self.user, slug),
            values=values or {},
            errors=errors or {},
        )


class DepartmentTemplatesPage(DepartmentPage):
    """The desk's form that keeps a new reply template."""

    async def post(self, slug: str) -> None:
        values = {"title": self.form("title"), "body": self.form("body")}
        try:
            await templates.add_template(
                self.store, self.user, slug, values["title"], values["body"]
            )
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
        await self.render_page(
            "stats.html",
            422 if errors else 200,
            errors=errors,
            report=report,
            since=since or "",
            until=until or "",
            department_names=names,
        )


class StatsMonthPage(PageHandler):
    """A month's bulletin (统计公报): its figures by board, department, level, area and type."""

    async def get(self, month: str) -> None:
        found = await stats_reports.bulletin(self.settings["stats_cache"], self.store, month)
        names = {d.slug: d.name for d in await departments.list_departments(self.store)}
        await self.render_page(
            "stats_month.html", bulletin=found, report=found.report, department_names=names
        )
