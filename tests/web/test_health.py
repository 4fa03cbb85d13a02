"""/healthz as operators and load balancers use it."""

from __future__ import annotations

import json

import pytest

from forum.errors import StoreUnavailable
from tests.support.apps import build_app


class DownStore:
    """A store whose server has gone away: every call fails as the adapters report it."""

    kind = "sqlite"

    def __getattr__(self, name):
        async def unavailable(*args, **kwargs):
            raise StoreUnavailable()

        return unavailable


@pytest.fixture
def app():
    return build_app(DownStore())


@pytest.mark.gen_test
async def test_healthz_is_503_when_the_store_is_down(http_client, base_url):
    response = await http_client.fetch(base_url + "/healthz", raise_error=False)
    assert response.code == 503
    assert json.loads(response.body) == {"status": "unavailable", "store": "sqlite"}


@pytest.mark.gen_test
async def test_api_says_503_not_500_when_the_store_is_down(http_client, base_url):
    response = await http_client.fetch(base_url + "/api/v1/boards", raise_error=False)
    assert response.code == 503
    assert json.loads(response.body)["error"]["code"] == "store_unavailable"
