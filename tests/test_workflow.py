"""Lifecycles and the working-day clock (forum/workflow.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from forum import workflow
from forum.errors import Conflict, Forbidden
from forum.model import Kind, Post, Status
from forum.workflow import CHINA_STANDARD_TIME, Calendar


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHINA_STANDARD_TIME)


P = workflow.Party
PARTY_OF = {
    "accept": P.MODERATOR,
    "reject": P.MODERATOR,
    "route": P.MODERATOR,
    "return": P.ROUTED_STAFF,
    "official": P.ROUTED_STAFF,
    "rate_satisfied": P.WRITER,
    "rate_unsatisfied": P.WRITER,
    "follow_up": P.WRITER,
    "expire": P.SYSTEM,
    "hide": P.MODERATOR,
}


@pytest.mark.parametrize(
    "action, start, end",
    [
        ("accept", Status.SUBMITTED, Status.ACCEPTED),
        ("reject", Status.SUBMITTED, Status.REJECTED),
        ("route", Status.ACCEPTED, Status.ROUTED),
        ("route", Status.ROUTED, Status.ROUTED),
        ("return", Status.ROUTED, Status.ACCEPTED),
        ("official", Status.ROUTED, Status.REPLIED),
        ("rate_satisfied", Status.REPLIED, Status.CLOSED),
        ("rate_unsatisfied", Status.REPLIED, Status.ACCEPTED),
        ("expire", Status.REPLIED, Status.UNRATED),
    ],
)
def test_case_steps(action, start, end):
    assert workflow.step(Kind.CASE, action, start, frozenset({PARTY_OF[action]})) is end
    assert action in workflow.offered(Kind.CASE, start, frozenset({PARTY_OF[action]}))


@pytest.mark.parametrize(
    "action, start",
    [
        ("accept", Status.ACCEPTED),
        ("reject", Status.ROUTED),
        ("route", Status.SUBMITTED),
        ("official", Status.ACCEPTED),
        ("rate_satisfied", Status.ROUTED),
        ("rate_satisfied", Status.CLOSED),
        ("return", Status.REPLIED),
        ("follow_up", Status.CLOSED),
        ("hide", Status.SUBMITTED),
    ],
)
def test_steps_the_lifecycle_does_not_allow_now_conflict(action, start):
    with pytest.raises(Conflict):
        workflow.step(Kind.CASE, action, start, frozenset(P))
    assert action not in workflow.offered(Kind.CASE, start, frozenset(P))


@pytest.mark.parametrize("kind, action", sorted(workflow.ACTORS, key=str))
def test_a_step_by_the_wrong_party_is_forbidden_whatever_the_status(kind, action):
    others = frozenset(P) - workflow.ACTORS[(kind, action)]
    for status in workflow.TRANSITIONS[(kind, action)]:
        with pytest.raises(Forbidden):
            workflow.step(kind, action, status, others)
        assert action not in workflow.offered(kind, status, others)


def test_every_action_has_its_parties_and_the_offer_is_what_step_allows():
    assert set(workflow.ACTORS) == set(workflow.TRANSITIONS)
    for kind in Kind:
        for status in Status:
            for party in P:
                parties = frozenset({party})
                allowed = set()
                for k, action in workflow.TRANSITIONS:
                    if k is not kind:
                        continue
                    try:
                        workflow.step(kind, action, status, parties)
                    except (Conflict, Forbidden):
                        continue
                    allowed.add(action)
                assert workflow.offered(kind, status, parties) == allowed


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
    post = Post(
        id="0" * 24,
        board="mayor",
        title="t",
        body="b",
        html="",
        author_id=None,
        status=Status.ROUTED,
        created_at=past,
        updated_at=past,
        due_at=past,
    )
    assert workflow.is_overdue(post, at)
    post.status = Status.REPLIED
    assert not workflow.is_overdue(post, at)
    post.status, post.accept_due_at = Status.SUBMITTED, past
    assert workflow.is_overdue(post, at)


def test_every_write_of_a_post_in_the_product_is_conditional_on_what_it_was_decided_from():
    """The grep of the done-when, as a test: each store call in forum/ that changes a post
    (update_post, add_reply, accept_reply) passes `expect`, so no status is written
    unconditionally; and no service compares and sets a status outside workflow.step."""
    import ast
    import pathlib

    root = pathlib.Path(workflow.__file__).parent
    calls = []
    for path in root.rglob("*.py"):
        if path.parent.name == "store":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("update_post", "add_reply", "accept_reply")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "store"
            ):
                calls.append(
                    (path.name, node.lineno, any(k.arg == "expect" for k in node.keywords))
                )
    assert len(calls) >= 6, calls
    assert [c for c in calls if not c[2]] == []
