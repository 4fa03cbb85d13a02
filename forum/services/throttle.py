"""Counting attempts in the store, so limits hold across processes and restarts.

A place in a limit is reserved before the slow work it limits (argon2, rendering, storing) and
given back when the attempt turns out not to count (a right password, a refused write): checking
first and recording afterwards would let a burst of requests all pass the same count."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import AsyncIterator

from forum.clock import now
from forum.errors import DomainError, RateLimited
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
POSTS_PER_ADDRESS = Limit(
    "posts-address", 10, dt.timedelta(minutes=10)
)  # reports without an account
TRACKING_PER_ADDRESS = Limit("tracking-address", 20, dt.timedelta(minutes=10))
# Searches by visitors without an account, per address (range): each new query costs
# segmentation and ranking (docs/PERFORMANCE.md), so one address must not take every core.
SEARCHES_PER_ADDRESS = Limit("search-address", 60, dt.timedelta(minutes=1))
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


@dataclass(frozen=True)
class Reservation:
    """A place taken in a limit's window, to give back with `release` if the attempt turns out
    not to count."""

    key: str
    hit_id: str


async def try_reserve(store: Store, limit: Limit, subject: str) -> Reservation | None:
    """Take a place in `limit` for `subject`, or None when it is used up. Counting and taking
    are one write in the store, so attempts fired at once cannot all pass a count made before
    any of them was recorded."""
    at = now()
    key = _key(limit, subject)
    hit_id = await store.reserve_hit(key, at, at - limit.window, limit.count)
    return None if hit_id is None else Reservation(key, hit_id)


async def reserve(store: Store, limit: Limit, subject: str) -> Reservation:
    """Take a place in `limit` for `subject` before the work it limits; raise RateLimited when
    it is used up.

    The wait is the whole window: never a permanent lock that someone else could trigger."""
    taken = await try_reserve(store, limit, subject)
    if taken is None:
        raise RateLimited(int(limit.window.total_seconds()))
    return taken


async def reserve_all(store: Store, *limits: tuple[Limit, str]) -> list[Reservation]:
    """A place in each of `limits` ((limit, subject) pairs), or none: when one is used up, the
    places already taken are given back (the attempt was refused, so it does not count) and
    RateLimited is raised."""
    taken: list[Reservation] = []
    try:
        for limit, subject in limits:
            taken.append(await reserve(store, limit, subject))
    except BaseException:
        await release(store, *taken)
        raise
    return taken


async def release(store: Store, *reservations: Reservation | None) -> None:
    """Give places back; None stands for a limit that did not apply."""
    for reservation in reservations:
        if reservation is not None:
            await store.release_hit(reservation.key, reservation.hit_id)


@contextlib.asynccontextmanager
async def released_if_refused(
    store: Store, *reservations: Reservation | None
) -> AsyncIterator[None]:
    """Around the write a place was reserved for: a domain error (the write was refused and
    nothing stored, e.g. a name taken) gives the places back, as the attempt did not count."""
    try:
        yield
    except DomainError:
        await release(store, *reservations)
        raise


async def clear(store: Store, limit: Limit, subject: str) -> None:
    await store.clear_hits(_key(limit, subject))
