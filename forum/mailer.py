"""The e-mail sender: drains the outbox in the store through SMTP (aiosmtplib), retrying failed
sends with backoff. It runs beside the web server when FORUM_SMTP_URL is set; several processes
may run it, since each mail is claimed in the store before it is sent.

FORUM_SMTP_URL: smtp://[user:password@]host[:port][?from=address&starttls=1]  (smtps:// for TLS
from the start).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from forum.clock import now
from forum.model import Mail

from forum.services.notify import SITE
from forum.store.base import Store

log = logging.getLogger("forum.mailer")

# What a mail's stored text becomes once it is sent or given up: password-reset links and
# confirmation links (live tokens) and people's notices must not wait in the outbox, nor in
# the backups made of it, after they are done with.
DONE_BODY = "（已发送或已放弃；正文不再保存）"

BATCH = 20
LEASE = dt.timedelta(minutes=5)  # a sender that dies holding a mail frees it after this
MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(hours=6)
SEND_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> "SmtpSettings":
        """Raises ValueError for a URL that is not smtp:// or smtps://."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("FORUM_SMTP_URL must look like smtp://user:pass@host:587?from=a@b")
        query = parse_qs(parts.query)
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            sender=query.get("from", [f"noreply@{parts.hostname}"])[0],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=tls,
            start_tls=query.get("starttls", ["0"])[0] in ("1", "true"),
        )


def retry_delay(attempts: int) -> dt.timedelta:
    """1, 2, 4, ... minutes after each failure, at most six hours."""
    doubling: int = 2 ** max(attempts - 1, 0)
    return min(FIRST_RETRY * doubling, LONGEST_RETRY)


class Mailer:
    def __init__(self, store: Store, smtp: SmtpSettings, site_url: str):
        self.store = store
        self.smtp = smtp
        self.site_url = site_url.rstrip("/")

    def message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body.replace(SITE, self.site_url))
        return message

    async def send_due(self, at: dt.datetime | None = None) -> int:
        """Send what is due now; return how many were sent. Never raises for a failed send."""
        at = at or now()
        sent = 0
        for mail in await self.store.claim_mail(at, at + LEASE, BATCH):
            attempts = mail.attempts + 1
            try:
                await aiosmtplib.send(
                    self.message(mail),
                    hostname=self.smtp.host,
                    port=self.smtp.port,
                    username=self.smtp.username,
                    password=self.smtp.password,
                    use_tls=self.smtp.use_tls,
                    start_tls=self.smtp.start_tls,
                    timeout=SEND_TIMEOUT_SECONDS,
                )
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as error:
                retry = attempts < MAX_ATTEMPTS
                log.warning(
                    "mail %s to %s failed (attempt %d%s): %s",
                    mail.id,
                    mail.to,
                    attempts,
                    "" if retry else ", giving up",
                    error,
                )
                await self.store.finish_mail(
                    mail.id,
                    sent_at=None,
                    attempts=attempts,
                    error=str(error)[:500],
                    next_attempt_at=now() + retry_delay(attempts) if retry else None,
                    body=None if retry else DONE_BODY,
                )
                continue
            await self.store.finish_mail(
                mail.id,
                sent_at=now(),
                next_attempt_at=None,
                attempts=attempts,
                error=None,
                body=DONE_BODY,
            )
            sent += 1
        return sent
