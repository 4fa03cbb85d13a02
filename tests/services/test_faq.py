"""The knowledge base (常见问题) without HTTP (forum/services/faq.py): who makes entries from
what, what is checked and sanitised, the board lists, and FAQ entries first in search and
similar questions."""

from __future__ import annotations

import pytest

from forum import limits
from forum.errors import Forbidden, Invalid, NotFound, NotLoggedIn
from forum.model import Role, new_id
from forum.services import consulting, faq, moderation, posting, searching
from tests.support.casework import letter_until
from tests.support.people import person

QUESTION = {"title": "公司不签劳动合同怎么办", "body": "入职三个月了", "category": "劳动"}


async def cast(store):
    return {
        "asker": await person(store, "asker"),
        "citizen": await person(store, "citizen"),
        "lawyer": await person(store, "lawyer", Role.LAWYER),
        "expert": await person(store, "expert", Role.EXPERT),
        "mod": await person(store, "mod", Role.MODERATOR),
        "admin": await person(store, "root", Role.ADMIN),
        "clerk": await person(store, "clerk", Role.STAFF, department="housing"),
    }


async def answered_question(store, who, board="lawyer", *, accept=False, **extra):
    post = (await posting.create_post(store, who["asker"], board, {**QUESTION, **extra})).post
    answerer = who["lawyer"] if board == "lawyer" else who["expert"]
    answer = await posting.add_reply(store, answerer, post.id, "可主张二倍工资。")
    if accept:
        await consulting.accept_answer(store, who["asker"], post.id, answer.reply.id)
    return post


def entry(post_id, **extra):
    return {
        "post_id": post_id,
        "question": "不签劳动合同怎么办？",
        "answer": "可以主张**二倍工资**。",
        **extra,
    }


@pytest.mark.gen_test
async def test_a_lawyer_turns_an_answered_question_into_an_entry(store):
    who = await cast(store)
    post = await answered_question(store, who)
    made = await faq.add_entry(store, who["lawyer"], entry(post.id))
    assert (made.board, made.post_id, made.question) == ("lawyer", post.id, "不签劳动合同怎么办？")
    assert made.answer_html == "<p>可以主张<strong>二倍工资</strong>。</p>\n"
    page = await faq.list_entries(store, "lawyer")
    assert [e.id for e in page.items] == [made.id] and page.next_cursor is None
    assert [e.id for e in await faq.for_board(store, "lawyer")] == [made.id]
    audit = await store.list_audit(actor_id=who["lawyer"].id, target=None, after=None, limit=5)
    assert [a.action for a in audit] == ["add_faq"]


@pytest.mark.gen_test
async def test_who_makes_entries_on_which_board(store):
    who = await cast(store)
    lawyer_q = await answered_question(store, who, "lawyer", accept=True)  # resolved counts too
    agri_q = await answered_question(store, who, "agri", category="种植")
    assert (await faq.add_entry(store, who["expert"], entry(agri_q.id))).board == "agri"
    assert (await faq.add_entry(store, who["mod"], entry(lawyer_q.id))).board == "lawyer"
    assert (await faq.add_entry(store, who["admin"], entry(agri_q.id))).board == "agri"
    with pytest.raises(Forbidden):
        await faq.add_entry(store, who["lawyer"], entry(agri_q.id))  # not the lawyer's board
    with pytest.raises(Forbidden):
        await faq.add_entry(store, who["expert"], entry(lawyer_q.id))
    for name in ("citizen", "asker", "clerk"):
        with pytest.raises(Forbidden):
            await faq.add_entry(store, who[name], entry(lawyer_q.id))
    with pytest.raises(NotLoggedIn):
        await faq.add_entry(store, None, entry(lawyer_q.id))
    assert faq.may_add(who["lawyer"], await store.get_post(lawyer_q.id))
    assert not faq.may_add(who["lawyer"], await store.get_post(agri_q.id))
    assert not faq.may_add(who["citizen"], await store.get_post(lawyer_q.id))
    assert not faq.may_add(None, await store.get_post(lawyer_q.id))


@pytest.mark.gen_test
async def test_only_answered_questions_and_closed_public_cases_become_entries(store):
    who = await cast(store)
    open_q = (await posting.create_post(store, who["asker"], "lawyer", QUESTION)).post
    with pytest.raises(Invalid) as refused:
        await faq.add_entry(store, who["lawyer"], entry(open_q.id))
    assert set(refused.value.fields) == {"post_id"}
    replied = (await letter_until(store, who["asker"], who["mod"], who["clerk"], "replied")).post
    with pytest.raises(Invalid) as refused:
        await faq.add_entry(store, who["mod"], entry(replied.id))
    assert set(refused.value.fields) == {"post_id"}
    closed = (
        await letter_until(
            store, who["asker"], who["mod"], who["clerk"], "closed", title="公交站牌"
        )
    ).post
    assert (await faq.add_entry(store, who["mod"], entry(closed.id))).board == "mayor"
    talk = (
        await posting.create_post(store, who["asker"], "forum", {"title": "聊聊", "body": "天气"})
    ).post
    with pytest.raises(Invalid) as refused:
        await faq.add_entry(store, who["mod"], entry(talk.id))
    assert set(refused.value.fields) == {"post_id"}


@pytest.mark.gen_test
async def test_private_letters_and_confidential_reports_stay_out(store):
    who = await cast(store)
    private = (
        await posting.create_post(
            store,
            who["asker"],
            "mayor",
            {
                "title": "私信",
                "body": "不公开",
                "letter_type": "complaint",
                "area": "city",
                "contact": "138",
                "public": False,
            },
        )
    ).post
    await moderation.moderate(store, who["mod"], private.id, "accept")
    with pytest.raises(NotFound):  # the lawyer may not see it: as if absent
        await faq.add_entry(store, who["lawyer"], entry(private.id))
    report = (
        await posting.create_post(
            store, None, "tax", {"title": "举报", "body": "内容"}, address="10.0.0.1"
        )
    ).post
    with pytest.raises(NotFound):
        await faq.add_entry(store, who["lawyer"], entry(report.id))
    with pytest.raises(Invalid) as refused:  # a moderator sees it, but it is confidential
        await faq.add_entry(store, who["mod"], entry(report.id))
    assert set(refused.value.fields) == {"post_id"}
    with pytest.raises(NotFound):
        await faq.add_entry(store, who["mod"], entry(new_id()))
    assert (await faq.list_entries(store, "tax")).items == []
    assert await faq.for_board(store, "tax") == []


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "change, wrong",
    [
        ({"post_id": None}, {"post_id"}),
        ({"post_id": "abc"}, {"post_id"}),
        ({"post_id": 12}, {"post_id"}),
        ({"question": None}, {"question"}),
        ({"question": "  "}, {"question"}),
        ({"question": ["x"]}, {"question"}),
        ({"question": "问" * (limits.FAQ_QUESTION_MAX + 1)}, {"question"}),
        ({"answer": None}, {"answer"}),
        ({"answer": 5}, {"answer"}),
        ({"answer": "答" * (limits.FAQ_ANSWER_MAX + 1)}, {"answer"}),
        ({"question": None, "answer": None}, {"question", "answer"}),
    ],
)
async def test_entry_fields_are_checked(store, change, wrong):
    who = await cast(store)
    post = await answered_question(store, who)
    with pytest.raises(Invalid) as refused:
        await faq.add_entry(store, who["lawyer"], {**entry(post.id), **change})
    assert set(refused.value.fields) == wrong
    assert (await faq.list_entries(store)).items == []


@pytest.mark.gen_test
async def test_hostile_html_is_sanitised_and_personal_data_masked(store):
    who = await cast(store)
    post = await answered_question(store, who)
    made = await faq.add_entry(
        store,
        who["lawyer"],
        entry(
            post.id,
            question="电话13812345678怎么办",
            answer="<script>alert(1)</script><img src=x onerror=alert(1)> [x](javascript:alert(1)) "
            "拨打13812345678",
        ),
    )
    # raw HTML is text, never markup; links keep to safe schemes
    assert "<script" not in made.answer_html and "&lt;script&gt;" in made.answer_html
    assert "<img" not in made.answer_html and 'href="javascript' not in made.answer_html
    assert "13812345678" not in made.question and "13812345678" not in made.answer
    assert "13812345678" not in made.answer_html


@pytest.mark.gen_test
async def test_moderators_delete_entries(store):
    who = await cast(store)
    post = await answered_question(store, who)
    made = await faq.add_entry(store, who["lawyer"], entry(post.id))
    for name in ("lawyer", "citizen", "clerk"):
        with pytest.raises(Forbidden):
            await faq.delete_entry(store, who[name], made.id)
    with pytest.raises(NotLoggedIn):
        await faq.delete_entry(store, None, made.id)
    assert (await faq.delete_entry(store, who["mod"], made.id)).id == made.id
    for bad in (made.id, new_id(), "bad", None):
        with pytest.raises(NotFound):
            await faq.delete_entry(store, who["mod"], bad)
    assert (await faq.list_entries(store, "lawyer")).items == []


@pytest.mark.gen_test
async def test_lists_page_and_check_their_parameters(store):
    who = await cast(store)
    post = await answered_question(store, who)
    made = [
        await faq.add_entry(store, who["lawyer"], entry(post.id, question=f"问题{n}"))
        for n in range(3)
    ]
    first = await faq.list_entries(store, "lawyer", limit=2)
    assert [e.id for e in first.items] == [made[2].id, made[1].id] and first.next_cursor
    rest = await faq.list_entries(store, "lawyer", cursor=first.next_cursor, limit=2)
    assert [e.id for e in rest.items] == [made[0].id] and rest.next_cursor is None
    assert len((await faq.list_entries(store, "")).items) == 3
    assert (await faq.list_entries(store, "agri")).items == []
    for kwargs, name in (
        ({"board": "nope"}, "board"),
        ({"limit": 0}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"cursor": "!!"}, "cursor"),
    ):
        with pytest.raises(Invalid) as refused:
            await faq.list_entries(store, **kwargs)
        assert name in refused.value.fields


@pytest.mark.gen_test
async def test_search_and_similar_show_matching_entries_first(store, segmenter):
    who = await cast(store)
    post = await answered_question(store, who)
    await searching.reindex(store)
    made = await faq.add_entry(
        store,
        who["lawyer"],
        entry(post.id, question="不签劳动合同能要二倍工资吗", answer="可以，自第二个月起。"),
    )
    other = await faq.add_entry(
        store, who["lawyer"], entry(post.id, question="离婚财产怎么分", answer="看婚前婚后。")
    )
    found = await searching.search_posts(store, None, "劳动合同", address="10.0.0.9")
    assert [e.id for e in found.faq] == [made.id]
    assert found.items  # the posts are still there, after the entries
    assert (
        await searching.search_posts(store, None, "劳动合同", board="agri", address="10.0.0.9")
    ).faq == []
    by_answer = await searching.search_posts(store, None, "婚前", address="10.0.0.9")
    assert [e.id for e in by_answer.faq] == [other.id]
    similar = await searching.similar_with_faq(store, None, "不签劳动合同怎么办", board="lawyer")
    assert [e.id for e in similar.faq] == [made.id]
    assert [v.post.id for v in similar.items] == [post.id]
    assert (await searching.similar_with_faq(store, None, "水稻施肥", board="agri")).faq == []
    assert (await searching.similar_with_faq(store, None, "的")).faq == []
