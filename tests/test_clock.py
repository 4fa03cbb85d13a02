"""The clock as an input: what `now()` answers, in which context, and an app that keeps the
time its configuration gives it."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from forum.clock import SYSTEM_CLOCK, ManualClock, clock_at, current, now, using

DAY = dt.timedelta(days=1)


def test_the_system_clock_is_in_force_unless_another_is():
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(milliseconds=1)
    assert current() is SYSTEM_CLOCK and before <= now() <= dt.datetime.now(dt.timezone.utc)
    assert now().microsecond % 1000 == 0 and now().tzinfo is not None


@pytest.mark.parametrize(
    "nanoseconds",
    [0, 999_999, 1_765_000_000_123_456_789, 1_798_761_599_999_999_999, 7_258_118_399_999_000_000],
)
def test_the_system_clock_answers_the_millisecond_exactly(monkeypatch, nanoseconds):
    monkeypatch.setattr("forum.clock.time.time_ns", lambda: nanoseconds)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    assert SYSTEM_CLOCK.now() == epoch + dt.timedelta(milliseconds=nanoseconds // 1_000_000)
    assert SYSTEM_CLOCK.now().utcoffset() == dt.timedelta(0)


def test_a_manual_clock_stands_still_until_moved():
    start = SYSTEM_CLOCK.now() - 400 * DAY
    clock = ManualClock(start + dt.timedelta(microseconds=123456))
    assert clock.now() == start + dt.timedelta(microseconds=123000) == clock.now()
    assert clock.advance(days=16) == start + 16 * DAY + dt.timedelta(microseconds=123000)
    clock.set(start)
    assert clock.now() == start
    assert abs(ManualClock().now() - SYSTEM_CLOCK.now()) < dt.timedelta(seconds=5)


def test_using_a_clock_reaches_the_tasks_and_threads_started_inside_and_nothing_else():
    then = SYSTEM_CLOCK.now() - 400 * DAY

    async def inside() -> tuple[dt.datetime, dt.datetime]:
        return now(), await asyncio.to_thread(now)

    with clock_at(then):
        assert asyncio.run(inside()) == (then, then)
    assert now() > then + 399 * DAY
    moving = ManualClock(then)
    with using(moving):
        moving.advance(hours=2)
        assert now() == then + dt.timedelta(hours=2)
    assert current() is SYSTEM_CLOCK


class TestAnAppKeepsItsOwnClock:
    """The clock comes with the configuration: requests are stamped by it, whatever clock the
    caller's own context has, and rules that decide by time (the 30-minute edit window) follow
    it when it moves."""

    @pytest.fixture
    def app(self, store):
        from tests.support.apps import build_app, config_with

        self.clock = ManualClock(SYSTEM_CLOCK.now() - 3 * DAY)
        return build_app(store, config_with(clock=self.clock))

    @pytest.mark.gen_test
    async def test_posts_are_stamped_and_edit_windows_closed_by_the_app_clock(self, api, store):
        alice = await api.new_user("alice")
        created = await alice.post("/boards/forum/posts", {"title": "路灯", "body": "不亮"})
        post = await store.get_post(created.json()["post"]["id"])
        assert post.created_at == self.clock.now()
        self.clock.advance(minutes=29)
        assert (await alice.patch(f"/posts/{post.id}", {"title": "路灯不亮"})).status == 200
        self.clock.advance(minutes=2)
        late = await alice.patch(f"/posts/{post.id}", {"title": "路灯还是不亮"})
        assert late.status == 403 and late.error["code"] == "edit_window_closed"
