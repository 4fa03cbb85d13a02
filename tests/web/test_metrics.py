"""GET /metrics as Prometheus scrapes it: requests by route and status, latency histograms, store
figures taken at scrape time, store errors, and the operators' token."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from forum.app import make_metrics_app
from forum.clock import now
from forum.model import Notification, Role, Status, new_id

from tests.support.apps import TEST_CONFIG, build_app
from tests.support.people import person
from tests.web.test_api_cases import LETTER
from tests.web.test_health import DownStore

TOKEN = "metrics-token-" + "z" * 24


@pytest.fixture
def app(store, clock):
    """The operators' token set, as these tests scrape the public port with it."""
    return build_app(store, dataclasses.replace(TEST_CONFIG, clock=clock, metrics_token=TOKEN))


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """{(sample name, labels): value} of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found, name: str, **labels) -> float | None:
    return found.get((name, frozenset(labels.items())))


async def scrape(http_client, base_url, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http_client.fetch(base_url + "/metrics", headers=headers, raise_error=False)


@pytest.mark.gen_test
async def test_requests_are_counted_by_route_name_and_status_with_a_latency_histogram(
    http_client, base_url, api
):
    for _ in range(3):
        assert (await api.get("/boards")).status == 200
    missing = new_id()
    assert (await api.get(f"/posts/{missing}")).status == 404
    assert (
        await api.post("/auth/login", {"username": "nobody", "password": "x" * 9})
    ).status == 401

    response = await scrape(http_client, base_url)
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.body.decode()
    found = samples(text)
    ok = {"route": "api.BoardsHandler", "method": "GET", "status": "200"}
    assert value(found, "forum_http_requests_total", **ok) == 3
    assert (
        value(
            found, "forum_http_requests_total", route="api.PostHandler", method="GET", status="404"
        )
        == 1
    )
    assert (
        value(
            found,
            "forum_http_requests_total",
            route="api.LoginHandler",
            method="POST",
            status="401",
        )
        == 1
    )
    assert value(found, "forum_http_request_duration_seconds_count", **ok) == 3
    assert value(found, "forum_http_request_duration_seconds_bucket", le="+Inf", **ok) == 3
    assert value(found, "forum_http_request_duration_seconds_bucket", le="10.0", **ok) == 3
    assert value(found, "forum_http_request_duration_seconds_sum", **ok) > 0
    # Labels name routes, never paths: the id asked for is nowhere.
    assert missing not in text and "/api/v1" not in text


@pytest.mark.gen_test
async def test_open_and_overdue_cases_outbox_and_unread_notifications(
    http_client, base_url, api, store
):
    await person(store, "writer")
    await person(store, "mod", Role.MODERATOR)
    writer, mod = await api.login("writer"), await api.login("mod")
    ids = []
    for _ in range(3):
        created = await writer.post("/boards/mayor/posts", LETTER)
        assert created.status == 201
        ids.append(created.json()["post"]["id"])
    assert (
        await api.post("/boards/tax/posts", {"title": "虚开发票", "body": "某公司"})
    ).status == 201
    assert (await mod.post(f"/posts/{ids[0]}/moderate", {"action": "accept"})).status == 200
    for post_id in ids[1:]:
        assert (await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})).status == 200
        assert (
            await mod.post(f"/posts/{post_id}/route", {"department": "housing", "due_days": 5})
        ).status == 200
    # One routed case's due time has passed (without waiting for the housekeeping round).
    await store.update_post(ids[2], {"due_at": now() - dt.timedelta(hours=1)})
    # An address at registration puts a confirmation mail in the outbox.
    assert (await api.register("mailer", email="mailer@example.org")).status == 201
    reader = await store.get_user_by_name("writer")
    await store.add_notifications(
        [
            Notification(
                id=new_id(),
                user_id=reader.id,
                kind="answer",
                post_id=None,
                text="有答复",
                created_at=now(),
            )
            for _ in range(2)
        ]
    )
    unread_before = await store.count_all_unread()

    found = samples((await scrape(http_client, base_url)).body.decode())
    assert value(found, "forum_store_figures_up") == 1
    assert value(found, "forum_cases_open", board="mayor", status="accepted") == 1
    assert value(found, "forum_cases_open", board="mayor", status="routed") == 2
    assert value(found, "forum_cases_open", board="mayor", status="submitted") == 0
    assert value(found, "forum_cases_open", board="mayor", status="replied") == 0
    assert value(found, "forum_cases_open", board="tax", status="submitted") == 1
    assert value(found, "forum_cases_overdue", board="mayor") == 1
    assert value(found, "forum_cases_overdue", board="tax") == 0
    assert value(found, "forum_mail_outbox") == await store.count_mail_waiting() == 1
    assert value(found, "forum_notifications_unread") == unread_before >= 2

    # Closed and rejected cases are not open.
    await store.update_post(ids[0], {"status": Status.CLOSED})
    found = samples((await scrape(http_client, base_url)).body.decode())
    assert value(found, "forum_cases_open", board="mayor", status="accepted") == 0


class TestStoreDown:
    @pytest.fixture
    def app(self):
        return build_app(DownStore(), dataclasses.replace(TEST_CONFIG, metrics_token=TOKEN))

    @pytest.mark.gen_test
    async def test_store_errors_are_counted_by_route_and_metrics_still_answer(
        self, http_client, base_url
    ):
        for _ in range(2):
            response = await http_client.fetch(base_url + "/api/v1/boards", raise_error=False)
            assert response.code == 503
        response = await scrape(http_client, base_url)
        assert response.code == 200
        found = samples(response.body.decode())
        assert value(found, "forum_store_errors_total", operation="api.BoardsHandler") == 2
        # This scrape's own counts failed too: said, and counted.
        assert value(found, "forum_store_figures_up") == 0
        assert value(found, "forum_store_errors_total", operation="metrics.MetricsHandler") == 1
        assert value(found, "forum_cases_open", board="mayor", status="submitted") is None
        assert (
            value(
                found,
                "forum_http_requests_total",
                route="api.BoardsHandler",
                method="GET",
                status="503",
            )
            == 2
        )


class TestToken:
    @pytest.fixture
    def app(self, store):
        return build_app(store, dataclasses.replace(TEST_CONFIG, metrics_token=TOKEN))

    @pytest.mark.gen_test
    async def test_metrics_need_the_token_when_one_is_set(self, http_client, base_url, api):
        missing = await scrape(http_client, base_url, None)
        assert missing.code == 401
        assert missing.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"forum_http_requests_total" not in missing.body
        assert (await scrape(http_client, base_url, TOKEN + "x")).code == 401
        assert (await scrape(http_client, base_url, TOKEN[:-1])).code == 401
        # A login's bearer token is not the metrics token.
        session = await api.new_user("someone")
        assert (await scrape(http_client, base_url, session.token)).code == 401
        granted = await scrape(http_client, base_url, TOKEN)
        assert granted.code == 200 and b"forum_http_requests_total" in granted.body


@pytest.mark.gen_test
async def test_every_application_counts_its_own_requests(app, api, store):
    """Metrics belong to an application (no process-wide registry): a second app over the same
    store starts from nothing."""
    assert (await api.get("/boards")).status == 200
    other = build_app(store)
    assert other.settings["metrics"] is not app.settings["metrics"]
    assert "api.BoardsHandler" in app.settings["metrics"].exposition(None).decode()
    assert "api.BoardsHandler" not in other.settings["metrics"].exposition(None).decode()


class TestClosedByDefault:
    """No token configured: nothing on the public port, everything on the loopback listener."""

    @pytest.fixture
    def app(self, store):
        return build_app(store)

    @pytest.mark.gen_test
    async def test_the_public_port_answers_404_and_the_operators_listener_answers(
        self, app, http_client, base_url
    ):
        anonymous = await scrape(http_client, base_url, None)
        assert anonymous.code == 404 and b"forum_http_requests_total" not in anonymous.body
        assert (await scrape(http_client, base_url, TOKEN)).code == 404
        sock, port = bind_unused_port()
        operators = HTTPServer(make_metrics_app(app))
        operators.add_sockets([sock])
        try:
            listener = f"http://127.0.0.1:{port}"
            scraped = await scrape(http_client, listener, None)
            assert scraped.code == 200 and b"forum_http_requests_total" in scraped.body
            # The public port's requests are counted in what the listener shows.
            assert b'route="metrics.MetricsHandler"' in scraped.body
            other = await http_client.fetch(listener + "/api/v1/boards", raise_error=False)
            assert other.code == 404
        finally:
            operators.stop()


@pytest.mark.gen_test
async def test_the_server_header_names_no_version(http_client, base_url):
    for path in ("/", "/api/v1/boards", "/no-such-page", "/static/site.css", "/metrics"):
        response = await http_client.fetch(base_url + path, raise_error=False)
        assert response.headers["Server"] == "yuxi-forum", path
