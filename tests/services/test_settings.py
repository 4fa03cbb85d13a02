"""The calendar admins keep (forum/services/settings.py): their additions on top of
chinesecalendar, the warning for next year, and the due times cases get from it. Every moment is
set on the test's clock, so nothing depends on today's date."""

from __future__ import annotations

import datetime as dt

import pytest

from forum.errors import Forbidden, Invalid, NotLoggedIn
from forum.holidays import official
from forum.model import Role

# posting before cases: imported first, cases meets stats half-initialised (they import each other)
from forum.services import posting
from forum.services import cases, moderation, settings
from forum.workflow import CHINA_STANDARD_TIME
from tests.support.people import person

D = dt.date
LETTER = {
    "title": "国庆前反映的路灯问题",
    "body": "小区门口路灯不亮",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13812345678",
    "public": True,
}


def local(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=CHINA_STANDARD_TIME)


def utc(stamp: dt.datetime) -> dt.datetime:
    return stamp.astimezone(dt.timezone.utc)


@pytest.mark.gen_test
async def test_a_new_portal_counts_by_the_package_alone(store):
    calendar = await settings.load_calendar(store)
    assert not calendar.is_working_day(D(2025, 10, 1))
    assert calendar.is_working_day(D(2025, 9, 28))  # Sunday, worked (调休)
    root = await person(store, "root", Role.ADMIN)
    kept = await settings.calendar_settings(store, root)
    assert kept.holidays == kept.workdays == frozenset()
    assert kept.covered_years == official().years


@pytest.mark.gen_test
async def test_the_admins_additions_are_kept_and_win(store):
    root = await person(store, "root", Role.ADMIN)
    kept = await settings.save_calendar(
        store, root, [" 2025-10-09 ", "", "2025-10-09"], ["2025-10-08"]
    )
    assert kept.holidays == {D(2025, 10, 9)} and kept.workdays == {D(2025, 10, 8)}
    calendar = await settings.load_calendar(store)
    assert not calendar.is_working_day(D(2025, 10, 9))
    assert calendar.is_working_day(D(2025, 10, 8))
    assert not calendar.is_working_day(D(2025, 10, 7))
    assert await store.get_setting(settings.CALENDAR_KEY) == {
        "holidays": ["2025-10-09"],
        "workdays": ["2025-10-08"],
    }
    (entry,) = await store.list_audit(actor_id=root.id, target=None, after=None, limit=10)
    assert entry.action == "save_calendar" and entry.target == "settings:calendar"
    emptied = await settings.save_calendar(store, root, [], [])
    assert emptied.holidays == emptied.workdays == frozenset()


@pytest.mark.gen_test
async def test_only_admins_keep_the_calendar(store):
    mod = await person(store, "mod", Role.MODERATOR)
    for viewer, error in ((None, NotLoggedIn), (mod, Forbidden)):
        with pytest.raises(error):
            await settings.calendar_settings(store, viewer)
        with pytest.raises(error):
            await settings.save_calendar(store, viewer, ["2025-10-09"], [])
    assert await store.get_setting(settings.CALENDAR_KEY) is None


@pytest.mark.gen_test
@pytest.mark.parametrize("field", ["holidays", "workdays"])
@pytest.mark.parametrize(
    "value",
    [
        None,
        "2025-10-09",
        ["2025-10-09", 20251009],
        [["2025-10-09"]],
        ["2025-13-01"],
        ["2025-02-29"],
        ["20251009"],
        ["2025-W41-4"],
        ["2025-10-9"],
        ["十月一日"],
        ["1999-12-31"],
        ["2100-01-01"],
        [(D(2025, 1, 1) + dt.timedelta(days=n)).isoformat() for n in range(settings.DAYS_MAX + 1)],
    ],
)
async def test_a_bad_list_is_refused_naming_its_field(store, field, value):
    root = await person(store, "root", Role.ADMIN)
    lists = {"holidays": ["2025-10-09"], "workdays": ["2025-10-12"], field: value}
    with pytest.raises(Invalid) as refused:
        await settings.save_calendar(store, root, lists["holidays"], lists["workdays"])
    assert set(refused.value.fields) == {field}
    assert await store.get_setting(settings.CALENDAR_KEY) is None


@pytest.mark.gen_test
async def test_a_day_in_both_lists_is_refused(store):
    root = await person(store, "root", Role.ADMIN)
    with pytest.raises(Invalid) as refused:
        await settings.save_calendar(store, root, ["2025-10-09", "2025-10-12"], ["2025-10-12"])
    assert set(refused.value.fields) == {"holidays", "workdays"}
    assert "2025-10-12" in refused.value.fields["workdays"]
    # the most each list may hold is accepted
    days = [(D(2030, 1, 1) + dt.timedelta(days=n)).isoformat() for n in range(settings.DAYS_MAX)]
    kept = await settings.save_calendar(store, root, days, [])
    assert len(kept.holidays) == settings.DAYS_MAX


@pytest.mark.gen_test
async def test_the_warning_names_next_year_when_the_package_lacks_it(store, clock):
    root = await person(store, "root", Role.ADMIN)
    last = official().years[-1]
    clock.set(utc(local(last - 1, 6, 1, 12)))
    assert (await settings.calendar_settings(store, root)).warning is None
    clock.set(utc(local(last - 1, 12, 31, 23, 59)))
    assert (await settings.calendar_settings(store, root)).warning is None
    # half past midnight on New Year's Day in China, still the old year in UTC
    clock.set(utc(local(last, 1, 1, 0, 30)))
    assert clock.now().year == last - 1
    kept = await settings.calendar_settings(store, root)
    assert kept.uncovered_year == last + 1 and str(last + 1) in kept.warning
    clock.set(utc(local(last + 3, 3, 1, 9)))
    assert (await settings.calendar_settings(store, root)).uncovered_year == last + 3


# due times from the loaded calendar ----------------------------------------------------------------
@pytest.mark.gen_test
async def test_due_times_count_across_national_day(store, clock):
    writer = await person(store, "writer")
    mod = await person(store, "mod", Role.MODERATOR)
    await person(store, "housing_staff", Role.STAFF, department="housing")
    # Tuesday 30 September 2025, afternoon: 1 to 8 October are off, Saturday 11 October worked
    clock.set(utc(local(2025, 9, 30, 15)))
    letter = await posting.create_post(store, writer, "mayor", LETTER)
    board = await store.get_board("mayor")
    assert board.accept_days == 3  # the acceptance deadline counts 9, 10, 11 October
    assert letter.post.accept_due_at == utc(local(2025, 10, 12))
    await moderation.moderate(store, mod, letter.post.id, "accept")
    routed = await cases.route_case(store, mod, letter.post.id, "housing", 2)
    assert routed.post.due_at == utc(local(2025, 10, 11))
    # overdue only once the due time, counted in working days, has passed
    assert await cases.note_overdue(store, utc(local(2025, 10, 10, 23, 59))) == 0
    assert await cases.note_overdue(store, utc(local(2025, 10, 11, 0, 1))) == 1


@pytest.mark.gen_test
async def test_due_times_follow_the_admins_additions(store, clock):
    writer = await person(store, "writer")
    mod = await person(store, "mod", Role.MODERATOR)
    root = await person(store, "root", Role.ADMIN)
    await person(store, "housing_staff", Role.STAFF, department="housing")
    # a local day off on Thursday 9 October, and Sunday 12 October worked instead
    await settings.save_calendar(store, root, ["2025-10-09"], ["2025-10-12"])
    clock.set(utc(local(2025, 9, 30, 15)))
    letter = await posting.create_post(store, writer, "mayor", LETTER)
    await moderation.moderate(store, mod, letter.post.id, "accept")
    routed = await cases.route_case(store, mod, letter.post.id, "housing", 3)
    assert routed.post.due_at == utc(local(2025, 10, 13))  # 10, 11 and 12 October
