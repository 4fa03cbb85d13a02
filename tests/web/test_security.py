"""Account and transport protections: password changes, common passwords, cookies over HTTPS,
HSTS, redirects."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.support.apps import TEST_CONFIG, build_app
from tests.support.web import PASSWORD, Api, Browser

NEW_PASSWORD = "another-horse-42"


@pytest.mark.gen_test
async def test_changing_the_password_ends_every_other_session(api, http_client, base_url):
    await api.register("alice")
    phone = await api.login("alice")
    laptop = await api.login("alice")
    changed = await laptop.post(
        "/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status == 200
    assert (await phone.get("/me")).status == 401 and (await laptop.get("/me")).status == 401
    fresh = api.as_user(changed.json()["token"])
    assert (await fresh.get("/me")).status == 200
    assert (
        await api.post("/auth/login", {"username": "alice", "password": PASSWORD})
    ).status == 401
    assert (await api.login("alice", NEW_PASSWORD)) is not None


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "body, field",
    [
        ({"current_password": "wrong-password", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "password123"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD}, "new_password"),
        ({"new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD, "new_password": {"$ne": None}}, "new_password"),
    ],
)
async def test_bad_password_changes(api, body, field):
    await api.register("alice")
    alice = await api.login("alice")
    response = await alice.post("/auth/password", body)
    assert response.status == 422 and field in response.error["fields"]
    assert (await alice.get("/me")).status == 200


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "common",
    [
        "password123",
        "12345678",
        "WOAINI1314",
        "qwertyuiop",
        "trustno1",
        "Jordan23",
        "steelers",
        "marlboro",
    ],
)
async def test_common_passwords_are_refused_at_registration(api, common):
    response = await api.register("alice", password=common)
    assert response.status == 422 and "password" in response.error["fields"]


def test_the_common_password_list_holds_thousands_of_passwords_that_fit_the_policy():
    from forum.security import COMMON_PASSWORDS_FILE, _common_passwords

    listed = _common_passwords()
    assert len(listed) >= 5000
    assert all(len(p) >= 8 for p in listed)  # shorter ones are refused by length already
    assert "zxcvbn" in COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").split("\n", 12)[8]


@pytest.mark.gen_test
async def test_password_page(api, browser):
    await api.register("alice")
    await browser.log_in("alice")
    old_cookie = browser.cookies["session"]
    assert (await browser.get("/password")).status == 200
    wrong = await browser.submit(
        "/password", {"current_password": "nope-nope", "new_password": NEW_PASSWORD}
    )
    assert wrong.status == 422
    answer = await browser.submit(
        "/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert answer.status == 303 and browser.cookies["session"] != old_cookie
    done = await browser.follow(answer)
    assert done.status == 200 and "密码已修改" in done.text
    assert "密码已修改" not in (await browser.get("/password")).text
    assert (await browser.get("/me")).status == 200


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "target",
    [
        "/%0d%0aSet-Cookie:x=1",
        "/\r\nLocation: //evil",
        "/\x00",
        "//evil.example",
        "https://evil.example",
        "javascript:alert(1)",
    ],
)
async def test_login_next_refuses_tricks(api, browser, target):
    await api.register("alice")
    response = await browser.submit(
        "/login", {"username": "alice", "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"] in ("/", "/%0d%0aSet-Cookie:x=1")
    assert "\n" not in response.headers["Location"] and "Set-Cookie:x" not in str(
        response.headers.get_list("Set-Cookie")
    )


class TestOverHttps:
    @pytest.fixture
    def app(self, store):
        return build_app(store, dataclasses.replace(TEST_CONFIG, behind_https=True))

    @pytest.mark.gen_test
    async def test_hsts_and_host_prefixed_secure_cookie(self, http_client, base_url):
        api, browser = Api(http_client, base_url), Browser(http_client, base_url)
        await api.register("alice")
        home = await browser.get("/")
        assert "max-age=" in home.headers["Strict-Transport-Security"]
        login = await browser.submit("/login", {"username": "alice", "password": PASSWORD})
        cookie = next(
            c for c in login.headers.get_list("Set-Cookie") if c.startswith("__Host-session=")
        )
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie


# the password-change API and the session cookie (ASVS V3.3.4) --------------------------------
@pytest.mark.gen_test
async def test_password_change_with_the_cookie_puts_no_token_in_the_body(api, browser):
    await api.register("alice")
    await browser.log_in("alice")
    old_cookie = browser.cookies["session"]
    response = await browser.request(
        "POST",
        "/api/v1/auth/password",
        json.dumps({"current_password": PASSWORD, "new_password": NEW_PASSWORD}).encode(),
        {"Content-Type": "application/json", "X-XSRFToken": await browser.xsrf()},
    )
    assert response.status == 200
    body = response.json()
    assert "token" not in body and body["user"]["username"] == "alice"
    new_cookie = browser.cookies["session"]
    assert new_cookie != old_cookie and new_cookie not in response.text
    assert (await browser.get("/me")).status == 200
    bearer = await api.login("alice", NEW_PASSWORD)
    again = await bearer.post(
        "/auth/password", {"current_password": NEW_PASSWORD, "new_password": "third-horse-77"}
    )
    assert again.status == 200 and again.json()["token"]  # a bearer caller needs it


# Cache-Control on personal answers (ASVS V14.3.2) ---------------------------------------------
def no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


@pytest.mark.gen_test
async def test_answers_to_logged_in_callers_are_never_stored(api, browser, store):
    from tests.web.test_api_cases import LETTER

    for path in ("/", "/boards/forum", "/api/v1/boards", "/login"):
        anonymous = await browser.get(path)
        assert anonymous.status == 200 and not no_store(anonymous), path
    alice = await api.new_user("alice")
    assert no_store(await api.post("/auth/login", {"username": "alice", "password": PASSWORD}))
    registered = await api.register("bob", email="bob@example.org")
    assert registered.status == 201 and no_store(registered)
    letter = await alice.post("/boards/mayor/posts", LETTER)
    post_id, code = letter.json()["post"]["id"], letter.json()["tracking_code"]
    for path in ("/me", "/boards", f"/posts/{post_id}", "/notifications"):
        response = await alice.get(path)
        assert response.status == 200 and no_store(response), path
    assert no_store(await alice.get("/posts/0123456789abcdef01234567"))  # an error, too
    await browser.log_in("alice")
    for path in ("/", "/me", f"/posts/{post_id}", "/boards/forum", "/nowhere"):
        assert no_store(await browser.get(path)), path
    # A tracking code shows a case as its writer sees it, to whoever holds the code.
    tracked = await api.get(f"/track/{code}")
    assert tracked.status == 200 and no_store(tracked)
    page = await Browser(api.http, api.base).get(f"/track/{code}")
    assert page.status == 200 and no_store(page)


# static files (ASVS V3.4.4, V4.1.1) ---------------------------------------------------------
@pytest.mark.gen_test
@pytest.mark.parametrize(
    "path, kind",
    [("/static/site.css", "text/css; charset=UTF-8"), ("/static/site.js", "; charset=UTF-8")],
)
async def test_static_files_are_nosniff_with_a_charset(browser, path, kind):
    response = await browser.get(path)
    assert response.status == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert kind in response.headers["Content-Type"]


@pytest.mark.gen_test
async def test_the_xsrf_cookie_over_plain_http_keeps_its_plain_name(browser):
    await browser.get("/login")
    assert "_xsrf" in browser.cookies and "__Host-_xsrf" not in browser.cookies


class TestXsrfCookieOverHttps:
    @pytest.fixture
    def app(self, store):
        return build_app(store, dataclasses.replace(TEST_CONFIG, behind_https=True))

    @pytest.mark.gen_test
    async def test_the_xsrf_cookie_is_host_prefixed_and_still_checked(self, http_client, base_url):
        api, browser = Api(http_client, base_url), Browser(http_client, base_url)
        await api.register("alice")
        page = await browser.get("/login")
        cookie = next(
            c for c in page.headers.get_list("Set-Cookie") if c.startswith("__Host-_xsrf=")
        )
        for attribute in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax"):
            assert attribute in cookie
        assert "Domain" not in cookie and "_xsrf" not in [
            c.split("=")[0] for c in page.headers.get_list("Set-Cookie")
        ]
        refused = await browser.submit(
            "/login", {"username": "alice", "password": PASSWORD}, xsrf=False
        )
        assert refused.status == 403
        assert (await browser.log_in("alice")).status == 303


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "path, kind",
    [
        ("/", "text/html; charset=UTF-8"),
        ("/api/v1/boards", "application/json; charset=UTF-8"),
        ("/api/v1/nowhere", "application/json; charset=UTF-8"),
        ("/nowhere", "text/html; charset=UTF-8"),
        ("/boards/forum/feed.atom", "charset=UTF-8"),
        ("/static/site.css", "text/css; charset=UTF-8"),
    ],
)
async def test_every_text_answer_names_its_charset(browser, path, kind):
    response = await browser.get(path)
    assert kind in response.headers["Content-Type"], (path, response.headers["Content-Type"])
