"""API keys without HTTP: only admins issue, list and revoke; only a live key authenticates;
every issue and revocation is audited."""

from __future__ import annotations

import hashlib

import pytest

from forum.errors import Forbidden, Invalid, NotFound, NotLoggedIn
from forum.model import Role, new_id
from forum.services import apikeys, audit
from tests.support.people import person


@pytest.mark.gen_test
async def test_an_admin_issues_a_key_shown_once_and_stored_only_as_its_hash(store):
    root = await person(store, "root", Role.ADMIN)
    issued = await apikeys.issue(store, root, "  12345 热线系统 ")
    assert issued.api_key.name == "12345 热线系统" and issued.api_key.created_by == root.id
    assert len(issued.key) >= 43  # 32 random bytes, URL-safe base64
    assert issued.api_key.key_hash == hashlib.sha256(issued.key.encode()).hexdigest()
    (listed,) = await apikeys.list_keys(store, root)
    assert listed == issued.api_key and issued.key not in repr(listed)
    assert await apikeys.authenticate(store, issued.key) == issued.api_key
    other = await apikeys.issue(store, root, "微信小程序")
    assert other.key != issued.key
    assert [k.name for k in await apikeys.list_keys(store, root)] == [
        "微信小程序",
        "12345 热线系统",
    ]


@pytest.mark.gen_test
async def test_revoked_keys_stop_authenticating_and_both_steps_are_audited(store):
    root = await person(store, "root", Role.ADMIN)
    issued = await apikeys.issue(store, root, "网关")
    revoked = await apikeys.revoke(store, root, issued.api_key.id, "泄露")
    assert revoked.revoked_at is not None
    assert await apikeys.authenticate(store, issued.key) is None
    again = await apikeys.revoke(store, root, issued.api_key.id)
    assert again.revoked_at == revoked.revoked_at
    entries, _ = await audit.list_entries(
        store, actor_id=root.id, target=f"api_key:{issued.api_key.id}"
    )
    assert [(e.action, e.reason) for e in entries] == [
        ("revoke_api_key", "泄露"),
        ("issue_api_key", ""),
    ]
    for unknown in (new_id(), "nonsense", None):
        with pytest.raises(NotFound):
            await apikeys.revoke(store, root, unknown)


@pytest.mark.gen_test
@pytest.mark.parametrize("roles", [(), (Role.MODERATOR,), (Role.STAFF,)])
async def test_only_admins_manage_keys(store, roles):
    someone = await person(
        store, "someone", *roles, department="tax" if Role.STAFF in roles else None
    )
    root = await person(store, "root", Role.ADMIN)
    issued = await apikeys.issue(store, root, "网关")
    with pytest.raises(Forbidden):
        await apikeys.issue(store, someone, "我的")
    with pytest.raises(Forbidden):
        await apikeys.list_keys(store, someone)
    with pytest.raises(Forbidden):
        await apikeys.revoke(store, someone, issued.api_key.id)
    with pytest.raises(NotLoggedIn):
        await apikeys.issue(store, None, "匿名")
    assert await apikeys.authenticate(store, issued.key) is not None


@pytest.mark.gen_test
async def test_key_names_are_checked(store):
    root = await person(store, "root", Role.ADMIN)
    for bad in (None, "", "   ", "x" * 61, "坏\x00名", 42):
        with pytest.raises(Invalid) as caught:
            await apikeys.issue(store, root, bad)
        assert set(caught.value.fields) == {"name"}
    assert await apikeys.list_keys(store, root) == []


@pytest.mark.gen_test
async def test_anything_but_a_live_key_authenticates_as_nobody(store):
    root = await person(store, "root", Role.ADMIN)
    issued = await apikeys.issue(store, root, "网关")
    for presented in (
        None,
        "",
        42,
        ["x"],
        issued.key + "x",
        issued.key.upper(),
        "x" * 10_000,
        issued.api_key.key_hash,
        "\ud800",
    ):
        assert await apikeys.authenticate(store, presented) is None
