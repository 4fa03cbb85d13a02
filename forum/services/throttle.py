"""Counting attempts in the store, so limits hold across processes and restarts."""
from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from forum.clock import now
from forum.errors import RateLimited
from forum.store.base import Store


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window: dt.timedelta


# Failed logins to one account are refused only for the address (range) they came from: someone
# guessing from elsewhere cannot lock the owner out (ASVS V6.1.1). Past a higher count from all
# addresses together, every attempt on the account waits LOGIN_SLOWDOWN_SECONDS first, and a
# correct password still gets in.
LOGIN_PER_ACCOUNT = Limit("login-account-address", 5, dt.timedelta(minutes=15))
LOGIN_ACCOUNT_SLOWDOWN = Limit("login-account", 20, dt.timedelta(minutes=15))
LOGIN_SLOWDOWN_SECONDS = 2.0
LOGIN_PER_ADDRESS = Limit("login-address", 20, dt.timedelta(minutes=15))
# Password-reset links asked for, per address and per name typed (whether or not it exists),
# and reset attempts with a wrong token per address.
RESET_PER_ADDRESS = Limit("reset-address", 10, dt.timedelta(hours=1))
RESET_PER_ACCOUNT = Limit("reset-account", 3, dt.timedelta(hours=1))
RESET_TOKENS_PER_ADDRESS = Limit("reset-token-address", 20, dt.timedelta(hours=1))
# Wrong current passwords when changing it: only the account's own sessions can try.
PASSWORD_CHANGE_PER_ACCOUNT = Limit("password-change-account", 5, dt.timedelta(minutes=15))
REGISTER_PER_ADDRESS = Limit("register-address", 20, dt.timedelta(hours=1))
POSTS_PER_ACCOUNT = Limit("posts-account", 20, dt.timedelta(minutes=10))
POSTS_PER_NEW_ACCOUNT = Limit("posts-account", 10, dt.timedelta(minutes=10))
POSTS_PER_ADDRESS = Limit("posts-address", 10, dt.timedelta(minutes=10))  # reports without an account
TRACKING_PER_ADDRESS = Limit("tracking-address", 20, dt.timedelta(minutes=10))
# Open311 requests posted with one API key (a gateway speaks for many citizens, but a leaked or
# runaway key must not flood the bureau's queue).
OPEN311_POSTS_PER_KEY = Limit("open311-key", 10, dt.timedelta(minutes=10))


def address_range(address: str) -> str:
    """The unit an address is counted in: an IPv4 address itself, an IPv6 address's /64 (one
    subscriber usually holds a whole /64 and could rotate through it)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def account_at(account: str, address: str) -> str:
    """The subject of a per-account limit that counts one address range only."""
    return f"{account}@{address_range(address)}"


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{subject}"


async def check(store: Store, limit: Limit, subject: str) -> None:
    """Raise RateLimited when `subject` has used up `limit` in its window.

    The wait is the whole window: never a permanent lock that someone else could trigger."""
    if await store.count_hits(_key(limit, subject), now() - limit.window) >= limit.count:
        raise RateLimited(int(limit.window.total_seconds()))


async def exceeded(store: Store, limit: Limit, subject: str) -> bool:
    """Whether `subject` has used up `limit` in its window (without raising)."""
    return await store.count_hits(_key(limit, subject), now() - limit.window) >= limit.count


async def record(store: Store, limit: Limit, subject: str) -> None:
    await store.add_hit(_key(limit, subject), now())


def hit(limit: Limit, subject: str) -> tuple[str, dt.datetime]:
    """What `record` stores, for a write that stores it in its own transaction."""
    return _key(limit, subject), now()


async def clear(store: Store, limit: Limit, subject: str) -> None:
    await store.clear_hits(_key(limit, subject))
