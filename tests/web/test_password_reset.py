"""Password reset through HTTP: the JSON API, the pages, and their answers to bad input."""

from __future__ import annotations

import re

import pytest

from forum.services import accounts
from tests.support.apps import TEST_PASSWORDS
from tests.support.outbox import take_all_mail
from tests.support.web import PASSWORD, Browser
from tests.web.test_logs import events, logged  # noqa: F401  (fixture)

NEW = "brand-new-horse-51"
SENT = "如果该账号存在并已确认邮箱"


async def confirmed(store, name="alice"):
    user = await accounts.create_user(
        store, TEST_PASSWORDS, username=name, password=PASSWORD, email=f"{name}@example.org"
    )
    await store.update_user(user.id, {"email_confirmed": True})
    return user


async def mailed_token(store) -> str:
    mails = await take_all_mail(store)
    [token] = [
        m.group(1)
        for mail in mails
        if (m := re.search(r"/reset-password/([A-Za-z0-9_-]+)", mail.body))
    ]
    return token


@pytest.mark.gen_test
async def test_reset_through_the_api(api, store, logged):  # noqa: F811
    user = await confirmed(store)
    alice = await api.login("alice")
    known = await api.post("/auth/password-reset", {"username": "alice"})
    unknown = await api.post("/auth/password-reset", {"username": "nobody_here"})
    assert known.status == unknown.status == 202 and known.json() == unknown.json()
    assert SENT in known.json()["message"]
    token = await mailed_token(store)
    done = await api.post("/auth/password-reset/confirm", {"token": token, "new_password": NEW})
    assert done.status == 204 and "no-store" in done.headers["Cache-Control"]
    assert (await alice.get("/me")).status == 401  # every session ended
    assert (
        await api.post("/auth/login", {"username": "alice", "password": PASSWORD})
    ).status == 401
    await api.login("alice", NEW)
    again = await api.post(
        "/auth/password-reset/confirm", {"token": token, "new_password": "next-horse-54"}
    )
    assert again.status == 422 and "token" in again.error["fields"]
    [reset] = events(logged, "password_reset")
    assert reset["user_id"] == user.id and reset["sessions_ended"] == 1
    asked = events(logged, "password_reset_requested")
    assert [(e["outcome"], e["user_id"]) for e in asked] == [
        ("mailed", user.id),
        ("unknown_user", None),
    ]
    assert events(logged, "password_reset_failed")[0]["reason"] == "bad_token"
    everything = "\n".join(r.getMessage() + str(getattr(r, "fields", "")) for r in logged.records)
    assert token not in everything and NEW not in everything


@pytest.mark.gen_test
async def test_asking_too_often_is_429_with_retry_after(api, store):
    await confirmed(store)
    for _ in range(3):
        assert (await api.post("/auth/password-reset", {"username": "alice"})).status == 202
    limited = await api.post("/auth/password-reset", {"username": "alice"})
    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/auth/password-reset", {}, "username"),
        ("/auth/password-reset", {"username": 7}, "username"),
        ("/auth/password-reset", {"username": "a" * 300}, "username"),
        ("/auth/password-reset", {"username": "ali\x1bce"}, "username"),
        ("/auth/password-reset/confirm", {"new_password": NEW}, "token"),
        ("/auth/password-reset/confirm", {"token": ["x"], "new_password": NEW}, "token"),
        ("/auth/password-reset/confirm", {"token": "x" * 500, "new_password": NEW}, "token"),
        (
            "/auth/password-reset/confirm",
            {"token": "../../etc/passwd-xxxxxxxxxx", "new_password": NEW},
            "token",
        ),
        ("/auth/password-reset/confirm", {"token": "a" * 43}, "new_password"),
        (
            "/auth/password-reset/confirm",
            {"token": "a" * 43, "new_password": "12345678"},
            "new_password",
        ),
    ],
)
async def test_bad_input_is_422_naming_the_field(api, path, body, field):
    response = await api.post(path, body)
    assert response.status == 422 and field in response.error["fields"]


@pytest.mark.gen_test
@pytest.mark.parametrize("raw", [b"\xff\xfe{", b"[]", b'{"username": NaN}', b"not json"])
async def test_malformed_bodies_are_400(api, raw):
    for path in ("/auth/password-reset", "/auth/password-reset/confirm"):
        assert (await api.post(path, raw=raw)).status == 400


@pytest.mark.gen_test
async def test_a_cookie_caller_needs_the_xsrf_token(api, store, browser):
    await confirmed(store)
    await browser.log_in("alice")
    refused = await browser.request(
        "POST",
        "/api/v1/auth/password-reset",
        b'{"username": "alice"}',
        {"Content-Type": "application/json"},
    )
    assert refused.status == 403


@pytest.mark.gen_test
async def test_reset_through_the_pages(api, store, browser, http_client, base_url):
    await confirmed(store)
    other = Browser(http_client, base_url)
    await other.log_in("alice")
    login = await browser.get("/login")
    assert 'href="/forgot-password"' in login.text
    assert (await browser.get("/forgot-password")).status == 200
    answers, pages = [], []
    for name in ("alice", "nobody_here"):
        answers.append(await browser.submit("/forgot-password", {"username": name}))
        pages.append(await browser.follow(answers[-1]))
    assert [a.headers["Location"] for a in answers] == ["/forgot-password"] * 2
    assert all(SENT in page.text for page in pages)
    assert SENT not in (await browser.get("/forgot-password")).text
    token = await mailed_token(store)
    form = await browser.get(f"/reset-password/{token}")
    assert form.status == 200 and "no-store" in form.headers["Cache-Control"]
    assert 'autocomplete="new-password"' in form.text
    weak = await browser.submit(f"/reset-password/{token}", {"new_password": "password123"})
    assert weak.status == 422 and "no-store" in weak.headers["Cache-Control"]
    # A refused password leaves the link usable; once used, it is gone.
    answer = await browser.submit(f"/reset-password/{token}", {"new_password": NEW})
    assert answer.status == 303 and answer.headers["Location"] == f"/reset-password/{token}"
    done = await browser.follow(answer)
    assert done.status == 200 and 'href="/login"' in done.text
    again = await browser.submit(f"/reset-password/{token}", {"new_password": "next-horse-54"})
    assert again.status == 422 and 'href="/forgot-password"' in again.text
    assert (await other.get("/me")).status in (302, 303)  # its session ended: to the login
    await browser.log_in("alice", NEW)


@pytest.mark.gen_test
async def test_pages_refuse_bad_input_and_forms_without_xsrf(browser):
    missing = await browser.submit("/forgot-password", {"username": ""})
    assert missing.status == 422 and 'id="username-error"' in missing.text
    assert (
        await browser.submit("/forgot-password", {"username": "alice"}, xsrf=False)
    ).status == 403
    assert (await browser.get("/reset-password/short")).status == 404
    assert (await browser.get("/reset-password/" + "a" * 101)).status == 404
    unknown = await browser.submit("/reset-password/" + "a" * 43, {"new_password": NEW})
    assert unknown.status == 422
    raw = await browser.request(
        "POST",
        "/forgot-password",
        b"username=\xff\xfe&_xsrf=x",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert raw.status in (400, 403)
