"""玉溪网 interactive boards: the command line.

python server.py [serve] [--host H] [--port P] [--db URL] [--processes N]
                 [--shutdown-timeout SECONDS] [--log-format text|json]
                 [--max-connections N] [--header-timeout SECONDS] [--body-timeout SECONDS]
python server.py create-user NAME --password-stdin [--role ROLE]... [--department SLUG] [--db URL]
python server.py reindex [--db URL]
python server.py check [--db URL]
python server.py backup PATH [--db URL]
python server.py restore PATH [--db URL] [--force]
python server.py demo [--posts N] [--db URL] [--force]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import contextlib
import ctypes
import errno
import logging
import os
import shutil
import signal
import socket
import sqlite3
import struct
import sys
import tempfile
import time
from types import FrameType
from typing import AsyncIterator, Iterator

import tornado.ioloop
import tornado.netutil
import tornado.process

from forum.ops.commands import backup_command, restore_command
from forum import clock, logs, search
from forum.app import make_app, make_metrics_app
from forum.config import BadSecret, Config, cookie_secret, env_db
from forum.errors import DomainError, StoreUnavailable
from forum.mailer import Mailer, SmtpSettings
from forum.model import PostFilter, Role
from forum.security import Passwords
from forum.services import accounts, casework, searching
from forum.services.setup import prepare_store
from forum.store import open_store
from forum.store.base import Store, StoreRefused
from forum.web import metrics as web_metrics
from forum.web.connections import DEFAULT_MAX_CONNECTIONS, GuardedHTTPServer
from forum.web.draining import Draining

log = logging.getLogger("forum")

# Uploads (5 files of 10 MB) are the largest legitimate bodies; every route has its own limit,
# checked against Content-Length before the body is read (BodyLimits, forum/web/body_limits.py),
# and uploads count their own as they read it (forum/web/uploads.py).
MAX_SERVER_BODY_BYTES = 64 << 20
MAX_HEADER_BYTES = 32 << 10
SHUTDOWN_GRACE_SECONDS = 10  # --shutdown-timeout's default
METRICS_HOST = "127.0.0.1"  # --metrics-port listens here only
PR_SET_PDEATHSIG = 1  # Linux prctl(2)
HOUSEKEEPING_SECONDS = 600
MAIL_SECONDS = 15


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="server.py", description="玉溪网 interactive boards")
    commands = parser.add_subparsers(dest="command")

    # The options of `serve` are also taken before any command (`server.py --port 9000 serve`):
    # the command's own copies default to nothing, so they never overwrite what came before
    # the command's name with their defaults.
    def default(sub: argparse.ArgumentParser, value: object) -> object:
        return value if sub is parser else argparse.SUPPRESS

    def add_db(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--db",
            default=default(sub, env_db()),
            help="store URL: sqlite:///path/forum.db (default sqlite:///data/forum.db, "
            "or $FORUM_DB) or mongodb://host/db",
        )

    serve = commands.add_parser("serve", help="run the web server (the default command)")
    for sub in (parser, serve):
        sub.add_argument(
            "--host", default=default(sub, "127.0.0.1"), help="address to listen on (127.0.0.1)"
        )
        sub.add_argument(
            "--port", type=int, default=default(sub, 8888), help="port to listen on (8888)"
        )
        sub.add_argument(
            "--behind-https",
            action="store_true",
            default=default(sub, False),
            help="served through an HTTPS proxy: mark cookies Secure",
        )
        sub.add_argument(
            "--debug",
            action="store_true",
            default=default(sub, False),
            help="reload templates on change",
        )
        sub.add_argument(
            "--no-page-cache",
            dest="page_cache",
            action="store_false",
            default=default(sub, True),
            help="render every page for anonymous readers anew (for measuring)",
        )
        sub.add_argument(
            "--metrics-port",
            type=int,
            default=default(sub, None),
            metavar="PORT",
            help="serve /metrics, without a token, on 127.0.0.1:PORT only (on the "
            "public port it needs FORUM_METRICS_TOKEN, or is 404)",
        )
        sub.add_argument(
            "--processes",
            type=int,
            default=default(sub, 1),
            metavar="N",
            help="server processes sharing the port (1; 0 = one per CPU core)",
        )
        sub.add_argument(
            "--shutdown-timeout",
            type=float,
            default=default(sub, SHUTDOWN_GRACE_SECONDS),
            metavar="SECONDS",
            help="on SIGTERM or SIGINT, how long requests in flight may take to "
            f"finish before the store is closed ({SHUTDOWN_GRACE_SECONDS:g})",
        )
        sub.add_argument(
            "--log-format",
            choices=logs.FORMATS,
            default=default(sub, "text"),
            help="text (default, for people) or json (one object a line, for log collectors)",
        )
        sub.add_argument(
            "--max-connections",
            type=int,
            default=default(sub, DEFAULT_MAX_CONNECTIONS),
            metavar="N",
            help="open connections per process; one more gets a 503 "
            f"and is closed ({DEFAULT_MAX_CONNECTIONS})",
        )
        sub.add_argument(
            "--header-timeout",
            type=float,
            default=default(sub, 10.0),
            metavar="SECONDS",
            help="time a connection has to send a request's headers, when new and "
            "between requests kept alive; then it is closed (10)",
        )
        sub.add_argument(
            "--body-timeout",
            type=float,
            default=default(sub, 60.0),
            metavar="SECONDS",
            help="time a request has to send its whole body (60)",
        )
        add_db(sub)

    create = commands.add_parser("create-user", help="create an account of any role")
    create.add_argument("name", help="username (3 to 32 of A-Z a-z 0-9 _)")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (required)",
    )
    create.add_argument(
        "--role",
        action="append",
        default=[],
        choices=[r.value for r in Role],
        help="a role to grant; repeat for several (citizen when none)",
    )
    create.add_argument("--department", help="department slug, for staff")
    create.add_argument("--display-name", help="name shown on posts (the username when absent)")
    add_db(create)

    reindex = commands.add_parser("reindex", help="rebuild the search index of every post")
    add_db(reindex)

    check = commands.add_parser(
        "check",
        help="check the database for damage (SQLite: PRAGMA "
        "quick_check; MongoDB: validate); exit 1 if any",
    )
    add_db(check)

    backup = commands.add_parser(
        "backup",
        help="write every record and attachment to one "
        "archive (a ZIP file; see forum/ops/backup.py)",
    )
    backup.add_argument("path", help="the archive to write; it must not exist yet")
    add_db(backup)
    restore = commands.add_parser(
        "restore", help="load an archive into an empty database, SQLite or MongoDB"
    )
    restore.add_argument("path", help="an archive written by the backup command")
    restore.add_argument(
        "--force",
        action="store_true",
        help="wipe a database that is not empty first (everything in it is "
        "lost; only once the archive has passed every check)",
    )
    add_db(restore)

    demo = commands.add_parser(
        "demo",
        help="load a year of Chinese demo content made through "
        "the services, and print the demo accounts",
    )
    demo.add_argument(
        "--posts",
        type=int,
        default=0,
        metavar="N",
        help="also bulk-load N forum posts, for benchmarks",
    )
    demo.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="more or fewer demo stories (default 1; 0.1 for a quick look)",
    )
    demo.add_argument(
        "--force",
        action="store_true",
        help="load into a database that is not empty (demo content is skipped "
        "when its accounts exist; --posts are still added)",
    )
    add_db(demo)

    args = parser.parse_args(argv)
    if args.command is None:
        args.command = "serve"
    return args


async def serve(
    args: argparse.Namespace,
    sockets: list[socket.socket] | None = None,
    process: tuple[int, int] | None = None,
    supervisor: int | None = None,
    metrics_sockets: list[socket.socket] | None = None,
) -> None:
    """One server process: on `sockets` (and `metrics_sockets`, for --metrics-port) bound
    before a fork when given, else listening itself. `process` is (task id, count) under
    --processes; `supervisor`, the pid of a parent to watch where the kernel cannot be asked to
    end this process with it (see _die_with_parent).

    SIGTERM or SIGINT: no new connections; a request arriving on a kept-alive one is answered
    503 with `Connection: close`; the requests in flight finish (up to --shutdown-timeout
    seconds); then the idle connections and the store are closed."""
    # Signals first: a SIGTERM during start-up must also end in a clean shutdown.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # Opened here, in the process that uses it: a driver's connections never cross a fork.
    store = opened_store(args.db)
    try:
        with starting(args):
            await prepare_store(store)
            await store.ping()  # its core tables are readable
            # Only once the store has opened: nothing is written beside a file it refuses.
            secret = cookie_secret(args.db)
        await _serve_store(args, store, secret, stop, sockets, process, supervisor, metrics_sockets)
    except StartupFailed:
        await store.close()
        raise


async def _serve_store(
    args: argparse.Namespace,
    store: Store,
    secret: str,
    stop: asyncio.Event,
    sockets: list[socket.socket] | None,
    process: tuple[int, int] | None,
    supervisor: int | None,
    metrics_sockets: list[socket.socket] | None,
) -> None:
    config = Config(
        host=args.host,
        port=args.port,
        db=args.db,
        cookie_secret=secret,
        behind_https=args.behind_https,
        debug=args.debug,
        page_cache=args.page_cache,
        smtp_url=os.environ.get("FORUM_SMTP_URL") or None,
        site_url=os.environ.get("FORUM_SITE_URL") or f"http://{args.host}:{args.port}",
        metrics_token=os.environ.get("FORUM_METRICS_TOKEN") or None,
    )
    clock.install(config.clock)  # for the periodic jobs' callbacks, scheduled from here
    # jieba's dictionary takes a second to load: now, off the loop, rather than in a request.
    await asyncio.to_thread(search.warm_up)
    app = make_app(config, store)
    # What the process holds from its start (modules, templates, jieba's dictionary of some
    # 350,000 words) is moved out of the garbage collector's way: a full collection walked it
    # all, holding the loop 30-40 ms several times a minute under load. Forked processes also
    # keep sharing those pages, which the collector's marks would otherwise copy.
    # And the youngest generation collected every 10,000 new containers rather than 700: most
    # of a request's objects are freed by their counts, and the collections were 2-3% of the
    # loop's time under load (400 ms in 15 s of replies, 175 ms so).
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    gate = Draining(app)
    server = GuardedHTTPServer(
        gate,
        xheaders=args.behind_https,
        max_body_size=MAX_SERVER_BODY_BYTES,
        max_header_size=MAX_HEADER_BYTES,
        idle_connection_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        max_connections=args.max_connections,
    )
    if sockets is None:
        with starting(args):
            server.listen(config.port, config.host)
    else:
        server.add_sockets(sockets)
    operators = None
    if args.metrics_port is not None:
        # Loopback only, whatever --host says: the operators' own door to /metrics.
        operators = tornado.httpserver.HTTPServer(make_metrics_app(app))
        if metrics_sockets is None:
            with starting(args):
                operators.listen(args.metrics_port, METRICS_HOST)
        else:
            operators.add_sockets(metrics_sockets)
        log.info("metrics on http://%s:%d/metrics", METRICS_HOST, args.metrics_port)
    log.info(
        "serving on http://%s:%d/ over %s%s",
        config.host,
        config.port,
        store.kind,
        f" (process {process[0] + 1} of {process[1]})" if process else "",
    )
    metrics = app.settings["metrics"]
    # Every process runs the periodic jobs: they coordinate through the store (see
    # housekeeping_round and forum/mailer.py), so N processes never apply a step twice.
    housekeeping = tornado.ioloop.PeriodicCallback(
        lambda: housekeeping_round(store, metrics), HOUSEKEEPING_SECONDS * 1000, jitter=0.1
    )
    housekeeping.start()
    await housekeeping_round(store, metrics)
    sending = None
    if config.smtp_url:
        mailer = Mailer(store, SmtpSettings.from_url(config.smtp_url), config.site_url)
        sending = tornado.ioloop.PeriodicCallback(
            lambda: send_mail(mailer, metrics), MAIL_SECONDS * 1000, jitter=0.1
        )
        sending.start()
        log.info("sending e-mail through %s:%d", mailer.smtp.host, mailer.smtp.port)
    if supervisor is not None:

        def stop_when_orphaned() -> None:
            if os.getppid() != supervisor:
                stop.set()

        orphaned = tornado.ioloop.PeriodicCallback(stop_when_orphaned, 1000)
        orphaned.start()
    await stop.wait()

    log.info("shutting down: no new connections, finishing requests in flight")
    housekeeping.stop()
    if sending is not None:
        sending.stop()
    server.stop()
    if operators is not None:
        operators.stop()
    left = await gate.drain(args.shutdown_timeout)
    if left:
        log.warning(
            "%d request(s) still running after %gs; closing anyway", left, args.shutdown_timeout
        )
    try:  # the idle kept-alive connections (a busy one's answer is cut: its time is up)
        await asyncio.wait_for(server.close_all_connections(), 1)
    except asyncio.TimeoutError:
        pass
    await store.close()
    log.info("stopped")


async def send_mail(mailer: Mailer, metrics: web_metrics.Metrics | None = None) -> None:
    """Send what is due. Several processes may do this at once: each mail is claimed in the
    store (a lease, taken by one conditional write) before it is sent."""
    try:
        await mailer.send_due()
    except DomainError as error:  # the store is down: the next round tries again
        if metrics is not None and isinstance(error, StoreUnavailable):
            metrics.store_error("mail")
        log.warning("sending mail failed: %s", error.message)


async def housekeeping_round(store: Store, metrics: web_metrics.Metrics | None = None) -> None:
    """The clock's casework (services/casework.clock_round): close cases replied to more than 15
    days ago without a rating, mark the ones past their due time, remind and supervise. Each
    step is conditional in the store, so several processes may run this at once."""
    try:
        done = await casework.clock_round(store)
    except DomainError as error:  # the store is down: the next round tries again
        if metrics is not None and isinstance(error, StoreUnavailable):
            metrics.store_error("housekeeping")
        log.warning("housekeeping failed: %s", error.message)
        return
    if done:
        log.info(
            "closed %d unrated case(s); %d newly overdue, %d reminded, %d supervised",
            done.unrated,
            done.overdue,
            done.reminded,
            done.supervised,
        )


class StartupFailed(Exception):
    """A fault that keeps the server from starting. Its message is the one line the operator
    reads (main logs it and exits 1); the exception it came from is logged at debug level."""


@contextlib.contextmanager
def starting(args: argparse.Namespace) -> Iterator[None]:
    """Turn the faults met while starting (the port, the data folder, the disk, the database)
    into StartupFailed with one line that says what is wrong and what to do."""
    try:
        yield
    except (OSError, sqlite3.Error, StoreRefused, StoreUnavailable, BadSecret) as error:
        line = _startup_fault(error, args)
        if line is None:
            raise
        log.debug("start-up failed", exc_info=True)
        raise StartupFailed(line) from error


def _startup_fault(error: Exception, args: argparse.Namespace) -> str | None:
    if isinstance(error, (StoreRefused, BadSecret)):
        return str(error)
    cause = error.__cause__ if isinstance(error, StoreUnavailable) else error
    where = args.db if args.db.startswith("sqlite:") else "the MongoDB database"
    if isinstance(cause, sqlite3.OperationalError):
        text = str(cause)
        if "full" in text:
            return f"the disk holding {where} is full: free some space, then start again"
        if "disk I/O" in text:
            return f"{where} cannot be read or written ({text}): is its disk full or failing?"
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return (
                f"cannot write {where} ({text}): its folder must exist and be writable by "
                f"the user the server runs as"
            )
        return f"{where} cannot be used: {text}"
    if isinstance(cause, sqlite3.DatabaseError):
        return (
            f"{where} is damaged ({cause}): restore it from a backup "
            f"(`python server.py check` reports what is wrong)"
        )
    if isinstance(error, StoreUnavailable):
        return f"{where} does not answer: check that it runs and that --db or FORUM_DB is right"
    if isinstance(error, OSError):
        if error.errno == errno.EADDRINUSE:
            return (
                f"cannot listen on {args.host}:{args.port}: the address is in use (another "
                f"server running?); stop it or choose another --port"
            )
        if error.errno == errno.EADDRNOTAVAIL:
            return f"cannot listen on {args.host}:{args.port}: no such address on this machine"
        named = f" {error.filename}" if error.filename else ""
        if error.errno in (errno.ENOTDIR, errno.EEXIST):
            return (
                f"cannot make the folder{named}: a file stands in its way; move that file, "
                f"or choose another --db"
            )
        if error.errno == errno.ENOSPC:
            return f"the disk is full (writing{named}): free some space, then start again"
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return (
                f"cannot write{named}: {error.strerror}; the data folder must be writable "
                f"by the user the server runs as"
            )
        return f"cannot start: {error.strerror or error}{named and ':' + named}"
    return None


def opened_store(db: str) -> Store:
    """open_store(db), with a URL it does not know as StartupFailed (the line says which
    forms it takes)."""
    try:
        return open_store(db)
    except ValueError as error:
        raise StartupFailed(f"{error} (--db or FORUM_DB)") from error


@contextlib.asynccontextmanager
async def prepared_store(args: argparse.Namespace) -> AsyncIterator[Store]:
    """The store of --db, opened and prepared as for serving, for a command that runs once
    (create-user, reindex); a start-up fault is StartupFailed, as for `serve`."""
    store = opened_store(args.db)
    try:
        with starting(args):
            await prepare_store(store)
        yield store
    finally:
        await store.close()


class _Stopping(Exception):
    """SIGTERM or SIGINT reached the process that supervises the server processes."""


def serve_processes(args: argparse.Namespace, count: int) -> int:
    """--processes N: bind the port, then fork N server processes that share it
    (tornado.process.fork_processes, which restarts one that crashes). This process supervises
    them: SIGTERM or SIGINT is passed on to every child, which finishes its requests in flight
    like a single server does, and this process exits when they all have.

    Before the fork: the sockets; the metrics folder (prometheus-client's multiprocess mode);
    schema upgrades and seeding, once, over a store that is closed again before the fork, so no
    connection crosses it and N processes do not race to upgrade one database; the cookie
    secret; jieba's dictionary, shared by the children's memory. A fault among these stops the
    start here, in one line (StartupFailed), rather than in N children restarted over and over.
    Each child opens its own store, and ends when this process does (_die_with_parent)."""
    if args.debug:
        print(
            "error: --debug reloads code in place and cannot run with --processes", file=sys.stderr
        )
        return 2
    with starting(args):
        sockets = tornado.netutil.bind_sockets(args.port, args.host)
        metrics_sockets = (
            tornado.netutil.bind_sockets(args.metrics_port, METRICS_HOST)
            if args.metrics_port is not None
            else None
        )
        asyncio.run(_prepare_once(args.db))
        cookie_secret(args.db)  # made once here, read by every process
    given = web_metrics.multiprocess_dir()  # an operator's own folder is emptied, and kept
    folder = given or tempfile.mkdtemp(prefix="forum-metrics-")
    web_metrics.use_multiprocess_dir(folder)
    search.warm_up()
    parent = os.getpid()
    # Each child writes its pid here, so that this process knows whom to pass a SIGTERM on to
    # (fork_processes keeps its list of children to itself).
    reader, writer = os.pipe()
    os.set_blocking(reader, False)
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
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
            _stop_children(reader, args.shutdown_timeout)
            return 0
        except RuntimeError as error:  # too many restarts
            log.error("%s; stopping", error)
            _stop_children(reader, args.shutdown_timeout)
            return 1
    finally:
        if os.getpid() == parent:
            os.close(reader)
            os.close(writer)
            if not given:
                shutil.rmtree(folder, ignore_errors=True)
    # A child, from here on.
    watched = None if _die_with_parent(parent) else parent
    os.close(reader)
    os.write(writer, struct.pack("=i", os.getpid()))
    os.close(writer)
    asyncio.run(serve(args, sockets, (task, count), watched, metrics_sockets))
    web_metrics.process_ended(os.getpid())
    return 0


async def _prepare_once(db: str) -> None:
    store = opened_store(db)
    try:
        await prepare_store(store)
        await store.ping()
    finally:
        await store.close()


def _die_with_parent(parent: int) -> bool:
    """Have the kernel send this child SIGTERM when its supervisor dies, even by kill -9, so
    that no server process is left holding the port (Linux). False where that cannot be asked:
    the child then watches its parent's pid itself (see serve)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        asked = bool(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        asked = False
    if asked and os.getppid() != parent:  # it died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)
    return asked


def _stop_children(reader: int, timeout: float) -> None:
    """Pass SIGTERM on to every child (those still starting too), wait for all of them, and
    kill the ones still running well after their grace period."""
    log.info("stopping the server processes")
    known: set[int] = set()
    pending = b""
    deadline = time.monotonic() + timeout + 5
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
    async with prepared_store(args) as store:
        try:
            # The same checks as registering, so the command line cannot make an account the
            # site would refuse.
            username, password, display_name, _ = accounts.check_new_account(
                args.name, password, args.display_name, None
            )
            user = await accounts.create_user(
                store,
                Passwords(Config().password_cost),
                username=username,
                password=password,
                display_name=display_name,
                roles=[Role(r) for r in args.role],
                department=args.department,
            )
        except DomainError as error:
            print(f"error: {error.message}", file=sys.stderr)
            return 1
    print(f"created {user.username} ({', '.join(r.value for r in user.roles)}) id {user.id}")
    return 0


async def reindex(args: argparse.Namespace) -> int:
    async with prepared_store(args) as store:
        total = max(sum((await store.count_posts_by_category(PostFilter())).values()), 1)
        started = time.monotonic()

        def progress(done: int) -> None:
            filled = int(30 * done / total)
            sys.stderr.write(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} "
                f"({time.monotonic() - started:.0f}s)"
            )
            sys.stderr.flush()

        await asyncio.to_thread(search.warm_up)
        done = await searching.reindex(store, progress)
    sys.stderr.write("\n")
    print(f"reindexed {done} posts")
    return 0


async def check(args: argparse.Namespace) -> int:
    """Print what the store's own check finds wrong, or that all is well."""
    store = opened_store(args.db)
    try:
        problems = await store.check()
    except StoreUnavailable:
        print(f"error: the {store.kind} store does not answer", file=sys.stderr)
        return 1
    finally:
        await store.close()
    for problem in problems:
        print(problem)
    print(f"{store.kind}: {len(problems)} problem(s) found" if problems else f"{store.kind}: ok")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logs.configure(getattr(args, "log_format", "text"))
    try:
        return run(args)
    except StartupFailed as failed:
        log.error("%s", failed)
        return 1


def run(args: argparse.Namespace) -> int:
    """The command; a fault that keeps it from starting is StartupFailed (one line)."""
    if args.command == "create-user":
        return asyncio.run(create_user(args))
    if args.command == "reindex":
        return asyncio.run(reindex(args))
    if args.command == "check":
        return asyncio.run(check(args))
    if args.command == "backup":
        return asyncio.run(backup_command(args.db, args.path))
    if args.command == "restore":
        return asyncio.run(restore_command(args.db, args.path, args.force))
    if args.command == "demo":
        from forum.ops.demo.command import demo_command

        with starting(args):  # an unwritable folder, a full disk: one line, as for `serve`
            return asyncio.run(demo_command(args.db, args.posts, args.force, scale=args.scale))
    processes = args.processes if args.processes > 0 else tornado.process.cpu_count()
    if processes > 1:
        return serve_processes(args, processes)
    counts = web_metrics.multiprocess_dir()
    if counts:  # set by the operator: counts start afresh here too
        web_metrics.use_multiprocess_dir(counts)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
