"""The city forum through the JSON API, with the Conventions of API.md."""

from __future__ import annotations

import pytest

POST = {"title": "城区停车难怎么办", "body": "**建议**增加停车位\n\n<script>alert(1)</script>"}


@pytest.mark.gen_test
async def test_boards_and_departments(api):
    boards = (await api.get("/boards")).json()["items"]
    assert [b["slug"] for b in boards] == ["forum", "lawyer", "tax", "agri", "mayor", "hotline"]
    assert {b["kind"] for b in boards} == {"discussion", "consultation", "case", "bulletin"}
    departments = (await api.get("/departments")).json()["items"]
    assert {"slug": "xinfang", "name": "市信访局", "kind": "bureau"} in departments
    assert {"slug": "gov-hongta", "name": "红塔区人民政府", "kind": "county"} in departments
    assert len(departments) == 21


@pytest.mark.gen_test
async def test_post_reply_edit_through_the_api(api):
    alice = await api.new_user("alice")
    bob = await api.new_user("bob")
    created = await alice.post("/boards/forum/posts", POST)
    assert created.status == 201
    post = created.json()["post"]
    assert post["author"]["username"] == "alice" and post["status"] == "published"
    assert "<script>" not in post["html"] and "&lt;script&gt;" in post["html"]
    reply = await bob.post(f"/posts/{post['id']}/replies", {"body": "同意"})
    assert reply.status == 201 and reply.json()["reply"]["kind"] == "comment"
    edited = await alice.patch(f"/posts/{post['id']}", {"title": "城区停车难，怎么办？"})
    assert edited.status == 200 and edited.json()["post"]["title"] == "城区停车难，怎么办？"
    refused = await bob.patch(f"/posts/{post['id']}", {"title": "改别人的"})
    assert refused.status == 403
    thread = (await api.get(f"/posts/{post['id']}")).json()
    assert thread["post"]["reply_count"] == 1 and thread["replies"][0]["body"] == "同意"
    assert thread["events"] == [] and thread["revisions"] == []
    own = (await alice.get(f"/posts/{post['id']}")).json()
    assert [r["title"] for r in own["revisions"]] == ["城区停车难怎么办"]
    listed = (await api.get("/boards/forum/posts")).json()
    assert [p["id"] for p in listed["items"]] == [post["id"]] and listed["next_cursor"] is None


@pytest.mark.gen_test
async def test_cursor_pagination_and_limits(api):
    alice = await api.new_user("alice")
    for i in range(5):
        await alice.post("/boards/forum/posts", {"title": f"帖{i}", "body": "内容"})
    first = (await api.get("/boards/forum/posts?limit=2")).json()
    second = (await api.get(f"/boards/forum/posts?limit=2&cursor={first['next_cursor']}")).json()
    third = (await api.get(f"/boards/forum/posts?limit=2&cursor={second['next_cursor']}")).json()
    titles = [p["title"] for page in (first, second, third) for p in page["items"]]
    assert titles == ["帖4", "帖3", "帖2", "帖1", "帖0"] and third["next_cursor"] is None
    for query, field in (
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("cursor=%27%3BDROP", "cursor"),
        ("status=nope", "status"),
    ):
        bad = await api.get(f"/boards/forum/posts?{query}")
        assert bad.status == 422 and field in bad.error["fields"], query


@pytest.mark.gen_test
async def test_who_may_write(api):
    anonymous = await api.post("/boards/forum/posts", POST)
    assert anonymous.status == 401
    alice = await api.new_user("alice")
    assert (await alice.post("/boards/hotline/posts", POST)).status == 403
    assert (await alice.post("/boards/nope/posts", POST)).status == 404
    assert (await api.get("/boards/nope/posts")).status == 404


@pytest.mark.gen_test
async def test_missing_posts_are_404(api):
    alice = await api.new_user("alice")
    assert (await api.get("/posts/0123456789abcdef01234567")).status == 404
    assert (await api.get("/posts/not-an-id")).status == 404
    assert (
        await alice.post("/posts/0123456789abcdef01234567/replies", {"body": "x"})
    ).status == 404
    assert (await api.get("/nothing/here")).json()["error"]["code"] == "not_found"


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "raw, status",
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'"just a string"', 400),
        (b'{"title": NaN}', 400),
        (b'{"title": "\xff\xfe", "body": "x"}', 400),
        (b"{" + b'"body": "' + b"x" * (2 << 20) + b'"}', 413),
        (b'{"body": ' + b"[" * 1000 + b"]" * 1000 + b"}", 400),
        (b'{"title": "' + b"[" * 1000 + b'", "body": "x"}', 422),  # brackets in a string are text
    ],
)
async def test_malformed_and_oversized_bodies(api, raw, status):
    alice = await api.new_user("alice")
    response = await alice.post("/boards/forum/posts", raw=raw)
    assert response.status == status
    assert "error" in response.json()
    assert (await api.get("/boards/forum/posts")).json()["items"] == []


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "body, field",
    [
        ({"body": "x"}, "title"),
        ({"title": "x"}, "body"),
        ({"title": "", "body": "x"}, "title"),
        ({"title": "t" * 121, "body": "x"}, "title"),
        ({"title": "x", "body": "b" * 20_001}, "body"),
        ({"title": {"$ne": None}, "body": "x"}, "title"),
        ({"title": "x", "body": {"$where": "sleep(1000)"}}, "body"),
        ({"title": ["x"], "body": "x"}, "title"),
        ({"title": "a\u0000b", "body": "x"}, "title"),
        ({"title": "x", "body": "x", "category": "'; DROP TABLE posts; --"}, "category"),
        ({"title": "x", "body": "x", "anonymous": "true"}, "anonymous"),
    ],
)
async def test_bad_post_fields_are_422(api, body, field):
    alice = await api.new_user("alice")
    response = await alice.post("/boards/forum/posts", body)
    assert response.status == 422 and field in response.error["fields"], response.text
    assert (await api.get("/boards/forum/posts")).json()["items"] == []


@pytest.mark.gen_test
async def test_hostile_text_is_stored_as_text(api):
    alice = await api.new_user("alice")
    title = "<img src=x onerror=alert(1)> ' OR 1=1 -- \"; db.posts.drop()"
    created = (await alice.post("/boards/forum/posts", {"title": title, "body": "x"})).json()
    fetched = (await api.get(f"/posts/{created['post']['id']}")).json()
    assert fetched["post"]["title"] == title


@pytest.mark.gen_test
async def test_cookie_writes_need_xsrf_but_bearer_writes_do_not(api, browser):
    await api.register("alice")
    await browser.log_in("alice")
    without = await browser.request(
        "POST",
        "/api/v1/boards/forum/posts",
        b'{"title": "t", "body": "b"}',
        {"Content-Type": "application/json"},
    )
    assert without.status == 403
    with_token = await browser.request(
        "POST",
        "/api/v1/boards/forum/posts",
        b'{"title": "t", "body": "b"}',
        {"Content-Type": "application/json", "X-XSRFToken": browser.cookies["_xsrf"]},
    )
    assert with_token.status == 201
    bearer = await api.login("alice")
    assert (await bearer.post("/boards/forum/posts", {"title": "t", "body": "b"})).status == 201


@pytest.mark.gen_test
async def test_healthz(api, http_client, base_url):
    response = await http_client.fetch(base_url + "/healthz")
    assert response.code == 200
    import json

    assert json.loads(response.body) == {"status": "ok", "store": "sqlite"}


@pytest.mark.gen_test
async def test_editing_someone_elses_post_is_not_author_and_a_late_edit_is_the_window(api, clock):
    alice = await api.new_user("alice")
    bob = await api.new_user("bob")
    post_id = (await alice.post("/boards/forum/posts", POST)).json()["post"]["id"]
    theirs = await bob.patch(f"/posts/{post_id}", {"title": "改别人的"})
    assert theirs.status == 403 and theirs.error["code"] == "not_author"
    clock.advance(minutes=31)
    late = await alice.patch(f"/posts/{post_id}", {"title": "晚了"})
    assert late.status == 403 and late.error["code"] == "edit_window_closed"


@pytest.mark.gen_test
async def test_pinned_posts_filling_a_page_leave_the_rest_of_the_board_reachable(api, store):
    from tests.support.people import person
    from forum.model import Role

    await person(store, "mod", Role.MODERATOR)
    mod = await api.login("mod")
    alice = await api.new_user("alice")
    ids = [
        (await alice.post("/boards/forum/posts", {"title": f"帖{i}", "body": "内容"})).json()[
            "post"
        ]["id"]
        for i in range(5)
    ]
    for post_id in ids[:3]:
        assert (await mod.post(f"/posts/{post_id}/moderate", {"action": "pin"})).status == 200
    seen, cursor = [], ""
    for _ in range(5):
        page = (await api.get(f"/boards/forum/posts?limit=3&cursor={cursor}")).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5


@pytest.mark.gen_test(timeout=30)
async def test_a_board_pages_back_as_well_as_forward(api, store, browser):
    from forum.model import Role
    from tests.support.people import person

    await person(store, "mod", Role.MODERATOR)
    mod = await api.login("mod")
    writers = [await api.new_user(f"writer{i}") for i in range(3)]
    ids = [
        (
            await writers[i % 3].post("/boards/forum/posts", {"title": f"帖{i}", "body": "内容"})
        ).json()["post"]["id"]
        for i in range(11)
    ]
    assert (await mod.post(f"/posts/{ids[0]}/moderate", {"action": "pin"})).status == 200
    pages, cursor = [], None
    while True:
        page = (
            await api.get("/boards/forum/posts?limit=4" + (f"&cursor={cursor}" if cursor else ""))
        ).json()
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    forward = [[p["id"] for p in page["items"]] for page in pages]
    assert sorted(sum(forward, [])) == sorted(ids) and "prev_cursor" not in pages[0]
    for number in range(len(pages) - 1, 0, -1):  # back from the last page to the first
        back = (
            await api.get(f"/boards/forum/posts?limit=4&before={pages[number]['prev_cursor']}")
        ).json()
        assert [p["id"] for p in back["items"]] == forward[number - 1], number
    both = await api.get(f"/boards/forum/posts?cursor={pages[0]['next_cursor']}&before=x")
    assert both.status == 422 and "before" in both.error["fields"]
    html = (await browser.get(f"/boards/forum?cursor={pages[0]['next_cursor']}")).text
    assert 'rel="prev"' in html and "上一页" in html
