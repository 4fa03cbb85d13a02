"""Administration of accounts without HTTP (forum/services/admin.py) and flags."""

from __future__ import annotations

import pytest

from forum.errors import Conflict, Forbidden, Invalid, NotFound, NotLoggedIn
from forum.model import Role
from forum.services import accounts, admin, flags, posting
from tests.support.apps import TEST_PASSWORDS
from tests.support.people import person
from tests.support.web import PASSWORD


@pytest.mark.gen_test
async def test_admin_verifies_a_lawyer_and_it_is_audited(store):
    root, volunteer = await person(store, "root", Role.ADMIN), await person(store, "vol")
    user = await admin.update_user(
        store, root, "VOL", {"roles": ["lawyer"], "specialties": ["合同", "劳动"]}
    )
    assert user.roles == [Role.CITIZEN, Role.LAWYER] and user.specialties == ["劳动", "合同"]
    (entry,) = await store.list_audit(actor_id=root.id, target=None, after=None, limit=10)
    assert entry.target == "user:vol" and "lawyer" in entry.detail
    assert volunteer.id != root.id


@pytest.mark.gen_test
async def test_disabling_ends_sessions_and_logins(store):
    root = await person(store, "root", Role.ADMIN)
    await person(store, "vol")
    login = await accounts.login(
        store, TEST_PASSWORDS, username="vol", password=PASSWORD, kind="bearer"
    )
    await admin.update_user(store, root, "vol", {"disabled": True})
    assert await accounts.user_for_token(store, login.token) is None
    with pytest.raises(Exception):
        await accounts.login(
            store, TEST_PASSWORDS, username="vol", password=PASSWORD, kind="bearer"
        )
    await admin.update_user(store, root, "vol", {"disabled": False})
    assert (
        await accounts.login(
            store, TEST_PASSWORDS, username="vol", password=PASSWORD, kind="bearer"
        )
    ).user.username == "vol"


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "role", [None, Role.CITIZEN, Role.LAWYER, Role.EXPERT, Role.STAFF, Role.MODERATOR]
)
async def test_only_admins_change_accounts(store, role):
    await person(store, "vol")
    actor = None if role is None else await person(store, "actor", role, department="tax")
    with pytest.raises(NotLoggedIn if role is None else Forbidden):
        await admin.update_user(store, actor, "vol", {"roles": ["admin"]})
    with pytest.raises(NotLoggedIn if role is None else Forbidden):
        await admin.find_users(store, actor, "")
    assert (await store.get_user_by_name("vol")).roles == [Role.CITIZEN]


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "data, field",
    [
        ({"roles": ["emperor"]}, "roles"),
        ({"roles": "lawyer"}, "roles"),
        ({"roles": [{"$ne": None}]}, "roles"),
        ({"department": "nowhere"}, "department"),
        ({"department": {"$gt": ""}}, "department"),
        ({"specialties": ["占卜"]}, "specialties"),
        ({"specialties": "劳动"}, "specialties"),
        ({"disabled": "yes"}, "disabled"),
        ({"roles": ["staff"]}, "department"),
        ({}, "roles"),
    ],
)
async def test_bad_changes_are_422(store, data, field):
    root = await person(store, "root", Role.ADMIN)
    await person(store, "vol")
    with pytest.raises(Invalid) as caught:
        await admin.update_user(store, root, "vol", data)
    assert field in caught.value.fields
    assert (await store.get_user_by_name("vol")).roles == [Role.CITIZEN]
    assert root.roles == [Role.CITIZEN, Role.ADMIN]


@pytest.mark.gen_test
async def test_admins_cannot_lock_themselves_out(store):
    root = await person(store, "root", Role.ADMIN)
    for data, field in (({"roles": ["citizen"]}, "roles"), ({"disabled": True}, "disabled")):
        with pytest.raises(Invalid) as caught:
            await admin.update_user(store, root, "root", data)
        assert field in caught.value.fields


@pytest.mark.gen_test
async def test_unknown_user_is_404(store):
    root = await person(store, "root", Role.ADMIN)
    with pytest.raises(NotFound):
        await admin.update_user(store, root, "ghost", {"roles": []})


@pytest.mark.gen_test
async def test_find_users_by_prefix_in_pages(store):
    root = await person(store, "root", Role.ADMIN)
    for name in ("li_a", "Li_b", "li_c", "wang"):
        await person(store, name)
    first, cursor = await admin.find_users(store, root, "LI", limit="2")
    second, end = await admin.find_users(store, root, "li", after=cursor, limit="2")
    assert [u.username for u in first + second] == ["li_a", "Li_b", "li_c"] and end is None
    everyone, _ = await admin.find_users(store, root, "")
    assert len(everyone) == 5
    hostile, _ = await admin.find_users(store, root, "%' OR 1=1 --")
    assert hostile == []


@pytest.mark.gen_test
async def test_flags_one_open_per_reader(store):
    alice, bob = await person(store, "alice"), await person(store, "bob")
    post = (await posting.create_post(store, alice, "forum", {"title": "t", "body": "b"})).post
    flag = await flags.flag_post(store, bob, post.id, "广告")
    assert flag.open and flag.reason == "广告"
    with pytest.raises(Conflict):
        await flags.flag_post(store, bob, post.id, "再举报")
    with pytest.raises(Forbidden):
        await flags.flag_post(store, alice, post.id, "自己")
    with pytest.raises(NotLoggedIn):
        await flags.flag_post(store, None, post.id, "x")
    for bad in (None, "", "x" * 501, {"$ne": 1}):
        with pytest.raises(Invalid):
            await flags.flag_post(store, await person(store, f"r{len(str(bad))}"), post.id, bad)
    assert [f.reason for f in await store.list_flags(post.id)] == ["广告"]


@pytest.mark.gen_test
async def test_unknown_fields_are_named(store):
    root = await person(store, "root", Role.ADMIN)
    await person(store, "vol")
    with pytest.raises(Invalid) as caught:
        await admin.update_user(store, root, "vol", {"username": "x", "password_hash": "y"})
    assert set(caught.value.fields) == {"username", "password_hash"}


@pytest.mark.gen_test
async def test_board_settings(store):
    root, mod = await person(store, "root", Role.ADMIN), await person(store, "mod", Role.MODERATOR)
    updated = await admin.update_board(
        store,
        root,
        "mayor",
        {
            "accept_days": 2,
            "reply_days": 10,
            "categories": ["城建", "城建", "交通"],
            "description": "新说明",
            "is_open": False,
        },
    )
    assert (updated.accept_days, updated.reply_days, updated.categories) == (
        2,
        10,
        ["城建", "交通"],
    )
    assert (await store.get_board("mayor")).is_open is False
    for data, field in (
        ({"accept_days": 0}, "accept_days"),
        ({"reply_days": "15"}, "reply_days"),
        ({"categories": "x"}, "categories"),
        ({"slug": "x"}, "slug"),
        ({"is_open": "no"}, "is_open"),
        ({"name": ""}, "name"),
    ):
        with pytest.raises(Invalid) as caught:
            await admin.update_board(store, root, "mayor", data)
        assert field in caught.value.fields
    with pytest.raises(Forbidden):
        await admin.update_board(store, mod, "mayor", {"accept_days": 5})
    with pytest.raises(NotFound):
        await admin.update_board(store, root, "nope", {})
