"""Accounts without HTTP (forum/services/accounts.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from forum.errors import BadCredentials, Conflict, Invalid, RateLimited
from forum.model import Role
from forum.security import token_hash
from forum.services import accounts, throttle
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
@pytest.mark.parametrize(
    "fields, bad",
    [
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
    ],
)
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
    assert (wrong.value.status, wrong.value.message) == (
        unknown.value.status,
        unknown.value.message,
    )


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


async def fail(store, address, name="alice", times=1):
    for _ in range(times):
        with pytest.raises(BadCredentials):
            await accounts.login(
                store, PW, username=name, password="wrong-pass", kind="bearer", address=address
            )


@pytest.mark.gen_test
async def test_repeated_failures_are_throttled_per_account_and_address(store):
    await register(store)
    await fail(store, "10.0.0.1", times=5)
    with pytest.raises(RateLimited) as caught:  # the guesser's own address: even the right one
        await accounts.login(
            store, PW, username="alice", password=GOOD, kind="bearer", address="10.0.0.1"
        )
    assert caught.value.retry_after_seconds > 0
    # The owner, elsewhere, is not locked out by someone else's guessing (ASVS V6.1.1).
    await accounts.login(
        store, PW, username="alice", password=GOOD, kind="bearer", address="10.0.0.2"
    )


async def failures(store, limit, subject, clock):
    return await store.count_hits(f"{limit.name}:{subject}", clock.now() - limit.window)


@pytest.mark.gen_test
async def test_the_right_password_gives_back_the_failure_it_reserved(store, clock):
    await register(store)
    await fail(store, "10.0.0.1", times=4)
    # A failure's place is taken before the password is checked; with four taken, a fifth
    # attempt still gets one, and the right password gives it back.
    login = await accounts.login(
        store, PW, username="alice", password=GOOD, kind="bearer", address="10.0.0.1"
    )
    assert login.user.username == "alice"
    assert await failures(store, throttle.LOGIN_PER_ADDRESS, "10.0.0.1", clock) == 4
    assert await failures(store, throttle.LOGIN_ACCOUNT_SLOWDOWN, "alice", clock) == 4
    # Failures of this account from this address are forgotten after a success, as before.
    assert await failures(store, throttle.LOGIN_PER_ACCOUNT, "alice@10.0.0.1", clock) == 0
    await fail(store, "10.0.0.1", times=throttle.LOGIN_PER_ACCOUNT.count)
    with pytest.raises(RateLimited):
        await fail(store, "10.0.0.1")


@pytest.mark.gen_test
async def test_an_ipv6_range_counts_as_one_address(store):
    await register(store)
    for host in range(1, 6):
        await fail(store, f"2001:db8:1:2::{host}")
    with pytest.raises(RateLimited):
        await accounts.login(
            store,
            PW,
            username="alice",
            password=GOOD,
            kind="bearer",
            address="2001:db8:1:2:ffff::9",
        )
    await accounts.login(
        store, PW, username="alice", password=GOOD, kind="bearer", address="2001:db8:1:3::1"
    )


@pytest.mark.gen_test
async def test_guessing_from_many_addresses_slows_the_account_down_but_locks_nobody_out(
    store, monkeypatch
):
    await register(store)
    waits = []

    async def sleep(seconds):
        waits.append(seconds)

    monkeypatch.setattr(accounts.asyncio, "sleep", sleep)
    for n in range(throttle.LOGIN_ACCOUNT_SLOWDOWN.count // 4):
        await fail(store, f"10.1.0.{n}", times=4)
    assert waits == []  # up to the limit, nobody waits
    waits.clear()
    owner = await accounts.login(
        store, PW, username="alice", password=GOOD, kind="bearer", address="10.2.0.1"
    )
    assert owner.user.username == "alice"
    assert waits == [throttle.LOGIN_SLOWDOWN_SECONDS]
    # Another account is not slowed down.
    await register(store, "bob")
    waits.clear()
    await accounts.login(
        store, PW, username="bob", password=GOOD, kind="bearer", address="10.2.0.1"
    )
    assert waits == []


@pytest.mark.gen_test
async def test_logins_are_limited_per_address_across_accounts(store):
    await register(store)
    for n in range(throttle.LOGIN_PER_ADDRESS.count // 4):
        await fail(store, "10.3.0.1", name=f"nobody{n}", times=4)
    with pytest.raises(RateLimited):
        await accounts.login(
            store, PW, username="alice", password=GOOD, kind="bearer", address="10.3.0.1"
        )
    await accounts.login(
        store, PW, username="alice", password=GOOD, kind="bearer", address="10.3.0.2"
    )


@pytest.mark.gen_test
async def test_registrations_are_limited_per_address(store):
    for n in range(throttle.REGISTER_PER_ADDRESS.count):
        await register(store, f"user{n}", address="10.4.0.1")
    with pytest.raises(RateLimited):
        await register(store, "onemore", address="10.4.0.1")
    await register(store, "onemore", address="10.4.0.2")


def test_address_ranges():
    assert throttle.address_range("10.0.0.1") == "10.0.0.1"
    assert (
        throttle.address_range("2001:db8::1")
        == throttle.address_range("2001:db8::ffff")
        == "2001:db8::/64"
    )
    assert throttle.address_range("::ffff:10.0.0.1") == "10.0.0.1"
    assert throttle.address_range("not an address") == "not an address"
    assert throttle.address_range("") == ""


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
    admin = await accounts.create_user(
        store, PW, username="root", password=GOOD, roles=[Role.ADMIN]
    )
    assert admin.roles == [Role.CITIZEN, Role.ADMIN]
    staff = await accounts.create_user(
        store, PW, username="clerk", password=GOOD, roles=[Role.STAFF], department="tax"
    )
    assert staff.department == "tax"
    with pytest.raises(Invalid) as caught:
        await accounts.create_user(
            store, PW, username="ghost", password=GOOD, roles=[Role.STAFF], department="nowhere"
        )
    assert "department" in caught.value.fields


@pytest.mark.gen_test
async def test_idle_logins_end_sooner_for_officials(store):
    from forum.clock import clock_at
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
        assert await accounts.user_for_token(store, theirs.token) is None  # 2.5 h idle
        assert await accounts.user_for_token(store, mine.token) is not None
    with clock_at(start + dt.timedelta(days=13)):
        assert await accounts.user_for_token(store, mine.token) is None  # 8 days idle
