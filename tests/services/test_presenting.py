"""Views of posts kept per standing (forum/services/presenting.py): every viewer who stands
alike to a post shares one view of it, and the view kept is always the one presenting would
make afresh for that viewer."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from forum import boards
from forum.clock import ManualClock, using
from forum.model import BoardSettings, Post, Reply, ReplyKind, Role, Status, User, new_id
from forum.services import presenting

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
PERSONAL = "电话 13912345678，身份证 530402199001011234，邮箱 li@example.com"


class Users:
    """The one read present_posts makes of the store."""

    def __init__(self, *users: User) -> None:
        self.users = {user.id: user for user in users}

    async def get_users(self, ids):
        return {i: self.users[i] for i in ids if i in self.users}

    async def list_departments(self):
        return []


def user(name: str, *roles: Role, department: str | None = None, **extra) -> User:
    return User(
        id=f"u-{name}",
        username=name,
        display_name=name.title(),
        password_hash="-",
        roles=list(roles or [Role.CITIZEN]),
        department=department,
        **extra,
    )


WRITER = user("writer")
OFFICER = user("officer", Role.STAFF, department="police")
VIEWERS = [
    None,
    user("alice"),
    user("bob"),
    WRITER,
    user("mod", Role.MODERATOR),
    user("admin", Role.ADMIN),
    user("lead", Role.STAFF, department="police"),
    user("helper", Role.STAFF, department="tax-bureau"),
    user("other", Role.STAFF, department="water"),
    user("lawyer", Role.LAWYER),
    user("expert", Role.EXPERT),
    user("banned", disabled=True),
    dataclasses.replace(WRITER, username="writer-disabled", disabled=True),
]


def post(board: str, n: int, **extra) -> Post:
    policy = boards.POLICIES[board]
    case = policy.kind.value == "case"
    fields = {
        "id": f"p-{board}-{n}",
        "board": board,
        "title": f"问题 {n}：{PERSONAL}",
        "body": PERSONAL,
        "html": f"<p>{PERSONAL}</p>",
        "author_id": WRITER.id,
        "status": Status.ROUTED if case else Status.PUBLISHED,
        "created_at": START - dt.timedelta(minutes=10),
        "updated_at": START - dt.timedelta(minutes=10),
        "anonymous": n % 2 == 1,
    }
    if case:
        fields.update(
            public=True,
            department="police",
            helpers=["tax-bureau"],
            officer_id=OFFICER.id,
            real_name="李四",
            due_at=START + dt.timedelta(hours=1),
        )
    return Post(**{**fields, **extra})


def every_post() -> list[Post]:
    return [post(board, n) for board in boards.POLICIES for n in range(2)]


@pytest.mark.gen_test
async def test_a_kept_view_is_the_view_presenting_makes_afresh_for_every_viewer_and_post():
    clock = ManualClock(START)
    store = Users(WRITER, OFFICER)
    posts = every_post()
    with using(clock):
        for moment in range(4):
            for viewer in VIEWERS:
                kept = await presenting.present_posts(store, viewer, posts)
                fresh = [
                    presenting.present_post(
                        p, viewer, WRITER, set(), officer=OFFICER if p.officer_id else None
                    )
                    for p in posts
                ]
                assert kept == fresh, (viewer and viewer.username, moment)
            # past the edit window (30 minutes), then past the cases' due time (an hour)
            clock.advance(minutes=25)


@pytest.mark.gen_test
async def test_readers_who_stand_alike_share_one_view_and_the_others_get_their_own():
    store = Users(WRITER, OFFICER)
    posts = [post("forum", 0), post("mayor", 0)]
    alice, bob, moderator = VIEWERS[1], VIEWERS[2], VIEWERS[4]
    with using(ManualClock(START)):
        for_alice = await presenting.present_posts(store, alice, posts)
        for_bob = await presenting.present_posts(store, bob, posts)
        for_writer = await presenting.present_posts(store, WRITER, posts)
        for_moderator = await presenting.present_posts(store, moderator, posts)
    assert all(a is b for a, b in zip(for_alice, for_bob))
    assert "13912345678" not in for_alice[0].post.body
    assert for_alice[1].post.real_name is None and for_alice[1].officer is None
    for own, alices in zip(for_writer, for_alice):
        assert own is not alices and "13912345678" in own.post.body
    assert for_writer[0].may_edit and not for_alice[0].may_edit
    assert for_writer[1].post.real_name == "李四" and for_writer[1].officer is None
    assert for_moderator[1].officer is not None and for_moderator[1].post.real_name == "李四"
    assert for_moderator[0].may_moderate and not any(v.may_moderate for v in for_bob)


@pytest.mark.gen_test
async def test_a_view_is_made_again_for_another_author_record_or_another_moment():
    posts = [post("mayor", 0, anonymous=False)]
    alice = VIEWERS[1]
    clock = ManualClock(START)
    with using(clock):
        first = await presenting.present_posts(Users(WRITER, OFFICER), alice, posts)
        renamed = dataclasses.replace(WRITER, display_name="李老师")
        second = await presenting.present_posts(Users(renamed, OFFICER), alice, posts)
        assert (
            second[0].author.display_name == "李老师" and first[0].author.display_name == "Writer"
        )
        again = await presenting.present_posts(Users(renamed, OFFICER), alice, posts)
        assert again[0] is second[0] and not again[0].overdue
        clock.advance(hours=2)
        late = await presenting.present_posts(Users(renamed, OFFICER), alice, posts)
    assert late[0].overdue and late[0] is not again[0]


@pytest.mark.gen_test
async def test_a_list_kept_for_readers_alike_is_the_list_made_afresh_at_any_moment(monkeypatch):
    """present_posts keeps a list's views for the next reader of the same kind who wrote none
    of it: what it gives is what presenting makes afresh, as the clock crosses due times
    forwards and back, for each kind of reader in turn."""
    store = Users(WRITER, OFFICER)
    posts = [
        post("mayor", 0, due_at=START + dt.timedelta(hours=1)),
        post("forum", 0),
        post("tax", 1, status=Status.SUBMITTED, accept_due_at=START + dt.timedelta(hours=2)),
        post("forum", 1, author_id=VIEWERS[1].id),  # alice's
    ]
    clock = ManualClock(START)
    with using(clock):
        for minutes in (0, 61, 30, 121, 59, 200, 0):
            clock.set(START + dt.timedelta(minutes=minutes))
            for viewer in VIEWERS:
                kept = await presenting.present_posts(store, viewer, posts)
                fresh = [
                    presenting.present_post(
                        p,
                        viewer,
                        store.users.get(p.author_id),
                        set(),
                        officer=OFFICER if p.officer_id else None,
                    )
                    for p in posts
                ]
                assert kept == fresh, (viewer and viewer.username, minutes)
    assert [v.overdue for v in kept] == [False, False, False, False]


@pytest.mark.gen_test
async def test_a_kept_list_is_given_without_a_standing_made_only_to_readers_who_wrote_none_of_it(
    monkeypatch,
):
    alice, bob, carol = VIEWERS[1], VIEWERS[2], user("carol")
    store = Users(WRITER, OFFICER, bob)
    posts = [post("forum", 0), post("forum", 1, author_id=bob.id), post("mayor", 0)]
    made = []
    standing = presenting.standing
    monkeypatch.setattr(presenting, "standing", lambda *a, **k: made.append(a) or standing(*a, **k))
    with using(ManualClock(START)):
        for_alice = await presenting.present_posts(store, alice, posts)
        assert len(made) == 3
        for_carol = await presenting.present_posts(store, carol, posts)
        assert len(made) == 3 and for_carol == for_alice  # kept: no standing made
        for_bob = await presenting.present_posts(store, bob, posts)
        assert len(made) == 6 and for_bob[1].may_edit and not for_alice[1].may_edit
        # bob's own list was not kept for the others
        assert await presenting.present_posts(store, carol, posts) == for_alice
        assert len(made) == 6
        # another kind of reader (a moderator) gets a list of their own
        moderator = await presenting.present_posts(store, VIEWERS[4], posts)
        assert len(made) == 9 and moderator != for_alice and moderator[2].officer is not None
        # a list of the same posts in another order, or other records, is made again
        await presenting.present_posts(store, carol, posts[::-1])
        assert len(made) == 12
        await presenting.present_posts(store, carol, [dataclasses.replace(p) for p in posts])
        assert len(made) == 15


def test_standing_names_every_relation_a_viewer_has_to_a_case():
    case = post("mayor", 0)
    stands = {
        viewer.username if viewer else "visitor": presenting.standing(case, viewer)
        for viewer in VIEWERS
    }
    assert stands["visitor"] == presenting.NOBODY
    assert stands["alice"] == stands["bob"] != stands["writer"]
    assert stands["lead"].routed_staff and stands["lead"].insider
    assert stands["helper"].helper_staff and not stands["helper"].routed_staff
    assert not stands["other"].insider and not stands["other"].unmasked
    assert stands["mod"].moderator and stands["admin"] == stands["mod"]
    answered = presenting.standing(case, VIEWERS[1], {VIEWERS[1].id})
    assert answered.unmasked and not answered.insider
    consultation = post("lawyer", 0)
    assert presenting.standing(consultation, VIEWERS[9]).answerer
    assert not presenting.standing(consultation, VIEWERS[10]).answerer
    assert stands["writer-disabled"].author and stands["writer-disabled"] != stands["writer"]


def replies_to(p: Post) -> list[Reply]:
    kinds = [ReplyKind.COMMENT, ReplyKind.ANSWER, ReplyKind.FOLLOW_UP, ReplyKind.OFFICIAL]
    return [
        Reply(
            f"r-{p.id}-{n}",
            p.id,
            author.id,
            PERSONAL,
            f"<p>{PERSONAL}</p>",
            kinds[n % len(kinds)],
            START,
            board=p.board,
        )
        for n, author in enumerate([WRITER, VIEWERS[9], OFFICER, VIEWERS[1]])
    ]


@pytest.mark.gen_test
async def test_a_kept_reply_view_is_the_one_presenting_makes_afresh_for_every_viewer_and_post():
    store = Users(WRITER, OFFICER, VIEWERS[1], VIEWERS[9])
    threads = [(p, replies_to(p)) for p in every_post()]
    with using(ManualClock(START)):
        for viewer in VIEWERS:
            for p, replies in threads:
                board = presenting.BoardView(
                    BoardSettings(p.board, p.board), boards.POLICIES[p.board], False
                )
                kept = await presenting.present_thread(store, viewer, p, board, replies, [], [])
                again = await presenting.present_thread(store, viewer, p, board, replies, [], [])
                fresh = await presenting.present_thread(
                    store, viewer, p, board, [dataclasses.replace(r) for r in replies], [], []
                )
                assert kept.replies == fresh.replies, (viewer and viewer.username, p.id)
                assert all(a is b for a, b in zip(kept.replies, again.replies))


@pytest.mark.gen_test
async def test_a_threads_kept_replies_follow_a_new_reply_and_a_renamed_writer():
    p = post("forum", 0, anonymous=False)
    replies = replies_to(p)
    board = presenting.BoardView(BoardSettings(p.board, p.board), boards.POLICIES[p.board], False)
    alice = VIEWERS[1]
    with using(ManualClock(START)):
        store = Users(WRITER, OFFICER, alice, VIEWERS[9])
        first = await presenting.present_thread(store, alice, p, board, replies, [], [])
        more = replies + [dataclasses.replace(replies[0], id="r-new", body="新的回复")]
        longer = await presenting.present_thread(store, alice, p, board, more, [], [])
        fewer = await presenting.present_thread(store, alice, p, board, replies[:2], [], [])
        renamed = Users(
            dataclasses.replace(WRITER, display_name="李老师"), OFFICER, alice, VIEWERS[9]
        )
        again = await presenting.present_thread(renamed, alice, p, board, replies, [], [])
    assert len(first.replies) == 4 and len(longer.replies) == 5 and len(fewer.replies) == 2
    assert longer.replies[4].reply.body == "新的回复"
    assert first.replies[0].author.display_name == "Writer"
    assert again.replies[0].author.display_name == "李老师"
    assert all(a is b for a, b in zip(first.replies[1:], again.replies[1:]))


@pytest.mark.gen_test
async def test_a_reply_just_written_is_presented_as_its_thread_would_show_it():
    with using(ManualClock(START)):
        for writer in [v for v in VIEWERS if v is not None]:
            store = Users(WRITER, OFFICER, writer)
            for p in every_post():
                for kind in ReplyKind:
                    reply = Reply(new_id(), p.id, writer.id, PERSONAL, PERSONAL, kind, START)
                    board = presenting.BoardView(
                        BoardSettings(p.board, p.board), boards.POLICIES[p.board], False
                    )
                    thread = await presenting.present_thread(
                        store, writer, p, board, [dataclasses.replace(reply)], [], []
                    )
                    if kind is ReplyKind.INTERNAL and not thread.replies:
                        continue  # a note is not shown outside the offices
                    assert presenting.present_reply(p, writer, reply) == thread.replies[0]
