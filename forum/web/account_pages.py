"""The account's pages: logging in and registering, logging out, the password (changed, or reset
through a mailed link) and the e-mail address's confirmation."""

from __future__ import annotations

from typing import Any

from forum.errors import BadCredentials, Conflict, Invalid, RateLimited
from forum.services import accounts, notify, recovery
from forum.web.pages import PageHandler, safe_next


class LoginPage(PageHandler):
    async def get(self) -> None:
        await self.render_page(
            "login.html",
            values={"next": safe_next(self.get_argument("next", None))},
            errors={},
            message=None,
        )

    async def post(self) -> None:
        next_url = safe_next(self.form("next"))
        values = {"username": self.form("username"), "next": next_url}
        try:
            login = await accounts.login(
                self.store,
                self.passwords,
                username=values["username"],
                password=self.form("password"),
                kind="cookie",
                address=self.address,
            )
        except (Invalid, BadCredentials, RateLimited) as error:
            await self._refused(values, error)
            return
        await self._end_current_session()
        self.start_session(login.token)
        self.redirect_after(next_url)

    async def _refused(
        self, values: dict[str, str | None], error: Invalid | BadCredentials | RateLimited
    ) -> None:
        if isinstance(error, Invalid):
            await self.render_page(
                "login.html", 422, values=values, errors=error.fields, message=None
            )
            return
        if isinstance(error, RateLimited):
            self.set_header("Retry-After", str(error.retry_after_seconds))
        await self.render_page(
            "login.html", error.status, values=values, errors={}, message=error.message
        )

    async def _end_current_session(self) -> None:
        # A new login replaces whatever session this browser had (session rotation).
        if self._auth_kind == "cookie":
            await accounts.logout(self.store, self._token)


class RegisterPage(PageHandler):
    """Registering keeps where the visitor was going (`next`), and lands there welcomed."""

    async def get(self) -> None:
        await self.render_page(
            "register.html", values={"next": safe_next(self.get_argument("next", None))}, errors={}
        )

    async def post(self) -> None:
        values = {name: self.form(name) for name in ("username", "display_name", "email")}
        next_url = values["next"] = safe_next(self.form("next"))
        password = self.form("password")
        try:
            user = await accounts.register(
                self.store,
                self.passwords,
                username=values["username"],
                password=password,
                display_name=values["display_name"] or None,
                email=values["email"] or None,
                address=self.address,
            )
        except Invalid as error:
            await self.render_page("register.html", 422, values=values, errors=error.fields)
            return
        except Conflict as taken:  # the form again, the message beside the name it is about
            await self.render_page(
                "register.html", 409, values=values, errors={"username": taken.message}
            )
            return
        login = await accounts.open_session(self.store, user, "cookie")
        self.start_session(login.token)
        self.redirect_after(next_url, welcome=user.display_name)


class LogoutPage(PageHandler):
    async def get(self) -> None:
        # Logging out changes state, so GET only shows the button; the form POSTs.
        await self.render_page("logout.html")

    async def post(self) -> None:
        if self._auth_kind == "cookie":
            await accounts.logout(self.store, self._token)
        self.end_session_cookie()
        self.redirect_after("/")


class PasswordPage(PageHandler):
    async def get(self) -> None:
        if self.user is None:
            self.login_redirect()
            return
        await self.render_page(
            "password.html", errors={}, done=bool(self.take_flash().get("password_changed"))
        )

    async def post(self) -> None:
        try:
            login = await accounts.change_password(
                self.store,
                self.passwords,
                self.user,
                current=self.form("current_password"),
                new=self.form("new_password"),
                kind="cookie",
            )
        except Invalid as error:
            await self.render_page("password.html", 422, errors=error.fields, done=False)
            return
        self.start_session(login.token)
        self.redirect_after("/password", password_changed=True)


async def show_limited(
    page: PageHandler, template: str, error: RateLimited, **context: Any
) -> None:
    """A password form again after too many tries from here: the limit's message, and when to
    try again."""
    page.set_header("Retry-After", str(error.retry_after_seconds))
    await page.render_page(template, 429, errors={}, message=error.message, **context)


class ForgotPasswordPage(PageHandler):
    """Asking for a reset link by e-mail: the same answer whether or not the account exists."""

    async def get(self) -> None:
        await self.render_page(
            "forgot_password.html",
            values={},
            errors={},
            message=None,
            sent=bool(self.take_flash().get("reset_sent")),
        )

    async def post(self) -> None:
        values = {"username": self.form("username")}
        try:
            await recovery.request_reset(
                self.store, username=values["username"], address=self.address
            )
        except Invalid as error:
            await self.render_page(
                "forgot_password.html",
                422,
                values=values,
                errors=error.fields,
                sent=False,
                message=None,
            )
            return
        except RateLimited as error:
            await show_limited(self, "forgot_password.html", error, values=values, sent=False)
            return
        self.redirect_after("/forgot-password", reset_sent=True)


class ResetPasswordPage(PageHandler):
    """The link from the reset mail: choosing a new password, once."""

    async def prepare(self) -> None:
        await super().prepare()
        self.no_store()  # the token is in the address

    async def get(self, token: str) -> None:
        await self.render_page(
            "reset_password.html",
            token=token,
            errors={},
            message=None,
            done=bool(self.take_flash().get("password_reset")),
        )

    async def post(self, token: str) -> None:
        try:
            await recovery.reset_password(
                self.store,
                self.passwords,
                token=token,
                new_password=self.form("new_password"),
                address=self.address,
            )
        except Invalid as error:
            await self.render_page(
                "reset_password.html",
                422,
                token=token,
                errors=error.fields,
                done=False,
                message=None,
            )
            return
        except RateLimited as error:
            await show_limited(self, "reset_password.html", error, token=token, done=False)
            return
        self.redirect_after(self.request.path, password_reset=True)


class ConfirmEmailPage(PageHandler):
    """The link from the confirmation mail. Opening it shows a button; confirming is a POST,
    so that a mail scanner following links changes nothing."""

    async def get(self, token: str) -> None:
        await self.render_page(
            "confirm_email.html",
            token=token,
            message=None,
            done=bool(self.take_flash().get("email_confirmed")),
        )

    async def post(self, token: str) -> None:
        try:
            await notify.confirm_email(self.store, token)
        except Invalid as error:
            await self.render_page(
                "confirm_email.html",
                422,
                token=token,
                done=False,
                message=error.fields.get("token"),
            )
            return
        self.redirect_after(self.request.path, email_confirmed=True)
