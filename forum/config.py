"""Configuration, read once from the command line and FORUM_* environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from forum.clock import SYSTEM_CLOCK, Clock
from forum.durable import write_whole

DEFAULT_DB = "sqlite:///data/forum.db"
SECRET_FILE_NAME = "cookie_secret"
MIN_SECRET_CHARS = 32  # a generated one has 64


@dataclass(frozen=True)
class PasswordCost:
    """argon2id parameters; the defaults meet OWASP's minimum (19 MiB, 2 passes). Tests lower them."""

    memory_kib: int = 19 * 1024
    time_cost: int = 2
    parallelism: int = 1


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8888
    db: str = DEFAULT_DB
    cookie_secret: str = ""
    password_cost: PasswordCost = field(default_factory=PasswordCost)
    behind_https: bool = False
    debug: bool = False
    smtp_url: str | None = None  # FORUM_SMTP_URL: e-mail is sent only when this is set
    site_url: str = ""  # FORUM_SITE_URL: the address links in e-mails point to
    metrics_token: str | None = None  # FORUM_METRICS_TOKEN: GET /metrics then needs it as a bearer
    page_cache: bool = True  # whole pages for anonymous readers (forum/web/pagecache.py)
    clock: Clock = SYSTEM_CLOCK  # the time for requests and periodic jobs (tests move it)
    templates_path: str = str(Path(__file__).resolve().parent.parent / "templates")
    static_path: str = str(Path(__file__).resolve().parent.parent / "static")


def site_address(config: Config) -> str:
    """The site's own address for absolute links (feeds, mail): FORUM_SITE_URL, else the
    listening address. Never a request's Host header, which the requester chooses."""
    return (config.site_url or f"http://{config.host}:{config.port}").rstrip("/")


def env_db() -> str:
    return os.environ.get("FORUM_DB") or DEFAULT_DB


def sqlite_folder(db_url: str) -> Path | None:
    """The folder that holds an SQLite database, or None for other stores."""
    if urlsplit(db_url).scheme != "sqlite":
        return None
    path = db_url[len("sqlite://") :]
    return Path(path[1:] if path.startswith("/") else path).resolve().parent


class BadSecret(Exception):
    """The kept cookie secret is empty or too short to sign cookies with; the message says what
    to do."""


def cookie_secret(db_url: str) -> str:
    """FORUM_SECRET if set; otherwise a secret generated once and kept beside the SQLite
    database, so sessions survive restarts. A MongoDB deployment with several processes must
    set FORUM_SECRET so that every process signs cookies alike.

    The file is written whole or not at all (a temporary file flushed to disk, then linked into
    place; see forum.durable), so a crash or a full disk on the first start cannot leave an
    empty secret behind; one that is empty or short anyway is refused (BadSecret)."""
    secret = os.environ.get("FORUM_SECRET")
    if secret:
        return secret
    folder = sqlite_folder(db_url) or Path("data").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_FILE_NAME
    if not path.exists():
        # Two processes starting at once: the first one's secret stands, the other reads it.
        write_whole(str(path), secrets.token_urlsafe(48).encode(), replace=False)
    secret = path.read_text().strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise BadSecret(
            f"{path} holds {len(secret)} characters, not a usable cookie secret "
            f"({MIN_SECRET_CHARS} at least): delete it to have a new one made "
            f"(everyone is logged out), or set FORUM_SECRET"
        )
    return secret
