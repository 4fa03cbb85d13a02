"""Shared fixtures: stores of both kinds, configured apps, users of each role."""

from __future__ import annotations

import os

import pytest

from forum.clock import ManualClock, using
from tests.support import stores

MONGO_URI = os.environ.get("FORUM_TEST_MONGODB_URI")


def pytest_report_header(config):
    if MONGO_URI:
        return f"MongoDB adapter: contract suite runs against a real server ({stores.redact(MONGO_URI)})"
    return (
        "MongoDB adapter: contract suite runs against the in-process stand-in "
        "(mongomock via pymongo-async-mock); set FORUM_TEST_MONGODB_URI for a real server. "
        "The stand-in has no transactions: the unit-of-work rollback and fault tests ran on "
        "SQLite only"
    )


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(pytest_report_header(None))


@pytest.fixture(params=["sqlite", "mongodb"])
def seeded_store(request, io_loop, tmp_path):
    """An opened store of each kind, seeded as a server's first start seeds it (boards and
    departments); closed after the test. Modules whose services or app run over both stores
    take it as their `store`."""
    from tests.support.apps import seeded

    store = stores.make(request.param, tmp_path)
    io_loop.run_sync(lambda: seeded(store))
    yield store
    io_loop.run_sync(lambda: stores.dispose(store))


@pytest.fixture(params=["sqlite", "mongodb"])
def any_store(request, io_loop, tmp_path):
    """An opened, empty store of each kind; closed after the test."""
    store = stores.make(request.param, tmp_path)
    io_loop.run_sync(store.open)
    yield store
    io_loop.run_sync(lambda: stores.dispose(store))


@pytest.fixture
def store(io_loop, tmp_path):
    """An opened, seeded SQLite store (the default) for service and handler tests."""
    from tests.support.apps import seeded

    store = stores.make("sqlite", tmp_path)
    io_loop.run_sync(lambda: seeded(store))
    yield store
    io_loop.run_sync(lambda: stores.dispose(store))


@pytest.fixture
def bare_sqlite(io_loop, tmp_path):
    """An opened SQLite store with nothing in it, at tmp_path/data/forum.db: for the tests of
    what the adapter itself does (its files, its transactions)."""
    from forum.store.sqlite import SqliteStore

    store = SqliteStore(str(tmp_path / "data" / "forum.db"))
    io_loop.run_sync(store.open)
    yield store
    io_loop.run_sync(store.close)


@pytest.fixture
def clock():
    """The time for this test: it stands still until the test moves it (`clock.advance(days=16)`),
    starting at the real time (MongoDB's TTL indexes expire against the real clock). The app
    reads it, and so do services the test calls itself, so no test depends on today's date."""
    manual = ManualClock()
    with using(manual):
        yield manual


@pytest.fixture
def app(store, clock):
    from tests.support.apps import build_app, config_with

    return build_app(store, config_with(clock=clock))


@pytest.fixture
def api(http_client, base_url):
    from tests.support.web import Api

    return Api(http_client, base_url)


@pytest.fixture
def browser(http_client, base_url):
    from tests.support.web import Browser

    return Browser(http_client, base_url)


@pytest.fixture(scope="session")
def segmenter():
    """forum.search with jieba's dictionary loaded: about a second, paid once per session (jieba
    keeps it for the life of the process)."""
    from forum import search

    search.warm_up()
    return search
