"""The knowledge base through the pages: 加入常见问题 on a post for those who may, the board's
常见问题 section, removal by moderators, and entries first on the search and similar pages."""

from __future__ import annotations

import pytest

from forum.model import Role
from forum.services import faq, posting, searching
from tests.support import translations
from tests.support.people import person
from tests.support.web import Browser, form_errors

QUESTION = {"title": "公司不签劳动合同怎么办", "body": "入职三个月了", "category": "劳动"}


async def answered(store):
    asker = await person(store, "asker")
    lawyer = await person(store, "lawyer", Role.LAWYER)
    post = (await posting.create_post(store, asker, "lawyer", QUESTION)).post
    await posting.add_reply(store, lawyer, post.id, "可主张**二倍工资**。")
    return post.id


async def logged_in(http_client, base_url, name, lang=None):
    browser = Browser(http_client, base_url)
    if lang:
        browser.cookies["lang"] = lang
    await browser.log_in(name)
    return browser


@pytest.mark.gen_test
async def test_a_lawyer_adds_an_entry_from_the_post_page(http_client, base_url, store):
    post_id = await answered(store)
    lawyer = await logged_in(http_client, base_url, "lawyer")
    page = await lawyer.get(f"/posts/{post_id}")
    assert f'action="/posts/{post_id}/faq"' in page.text
    # the form starts from the post's title and its answer
    assert 'value="公司不签劳动合同怎么办"' in page.text and "可主张**二倍工资**。" in page.text
    added = await lawyer.submit(
        f"/posts/{post_id}/faq",
        {"form": "faq", "question": "不签劳动合同怎么办", "answer": "可主张**二倍工资**。"},
    )
    assert added.status == 303 and added.headers["Location"] == f"/posts/{post_id}"
    assert "已加入常见问题。" in (await lawyer.follow(added)).text
    board = await Browser(http_client, base_url).get("/boards/lawyer")
    assert 'id="faq"' in board.text and "不签劳动合同怎么办" in board.text
    assert "<strong>二倍工资</strong>" in board.text
    assert f'href="/posts/{post_id}"' in board.text
    assert "/delete" not in board.text.split('id="faq"')[1].split("</section>")[0]


@pytest.mark.gen_test
async def test_the_form_is_offered_only_to_those_who_may(http_client, base_url, store):
    post_id = await answered(store)
    await person(store, "citizen")
    await person(store, "expert", Role.EXPERT)
    for name in ("asker", "citizen", "expert"):
        browser = await logged_in(http_client, base_url, name)
        assert f"/posts/{post_id}/faq" not in (await browser.get(f"/posts/{post_id}")).text, name
        refused = await browser.submit(
            f"/posts/{post_id}/faq", {"form": "faq", "question": "q", "answer": "a"}
        )
        assert refused.status == 403, name
    assert (
        f"/posts/{post_id}/faq"
        not in (await Browser(http_client, base_url).get(f"/posts/{post_id}")).text
    )
    asker = await store.get_user_by_name("asker")
    open_q = (await posting.create_post(store, asker, "lawyer", QUESTION)).post.id
    lawyer = await logged_in(http_client, base_url, "lawyer")
    assert f"/posts/{open_q}/faq" not in (await lawyer.get(f"/posts/{open_q}")).text
    refused = await lawyer.submit(
        f"/posts/{open_q}/faq", {"form": "faq", "question": "q", "answer": "a"}
    )
    assert refused.status == 422 and "只有已解答的问题可以加入常见问题" in refused.text
    assert (await faq.list_entries(store)).items == []


@pytest.mark.gen_test
async def test_bad_entries_come_back_with_their_errors(http_client, base_url, store):
    post_id = await answered(store)
    lawyer = await logged_in(http_client, base_url, "lawyer")
    refused = await lawyer.submit(
        f"/posts/{post_id}/faq", {"form": "faq", "question": "", "answer": "留下的解答"}
    )
    assert refused.status == 422
    assert form_errors(refused.text) and "留下的解答" in refused.text
    assert '<details class="action-form" open>' in refused.text
    assert (await faq.list_entries(store)).items == []


@pytest.mark.gen_test
async def test_moderators_remove_entries_from_the_board_page(http_client, base_url, store):
    post_id = await answered(store)
    lawyer = await store.get_user_by_name("lawyer")
    entry = await faq.add_entry(
        store, lawyer, {"post_id": post_id, "question": "问", "answer": "答"}
    )
    await person(store, "mod", Role.MODERATOR)
    other = await logged_in(http_client, base_url, "lawyer")
    assert (await other.submit(f"/faq/{entry.id}/delete", {})).status == 403
    mod = await logged_in(http_client, base_url, "mod")
    board = await mod.get("/boards/lawyer")
    assert f'action="/faq/{entry.id}/delete"' in board.text
    removed = await mod.submit(f"/faq/{entry.id}/delete", {})
    assert removed.status == 303 and removed.headers["Location"] == "/boards/lawyer#faq"
    after = await mod.follow(removed)
    assert "常见问题已删除。" in after.text and f"faq-{entry.id}" not in after.text
    assert (await mod.submit(f"/faq/{entry.id}/delete", {})).status == 404


@pytest.mark.gen_test
async def test_search_and_similar_pages_show_entries_first(http_client, base_url, store, segmenter):
    post_id = await answered(store)
    await searching.reindex(store)
    lawyer = await store.get_user_by_name("lawyer")
    entry = await faq.add_entry(
        store,
        lawyer,
        {"post_id": post_id, "question": "不签劳动合同能要二倍工资吗", "answer": "可以。"},
    )
    visitor = Browser(http_client, base_url)
    found = (await visitor.get("/search?q=劳动合同")).text
    assert f'id="faq-{entry.id}"' in found
    assert found.index(f'id="faq-{entry.id}"') < found.index(f'href="/posts/{post_id}">公司')
    similar = (await visitor.get("/search/similar?title=不签劳动合同怎么办&board=lawyer")).text
    assert f'id="faq-{entry.id}"' in similar
    assert similar.index(f'id="faq-{entry.id}"') < similar.index("similar-results-heading")
    asker = await logged_in(http_client, base_url, "asker")
    draft = await asker.submit(
        "/boards/lawyer/new", {"title": "不签劳动合同怎么办", "body": "", "check_similar": "1"}
    )
    assert "similar-faq" in draft.text and "不签劳动合同能要二倍工资吗" in draft.text


@pytest.mark.gen_test
async def test_faq_pages_in_english(http_client, base_url, store, segmenter):
    post_id = await answered(store)
    lawyer_user = await store.get_user_by_name("lawyer")
    await faq.add_entry(
        store,
        lawyer_user,
        {"post_id": post_id, "question": "不签合同怎么办", "answer": "可以主张。"},
    )
    await person(store, "mod", Role.MODERATOR)
    content = {
        "faq-item",
        "post-body",
        "post-header",
        "post-summary",
        "reply",
        "breadcrumb",
        "author",
        "category",
    }
    mod = await logged_in(http_client, base_url, "mod", "en_US")
    for path in ("/boards/lawyer", f"/posts/{post_id}", "/search?q=合同"):
        page = await mod.get(path)
        assert page.status == 200, path
        assert "FAQ" in page.text or "Add to FAQ" in page.text, path
        written = ("公司不签劳动合同怎么办", "可主张**二倍工资**。", "劳动", "合同")
        chrome = [
            t
            for t in translations.chinese_chrome(page.text, content)
            if not any(w in t for w in written)
        ]
        assert chrome == [], (path, chrome)
