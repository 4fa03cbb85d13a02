"""Session cookies checked once per value and while (forum/web/signed_cookies.py)."""

from __future__ import annotations

import pytest

from forum.web import signed_cookies
from forum.web.signed_cookies import CheckedCookies
from tests.support.people import person
from tests.support.web import Browser


class Checks:
    def __init__(self, answer: bytes | None) -> None:
        self.answer, self.count = answer, 0

    def __call__(self) -> bytes | None:
        self.count += 1
        return self.answer


def test_a_value_that_passed_is_checked_again_only_after_a_while(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(signed_cookies.time, "monotonic", lambda: clock[0])
    kept = CheckedCookies(seconds=60)
    check = Checks(b"token")
    assert kept.value("session", "v1", check) == b"token"
    clock[0] += 59
    assert kept.value("session", "v1", check) == b"token" and check.count == 1
    clock[0] += 2
    assert kept.value("session", "v1", check) == b"token" and check.count == 2
    # Another name with the same value is another cookie.
    assert kept.value("flash", "v1", check) == b"token" and check.count == 3


def test_a_value_that_fails_is_never_kept_and_the_shelf_is_bounded():
    kept = CheckedCookies(max_values=2)
    refused = Checks(None)
    for _ in range(3):
        assert kept.value("session", "forged", refused) is None
    assert refused.count == 3 and len(kept) == 0
    passed = Checks(b"t")
    for value in ("a", "b", "c"):
        kept.value("session", value, passed)
    assert len(kept) == 2
    kept.value("session", "a", passed)  # the oldest went first
    assert passed.count == 4


@pytest.mark.gen_test
async def test_a_changed_session_cookie_is_refused_and_the_real_one_still_taken(
    app, store, http_client, base_url
):
    await person(store, "reader")
    browser = Browser(http_client, base_url)
    await browser.log_in("reader")
    assert 'href="/logout"' in (await browser.get("/me")).text
    real = browser.cookies["session"]
    browser.cookies["session"] = real[:-2] + ("00" if not real.endswith("00") else "11")
    answer = await browser.get("/me")
    assert answer.status == 303 and answer.headers["Location"].startswith("/login")
    browser.cookies["session"] = real
    assert 'href="/logout"' in (await browser.get("/me")).text
    assert len(app.settings["checked_cookies"]) == 1


# Cookie headers as browsers and clients send them: quoted and escaped values, a value with
# "=", spaces, an empty value, a name sent twice (the last one counts, as in Tornado).
COOKIE_HEADERS = [
    'session="2|1:0|10:1700000000|7:session|8:dG9rZW4=|abc"; _xsrf=2|ab|cd|1700000000',
    "lang=en;care=1",
    ' lang = zh ; _xsrf="a\\"b\\\\c" ',
    'quoted="\\344\\275\\240"; plain=x=y=z',
    "empty=; lang=en; lang=zh",
]


@pytest.mark.parametrize("header", COOKIE_HEADERS)
def test_sent_cookies_are_the_values_tornado_reads(header):
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

    from forum.web.base import sent_cookies

    def request() -> HTTPServerRequest:
        return HTTPServerRequest(
            headers=HTTPHeaders({"Cookie": header, "Host": "example.org"}),
            start_line=RequestStartLine("GET", "/", "HTTP/1.1"),
        )

    tornados = {name: morsel.value for name, morsel in request().cookies.items()}
    fresh = request()
    assert sent_cookies(fresh) == tornados
    assert sent_cookies(fresh) is sent_cookies(fresh)  # parsed once a request
