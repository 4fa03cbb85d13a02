"""The e-mail sender against a real SMTP server on this machine (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from aiosmtpd.controller import Controller

from forum.clock import now
from forum.mailer import DONE_BODY, MAX_ATTEMPTS, Mailer, SmtpSettings, retry_delay
from forum.model import Mail, new_id


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def mail(to="alice@example.org", **extra) -> Mail:
    at = now()
    return Mail(
        new_id(),
        to,
        "[玉溪网] 您的帖子有了新回复",
        "查看：{site}/posts/abc\n",
        at,
        next_attempt_at=at,
        **extra,
    )


@pytest.mark.gen_test
async def test_mail_is_sent_with_the_site_address_filled_in(store, smtp_server):
    inbox, port = smtp_server
    await store.enqueue_mail(mail())
    mailer = Mailer(
        store,
        SmtpSettings.from_url(f"smtp://127.0.0.1:{port}?from=noreply@yx.gov.cn"),
        "https://www.yuxi.gov.cn/",
    )
    assert await mailer.send_due() == 1
    (envelope,) = inbox.messages
    assert envelope.mail_from == "noreply@yx.gov.cn" and envelope.rcpt_tos == ["alice@example.org"]
    assert b"https://www.yuxi.gov.cn/posts/abc" in envelope.content
    assert await store.count_mail_waiting() == 0
    assert await mailer.send_due() == 0  # nothing twice
    # Sent, its text (a reset or confirmation link, someone's notice) is not kept.
    (kept,) = [m async for kind, m in store.export_records() if kind == "mail"]
    assert kept["body"] == DONE_BODY


@pytest.mark.gen_test
async def test_failures_retry_with_backoff_then_give_up(store):
    dead_port = free_port()  # nothing listens there
    mailer = Mailer(store, SmtpSettings.from_url(f"smtp://127.0.0.1:{dead_port}"), "http://x")
    await store.enqueue_mail(mail())
    assert await mailer.send_due() == 0
    assert await store.count_mail_waiting() == 1
    assert await mailer.send_due() == 0  # not due again yet
    later = now()
    for attempt in range(2, MAX_ATTEMPTS + 1):
        later += retry_delay(attempt - 1) + dt.timedelta(seconds=1)
        await mailer.send_due(later)
    assert await store.count_mail_waiting() == 0  # given up after MAX_ATTEMPTS
    (kept,) = [m async for kind, m in store.export_records() if kind == "mail"]
    assert kept["body"] == DONE_BODY and kept["last_error"]


def test_backoff_doubles_up_to_six_hours():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert retry_delay(30) == dt.timedelta(hours=6)


@pytest.mark.parametrize("url", ["http://x", "smtp://", "mongodb://a"])
def test_bad_smtp_urls_are_refused(url):
    with pytest.raises(ValueError):
        SmtpSettings.from_url(url)


def test_smtp_url_parts():
    settings = SmtpSettings.from_url("smtps://user%40yx:p%40ss@mail.yx.gov.cn?from=a@yx.gov.cn")
    assert (
        settings.host,
        settings.port,
        settings.username,
        settings.password,
        settings.use_tls,
        settings.sender,
    ) == ("mail.yx.gov.cn", 465, "user@yx", "p@ss", True, "a@yx.gov.cn")
