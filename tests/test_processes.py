"""server.py --processes N as an operator runs it: several processes on one port share sessions
through the store, /metrics sums what they all counted, and SIGTERM stops them all cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.test_server import PASSWORD, ROOT, START_TIMEOUT_SECONDS, Server, free_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork")

LETTER = {
    "title": "路灯不亮",
    "body": "一个月了",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13812345678",
    "public": True,
}


class Processes(Server):
    """A server of `count` processes. Its standard error is read all along (by a thread), so
    that the processes never block on a full pipe, and kept."""

    def __init__(self, db: str, port: int, count: int, metrics_dir: Path):
        super().__init__(db, port)
        self.count, self.metrics_dir = count, metrics_dir
        self.metrics_port = free_port()
        self.lines: list[str] = []
        self._reader: threading.Thread | None = None

    def start(self) -> "Processes":
        env = {
            **os.environ,
            "FORUM_SECRET": "server-test-secret-" + "y" * 32,
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "server.py",
                "--port",
                str(self.port),
                "--db",
                self.db,
                "--metrics-port",
                str(self.metrics_port),
                "--processes",
                str(self.count),
                "--log-format",
                "json",
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        ready = 0
        for line in self.process.stderr:
            self.lines.append(line)
            ready += "serving on" in line
            if ready == self.count:
                break
        else:
            raise AssertionError(f"server did not start (exit {self.process.wait()})")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    def stop(self) -> int:
        self.process.send_signal(15)
        code = self.process.wait(timeout=START_TIMEOUT_SECONDS)
        self._reader.join(timeout=10)
        self.process.stderr.close()
        return code

    def scrape(self) -> dict:
        # Every process serves the operators' loopback listener too, summing all processes.
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def counting_pids(self) -> set[int]:
        """Processes that have counted a request (each keeps its counts in its own file)."""
        return {int(p.stem.rpartition("_")[2]) for p in self.metrics_dir.glob("counter_*.db")}

    def access_lines(self, route: str) -> list[dict]:
        lines = [json.loads(line) for line in list(self.lines) if line.startswith("{")]
        return [line for line in lines if line.get("route") == route and "status" in line]


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'forum.db'}"


def test_two_processes_share_sessions_and_sum_their_metrics(db, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_99999999.db").write_bytes(b"stale")  # from an earlier run
    server = Processes(db, free_port(), 2, metrics_dir).start()
    try:
        assert not (metrics_dir / "counter_99999999.db").exists()  # emptied at start
        assert (
            server.call(
                "POST", "/api/v1/auth/register", {"username": "alice", "password": PASSWORD}
            )[0]
            == 201
        )
        status, login = server.call(
            "POST", "/api/v1/auth/login", {"username": "alice", "password": PASSWORD}
        )
        assert status == 200
        token = login["token"]

        # Many requests with that token, a connection each, several at once: the kernel hands
        # the connections to both processes, and each must know the session.
        def me(_: int) -> int:
            status, body = server.call("GET", "/api/v1/me", token=token)
            assert body["user"]["username"] == "alice"
            return status

        def served_by() -> set[int]:
            return {line["pid"] for line in server.access_lines("api.MeHandler")}

        def logged(count: int) -> None:  # the lines come through a pipe, a moment later
            deadline = time.monotonic() + 10
            while len(server.access_lines("api.MeHandler")) < count < 10_000:
                assert time.monotonic() < deadline, "request lines missing"
                time.sleep(0.05)

        sent = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            while sent == 0 or len(served_by()) < 2 and sent < 800:
                assert set(pool.map(me, range(40))) == {200}
                sent += 40
                logged(sent)
        assert len(served_by()) == 2, "every request went to one process"
        assert len(server.access_lines("api.MeHandler")) == sent

        found = server.scrape()
        assert (
            found[
                (
                    "forum_http_requests_total",
                    frozenset({"route": "api.MeHandler", "method": "GET", "status": "200"}.items()),
                )
            ]
            == sent
        )
        assert (
            found[
                (
                    "forum_http_request_duration_seconds_count",
                    frozenset({"route": "api.MeHandler", "method": "GET", "status": "200"}.items()),
                )
            ]
            == sent
        )
        assert (
            found[
                (
                    "forum_http_requests_total",
                    frozenset(
                        {"route": "api.LoginHandler", "method": "POST", "status": "200"}.items()
                    ),
                )
            ]
            == 1
        )

        # Store figures are counted once per scrape, not once per process.
        assert server.call("POST", "/api/v1/boards/mayor/posts", LETTER, token)[0] == 201
        for _ in range(4):
            found = server.scrape()
            assert (
                found[
                    (
                        "forum_cases_open",
                        frozenset({"board": "mayor", "status": "submitted"}.items()),
                    )
                ]
                == 1
            )
    finally:
        code = server.stop()
    children = server.counting_pids()
    assert code == 0
    log = "".join(server.lines)
    assert '"process 1 of 2' in log or "(process 1 of 2)" in log
    assert log.count("shutting down: no new connections") == 2
    assert log.count('"message": "stopped"') == 3  # both children, then the supervisor
    time.sleep(0.2)
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert metrics_dir.is_dir()  # an operator's folder is kept
