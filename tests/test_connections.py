"""Hostile and careless connections against a real server.py process: idle sockets and half
headers are closed after the header timeout while others are served, connections beyond the cap
get a 503, an oversized body is refused from its Content-Length without being read (the
process's memory says so), and JSON nested too deep is a 400."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_server import ROOT, START_TIMEOUT_SECONDS, Server, free_port

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc")


class Options(Server):
    """server.py with extra command-line options (and `limits`, resource limits to set in the
    process); its log goes to a file, read by `log()`."""

    def __init__(
        self,
        db: str,
        port: int,
        log_path: Path,
        *options: str,
        limits: dict[int, tuple[int, int]] | None = None,
    ):
        super().__init__(db, port)
        self.options, self.log_path, self.limits = options, log_path, limits or {}

    def start(self) -> "Options":
        env = {**os.environ, "FORUM_SECRET": "server-test-secret-" + "y" * 32}
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "server.py",
                    "--port",
                    str(self.port),
                    "--db",
                    self.db,
                    *self.options,
                ],
                cwd=ROOT,
                env=env,
                stderr=log,
                stdout=subprocess.DEVNULL,
                preexec_fn=self._set_limits,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while "serving on" not in self.log():
            assert self.process.poll() is None, f"server did not start: {self.log()}"
            assert time.monotonic() < deadline, "server did not start in time"
            time.sleep(0.05)
        return self

    def _set_limits(self) -> None:
        for which, (soft, hard) in self.limits.items():
            resource.setrlimit(which, (soft, hard))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=START_TIMEOUT_SECONDS)

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return sock

    def rss_kib(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")


def answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response read from `sock` (status, headers, body by Content-Length)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before an answer: {raw!r}")
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body[:length]


def get(server: Options, path: str = "/healthz") -> int:
    with server.connect() as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return answer(sock)[0]


def rest(sock: socket.socket) -> bytes:
    """What is left to read on `sock` until the server closes it (10 s at most)."""
    sock.settimeout(10)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def closed_by_peer(sock: socket.socket, deadline: float) -> bool:
    sock.settimeout(max(deadline - time.monotonic(), 0.01))
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'forum.db'}"


def test_idle_sockets_are_closed_and_the_cap_refuses_cleanly(db, tmp_path):
    timeout, cap = 1.5, 55
    server = Options(
        db,
        free_port(),
        tmp_path / "log",
        "--header-timeout",
        str(timeout),
        "--max-connections",
        str(cap),
    ).start()
    idle: list[socket.socket] = []
    try:
        opened = time.monotonic()
        for number in range(50):
            sock = server.connect()
            if number % 2:  # half a request head, never finished
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            idle.append(sock)
        # Others are served meanwhile.
        assert get(server) == 200
        # Beyond the cap: a short 503, and the connection is closed.
        refused = 0
        extra = [server.connect() for _ in range(10)]  # kept open: 60 in all
        idle += extra
        for sock in extra:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, body = answer(sock)
            assert status in (200, 503)
            if status == 503:
                refused += 1
                assert headers["connection"] == "close" and body == b"too many connections"
                assert closed_by_peer(sock, time.monotonic() + 5)
        assert refused >= 4  # 60 against a cap of 55 (the one above may not be gone yet)
        # Every idle socket is closed by the server, soon after the header timeout.
        deadline = opened + timeout + 5
        assert all(closed_by_peer(sock, deadline) for sock in idle)
        assert time.monotonic() - opened >= timeout
        assert get(server) == 200
        assert server.process.poll() is None
    finally:
        for sock in idle:
            sock.close()
        assert server.stop() == 0


def test_an_oversized_body_is_refused_unread_and_deep_json_is_malformed(db, tmp_path):
    server = Options(db, free_port(), tmp_path / "log").start()
    try:
        status, _, body = post_json(
            server, b'{"title": "x", "body": ' + b"[" * 1000 + b"]" * 1000 + b"}"
        )
        assert status == 400 and json.loads(body)["error"]["code"] == "malformed"

        before = server.rss_kib()
        declared = 60 << 20
        for _ in range(3):
            with server.connect() as sock:
                sock.sendall(
                    b"POST /api/v1/boards/forum/posts HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\n"
                    + f"Content-Length: {declared}\r\n\r\n".encode()
                )
                # The answer comes from the headers alone, before a byte of the body.
                status, headers, body = answer(sock)
                assert status == 413
                assert json.loads(body)["error"]["code"] == "too_large"
                # And the body is not wanted: the connection is closed.
                sent = send_until_refused(sock, declared)
                assert sent < declared
        grown = server.rss_kib() - before
        assert grown < 8 * 1024, f"the server grew by {grown} KiB"

        # An upload route has a larger limit, and a page answers with its error page.
        for path, shape in (
            ("/api/v1/posts/0123456789abcdef01234567/attachments", "json"),
            ("/boards/forum/new", "html"),
        ):
            with server.connect() as sock:
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/"
                    f"form-data; boundary=b\r\nContent-Length: {100 << 20}\r\n\r\n".encode()
                )
                status, headers, body = answer(sock)
                assert status == 413 and shape in headers["content-type"]
                assert send_until_refused(sock, 100 << 20) < 100 << 20

        # A chunked body is counted as it comes: past the limit nothing is kept, and past
        # twice the limit the route's 413 answers at once and the connection ends.
        with server.connect() as sock:
            sock.sendall(
                b"POST /api/v1/boards/forum/posts HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"x" * (256 << 10)
            sent = send_until_refused(
                sock, 16 << 20, f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            )
            assert sent < 16 << 20
            left = rest(sock)  # the route's 413, unless a reset came first
            assert left == b"" or left.startswith(b"HTTP/1.1 413 ")
        assert get(server) == 200
    finally:
        assert server.stop() == 0


def post_json(server: Options, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with server.connect() as sock:
        sock.sendall(
            b"POST /api/v1/boards/forum/posts HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(raw)}\r\n\r\n".encode()
            + raw
        )
        return answer(sock)


def send_until_refused(sock: socket.socket, total: int, piece: bytes = b"x" * (1 << 20)) -> int:
    """Send up to `total` bytes of `piece`s; how many went before the server closed."""
    sock.settimeout(5)
    sent = 0
    try:
        while sent < total:
            sock.sendall(piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
    return sent


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_file_descriptors_the_server_pauses_quietly_and_recovers(db, tmp_path):
    """Past the open-files limit accept() fails with EMFILE on every try: the server stops
    accepting for a moment, says so once, and serves again when descriptors are free."""
    limit = 96
    server = Options(
        db,
        free_port(),
        tmp_path / "log",
        "--header-timeout",
        "2",
        limits={resource.RLIMIT_NOFILE: (limit, limit)},
    ).start()
    idle: list[socket.socket] = []
    try:
        for _ in range(limit + 40):  # the rest wait in the listen backlog
            idle.append(server.connect())
        time.sleep(0.3)
        busy_from = cpu_seconds(server.process.pid)
        time.sleep(1.0)
        assert cpu_seconds(server.process.pid) - busy_from < 0.3  # not spinning
        assert server.log().count("cannot accept connections (EMFILE)") == 1
        assert "Traceback" not in server.log()
        for sock in idle:
            sock.close()
        idle.clear()
        deadline = time.monotonic() + 10
        while True:
            try:
                assert get(server) == 200
                break
            except (AssertionError, OSError):
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert server.process.poll() is None
    finally:
        for sock in idle:
            sock.close()
        assert server.stop() == 0


async def writer_and_letter(db: str) -> tuple[str, str]:
    """A citizen's bearer token and a mayor letter of theirs, made through the services."""
    from forum.config import PasswordCost
    from forum.security import Passwords
    from forum.services import accounts, posting
    from forum.services.setup import prepare_store
    from forum.store import open_store

    store = open_store(db)
    await prepare_store(store)
    cheap = Passwords(PasswordCost(memory_kib=64, time_cost=1))
    try:
        user = await accounts.create_user(
            store, cheap, username="uploader", password="a long enough password 1"
        )
        token = (await accounts.open_session(store, user, "bearer")).token
        view = await posting.create_post(
            store,
            user,
            "mayor",
            {
                "title": "附件很大",
                "body": "材料在附件里",
                "letter_type": "complaint",
                "area": "city",
                "contact": "13812345678",
                "public": False,
            },
        )
    finally:
        await store.close()
    return token, view.post.id


def test_a_file_over_its_limit_is_refused_as_it_streams_and_memory_stays_flat(db, tmp_path):
    token, post_id = asyncio.run(writer_and_letter(db))
    server = Options(db, free_port(), tmp_path / "log").start()
    try:
        before = server.rss_kib()
        with server.connect() as sock:
            # No Content-Length: the body is chunked, so only counting it as it comes can
            # refuse it; the file would be 80 MiB, eight times what a file may be.
            sock.sendall(
                f"POST /api/v1/posts/{post_id}/attachments HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n\r\n".encode()
            )
            head = (
                b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
                b"Content-Type: image/png\r\n\r\n"
            )
            sock.sendall(f"{len(head):x}\r\n".encode() + head + b"\r\n")
            chunk = b"\x89PNG" * (64 << 10)
            sent = send_until_refused(
                sock, 80 << 20, f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            )
            assert sent < 80 << 20
            left = rest(sock)
            assert left == b"" or left.startswith(b"HTTP/1.1 413 ")
            if left:
                assert b'"files"' in left and b"too_large" in left
        grown = server.rss_kib() - before
        assert grown < 8 * 1024, f"the server grew by {grown} KiB"
        assert get(server) == 200
    finally:
        assert server.stop() == 0
