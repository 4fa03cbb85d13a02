"""Search's order, date range and result count, through HTTP: the API and the page."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest

from forum import workflow
from forum.services import searching
from tests.support.people import person

Q = "search?q=" + quote("停车")


def city_day(at: dt.datetime) -> str:
    return at.astimezone(workflow.CHINA_STANDARD_TIME).date().isoformat()


async def three_posts(api, store, clock):
    """The oldest has the word in its title (ranked first); each a day apart; newest last."""
    await person(store, "writer")
    writer = await api.login("writer")
    made = []
    for title, body in (
        ("停车难怎么办", "停车位太少"),
        ("小区绿化", "门口停车"),
        ("路灯坏了", "晚上停车看不清"),
    ):
        created = await writer.post("/boards/forum/posts", {"title": title, "body": body})
        assert created.status == 201
        made.append((created.json()["post"]["id"], clock.now()))
        clock.advance(days=1)
    return made


@pytest.mark.gen_test
async def test_sort_newest_and_relevance(api, store, clock):
    made = await three_posts(api, store, clock)
    ids = [post_id for post_id, _ in made]
    best = (await api.get("/" + Q)).json()
    assert best["sort"] == "relevance" and best["items"][0]["post"]["id"] == ids[0]
    relevance = (await api.get("/" + Q + "&sort=relevance")).json()
    assert [i["post"]["id"] for i in relevance["items"]] == [i["post"]["id"] for i in best["items"]]
    newest = (await api.get("/" + Q + "&sort=newest")).json()
    assert newest["sort"] == "newest"
    assert [i["post"]["id"] for i in newest["items"]] == ids[::-1]
    paged = (await api.get("/" + Q + "&sort=newest&limit=2")).json()
    assert [i["post"]["id"] for i in paged["items"]] == ids[:0:-1]
    rest = (await api.get("/" + Q + f"&sort=newest&limit=2&cursor={paged['next_cursor']}")).json()
    assert [i["post"]["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None


@pytest.mark.gen_test
async def test_date_range(api, store, clock):
    made = await three_posts(api, store, clock)
    (first, t0), (second, t1), (third, t2) = made
    since = (await api.get("/" + Q + f"&from={city_day(t1)}&sort=newest")).json()
    assert [i["post"]["id"] for i in since["items"]] == [third, second] and since["total"] == 2
    until = (await api.get("/" + Q + f"&to={city_day(t1)}")).json()
    assert [i["post"]["id"] for i in until["items"]] == [first]
    both = (await api.get("/" + Q + f"&from={city_day(t1)}&to={city_day(t2)}")).json()
    assert [i["post"]["id"] for i in both["items"]] == [second]
    on_board = (await api.get("/" + Q + f"&from={city_day(t1)}&board=tax")).json()
    assert on_board["items"] == [] and on_board["total"] == 0


@pytest.mark.gen_test
async def test_total_counts_and_caps(api, store, clock, monkeypatch):
    await three_posts(api, store, clock)
    found = (await api.get("/" + Q + "&limit=1")).json()
    assert found["total"] == 3 and found["total_capped"] is False and len(found["items"]) == 1
    none = (await api.get("/search?q=" + quote("游泳池"))).json()
    assert none["total"] == 0 and none["total_capped"] is False
    monkeypatch.setattr(searching, "COUNT_MAX", 2)
    # Not the first search's URL: anonymous answers are cached by URL.
    capped = (await api.get("/" + Q + "&limit=1&sort=relevance")).json()
    assert capped["total"] == 2 and capped["total_capped"] is True
    last = (await api.get("/" + Q + "&limit=1&cursor=1")).json()
    assert len(last["items"]) == 1 and last["next_cursor"] is None


@pytest.mark.gen_test
async def test_bad_sort_and_dates_are_refused(api):
    for query, field in (
        ("sort=oldest", "sort"),
        ("sort=%24ne", "sort"),
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("to=0001-01-01", "to"),
        ("from=2026-03-02&to=2026-03-01", "to"),
        ("from=2026-03-01&to=2026-03-01", "to"),
    ):
        bad = await api.get("/" + Q + "&" + query)
        assert bad.status == 422 and field in bad.error["fields"], query


@pytest.mark.gen_test
async def test_search_page_offers_order_dates_and_count(api, store, clock, http_client, base_url):
    made = await three_posts(api, store, clock)
    page = await http_client.fetch(base_url + "/" + Q + "&sort=newest", raise_error=False)
    html = page.body.decode()
    assert page.code == 200 and "找到约 3 条结果" in html and "按发布时间从新到旧排列" in html
    assert html.index(made[2][0]) < html.index(made[0][0])
    assert 'name="from"' in html and 'name="to"' in html and 'value="newest" selected' in html
    dated = await http_client.fetch(
        base_url + "/" + Q + f"&from={city_day(made[1][1])}", raise_error=False
    )
    assert "找到约 2 条结果" in dated.body.decode()
    for query, field in (
        ("sort=oldest", "sort"),
        ("from=nope", "from"),
        ("from=2026-03-02&to=2026-03-01", "to"),
    ):
        bad = await http_client.fetch(base_url + "/" + Q + "&" + query, raise_error=False)
        assert bad.code == 422 and f'id="{field}-error"' in bad.body.decode(), query


@pytest.mark.gen_test
async def test_a_search_in_one_board_names_it_in_the_readers_language(
    api, store, clock, http_client, base_url
):
    await three_posts(api, store, clock)
    for cookie, name, found in (
        ("", "（强市论坛）", "找到约 3 条结果"),
        ("lang=en_US", "City Forum", "3"),
    ):
        page = await http_client.fetch(
            base_url + "/" + Q + "&board=forum", headers={"Cookie": cookie}, raise_error=False
        )
        html = page.body.decode()
        heading = html[html.index('id="results-heading"') : html.index("</h2>")]
        assert page.code == 200 and name in heading and found in html, cookie
        # The items too, kept per language: the same posts, found again in the other.
        items = html[html.index('class="post-list search-results"') :]
        assert (name.strip("（）") in items) and (("回复" in items) == (cookie == "")), cookie
    # Every board is named, the confidential ones (nothing found there for a visitor) too.
    nothing = await http_client.fetch(base_url + "/" + Q + "&board=mayor", raise_error=False)
    assert nothing.code == 200 and "（市长书记信箱）" in nothing.body.decode()


@pytest.mark.gen_test
async def test_each_query_marks_its_own_words_in_a_result(api, store, clock, http_client, base_url):
    """A post found by two queries shows each query's own words marked, its title escaped: the
    item rendered for the first query is kept around its snippet, and the second fills in its
    own (a title holding the snippet's slot is text, not the slot)."""
    await person(store, "writer")
    writer = await api.login("writer")
    created = await writer.post(
        "/boards/forum/posts",
        {
            "title": "<b>停车</b> & 路灯 <script>x</script> <!--snippet-->",
            "body": "小区停车难，路灯也坏了 <i>急</i>",
        },
    )
    assert created.status == 201
    pages = {}
    for word in ("停车", "路灯", "停车"):
        page = await http_client.fetch(base_url + "/search?q=" + quote(word), raise_error=False)
        assert page.code == 200
        pages.setdefault(word, page.body.decode())
        assert page.body.decode() == pages[word]  # the same query: the same page
    for word, other in (("停车", "路灯"), ("路灯", "停车")):
        html = pages[word]
        assert f"<mark>{word}</mark>" in html and f"<mark>{other}</mark>" not in html
        assert (
            "&lt;b&gt;停车&lt;/b&gt; &amp; 路灯 &lt;script&gt;x&lt;/script&gt; &lt;!--snippet--&gt;"
            in html
        )
        assert "<!--snippet-->" not in html and html.count('<p class="snippet">') == 1
        assert "<script>x" not in html and "<i>急" not in html and "\ue000" not in html
