"""Account and transport protections: password changes, common passwords, cookies over HTTPS,
HSTS, redirects."""
from __future__ import annotations

import dataclasses

import pytest

from tests.support.apps import TEST_CONFIG, build_app
from tests.support.web import PASSWORD, Api, Browser

NEW_PASSWORD = "another-horse-42"


@pytest.mark.gen_test
async def test_changing_the_password_ends_every_other_session(api, http_client, base_url):
    await api.register("alice")
    phone = await api.login("alice")
    laptop = await api.login("alice")
    changed = await laptop.post("/auth/password", {"current_password": PASSWORD,
                                                   "new_password": NEW_PASSWORD})
    assert changed.status == 200
    assert (await phone.get("/me")).status == 401 and (await laptop.get("/me")).status == 401
    fresh = api.as_user(changed.json()["token"])
    assert (await fresh.get("/me")).status == 200
    assert (await api.post("/auth/login", {"username": "alice", "password": PASSWORD})).status == 401
    assert (await api.login("alice", NEW_PASSWORD)) is not None


@pytest.mark.gen_test
@pytest.mark.parametrize("body, field", [
    ({"current_password": "wrong-password", "new_password": NEW_PASSWORD}, "current_password"),
    ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
    ({"current_password": PASSWORD, "new_password": "password123"}, "new_password"),
    ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
    ({"current_password": PASSWORD}, "new_password"),
    ({"new_password": NEW_PASSWORD}, "current_password"),
    ({"current_password": PASSWORD, "new_password": {"$ne": None}}, "new_password"),
])
async def test_bad_password_changes(api, body, field):
    await api.register("alice")
    alice = await api.login("alice")
    response = await alice.post("/auth/password", body)
    assert response.status == 422 and field in response.error["fields"]
    assert (await alice.get("/me")).status == 200


@pytest.mark.gen_test
@pytest.mark.parametrize("common", ["password123", "12345678", "WOAINI1314", "qwertyuiop",
                                    "trustno1", "Jordan23", "steelers", "marlboro"])
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
    wrong = await browser.submit("/password", {"current_password": "nope-nope",
                                               "new_password": NEW_PASSWORD})
    assert wrong.status == 422
    done = await browser.submit("/password", {"current_password": PASSWORD,
                                              "new_password": NEW_PASSWORD})
    assert done.status == 200 and browser.cookies["session"] != old_cookie
    assert (await browser.get("/me")).status == 200


@pytest.mark.gen_test
@pytest.mark.parametrize("target", ["/%0d%0aSet-Cookie:x=1", "/\r\nLocation: //evil", "/\x00",
                                    "//evil.example", "https://evil.example", "javascript:alert(1)"])
async def test_login_next_refuses_tricks(api, browser, target):
    await api.register("alice")
    response = await browser.submit("/login", {"username": "alice", "password": PASSWORD,
                                               "next": target})
    assert response.headers["Location"] in ("/", "/%0d%0aSet-Cookie:x=1")
    assert "\n" not in response.headers["Location"] and "Set-Cookie:x" not in str(
        response.headers.get_list("Set-Cookie"))


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
        cookie = next(c for c in login.headers.get_list("Set-Cookie")
                      if c.startswith("__Host-session="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie
