"""The knowledge base through the JSON API: who makes and removes entries, from which posts, bad
input on every path, sanitised answers, and entries first in search and similar questions."""

from __future__ import annotations

import pytest

from forum import limits
from forum.model import Role
from forum.services import moderation, posting, searching
from tests.support.casework import letter_until
from tests.support.people import login_as, person

QUESTION = {"title": "公司不签劳动合同怎么办", "body": "入职三个月了", "category": "劳动"}


async def answered(store, board="lawyer"):
    asker = await store.get_user_by_name("asker") or await person(store, "asker")
    answerer = await person(
        store, f"{board}_answerer", Role.LAWYER if board == "lawyer" else Role.EXPERT
    )
    category = "劳动" if board == "lawyer" else "种植"
    post = (await posting.create_post(store, asker, board, {**QUESTION, "category": category})).post
    await posting.add_reply(store, answerer, post.id, "可主张二倍工资。")
    return post.id


def body(post_id, **extra):
    return {
        "post_id": post_id,
        "question": "不签劳动合同怎么办",
        "answer": "可主张二倍工资。",
        **extra,
    }


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "name, roles, board, status",
    [
        ("mod", (Role.MODERATOR,), "lawyer", 201),
        ("mod", (Role.MODERATOR,), "agri", 201),
        ("root", (Role.ADMIN,), "agri", 201),
        ("lawyer", (Role.LAWYER,), "lawyer", 201),
        ("lawyer", (Role.LAWYER,), "agri", 403),
        ("expert", (Role.EXPERT,), "agri", 201),
        ("expert", (Role.EXPERT,), "lawyer", 403),
        ("citizen", (), "lawyer", 403),
        ("clerk", (Role.STAFF,), "lawyer", 403),
    ],
)
async def test_who_makes_entries_where(api, store, name, roles, board, status):
    post_id = await answered(store, board)
    caller = await login_as(
        api, store, name, *roles, department="housing" if Role.STAFF in roles else None
    )
    made = await caller.post("/faq", body(post_id))
    assert made.status == status, made.text
    listed = (await api.get(f"/faq?board={board}")).json()["items"]
    if status == 201:
        entry = made.json()["faq"]
        assert {"id", "board", "question", "answer_html", "post_id"} <= set(entry)
        assert (entry["board"], entry["post_id"]) == (board, post_id)
        assert [e["id"] for e in listed] == [entry["id"]]
    else:
        assert made.error["code"] == "forbidden" and listed == []


@pytest.mark.gen_test
async def test_visitors_may_read_but_not_write(api, store):
    post_id = await answered(store)
    assert (await api.post("/faq", body(post_id))).status == 401
    assert (await api.call("DELETE", "/faq/0123456789abcdef01234567")).status == 401
    listed = await api.get("/faq")
    assert listed.status == 200 and listed.json() == {"items": [], "next_cursor": None}


@pytest.mark.gen_test
async def test_which_posts_may_become_entries(api, store):
    mod_user = await person(store, "mod", Role.MODERATOR)
    mod = await api.login("mod")
    writer = await person(store, "writer")
    clerk = await person(store, "clerk", Role.STAFF, department="housing")
    open_q = (await posting.create_post(store, writer, "lawyer", QUESTION)).post.id
    replied = (await letter_until(store, writer, mod_user, clerk, "replied")).post.id
    closed = (await letter_until(store, writer, mod_user, clerk, "closed", title="站牌")).post.id
    talk = (
        await posting.create_post(store, writer, "forum", {"title": "聊", "body": "天"})
    ).post.id
    report = (
        await posting.create_post(
            store, None, "tax", {"title": "举报", "body": "内容"}, address="10.0.0.1"
        )
    ).post.id
    for post_id in (open_q, replied, talk, report):
        refused = await mod.post("/faq", body(post_id))
        assert refused.status == 422, post_id
        assert set(refused.error["fields"]) == {"post_id"}
    assert (await mod.post("/faq", body(closed))).status == 201
    assert (await api.get("/faq?board=mayor")).json()["items"][0]["post_id"] == closed
    assert (await api.get("/faq?board=tax")).json()["items"] == []


@pytest.mark.gen_test
async def test_posts_the_caller_may_not_see_are_404(api, store):
    mod_user = await person(store, "mod", Role.MODERATOR)
    writer = await person(store, "writer")
    private = (
        await posting.create_post(
            store,
            writer,
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
    ).post.id
    await moderation.moderate(store, mod_user, private, "accept")
    report = (
        await posting.create_post(
            store, None, "tax", {"title": "举报", "body": "内容"}, address="10.0.0.1"
        )
    ).post.id
    lawyer = await login_as(api, store, "lawyer", Role.LAWYER)
    for post_id in (private, report, "0123456789abcdef01234567"):
        refused = await lawyer.post("/faq", body(post_id))
        assert refused.status == 404, post_id


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "change, wrong",
    [
        ({"post_id": None}, "post_id"),
        ({"post_id": "xyz"}, "post_id"),
        ({"post_id": 7}, "post_id"),
        ({"question": None}, "question"),
        ({"question": ""}, "question"),
        ({"question": {"a": 1}}, "question"),
        ({"question": "问" * (limits.FAQ_QUESTION_MAX + 1)}, "question"),
        ({"answer": None}, "answer"),
        ({"answer": True}, "answer"),
        ({"answer": "答" * (limits.FAQ_ANSWER_MAX + 1)}, "answer"),
    ],
)
async def test_bad_fields_are_422_naming_them(api, store, change, wrong):
    post_id = await answered(store)
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    refused = await mod.post(
        "/faq", {k: v for k, v in {**body(post_id), **change}.items() if v is not None}
    )
    assert refused.status == 422
    assert wrong in refused.error["fields"]
    assert (await api.get("/faq")).json()["items"] == []


@pytest.mark.gen_test
async def test_malformed_bodies_and_queries(api, store):
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    assert (await mod.post("/faq", raw=b"{nope")).status == 400
    assert (await mod.post("/faq", raw=b'"text"')).status == 400
    for query, name in (
        ("board=nowhere", "board"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("cursor=%21%21", "cursor"),
    ):
        refused = await api.get(f"/faq?{query}")
        assert refused.status == 422 and name in refused.error["fields"], query


@pytest.mark.gen_test
async def test_hostile_answers_are_sanitised(api, store):
    post_id = await answered(store)
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    made = await mod.post(
        "/faq",
        body(
            post_id,
            answer=(
                '<script>alert(1)</script><a href="javascript:alert(1)">x</a> '
                '<img src=x onerror="alert(1)"> [点我](javascript:alert(1)) **好**'
            ),
        ),
    )
    assert made.status == 201
    html = made.json()["faq"]["answer_html"]
    assert "<script" not in html and "<img" not in html and '<a href="javascript' not in html
    assert "<strong>好</strong>" in html
    page = await api.get("/faq?board=lawyer")
    assert page.json()["items"][0]["answer_html"] == html


@pytest.mark.gen_test
async def test_only_moderators_delete_and_bad_ids_are_404(api, store):
    post_id = await answered(store)
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    entry = (await mod.post("/faq", body(post_id))).json()["faq"]
    for name, roles in (("lawyer2", (Role.LAWYER,)), ("citizen", ()), ("clerk", (Role.STAFF,))):
        caller = await login_as(api, store, name, *roles)
        assert (await caller.call("DELETE", f"/faq/{entry['id']}")).status == 403, name
    assert (await mod.call("DELETE", f"/faq/{entry['id']}")).status == 204
    for path in (f"/faq/{entry['id']}", "/faq/0123456789abcdef01234567", "/faq/nope"):
        assert (await mod.call("DELETE", path)).status == 404, path


@pytest.mark.gen_test
async def test_search_and_similar_list_entries_first(api, store, segmenter):
    post_id = await answered(store)
    await searching.reindex(store)
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    entry = (await mod.post("/faq", body(post_id, question="不签劳动合同能要二倍工资吗"))).json()[
        "faq"
    ]
    found = (await api.get("/search?q=劳动合同")).json()
    assert [e["id"] for e in found["faq"]] == [entry["id"]]
    assert {"query", "terms", "items", "next_cursor", "total"} <= set(found)
    assert [r["post"]["id"] for r in found["items"]] == [post_id]
    similar = (await api.get("/search/similar?title=不签劳动合同怎么办&board=lawyer")).json()
    assert [e["id"] for e in similar["faq"]] == [entry["id"]]
    assert [p["id"] for p in similar["items"]] == [post_id]
    none = (await api.get("/search/similar?title=水稻施肥&board=agri")).json()
    assert none == {"items": [], "faq": []}


@pytest.mark.gen_test
async def test_a_retried_create_with_its_key_makes_one_entry(api, store):
    post_id = await answered(store)
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    headers = {"Idempotency-Key": "faq-1"}
    first = await mod.post("/faq", body(post_id), headers=headers)
    again = await mod.post("/faq", body(post_id), headers=headers)
    assert first.status == again.status == 201 and again.text == first.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len((await api.get("/faq")).json()["items"]) == 1


@pytest.mark.gen_test
async def test_foreign_fields_in_the_body_set_nothing(api, store):
    from tests.web.test_mass_assignment import FOREIGN

    post_id = await answered(store)
    lawyer = await login_as(api, store, "lawyer_answerer", Role.LAWYER)
    made = await lawyer.post("/faq", {**FOREIGN, **body(post_id), "answer_html": "<script>"})
    assert made.status == 201, made.text
    kept = await store.get_faq(made.json()["faq"]["id"])
    assert kept.board == "lawyer" and kept.id != FOREIGN["id"]
    assert kept.author_id == (await store.get_user_by_name("lawyer_answerer")).id
    assert "<script" not in kept.answer_html and kept.created_at.year > 2000
