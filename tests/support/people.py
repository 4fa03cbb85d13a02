"""Accounts of each role, made straight through the accounts service."""

from __future__ import annotations

import datetime as dt

from forum.model import Role, User
from forum.services import accounts
from tests.support.apps import TEST_PASSWORDS
from tests.support.web import PASSWORD


async def person(
    store,
    name: str,
    *roles: Role,
    department: str | None = None,
    age: dt.timedelta = dt.timedelta(days=30),
) -> User:
    """A user of the given roles whose account is `age` old (old enough for the new-account
    limits not to apply, unless a test asks otherwise)."""
    user = await accounts.create_user(
        store,
        TEST_PASSWORDS,
        username=name,
        password=PASSWORD,
        roles=list(roles),
        department=department,
    )
    created = user.created_at - age
    await store.update_user(user.id, {"created_at": created})
    user.created_at = created
    return user


async def login_as(api, store, name: str, *roles: Role, department: str | None = None):
    """`api` as `name` (an account of those roles, made the first time it is asked for)."""
    if await store.get_user_by_name(name) is None:
        await person(store, name, *roles, department=department)
    return await api.login(name)
