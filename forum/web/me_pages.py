"""/me and what hangs from it: one's own posts and cases, notifications (each opened, or all
marked read), what one follows (the 关注 buttons post here) and the e-mail address."""

from __future__ import annotations

from urllib.parse import urlencode

from forum.errors import Invalid
from forum.model import is_id
from forum.services import accounts, following, notify, posting
from forum.web.pages import PageHandler, safe_next


# How many of the things one follows /me lists at a time.
FOLLOWING_ON_ME = 50


class MePage(PageHandler):
    """Own posts and cases, and notifications (marked read by the form here)."""

    async def get(self) -> None:
        if self.user is None:
            self.login_redirect()
            return
        await self.render_me(200, {}, None)

    async def render_me(self, status: int, errors: dict[str, str], email: str | None) -> None:
        user = self.user
        if user is None:
            self.login_redirect()
            return
        page = await posting.list_own_posts(
            self.store, user, cursor=self.get_query_argument("cursor", None)
        )
        inbox = await notify.inbox(
            self.store, self.user, cursor=self.get_query_argument("notices", None)
        )
        followed = await following.list_following(
            self.store,
            self.user,
            cursor=self.get_query_argument("following", None),
            limit=FOLLOWING_ON_ME,
        )
        await self.render_page(
            "me.html",
            status,
            page=page,
            inbox=inbox,
            followed=followed,
            errors=errors,
            email=user.email if email is None else email,
            email_saved=bool(self.take_flash().get("email_saved")),
        )

    async def post(self) -> None:
        if self.form("form") == "email":
            try:
                await accounts.change_email(
                    self.store,
                    self.passwords,
                    self.user,
                    self.form("email"),
                    self.form("current_password"),
                )
            except Invalid as error:
                await self.render_me(422, error.fields, self.form("email"))
                return
            self.redirect_after("/me#email", email_saved=True)
            return
        await notify.mark_read(self.store, self.user, None)
        self.redirect_after("/me#notifications")


class NotificationPage(PageHandler):
    """Opening a notification: it is read now; on to the post it is about."""

    async def get(self, notification_id: str) -> None:
        if self.user is None:
            self.login_redirect()
            return
        await notify.mark_read(self.store, self.user, [notification_id])
        post_id = self.get_query_argument("post", "")
        self.redirect(f"/posts/{post_id}" if is_id(post_id) else "/me#notifications", status=303)


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
            self.redirect("/login?" + urlencode({"next": safe_next(self.form("next"))}), status=303)
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
