"""The admin's calendar over HTTP: GET and PUT /api/v1/admin/calendar and the settings page.
Moments are set on the app's clock (the `clock` fixture), never read from today."""

from __future__ import annotations

import datetime as dt

import pytest

from forum.holidays import official
from forum.model import Role
from forum.services import settings
from forum.workflow import CHINA_STANDARD_TIME
from tests.support.people import person
from tests.support.web import Browser, form_errors

LAST = official().years[-1]


def at_noon(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 12, tzinfo=CHINA_STANDARD_TIME).astimezone(dt.timezone.utc)


async def signed_in(api, store, name, *roles):
    await person(store, name, *roles)
    return await api.login(name)


@pytest.mark.gen_test
async def test_the_admin_reads_and_replaces_the_calendar(api, store, clock):
    clock.set(at_noon(LAST - 1, 6, 1))
    root = await signed_in(api, store, "root", Role.ADMIN)
    fresh = await root.get("/admin/calendar")
    assert fresh.status == 200, fresh.text
    assert fresh.json() == {
        "covered_years": list(official().years),
        "holidays": [],
        "workdays": [],
        "warning": None,
    }
    saved = await root.call(
        "PUT",
        "/admin/calendar",
        {"holidays": ["2025-10-09", "2025-10-09"], "workdays": ["2025-10-08"]},
    )
    assert saved.status == 200, saved.text
    assert saved.json() == {
        "covered_years": list(official().years),
        "holidays": ["2025-10-09"],
        "workdays": ["2025-10-08"],
        "warning": None,
    }
    assert (await root.get("/admin/calendar")).json() == saved.json()
    calendar = await settings.load_calendar(store)
    assert calendar.is_working_day(dt.date(2025, 10, 8))
    assert not calendar.is_working_day(dt.date(2025, 10, 9))


@pytest.mark.gen_test
async def test_the_warning_comes_when_next_year_is_not_covered(api, store, clock):
    # An official's session lapses after two idle hours: each moment logs in afresh.
    await person(store, "root", Role.ADMIN)
    clock.set(at_noon(LAST, 6, 1))
    root = await api.login("root")
    warned = (await root.get("/admin/calendar")).json()
    assert warned["warning"] and str(LAST + 1) in warned["warning"]
    english = await root.get("/admin/calendar", headers={"Accept-Language": "en-US"})
    assert english.json()["warning"].startswith(
        f"The installed chinesecalendar has no holidays for {LAST + 1}"
    )
    clock.set(at_noon(LAST - 1, 12, 31))
    root = await api.login("root")
    assert (await root.get("/admin/calendar")).json()["warning"] is None


BAD = [
    None,
    "2025-10-09",
    {"day": "2025-10-09"},
    [20251009],
    ["2025-10-09", None],
    ["2025-13-01"],
    ["2025-02-30"],
    ["20251009"],
    ["2025-W41-4"],
    ["1999-12-31"],
    [
        (dt.date(2025, 1, 1) + dt.timedelta(days=n)).isoformat()
        for n in range(settings.DAYS_MAX + 1)
    ],
]


@pytest.mark.gen_test
@pytest.mark.parametrize("field", ["holidays", "workdays"])
@pytest.mark.parametrize("value", BAD)
async def test_bad_input_is_refused_naming_the_field(api, store, field, value):
    root = await signed_in(api, store, "root", Role.ADMIN)
    body = {"holidays": ["2025-10-09"], "workdays": ["2025-10-12"], field: value}
    refused = await root.call("PUT", "/admin/calendar", body)
    assert refused.status == 422, refused.text
    assert refused.error["code"] == "invalid" and set(refused.error["fields"]) == {field}
    assert (await root.get("/admin/calendar")).json()["holidays"] == []


@pytest.mark.gen_test
async def test_a_missing_field_or_a_day_in_both_lists_is_refused(api, store):
    root = await signed_in(api, store, "root", Role.ADMIN)
    missing = await root.call("PUT", "/admin/calendar", {"holidays": ["2025-10-09"]})
    assert missing.status == 422 and set(missing.error["fields"]) == {"workdays"}
    both = await root.call(
        "PUT", "/admin/calendar", {"holidays": ["2025-10-12"], "workdays": ["2025-10-12"]}
    )
    assert both.status == 422 and set(both.error["fields"]) == {"holidays", "workdays"}
    assert "2025-10-12" in both.error["fields"]["workdays"]
    malformed = await root.call("PUT", "/admin/calendar", raw=b"[1, 2")
    assert malformed.status == 400


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "role, status",
    [(None, 401), ((), 403), ((Role.MODERATOR,), 403), ((Role.STAFF,), 403), ((Role.LAWYER,), 403)],
)
async def test_only_the_admin_may_see_or_change_it(api, store, role, status):
    client = api.as_user(None) if role is None else await signed_in(api, store, "someone", *role)
    assert (await client.get("/admin/calendar")).status == status
    put = await client.call("PUT", "/admin/calendar", {"holidays": ["2025-10-09"], "workdays": []})
    assert put.status == status
    assert await store.get_setting(settings.CALENDAR_KEY) is None


# the settings page ---------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_the_settings_page_shows_the_years_the_additions_and_the_warning(
    http_client, base_url, store, clock
):
    # An official's session lapses after two idle hours: each moment logs in afresh.
    await person(store, "root", Role.ADMIN)
    clock.set(at_noon(LAST - 1, 6, 1))
    root = Browser(http_client, base_url)
    await root.log_in("root")
    page = await root.get("/admin/settings")
    assert page.status == 200
    assert f"{official().years[0]} 至 {LAST} 年" in page.text
    assert 'id="calendar-warning"' not in page.text
    saved = await root.submit_and_follow(
        "/admin/settings",
        {"form": "calendar", "holidays": "2025-10-09\n", "workdays": "2025-10-12"},
    )
    assert saved.status == 200 and "节假日安排已保存" in saved.text
    assert ">2025-10-09</textarea>" in saved.text and ">2025-10-12</textarea>" in saved.text
    both = await root.submit(
        "/admin/settings", {"form": "calendar", "holidays": "2025-10-12", "workdays": "2025-10-12"}
    )
    assert both.status == 422 and form_errors(both.text)
    clock.set(at_noon(LAST, 12, 1))
    root = Browser(http_client, base_url)
    await root.log_in("root")
    warned = await root.get("/admin/settings")
    assert 'id="calendar-warning"' in warned.text and f"{LAST + 1} 年" in warned.text
