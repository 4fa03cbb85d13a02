"""Building a test application: a fresh store, cheap password hashing, seeded boards."""

from __future__ import annotations

import dataclasses

from forum.app import make_app
from forum.config import Config, PasswordCost
from forum.security import Passwords
from forum.services.setup import prepare_store

# argon2id at its cheapest: the suite makes hundreds of accounts; production uses Config's cost.
TEST_PASSWORD_COST = PasswordCost(memory_kib=1024, time_cost=1, parallelism=1)
TEST_CONFIG = Config(cookie_secret="test-secret-" + "x" * 32, password_cost=TEST_PASSWORD_COST)
TEST_PASSWORDS = Passwords(TEST_PASSWORD_COST)


def config_with(**changes) -> Config:
    """The test configuration with some fields changed (a clock, a metrics token, ...)."""
    return dataclasses.replace(TEST_CONFIG, **changes)


def build_app(store, config: Config = TEST_CONFIG):
    return make_app(config, store, TEST_PASSWORDS)


async def seeded(store):
    await prepare_store(store)
    return store
