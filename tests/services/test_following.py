"""Following (关注) without HTTP (forum/services/following.py): what may be followed, and who is
told of what, on both stores."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from forum.errors import Invalid, NotFound, NotLoggedIn
from forum.model import Role
from forum.services import posting  # first: cases, imported before it, meets stats half made
from forum.services import accounts, cases, consulting, following, moderation, notify
from tests.support.apps import TEST_PASSWORDS
from tests.support.outbox import take_all_mail
from tests.support.people import person
from tests.support.web import PASSWORD

LETTER = {
    "title": "小区路灯不亮",
    "body": "已经一个月了",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13800000000",
    "category": "城乡建设",
}


@pytest.fixture
def both(seeded_store):
    """A seeded store of each kind."""
    return seeded_store


async def notices(store, user) -> list[tuple[str, str | None]]:
    """(kind, post id) of the user's notifications, oldest first."""
    return [(n.kind, n.post_id) for n in reversed((await notify.inbox(store, user)).items)]


async def public_letter(store, writer, mod, department="housing"):
    """A public mayor letter, accepted and routed to `department`."""
    letter = await posting.create_post(store, writer, "mayor", {**LETTER, "public": True})
    await moderation.moderate(store, mod, letter.post.id, "accept")
    await cases.route_case(store, mod, letter.post.id, department)
    return letter.post


# following -----------------------------------------------------------------------------------
@pytest.mark.gen_test(timeout=30)
async def test_follow_each_kind_again_list_and_unfollow(both):
    alice, bob = await person(both, "alice"), await person(both, "bob")
    topic = await posting.create_post(both, bob, "forum", {"title": "公交线路", "body": "x"})
    made = {}
    for target, name, path in (
        (f"post:{topic.post.id}", "公交线路", f"/posts/{topic.post.id}"),
        ("board:lawyer", "在线律师咨询", "/boards/lawyer"),
        ("department:housing", "住房和城乡建设局", "/departments/housing"),
    ):
        view = await following.follow(both, alice, target)
        assert (view.subscription.target, view.name, view.path, view.created) == (
            target,
            name,
            path,
            True,
        )
        again = await following.follow(both, alice, target)
        assert again.subscription == view.subscription and not again.created
        made[target] = view.subscription
    # A post id is kept in lower case, however it was written.
    upper = await following.follow(both, alice, f"post:{topic.post.id.upper()}")
    assert upper.subscription == made[f"post:{topic.post.id}"]
    listed = await following.list_following(both, alice)
    assert [v.subscription for v in listed.items] == list(reversed(made.values()))
    assert (await following.list_following(both, bob)).items == []
    first = made["board:lawyer"]
    with pytest.raises(NotFound):
        await following.unfollow(both, bob, first.id)  # not his
    for wrong in (None, 12, "nope", "0" * 24):
        with pytest.raises(NotFound):
            await following.unfollow(both, alice, wrong)
    await following.unfollow(both, alice, first.id)
    with pytest.raises(NotFound):
        await following.unfollow(both, alice, first.id)
    assert await following.following(both, alice, "board:lawyer") is None
    assert await following.following(both, None, "board:lawyer") is None
    page = await following.list_following(both, alice, limit=1)
    assert len(page.items) == 1 and page.next_cursor
    rest = await following.list_following(both, alice, cursor=page.next_cursor)
    assert len(rest.items) == 1 and rest.next_cursor is None


@pytest.mark.gen_test(timeout=30)
async def test_simultaneous_follows_make_one_subscription(both):
    alice = await person(both, "alice")
    views = await asyncio.gather(*(following.follow(both, alice, "board:forum") for _ in range(6)))
    assert len({v.subscription.id for v in views}) == 1
    assert sum(v.created for v in views) == 1
    assert len((await following.list_following(both, alice)).items) == 1


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        42,
        ["board:forum"],
        {"board": "forum"},
        True,
        "board",
        "board:",
        "post:",
        "forum",
        "user:alice",
        "post:12345",
        "post:" + "g" * 24,
        "post:" + "a" * 25,
        "board:FORUM",
        "board:../admin",
        "board:<script>alert(1)</script>",
        "department:tax; DROP TABLE users",
        "board:forum\n",
        " board:forum",
        "board:" + "a" * 33,
        "x" * 10_000,
        "board:论坛",
        "post:aaaaaaaaaaaaaaaaaaaaaaa\u0000",
    ],
)
@pytest.mark.gen_test
async def test_a_malformed_target_is_invalid_naming_target(store, target):
    alice = await person(store, "alice")
    with pytest.raises(Invalid) as refused:
        await following.follow(store, alice, target)
    assert list(refused.value.fields) == ["target"]


@pytest.mark.gen_test(timeout=30)
async def test_what_one_may_not_see_cannot_be_followed(store):
    writer, other = await person(store, "writer"), await person(store, "other")
    mod = await person(store, "mod", Role.MODERATOR)
    private = await posting.create_post(store, writer, "mayor", LETTER)
    await moderation.moderate(store, mod, private.post.id, "accept")
    hidden = await posting.create_post(store, writer, "forum", {"title": "帖", "body": "x"})
    await moderation.moderate(store, mod, hidden.post.id, "hide", "广告")
    report = await posting.create_post(
        store, None, "tax", {"title": "举报", "body": "x"}, address="10.0.0.1"
    )
    submitted = await posting.create_post(store, writer, "mayor", {**LETTER, "public": True})
    for target in (
        f"post:{private.post.id}",
        f"post:{hidden.post.id}",
        f"post:{report.post.id}",
        f"post:{submitted.post.id}",
        "post:" + "0" * 24,
        "board:tax",
        "board:nope",
        "department:nope",
    ):
        with pytest.raises(NotFound):
            await following.follow(store, other, target)
    # Those who may see them may follow them: the writer her own letter, moderators the
    # confidential board.
    await following.follow(store, writer, f"post:{private.post.id}")
    await following.follow(store, mod, "board:tax")
    await following.follow(store, mod, f"post:{report.post.id}")
    with pytest.raises(NotLoggedIn):
        await following.follow(store, None, "board:forum")
    with pytest.raises(NotLoggedIn):
        await following.list_following(store, None)
    with pytest.raises(NotLoggedIn):
        await following.unfollow(store, None, "0" * 24)
    assert (await following.list_following(store, other)).items == []


@pytest.mark.gen_test(timeout=30)
async def test_a_followed_post_hidden_since_is_listed_without_its_title(store):
    writer, reader = await person(store, "writer"), await person(store, "reader")
    mod = await person(store, "mod", Role.MODERATOR)
    topic = await posting.create_post(store, writer, "forum", {"title": "秘密标题", "body": "x"})
    await following.follow(store, reader, f"post:{topic.post.id}")
    await moderation.moderate(store, mod, topic.post.id, "hide", "广告")
    (view,) = (await following.list_following(store, reader)).items
    assert view.kind == "post" and view.name is None and view.path is None


# telling followers ---------------------------------------------------------------------------
@pytest.mark.gen_test(timeout=30)
async def test_post_followers_hear_of_each_reply_once_and_the_actor_not_at_all(both):
    asker, lawyer = await person(both, "asker"), await person(both, "lawyer1", Role.LAWYER)
    reader, both_ways = await person(both, "reader"), await person(both, "both_ways")
    question = await posting.create_post(both, asker, "lawyer", {"title": "问", "body": "x"})
    post_id = question.post.id
    for user in (asker, lawyer, reader, both_ways):
        await following.follow(both, user, f"post:{post_id}")
    await following.follow(both, both_ways, "board:lawyer")
    answer = await posting.add_reply(both, lawyer, post_id, "答")
    assert await notices(both, reader) == [("follow_answer", post_id)]
    assert await notices(both, both_ways) == [("follow_answer", post_id)]
    assert await notices(both, asker) == [("answer", post_id)]  # as the writer, once
    assert await notices(both, lawyer) == []  # the actor
    await posting.add_reply(both, asker, post_id, "追问")
    assert await notices(both, lawyer) == [("follow_reply", post_id)]
    assert await notices(both, asker) == [("answer", post_id)]
    await consulting.accept_answer(both, asker, post_id, answer.reply.id)
    assert await notices(both, reader) == [
        ("follow_answer", post_id),
        ("follow_reply", post_id),
        ("follow_status", post_id),
    ]
    assert await notices(both, asker) == [("answer", post_id)]


@pytest.mark.gen_test(timeout=30)
async def test_board_followers_hear_of_new_public_posts_and_of_held_ones_once_approved(both):
    writer = await person(both, "writer", age=dt.timedelta(0))  # new: links are held
    fan = await person(both, "fan")
    mod = await person(both, "mod", Role.MODERATOR)
    await following.follow(both, fan, "board:forum")
    await following.follow(both, writer, "board:forum")
    await following.follow(both, mod, "board:tax")
    await following.follow(both, fan, "board:mayor")
    topic = await posting.create_post(both, writer, "forum", {"title": "新帖", "body": "x"})
    assert await notices(both, fan) == [("follow_post", topic.post.id)]
    assert await notices(both, writer) == []  # their own post
    # Held for review (links from a new account): told only once a moderator approves it.
    links = " ".join(f"[{n}](https://example.org/{n})" for n in range(5))
    held = await posting.create_post(both, writer, "forum", {"title": "链接", "body": links})
    assert held.post.status.value == "pending"
    assert len(await notices(both, fan)) == 1
    await moderation.moderate(both, mod, held.post.id, "accept")
    assert await notices(both, fan) == [
        ("follow_post", topic.post.id),
        ("follow_post", held.post.id),
    ]
    # A confidential report is never public: its board's followers hear nothing of it.
    await posting.create_post(both, None, "tax", {"title": "举报", "body": "x"}, address="10.0.0.1")
    assert [k for k, _ in await notices(both, mod)] == []
    # A letter kept private never reaches the board's followers; a public one, once accepted.
    private = await posting.create_post(both, writer, "mayor", LETTER)
    await moderation.moderate(both, mod, private.post.id, "accept")
    public = await posting.create_post(both, writer, "mayor", {**LETTER, "public": True})
    await moderation.moderate(both, mod, public.post.id, "accept")
    assert (await notices(both, fan))[2:] == [("follow_post", public.post.id)]


@pytest.mark.gen_test(timeout=30)
async def test_department_followers_hear_of_its_official_replies_on_public_cases(both):
    writer, mod = await person(both, "writer"), await person(both, "mod", Role.MODERATOR)
    staff = await person(both, "clerk", Role.STAFF, department="housing")
    fan, post_fan = await person(both, "fan"), await person(both, "post_fan")
    await following.follow(both, fan, "department:housing")
    await following.follow(both, post_fan, "department:housing")
    await following.follow(both, staff, "department:housing")
    letter = await public_letter(both, writer, mod)
    await following.follow(both, post_fan, f"post:{letter.id}")
    private = await posting.create_post(both, writer, "mayor", LETTER)
    await moderation.moderate(both, mod, private.post.id, "accept")
    await cases.route_case(both, mod, private.post.id, "housing")
    await posting.add_reply(both, staff, letter.id, "已修复")
    await posting.add_reply(both, staff, private.post.id, "已处理")
    assert await notices(both, fan) == [("follow_department", letter.id)]
    # Following both the letter and the department: told once, as the letter's follower.
    assert [n for n in await notices(both, post_fan) if n[0] != "follow_status"] == [
        ("follow_official", letter.id)
    ]
    assert ("follow_department", letter.id) not in await notices(both, staff)  # the actor
    assert [k for k, _ in await notices(both, writer)].count("official") == 2


@pytest.mark.gen_test(timeout=30)
async def test_status_changes_reach_followers_once_and_never_those_who_cannot_see(both):
    writer, mod = await person(both, "writer"), await person(both, "mod", Role.MODERATOR)
    staff = await person(both, "clerk", Role.STAFF, department="housing")
    fan = await person(both, "fan")
    letter = await posting.create_post(both, writer, "mayor", {**LETTER, "public": True})
    await moderation.moderate(both, mod, letter.post.id, "accept")
    await following.follow(both, fan, f"post:{letter.post.id}")
    await following.follow(both, staff, f"post:{letter.post.id}")
    await following.follow(both, writer, f"post:{letter.post.id}")
    await cases.route_case(both, mod, letter.post.id, "housing")
    assert await notices(both, fan) == [("follow_status", letter.post.id)]
    assert await notices(both, staff) == [("routed", letter.post.id)]  # told once, as its staff
    assert await notices(both, writer) == [("status", letter.post.id)] * 2  # accept, route
    # A hidden post: its followers who may no longer see it hear nothing of it.
    topic = await posting.create_post(both, writer, "forum", {"title": "帖", "body": "x"})
    await following.follow(both, fan, f"post:{topic.post.id}")
    await moderation.moderate(both, mod, topic.post.id, "hide", "广告")
    assert len(await notices(both, fan)) == 1


@pytest.mark.gen_test(timeout=30)
async def test_followers_with_confirmed_addresses_get_mail(store):
    writer = await person(store, "writer")
    fan = await accounts.register(
        store, TEST_PASSWORDS, username="fan", password=PASSWORD, email="fan@example.org"
    )
    unconfirmed = await accounts.register(
        store, TEST_PASSWORDS, username="quiet", password=PASSWORD, email="quiet@example.org"
    )
    await store.update_user(fan.id, {"email_confirmed": True})
    fan = await store.get_user(fan.id)
    await take_all_mail(store)  # the confirmation mails
    await following.follow(store, fan, "board:forum")
    await following.follow(store, unconfirmed, "board:forum")
    await posting.create_post(store, writer, "forum", {"title": "新帖", "body": "x"})
    mails = await take_all_mail(store)
    assert [m.to for m in mails] == ["fan@example.org"]
    assert "您关注的栏目有新帖" in mails[0].subject


@pytest.mark.gen_test(timeout=30)
async def test_many_followers_are_told_page_by_page_each_once(both, monkeypatch):
    monkeypatch.setattr(following, "FANOUT_PAGE", 2)
    writer = await person(both, "writer")
    fans = [await person(both, f"fan{n}") for n in range(5)]
    topic = await posting.create_post(both, writer, "forum", {"title": "帖", "body": "x"})
    for fan in fans:
        await following.follow(both, fan, f"post:{topic.post.id}")
        await following.follow(both, fan, "board:forum")
    await posting.add_reply(both, fans[0], topic.post.id, "回复")
    for fan in fans[1:]:
        assert await notices(both, fan) == [("follow_reply", topic.post.id)]
    assert await notices(both, fans[0]) == []
    await posting.create_post(both, writer, "forum", {"title": "又一帖", "body": "x"})
    for fan in fans:
        assert [k for k, _ in await notices(both, fan)].count("follow_post") == 1


@pytest.mark.gen_test(timeout=30)
async def test_followers_notices_are_in_the_replys_unit_of_work(store, monkeypatch):
    """SQLite (the stand-in has no transactions): when telling the followers fails, the reply
    is not stored either, nor the writer's notice."""
    writer, fan, other = (
        await person(store, "writer"),
        await person(store, "fan"),
        await person(store, "other"),
    )
    topic = await posting.create_post(store, writer, "forum", {"title": "帖", "body": "x"})
    await following.follow(store, fan, f"post:{topic.post.id}")
    told = notify.tell

    async def failing(store_, recipients, kind, post, detail=""):
        if kind.startswith("follow_"):
            raise RuntimeError("the disk filled up")
        return await told(store_, recipients, kind, post, detail)

    monkeypatch.setattr(notify, "tell", failing)
    with pytest.raises(RuntimeError):
        await posting.add_reply(store, other, topic.post.id, "回复")
    assert await store.list_replies(topic.post.id) == []
    assert await notices(store, writer) == [] and await notices(store, fan) == []
