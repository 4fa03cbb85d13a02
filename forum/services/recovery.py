"""Getting back into an account by e-mail (ASVS V6.4): a person who forgot their password asks
for a link, and the link lets them choose a new one.

- The link carries a token of 256 random bits; the store keeps only its SHA-256, as a session
  of kind `password_reset` that lasts RESET_MINUTES and is taken (deleted) by the one request
  that uses it.
- Asking answers the same whether or not the account exists, has a confirmed address or is
  disabled: only the mailbox learns anything. Asking is limited per address and per name typed
  (existing or not, so the limit reveals nothing either).
- A reset ends every session of the account (and any other reset or confirmation link), tells
  the owner by mail, and is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from forum import limits
from forum.clock import now
from forum.errors import Invalid, RateLimited
from forum.logs import event
from forum.model import Mail, Session, User, new_id
from forum.security import Passwords, new_token, token_hash
from forum.services import accounts, forms, throttle
from forum.services.fields import Fields, required
from forum.services.notify import SITE
from forum.store.base import Store

log = logging.getLogger("forum.auth")

RESET_KIND = "password_reset"
# The subject of a reset mail: backups leave such mail out while it is unsent (its body holds
# the one-use link; see forum/ops/backup.py).
RESET_SUBJECT = "[玉溪网] 重设密码"
RESET_MINUTES = 30
# What a token in a link looks like (secrets.token_urlsafe(32): 43 characters); anything else is
# refused before the store is asked.
SENT_MESSAGE = (
    f"如果该账号存在并已确认邮箱，重设密码的链接已经发出，请在 {RESET_MINUTES} 分钟内使用"
)


async def request_reset(store: Store, *, username: Any, address: str = "") -> None:
    """Mail a reset link to the account's confirmed address, if there is such an account.
    Returns nothing either way. Raises Invalid (username malformed) or RateLimited."""
    fields = Fields()
    name = fields.take(forms.TYPED_USERNAME, "username", username)
    fields.done()
    name = required(name)
    typed = name.casefold()
    try:
        await throttle.reserve_all(
            store,
            (throttle.RESET_PER_ADDRESS, throttle.address_range(address)),
            (throttle.RESET_PER_ACCOUNT, typed),
        )
    except RateLimited:
        event(log, "password_reset_requested", user_id=None, outcome="throttled")
        raise
    user = await store.get_user_by_name(name) if limits.USERNAME.fullmatch(name) else None
    if user is None or user.disabled or not (user.email and user.email_confirmed):
        outcome = (
            "unknown_user"
            if user is None
            else "disabled"
            if user.disabled
            else "no_confirmed_email"
        )
        event(log, "password_reset_requested", user_id=user.id if user else None, outcome=outcome)
        return
    token = new_token()
    at = now()
    await store.add_session(
        Session(
            token_hash(token), user.id, RESET_KIND, at, at + dt.timedelta(minutes=RESET_MINUTES)
        )
    )
    await store.enqueue_mail(
        Mail(
            new_id(),
            user.email,
            RESET_SUBJECT,
            f"{user.display_name}，您好：\n\n有人（希望是您）请求重设账号 {user.username} 的密码。"
            f"请在 {RESET_MINUTES} 分钟内打开下面的链接设置新密码，链接只能使用一次：\n\n"
            f"{SITE}/reset-password/{token}\n\n"
            "如果这不是您的操作，请忽略此邮件，您的密码不会改变。\n",
            at,
            next_attempt_at=at,
        )
    )
    event(log, "password_reset_requested", user_id=user.id, outcome="mailed")


async def reset_password(
    store: Store, passwords: Passwords, *, token: Any, new_password: Any, address: str = ""
) -> User:
    """Set a new password with a reset link's token, once. Ends every session of the account.
    Raises Invalid (token: unknown, used or expired; new_password: as at registration) or
    RateLimited (too many bad tokens from one address)."""
    fields = Fields()
    secret = fields.take(forms.RESET_TOKEN, "token", token)
    chosen = accounts.new_password(fields, "new_password", new_password)
    fields.done()
    secret, chosen = required(secret), required(chosen)
    where = throttle.address_range(address)
    # A bad token's place, taken before the token is tried and given back when it works.
    failure = await throttle.reserve(store, throttle.RESET_TOKENS_PER_ADDRESS, where)
    # Taken before anything else: a token works once, even when two requests race with it.
    session = await store.take_session(token_hash(secret), RESET_KIND)
    user = await store.get_user(session.user_id) if session else None
    if session is None or session.expires_at <= now() or user is None or user.disabled:
        event(
            log,
            "password_reset_failed",
            user_id=user.id if user else None,
            reason="bad_token"
            if session is None
            else "expired"
            if session.expires_at <= now()
            else "disabled",
        )
        raise Invalid({"token": forms.RESET_TOKEN_HINT})
    await throttle.release(store, failure)
    await store.update_user(user.id, {"password_hash": await passwords.hash(chosen)})
    ended = await store.delete_user_sessions(user.id)
    await throttle.clear(
        store, throttle.LOGIN_PER_ACCOUNT, throttle.account_at(user.username.casefold(), address)
    )
    at = now()
    if user.email:
        await store.enqueue_mail(
            Mail(
                new_id(),
                user.email,
                "[玉溪网] 您的密码已重设",
                f"{user.display_name}，您好：\n\n账号 {user.username} 的密码刚刚通过邮件链接重设，"
                "所有设备上的登录都已退出。\n\n如果这不是您的操作，请立即再次重设密码，"
                "并联系网站管理员。\n",
                at,
                next_attempt_at=at,
            )
        )
    event(log, "password_reset", user_id=user.id, sessions_ended=ended)
    return user
