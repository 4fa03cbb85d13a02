"""Password hashing, login tokens and throttling arithmetic. No state lives here: the hasher is
built from Config, and tokens and counters are kept in the store."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from pathlib import Path

from passlib.context import CryptContext

from forum.config import PasswordCost

TOKEN_BYTES = 32  # 256 bits of randomness per session or API token
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"


@functools.cache
def _common_passwords() -> frozenset[str]:
    # Read once per process: shipped, read-only data, like the boards' policies.
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


def is_common_password(password: str) -> bool:
    """Whether the password is on the shipped list of the most used ones."""
    return password.casefold() in _common_passwords()


class Passwords:
    """argon2id through passlib; hashing runs in a thread because it is slow on purpose."""

    def __init__(self, cost: PasswordCost):
        self._context = CryptContext(
            schemes=["argon2"],
            deprecated="auto",
            argon2__type="ID",
            argon2__memory_cost=cost.memory_kib,
            argon2__rounds=cost.time_cost,
            argon2__parallelism=cost.parallelism,
        )
        # Verified against when the user is unknown, so both answers take the same time.
        self._dummy_hash = self._context.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._context.hash, password)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """(matches, new hash or None). A new hash comes back when the stored one used weaker
        parameters than the configured ones, so old hashes are upgraded at login."""
        if hashed is None:
            await asyncio.to_thread(self._context.verify, password, self._dummy_hash)
            return False, None
        return await asyncio.to_thread(self._context.verify_and_update, password, hashed)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the store keeps of a token: a leaked database holds no usable logins."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# 查询码: letters and digits that cannot be mistaken for one another (no I, O, 0 or 1), 5 bits
# each. 28 of them carry 140 bits (ASVS V11.5.1 asks for 128), written in groups of 4 so that
# people can read them out and type them: ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345.
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TRACKING_CODE_CHARS = 28
TRACKING_GROUP_CHARS = 4
# Codes handed out before: 16 characters (80 bits), still accepted for look-ups.
OLD_TRACKING_CODE_CHARS = 16


def new_tracking_code() -> str:
    """A new 查询码: 28 characters of TRACKING_ALPHABET (140 bits) in groups of 4."""
    chars = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_CODE_CHARS))
    return "-".join(
        chars[i : i + TRACKING_GROUP_CHARS]
        for i in range(0, TRACKING_CODE_CHARS, TRACKING_GROUP_CHARS)
    )


def tracking_key(code: str) -> str:
    """A 查询码 as typed, reduced to what is hashed: capitals, without spaces or dashes."""
    return code.strip().upper().replace("-", "").replace(" ", "")


def tracking_hash(code: str) -> str:
    """What the store keeps of a 查询码: the SHA-256 of its key (only the hash, as for tokens)."""
    return token_hash(tracking_key(code))
