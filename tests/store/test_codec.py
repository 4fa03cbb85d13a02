"""Records to plain dicts and back (forum/store/codec.py), as both adapters decode their rows."""

from __future__ import annotations

import datetime as dt

import pytest

from forum.model import Post, Status, User
from forum.store.codec import from_plain, to_plain

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)


def a_post(**extra) -> Post:
    fields = {
        "id": "p1",
        "board": "mayor",
        "title": "路灯坏了",
        "body": "东风路",
        "html": "<p>东风路</p>",
        "author_id": "u1",
        "status": Status.ROUTED,
        "created_at": AT,
        "updated_at": AT,
        "anonymous": True,
        "department": "police",
        "helpers": ["tax-bureau", "water"],
        "due_at": AT + dt.timedelta(days=5),
    }
    return Post(**{**fields, **extra})


def test_a_record_comes_back_as_it_went():
    post = a_post()
    assert from_plain(Post, to_plain(post)) == post
    user = User(id="u1", username="li", display_name="Li", password_hash="-")
    assert from_plain(User, to_plain(user)) == user


def test_stored_forms_are_converted_and_the_rest_taken_as_they_are():
    plain = to_plain(a_post())
    # As SQLite gives them: times as text (with Z or an offset), flags as 0 and 1.
    stored = {
        **plain,
        "created_at": "2026-03-02T09:30:00Z",
        "updated_at": "2026-03-02T17:30:00+08:00",
        "due_at": "2026-03-07T09:30:00",
        "anonymous": 1,
        "pinned": 0,
        "status": "routed",
    }
    post = from_plain(Post, stored)
    assert post == a_post()
    assert post.anonymous is True and post.pinned is False and post.status is Status.ROUTED
    assert post.updated_at.tzinfo == dt.timezone.utc and post.due_at.tzinfo == dt.timezone.utc


def test_unknown_keys_are_ignored_missing_ones_default_and_none_stays_none():
    plain = to_plain(a_post())
    plain["a_later_field"] = "x"
    del plain["pinned"]
    plain["due_at"] = None
    post = from_plain(Post, plain)
    assert post.pinned is False and post.due_at is None and not hasattr(post, "a_later_field")


def test_a_bad_stored_value_is_refused_not_taken():
    with pytest.raises(ValueError):
        from_plain(Post, {**to_plain(a_post()), "status": "no-such-status"})
    with pytest.raises(ValueError):
        from_plain(Post, {**to_plain(a_post()), "created_at": "yesterday"})
