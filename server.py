"""玉溪网 interactive boards: the command line.

    python server.py [serve] [--host H] [--port P] [--db URL] [--processes N]
                     [--log-format text|json]
    python server.py create-user NAME --password-stdin [--role ROLE]... [--department SLUG] [--db URL]
    python server.py reindex [--db URL]
    python server.py backup PATH [--db URL]
    python server.py restore PATH [--db URL] [--force]
    python server.py demo [--posts N] [--db URL] [--force]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import struct
import sys
import tempfile
import time

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.process

from forum import backup as forum_backup
from forum import clock, logs, search
from forum.app import make_app, make_metrics_app
from forum.config import Config, cookie_secret, env_db
from forum.errors import DomainError, StoreUnavailable
from forum.mailer import Mailer, SmtpSettings
from forum.model import PostFilter, Role
from forum.security import Passwords
from forum.services import accounts, cases, searching
from forum.services.setup import prepare_store
from forum.store import open_store
from forum.web import metrics as web_metrics

log = logging.getLogger("forum")

# Uploads (5 files of 10 MB) are the largest legitimate bodies; handlers enforce tighter limits.
MAX_SERVER_BODY_BYTES = 64 << 20
SHUTDOWN_GRACE_SECONDS = 10
METRICS_HOST = "127.0.0.1"  # --metrics-port listens here only
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
        sub.add_argument("--no-page-cache", dest="page_cache", action="store_false",
                         help="render every page for anonymous readers anew (for measuring)")
        sub.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                         help="serve /metrics, without a token, on 127.0.0.1:PORT only (on the "
                              "public port it needs FORUM_METRICS_TOKEN, or is 404)")
        sub.add_argument("--processes", type=int, default=1, metavar="N",
                         help="server processes sharing the port (1; 0 = one per CPU core)")
        sub.add_argument("--log-format", choices=logs.FORMATS, default="text",
                         help="text (default, for people) or json (one object a line, for log "
                              "collectors)")
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

    backup = commands.add_parser("backup", help="write every record and attachment to one "
                                                "archive (a ZIP file; see forum/backup.py)")
    backup.add_argument("path", help="the archive to write; it must not exist yet")
    add_db(backup)
    restore = commands.add_parser("restore", help="load an archive into an empty database, "
                                                  "SQLite or MongoDB")
    restore.add_argument("path", help="an archive written by the backup command")
    restore.add_argument("--force", action="store_true",
                         help="wipe a database that is not empty first (everything in it is "
                              "lost; only once the archive has passed every check)")
    add_db(restore)

    demo = commands.add_parser("demo", help="load a year of Chinese demo content made through "
                                            "the services, and print the demo accounts")
    demo.add_argument("--posts", type=int, default=0, metavar="N",
                      help="also bulk-load N forum posts, for benchmarks")
    demo.add_argument("--scale", type=float, default=1.0,
                      help="more or fewer demo stories (default 1; 0.1 for a quick look)")
    demo.add_argument("--force", action="store_true",
                      help="load into a database that is not empty (demo content is skipped "
                           "when its accounts exist; --posts are still added)")
    add_db(demo)

    args = parser.parse_args(argv)
    if args.command is None:
        args.command = "serve"
    return args


async def serve(args: argparse.Namespace, sockets: list | None = None,
                process: tuple[int, int] | None = None,
                metrics_sockets: list | None = None) -> None:
    """One server process: on `sockets` (and `metrics_sockets`, for --metrics-port) bound
    before a fork when given, else listening itself. `process` is (task id, count) under
    --processes."""
    # Signals first: a SIGTERM during start-up must also end in a clean shutdown.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    config = Config(host=args.host, port=args.port, db=args.db, cookie_secret=cookie_secret(args.db),
                    behind_https=args.behind_https, debug=args.debug,
                    page_cache=args.page_cache,
                    smtp_url=os.environ.get("FORUM_SMTP_URL") or None,
                    site_url=os.environ.get("FORUM_SITE_URL")
                    or f"http://{args.host}:{args.port}",
                    metrics_token=os.environ.get("FORUM_METRICS_TOKEN") or None)
    clock.install(config.clock)  # for the periodic jobs' callbacks, scheduled from here
    # Opened here, in the process that uses it: a driver's connections never cross a fork.
    store = open_store(config.db)
    await prepare_store(store)
    # jieba's dictionary takes a second to load: now, off the loop, rather than in a request.
    await asyncio.to_thread(search.warm_up)
    app = make_app(config, store)
    server = tornado.httpserver.HTTPServer(app, xheaders=args.behind_https,
                                           max_body_size=MAX_SERVER_BODY_BYTES)
    if sockets is None:
        server.listen(config.port, config.host)
    else:
        server.add_sockets(sockets)
    operators = None
    if args.metrics_port is not None:
        # Loopback only, whatever --host says: the operators' own door to /metrics.
        operators = tornado.httpserver.HTTPServer(make_metrics_app(app))
        if metrics_sockets is None:
            operators.listen(args.metrics_port, METRICS_HOST)
        else:
            operators.add_sockets(metrics_sockets)
        log.info("metrics on http://%s:%d/metrics", METRICS_HOST, args.metrics_port)
    log.info("serving on http://%s:%d/ over %s%s", config.host, config.port, store.kind,
             f" (process {process[0] + 1} of {process[1]})" if process else "")
    metrics = app.settings["metrics"]
    # Every process runs the periodic jobs: they coordinate through the store (see
    # housekeeping_round and forum/mailer.py), so N processes never apply a step twice.
    housekeeping = tornado.ioloop.PeriodicCallback(lambda: housekeeping_round(store, metrics),
                                                   HOUSEKEEPING_SECONDS * 1000, jitter=0.1)
    housekeeping.start()
    await housekeeping_round(store, metrics)
    sending = None
    if config.smtp_url:
        mailer = Mailer(store, SmtpSettings.from_url(config.smtp_url), config.site_url)
        sending = tornado.ioloop.PeriodicCallback(lambda: send_mail(mailer, metrics),
                                                  MAIL_SECONDS * 1000, jitter=0.1)
        sending.start()
        log.info("sending e-mail through %s:%d", mailer.smtp.host, mailer.smtp.port)
    await stop.wait()

    log.info("shutting down: no new connections, finishing requests in flight")
    housekeeping.stop()
    if sending is not None:
        sending.stop()
    server.stop()
    if operators is not None:
        operators.stop()
    try:
        await asyncio.wait_for(server.close_all_connections(), SHUTDOWN_GRACE_SECONDS)
    except asyncio.TimeoutError:
        log.warning("requests still running after %ss; closing anyway", SHUTDOWN_GRACE_SECONDS)
    await store.close()
    log.info("stopped")


async def send_mail(mailer: Mailer, metrics=None) -> None:
    """Send what is due. Several processes may do this at once: each mail is claimed in the
    store (a lease, taken by one conditional write) before it is sent."""
    try:
        await mailer.send_due()
    except DomainError as error:  # the store is down: the next round tries again
        if metrics is not None and isinstance(error, StoreUnavailable):
            metrics.store_error("mail")
        log.warning("sending mail failed: %s", error.message)


async def housekeeping_round(store, metrics=None) -> None:
    """Close cases replied to more than 15 days ago without a rating (办结), and mark the ones
    past their due time. Each step is conditional in the store, so several processes may run
    this at once without applying anything twice."""
    try:
        closed = await cases.close_unrated(store)
        overdue = await cases.note_overdue(store)
    except DomainError as error:  # the store is down: the next round tries again
        if metrics is not None and isinstance(error, StoreUnavailable):
            metrics.store_error("housekeeping")
        log.warning("housekeeping failed: %s", error.message)
        return
    if closed or overdue:
        log.info("closed %d unrated case(s); %d newly overdue", closed, overdue)


class _Stopping(Exception):
    """SIGTERM or SIGINT reached the process that supervises the server processes."""


def serve_processes(args: argparse.Namespace, count: int) -> int:
    """--processes N: bind the port, then fork N server processes that share it
    (tornado.process.fork_processes, which restarts one that crashes). This process supervises
    them: SIGTERM or SIGINT is passed on to every child, which finishes its requests in flight
    like a single server does, and this process exits when they all have.

    Before the fork: the sockets; the metrics folder (prometheus-client's multiprocess mode);
    schema upgrades and seeding, once, over a store that is closed again before the fork, so no
    connection crosses it and N processes do not race to upgrade one database; jieba's
    dictionary, shared by the children's memory. Each child opens its own store."""
    if args.debug:
        print("error: --debug reloads code in place and cannot run with --processes",
              file=sys.stderr)
        return 2
    sockets = tornado.netutil.bind_sockets(args.port, args.host)
    metrics_sockets = (tornado.netutil.bind_sockets(args.metrics_port, METRICS_HOST)
                       if args.metrics_port is not None else None)
    given = web_metrics.multiprocess_dir()  # an operator's own folder is emptied, and kept
    folder = given or tempfile.mkdtemp(prefix="forum-metrics-")
    web_metrics.use_multiprocess_dir(folder)
    asyncio.run(_prepare_once(args.db))
    search.warm_up()
    parent = os.getpid()
    # Each child writes its pid here, so that this process knows whom to pass a SIGTERM on to
    # (fork_processes keeps its list of children to itself).
    reader, writer = os.pipe()
    os.set_blocking(reader, False)
    stopping = False

    def on_signal(signum, frame) -> None:
        nonlocal stopping
        if os.getpid() != parent:
            raise SystemExit(0)  # a child that is not serving yet has nothing to finish
        if not stopping:
            stopping = True
            raise _Stopping()

    try:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, on_signal)
        try:
            task = tornado.process.fork_processes(count)
        except _Stopping:
            _stop_children(reader)
            return 0
        except RuntimeError as error:  # too many restarts
            log.error("%s; stopping", error)
            _stop_children(reader)
            return 1
    finally:
        if os.getpid() == parent:
            os.close(reader)
            os.close(writer)
            if not given:
                shutil.rmtree(folder, ignore_errors=True)
    # A child, from here on.
    os.close(reader)
    os.write(writer, struct.pack("=i", os.getpid()))
    os.close(writer)
    asyncio.run(serve(args, sockets, (task, count), metrics_sockets))
    web_metrics.process_ended(os.getpid())
    return 0


async def _prepare_once(db: str) -> None:
    store = open_store(db)
    try:
        await prepare_store(store)
    finally:
        await store.close()


def _stop_children(reader: int) -> None:
    """Pass SIGTERM on to every child (those still starting too), wait for all of them, and
    kill the ones still running well after their grace period."""
    log.info("stopping the server processes")
    known: set[int] = set()
    pending = b""
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS + 5
    killed = False
    while True:
        try:
            pending += os.read(reader, 4096)
        except BlockingIOError:
            pass
        while len(pending) >= 4:
            pid = struct.unpack("=i", pending[:4])[0]
            pending = pending[4:]
            if pid not in known:
                known.add(pid)
                _signal_child(pid, signal.SIGTERM)
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            log.info("stopped")
            return  # none left
        if pid:
            web_metrics.process_ended(pid)
            continue
        if not killed and time.monotonic() > deadline:
            log.warning("server processes still running; killing them")
            for pid in known:
                _signal_child(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.05)


def _signal_child(pid: int, signum: int) -> None:
    # Only a process that is still this one's child: a pid written by a child that crashed
    # since (fork_processes reaped and replaced it) may belong to someone else by now.
    try:
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            os.kill(pid, signum)
        else:
            web_metrics.process_ended(pid)
    except (ChildProcessError, ProcessLookupError):
        pass


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
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logs.configure(getattr(args, "log_format", "text"))
    if args.command == "create-user":
        return asyncio.run(create_user(args))
    if args.command == "reindex":
        return asyncio.run(reindex(args))
    if args.command == "backup":
        return asyncio.run(forum_backup.backup_command(args.db, args.path))
    if args.command == "restore":
        return asyncio.run(forum_backup.restore_command(args.db, args.path, args.force))
    if args.command == "demo":
        from forum import demo
        return asyncio.run(demo.demo_command(args.db, args.posts, args.force, scale=args.scale))
    processes = args.processes if args.processes > 0 else tornado.process.cpu_count()
    if processes > 1:
        return serve_processes(args, processes)
    if web_metrics.multiprocess_dir():  # set by the operator: counts start afresh here too
        web_metrics.use_multiprocess_dir(web_metrics.multiprocess_dir())
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
