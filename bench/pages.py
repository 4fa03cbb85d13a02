"""Pages against raw Tornado: the forum's pages, its JSON list, search and replying, each driven
by wrk and reported as a ratio to a hello-world Tornado application measured in the same run.

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
bench clears only those accounts' write counts before each run. Password hashing is not part
of a reply (a bearer token is checked by its SHA-256); it is timed on its own, at the
configured cost.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import html
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
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRK = shutil.which("wrk") or "/usr/bin/wrk"
BENCH_ACCOUNTS = 1500
# New accounts may write 10 times in 10 minutes (throttle.POSTS_PER_NEW_ACCOUNT): each bench
# account is used at most this often in one run.
USES_PER_ACCOUNT = 9
THREAD_TITLE = "基准测试：一个有 20 条回复的帖子"
THREAD_REPLIES = 20
DEEP_PAGES = 200
REPLY_TARGETS = 200

HELLO_PAGE = ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
              "<title>你好</title></head><body><h1>你好，世界</h1>"
              "<p>Hello, world.</p></body></html>")

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

# Paths read from a file (one a line), taken in turn by each connection's requests; each
# request as another visitor, as in LUA_UNIQUE_PATHS (a path's first answer is a search).
LUA_PATHS = LUA_THREAD_ID + r"""
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  n = id
end
function request()
  n = n + 1
  local visitor = string.format("10.%d.%d.%d", 128 + id % 128, math.floor(n / 256) % 256,
                                n % 256)
  return wrk.format("GET", paths[(n % #paths) + 1], {["X-Forwarded-For"] = visitor})
end
""" + LUA_REPORT

# The same paths (each `/search?q=...`, q last), each request made unique by one more query
# term: digits and letters that no post holds, different for every request of every run (args[2]
# is the run's number). The search does all its work (segmentation, every term's candidates,
# ranking, snippets) and the answer is the same query's, but no page cache can have it.
# Each request comes as another visitor (X-Forwarded-For, which the server reads when started
# with --behind-https, as behind the city's proxy): a visitor may search 60 times a minute, and
# from one address the run would measure 429s after the first 60.
LUA_UNIQUE_PATHS = LUA_THREAD_ID + r"""
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  run = tonumber(args[2])
  n = 0
end
function request()
  n = n + 1
  local visitor = string.format("10.%d.%d.%d", id % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format("GET", string.format("%s+%dr%dt%dn", paths[((n + id) % #paths) + 1],
                                         run, id, n), {["X-Forwarded-For"] = visitor})
end
""" + LUA_REPORT

# A reply per request: tokens (one a line) and target posts taken in turn; each thread has
# its own share of the tokens, so no account is used more than its share allows.
LUA_REPLY = LUA_THREAD_ID + r"""
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
""" + LUA_REPORT


# the hello world -----------------------------------------------------------------------------
def hello_server(port: int) -> None:
    """The ceiling: raw Tornado writing a fixed small page, nothing else."""
    import tornado.ioloop
    import tornado.web

    class Hello(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write(HELLO_PAGE)

    async def main() -> None:
        app = tornado.web.Application([(r"/", Hello)])
        app.listen(port, "127.0.0.1")
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
    result = subprocess.run([sys.executable, str(ROOT / "server.py"), "demo", "--posts",
                             str(posts), "--db", db], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, check=True)
    seconds = time.monotonic() - started
    (folder / "load_seconds.txt").write_text(f"{seconds:.1f}\n")
    marker.write_text(result.stdout)
    print(f"[{posts}] loaded in {seconds:.0f}s", flush=True)
    return db


async def prepare_bench(db: str, folder: Path, accounts: int) -> dict:
    """Bench accounts with bearer sessions, their write counts cleared; a post with 20 replies;
    posts to reply to. Made through the services, as a client would."""
    from forum.config import PasswordCost
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
                    store, cheap, username=name, password=f"bench-{i}-{os.urandom(8).hex()}",
                    display_name=f"测试用户{i}")
            users.append(user)
        tokens_file = folder / "tokens.txt"
        tokens = tokens_file.read_text().split() if tokens_file.exists() else []
        if len(tokens) != accounts or await account_service.user_for_token(
                store, tokens[0]) is None:
            tokens = [(await account_service.open_session(store, user, "bearer")).token
                      for user in users]
            tokens_file.write_text("\n".join(tokens) + "\n")
        for user in users:
            for limit in (throttle.POSTS_PER_ACCOUNT, throttle.POSTS_PER_NEW_ACCOUNT):
                await throttle.clear(store, limit, user.id)
        # The post with 20 replies, by the first bench account, replied to by the next 20.
        own = await store.list_posts(PostFilter(author_id=users[0].id, board="forum"), None, 1)
        if own:
            thread_id = own[0].id
        else:
            view = await posting.create_post(store, users[0], "forum", {
                "title": THREAD_TITLE, "category": None,
                "body": "小区门口的路灯坏了一个多月，晚上出行很不方便。\n\n希望有关部门尽快修好。"})
            thread_id = view.post.id
        have = len(await store.list_replies(thread_id))
        for i in range(have, THREAD_REPLIES):
            await posting.add_reply(store, users[1 + i], thread_id,
                                    f"第 {i + 1} 条回复：我家附近也是这样，**支持**尽快解决。")
        targets = [post.id for post in await store.list_posts(
            PostFilter(board="forum", statuses=(Status.PUBLISHED,), pinned=False), None,
            REPLY_TARGETS) if post.id != thread_id]
        (folder / "targets.txt").write_text("\n".join(targets) + "\n")
        for user in users[:THREAD_REPLIES + 1]:
            for limit in (throttle.POSTS_PER_ACCOUNT, throttle.POSTS_PER_NEW_ACCOUNT):
                await throttle.clear(store, limit, user.id)
    finally:
        await store.close()
    return {"thread": thread_id, "tokens": str(folder / "tokens.txt"),
            "targets": str(folder / "targets.txt")}


def search_queries() -> list[str]:
    from forum.demo_content import BULK_SUBJECTS
    words = [subject for subject, _ in BULK_SUBJECTS]
    return words + [f"{a} {b}" for a, b in zip(words, words[3:] + words[:3])]


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
    return {"runs": rounds, "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
            "cost": Config().password_cost.__dict__}


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


def start(command: list[str], log: Path) -> subprocess.Popen:
    handle = open(log, "wb")
    return subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
REPLIES_SENT = [0]         # replies posted so far in this size's runs
RUN = "{run}"              # stands for this wrk run's number, never the same twice
RUNS = [0]
def wrk(url: str, seconds: float, script: Path, args: list[str], threads: int,
        connections: int) -> dict:
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "--timeout", "10s", "-s", str(script), url]
    RUNS[0] += 1
    if args:
        command += ["--", *(str(REPLIES_SENT[0]) if arg == OFFSET else str(RUNS[0])
                            if arg == RUN else arg for arg in args)]
    out = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         check=True).stdout
    line = next((text for text in out.splitlines() if text.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no report:\n{out}")
    data = json.loads(line[6:])
    if OFFSET in args:
        REPLIES_SENT[0] += data["requests"]
    seconds_run = data["duration_us"] / 1e6
    errors = sum(data["errors"].values())
    return {"rps": round(data["requests"] / seconds_run, 1), "requests": data["requests"],
            "p50_ms": data["p50_us"] / 1000, "p95_ms": data["p95_us"] / 1000,
            "p99_ms": data["p99_us"] / 1000, "max_ms": data["max_us"] / 1000,
            "errors": errors, "error_kinds": {k: v for k, v in data["errors"].items() if v}}


def median_of(runs: list[dict], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 2)


def measure(name: str, target: str, hello: str, script: Path, args: list[str],
            options: argparse.Namespace, *, threads: int, connections: int) -> dict:
    """Warm-up, then rounds of (hello world, the page) back to back, both driven alike."""
    wrk(target, options.warmup, script, args, threads, connections)
    rounds = []
    for _ in range(options.rounds):
        base = wrk(hello, options.seconds, options.plain_script, [], threads, connections)
        page = wrk(target, options.seconds, script, args, threads, connections)
        rounds.append({"hello": base, "page": page, "ratio": round(page["rps"] / base["rps"], 3)})
    pages = [r["page"] for r in rounds]
    summary = {
        "rps": median_of(pages, "rps"), "hello_rps": median_of([r["hello"] for r in rounds], "rps"),
        "ratio": round(statistics.median(r["ratio"] for r in rounds), 3),
        "p50_ms": median_of(pages, "p50_ms"), "p95_ms": median_of(pages, "p95_ms"),
        "p99_ms": median_of(pages, "p99_ms"), "errors": sum(p["errors"] for p in pages),
        "requests": sum(p["requests"] for p in pages), "rounds": rounds}
    print(f"  {name:<11} {summary['rps']:>8.0f} req/s  ×{summary['ratio']:.2f} of hello "
          f"({summary['hello_rps']:.0f})  p50 {summary['p50_ms']:.1f} ms  p95 "
          f"{summary['p95_ms']:.1f} ms  p99 {summary['p99_ms']:.1f} ms  errors "
          f"{summary['errors']}", flush=True)
    return summary


def run_size(posts: int, options: argparse.Namespace, scripts: dict) -> dict:
    folder = options.data / f"posts-{posts}"
    db = load_database(folder, posts)
    setup = asyncio.run(prepare_bench(db, folder, options.accounts))
    REPLIES_SENT[0] = 0
    port, hello_port = free_port(), free_port()
    # --behind-https: the client's address from X-Forwarded-For (see LUA_UNIQUE_PATHS); the
    # other scripts send none, and anonymous pages set no cookie for Secure to change.
    server = start([sys.executable, str(ROOT / "server.py"), "serve", "--port", str(port),
                    "--db", db, "--behind-https", *options.server_args], folder / "server.log")
    hello = start([sys.executable, str(Path(__file__).resolve()), "--hello-server",
                   str(hello_port)], folder / "hello.log")
    base, hello_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{hello_port}/"
    try:
        wait_for(base + "/healthz")
        wait_for(hello_url)
        deep, followed = deep_path(base, "/boards/forum", options.deep)
        queries = folder / "search-paths.txt"
        queries.write_text("".join(f"/search?{urllib.parse.urlencode({'q': q})}\n"
                                   for q in search_queries()))
        wanted = {
            "home": ("/", "plain", []),
            "board": ("/boards/forum", "plain", []),
            "board_deep": (deep, "plain", []),
            "post": (f"/posts/{setup['thread']}", "plain", []),
            "json_list": ("/api/v1/boards/forum/posts", "plain", []),
            # 48 popular queries in turn: kept pages after their first answer.
            "search": ("/", "paths", [str(queries)]),
            # Every request a query never asked before: the full search each time.
            "search_unique": ("/", "unique", [str(queries), RUN]),
            "reply": ("/", "reply", [setup["tokens"], setup["targets"], str(options.threads),
                                     OFFSET]),
            # One connection: the latency of one search or reply on its own, without the queue
            # that 32 connections make in front of one process (at 32 connections p50 is about
            # 32 / throughput, whatever one request costs).
            "search_alone": ("/", "paths", [str(queries)]),
            "search_unique_alone": ("/", "unique", [str(queries), RUN]),
            "reply_alone": ("/", "reply", [setup["tokens"], setup["targets"], "1", OFFSET]),
        }
        chosen = [name for name in wanted if name in options.only]
        results = {}
        print(f"[{posts}] deep page: {followed} pages in", flush=True)
        for name in chosen:
            path, script, args = wanted[name]
            alone = name.endswith("_alone")
            results[name] = measure(name, base + path, hello_url, scripts[script], args,
                                    options, threads=1 if alone else options.threads,
                                    connections=1 if alone else options.connections)
        if server.poll() is not None:
            raise RuntimeError("the server stopped during the run; see " + str(folder / "server.log"))
    finally:
        stop(server)
        stop(hello)
    (folder / "server.log").unlink(missing_ok=True)  # a line per request; large
    return {"posts": posts, "deep_pages_followed": followed, "pages": results,
            "load_seconds": _read_float(folder / "load_seconds.txt")}


def _read_float(path: Path) -> float | None:
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return None


# report --------------------------------------------------------------------------------------
LABELS = {"home": "home", "board": "board, first page", "board_deep": "board, deep page",
          "post": "post with 20 replies", "json_list": "JSON list",
          "search": "search page, 48 popular queries",
          "search_unique": "search page, every query new",
          "reply": "reply (POST, logged in)",
          "search_alone": "search page, 48 popular queries, 1 connection",
          "search_unique_alone": "search page, every query new, 1 connection",
          "reply_alone": "reply, 1 connection"}


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count()}
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
    info["wrk"] = subprocess.run([WRK, "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True).stdout.splitlines()[0]
    return info


def markdown(report: dict) -> str:
    lines = [f"# Pages against raw Tornado ({report['started']})", "",
             f"Machine: {report['machine']['cpus']} CPUs ({report['machine'].get('cpu')}), "
             f"{report['machine'].get('memory_gib')} GiB, Python {report['machine']['python']}; "
             f"wrk -t{report['options']['threads']} -c{report['options']['connections']}, "
             f"{report['options']['rounds']} rounds of {report['options']['seconds']} s "
             f"alternating with hello world. Server arguments: "
             f"{' '.join(report['options']['server_args']) or '(defaults)'}.", "",
             "| posts | page | req/s | × hello | p50 ms | p95 ms | p99 ms | errors |",
             "|---|---|---|---|---|---|---|---|"]
    for size in report["sizes"]:
        for name, page in size["pages"].items():
            lines.append(f"| {size['posts']:,} | {LABELS[name]} | {page['rps']:.0f} | "
                         f"{page['ratio']:.2f} | {page['p50_ms']:.1f} | {page['p95_ms']:.1f} | "
                         f"{page['p99_ms']:.1f} | {page['errors']} |")
    lines += ["", "Hello world's req/s (median of its rounds) per page is in the JSON file.",
              f"Password hash (argon2id, the configured cost), timed alone: p50 "
              f"{report['password_hash']['p50_ms']} ms, p95 {report['password_hash']['p95_ms']} ms."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", default="100000",
                        help="comma-separated sizes of the database (default 100000)")
    parser.add_argument("--seconds", type=int, default=4, help="each measured run")
    parser.add_argument("--warmup", type=int, default=2, help="each page's warm-up run")
    parser.add_argument("--rounds", type=int, default=3, help="hello/page pairs per page")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--deep", type=int, default=DEEP_PAGES, help="next-page links followed")
    parser.add_argument("--accounts", type=int, default=BENCH_ACCOUNTS)
    parser.add_argument("--only", default=",".join(LABELS), help="pages to measure")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--server-arg", dest="server_args", action="append", default=[],
                        help="passed to `server.py serve` (repeat for each)")
    parser.add_argument("--hello-server", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.hello_server:
        hello_server(options.hello_server)
        return 0
    options.only = set(options.only.split(","))
    sizes = [int(n.replace("_", "")) for n in options.posts.split(",") if n]
    options.data.mkdir(parents=True, exist_ok=True)
    options.out.mkdir(parents=True, exist_ok=True)
    scripts_dir = Path(tempfile.mkdtemp(prefix="bench-lua-"))
    scripts = {}
    for name, text in (("plain", LUA_REPORT), ("paths", LUA_PATHS),
                       ("unique", LUA_UNIQUE_PATHS), ("reply", LUA_REPLY)):
        scripts[name] = scripts_dir / f"{name}.lua"
        scripts[name].write_text(text)
    options.plain_script = scripts["plain"]
    started = dt.datetime.now(dt.timezone.utc)
    report = {"started": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
              "options": {"threads": options.threads, "connections": options.connections,
                          "seconds": options.seconds, "warmup": options.warmup,
                          "rounds": options.rounds, "deep": options.deep,
                          "server_args": options.server_args},
              "password_hash": asyncio.run(time_password_hash()), "sizes": []}
    print(f"password hash: p50 {report['password_hash']['p50_ms']} ms, "
          f"p95 {report['password_hash']['p95_ms']} ms", flush=True)
    for posts in sizes:
        print(f"[{posts}] ---", flush=True)
        report["sizes"].append(run_size(posts, options, scripts))
        write_report(report, options.out, started)
    shutil.rmtree(scripts_dir, ignore_errors=True)
    print(markdown(report))
    return 0


def write_report(report: dict, out: Path, started: dt.datetime) -> None:
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    for suffix, text in (("json", json.dumps(report, ensure_ascii=False, indent=1)),
                         ("md", markdown(report))):
        for name in (f"pages-{stamp}.{suffix}", f"pages-latest.{suffix}"):
            temporary = out / f"{name}.tmp"
            temporary.write_text(text)
            temporary.replace(out / name)


if __name__ == "__main__":
    sys.exit(main())
