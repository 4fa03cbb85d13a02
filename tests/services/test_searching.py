"""Search and similar questions, without HTTP (forum/services/searching.py)."""

from __future__ import annotations

import pytest

from forum import search
from forum.errors import Invalid
from forum.model import Role, Status
from forum.services import moderation, posting, searching
from tests.support.people import person


async def seed(store):
    asker, lawyer = await person(store, "asker"), await person(store, "lawyer1", Role.LAWYER)
    wanted = await posting.create_post(
        store,
        asker,
        "lawyer",
        {
            "title": "劳动合同纠纷怎么处理",
            "body": "公司拖欠工资三个月，也没有签合同。",
            "category": "劳动",
        },
    )
    await posting.add_reply(store, lawyer, wanted.post.id, "可以申请劳动仲裁。")
    other = await posting.create_post(
        store,
        asker,
        "forum",
        {"title": "城区停车难", "body": "希望增加停车位，合同制停车场收费太贵"},
    )
    return asker, lawyer, wanted.post, other.post


@pytest.mark.gen_test
async def test_chinese_words_find_the_post_ranked_first(store):
    _, _, wanted, other = await seed(store)
    first = await searching.search_posts(store, None, "劳动合同")
    assert first.items[0].view.post.id == wanted.id
    # A title match outranks a body match: 合同 is in the question's title, only in the other's body.
    assert (await searching.search_posts(store, None, "合同")).items[0].view.post.id == wanted.id
    for query in ("合同", "工资"):
        found = [r.view.post.id for r in (await searching.search_posts(store, None, query)).items]
        assert wanted.id in found, query
    both = await searching.search_posts(store, None, "合同")
    assert {r.view.post.id for r in both.items} == {wanted.id, other.id}
    assert "<mark>" in first.items[0].snippet
    only_forum = await searching.search_posts(store, None, "合同", board="forum")
    assert [r.view.post.id for r in only_forum.items] == [other.id]


@pytest.mark.gen_test
async def test_snippets_highlight_and_escape(store):
    asker = await person(store, "asker")
    await posting.create_post(
        store,
        asker,
        "forum",
        {"title": "路灯问题", "body": "晚上<script>alert(1)</script>路灯不亮"},
    )
    (hit,) = (await searching.search_posts(store, None, "路灯")).items
    assert "<mark>路灯</mark>" in hit.snippet and "<script>" not in hit.snippet
    assert "&lt;script" in hit.snippet


@pytest.mark.gen_test
async def test_private_confidential_and_held_content_is_not_found_by_others(store):
    writer, mod = await person(store, "writer"), await person(store, "mod", Role.MODERATOR)
    staff = await person(store, "clerk", Role.STAFF, department="tax")
    bystander = await person(store, "bystander")
    letter = await posting.create_post(
        store,
        writer,
        "mayor",
        {
            "title": "私密信件关于噪音",
            "body": "噪音扰民",
            "letter_type": "complaint",
            "area": "city",
            "contact": "13800000000",
            "public": False,
        },
    )
    report = await posting.create_post(store, None, "tax", {"title": "举报偷税噪音", "body": "x"})
    hidden = await posting.create_post(store, writer, "forum", {"title": "噪音帖子", "body": "x"})
    await moderation.moderate(store, mod, hidden.post.id, "hide", "广告")
    for viewer in (None, bystander):
        assert (await searching.search_posts(store, viewer, "噪音")).items == []
    mine = {r.view.post.id for r in (await searching.search_posts(store, writer, "噪音")).items}
    assert mine == {letter.post.id, hidden.post.id}
    everything = await searching.search_posts(store, mod, "噪音")
    assert len(everything.items) == 3
    await moderation.moderate(store, mod, report.post.id, "accept")
    from forum.services import cases

    await cases.route_case(store, mod, report.post.id, "tax")
    assert [r.view.post.id for r in (await searching.search_posts(store, staff, "偷税")).items] == [
        report.post.id
    ]


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "query",
    ['"NEAR(*', "'; DROP TABLE posts; --", '{"$ne":null}', "%00", "a AND b OR -c", "*", '""'],
)
async def test_hostile_queries_are_just_words(store, query):
    await seed(store)
    results = await searching.search_posts(store, None, query)
    assert isinstance(results.items, list)


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "args, field",
    [
        ({"q": ""}, "q"),
        ({"q": None}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": {"$ne": 1}}, "q"),
        ({"q": "a", "board": "nope"}, "board"),
        ({"q": "a", "cursor": "-5"}, "cursor"),
        ({"q": "a", "limit": "0"}, "limit"),
    ],
)
async def test_bad_search_input(store, args, field):
    q = args.pop("q")
    with pytest.raises(Invalid) as caught:
        await searching.search_posts(store, None, q, **args)
    assert field in caught.value.fields


@pytest.mark.gen_test
async def test_similar_questions_are_answered_public_ones(store):
    asker, lawyer, wanted, _ = await seed(store)
    unanswered = await posting.create_post(
        store,
        asker,
        "lawyer",
        {"title": "劳动合同到期不续签", "body": "怎么办", "category": "劳动"},
    )
    found = await searching.similar(store, None, "劳动合同问题")
    assert [v.post.id for v in found] == [wanted.id]
    assert unanswered.post.status is Status.OPEN
    with pytest.raises(Invalid):
        await searching.similar(store, None, "")


@pytest.mark.gen_test
async def test_edits_reindex_and_reindex_rebuilds(store):
    asker = await person(store, "asker")
    view = await posting.create_post(store, asker, "forum", {"title": "旧标题", "body": "苹果"})
    await posting.edit_post(store, asker, view.post.id, {"body": "香蕉"})
    assert (await searching.search_posts(store, None, "苹果")).items == []
    assert len((await searching.search_posts(store, None, "香蕉")).items) == 1
    await store.index_post(view.post.id, [])
    assert (await searching.search_posts(store, None, "香蕉")).items == []
    seen = []
    assert await searching.reindex(store, seen.append) == 1 and seen == [1]
    assert len((await searching.search_posts(store, None, "香蕉")).items) == 1


@pytest.mark.gen_test
async def test_a_post_hidden_between_ranking_and_reading_is_not_shown(store, monkeypatch):
    """The service ranks first and reads the page's posts after: a post hidden in between (by
    a moderator, or another process) is left out, never shown as it was ranked."""
    asker = await person(store, "asker")
    kept = await posting.create_post(store, asker, "forum", {"title": "路灯不亮", "body": "路灯"})
    hidden = await posting.create_post(store, asker, "forum", {"title": "路灯坏了", "body": "路灯"})
    ranks = store.search_ranks

    async def ranks_then_hide(*args, **kwargs):
        found = await ranks(*args, **kwargs)
        await store.update_post(hidden.post.id, {"status": Status.HIDDEN})
        return found

    monkeypatch.setattr(store, "search_ranks", ranks_then_hide)
    results = await searching.search_posts(store, None, "路灯")
    assert [r.view.post.id for r in results.items] == [kept.post.id]


@pytest.mark.gen_test
async def test_a_query_of_words_cut_before_is_cut_on_the_loop_a_new_one_in_a_thread(
    store, monkeypatch
):
    _, _, wanted, other = await seed(store)
    hops = []
    to_thread = searching.asyncio.to_thread

    async def counted(*args, **kwargs):
        hops.append(args)
        return await to_thread(*args, **kwargs)

    monkeypatch.setattr(searching.asyncio, "to_thread", counted)
    monkeypatch.setattr(search, "_KEPT_PARTS", {})  # no part cut before
    first = await searching.search_posts(store, None, "拖欠工资的问题 停车位 仲裁庭院的地址")
    assert len(hops) == 1
    # The same words in another order, another query: nothing left for jieba but a short word.
    second = await searching.search_posts(store, None, "仲裁庭院的地址  停车位 拖欠工资的问题 3号")
    assert len(hops) == 1
    assert {r.view.post.id for r in first.items} == {r.view.post.id for r in second.items}
    assert {r.view.post.id for r in first.items} == {wanted.id, other.id}


@pytest.mark.gen_test
async def test_a_word_only_the_title_holds_leads_the_snippet_with_the_title(store):
    asker = await person(store, "asker")
    body = "ＭＥＴＥＲ坏了很久，" + "没有人来修。" * 30
    title = "我们小区里面的" * 5 + "Water 水表问题"  # the word 35 characters in
    await posting.create_post(store, asker, "forum", {"title": title, "body": body})
    found = await searching.search_posts(store, None, "water")
    snippet = found.items[0].snippet
    assert snippet.startswith("…面的我们小区里面的")  # from 30 characters before the word
    assert "<mark>Water</mark> 水表问题：ＭＥＴＥＲ坏了很久" in snippet and snippet.endswith("…")
    # A word the body holds: the snippet is the body's.
    found = await searching.search_posts(store, None, "没有人")
    assert found.items[0].snippet.startswith("ＭＥＴＥＲ坏了很久，<mark>没有</mark>")
