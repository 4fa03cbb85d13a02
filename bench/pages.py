"""Pages against raw Tornado: the forum's pages (anonymous and logged in), its JSON list, search
and replying, on one server process and on `serve --processes 2`, each driven by wrk and
reported as a ratio to a hello-world Tornado application measured in the same run.

    python bench/pages.py --posts 10000,100000,1000000

For each N: a database with `python server.py demo --posts N` in bench/data/posts-N/ (kept, and
reused when the same N is asked for again), bench accounts and a post with 20 replies added
through the services, then one server process (SQLite) and a raw Tornado hello world on
another port. Each page is driven for a warm-up, then in rounds that alternate hello world and
the page (wrk -t2 -c32), so that noise on the machine hits both; a page's ratio is the median
over its rounds of its requests per second over hello world's in the round just before it.
Results: bench/results/pages-<time>.json and .md (and pages-latest.*). Not a test: timings are
never asserted anywhere.

Replies are posted with bearer tokens of bench accounts (bench_0000, ...), taken in turn so
that none goes over the per-account write limit (forum/services/throttle.py, unchanged); the
bench clears only those accounts' write counts before each run. Before each reply row every
bench account reads once (GET /api/v1/me), as a citizen reads the post before replying to it:
the row measures replies by logins in use, not the first request of a login unused for five
minutes (which also reads the login from the store and records its use, a write of its own).
Password hashing is not part of a reply (a bearer token is checked by its SHA-256); it is timed
on its own, at the configured cost.

Logged-in rows are read by one citizen account (bench_reader) that logs in through the login
form, as a browser does; wrk sends its signed session cookie (and the form's _xsrf cookie) with
-H 'Cookie: ...'. Before measuring, the bench checks that the page is the personal one (the
reader's name and the logout link in the header) and stops the run if it is not; afterwards it
checks again and marks the row when the session was lost. Searches that are each new are made
by that reader: a visitor without an account may ask 60 new queries a minute per address
(throttle.SEARCHES_PER_ADDRESS), and wrk speaks from one address. A second server with
`serve --processes 2` is started over the same database for the rows measured on two processes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import html
import http.client
import http.cookies
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRK = shutil.which("wrk") or "/usr/bin/wrk"
# Replies at up to 900 a second (two processes): the reply rows need some 3,000 accounts (9 uses
# each), and each wrk thread has only half of them.
BENCH_ACCOUNTS = 4000
# New accounts may write 10 times in 10 minutes (throttle.POSTS_PER_NEW_ACCOUNT): each bench
# account is used at most this often in one run.
USES_PER_ACCOUNT = 9
THREAD_TITLE = "基准测试：一个有 20 条回复的帖子"
THREAD_REPLIES = 20
DEEP_PAGES = 200
REPLY_TARGETS = 200
READER = ("bench_reader", "基准测试读者")  # the citizen who reads logged in
# The *_readers rows: this many citizens (bench accounts) read in turn, each with a session
# cookie of their own, so that nothing kept for one reader alone can make the numbers.
READERS = 200
PROCESSES = 2  # server processes of the *_2p rows
SEARCH_CHECK = "/search?" + urllib.parse.urlencode({"q": "停车 路灯"})  # a logged-in search

HELLO_PAGE = (
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
    "<title>你好</title></head><body><h1>你好，世界</h1>"
    "<p>Hello, world.</p></body></html>"
)

LUA_REPORT = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,'
    .. '"max_us":%d,"mean_us":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,'
    .. '"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""

# Each wrk thread gets its number as `id`, so threads take different shares of the work.
LUA_THREAD_ID = r"""
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
"""

# A file's lines, and the address of a thread's n-th visitor (10.first.x.y): each request of
# the search rows comes as another visitor (see LUA_UNIQUE_PATHS).
LUA_VISITORS = r"""
function lines(name)
  local found = {}
  for line in io.lines(name) do found[#found + 1] = line end
  return found
end
function visitor(first, n)
  return string.format("10.%d.%d.%d", first, math.floor(n / 256) % 256, n % 256)
end
"""

# Paths read from a file (one a line), taken in turn by each connection's requests; each
# request as another visitor, as in LUA_UNIQUE_PATHS (a path's first answer is a search).
LUA_PATHS = (
    LUA_THREAD_ID
    + LUA_VISITORS
    + r"""
function init(args)
  paths = lines(args[1])
  n = id
end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], {["X-Forwarded-For"] = visitor(128 + id % 128, n)})
end
"""
    + LUA_REPORT
)

# The same paths (each `/search?q=...`, q last), each request made unique by one more query
# term: digits and letters that no post holds, different for every request of every run (args[2]
# is the run's number). The search does all its work (segmentation, every term's candidates,
# ranking, snippets) and the answer is the same query's, but no page cache can have it.
# Each request comes as another visitor (X-Forwarded-For, which the server reads when started
# with --behind-https, as behind the city's proxy): a visitor may search 60 times a minute, and
# from one address the run would measure 429s after the first 60.
LUA_UNIQUE_PATHS = (
    LUA_THREAD_ID
    + LUA_VISITORS
    + r"""
function init(args)
  paths = lines(args[1])
  run = tonumber(args[2])
  n = 0
end
function request()
  n = n + 1
  -- wrk.format takes these headers instead of wrk's own (-H): the session cookie is copied.
  local headers = {["X-Forwarded-For"] = visitor(id % 256, n)}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  return wrk.format("GET", string.format("%s+%dr%dt%dn", paths[((n + id) % #paths) + 1],
                                         run, id, n), headers)
end
"""
    + LUA_REPORT
)

# Every request a search for three different common words (args[1], one a line, already
# URL-encoded), drawn at random. wrk keeps one Lua state per thread, whose connections share it:
# the generator is seeded per thread and per run (args[2]), a thread draws the first word only
# from its own share of the words (args[3] threads), so two threads never ask the same query,
# and a thread never asks the same three words in the same order twice in a run.
LUA_WORDS = (
    LUA_THREAD_ID
    + r"""
function init(args)
  words = {}
  for line in io.lines(args[1]) do words[#words + 1] = line end
  threads = tonumber(args[3])
  math.randomseed(tonumber(args[2]) * 1009 + id * 7919 + 1)
  seen = {}
  own = math.floor((#words - 1 - id) / threads)  -- this thread's first words: id + k * threads
end
function request()
  local a, b, c, key
  repeat
    a = id + threads * math.random(0, own) + 1
    repeat b = math.random(#words) until b ~= a
    repeat c = math.random(#words) until c ~= a and c ~= b
    key = a .. " " .. b .. " " .. c
  until not seen[key]
  seen[key] = true
  return wrk.format("GET", "/search?q=" .. words[a] .. "+" .. words[b] .. "+" .. words[c])
end
"""
    + LUA_REPORT
)

# A reply per request: tokens (one a line) and target posts taken in turn; each thread has
# its own share of the tokens, so no account is used more than its share allows.
LUA_REPLY = (
    LUA_THREAD_ID
    + r"""
function init(args)
  local threads = tonumber(args[3])
  tokens, targets = {}, {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % threads == id then tokens[#tokens + 1] = line end
    i = i + 1
  end
  for line in io.lines(args[2]) do targets[#targets + 1] = line end
  -- where the runs before this one left off, so that each account's turn comes evenly
  n = math.floor(tonumber(args[4]) / threads)
end
function request()
  n = n + 1
  local token = tokens[((n - 1) % #tokens) + 1]
  local target = targets[((n * 7 + id) % #targets) + 1]
  local body = '{"body":"谢谢分享，我们小区也有同样的情况，支持尽快解决。第' .. n .. '条"}'
  return wrk.format("POST", "/api/v1/posts/" .. target .. "/replies",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
"""
    + LUA_REPORT
)


# GET the URL's own path, each request with the next reader's Cookie header (args[1], one a line);
# each thread its own share of the readers (args[2] threads).
LUA_READERS = (
    LUA_THREAD_ID
    + r"""
function init(args)
  local threads = tonumber(args[2])
  cookies = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % threads == id then cookies[#cookies + 1] = line end
    i = i + 1
  end
  n = 0
end
function request()
  n = n + 1
  return wrk.format("GET", nil, {["Cookie"] = cookies[((n - 1) % #cookies) + 1]})
end
"""
    + LUA_REPORT
)


# the hello world -----------------------------------------------------------------------------
def hello_server(port: int, processes: int = 1) -> None:
    """The ceiling: raw Tornado writing a fixed small page, nothing else. With processes > 1,
    the port is bound first and the processes forked to share it, as `serve --processes` does."""
    import tornado.httpserver
    import tornado.netutil
    import tornado.process
    import tornado.web

    class Hello(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write(HELLO_PAGE)

    sockets = tornado.netutil.bind_sockets(port, "127.0.0.1")
    if processes > 1:
        tornado.process.fork_processes(processes)

    async def main() -> None:
        server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/", Hello)]))
        server.add_sockets(sockets)
        await asyncio.Event().wait()

    asyncio.run(main())


# data ----------------------------------------------------------------------------------------
def loaded_marker(folder: Path) -> Path:
    return folder / "loaded.txt"


def load_database(folder: Path, posts: int) -> str:
    """The database for N posts: reused when an earlier run finished loading it."""
    db = f"sqlite:///{folder / 'forum.db'}"
    marker = loaded_marker(folder)
    if marker.exists() and f"added {posts} forum posts" in marker.read_text():
        print(f"[{posts}] reusing {folder}", flush=True)
        return db
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    print(f"[{posts}] loading {posts} posts into {folder} ...", flush=True)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "demo", "--posts", str(posts), "--db", db],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=True,
    )
    seconds = time.monotonic() - started
    (folder / "load_seconds.txt").write_text(f"{seconds:.1f}\n")
    marker.write_text(result.stdout)
    print(f"[{posts}] loaded in {seconds:.0f}s", flush=True)
    return db


def xsrf_cookie() -> str:
    """A new XSRF cookie in Tornado's own form (version 2: mask, masked token, time)."""
    from tornado.util import _websocket_mask

    mask, token = os.urandom(4), os.urandom(16)
    return f"2|{mask.hex()}|{_websocket_mask(mask, token).hex()}|{int(time.time())}"


async def prepare_bench(db: str, folder: Path, accounts: int) -> dict:
    """Bench accounts with bearer sessions, their write counts cleared; a post with 20 replies;
    posts to reply to. Made through the services, as a client would."""
    import tornado.web

    from forum.config import PasswordCost, cookie_secret
    from forum.model import PostFilter, Status
    from forum.security import Passwords
    from forum.services import accounts as account_service
    from forum.services import posting, throttle
    from forum.services.setup import prepare_store
    from forum.store import open_store

    store = open_store(db)
    await prepare_store(store)
    # Bench accounts only: a cheap hash, so that making 1,500 of them takes seconds. Nobody
    # logs in with these passwords; the bench holds bearer sessions.
    cheap = Passwords(PasswordCost(memory_kib=64, time_cost=1))
    try:
        users = []
        for i in range(accounts):
            name = f"bench_{i:04d}"
            user = await store.get_user_by_name(name)
            if user is None:
                user = await account_service.create_user(
                    store,
                    cheap,
                    username=name,
                    password=f"bench-{i}-{os.urandom(8).hex()}",
                    display_name=f"测试用户{i}",
                )
            users.append(user)
        tokens_file = folder / "tokens.txt"
        tokens = tokens_file.read_text().split() if tokens_file.exists() else []
        if (
            len(tokens) != accounts
            or await account_service.user_for_token(store, tokens[0]) is None
        ):
            tokens = [
                (await account_service.open_session(store, user, "bearer")).token for user in users
            ]
            tokens_file.write_text("\n".join(tokens) + "\n")
        # Session cookies of the *_readers rows, signed as the server will check them (its
        # secret, kept beside the database; the __Host- name, as under --behind-https).
        secret = cookie_secret(db)
        readers_file = folder / "readers.txt"
        cookies = [
            tornado.web.create_signed_value(
                secret,
                "__Host-session",
                (await account_service.open_session(store, user, "cookie")).token,
            ).decode()
            for user in users[:READERS]
        ]
        # And each its own form token's cookie, as a browser keeps it from its first page
        # (without one, every answer would set one).
        readers_file.write_text(
            "".join(
                f"__Host-session={cookie}; __Host-_xsrf={xsrf_cookie()}\n" for cookie in cookies
            )
        )
        for user in users:
            for limit in (throttle.POSTS_PER_ACCOUNT, throttle.POSTS_PER_NEW_ACCOUNT):
                await throttle.clear(store, limit, user.id)
        # The post with 20 replies, by the first bench account, replied to by the next 20.
        own = await store.list_posts(PostFilter(author_id=users[0].id, board="forum"), None, 1)
        if own:
            thread_id = own[0].id
        else:
            view = await posting.create_post(
                store,
                users[0],
                "forum",
                {
                    "title": THREAD_TITLE,
                    "category": None,
                    "body": "小区门口的路灯坏了一个多月，晚上出行很不方便。\n\n希望有关部门尽快修好。",
                },
            )
            thread_id = view.post.id
        have = len(await store.list_replies(thread_id))
        for i in range(have, THREAD_REPLIES):
            await posting.add_reply(
                store,
                users[1 + i],
                thread_id,
                f"第 {i + 1} 条回复：我家附近也是这样，**支持**尽快解决。",
            )
        targets = [
            post.id
            for post in await store.list_posts(
                PostFilter(board="forum", statuses=(Status.PUBLISHED,), pinned=False),
                None,
                REPLY_TARGETS,
            )
            if post.id != thread_id
        ]
        (folder / "targets.txt").write_text("\n".join(targets) + "\n")
        for user in users[: THREAD_REPLIES + 1]:
            for limit in (throttle.POSTS_PER_ACCOUNT, throttle.POSTS_PER_NEW_ACCOUNT):
                await throttle.clear(store, limit, user.id)
        # The citizen who reads logged in: a new password each run (never written down), with
        # which the bench logs in through the login form once the server runs.
        name, shown = READER
        password = f"bench-reader-{os.urandom(12).hex()}"
        reader = await store.get_user_by_name(name)
        if reader is None:
            reader = await account_service.create_user(
                store, cheap, username=name, password=password, display_name=shown
            )
        else:
            await store.update_user(reader.id, {"password_hash": await cheap.hash(password)})
        await throttle.clear(
            store, throttle.LOGIN_PER_ACCOUNT, throttle.account_at(name.casefold(), "127.0.0.1")
        )
    finally:
        await store.close()
    return {
        "thread": thread_id,
        "tokens": str(folder / "tokens.txt"),
        "targets": str(folder / "targets.txt"),
        "readers": str(folder / "readers.txt"),
        "reader_names": [user.display_name for user in users[:READERS]],
        "reader": {
            "username": name,
            "display_name": reader.display_name,
            "roles": [role.value for role in reader.roles],
            "password": password,
        },
    }


async def clear_search_count(db: str) -> None:
    """Clears the loopback address's count of visitors' searches (the bench's own address), so
    that the popular queries' first answers are not refused by SEARCHES_PER_ADDRESS."""
    from forum.services import throttle
    from forum.store import open_store

    store = open_store(db)
    await store.open()
    try:
        await throttle.clear(
            store, throttle.SEARCHES_PER_ADDRESS, throttle.address_range("127.0.0.1")
        )
    finally:
        await store.close()


def search_queries() -> list[str]:
    from forum.ops.demo.words.bulk import BULK_SUBJECTS

    words = [subject for subject, _ in BULK_SUBJECTS]
    return words + [f"{a} {b}" for a, b in zip(words, words[3:] + words[:3])]


def common_words() -> list[str]:
    """The demo's common words: the words of the bulk posts' subjects (停车, 路灯, 公交, ...,
    as jieba's search mode cuts them, of two characters or more, function words left out) and
    the places the posts are about; each is in a large share of the posts."""
    import jieba

    from forum import search  # its jieba set-up
    from forum.ops.demo.words.bulk import BULK_PLACES, BULK_SUBJECTS

    words: dict[str, None] = {}
    for subject, _ in BULK_SUBJECTS:
        for term in jieba.cut_for_search(subject):
            if len(term) >= 2 and term not in search.FUNCTION_WORDS:
                words.setdefault(term)
    for place in BULK_PLACES:
        words.setdefault(place)
    return list(words)


async def time_password_hash(rounds: int = 20) -> dict:
    from forum.config import Config
    from forum.security import Passwords

    passwords = Passwords(Config().password_cost)
    timings = []
    for i in range(rounds):
        started = time.perf_counter()
        await passwords.hash(f"correct horse battery {i}")
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "runs": rounds,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
        "cost": Config().password_cost.__dict__,
    }


# processes -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                answer.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read().decode("utf-8")


def read_as_each(base: str, tokens_file: Path) -> None:
    """One authenticated GET per bench account (see the module's docstring), eight at a time."""
    from concurrent.futures import ThreadPoolExecutor

    def read(token: str) -> None:
        request = urllib.request.Request(
            base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(read, tokens_file.read_text().split()))


def start(command: list[str], log: Path) -> subprocess.Popen:
    handle = open(log, "wb")
    return subprocess.Popen(
        command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen, group: bool = False) -> None:
    """SIGTERM to the process (`serve --processes` passes it on to its children), or with
    `group` to the process group it leads (the forked hello world)."""
    if process.poll() is None or group:
        try:
            if group:
                os.killpg(process.pid, signal.SIGTERM)
            else:
                process.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            if group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait()


def _cookies(answer: http.client.HTTPResponse) -> dict[str, str]:
    jar = http.cookies.SimpleCookie()
    for header in answer.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def _named(cookies: dict[str, str], name: str) -> tuple[str, str | None]:
    """The cookie called `name`, or `__Host-` and `name`: (its name, its value or None)."""
    for found in (name, f"__Host-{name}"):
        if found in cookies:
            return found, cookies[found]
    return name, None


def log_in(port: int, username: str, password: str) -> str:
    """Logs in through the login form as a browser does (GET /login for the form's _xsrf
    cookie, POST the form) and returns the Cookie header a browser would then send."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/login")
        answer = connection.getresponse()
        answer.read()
        # `__Host-` names when the server runs with --behind-https, as the bench starts it
        xsrf_name, xsrf = _named(_cookies(answer), "_xsrf")
        if answer.status != 200 or not xsrf:
            raise RuntimeError(f"GET /login: {answer.status}, no _xsrf cookie")
        form = urllib.parse.urlencode(
            {"_xsrf": xsrf, "username": username, "password": password, "next": "/"}
        )
        connection.request(
            "POST",
            "/login",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"{xsrf_name}={xsrf}",
            },
        )
        answer = connection.getresponse()
        answer.read()
        session_name, session = _named(_cookies(answer), "session")
        if answer.status not in (302, 303) or not session:
            raise RuntimeError(f"POST /login as {username}: {answer.status}, no session cookie")
    finally:
        connection.close()
    return f"{session_name}={session}; {xsrf_name}={xsrf}"


def log_out(port: int, cookie: str) -> None:
    """Ends the reader's session through the logout form."""
    xsrf = cookie.rpartition("_xsrf=")[2]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST",
            "/logout",
            body=urllib.parse.urlencode({"_xsrf": xsrf}),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        connection.getresponse().read()
    finally:
        connection.close()


def personal_page(base: str, path: str, cookie: str, reader: dict) -> str | None:
    """None when the page at `path`, fetched with `cookie`, is the reader's own (answered 200
    and not to be stored, the reader's name and the logout link in its header, the login link absent);
    else what is wrong with it."""
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            body = answer.read().decode("utf-8")
            private = "no-store" in (answer.headers.get("Cache-Control") or "")
            status = answer.status
    except urllib.error.HTTPError as error:
        return f"{path}: HTTP {error.code}"
    name = html.escape(reader["display_name"])
    missing = [
        what
        for what, ok in (
            ("status 200", status == 200),
            ("Cache-Control: no-store", private),
            (f"the reader's name {reader['display_name']}", f">{name}</a>" in body),
            ("the logout link", 'href="/logout"' in body),
            ("no login link", 'href="/login"' not in body),
        )
        if not ok
    ]
    return f"{path}: not the reader's own page ({', '.join(missing)})" if missing else None


def deep_path(base: str, first: str, pages: int) -> tuple[str, int]:
    """Follows the board's "next page" links (cursors, never offsets) `pages` times."""
    path = first
    followed = 0
    for _ in range(pages):
        page = fetch(base + path)
        match = re.search(r'<a[^>]*href="([^"]*cursor=[^"]*)"[^>]*rel="next"', page)
        if not match:
            break
        path = html.unescape(match.group(1))
        followed += 1
    return path, followed


# wrk -----------------------------------------------------------------------------------------
OFFSET = "{replies sent}"  # stands for REPLIES_SENT[0] in a reply run's arguments
REPLIES_SENT = [0]  # replies posted so far in this size's runs
RUN = "{run}"  # stands for this wrk run's number, never the same twice
RUNS = [0]


def wrk(
    url: str,
    seconds: float,
    script: Path,
    args: list[str],
    threads: int,
    connections: int,
    headers: tuple[str, ...] = (),
) -> dict:
    command = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
    ]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    RUNS[0] += 1
    if args:
        command += [
            "--",
            *(
                str(REPLIES_SENT[0]) if arg == OFFSET else str(RUNS[0]) if arg == RUN else arg
                for arg in args
            ),
        ]
    out = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=True
    ).stdout
    line = next((text for text in out.splitlines() if text.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no report:\n{out}")
    data = json.loads(line[6:])
    if OFFSET in args:
        REPLIES_SENT[0] += data["requests"]
    seconds_run = data["duration_us"] / 1e6
    errors = sum(data["errors"].values())
    return {
        "rps": round(data["requests"] / seconds_run, 1),
        "requests": data["requests"],
        "p50_ms": data["p50_us"] / 1000,
        "p95_ms": data["p95_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "max_ms": data["max_us"] / 1000,
        "errors": errors,
        "error_kinds": {k: v for k, v in data["errors"].items() if v},
    }


def median_of(runs: list[dict], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 2)


def summary_of(rounds: list[dict], key: str = "page", base: str = "hello") -> dict:
    """Medians over the rounds of `key`'s runs; its ratio is the median of its requests per
    second over `base`'s in the same round; errors and requests summed, max the largest."""
    pages = [r[key] for r in rounds]
    return {
        "rps": median_of(pages, "rps"),
        "hello_rps": median_of([r[base] for r in rounds], "rps"),
        "ratio": round(statistics.median(r[key]["rps"] / r[base]["rps"] for r in rounds), 3),
        "p50_ms": median_of(pages, "p50_ms"),
        "p95_ms": median_of(pages, "p95_ms"),
        "p99_ms": median_of(pages, "p99_ms"),
        "max_ms": max(p["max_ms"] for p in pages),
        "errors": sum(p["errors"] for p in pages),
        "requests": sum(p["requests"] for p in pages),
    }


def print_row(name: str, summary: dict) -> None:
    print(
        f"  {name:<19} {summary['rps']:>8.0f} req/s  ×{summary['ratio']:.2f} of hello "
        f"({summary['hello_rps']:.0f})  p50 {summary['p50_ms']:.1f}  p95 "
        f"{summary['p95_ms']:.1f}  p99 {summary['p99_ms']:.1f}  max {summary['max_ms']:.0f} ms"
        f"  errors {summary['errors']}",
        flush=True,
    )


def measure(
    name: str,
    target: str,
    hello: str,
    script: Path,
    args: list[str],
    options: argparse.Namespace,
    *,
    threads: int,
    connections: int,
    headers: tuple[str, ...] = (),
) -> dict:
    """Warm-up, then rounds of (hello world, the page) back to back, both driven alike."""
    wrk(target, options.warmup, script, args, threads, connections, headers)
    rounds = []
    for _ in range(options.rounds):
        base = wrk(hello, options.seconds, options.plain_script, [], threads, connections)
        page = wrk(target, options.seconds, script, args, threads, connections, headers)
        rounds.append({"hello": base, "page": page, "ratio": round(page["rps"] / base["rps"], 3)})
    summary = {**summary_of(rounds), "rounds": rounds}
    print_row(name, summary)
    return summary


def measure_processes(
    name: str, one: str, two: str, hello_one: str, hello_two: str, options: argparse.Namespace
) -> dict:
    """One page on one server process and on PROCESSES, and hello world on one process and on
    PROCESSES, in rounds of the four back to back: the page's ratio to one process is the median
    over the rounds of its requests per second on PROCESSES over those on one, in the same
    round; hello world's likewise, which is what the machine itself allows (wrk shares its
    cores with the servers)."""
    plain, threads, connections = options.plain_script, options.threads, options.connections
    for url in (one, two, hello_two):
        wrk(url, options.warmup, plain, [], threads, connections)
    rounds = []
    for _ in range(options.rounds):
        runs = {
            key: wrk(url, options.seconds, plain, [], threads, connections)
            for key, url in (
                ("hello", hello_one),
                ("hello_2p", hello_two),
                ("one", one),
                ("page", two),
            )
        }
        runs["ratio"] = round(runs["page"]["rps"] / runs["hello"]["rps"], 3)
        runs["vs_one_process"] = round(runs["page"]["rps"] / runs["one"]["rps"], 3)
        runs["hello_vs_one_process"] = round(runs["hello_2p"]["rps"] / runs["hello"]["rps"], 3)
        rounds.append(runs)
    spread = {
        "page": connections_per_process(two, options),
        "hello": connections_per_process(hello_two, options),
    }
    one_process = summary_of(rounds, "one")
    hello_two_rps = median_of([r["hello_2p"] for r in rounds], "rps")
    summary = {
        **summary_of(rounds),
        "processes": PROCESSES,
        "one_process": one_process,
        "vs_one_process": round(statistics.median(r["vs_one_process"] for r in rounds), 3),
        "hello_processes_rps": hello_two_rps,
        "hello_vs_one_process": round(
            statistics.median(r["hello_vs_one_process"] for r in rounds), 3
        ),
        "connections_per_process": spread,
        "rounds": rounds,
    }
    print_row(name.replace("2p", "1p"), one_process)
    print_row(name, summary)
    print(
        f"  {'':<19} {PROCESSES} processes / 1: page ×{summary['vs_one_process']:.2f}, "
        f"hello world ×{summary['hello_vs_one_process']:.2f} ({one_process['hello_rps']:.0f} → "
        f"{hello_two_rps:.0f} req/s); wrk's {connections} connections held per process: "
        f"page {spread['page']}, hello world {spread['hello']}",
        flush=True,
    )
    return summary


def connections_per_process(url: str, options: argparse.Namespace) -> list[int]:
    """How wrk's connections are spread over the processes sharing the port (a process
    accepts from the shared socket as it wakes, and wrk's connections are kept open): counted
    with `ss` one second into a short wrk run, most first. [] when ss cannot say."""
    port = urllib.parse.urlsplit(url).port
    driving = subprocess.Popen(
        [WRK, f"-t{options.threads}", f"-c{options.connections}", "-d3s", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)
        listing = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        ).stdout
    except OSError:
        listing = ""
    finally:
        driving.wait()
    held: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", listing):
        held[pid] = held.get(pid, 0) + 1
    return sorted(held.values(), reverse=True)


def run_size(posts: int, options: argparse.Namespace, scripts: dict) -> dict:
    folder = options.data / f"posts-{posts}"
    db = load_database(folder, posts)
    setup = asyncio.run(prepare_bench(db, folder, options.accounts))
    reader = setup.pop("reader")
    REPLIES_SENT[0] = 0
    port, hello_port = free_port(), free_port()
    # --behind-https: the client's address from X-Forwarded-For (see LUA_PATHS: popular
    # searches come as many visitors); the logged-in rows send their session cookie as is.
    serve = [
        sys.executable,
        str(ROOT / "server.py"),
        "serve",
        "--db",
        db,
        "--behind-https",
        *options.server_args,
    ]
    server = start([*serve, "--port", str(port)], folder / "server.log")
    hello = start(
        [sys.executable, str(Path(__file__).resolve()), "--hello-server", str(hello_port)],
        folder / "hello.log",
    )
    base, hello_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{hello_port}/"
    servers = {"one": server}
    hellos = [hello]
    try:
        wait_for(base + "/healthz")
        wait_for(hello_url)
        deep, followed = deep_path(base, "/boards/forum", options.deep)
        queries = folder / "search-paths.txt"
        queries.write_text(
            "".join(f"/search?{urllib.parse.urlencode({'q': q})}\n" for q in search_queries())
        )
        words = folder / "search-words.txt"
        words.write_text("".join(urllib.parse.quote_plus(word) + "\n" for word in common_words()))
        tokens, targets, thread = setup["tokens"], setup["targets"], setup["thread"]
        readers, names = setup["readers"], setup["reader_names"]
        # name: (path, script, arguments, server, logged in)
        wanted = {
            "home": ("/", "plain", [], "one", False),
            "board": ("/boards/forum", "plain", [], "one", False),
            "board_deep": (deep, "plain", [], "one", False),
            "post": (f"/posts/{thread}", "plain", [], "one", False),
            "json_list": ("/api/v1/boards/forum/posts", "plain", [], "one", False),
            # The same pages for a citizen with a session cookie: rendered every time.
            "board_user": ("/boards/forum", "plain", [], "one", True),
            "post_user": (f"/posts/{thread}", "plain", [], "one", True),
            # The same pages for many citizens in turn, each with a session of their own.
            "board_readers": (
                "/boards/forum",
                "readers",
                [readers, str(options.threads)],
                "one",
                False,
            ),
            "post_readers": (
                f"/posts/{thread}",
                "readers",
                [readers, str(options.threads)],
                "one",
                False,
            ),
            # 48 popular queries in turn: kept pages after their first answer.
            "search": ("/", "paths", [str(queries)], "one", False),
            # Every request a query never asked before: the full search each time. Asked by the
            # logged-in reader, since a visitor may ask only 60 new queries a minute.
            "search_unique": ("/", "unique", [str(queries), RUN], "one", True),
            "search_words": ("/", "words", [str(words), RUN, str(options.threads)], "one", True),
            "reply": ("/", "reply", [tokens, targets, str(options.threads), OFFSET], "one", False),
            # One connection: the latency of one search or reply on its own, without the queue
            # that 32 connections make in front of one process (at 32 connections p50 is about
            # 32 / throughput, whatever one request costs).
            "search_alone": ("/", "paths", [str(queries)], "one", False),
            "search_unique_alone": ("/", "unique", [str(queries), RUN], "one", True),
            "search_words_alone": ("/", "words", [str(words), RUN, "1"], "one", True),
            "reply_alone": ("/", "reply", [tokens, targets, "1", OFFSET], "one", False),
            # The anonymous board on one process and on PROCESSES, with hello world on both.
            "board_2p": ("/boards/forum", "processes", [], "two", False),
            "reply_2p": (
                "/",
                "reply",
                [tokens, targets, str(options.threads), OFFSET],
                "two",
                False,
            ),
        }
        chosen = [name for name in wanted if name in options.only]
        results = {}
        print(f"[{posts}] deep page: {followed} pages in", flush=True)
        cookie = None
        if any(wanted[name][4] for name in chosen):
            cookie = log_in(port, reader["username"], reader["password"])
            for name in ("board_user", "post_user", "search_words"):
                path = wanted[name][0] if name != "search_words" else SEARCH_CHECK
                wrong = personal_page(base, path, cookie, reader)
                if wrong:
                    raise RuntimeError(f"logged in as {reader['username']}, but {wrong}")
            print(
                f"[{posts}] logged in as {reader['username']} ({reader['display_name']}, "
                f"{'/'.join(reader['roles'])}) through the login form; the board, the post and "
                f"a search are the reader's own pages",
                flush=True,
            )
        for name in chosen:
            path, script, args, on, logged_in = wanted[name]
            if on == "two" and "two" not in servers:
                port_two, hello_two_port = free_port(), free_port()
                servers["two"] = start(
                    [*serve, "--port", str(port_two), "--processes", str(PROCESSES)],
                    folder / "server-2p.log",
                )
                hellos.append(
                    start(
                        [
                            sys.executable,
                            str(Path(__file__).resolve()),
                            "--hello-server",
                            str(hello_two_port),
                            "--hello-processes",
                            str(PROCESSES),
                        ],
                        folder / "hello-2p.log",
                    )
                )
                base_two = f"http://127.0.0.1:{port_two}"
                hello_two = f"http://127.0.0.1:{hello_two_port}/"
                wait_for(base_two + "/healthz")
                wait_for(hello_two)
            if script == "processes":
                results[name] = measure_processes(
                    name, base + path, base_two + path, hello_url, hello_two, options
                )
                continue
            if script == "paths":
                # Each popular query answered once, one after the other, before the burst: the
                # first answers are counted against the bench's address (60 a minute; the count
                # cleared first) and kept, as when a few words become popular over a while; at
                # 32 connections at once, more than 60 first answers would be refused (429).
                asyncio.run(clear_search_count(db))
                for line in queries.read_text().split():
                    fetch(base + line)
            if script == "reply":
                read_as_each(base_two if on == "two" else base, Path(tokens))
            alone = name.endswith("_alone")
            headers = (f"Cookie: {cookie}",) if logged_in else ()
            results[name] = measure(
                name,
                (base_two if on == "two" else base) + path,
                hello_url,
                scripts[script],
                args,
                options,
                threads=1 if alone else options.threads,
                connections=1 if alone else options.connections,
                headers=headers,
            )
            if logged_in:
                check = path if path != "/" else SEARCH_CHECK
                wrong = personal_page(base, check, cookie, reader)
                results[name]["still_logged_in"] = wrong is None
                if wrong:
                    print(
                        f"  WARNING: after {name}, {wrong}: the session was lost during the "
                        f"run; its numbers may be the anonymous page's",
                        flush=True,
                    )
            if script == "readers":
                # The first and the last reader still get their own page.
                lines = Path(readers).read_text().splitlines()
                for cookie_line, shown in ((lines[0], names[0]), (lines[-1], names[-1])):
                    one = {"display_name": shown}
                    wrong = personal_page(base, path, cookie_line, one)
                    results[name]["still_logged_in"] = wrong is None
                    if wrong:
                        print(f"  WARNING: after {name}, {wrong}", flush=True)
            if script == "reply" and REPLIES_SENT[0] > options.accounts * USES_PER_ACCOUNT:
                print(
                    f"  WARNING: {REPLIES_SENT[0]} replies sent, more than the "
                    f"{options.accounts} accounts may write ({USES_PER_ACCOUNT} each): "
                    f"raise --accounts",
                    flush=True,
                )
        for name, server_process in servers.items():
            if server_process.poll() is not None:
                raise RuntimeError(f"the server ({name}) stopped during the run; see {folder}")
        if cookie:
            log_out(port, cookie)
    finally:
        for server_process in servers.values():
            stop(server_process)
        stop(hellos[0])
        for forked in hellos[1:]:
            stop(forked, group=True)
    for log in ("server.log", "server-2p.log"):
        (folder / log).unlink(missing_ok=True)  # a line per request; large
    return {
        "posts": posts,
        "deep_pages_followed": followed,
        "pages": results,
        "replies_sent": REPLIES_SENT[0],
        "load_seconds": _read_float(folder / "load_seconds.txt"),
    }


def _read_float(path: Path) -> float | None:
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return None


# report --------------------------------------------------------------------------------------
LABELS = {
    "home": "home",
    "board": "board, first page",
    "board_deep": "board, deep page",
    "post": "post with 20 replies",
    "json_list": "JSON list",
    "board_user": "board, first page, logged in (citizen, cookie)",
    "post_user": "post with 20 replies, logged in (citizen, cookie)",
    "board_readers": f"board, first page, {READERS} citizens in turn (each a cookie)",
    "post_readers": f"post with 20 replies, {READERS} citizens in turn (each a cookie)",
    "search": "search page, 48 popular queries",
    "search_unique": "search page, every query new (a term no post holds), logged in",
    "search_words": "search page, every query new (3 random common words), logged in",
    "reply": "reply (POST, logged in)",
    "search_alone": "search page, 48 popular queries, 1 connection",
    "search_unique_alone": "search page, every query new (a term no post holds), "
    "logged in, 1 connection",
    "search_words_alone": "search page, every query new (3 random common words), "
    "logged in, 1 connection",
    "reply_alone": "reply, 1 connection",
    "board_2p": f"board, first page, serve --processes {PROCESSES}",
    "reply_2p": f"reply (POST, logged in), serve --processes {PROCESSES}",
}


def machine() -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        lscpu = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        model = re.search(r"Model name:\s*(.+)", lscpu)
        info["cpu"] = model.group(1).strip() if model else None
    except OSError:
        info["cpu"] = None
    try:
        with open("/proc/meminfo") as meminfo:
            kb = int(meminfo.readline().split()[1])
        info["memory_gib"] = round(kb / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        pass
    info["wrk"] = subprocess.run(
        [WRK, "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ).stdout.splitlines()[0]
    return info


def markdown(report: dict) -> str:
    lines = [
        f"# Pages against raw Tornado ({report['started']})",
        "",
        f"Machine: {report['machine']['cpus']} CPUs ({report['machine'].get('cpu')}), "
        f"{report['machine'].get('memory_gib')} GiB, Python {report['machine']['python']}; "
        f"wrk -t{report['options']['threads']} -c{report['options']['connections']}, "
        f"{report['options']['rounds']} rounds of {report['options']['seconds']} s "
        f"alternating with hello world. Server arguments: "
        f"{' '.join(report['options']['server_args']) or '(defaults)'}.",
        "",
        "| posts | page | req/s | × hello | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size in report["sizes"]:
        for name, page in size["pages"].items():
            rows = [(LABELS[name], page)]
            if "one_process" in page:  # measured beside the same page on one process
                rows.insert(
                    0,
                    (
                        LABELS[name.replace("_2p", "")] + ", one process (same rounds)",
                        page["one_process"],
                    ),
                )
            for label, row in rows:
                lost = "" if row.get("still_logged_in", True) else " (session lost: not valid)"
                lines.append(
                    f"| {size['posts']:,} | {label}{lost} | {row['rps']:.0f} | "
                    f"{row['ratio']:.2f} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
                    f"{row['p99_ms']:.1f} | {row['max_ms']:.0f} | {row['errors']} |"
                )
    scaling = [
        (size["posts"], size["pages"]["board_2p"])
        for size in report["sizes"]
        if "board_2p" in size["pages"]
    ]
    if scaling:
        lines += [
            "",
            f"`serve --processes {PROCESSES}` against one process, anonymous board "
            f"page, in the same rounds (median of the rounds' ratios; wrk runs on the same "
            f"cores):",
            "",
            "| posts | board, 1 process | board, 2 processes | × one process | "
            "hello world, 1 process | hello world, 2 processes | × one process | ≥ 1.7×? | "
            "connections per process (board; hello world) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for posts, page in scaling:
            lines.append(
                f"| {posts:,} | {page['one_process']['rps']:.0f} | {page['rps']:.0f} | "
                f"{page['vs_one_process']:.2f} | {page['hello_rps']:.0f} | "
                f"{page['hello_processes_rps']:.0f} | {page['hello_vs_one_process']:.2f}"
                f" | {'yes' if page['vs_one_process'] >= 1.7 else 'no'} | "
                f"{'+'.join(map(str, page['connections_per_process']['page']))}; "
                f"{'+'.join(map(str, page['connections_per_process']['hello']))} |"
            )
    lines += [
        "",
        "Hello world's req/s (median of its rounds) per page, and every round, are in "
        "the JSON file. Logged-in rows: the citizen bench_reader, logged in through the "
        "login form, its session cookie sent by wrk; the page checked to be the reader's "
        "own before and after.",
        f"Password hash (argon2id, the configured cost), timed alone: p50 "
        f"{report['password_hash']['p50_ms']} ms, p95 {report['password_hash']['p95_ms']} ms.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--posts",
        default="10000,100000,1000000",
        help="comma-separated sizes of the database (default 10000,100000,"
        "1000000; each kept in DATA/posts-N and reused)",
    )
    parser.add_argument("--seconds", type=int, default=4, help="each measured run (default 4)")
    parser.add_argument("--warmup", type=int, default=2, help="each page's warm-up run (default 2)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="hello/page pairs per page (default 3)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        help="wrk connections (default 32; the *_alone rows use 1)",
    )
    parser.add_argument(
        "--deep",
        type=int,
        default=DEEP_PAGES,
        help=f"next-page links followed to the deep page (default {DEEP_PAGES})",
    )
    parser.add_argument(
        "--accounts",
        type=int,
        default=BENCH_ACCOUNTS,
        help=f"bench accounts that reply, each at most {USES_PER_ACCOUNT} times "
        f"a run (default {BENCH_ACCOUNTS})",
    )
    parser.add_argument(
        "--only",
        default=",".join(LABELS),
        help="comma-separated rows to measure (default: all): " + ", ".join(LABELS),
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=ROOT / "bench" / "data",
        help="databases (default bench/data, git-ignored)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results",
        help="pages-<time>.json/.md and pages-latest.* (default bench/results)",
    )
    parser.add_argument(
        "--server-arg",
        dest="server_args",
        action="append",
        default=[],
        help="passed to `server.py serve` (repeat for each)",
    )
    parser.add_argument("--hello-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--hello-processes", type=int, default=1, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.hello_server:
        hello_server(options.hello_server, options.hello_processes)
        return 0
    options.only = set(filter(None, options.only.split(",")))
    unknown = options.only - set(LABELS)
    if unknown:
        parser.error(
            f"--only: no row named {', '.join(sorted(unknown))}; rows: {', '.join(LABELS)}"
        )
    sizes = [int(n.replace("_", "")) for n in options.posts.split(",") if n]
    options.data.mkdir(parents=True, exist_ok=True)
    options.out.mkdir(parents=True, exist_ok=True)
    scripts_dir = Path(tempfile.mkdtemp(prefix="bench-lua-"))
    scripts = {}
    for name, text in (
        ("plain", LUA_REPORT),
        ("paths", LUA_PATHS),
        ("unique", LUA_UNIQUE_PATHS),
        ("words", LUA_WORDS),
        ("reply", LUA_REPLY),
        ("readers", LUA_READERS),
    ):
        scripts[name] = scripts_dir / f"{name}.lua"
        scripts[name].write_text(text)
    options.plain_script = scripts["plain"]
    started = dt.datetime.now(dt.timezone.utc)
    report = {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "options": {
            "threads": options.threads,
            "connections": options.connections,
            "seconds": options.seconds,
            "warmup": options.warmup,
            "rounds": options.rounds,
            "deep": options.deep,
            "server_args": options.server_args,
        },
        "password_hash": asyncio.run(time_password_hash()),
        "sizes": [],
    }
    print(
        f"password hash: p50 {report['password_hash']['p50_ms']} ms, "
        f"p95 {report['password_hash']['p95_ms']} ms",
        flush=True,
    )
    for posts in sizes:
        print(f"[{posts}] ---", flush=True)
        report["sizes"].append(run_size(posts, options, scripts))
        write_report(report, options.out, started)
    shutil.rmtree(scripts_dir, ignore_errors=True)
    print(markdown(report))
    return 0


def write_report(report: dict, out: Path, started: dt.datetime) -> None:
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    for suffix, text in (
        ("json", json.dumps(report, ensure_ascii=False, indent=1)),
        ("md", markdown(report)),
    ):
        for name in (f"pages-{stamp}.{suffix}", f"pages-latest.{suffix}"):
            temporary = out / f"{name}.tmp"
            temporary.write_text(text)
            temporary.replace(out / name)


if __name__ == "__main__":
    sys.exit(main())
