"""server.py's lifecycle as an operator meets it, with real processes: SIGTERM with requests in
flight, the supervisor of --processes killed hard, and every fault that keeps it from starting
told in one line."""

from __future__ import annotations

import errno
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import pytest

from forum import config as forum_config
from forum.store.sqlite import MIGRATIONS
from tests.support.stores import damage_table, made_sqlite
from tests.test_processes import Processes
from tests.test_server import PASSWORD, ROOT, START_TIMEOUT_SECONDS, Server, free_port, run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals")


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'forum.db'}"


def test_sigterm_answers_every_request_in_flight_and_keeps_every_201(db, tmp_path):
    server = Server(db, free_port()).start()
    assert (
        server.call("POST", "/api/v1/auth/register", {"username": "alice", "password": PASSWORD})[0]
        == 201
    )
    token = server.call("POST", "/api/v1/auth/login", {"username": "alice", "password": PASSWORD})[
        1
    ]["token"]
    count = 24
    # Connections accepted and kept alive before the signal, so that every request below
    # reaches the server: each must then be answered (its work done: 200/201; or refused: 503).
    connections = [
        http.client.HTTPConnection("127.0.0.1", server.port, timeout=30) for _ in range(count)
    ]
    for connection in connections:
        connection.request("GET", "/healthz")
        assert connection.getresponse().read()

    def send(i: int) -> tuple[int, dict]:
        if i % 3 == 0:  # a login: a slow password hash
            path, body, auth = "/api/v1/auth/login", {"username": "alice", "password": PASSWORD}, {}
        else:
            path, body = "/api/v1/boards/forum/posts", {"title": f"停机前的第{i}帖", "body": "写入"}
            auth = {"Authorization": f"Bearer {token}"}
        connections[i].request(
            "POST", path, json.dumps(body), {"Content-Type": "application/json", **auth}
        )
        answer = connections[i].getresponse()
        return answer.status, json.loads(answer.read())

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(send, i) for i in range(count)]
        wait(futures, return_when=FIRST_COMPLETED)
        server.process.send_signal(signal.SIGTERM)
        answers = [future.result() for future in futures]  # none cut
    code = server.process.wait(timeout=START_TIMEOUT_SECONDS)
    log = server.process.stderr.read()
    server.process.stderr.close()
    assert code == 0
    # 429: the rate limit on posting, an answer too.
    assert {status for status, _ in answers} <= {200, 201, 429, 503}, answers
    created = [body["post"]["id"] for status, body in answers if status == 201]
    assert created
    with sqlite3.connect(tmp_path / "data" / "forum.db") as conn:
        kept = {
            row[0]
            for row in conn.execute(
                f"SELECT id FROM posts WHERE id IN ({','.join('?' * len(created))})", created
            )
        }
    assert kept == set(created)
    assert "Traceback" not in log and "status=500" not in log
    assert log.rstrip().endswith("stopped")


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    except OSError:  # no /proc
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    return state in ("Z", "X")  # ended; waiting for a parent that is no longer there to reap it


def test_children_end_with_their_supervisor_and_the_port_is_free_again(db, tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    server = Processes(db, port, 2, metrics_dir).start()
    children = {json.loads(line)["pid"] for line in server.lines if "serving on" in line}
    assert len(children) == 2 and server.process.pid not in children
    server.process.kill()  # kill -9: the supervisor has no chance to pass anything on
    server.process.wait(timeout=10)
    deadline = time.monotonic() + 5
    while not all(gone(pid) for pid in children):
        assert time.monotonic() < deadline, "server processes outlived their supervisor"
        time.sleep(0.05)
    restarted = Server(db, port).start()  # binds the same port
    try:
        assert restarted.call("GET", "/healthz")[0] == 200
    finally:
        assert restarted.stop() == 0
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def start_fails(db: str, *options: str, port: int | None = None) -> str:
    """Start server.py without FORUM_SECRET; it must exit 1 with one line and no traceback,
    which is returned."""
    env = {k: v for k, v in os.environ.items() if k != "FORUM_SECRET"}
    ended = subprocess.run(
        [sys.executable, "server.py", "--port", str(port or free_port()), "--db", db, *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = ended.stderr.strip().splitlines()
    assert ended.returncode == 1, ended.stderr
    assert len(lines) == 1 and "Traceback" not in ended.stderr, ended.stderr
    assert " ERROR forum: " in lines[0]
    return lines[0]


def test_an_empty_cookie_secret_stops_the_start_with_what_to_do(tmp_path):
    (tmp_path / "cookie_secret").write_text("")
    line = start_fails(f"sqlite:///{tmp_path / 'forum.db'}")
    assert "cookie_secret" in line and "delete it" in line and "FORUM_SECRET" in line


def test_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = start_fails(f"sqlite:///{tmp_path / 'forum.db'}", port=port)
        assert f"cannot listen on 127.0.0.1:{port}" in line and "in use" in line
        # The same from the supervisor of several processes, before it forks.
        line = start_fails(f"sqlite:///{tmp_path / 'forum.db'}", "--processes", "2", port=port)
        assert "in use" in line


def test_a_newer_schema_is_one_line_naming_both_versions(tmp_path):
    made_sqlite(tmp_path / "forum.db")
    with sqlite3.connect(tmp_path / "forum.db") as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    line = start_fails(f"sqlite:///{tmp_path / 'forum.db'}")
    assert f"schema version {len(MIGRATIONS) + 1}, newer than this code's {len(MIGRATIONS)}" in line


def test_a_database_a_restore_left_half_loaded_is_one_line_saying_what_to_do(tmp_path):
    made_sqlite(tmp_path / "forum.db")
    with sqlite3.connect(tmp_path / "forum.db") as conn:
        conn.execute(
            "INSERT INTO restore_mark (one, started_at) VALUES (1, '2026-12-07T01:02:03.000Z')"
        )
    line = start_fails(f"sqlite:///{tmp_path / 'forum.db'}")
    assert "did not finish" in line and "--force" in line and "2026-12-07T01:02:03" in line


def test_another_applications_database_is_refused_and_nothing_written_beside_it(tmp_path):
    with sqlite3.connect(tmp_path / "inventory.db") as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    line = start_fails(f"sqlite:///{tmp_path / 'inventory.db'}")
    assert "another application's SQLite database" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.db"]


def test_a_damaged_database_is_refused_and_check_reports_it(tmp_path):
    made_sqlite(tmp_path / "forum.db")
    db = f"sqlite:///{tmp_path / 'forum.db'}"
    sound = run_cli("check", "--db", db)
    assert sound.returncode == 0 and "sqlite: ok" in sound.stdout
    damage_table(tmp_path / "forum.db", "users")
    line = start_fails(db)
    assert "is damaged" in line and "check" in line
    checked = run_cli("check", "--db", db)
    assert checked.returncode == 1 and "malformed" in checked.stdout, checked
    (tmp_path / "garbage.db").write_bytes(os.urandom(8192))
    line = start_fails(f"sqlite:///{tmp_path / 'garbage.db'}")
    assert "damaged or not an SQLite database" in line
    assert run_cli("check", "--db", f"sqlite:///{tmp_path / 'garbage.db'}").returncode == 1


def test_a_data_folder_that_cannot_be_written_is_one_line(tmp_path):
    if os.geteuid() == 0:  # root writes through chmod: a folder that cannot even be made
        (tmp_path / "a-file").write_text("")
        line = start_fails(f"sqlite:///{tmp_path / 'a-file' / 'data' / 'forum.db'}")
        assert "a-file" in line
        return
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        line = start_fails(f"sqlite:///{folder / 'forum.db'}")
    finally:
        folder.chmod(0o700)
    assert "writable" in line


def test_a_secret_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    monkeypatch.delenv("FORUM_SECRET", raising=False)
    db = f"sqlite:///{tmp_path / 'forum.db'}"

    def full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", full)
        with pytest.raises(OSError):
            forum_config.cookie_secret(db)
    assert list(tmp_path.iterdir()) == []  # neither the secret nor its temporary file
    secret = forum_config.cookie_secret(db)
    assert len(secret) >= forum_config.MIN_SECRET_CHARS
    assert forum_config.cookie_secret(db) == secret
    assert (tmp_path / "cookie_secret").stat().st_mode & 0o777 == 0o600
    (tmp_path / "cookie_secret").write_text("short\n")
    with pytest.raises(forum_config.BadSecret, match="delete it"):
        forum_config.cookie_secret(db)


def command_fails(*args: str) -> str:
    """A command of server.py that must exit 1 with one line on stderr and no traceback;
    that line."""
    ended = run_cli(*args, stdin=PASSWORD + "\n")
    lines = ended.stderr.strip().splitlines()
    assert ended.returncode == 1, ended.stderr
    assert len(lines) == 1 and "Traceback" not in ended.stderr, ended.stderr
    assert " ERROR forum: " in lines[0]
    return lines[0]


FAULTS = (
    "unknown URL",
    "store unreachable",
    "file in the way",
    "newer schema",
    "unfinished restore",
    "foreign file",
)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(
    "command",
    [("create-user", "alice", "--password-stdin"), ("reindex",), ("demo", "--scale", "0.01")],
)
def test_create_user_reindex_and_demo_tell_a_start_up_fault_in_one_line(tmp_path, command, fault):
    path = tmp_path / "forum.db"
    if fault in ("newer schema", "unfinished restore"):
        made_sqlite(path)
        with sqlite3.connect(path) as conn:
            if fault == "newer schema":
                conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
            else:
                conn.execute(
                    "INSERT INTO restore_mark (one, started_at) VALUES "
                    "(1, '2026-12-07T01:02:03.000Z')"
                )
    elif fault == "foreign file":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    elif fault == "file in the way":
        (tmp_path / "a-file").write_text("")
        path = tmp_path / "a-file" / "data" / "forum.db"
    db = {
        "unknown URL": "postgres://localhost/forum",
        "store unreachable": "mongodb://127.0.0.1:1/forum?serverSelectionTimeoutMS=300",
    }.get(fault, f"sqlite:///{path}")
    if command[0] == "demo" and fault == "unknown URL":
        # as backup and restore answer a URL they cannot use
        ended = run_cli(*command, "--db", db)
        assert ended.returncode == 2 and "Traceback" not in ended.stderr
        assert ended.stderr.strip() == (
            "error: unsupported store URL 'postgres://localhost/forum':"
            " use sqlite:///path or mongodb://host/db"
        )
        return
    line = command_fails(*command, "--db", db)
    expected = {
        "unknown URL": "use sqlite:///path or mongodb://host/db",
        "store unreachable": "does not answer: check that it runs",
        "file in the way": "a file stands in its way",
        "newer schema": f"newer than this code's {len(MIGRATIONS)}",
        "unfinished restore": "did not finish",
        "foreign file": "another application's SQLite database",
    }[fault]
    assert expected in line
    if fault == "foreign file":
        assert sorted(p.name for p in tmp_path.iterdir()) == ["forum.db"]
