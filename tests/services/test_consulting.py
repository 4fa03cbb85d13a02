"""The consultation boards without HTTP (forum/services/consulting.py and the reply rules)."""

from __future__ import annotations

import pytest

from forum.errors import Conflict, Forbidden, Invalid, NotFound, NotLoggedIn
from forum.model import ReplyKind, Role, Status
from forum.services import consulting, posting
from tests.support.people import person

QUESTION = {
    "title": "公司不签劳动合同怎么办",
    "body": "入职三个月，电话13812345678",
    "category": "劳动",
}


async def lawyer_with(store, name="lawyer1", specialties=("劳动", "合同")):
    user = await person(store, name, Role.LAWYER)
    await store.update_user(user.id, {"specialties": list(specialties)})
    user.specialties = list(specialties)
    return user


async def asked(store, asker, board="lawyer", **extra):
    return (await posting.create_post(store, asker, board, {**QUESTION, **extra})).post


@pytest.mark.gen_test
async def test_answer_follow_up_accept_lifecycle(store):
    asker, lawyer = await person(store, "asker"), await lawyer_with(store)
    post = await asked(store, asker)
    assert post.status is Status.OPEN
    answer = await posting.add_reply(store, lawyer, post.id, "应签书面合同，可主张二倍工资。")
    assert answer.reply.kind is ReplyKind.ANSWER and answer.author.badge == "认证律师"
    assert answer.author.specialties == ["劳动", "合同"]
    assert (await store.get_post(post.id)).status is Status.ANSWERED
    follow = await posting.add_reply(store, asker, post.id, "如何申请仲裁？")
    assert follow.reply.kind is ReplyKind.FOLLOW_UP
    resolved = await consulting.accept_answer(store, asker, post.id, answer.reply.id)
    assert resolved.post.status is Status.RESOLVED
    assert resolved.post.accepted_reply_id == answer.reply.id
    thread = await posting.get_thread(store, None, post.id)
    assert thread.replies[0].reply.id == answer.reply.id and thread.replies[0].reply.accepted
    events = [(e.action, e.from_status, e.to_status) for e in await store.list_events(post.id)]
    assert events == [
        ("create", None, "open"),
        ("answer", "open", "answered"),
        ("accept_answer", "answered", "resolved"),
    ]


@pytest.mark.gen_test
async def test_who_may_answer_where(store):
    asker, citizen = await person(store, "asker"), await person(store, "citizen")
    lawyer = await lawyer_with(store)
    expert = await person(store, "expert", Role.EXPERT)
    moderator = await person(store, "mod", Role.MODERATOR)
    legal, farming = await asked(store, asker), await asked(store, asker, "agri", category="种植")
    for outsider in (citizen, moderator, expert):
        with pytest.raises(Forbidden):
            await posting.add_reply(store, outsider, legal.id, "我来答")
    for outsider in (citizen, lawyer):
        with pytest.raises(Forbidden):
            await posting.add_reply(store, outsider, farming.id, "我来答")
    reply = await posting.add_reply(store, expert, farming.id, "注意排水。")
    assert reply.reply.kind is ReplyKind.ANSWER and reply.author.badge == "农业专家"


@pytest.mark.gen_test
async def test_accept_refusals(store):
    asker, other = await person(store, "asker"), await person(store, "other")
    lawyer = await lawyer_with(store)
    post = await asked(store, asker)
    answer = await posting.add_reply(store, lawyer, post.id, "解答")
    follow = await posting.add_reply(store, asker, post.id, "追问")
    with pytest.raises(NotLoggedIn):
        await consulting.accept_answer(store, None, post.id, answer.reply.id)
    for outsider in (other, lawyer):
        with pytest.raises(Forbidden):
            await consulting.accept_answer(store, outsider, post.id, answer.reply.id)
    for bad in (follow.reply.id, "0123456789abcdef01234567", None, {"$ne": None}, 5):
        with pytest.raises(Invalid) as caught:
            await consulting.accept_answer(store, asker, post.id, bad)
        assert "reply_id" in caught.value.fields
    await consulting.accept_answer(store, asker, post.id, answer.reply.id)
    with pytest.raises(Conflict):
        await consulting.accept_answer(store, asker, post.id, answer.reply.id)
    with pytest.raises(Conflict):
        await posting.add_reply(store, lawyer, post.id, "结案后再答")


@pytest.mark.gen_test
async def test_cannot_accept_on_a_hidden_question_or_in_the_forum(store):
    asker, lawyer = await person(store, "asker"), await lawyer_with(store)
    post = await asked(store, asker)
    answer = await posting.add_reply(store, lawyer, post.id, "解答")
    await store.update_post(post.id, {"status": Status.HIDDEN})
    with pytest.raises(Conflict):
        await consulting.accept_answer(store, asker, post.id, answer.reply.id)
    chat = (await posting.create_post(store, asker, "forum", {"title": "t", "body": "b"})).post
    comment = await posting.add_reply(store, lawyer, chat.id, "评论")
    with pytest.raises(Forbidden):
        await consulting.accept_answer(store, asker, chat.id, comment.reply.id)


@pytest.mark.gen_test
async def test_anonymous_asker_is_wangyou_to_others_everywhere(store):
    asker, lawyer = await person(store, "asker"), await lawyer_with(store)
    moderator = await person(store, "mod", Role.MODERATOR)
    post = await asked(store, asker, anonymous=True)
    await posting.add_reply(store, lawyer, post.id, "解答")
    await posting.add_reply(store, asker, post.id, "追问")
    public = await posting.get_thread(store, None, post.id)
    assert public.post.author is None
    assert [r.author.username if r.author else None for r in public.replies] == ["lawyer1", None]
    listed = (await posting.list_posts(store, lawyer, "lawyer")).items
    assert listed[0].author is None
    assert (await posting.get_thread(store, moderator, post.id)).post.author.username == "asker"
    assert (await posting.get_thread(store, asker, post.id)).post.author.username == "asker"


@pytest.mark.gen_test
async def test_personal_data_is_masked_except_for_asker_answerers_and_moderators(store):
    asker, lawyer = await person(store, "asker"), await lawyer_with(store)
    other_lawyer = await lawyer_with(store, "lawyer2")
    moderator = await person(store, "mod", Role.MODERATOR)
    post = await asked(store, asker)
    await posting.add_reply(store, lawyer, post.id, "请拨打我方电话15912345678")
    for viewer in (None, other_lawyer):
        thread = await posting.get_thread(store, viewer, post.id)
        assert "138****5678" in thread.post.post.body and "13812345678" not in thread.post.post.html
        assert "159****5678" in thread.replies[0].reply.body
    for viewer in (asker, lawyer, moderator):
        thread = await posting.get_thread(store, viewer, post.id)
        assert "13812345678" in thread.post.post.body
    listed = (await posting.list_posts(store, None, "lawyer")).items
    assert "13812345678" not in listed[0].post.body


@pytest.mark.gen_test
async def test_workspace_lists_open_questions_in_specialties_oldest_first(store):
    asker, lawyer = await person(store, "asker"), await lawyer_with(store, specialties=("劳动",))
    first = await asked(store, asker, title="一")
    second = await asked(store, asker, title="二")
    await asked(store, asker, title="房", category="房产")
    answered = await asked(store, asker, title="答过")
    await posting.add_reply(store, lawyer, answered.id, "解答")
    space = await consulting.workspace(store, lawyer)
    assert space.board.slug == "lawyer" and space.mine_only
    assert [v.post.id for v in space.page.items] == [first.id, second.id]
    assert space.counts == {"劳动": 2, "房产": 1}
    everything = await consulting.workspace(store, lawyer, everything=True)
    assert len(everything.page.items) == 3
    housing = await consulting.workspace(store, lawyer, category="房产")
    assert [v.post.title for v in housing.page.items] == ["房"]
    paged = await consulting.workspace(store, lawyer, limit="1")
    more = await consulting.workspace(store, lawyer, limit="1", cursor=paged.page.next_cursor)
    assert [v.post.id for v in paged.page.items + more.page.items] == [first.id, second.id]


@pytest.mark.gen_test
async def test_workspace_is_for_answerers_only(store):
    citizen, lawyer = await person(store, "citizen"), await lawyer_with(store)
    with pytest.raises(NotLoggedIn):
        await consulting.workspace(store, None)
    with pytest.raises(Forbidden):
        await consulting.workspace(store, citizen)
    for args, field in (
        ({"board": "agri"}, "board"),
        ({"board": {"$ne": 1}}, "board"),
        ({"category": "种植"}, "category"),
        ({"limit": "500"}, "limit"),
    ):
        with pytest.raises(Invalid) as caught:
            await consulting.workspace(store, lawyer, **args)
        assert field in caught.value.fields


@pytest.mark.gen_test
async def test_profile_counts_answers_and_acceptances(store):
    asker, lawyer = await person(store, "asker"), await lawyer_with(store)
    posts = [await asked(store, asker, title=f"问{i}") for i in range(3)]
    answers = [await posting.add_reply(store, lawyer, p.id, "解答") for p in posts]
    await consulting.accept_answer(store, asker, posts[0].id, answers[0].reply.id)
    await store.update_post(posts[2].id, {"status": Status.HIDDEN})
    profile = await consulting.profile(store, None, "LAWYER1")
    assert (profile.stats.total, profile.stats.accepted) == (3, 1)
    assert profile.stats.by_board == {"lawyer": 3} and profile.badges == ["认证律师"]
    assert [r.post_title for r in profile.recent] == ["问1", "问0"]  # the hidden one is left out
    assert profile.recent[1].accepted
    with pytest.raises(NotFound):
        await consulting.profile(store, None, "nobody")


@pytest.mark.gen_test
async def test_people_who_never_answered_have_no_public_profile(store):
    await person(store, "citizen")
    with pytest.raises(NotFound):
        await consulting.profile(store, None, "citizen")
    await lawyer_with(store)
    assert (await consulting.profile(store, None, "lawyer1")).stats.total == 0
