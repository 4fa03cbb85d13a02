"""Configuration, read once from the command line and FORUM_* environment variables."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from forum.clock import SYSTEM_CLOCK, Clock

DEFAULT_DB = "sqlite:///data/forum.db"
SECRET_FILE_NAME = "cookie_secret"


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
    smtp_url: str | None = None      # FORUM_SMTP_URL: e-mail is sent only when this is set
    site_url: str = ""               # FORUM_SITE_URL: the address links in e-mails point to
    metrics_token: str | None = None  # FORUM_METRICS_TOKEN: GET /metrics then needs it as a bearer
    page_cache: bool = True          # whole pages for anonymous readers (forum/web/pagecache.py)
    clock: Clock = SYSTEM_CLOCK      # the time for requests and periodic jobs (tests move it)
    templates_path: str = str(Path(__file__).resolve().parent.parent / "templates")
    static_path: str = str(Path(__file__).resolve().parent.parent / "static")


def env_db() -> str:
    return os.environ.get("FORUM_DB") or DEFAULT_DB


def sqlite_folder(db_url: str) -> Path | None:
    """The folder that holds an SQLite database, or None for other stores."""
    if urlsplit(db_url).scheme != "sqlite":
        return None
    path = db_url[len("sqlite://"):]
    return Path(path[1:] if path.startswith("/") else path).resolve().parent


def cookie_secret(db_url: str) -> str:
    """FORUM_SECRET if set; otherwise a secret generated once and kept beside the SQLite
    database, so sessions survive restarts. A MongoDB deployment with several processes must
    set FORUM_SECRET so that every process signs cookies alike."""
    secret = os.environ.get("FORUM_SECRET")
    if secret:
        return secret
    folder = sqlite_folder(db_url) or Path("data").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_FILE_NAME
    try:
        # O_EXCL: two processes starting at once must not write two different secrets.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
        handle.flush()
        os.fsync(handle.fileno())
    return path.read_text().strip()
