"""Idempotency-Key on creates: a client that lost an answer (a timeout, a dropped connection)
sends the request again with the same key and gets the first answer, and nothing is made twice.

The rule: a key is 1 to 64 visible ASCII characters. The same key from the same caller (the
account, or the address for visitors) within IDEMPOTENCY_RETENTION answers the first result
again and creates nothing; the same key with another request (method, path or body) is refused;
a retry that arrives while the first is still running waits for it a little, then is told to
come back (Conflict). Only successful creates are remembered: one that was refused leaves the key
free, so the corrected request can use it.

What the store keeps is no key to anything: answers can hold secrets that are otherwise kept
only as hashes (a tracking code, an issued API key), so the store sees an HMAC of the key and the
answer encrypted under a key derived from the client's own Idempotency-Key, which the store never
holds. A copy of the database, even with the server's secret, does not give them away.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from forum.clock import now
from forum.errors import Conflict, Invalid, StoreUnavailable
from forum.model import User
from forum.store.base import Store

log = logging.getLogger("forum.idempotency")

HEADER = "Idempotency-Key"
KEY = re.compile(r"[\x21-\x7e]{1,64}")
# How long a retry waits for the first request with its key to finish, and how often it looks.
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05
NONCE_BYTES = 12


class BadKey(Invalid):
    """The header, or its use with another request: 422, naming the header."""

    def __init__(self, why: str):
        super().__init__({HEADER: why})


class StillRunning(Conflict):
    """The first request with this key has not finished within WAIT_SECONDS: 409."""


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: str
    replayed: bool = False


def parse_key(raw: str | None) -> str | None:
    """The key a request carries; None when it carries none. Raises BadKey when malformed."""
    if raw is None:
        return None
    if not KEY.fullmatch(raw):
        raise BadKey("须为 1 到 64 个可见 ASCII 字符")
    return raw


def caller_of(user: User | None, address: str) -> str:
    return f"user:{user.id}" if user is not None else f"address:{address}"


@dataclass(frozen=True)
class Request:
    """One create as the rule sees it: who, which key, and what exactly was asked."""

    caller: str
    key: str
    method: str
    path: str
    body: bytes


async def once(
    store: Store, secret: bytes, request: Request, create: Callable[[], Awaitable[Answer]]
) -> Answer:
    """`create`'s answer, run at most once per (caller, key) within the retention; a repeat gets
    the first answer with replayed=True. Raises BadKey (another request with this key) and
    StillRunning (the first is still running after WAIT_SECONDS)."""
    stored_key = _mac(secret, b"key", request.caller, request.key)
    fingerprint = _mac(
        secret, b"request", request.caller, request.method, request.path, request.body
    )
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        existing = await store.claim_idempotency(request.caller, stored_key, fingerprint, now())
        if existing is None:
            return await _first(store, secret, request, stored_key, create)
        if not hmac.compare_digest(existing.body_hash, fingerprint):
            raise BadKey("此幂等键已用于另一个请求")
        if existing.status is not None:
            body = _open(secret, request, existing.body or "")
            if body is not None:
                return Answer(existing.status, existing.content_type or "", body, replayed=True)
            raise BadKey("此幂等键已用于另一个请求")
        if time.monotonic() >= deadline:
            raise StillRunning("使用同一幂等键的请求仍在处理，请稍后再试")
        await asyncio.sleep(POLL_SECONDS)


async def _first(
    store: Store,
    secret: bytes,
    request: Request,
    stored_key: str,
    create: Callable[[], Awaitable[Answer]],
) -> Answer:
    try:
        answer = await create()
    except BaseException:
        await _release(store, request.caller, stored_key)
        raise
    if answer.status >= 300:
        await _release(store, request.caller, stored_key)
        return answer
    await store.finish_idempotency(
        request.caller,
        stored_key,
        answer.status,
        answer.content_type,
        _seal(secret, request, answer.body),
    )
    return answer


async def _release(store: Store, caller: str, stored_key: str) -> None:
    # The create's own failure is what the caller must hear about, not a second one here; a
    # claim left behind only makes retries with this key wait, then answer 409, for a day.
    try:
        await store.release_idempotency(caller, stored_key)
    except StoreUnavailable:
        log.warning("an Idempotency-Key claim could not be released; retries with it wait")


def _mac(secret: bytes, purpose: bytes, *parts: str | bytes) -> str:
    mac = hmac.new(secret, purpose, hashlib.sha256)
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        mac.update(len(data).to_bytes(8, "big") + data)
    return mac.hexdigest()


def _cipher(secret: bytes, request: Request) -> AESGCM:
    return AESGCM(bytes.fromhex(_mac(secret, b"answer", request.caller, request.key)))


def _seal(secret: bytes, request: Request, body: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return (nonce + _cipher(secret, request).encrypt(nonce, body.encode("utf-8"), None)).hex()


def _open(secret: bytes, request: Request, sealed: str) -> str | None:
    try:
        data = bytes.fromhex(sealed)
        return (
            _cipher(secret, request)
            .decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
            .decode("utf-8")
        )
    except (ValueError, InvalidTag):
        return None
