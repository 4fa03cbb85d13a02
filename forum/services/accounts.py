"""Accounts: registering, logging in and out, finding who holds a token, creating any account."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Iterable

from forum import boards
from forum.clock import now
from forum.errors import CODE_WORDS, BadCredentials, Invalid, NotFound, NotLoggedIn, RateLimited
from forum.limits import USERNAME
from forum.logs import event
from forum.model import Department, Role, Session, User, new_id
from forum.security import Passwords, is_common_password, new_token, token_hash
from forum.services import forms, notify, throttle
from forum.services.fields import Fields, required
from forum.store.base import Store

# Auth events (register, login_ok, login_failed, logout) with ids only: never the name a
# person typed (it may be a password typed in the wrong field), a password or a token.
log = logging.getLogger("forum.auth")

SESSION_DAYS = 30
LOGIN_KINDS = frozenset({"cookie", "bearer"})
OFFICIAL_IDLE = dt.timedelta(hours=2)
CITIZEN_IDLE = dt.timedelta(days=7)
TOUCH_EVERY = dt.timedelta(minutes=5)


@dataclass
class Login:
    token: str
    user: User
    expires_at: dt.datetime


def new_password(fields: Fields, name: str, value: Any) -> str | None:
    """A password someone chooses: 8 to 256 characters, not one of the most common ones."""
    secret = fields.take(forms.NEW_PASSWORD, name, value)
    if secret is not None and is_common_password(secret):
        fields.fail(name, "这个密码太常见，很容易被猜到，请换一个")
        return None
    return secret


# Words only an office may sign with: a citizen calling themselves 张敏（市信访局） or 王局长
# would read as the city speaking. Departments' names (the store's list) are refused likewise.
OFFICE_TITLES = ("市长", "书记", "信访局", "局长", "主任")


def display_name_field(fields: Fields, value: Any) -> str | None:
    return fields.take(forms.DISPLAY_NAME, "display_name", value)


def office_name_refusal(
    name: str | None, roles: Iterable[Role], departments: Iterable[Department]
) -> str | None:
    """Why `name` may not be the display name of someone with `roles`, or None. Officials
    (staff, moderators, administrators) may sign with their office; nobody else may."""
    if name is None or any(role in boards.OFFICIALS for role in roles):
        return None
    compact = "".join(name.split())
    if any(word in compact for word in (*OFFICE_TITLES, *(d.name for d in departments))):
        return "只有工作人员的显示名称可以包含部门名称或职务"
    return None


def check_new_account(
    username: Any, password: Any, display_name: Any, email: Any, *, taken: bool = False
) -> tuple[str, str, str | None, str | None]:
    """The fields of a new account, every problem at once; `taken`: the name is known to be
    in use, reported with the others (alone, it is the store's Conflict, a 409)."""
    fields = Fields()
    name = fields.take(forms.USERNAME, "username", username)
    secret = new_password(fields, "password", password)
    shown = display_name_field(fields, display_name)
    mail = fields.take(forms.EMAIL, "email", email)
    if taken and fields.errors:
        fields.fail("username", CODE_WORDS["username_taken"])
    fields.done()
    return required(name), required(secret), shown, mail


async def register(
    store: Store,
    passwords: Passwords,
    *,
    username: Any,
    password: Any,
    display_name: Any = None,
    email: Any = None,
    address: str = "",
) -> User:
    """Create a citizen account. Raises Invalid (every field's problem at once, a taken name
    among them), Conflict (the name is taken and nothing else is wrong) or RateLimited."""
    taken = (
        isinstance(username, str)
        and USERNAME.fullmatch(username.strip()) is not None
        and await store.get_user_by_name(username.strip()) is not None
    )
    name, secret, shown, mail = check_new_account(
        username, password, display_name, email, taken=taken
    )
    # Reserved before argon2 runs; a name already taken is no registration and gives it back.
    place = await throttle.reserve(store, throttle.REGISTER_PER_ADDRESS, address)
    async with throttle.released_if_refused(store, place):
        user = await create_user(
            store, passwords, username=name, password=secret, display_name=shown, email=mail
        )
    await notify.request_confirmation(store, user)
    event(log, "register", user_id=user.id)
    return user


async def create_user(
    store: Store,
    passwords: Passwords,
    *,
    username: str,
    password: str,
    display_name: str | None = None,
    email: str | None = None,
    roles: list[Role] | None = None,
    department: str | None = None,
) -> User:
    """Create any account (the command line uses this for the first admin). Raises Conflict
    when the username is taken, Invalid for an unknown department or a display name that is
    not honest (hidden characters, or an office's name for someone who holds none)."""
    departments = await store.list_departments()
    fields = Fields()
    display_name = display_name_field(fields, display_name)
    refused = office_name_refusal(display_name, roles or [], departments)
    if refused:
        fields.fail("display_name", refused)
    if department is not None and department not in {d.slug for d in departments}:
        fields.fail("department", "没有这个部门")
    fields.done()
    user = User(
        id=new_id(),
        username=username,
        display_name=display_name or username,
        password_hash=await passwords.hash(password),
        roles=sorted({Role.CITIZEN, *(roles or [])}, key=list(Role).index),
        email=email,
        department=department,
    )
    await store.add_user(user)
    return user


async def login(
    store: Store,
    passwords: Passwords,
    *,
    username: Any,
    password: Any,
    kind: str,
    address: str = "",
) -> Login:
    """Check the password and open a session of `kind` ("cookie" or "bearer").

    Raises Invalid for missing fields, BadCredentials alike for an unknown user, a wrong password
    and a disabled account, and RateLimited after repeated failures."""
    fields = Fields()
    name = fields.take(forms.TYPED_USERNAME, "username", username)
    secret = fields.take(forms.PASSWORD, "password", password)
    fields.done()
    name, secret = required(name), required(secret)
    account_key = name.casefold()
    here = throttle.account_at(account_key, address)
    # Every attempt takes a failure's place before the password is checked (argon2 is slow, and
    # attempts fired at once would all pass a count made before any failed); the right password
    # gives them back.
    try:
        failure = await throttle.reserve_all(
            store,
            (throttle.LOGIN_PER_ADDRESS, throttle.address_range(address)),
            (throttle.LOGIN_PER_ACCOUNT, here),
        )
    except RateLimited:
        event(log, "login_failed", reason="throttled", user_id=None)
        raise
    many = await throttle.try_reserve(store, throttle.LOGIN_ACCOUNT_SLOWDOWN, account_key)
    if many is None:
        # Many failures from many places: slow every attempt down, lock nobody out.
        event(log, "login_slowed", user_id=None)
        await asyncio.sleep(throttle.LOGIN_SLOWDOWN_SECONDS)
    user = await store.get_user_by_name(name) if USERNAME.fullmatch(name) else None
    matches, new_hash = await passwords.verify(secret, user.password_hash if user else None)
    if not matches or user is None or user.disabled:
        event(
            log,
            "login_failed",
            user_id=user.id if user else None,
            reason="unknown_user"
            if user is None
            else "bad_password"
            if not matches
            else "disabled",
        )
        raise BadCredentials()
    await throttle.release(store, *failure, many)
    if new_hash:
        await store.update_user(user.id, {"password_hash": new_hash})
    await throttle.clear(store, throttle.LOGIN_PER_ACCOUNT, here)
    login = await open_session(store, user, kind)
    event(log, "login_ok", user_id=user.id, kind=kind)
    return login


async def open_session(store: Store, user: User, kind: str) -> Login:
    token = new_token()
    started = now()
    expires = started + dt.timedelta(days=SESSION_DAYS)
    await store.add_session(Session(token_hash(token), user.id, kind, started, expires))
    return Login(token=token, user=user, expires_at=expires)


class KeptLogins:
    """Logins this process has checked (token hash -> session and account), each valid while
    the store's auth version stays where it was when it was read.

    A logged-in page would otherwise read the session and the account from the store on every
    request: two store calls, more than the rest of a kept page costs. The auth version moves
    on with every write that changes who a login is (logout, a password change ending every
    session, a role changed, an account disabled), in every process sharing the store, so such
    a change is effective on the next request everywhere. The clock is judged on every use
    (expiry), and a login due for its touch (TOUCH_EVERY) or its idle limit is read from the
    store again, where another process may have touched it since. One per application
    (make_app builds it), bounded, oldest out first."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._logins: dict[str, tuple[int, Session, User]] = {}

    def __len__(self) -> int:
        return len(self._logins)

    def get(self, hashed: str, version: int, at: dt.datetime) -> User | None:
        found = self._logins.get(hashed)
        if found is None:
            return None
        kept_at, session, user = found
        last_seen = session.last_seen_at or session.created_at
        if kept_at != version or session.expires_at <= at or at - last_seen > TOUCH_EVERY:
            del self._logins[hashed]
            return None
        return user

    def put(self, hashed: str, version: int, session: Session, user: User) -> None:
        self._logins.pop(hashed, None)
        self._logins[hashed] = (version, session, user)
        while len(self._logins) > self.max_entries:
            del self._logins[next(iter(self._logins))]


async def user_for_token(
    store: Store, token: str | None, kept: KeptLogins | None = None
) -> User | None:
    """The active user holding `token`, or None (unknown, expired, or the account is disabled).
    `kept`: the application's logins known valid at the store's auth version (see KeptLogins)."""
    if not token:
        return None
    hashed = token_hash(token)
    version = 0
    if kept is not None:
        version = await store.auth_version()  # before the session: a later change moves it
        user = kept.get(hashed, version, now())
        if user is not None:
            return user
    session = await store.get_session(hashed)
    if session is None or session.kind not in LOGIN_KINDS:
        # Other kinds (an e-mail confirmation link) are single-purpose tokens, never logins.
        return None
    at = now()
    if session.expires_at <= at:
        await store.delete_session(hashed)
        return None
    user = await store.get_user(session.user_id)
    if user is None or user.disabled:
        return None
    last_seen = session.last_seen_at or session.created_at
    if at - last_seen > idle_limit(user):
        await store.delete_session(hashed)
        return None
    if at - last_seen > TOUCH_EVERY:
        # A write per request would cost more than it tells: minutes are precise enough.
        await store.touch_session(hashed, at)
        session = dataclasses.replace(session, last_seen_at=at)
    if kept is not None:
        kept.put(hashed, version, session, user)
    return user


def idle_limit(user: User) -> dt.timedelta:
    """How long a login may go unused: short for officials, whose accounts see every case."""
    if user.is_official:
        return OFFICIAL_IDLE
    return CITIZEN_IDLE


async def logout(store: Store, token: str | None) -> None:
    if token:
        await store.delete_session(token_hash(token))
        event(log, "logout")  # the user id is the request's


async def get_profile(store: Store, username: str) -> User:
    user = await store.get_user_by_name(username)
    if user is None:
        raise NotFound("用户不存在")
    return user


async def change_email(
    store: Store, passwords: Passwords, viewer: User | None, email: Any, current_password: Any
) -> User:
    """Set (or, with an empty value, remove) the viewer's address; a new address is unconfirmed
    until its link is opened, and gets that link by mail. The current password is needed: the
    address receives password-reset links, so a stolen session must not be able to redirect
    them (ASVS V7.5.1). Raises NotLoggedIn, Invalid, RateLimited."""
    if viewer is None:
        raise NotLoggedIn()
    fields = Fields()
    mail = fields.take(forms.EMAIL, "email", email)
    old = fields.take(forms.PASSWORD, "current_password", current_password)
    fields.done()
    await _check_current_password(store, passwords, viewer, required(old))
    await store.update_user(viewer.id, {"email": mail, "email_confirmed": False})
    event(log, "email_changed", user_id=viewer.id, removed=mail is None)  # never the address
    user = await store.get_user(viewer.id)
    assert user is not None
    await notify.request_confirmation(store, user)
    return user


async def _check_current_password(
    store: Store, passwords: Passwords, viewer: User, password: str
) -> User:
    """The viewer's account, once `password` is shown to be its password. Raises Invalid
    (current_password) or RateLimited."""
    user = await store.get_user(viewer.id)
    key = viewer.username.casefold()
    # Limited like logging in: a stolen session must not become a way to guess passwords. A
    # failure's place is taken before argon2 runs and given back when the password is right.
    failure = await throttle.reserve(store, throttle.PASSWORD_CHANGE_PER_ACCOUNT, key)
    matches, _ = await passwords.verify(password, user.password_hash if user else None)
    if not matches or user is None:
        event(log, "password_change_failed", user_id=viewer.id, reason="bad_password")
        raise Invalid({"current_password": "当前密码不正确"})
    await throttle.release(store, failure)
    return user


async def change_password(
    store: Store, passwords: Passwords, viewer: User | None, *, current: Any, new: Any, kind: str
) -> Login:
    """Check the current password, set the new one, end every session of the account (a thief
    holding one loses it) and open a fresh one of `kind` for the person who changed it. Raises
    NotLoggedIn, Invalid (a wrong current password is named as a field error)."""
    if viewer is None:
        raise NotLoggedIn()
    fields = Fields()
    old = fields.take(forms.PASSWORD, "current_password", current)
    secret = new_password(fields, "new_password", new)
    fields.done()
    old, secret = required(old), required(secret)
    user = await _check_current_password(store, passwords, viewer, old)
    if secret == old:
        raise Invalid({"new_password": "新密码不能与当前密码相同"})
    await store.update_user(user.id, {"password_hash": await passwords.hash(secret)})
    ended = await store.delete_user_sessions(user.id)
    event(log, "password_changed", user_id=user.id, sessions_ended=ended)
    return await open_session(store, user, kind)
