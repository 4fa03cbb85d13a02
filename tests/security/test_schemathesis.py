"""Schema-driven fuzzing: schemathesis generates requests for every operation of our own OpenAPI
document (/api/openapi.json) and sends them to a real server on a loopback port.

Each response must not be a 5xx, must use a status the document lists for the operation, and
must match the documented schema and content type. Requests carry an admin's bearer token, so
the operations behind a login are reached too (an admin may call every one of them).

Bounded for CI: a few examples per operation, no shrinking, and a deadline per example. The
server runs in a thread of its own, because schemathesis sends requests synchronously.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import pytest
import requests
import schemathesis
import tornado.httpserver
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks as st_checks

from forum import search
from forum.model import Role
from forum.services import accounts
from forum.web import openapi
from tests.support import stores
from tests.support.apps import TEST_PASSWORDS, build_app, seeded
from tests.support.people import person
from tests.support.web import PASSWORD

EXAMPLES_PER_OPERATION = 8
DEADLINE_MS = 5000  # per example; CI's two cores are shared with the rest of the suite
ADMIN = "fuzz_admin_7q"  # unlikely for generated path parameters to name this account


class LiveServer:
    """The application on 127.0.0.1 over a fresh SQLite store, served from its own thread."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0
        self.token = ""
        self.error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start())
        except BaseException as error:  # reported to the test thread, which fails on it
            self.error = error
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._stop())
        self.loop.close()

    async def _start(self) -> None:
        await asyncio.to_thread(search.warm_up)  # jieba's dictionary, once, not in an example
        self.store = stores.make("sqlite", self.folder)
        await self.store.open()
        await seeded(self.store)
        await person(self.store, ADMIN, Role.ADMIN, Role.MODERATOR)
        self.token = await self.new_token()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self.server = tornado.httpserver.HTTPServer(build_app(self.store))
        self.server.add_sockets([sock])

    async def new_token(self) -> str:
        login = await accounts.login(
            self.store,
            TEST_PASSWORDS,
            username=ADMIN,
            password=PASSWORD,
            kind="bearer",
            address="fuzz",
        )
        return login.token

    def fresh_token(self) -> str:
        return asyncio.run_coroutine_threadsafe(self.new_token(), self.loop).result(10)

    async def _stop(self) -> None:
        self.server.stop()
        await self.server.close_all_connections()
        await self.store.close()

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        self.ready.wait(30)
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("fuzz")) as server:
        yield server


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


schema = schemathesis.openapi.from_dict(openapi.document())
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=DEADLINE_MS,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, live, http):
    token = live.token
    if case.operation.path == "/api/v1/auth/logout":
        token = live.fresh_token()  # logging out must not end the token the others use
    response = case.call(
        base_url=live.url, session=http, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    case.validate_response(response, checks=CHECKS)
