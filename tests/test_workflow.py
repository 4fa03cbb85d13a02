"""Lifecycles and the working-day clock (forum/workflow.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from forum import workflow
from forum.errors import Conflict
from forum.model import Kind, Post, Status
from forum.workflow import CHINA_STANDARD_TIME, Calendar


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHINA_STANDARD_TIME)


@pytest.mark.parametrize("action, start, end", [
    ("accept", Status.SUBMITTED, Status.ACCEPTED),
    ("reject", Status.SUBMITTED, Status.REJECTED),
    ("route", Status.ACCEPTED, Status.ROUTED),
    ("route", Status.ROUTED, Status.ROUTED),
    ("return", Status.ROUTED, Status.ACCEPTED),
    ("official", Status.ROUTED, Status.REPLIED),
    ("rate_satisfied", Status.REPLIED, Status.CLOSED),
    ("rate_unsatisfied", Status.REPLIED, Status.ACCEPTED),
    ("expire", Status.REPLIED, Status.CLOSED),
])
def test_case_transitions(action, start, end):
    assert workflow.transition(Kind.CASE, action, start) is end


@pytest.mark.parametrize("action, start", [
    ("accept", Status.ACCEPTED), ("reject", Status.ROUTED), ("route", Status.SUBMITTED),
    ("official", Status.ACCEPTED), ("rate_satisfied", Status.ROUTED),
    ("rate_satisfied", Status.CLOSED), ("return", Status.REPLIED), ("follow_up", Status.CLOSED),
    ("hide", Status.SUBMITTED),
])
def test_invalid_case_transitions_conflict(action, start):
    with pytest.raises(Conflict):
        workflow.transition(Kind.CASE, action, start)


def test_every_case_action_has_one_actor():
    case_actions = {action for kind, action in workflow.TRANSITIONS if kind is Kind.CASE}
    assert case_actions == set(workflow.CASE_ACTORS)


def test_unsatisfied_reopens_once_then_closes():
    assert workflow.rating_action("unsatisfied", reopened=False) == "rate_unsatisfied"
    assert workflow.rating_action("unsatisfied", reopened=True) == "rate_final"
    assert workflow.rating_action("basically_satisfied", reopened=False) == "rate_satisfied"


def test_working_days_skip_weekends():
    friday_noon = local(2026, 11, 27, 12)
    # Three working days from a Friday: Monday, Tuesday, Wednesday; due at Wednesday's end.
    assert Calendar().due(friday_noon, 3) == local(2026, 12, 3).astimezone(dt.timezone.utc)


def test_holidays_and_adjusted_working_weekends():
    # National Day week: Oct 1-7 off, Sunday Sep 27 and Saturday Oct 10 worked instead (调休).
    holidays = frozenset(dt.date(2026, 10, d) for d in range(1, 8))
    workdays = frozenset({dt.date(2026, 9, 27), dt.date(2026, 10, 10)})
    calendar = Calendar(holidays, workdays)
    saturday = local(2026, 9, 26, 9)
    assert calendar.due(saturday, 1) == local(2026, 9, 28).astimezone(dt.timezone.utc)
    before_holiday = local(2026, 9, 30, 17)
    # After Wednesday Sep 30: Oct 1-7 are off, Oct 8 and 9 are the two working days.
    assert calendar.due(before_holiday, 2) == local(2026, 10, 10).astimezone(dt.timezone.utc)
    assert calendar.is_working_day(dt.date(2026, 10, 10))
    assert not calendar.is_working_day(dt.date(2026, 10, 5))
    assert calendar.due(before_holiday, 1) == local(2026, 10, 9).astimezone(dt.timezone.utc)


def test_overdue_only_while_unanswered():
    at = dt.datetime(2026, 11, 28, tzinfo=dt.timezone.utc)
    past = at - dt.timedelta(hours=1)
    post = Post(id="0" * 24, board="mayor", title="t", body="b", html="", author_id=None,
                status=Status.ROUTED, created_at=past, updated_at=past, due_at=past)
    assert workflow.is_overdue(post, at)
    post.status = Status.REPLIED
    assert not workflow.is_overdue(post, at)
    post.status, post.accept_due_at = Status.SUBMITTED, past
    assert workflow.is_overdue(post, at)
