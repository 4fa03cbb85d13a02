"""server.py's lifecycle as an operator meets it, with real processes: SIGTERM with requests in
flight, the supervisor of --processes killed hard."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import pytest

from tests.test_processes import Processes
from tests.test_server import PASSWORD, START_TIMEOUT_SECONDS, Server, free_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals")


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'forum.db'}"


def test_sigterm_answers_every_request_in_flight_and_keeps_every_201(db, tmp_path):
    server = Server(db, free_port()).start()
    assert server.call("POST", "/api/v1/auth/register",
                       {"username": "alice", "password": PASSWORD})[0] == 201
    token = server.call("POST", "/api/v1/auth/login",
                        {"username": "alice", "password": PASSWORD})[1]["token"]
    count = 24
    # Connections accepted and kept alive before the signal, so that every request below
    # reaches the server: each must then be answered (its work done: 200/201; or refused: 503).
    connections = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                   for _ in range(count)]
    for connection in connections:
        connection.request("GET", "/healthz")
        assert connection.getresponse().read()

    def send(i: int) -> tuple[int, dict]:
        if i % 3 == 0:  # a login: a slow password hash
            path, body, auth = "/api/v1/auth/login", {"username": "alice", "password": PASSWORD}, {}
        else:
            path, body = "/api/v1/boards/forum/posts", {"title": f"停机前的第{i}帖", "body": "写入"}
            auth = {"Authorization": f"Bearer {token}"}
        connections[i].request("POST", path, json.dumps(body),
                               {"Content-Type": "application/json", **auth})
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
        kept = {row[0] for row in conn.execute(
            f"SELECT id FROM posts WHERE id IN ({','.join('?' * len(created))})", created)}
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
