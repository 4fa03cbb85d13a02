"""KeptLogins (services/accounts.py) over both stores: a login is taken from memory only while
the store's auth version stands and the clock allows it."""

from __future__ import annotations

import datetime as dt

import pytest

from forum.model import Role
from forum.services import accounts
from tests.support.people import person


@pytest.fixture
def store(seeded_store):
    return seeded_store


@pytest.mark.gen_test
async def test_a_kept_login_ends_with_logout_password_change_role_change_and_ban(store, clock):
    user = await person(store, "holder")
    kept = accounts.KeptLogins()

    async def fresh(kind="cookie") -> str:
        return (await accounts.open_session(store, user, kind)).token

    token = await fresh()
    assert (await accounts.user_for_token(store, token, kept)).username == "holder"
    assert len(kept) == 1
    assert (await accounts.user_for_token(store, token, kept)).username == "holder"
    await accounts.logout(store, token)
    assert await accounts.user_for_token(store, token, kept) is None

    token = await fresh()
    await accounts.user_for_token(store, token, kept)
    await store.update_user(user.id, {"roles": ["citizen", "moderator"]})
    assert (await accounts.user_for_token(store, token, kept)).has(Role.MODERATOR)
    await store.delete_user_sessions(user.id)  # what a password change does
    assert await accounts.user_for_token(store, token, kept) is None

    token = await fresh()
    await accounts.user_for_token(store, token, kept)
    await store.update_user(user.id, {"disabled": True})
    assert await accounts.user_for_token(store, token, kept) is None


@pytest.mark.gen_test
async def test_the_clock_is_judged_on_every_use(store, clock):
    user = await person(store, "holder")
    kept = accounts.KeptLogins()
    token = (await accounts.open_session(store, user, "cookie")).token
    await accounts.user_for_token(store, token, kept)
    # Past the touch interval the store is asked again (and the login touched there).
    clock.advance(minutes=accounts.TOUCH_EVERY.total_seconds() / 60 + 1)
    assert (await accounts.user_for_token(store, token, kept)).id == user.id
    session = await store.get_session(accounts.token_hash(token))
    assert session.last_seen_at is not None
    # Idle past the limit: gone, though the auth version has not moved since it was kept.
    clock.advance(days=accounts.CITIZEN_IDLE.days + 1)
    assert await accounts.user_for_token(store, token, kept) is None


def test_kept_logins_stay_within_their_bound():
    from tests.store.test_contract import T0, make_user
    from forum.model import Session

    kept = accounts.KeptLogins(max_entries=2)
    user = make_user()
    for name in "abc":
        kept.put(name, 1, Session(name, user.id, "cookie", T0, T0 + dt.timedelta(days=1)), user)
    assert len(kept) == 2 and kept.get("a", 1, T0) is None and kept.get("c", 1, T0) is user
