"""/healthz over an SQLite file that has lost a core table's pages: 503, as the routes say."""

from __future__ import annotations

import json

import pytest

from forum.store import open_store
from tests.support.apps import build_app, seeded
from tests.support.stores import damage_table


@pytest.fixture
def app(io_loop, tmp_path):
    path = tmp_path / "forum.db"
    store = open_store(f"sqlite:///{path}")
    io_loop.run_sync(lambda: seeded(store))
    io_loop.run_sync(store.close)
    damage_table(path, "posts")
    damaged = open_store(f"sqlite:///{path}")
    yield build_app(damaged)
    io_loop.run_sync(damaged.close)


@pytest.mark.gen_test
async def test_healthz_is_503_when_a_core_table_cannot_be_read(http_client, base_url):
    response = await http_client.fetch(base_url + "/healthz", raise_error=False)
    assert response.code == 503
    assert json.loads(response.body) == {"status": "unavailable", "store": "sqlite"}
