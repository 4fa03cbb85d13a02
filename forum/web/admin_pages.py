"""The administrators' pages: accounts (find, edit roles and departments), the audit log and the
settings (sensitive words, the holiday calendar, departments, API keys)."""

from __future__ import annotations

import dataclasses
from typing import Any

from forum.errors import Conflict, Invalid
from forum.model import Role
from forum.services import accounts, admin, apikeys, departments, settings
from forum.web.pages import PageHandler


class AdminPage(PageHandler):
    async def get(self) -> None:
        query = self.get_query_argument("q", "")
        users, next_cursor = await admin.find_users(
            self.store, self.user, query, after=self.get_query_argument("cursor", None)
        )
        await self.render_page(
            "admin.html",
            users=users,
            query=query,
            next_cursor=next_cursor,
            departments=await departments.list_departments(self.store),
        )


class AdminUserPage(PageHandler):
    async def get(self, username: str) -> None:
        admin.require_admin(self.user)
        user = await accounts.get_profile(self.store, username)
        await self.render_page(
            "admin_user.html",
            target=user,
            errors={},
            saved=bool(self.take_flash().get("saved")),
            **await self._choices(),
        )

    async def post(self, username: str) -> None:
        data = {
            "roles": self.get_body_arguments("roles"),
            "department": self.form("department") or None,
            "specialties": self.get_body_arguments("specialties"),
            "disabled": self.checkbox("disabled"),
        }
        try:
            user = await admin.update_user(self.store, self.user, username, data)
        except Invalid as error:
            await self._refused(username, data, error)
            return
        self.redirect_after(f"/admin/users/{user.username}", saved=True)

    async def _refused(self, username: str, data: dict[str, Any], error: Invalid) -> None:
        """The form again, as submitted, so the admin's choices are not lost."""
        user = await accounts.get_profile(self.store, username)
        shown = dataclasses.replace(
            user,
            roles=[r for r in Role if r.value in data["roles"]],
            department=data["department"],
            specialties=list(data["specialties"]),
            disabled=data["disabled"],
        )
        await self.render_page(
            "admin_user.html",
            422,
            target=shown,
            errors=error.fields,
            saved=False,
            **await self._choices(),
        )

    async def _choices(self) -> dict[str, Any]:
        return {
            "departments": await departments.list_departments(self.store),
            "specialties": admin.known_specialties(),
            "roles": list(Role),
        }


class AuditPage(PageHandler):
    async def get(self) -> None:
        actor = self.get_query_argument("actor", None) or None
        post_id = self.get_query_argument("post_id", None) or None
        lines, next_cursor = await admin.audit_log(
            self.store,
            self.user,
            actor=actor,
            post_id=post_id,
            cursor=self.get_query_argument("cursor", None),
        )
        await self.render_page(
            "audit.html",
            entries=[line.entry for line in lines],
            next_cursor=next_cursor,
            actor=actor or "",
            post_id=post_id or "",
            names={
                line.entry.actor_id: line.actor.username for line in lines if line.actor is not None
            },
        )


class SettingsPage(PageHandler):
    """The admin's settings: sensitive words, the holiday calendar, new departments, API keys
    for Open311 clients (a new key is shown on the answer to its form, once)."""

    async def get(self) -> None:
        admin.require_admin(self.user)
        flash = self.take_flash()
        await self.render_settings(200, {}, saved=flash.get("saved"), issued=flash.get("issued"))

    async def render_settings(
        self,
        status: int,
        errors: dict[str, str],
        saved: str | None,
        values: dict[str, str] | None = None,
        issued: dict[str, str] | None = None,
    ) -> None:
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
            "slug": "",
            "name": "",
            "key_name": "",
        }
        await self.render_page(
            "settings.html",
            status,
            values={**current, **(values or {})},
            errors=errors,
            saved=saved,
            calendar=calendar,
            departments=await departments.list_departments(self.store),
            api_keys=keys,
            issued=issued,
            issuers={uid: u.username for uid, u in issuers.items()},
        )

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
        self.redirect_after(
            "/admin/settings",
            saved=form,
            **({"issued": {"name": issued.api_key.name, "key": issued.key}} if issued else {}),
        )

    async def _save(self, form: str | None) -> apikeys.IssuedKey | None:
        """Save the settings form named `form`; the key it issued, for the API key form.
        Raises Invalid, naming the form's own fields."""
        if form == "words":
            await settings.save_sensitive_words(self.store, self.user, _lines(self.form("words")))
        elif form == "calendar":
            await settings.save_calendar(
                self.store, self.user, _lines(self.form("holidays")), _lines(self.form("workdays"))
            )
        elif form == "department":
            try:
                await admin.add_department(
                    self.store, self.user, self.form("slug"), self.form("name")
                )
            except Conflict as taken:
                raise Invalid({"slug": taken.message}) from taken
        elif form == "api_key":
            try:
                return await apikeys.issue(self.store, self.user, self.form("key_name"))
            except Invalid as wrong:  # the form's field is key_name ("name" is a department's)
                raise Invalid(
                    {
                        "key_name" if name == "name" else name: why
                        for name, why in wrong.fields.items()
                    }
                ) from wrong
        elif form == "revoke_api_key":
            await apikeys.revoke(self.store, self.user, self.form("key_id"))
        else:
            raise Invalid({"form": "未知的表单"})
        return None


def _lines(value: str | None) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]
