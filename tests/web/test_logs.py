"""The log lines: one per request, auth events, refusals and staff actions. Each parses as JSON,
holds ids rather than secrets or personal data, and cannot be split or recoloured by what a
client sends."""

from __future__ import annotations

import json
import logging
import re
from unittest import mock

import pytest
import tornado.httputil

from forum.logs import JsonFormatter, TextFormatter, neutral
from forum.model import Role
from forum.web import pages
from tests.support.people import person
from tests.support.web import PASSWORD
from tests.web.test_api_cases import LETTER

SECRET_QUERY = "q-value-never-logged"
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@pytest.fixture
def logged(caplog):
    # Named loggers too: a command run in-process earlier (the demo) may have quietened "forum".
    for name in (None, "forum", "tornado.access"):
        caplog.set_level(logging.INFO, logger=name)
    return caplog


def json_lines(caplog, logger: str | None = None) -> list[dict]:
    """Every captured record as the JSON format writes it, checked to be one clean line."""
    lines = []
    for record in caplog.records:
        if logger and record.name != logger:
            continue
        line = JsonFormatter().format(record)
        assert "\n" not in line and not CONTROL.search(line)
        lines.append(json.loads(line))
    return lines


def requests(caplog) -> list[dict]:
    return json_lines(caplog, "tornado.access")


def events(caplog, name: str) -> list[dict]:
    return [line for line in json_lines(caplog) if line.get("event") == name]


@pytest.mark.gen_test
async def test_one_json_line_per_request_without_secrets(api, store, logged, http_client, base_url):
    assert (await api.register("alice", email="alice@example.org")).status == 201
    response = await api.post("/auth/login", {"username": "alice", "password": PASSWORD})
    token = response.json()["token"]
    alice = api.as_user(token)
    me = await alice.get(f"/me?email={SECRET_QUERY}&token={SECRET_QUERY}")
    assert me.status == 200
    user_id = me.json()["user"]["id"]

    lines = requests(logged)
    assert [(line["route"], line["method"], line["status"]) for line in lines] == [
        ("api.RegisterHandler", "POST", 201),
        ("api.LoginHandler", "POST", 200),
        ("api.MeHandler", "GET", 200),
    ]
    for line in lines:
        assert set(line) >= {
            "time",
            "level",
            "logger",
            "message",
            "route",
            "method",
            "path",
            "status",
            "duration_ms",
            "user_id",
            "request_id",
        }
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert "?" not in line["path"] and "?" not in line["message"]
    assert [line["user_id"] for line in lines] == [None, None, user_id]
    assert lines[2]["path"] == "/api/v1/me"
    assert lines[2]["request_id"] == me.headers["X-Request-ID"]
    assert len({line["request_id"] for line in lines}) == 3

    everything = "\n".join(
        JsonFormatter().format(r) + TextFormatter().format(r) for r in logged.records
    )
    for secret in (PASSWORD, token, SECRET_QUERY, "alice@example.org", "alice"):
        assert secret not in everything


@pytest.mark.gen_test
async def test_secrets_in_paths_are_masked_and_ids_and_boards_kept(api, store, logged):
    created = await api.post("/boards/tax/posts", {"title": "虚开发票", "body": "某公司"})
    code, post_id = created.json()["tracking_code"], created.json()["post"]["id"]
    assert (await api.get(f"/track/{code}")).status == 200
    assert (await api.get(f"/posts/{post_id}/replies")).status in (200, 404)
    assert (await api.get("/users/someone_named")).status == 404
    paths = [line["path"] for line in requests(logged)]
    assert paths == [
        "/api/v1/boards/tax/posts",
        "/api/v1/track/*",
        f"/api/v1/posts/{post_id}/replies",
        "/api/v1/users/*",
    ]
    assert all(code not in JsonFormatter().format(r) for r in logged.records)


def test_a_path_with_a_newline_and_an_ansi_escape_stays_one_line(app, logged):
    """No client can put raw control characters into a request line Tornado accepts, but the log
    does not rely on that: whatever the path holds is escaped."""
    hostile = "/nowhere\n2026-01-01 INFO forged line\x1b[31mred\x1b[0m\u2028"
    request = tornado.httputil.HTTPServerRequest(
        start_line=tornado.httputil.RequestStartLine(
            "GET", hostile + f"?password={SECRET_QUERY}", "HTTP/1.1"
        ),
        headers=tornado.httputil.HTTPHeaders({"Host": "localhost"}),
        connection=mock.Mock(),
    )
    handler = pages.NotFoundPage(app, request)
    handler.set_status(404)
    app.settings["log_function"](handler)
    [record] = [r for r in logged.records if r.name == "tornado.access"]

    line = JsonFormatter().format(record)
    assert "\n" not in line and "\x1b" not in line and "\u2028" not in line
    parsed = json.loads(line)
    assert parsed["path"] == hostile and parsed["status"] == 404
    assert parsed["route"] == "pages.NotFoundPage" and SECRET_QUERY not in line

    text = TextFormatter().format(record)
    assert not CONTROL.search(text) and "\u2028" not in text
    assert "\\u000a2026-01-01 INFO forged line\\u001b[31mred" in text
    assert SECRET_QUERY not in text


def test_neutral_escapes_control_characters_only():
    assert neutral("玉溪 a/b\tc\r\n\x1b[0m\x7f\x85") == (
        "玉溪 a/b\\u0009c\\u000d\\u000a\\u001b[0m\\u007f\\u0085"
    )


@pytest.mark.gen_test
async def test_auth_events(api, store, logged, browser):
    assert (await api.register("bob")).status == 201
    assert (
        await api.post("/auth/login", {"username": "bob", "password": "wrong-" + PASSWORD})
    ).status == 401
    typed = "hunter2-typed-as-a-name"
    assert (await api.post("/auth/login", {"username": typed, "password": PASSWORD})).status == 401
    bob = await api.login("bob")
    assert (await bob.post("/auth/logout")).status == 204
    await browser.log_in("bob")  # the page login: the same event

    bob_id = (await store.get_user_by_name("bob")).id
    [registered] = events(logged, "register")
    assert registered["user_id"] == bob_id and registered["route"] == "api.RegisterHandler"
    failed = events(logged, "login_failed")
    assert [(e["reason"], e["user_id"]) for e in failed] == [
        ("bad_password", bob_id),
        ("unknown_user", None),
    ]
    ok = events(logged, "login_ok")
    assert [(e["user_id"], e["kind"], e["route"]) for e in ok] == [
        (bob_id, "bearer", "api.LoginHandler"),
        (bob_id, "cookie", "account_pages.LoginPage"),
    ]
    [logout] = events(logged, "logout")
    assert logout["user_id"] == bob_id
    # An event and its request's line share the request id.
    line = next(r for r in requests(logged) if r["route"] == "api.LogoutHandler")
    assert logout["request_id"] == line["request_id"]
    assert all(e["level"] == "INFO" for e in [registered, *failed, *ok, logout])
    everything = "\n".join(JsonFormatter().format(r) for r in logged.records)
    assert typed not in everything and PASSWORD not in everything


@pytest.mark.gen_test
async def test_refusals_and_staff_actions_are_logged(api, store, logged, browser):
    citizen = await api.new_user("carol")
    assert (await citizen.get("/admin/users")).status == 403
    await browser.log_in("carol")
    assert (
        await browser.submit("/boards/forum/new", {"title": "t", "body": "b"}, xsrf=False)
    ).status == 403
    await person(store, "mod", Role.MODERATOR)
    mod = await api.login("mod")
    letter = await citizen.post("/boards/mayor/posts", LETTER)
    post_id = letter.json()["post"]["id"]
    assert (
        await mod.post(
            f"/posts/{post_id}/moderate", {"action": "reject", "reason": "联系电话13812345678不对"}
        )
    ).status == 200

    carol_id = (await store.get_user_by_name("carol")).id
    refused = events(logged, "forbidden")
    assert [(e["route"], e["reason"], e["user_id"], e["level"]) for e in refused] == [
        ("admin_api.AdminUsersHandler", "forbidden", carol_id, "INFO"),
        # An upload route reads its form's token after the session (forum/web/uploads.py).
        ("post_pages.NewPostPage", "xsrf", carol_id, "INFO"),
    ]
    [action] = events(logged, "audit")
    mod_id = (await store.get_user_by_name("mod")).id
    assert action["action"] == "reject" and action["target"] == f"post:{post_id}"
    assert action["actor_id"] == mod_id and action["route"] == "api.ModerateHandler"
    everything = "\n".join(JsonFormatter().format(r) for r in logged.records)
    assert "13812345678" not in everything  # neither the reason nor the letter's contact


@pytest.mark.gen_test
async def test_account_changes_and_refusals_answered_as_404_are_logged(api, store, logged):
    bob = await api.new_user("bob")
    assert (
        await bob.post(
            "/auth/password",
            {"current_password": "not-" + PASSWORD, "new_password": "fresh-horse-77"},
        )
    ).status == 422
    changed = await bob.post(
        "/auth/password", {"current_password": PASSWORD, "new_password": "fresh-horse-77"}
    )
    assert changed.status == 200
    bob = api.as_user(changed.json()["token"])
    assert (
        await bob.patch(
            "/me", {"email": "bob.secret@example.org", "current_password": "fresh-horse-77"}
        )
    ).status == 200
    carol = await api.new_user("carol")
    letter = await carol.post("/boards/mayor/posts", LETTER)
    post_id = letter.json()["post"]["id"]
    assert (await bob.get(f"/posts/{post_id}")).status == 404  # exists, not for bob
    assert (await bob.get("/posts/0123456789abcdef01234567")).status == 404  # absent

    bob_id = (await store.get_user_by_name("bob")).id
    [failed] = events(logged, "password_change_failed")
    assert failed["user_id"] == bob_id and failed["reason"] == "bad_password"
    [done] = events(logged, "password_changed")
    assert done["user_id"] == bob_id and done["sessions_ended"] == 1
    [mail] = events(logged, "email_changed")
    assert mail["user_id"] == bob_id and mail["removed"] is False
    [denied] = events(logged, "denied")  # only the one that exists
    assert (denied["route"], denied["user_id"], denied["level"]) == (
        "api.PostHandler",
        bob_id,
        "INFO",
    )
    everything = "\n".join(JsonFormatter().format(r) for r in logged.records)
    for secret in (PASSWORD, "fresh-horse-77", "bob.secret@example.org", LETTER["title"]):
        assert secret not in everything
