"""Password reset by e-mail without HTTP (forum/services/recovery.py)."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import re

import pytest

from forum.errors import BadCredentials, Invalid, RateLimited
from forum.model import Mail
from forum.security import token_hash
from forum.services import accounts, recovery, throttle
from tests.support.apps import TEST_PASSWORDS as PW
from tests.support.outbox import take_all_mail

GOOD = "correct-horse-9"
NEW = "brand-new-horse-51"


async def outbox(store) -> list[Mail]:
    """Every mail waiting, taken out of the outbox."""
    return await take_all_mail(store)


async def account(store, name="alice", *, confirmed=True, email="alice@example.org"):
    user = await accounts.create_user(store, PW, username=name, password=GOOD, email=email)
    if confirmed:
        await store.update_user(user.id, {"email_confirmed": True})
    await outbox(store)
    return user


def link_token(mail: Mail) -> str:
    return re.search(r"/reset-password/([A-Za-z0-9_-]+)", mail.body).group(1)


@pytest.mark.gen_test
async def test_a_reset_link_is_mailed_works_once_and_ends_every_session(store):
    user = await account(store)
    phone = await accounts.login(store, PW, username="alice", password=GOOD, kind="bearer")
    await recovery.request_reset(store, username="ALICE", address="10.0.0.1")
    (mail,) = await outbox(store)
    assert mail.to == "alice@example.org" and "30 分钟" in mail.body
    token = link_token(mail)
    assert len(token) >= 43  # 32 random bytes: 256 bits
    stored = await store.get_session(token_hash(token))
    assert stored.kind == recovery.RESET_KIND and stored.user_id == user.id
    assert stored.expires_at - stored.created_at == dt.timedelta(minutes=30)
    assert await store.get_session(token) is None  # only the hash is kept
    assert await accounts.user_for_token(store, token) is None  # never a login

    await recovery.reset_password(store, PW, token=token, new_password=NEW, address="10.0.0.2")
    assert await accounts.user_for_token(store, phone.token) is None
    with pytest.raises(BadCredentials):
        await accounts.login(store, PW, username="alice", password=GOOD, kind="bearer")
    await accounts.login(store, PW, username="alice", password=NEW, kind="bearer")
    (notice,) = await outbox(store)
    assert notice.to == "alice@example.org" and "重设" in notice.subject
    with pytest.raises(Invalid) as caught:  # a second use
        await recovery.reset_password(store, PW, token=token, new_password="other-horse-52")
    assert "token" in caught.value.fields


@pytest.mark.gen_test
async def test_the_answer_is_the_same_whether_or_not_the_account_exists(store):
    await account(store)
    await account(store, "unconfirmed", confirmed=False, email="u@example.org")
    await account(store, "nomail", email=None)
    disabled = await account(store, "gone", email="g@example.org")
    await store.update_user(disabled.id, {"disabled": True})
    for name in ("nobody_here", "unconfirmed", "nomail", "gone", "alice"):
        assert (
            await recovery.request_reset(store, username=name, address=f"10.1.0.{len(name)}")
            is None
        )
    assert [m.to for m in await outbox(store)] == ["alice@example.org"]


@pytest.mark.gen_test
async def test_an_expired_link_no_longer_works(store, clock):
    await account(store)
    await recovery.request_reset(store, username="alice")
    token = link_token((await outbox(store))[0])
    clock.advance(minutes=31)
    with pytest.raises(Invalid) as caught:
        await recovery.reset_password(store, PW, token=token, new_password=NEW)
    assert "token" in caught.value.fields
    await accounts.login(store, PW, username="alice", password=GOOD, kind="bearer")


@pytest.mark.gen_test
async def test_two_requests_racing_with_one_token_change_the_password_once(store):
    await account(store)
    await recovery.request_reset(store, username="alice")
    token = link_token((await outbox(store))[0])
    results = await asyncio.gather(
        recovery.reset_password(store, PW, token=token, new_password=NEW),
        recovery.reset_password(store, PW, token=token, new_password="racing-horse-53"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Invalid) for r in results) == 1


@pytest.mark.gen_test
async def test_asking_is_limited_per_name_and_per_address_alike_for_unknown_names(store):
    await account(store)
    for name in ("alice", "nobody_here"):
        for n in range(throttle.RESET_PER_ACCOUNT.count):
            await recovery.request_reset(store, username=name, address=f"10.2.{n}.1")
        with pytest.raises(RateLimited):
            await recovery.request_reset(store, username=name, address="10.2.99.1")
    assert len(await outbox(store)) == throttle.RESET_PER_ACCOUNT.count
    for n in range(throttle.RESET_PER_ADDRESS.count):
        await recovery.request_reset(store, username=f"someone{n}", address="10.3.0.1")
    with pytest.raises(RateLimited):
        await recovery.request_reset(store, username="another", address="10.3.0.1")


@pytest.mark.gen_test
async def test_guessing_tokens_is_limited_per_address(store):
    await account(store)
    for n in range(throttle.RESET_TOKENS_PER_ADDRESS.count):
        with pytest.raises(Invalid):
            await recovery.reset_password(
                store,
                PW,
                token=f"guessed-token-{n:04d}-xxxxxxxxxxxx",
                new_password=NEW,
                address="10.4.0.1",
            )
    await recovery.request_reset(store, username="alice")
    token = link_token((await outbox(store))[0])
    with pytest.raises(RateLimited):
        await recovery.reset_password(store, PW, token=token, new_password=NEW, address="10.4.0.1")
    await recovery.reset_password(store, PW, token=token, new_password=NEW, address="10.4.0.2")


@pytest.mark.gen_test
async def test_guessed_tokens_at_once_are_tried_only_up_to_the_limit(store, clock):
    await account(store)
    limit = throttle.RESET_TOKENS_PER_ADDRESS.count
    results = await asyncio.gather(
        *(
            recovery.reset_password(
                store,
                PW,
                token=f"guessed-token-{n:04d}-xxxxxxxxxxxx",
                new_password=NEW,
                address="10.5.0.1",
            )
            for n in range(limit + 10)
        ),
        return_exceptions=True,
    )
    assert collections.Counter(type(r) for r in results) == {Invalid: limit, RateLimited: 10}


@pytest.mark.gen_test
async def test_a_working_token_gives_back_the_place_it_reserved(store, clock):
    await account(store)
    limit = throttle.RESET_TOKENS_PER_ADDRESS.count
    for n in range(limit - 1):
        with pytest.raises(Invalid):
            await recovery.reset_password(
                store,
                PW,
                token=f"guessed-token-{n:04d}-xxxxxxxxxxxx",
                new_password=NEW,
                address="10.6.0.1",
            )
    await recovery.request_reset(store, username="alice")
    token = link_token((await outbox(store))[0])
    await recovery.reset_password(store, PW, token=token, new_password=NEW, address="10.6.0.1")
    # One bad token is still allowed: the good one did not use up the last place.
    with pytest.raises(Invalid):
        await recovery.reset_password(
            store, PW, token="guessed-token-last-xxxxxxxxxxxx", new_password=NEW, address="10.6.0.1"
        )
    with pytest.raises(RateLimited):
        await recovery.reset_password(
            store, PW, token="guessed-token-more-xxxxxxxxxxxx", new_password=NEW, address="10.6.0.1"
        )


@pytest.mark.gen_test
async def test_other_tokens_are_no_reset_tokens(store):
    user = await account(store, confirmed=False)
    login = await accounts.login(store, PW, username="alice", password=GOOD, kind="bearer")
    with pytest.raises(Invalid):
        await recovery.reset_password(store, PW, token=login.token, new_password=NEW)
    assert await accounts.user_for_token(store, login.token) == user  # not taken either


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "username, field",
    [
        (None, "username"),
        ("", "username"),
        (123, "username"),
        (["alice"], "username"),
        ({"$ne": None}, "username"),
        ("x" * 257, "username"),
        ("ali\x00ce", "username"),
        ("\ud800", "username"),
    ],
)
async def test_bad_reset_requests_name_the_field(store, username, field):
    with pytest.raises(Invalid) as caught:
        await recovery.request_reset(store, username=username)
    assert field in caught.value.fields


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "token, password, field",
    [
        (None, NEW, "token"),
        ("", NEW, "token"),
        (42, NEW, "token"),
        ("a" * 101, NEW, "token"),
        ("<script>alert(1)</script>xxxxxxxxxx", NEW, "token"),
        ("short", NEW, "token"),
        ("\ud800" * 30, NEW, "token"),
        ({"$gt": ""}, NEW, "token"),
        ("a" * 43, None, "new_password"),
        ("a" * 43, "short", "new_password"),
        ("a" * 43, "password123", "new_password"),
        ("a" * 43, "x" * 257, "new_password"),
        ("a" * 43, ["list"], "new_password"),
    ],
)
async def test_bad_resets_name_the_field(store, token, password, field):
    with pytest.raises(Invalid) as caught:
        await recovery.reset_password(store, PW, token=token, new_password=password)
    assert field in caught.value.fields
