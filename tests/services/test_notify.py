"""Notifications and the e-mail outbox, without HTTP (forum/services/notify.py)."""

from __future__ import annotations

import pytest

from forum.errors import Invalid, NotLoggedIn
from forum.model import Role
from forum.services import accounts, cases, moderation, notify, posting
from tests.support.apps import TEST_PASSWORDS
from tests.support.outbox import take_all_mail
from tests.support.people import person
from tests.support.web import PASSWORD


async def kinds(store, user):
    return [n.kind for n in (await notify.inbox(store, user)).items]


@pytest.mark.gen_test
async def test_answers_replies_and_case_steps_reach_the_right_people(store):
    asker, lawyer = await person(store, "asker"), await person(store, "lawyer1", Role.LAWYER)
    mod = await person(store, "mod", Role.MODERATOR)
    staff = await person(store, "clerk", Role.STAFF, department="housing")
    question = await posting.create_post(store, asker, "lawyer", {"title": "问", "body": "x"})
    await posting.add_reply(store, lawyer, question.post.id, "答")
    await posting.add_reply(store, asker, question.post.id, "追问")  # tells nobody
    assert await kinds(store, asker) == ["answer"]
    assert await kinds(store, lawyer) == []

    letter = await posting.create_post(
        store,
        asker,
        "mayor",
        {
            "title": "信",
            "body": "x",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13800000000",
        },
    )
    await moderation.moderate(store, mod, letter.post.id, "accept")
    await cases.route_case(store, mod, letter.post.id, "housing")
    assert await kinds(store, staff) == ["routed"]
    await posting.add_reply(store, staff, letter.post.id, "答复")
    assert await kinds(store, asker) == ["official", "status", "status", "answer"]
    inbox = await notify.inbox(store, asker)
    assert inbox.unread == 4 and "信" in inbox.items[0].text
    assert await notify.mark_read(store, asker, [inbox.items[0].id]) == 1
    assert await notify.unread_count(store, asker) == 3
    assert await notify.mark_read(store, asker, None) == 3
    assert await notify.unread_count(store, asker) == 0


@pytest.mark.gen_test
async def test_overdue_cases_tell_the_moderators(store):
    import datetime as dt

    writer, mod = await person(store, "writer"), await person(store, "mod", Role.MODERATOR)
    letter = await posting.create_post(
        store,
        writer,
        "mayor",
        {
            "title": "信",
            "body": "x",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13800000000",
        },
    )
    await moderation.moderate(store, mod, letter.post.id, "accept")
    routed = await cases.route_case(store, mod, letter.post.id, "housing")
    await cases.note_overdue(store, routed.post.due_at + dt.timedelta(seconds=1))
    assert await kinds(store, mod) == ["overdue"]


@pytest.mark.gen_test
async def test_mail_goes_only_to_confirmed_addresses(store):
    user = await accounts.register(
        store, TEST_PASSWORDS, username="mailer", password=PASSWORD, email="mailer@example.org"
    )
    (confirmation,) = await take_all_mail(store)
    assert confirmation.to == "mailer@example.org" and "{site}/confirm-email/" in confirmation.body
    token = confirmation.body.split("/confirm-email/")[1].split()[0]
    await store.finish_mail(
        confirmation.id, sent_at=user.created_at, next_attempt_at=None, attempts=1, error=None
    )
    assert await accounts.user_for_token(store, token) is None  # a confirmation is no login
    other = await person(store, "other")
    question = await posting.create_post(store, user, "forum", {"title": "t", "body": "b"})
    await posting.add_reply(store, other, question.post.id, "r")
    assert await store.count_mail_waiting() == 0  # unconfirmed: site notice only
    assert (await notify.confirm_email(store, token)).email_confirmed
    with pytest.raises(Invalid):
        await notify.confirm_email(store, token)  # used once
    await posting.add_reply(store, other, question.post.id, "r2")
    assert await store.count_mail_waiting() == 1


@pytest.mark.gen_test
async def test_inbox_needs_a_login_and_good_ids(store):
    user = await person(store, "user")
    with pytest.raises(NotLoggedIn):
        await notify.inbox(store, None)
    for bad in ("all", [1], ["x"], [{"$ne": None}]):
        with pytest.raises(Invalid):
            await notify.mark_read(store, user, bad)
