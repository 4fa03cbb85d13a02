"""server.py as an operator runs it: a real process, restarts, kill -9, SIGTERM, create-user."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30
PASSWORD = "correct-horse-9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, db: str, port: int):
        self.db, self.port = db, port
        self.process: subprocess.Popen | None = None

    def start(self) -> "Server":
        env = {**os.environ, "FORUM_SECRET": "server-test-secret-" + "y" * 32}
        self.process = subprocess.Popen(
            [sys.executable, "server.py", "--port", str(self.port), "--db", self.db],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        # Wait for the log line that says it listens, instead of sleeping and polling.
        for line in self.process.stderr:
            if "serving on" in line:
                return self
        raise AssertionError(f"server did not start (exit {self.process.wait()})")

    def call(self, method: str, path: str, body=None, token: str | None = None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def kill_hard(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process.stderr.close()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=START_TIMEOUT_SECONDS)
        self.process.stderr.close()
        return code


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'forum.db'}"


def test_post_survives_kill_9_and_sessions_survive_restarts(db):
    server = Server(db, free_port()).start()
    try:
        assert (
            server.call(
                "POST", "/api/v1/auth/register", {"username": "alice", "password": PASSWORD}
            )[0]
            == 201
        )
        status, login = server.call(
            "POST", "/api/v1/auth/login", {"username": "alice", "password": PASSWORD}
        )
        token = login["token"]
        status, created = server.call(
            "POST",
            "/api/v1/boards/forum/posts",
            {"title": "断电也不丢", "body": "写入即持久"},
            token,
        )
        assert status == 201
    finally:
        server.kill_hard()  # no chance to flush anything after the 201
    restarted = Server(db, free_port()).start()
    try:
        status, thread = restarted.call("GET", f"/api/v1/posts/{created['post']['id']}")
        assert status == 200 and thread["post"]["title"] == "断电也不丢"
        status, me = restarted.call("GET", "/api/v1/me", token=token)
        assert status == 200 and me["user"]["username"] == "alice"
        assert restarted.call("GET", "/healthz") == (200, {"status": "ok", "store": "sqlite"})
    finally:
        assert restarted.stop() == 0  # SIGTERM: a clean, graceful exit


REPLIERS = 8
REPLIES = 64  # 8 per account: under the new accounts' write limit


async def repliers_and_a_post(db: str) -> tuple[list[str], str]:
    """Accounts with bearer sessions and a post to reply to, made through the services before
    the server starts (registering over HTTP is limited per address)."""
    from forum.config import PasswordCost
    from forum.security import Passwords
    from forum.services import accounts, posting
    from forum.services.setup import prepare_store
    from forum.store import open_store

    store = open_store(db)
    await prepare_store(store)
    cheap = Passwords(PasswordCost(memory_kib=64, time_cost=1))  # nobody logs in with these
    try:
        users = [
            await accounts.create_user(store, cheap, username=f"replier{i}", password=PASSWORD)
            for i in range(REPLIERS)
        ]
        tokens = [(await accounts.open_session(store, user, "bearer")).token for user in users]
        view = await posting.create_post(
            store,
            users[0],
            "forum",
            {"title": "断电前的回复", "category": None, "body": "回复一起写入"},
        )
    finally:
        await store.close()
    return tokens, view.post.id


def test_every_reply_answered_201_survives_kill_9_with_others_in_flight(db):
    """Replies arriving together share commits: each is answered only after the commit that
    holds it, so every 201 is in the database after kill -9, whatever was in flight."""
    tokens, post_id = asyncio.run(repliers_and_a_post(db))
    server = Server(db, free_port()).start()

    def reply(i: int):
        return server.call(
            "POST",
            f"/api/v1/posts/{post_id}/replies",
            {"body": f"第{i}条回复"},
            tokens[i % REPLIERS],
        )

    pool = ThreadPoolExecutor(16)
    futures = [pool.submit(reply, i) for i in range(REPLIES)]
    try:
        for answers, future in enumerate(as_completed(futures), start=1):
            if answers == REPLIES // 4:
                break  # a quarter answered, the rest in flight or waiting: kill it here
    finally:
        server.kill_hard()
    answered = set()
    for future in futures:
        try:
            status, body = future.result()
        except OSError:
            continue  # cut off by the kill: never told it was stored
        assert status == 201, body
        answered.add(body["reply"]["id"])
    pool.shutdown()
    conn = sqlite3.connect(db.removeprefix("sqlite:///"))
    try:
        stored = {
            row[0] for row in conn.execute("SELECT id FROM replies WHERE post_id = ?", (post_id,))
        }
    finally:
        conn.close()
    assert len(answered) >= REPLIES // 4
    assert answered <= stored


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "server.py", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_user_makes_an_admin_who_can_log_in(db):
    made = run_cli(
        "create-user",
        "root",
        "--role",
        "admin",
        "--password-stdin",
        "--db",
        db,
        stdin=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    assert "citizen, admin" in made.stdout
    again = run_cli("create-user", "ROOT", "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "用户名已被使用" in again.stderr
    weak = run_cli("create-user", "weak", "--password-stdin", "--db", db, stdin="short\n")
    assert weak.returncode == 1 and "password" in weak.stderr
    staff = run_cli(
        "create-user",
        "clerk",
        "--role",
        "staff",
        "--department",
        "tax",
        "--password-stdin",
        "--db",
        db,
        stdin=PASSWORD + "\n",
    )
    assert staff.returncode == 0, staff.stderr
    server = Server(db, free_port()).start()
    try:
        status, login = server.call(
            "POST", "/api/v1/auth/login", {"username": "root", "password": PASSWORD}
        )
        assert status == 200 and login["user"]["roles"] == ["citizen", "admin"]
    finally:
        server.stop()


@pytest.mark.parametrize("command", [[], ["serve"], ["create-user"]])
def test_help_for_each_command(command):
    result = run_cli(*command, "--help")
    assert result.returncode == 0 and "--db" in result.stdout


def test_reindex_rebuilds_the_search_index(db):
    made = run_cli("create-user", "writer", "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    assert made.returncode == 0
    server = Server(db, free_port()).start()
    try:
        token = server.call(
            "POST", "/api/v1/auth/login", {"username": "writer", "password": PASSWORD}
        )[1]["token"]
        status, _ = server.call(
            "POST",
            "/api/v1/boards/forum/posts",
            {"title": "劳动合同纠纷怎么处理", "body": "工资"},
            token,
        )
        assert status == 201
    finally:
        server.stop()
    result = run_cli("reindex", "--db", db)
    assert result.returncode == 0 and "reindexed 1 posts" in result.stdout
    assert "1/1" in result.stderr
    server = Server(db, free_port()).start()
    try:
        status, found = server.call("GET", "/api/v1/search?q=%E5%8A%B3%E5%8A%A8%E5%90%88%E5%90%8C")
        assert status == 200 and found["items"][0]["post"]["title"] == "劳动合同纠纷怎么处理"
    finally:
        server.stop()


@pytest.mark.parametrize(
    "argv, command, port, db",
    [
        (["--port", "9000", "serve"], "serve", 9000, None),
        (["serve", "--port", "9000"], "serve", 9000, None),
        (["--port", "9000"], "serve", 9000, None),
        (["serve"], "serve", 8888, None),
        (["--db", "sqlite:///before.db", "reindex"], "reindex", 8888, "sqlite:///before.db"),
        (["reindex", "--db", "sqlite:///after.db"], "reindex", 8888, "sqlite:///after.db"),
        (
            ["--db", "sqlite:///before.db", "serve", "--port", "9001"],
            "serve",
            9001,
            "sqlite:///before.db",
        ),
    ],
)
def test_options_count_before_or_after_the_command(argv, command, port, db):
    """A command's defaults never overwrite what was given before its name."""
    from server import parse_args

    args = parse_args(argv)
    assert (args.command, args.port) == (command, port)
    if db is not None:
        assert args.db == db
