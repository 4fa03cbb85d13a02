"""forum/limits.py is the one source of field lengths and patterns: the services check them, the
OpenAPI document (tests/web/test_openapi.py) and the templates read them."""

from __future__ import annotations

import pathlib
import re

import pytest

from forum import limits, security

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"


def test_no_template_types_a_length_by_hand():
    typed = [
        (path.name, m.group(0))
        for path in TEMPLATES.rglob("*.html")
        for m in re.finditer(r'<(?:input|textarea)\b[^>]*\bmaxlength="\d+"[^>]*>', path.read_text())
        if 'name="post_id"' not in m.group(0)
    ]  # an id's fixed 24 hex digits
    assert typed == []


def test_patterns_accept_what_the_product_makes_and_refuse_the_rest():
    code = security.new_tracking_code()
    assert re.fullmatch(limits.TRACKING_PATTERN, code)
    assert limits.TRACKING_KEY.fullmatch(security.tracking_key(code))
    assert not limits.TRACKING_KEY.fullmatch(security.tracking_key(code)[:-1])
    assert limits.USERNAME.fullmatch("a" * limits.USERNAME_MAX)
    assert not limits.USERNAME.fullmatch("a" * (limits.USERNAME_MAX + 1))
    assert not limits.USERNAME.fullmatch("ab") and not limits.USERNAME.fullmatch("张三")
    assert limits.anchored(limits.USERNAME_PATTERN) == "^[A-Za-z0-9_]{3,32}$"


@pytest.mark.gen_test
async def test_forms_carry_the_limits_the_services_check(browser):
    register = (await browser.get("/register")).text
    assert f'maxlength="{limits.USERNAME_MAX}"' in register
    assert f'maxlength="{limits.PASSWORD_MAX}"' in register
    track = (await browser.get("/track")).text
    assert f'maxlength="{limits.TRACKING_INPUT_MAX}"' in track
