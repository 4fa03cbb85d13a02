"""Chinese and English pages: which language a request gets, the header's switches
(/preferences), English pages, translated errors, dates and numbers per locale."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

import pytest

from forum.web import i18n


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


async def page(browser, path: str, headers: dict[str, str] | None = None):
    return await browser.request("GET", path, headers=headers)


# choosing the locale ---------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_chinese_is_the_default(browser):
    home = await browser.get("/")
    assert home.status == 200
    assert html_lang(home.text) == "zh-CN"
    assert "查询办理进度" in home.text and "Track a case" not in home.text


@pytest.mark.gen_test
async def test_accept_language_english_gives_english(browser):
    home = await page(browser, "/", {"Accept-Language": "en-GB,en;q=0.9"})
    assert html_lang(home.text) == "en-US"
    assert "Track a case" in home.text and "查询办理进度" not in home.text


@pytest.mark.gen_test
async def test_accept_language_prefers_the_higher_quality(browser):
    zh = await page(browser, "/", {"Accept-Language": "en;q=0.5, zh-CN;q=0.9"})
    assert html_lang(zh.text) == "zh-CN"
    en = await page(browser, "/", {"Accept-Language": "fr-FR, en;q=0.8, zh;q=0.2"})
    assert html_lang(en.text) == "en-US"
    other = await page(browser, "/", {"Accept-Language": "fr-FR, de"})
    assert html_lang(other.text) == "zh-CN"


@pytest.mark.gen_test
async def test_lang_cookie_wins_over_accept_language(browser):
    browser.cookies["lang"] = "zh_CN"
    home = await page(browser, "/", {"Accept-Language": "en"})
    assert html_lang(home.text) == "zh-CN"
    browser.cookies["lang"] = "en_US"
    home = await page(browser, "/", {"Accept-Language": "zh-CN"})
    assert html_lang(home.text) == "en-US"


@pytest.mark.parametrize(
    "value",
    ["fr_FR", "en", "EN_us", "zh_CN;", "x" * 5000, "../../etc/passwd", "en_US\\x00", "%E4%B8%AD"],
)
@pytest.mark.gen_test
async def test_hostile_lang_cookies_are_ignored(browser, value):
    browser.cookies["lang"] = value
    home = await page(browser, "/", {"Accept-Language": "zh-CN"})
    assert home.status == 200
    assert html_lang(home.text) == "zh-CN"


@pytest.mark.gen_test
async def test_invalid_utf8_in_cookie_and_accept_language_is_harmless(
    browser, http_client, base_url
):
    raw = await http_client.fetch(
        base_url + "/",
        raise_error=False,
        headers={
            "Cookie": b"lang=\xff\xfe\xe4; care=\xc3\x28".decode("latin-1"),
            "Accept-Language": b"\xff\xfe;q=\xe4, en;q=0.1".decode("latin-1"),
        },
    )
    assert raw.code == 200
    text = raw.body.decode("utf-8")
    assert html_lang(text) == "en-US"
    assert '<html lang="en-US">' in text  # a bad care cookie is "off"


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("", None),
        ("*", None),
        ("en", "en_US"),
        ("en-US", "en_US"),
        ("zh-TW", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        ("EN-gb", "en_US"),
        ("en;q=0", None),
        ("en;q=abc", None),
        ("en;q=1.5", None),
        ("de, en;q=0.3, zh;q=0.3", "en_US"),
        (",,,;;;", None),
        ("en;q=0.1, zh;q=0.2", "zh_CN"),
        ("a" * 10_000, None),
        ("zh-CN," * 1000 + "en", "zh_CN"),
    ],
)
def test_accept_language_parsing(header, expected):
    assert i18n.locale_from_accept_language(header) == expected


# the switches ----------------------------------------------------------------------------------
async def switch(browser, fields: dict[str, str]):
    return await browser.request(
        "POST",
        "/preferences",
        urlencode(fields).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )


def set_cookie(response, name: str) -> str:
    return next(c for c in response.headers.get_list("Set-Cookie") if c.startswith(name + "="))


@pytest.mark.gen_test
async def test_language_switch_sets_the_cookie_and_returns(browser):
    response = await switch(browser, {"lang": "en_US", "next": "/boards/forum?category=x"})
    assert response.status == 303
    assert response.headers["Location"] == "/boards/forum?category=x"
    cookie = set_cookie(response, "lang")
    assert cookie.startswith("lang=en_US;")
    assert "SameSite=Lax" in cookie and "Path=/" in cookie
    expires = re.search(r"expires=([^;]+)", cookie, re.I).group(1)
    assert str(dt.date.today().year + 1) in expires
    home = await browser.get("/")
    assert html_lang(home.text) == "en-US"
    response = await switch(browser, {"lang": "zh_CN", "next": "/"})
    assert html_lang((await browser.get("/")).text) == "zh-CN"


@pytest.mark.gen_test
async def test_care_switch_marks_the_page(browser):
    home = await browser.get("/")
    assert 'class="care"' not in home.text
    assert 'name="care" value="1"' in home.text
    response = await switch(browser, {"care": "1", "next": "/stats"})
    assert response.status == 303 and response.headers["Location"] == "/stats"
    assert set_cookie(response, "care").startswith("care=1;")
    stats = await browser.get("/stats")
    assert '<html lang="zh-CN" class="care">' in stats.text
    assert 'name="care" value="0"' in stats.text
    await switch(browser, {"care": "0", "next": "/"})
    assert 'class="care"' not in (await browser.get("/")).text


@pytest.mark.gen_test
async def test_every_page_carries_both_switches(browser):
    for path in ("/", "/boards/forum", "/login", "/stats", "/track", "/search?q=x", "/nowhere"):
        text = (await browser.get(path)).text
        assert 'action="/preferences"' in text, path
        assert 'name="lang" value="en_US"' in text and 'name="care"' in text, path
        assert f'name="next" value="{path.replace("&", "&amp;")}"' in text, path


@pytest.mark.parametrize(
    "hostile",
    [
        "//evil.example/",
        "https://evil.example/",
        "http:/evil",
        "/\\evil.example",
        "\\\\evil",
        "/ok\r\nSet-Cookie: a=b",
        "/ok\nLocation: //evil",
        "javascript:alert(1)",
        "",
        "evil",
        "/%0d%0aX: y\r\n",
        "/\x00",
        "///evil.example",
    ],
)
@pytest.mark.gen_test
async def test_hostile_next_falls_back_to_home(browser, hostile):
    response = await switch(browser, {"lang": "en_US", "next": hostile})
    assert response.status == 303
    location = response.headers["Location"]
    assert location in ("/", hostile) and location.startswith("/")
    assert not location.startswith("//") and "\r" not in location and "\n" not in location
    if hostile != "/%0d%0aX: y\r\n":
        assert location == "/"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"lang": "fr_FR"}, "lang"),
        ({"lang": "en"}, "lang"),
        ({"care": "yes"}, "care"),
        ({"care": "2"}, "care"),
        ({}, "lang"),
        ({"lang": "en_US", "care": "on"}, "care"),
    ],
)
@pytest.mark.gen_test
async def test_bad_switch_values_are_refused(browser, fields, field):
    response = await switch(browser, {**fields, "next": "/"})
    assert response.status == 400
    assert not any(
        c.startswith(("lang=", "care=")) for c in response.headers.get_list("Set-Cookie")
    )
    assert f"<li>{ {'lang': '语言', 'care': '关怀版模式'}[field] }：" in response.text


@pytest.mark.gen_test
async def test_bad_switch_value_in_english_names_the_field(browser):
    browser.cookies["lang"] = "en_US"
    response = await switch(browser, {"care": "maybe"})
    assert response.status == 400
    assert "<li>Elder-friendly mode: One of: 0, 1</li>" in response.text


@pytest.mark.gen_test
async def test_switch_needs_no_xsrf_token_and_get_changes_nothing(browser):
    response = await switch(browser, {"lang": "en_US"})  # no _xsrf field, no _xsrf cookie
    assert response.status == 303 and response.headers["Location"] == "/"
    fresh = await browser.request("GET", "/preferences?lang=zh_CN&next=/")
    assert fresh.status == 405
    assert not any(c.startswith("lang=") for c in fresh.headers.get_list("Set-Cookie"))


@pytest.mark.gen_test
async def test_switch_with_invalid_utf8_is_refused(browser):
    response = await browser.request(
        "POST",
        "/preferences",
        b"lang=\xff\xfe&next=/\xff",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400


@pytest.mark.gen_test
async def test_answers_in_a_language_vary_on_accept_language(browser, api):
    home = await browser.get("/")
    assert "Accept-Language" in home.headers.get_list("Vary")
    wrong = await api.post("/auth/login", {"username": "nobody", "password": "x" * 8})
    assert "Accept-Language" in wrong.headers.get_list("Vary")
