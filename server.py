"""玉溪网 interactive boards: the command line.

    python server.py [serve] [--host H] [--port P] [--db URL]
    python server.py create-user NAME --password-stdin [--role ROLE]... [--department SLUG] [--db URL]
    python server.py reindex [--db URL]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time

import tornado.httpserver
import tornado.ioloop

from forum import search
from forum.app import make_app
from forum.config import Config, cookie_secret, env_db
from forum.errors import DomainError
from forum.mailer import Mailer, SmtpSettings
from forum.model import PostFilter, Role
from forum.security import Passwords
from forum.services import accounts, cases, searching
from forum.services.setup import prepare_store
from forum.store import open_store

log = logging.getLogger("forum")

# Uploads (5 files of 10 MB) are the largest legitimate bodies; handlers enforce tighter limits.
MAX_SERVER_BODY_BYTES = 64 << 20
SHUTDOWN_GRACE_SECONDS = 10
HOUSEKEEPING_SECONDS = 600
MAIL_SECONDS = 15


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="server.py", description="玉溪网 interactive boards")
    commands = parser.add_subparsers(dest="command")

    def add_db(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--db", default=env_db(),
                         help="store URL: sqlite:///path/forum.db (default sqlite:///data/forum.db, "
                              "or $FORUM_DB) or mongodb://host/db")

    serve = commands.add_parser("serve", help="run the web server (the default command)")
    for sub in (parser, serve):
        sub.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
        sub.add_argument("--port", type=int, default=8888, help="port to listen on (8888)")
        sub.add_argument("--behind-https", action="store_true",
                         help="served through an HTTPS proxy: mark cookies Secure")
        sub.add_argument("--debug", action="store_true", help="reload templates on change")
        add_db(sub)

    create = commands.add_parser("create-user", help="create an account of any role")
    create.add_argument("name", help="username (3 to 32 of A-Z a-z 0-9 _)")
    create.add_argument("--password-stdin", action="store_true", required=True,
                        help="read the password from standard input (required)")
    create.add_argument("--role", action="append", default=[], choices=[r.value for r in Role],
                        help="a role to grant; repeat for several (citizen when none)")
    create.add_argument("--department", help="department slug, for staff")
    create.add_argument("--display-name", help="name shown on posts (the username when absent)")
    add_db(create)

    reindex = commands.add_parser("reindex", help="rebuild the search index of every post")
    add_db(reindex)

    args = parser.parse_args(argv)
    if args.command is None:
        args.command = "serve"
    return args


async def serve(args: argparse.Namespace) -> None:
    # Signals first: a SIGTERM during start-up must also end in a clean shutdown.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    config = Config(host=args.host, port=args.port, db=args.db, cookie_secret=cookie_secret(args.db),
                    behind_https=args.behind_https, debug=args.debug,
                    smtp_url=os.environ.get("FORUM_SMTP_URL") or None,
                    site_url=os.environ.get("FORUM_SITE_URL")
                    or f"http://{args.host}:{args.port}")
    store = open_store(config.db)
    await prepare_store(store)
    # jieba's dictionary takes a second to load: now, off the loop, rather than in a request.
    await asyncio.to_thread(search.warm_up)
    app = make_app(config, store)
    server = tornado.httpserver.HTTPServer(app, xheaders=args.behind_https,
                                           max_body_size=MAX_SERVER_BODY_BYTES)
    server.listen(config.port, config.host)
    log.info("serving on http://%s:%d/ over %s", config.host, config.port, store.kind)
    housekeeping = tornado.ioloop.PeriodicCallback(lambda: housekeeping_round(store),
                                                   HOUSEKEEPING_SECONDS * 1000, jitter=0.1)
    housekeeping.start()
    await housekeeping_round(store)
    sending = None
    if config.smtp_url:
        mailer = Mailer(store, SmtpSettings.from_url(config.smtp_url), config.site_url)
        sending = tornado.ioloop.PeriodicCallback(lambda: send_mail(mailer),
                                                  MAIL_SECONDS * 1000, jitter=0.1)
        sending.start()
        log.info("sending e-mail through %s:%d", mailer.smtp.host, mailer.smtp.port)
    await stop.wait()

    log.info("shutting down: no new connections, finishing requests in flight")
    housekeeping.stop()
    if sending is not None:
        sending.stop()
    server.stop()
    try:
        await asyncio.wait_for(server.close_all_connections(), SHUTDOWN_GRACE_SECONDS)
    except asyncio.TimeoutError:
        log.warning("requests still running after %ss; closing anyway", SHUTDOWN_GRACE_SECONDS)
    await store.close()
    log.info("stopped")


async def send_mail(mailer: Mailer) -> None:
    try:
        await mailer.send_due()
    except DomainError as error:  # the store is down: the next round tries again
        log.warning("sending mail failed: %s", error.message)


async def housekeeping_round(store) -> None:
    """Close cases replied to more than 15 days ago without a rating (办结), and mark the ones
    past their due time. Each step is conditional in the store, so several processes may run
    this at once without applying anything twice."""
    try:
        closed = await cases.close_unrated(store)
        overdue = await cases.note_overdue(store)
    except DomainError as error:  # the store is down: the next round tries again
        log.warning("housekeeping failed: %s", error.message)
        return
    if closed or overdue:
        log.info("closed %d unrated case(s); %d newly overdue", closed, overdue)


async def create_user(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\r\n")
    store = open_store(args.db)
    await prepare_store(store)
    try:
        # The same checks as registering, so the command line cannot make an account the site
        # would refuse.
        username, password, display_name, _ = accounts.check_new_account(
            args.name, password, args.display_name, None)
        user = await accounts.create_user(
            store, Passwords(Config().password_cost), username=username, password=password,
            display_name=display_name, roles=[Role(r) for r in args.role],
            department=args.department)
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    print(f"created {user.username} ({', '.join(r.value for r in user.roles)}) id {user.id}")
    return 0


async def reindex(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    await prepare_store(store)
    total = max(sum((await store.count_posts_by_category(PostFilter())).values()), 1)
    started = time.monotonic()

    def progress(done: int) -> None:
        filled = int(30 * done / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} "
                         f"({time.monotonic() - started:.0f}s)")
        sys.stderr.flush()

    try:
        await asyncio.to_thread(search.warm_up)
        done = await searching.reindex(store, progress)
    finally:
        await store.close()
    sys.stderr.write("\n")
    print(f"reindexed {done} posts")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "create-user":
        return asyncio.run(create_user(args))
    if args.command == "reindex":
        return asyncio.run(reindex(args))
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
