"""Accounts without HTTP (forum/services/accounts.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from forum.errors import BadCredentials, Conflict, Invalid, RateLimited
from forum.model import Role
from forum.security import token_hash
from forum.services import accounts
from tests.support.apps import TEST_PASSWORDS as PW

GOOD = "correct-horse-9"


async def register(store, name="alice", password=GOOD, **extra):
    return await accounts.register(store, PW, username=name, password=password, **extra)


@pytest.mark.gen_test
async def test_register_makes_a_citizen_with_a_hashed_password(store):
    user = await register(store, display_name="  张  三 ", email="a@example.org")
    assert user.roles == [Role.CITIZEN]
    assert user.display_name == "张 三"
    assert user.password_hash.startswith("$argon2id$") and GOOD not in user.password_hash
    assert await store.get_user_by_name("ALICE") == user


@pytest.mark.gen_test
async def test_register_refuses_a_name_taken_in_any_case(store):
    await register(store, "Alice")
    with pytest.raises(Conflict):
        await register(store, "aLiCe")


@pytest.mark.gen_test
@pytest.mark.parametrize("fields, bad", [
    ({"username": None}, "username"),
    ({"username": "ab"}, "username"),
    ({"username": "a" * 33}, "username"),
    ({"username": "张三"}, "username"),
    ({"username": "bob; DROP TABLE users"}, "username"),
    ({"username": {"$ne": None}}, "username"),
    ({"username": 12345}, "username"),
    ({"password": None}, "password"),
    ({"password": "short"}, "password"),
    ({"password": "x" * 257}, "password"),
    ({"password": ["list"]}, "password"),
    ({"display_name": "x" * 41}, "display_name"),
    ({"display_name": "a\x00b"}, "display_name"),
    ({"display_name": "\ud800bad"}, "display_name"),
    ({"email": "not-an-address"}, "email"),
])
async def test_register_names_the_bad_field(store, fields, bad):
    data = {"username": "carol", "password": GOOD, **fields}
    with pytest.raises(Invalid) as caught:
        await accounts.register(store, PW, **data)
    assert bad in caught.value.fields
    assert await store.get_user_by_name("carol") is None


@pytest.mark.gen_test
async def test_password_is_never_truncated(store):
    long_password = "p" * 200 + "A"
    await register(store, "dave", long_password)
    with pytest.raises(BadCredentials):
        await accounts.login(store, PW, username="dave", password="p" * 200 + "B", kind="bearer")
    login = await accounts.login(store, PW, username="dave", password=long_password, kind="bearer")
    assert login.user.username == "dave"


@pytest.mark.gen_test
async def test_login_answers_alike_for_unknown_user_and_wrong_password(store):
    await register(store)
    with pytest.raises(BadCredentials) as wrong:
        await accounts.login(store, PW, username="alice", password="wrong-pass", kind="bearer")
    with pytest.raises(BadCredentials) as unknown:
        await accounts.login(store, PW, username="nobody", password="wrong-pass", kind="bearer")
    assert (wrong.value.status, wrong.value.message) == (unknown.value.status, unknown.value.message)


@pytest.mark.gen_test
async def test_token_finds_user_until_logout(store):
    await register(store)
    login = await accounts.login(store, PW, username="ALICE", password=GOOD, kind="bearer")
    assert (await accounts.user_for_token(store, login.token)).username == "alice"
    assert await store.get_session(login.token) is None  # only the hash is stored
    await accounts.logout(store, login.token)
    assert await accounts.user_for_token(store, login.token) is None


@pytest.mark.gen_test
async def test_expired_and_disabled_sessions_do_not_authenticate(store):
    user = await register(store)
    login = await accounts.login(store, PW, username="alice", password=GOOD, kind="cookie")
    session = await store.get_session(token_hash(login.token))
    session.expires_at = session.created_at - dt.timedelta(seconds=1)
    await store.delete_session(session.token_hash)
    await store.add_session(session)
    assert await accounts.user_for_token(store, login.token) is None
    second = await accounts.login(store, PW, username="alice", password=GOOD, kind="cookie")
    await store.update_user(user.id, {"disabled": True})
    assert await accounts.user_for_token(store, second.token) is None
    with pytest.raises(BadCredentials):
        await accounts.login(store, PW, username="alice", password=GOOD, kind="cookie")


@pytest.mark.gen_test
async def test_repeated_failures_are_throttled_per_account(store):
    await register(store)
    for _ in range(5):
        with pytest.raises(BadCredentials):
            await accounts.login(store, PW, username="alice", password="wrong-pass",
                                 kind="bearer", address="10.0.0.1")
    with pytest.raises(RateLimited) as caught:
        await accounts.login(store, PW, username="alice", password=GOOD, kind="bearer",
                             address="10.0.0.2")
    assert caught.value.retry_after_seconds > 0


@pytest.mark.gen_test
async def test_weaker_hashes_are_upgraded_at_login(store):
    from forum.config import PasswordCost
    from forum.security import Passwords
    await register(store)
    stronger = Passwords(PasswordCost(memory_kib=2048, time_cost=2))
    await accounts.login(store, stronger, username="alice", password=GOOD, kind="bearer")
    assert "m=2048,t=2" in (await store.get_user_by_name("alice")).password_hash


@pytest.mark.gen_test
async def test_create_user_grants_roles_and_checks_the_department(store):
    admin = await accounts.create_user(store, PW, username="root", password=GOOD,
                                       roles=[Role.ADMIN])
    assert admin.roles == [Role.CITIZEN, Role.ADMIN]
    staff = await accounts.create_user(store, PW, username="clerk", password=GOOD,
                                       roles=[Role.STAFF], department="tax")
    assert staff.department == "tax"
    with pytest.raises(Invalid) as caught:
        await accounts.create_user(store, PW, username="ghost", password=GOOD,
                                   roles=[Role.STAFF], department="nowhere")
    assert "department" in caught.value.fields


@pytest.mark.gen_test
async def test_idle_logins_end_sooner_for_officials(store):
    from forum.model import clock_at
    from tests.support.people import person
    citizen = await person(store, "citizen")
    official = await person(store, "official", Role.MODERATOR)
    start = citizen.created_at + dt.timedelta(days=1)
    with clock_at(start):
        mine = await accounts.open_session(store, citizen, "cookie")
        theirs = await accounts.open_session(store, official, "cookie")
    with clock_at(start + dt.timedelta(hours=1)):
        assert await accounts.user_for_token(store, theirs.token) is not None  # touched
    with clock_at(start + dt.timedelta(hours=2, minutes=30)):
        assert await accounts.user_for_token(store, theirs.token) is not None  # 1.5 h idle
    with clock_at(start + dt.timedelta(hours=5)):
        assert await accounts.user_for_token(store, theirs.token) is None      # 2.5 h idle
        assert await accounts.user_for_token(store, mine.token) is not None
    with clock_at(start + dt.timedelta(days=13)):
        assert await accounts.user_for_token(store, mine.token) is None        # 8 days idle
