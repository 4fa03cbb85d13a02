"""The pages and their forms, through HTTP as a browser uses them."""

from __future__ import annotations

import re

import pytest

from forum.model import Role
from tests.support.people import person
from tests.support.web import PASSWORD, Browser, form_errors


def post_id_from(location: str) -> str:
    match = re.fullmatch(r"/posts/([0-9a-f]{24})", location)
    assert match, location
    return match.group(1)


@pytest.mark.gen_test
async def test_home_shows_the_six_boards(browser):
    home = await browser.get("/")
    assert home.status == 200
    for name in (
        "强市论坛",
        "在线律师咨询",
        "涉税案件网上举报",
        "农业科技信箱",
        "市长书记信箱",
        "市长热线12345回复",
    ):
        assert name in home.text
    assert "Content-Security-Policy" in home.headers
    assert "unsafe-inline" not in home.headers["Content-Security-Policy"]
    assert home.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.gen_test
async def test_the_site_has_an_icon(browser):
    home = await browser.get("/")
    linked = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', home.text)
    assert linked, "no icon linked"
    svg = await browser.get(linked.group(1))
    assert svg.status == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    icon = await browser.get("/favicon.ico")  # asked for by browsers and readers on their own
    assert icon.status == 200
    assert icon.headers["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")


@pytest.mark.gen_test
async def test_register_form_logs_in_and_sets_a_safe_cookie(browser):
    response = await browser.submit(
        "/register", {"username": "alice", "password": PASSWORD, "display_name": "爱丽丝"}
    )
    assert response.status == 303
    cookie = next(c for c in response.headers.get_list("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "爱丽丝" in (await browser.get("/")).text


@pytest.mark.gen_test
async def test_register_form_errors_are_shown_by_field(browser):
    response = await browser.submit("/register", {"username": "a", "password": "short"})
    assert response.status == 422
    assert len(form_errors(response.text)) == 2
    assert 'value="a"' in response.text  # what was typed is kept


@pytest.mark.gen_test
async def test_register_form_says_a_taken_name_beside_the_name(browser, api):
    await api.register("alice")
    response = await browser.submit("/register", {"username": "Alice", "password": PASSWORD})
    assert response.status == 409
    assert 'id="username-error"' in response.text
    assert 'aria-describedby="username-hint username-error"' in response.text


@pytest.mark.gen_test
async def test_forms_without_xsrf_are_refused(browser, api):
    await api.register("alice")
    refused = await browser.submit(
        "/login", {"username": "alice", "password": PASSWORD}, xsrf=False
    )
    assert refused.status == 403
    await browser.log_in("alice")
    refused = await browser.submit("/boards/forum/new", {"title": "t", "body": "b"}, xsrf=False)
    assert refused.status == 403
    assert (await api.get("/boards/forum/posts")).json()["items"] == []


@pytest.mark.gen_test
async def test_login_form_wrong_password(browser, api):
    await api.register("alice")
    response = await browser.submit("/login", {"username": "alice", "password": "wrong-password"})
    assert response.status == 401 and "用户名或密码错误" in response.text
    assert "session" not in browser.cookies


@pytest.mark.gen_test
async def test_login_next_only_goes_to_local_paths(browser, api):
    await api.register("alice")
    for target, expected in (
        ("/boards/forum", "/boards/forum"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
    ):
        browser.cookies.pop("session", None)
        response = await browser.submit(
            "/login", {"username": "alice", "password": PASSWORD, "next": target}
        )
        assert response.headers["Location"] == expected


@pytest.mark.gen_test
async def test_write_reply_and_edit_through_forms(browser, api):
    await api.register("alice")
    await browser.log_in("alice")
    assert (await browser.get("/boards/forum/new")).status == 200
    created = await browser.submit(
        "/boards/forum/new",
        {
            "title": "<b>路灯</b>不亮",
            "body": "# 问题\n\n<script>alert('x')</script>",
            "category": "城市建设",
        },
    )
    assert created.status == 303
    post_id = post_id_from(created.headers["Location"])
    page = await browser.get(f"/posts/{post_id}")
    assert "&lt;b&gt;路灯&lt;/b&gt;不亮" in page.text and "<b>路灯" not in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    replied = await browser.submit(f"/posts/{post_id}", {"body": "已报修"})
    assert replied.status == 303 and "#reply-" in replied.headers["Location"]
    assert "已报修" in (await browser.get(f"/posts/{post_id}")).text
    assert (await browser.get(f"/posts/{post_id}/edit")).status == 200
    edited = await browser.submit(f"/posts/{post_id}/edit", {"title": "路灯不亮", "body": "修好了"})
    assert edited.status == 303
    assert "修好了" in (await browser.get(f"/posts/{post_id}")).text


@pytest.mark.gen_test
async def test_form_bad_input_is_422_with_the_field_marked(browser, api):
    await api.register("alice")
    await browser.log_in("alice")
    response = await browser.submit("/boards/forum/new", {"title": "", "body": "x" * 20_001})
    assert response.status == 422 and len(form_errors(response.text)) == 2
    created = await browser.submit("/boards/forum/new", {"title": "t", "body": "b"})
    post_id = post_id_from(created.headers["Location"])
    empty_reply = await browser.submit(f"/posts/{post_id}", {"form": "reply", "body": "   "})
    assert empty_reply.status == 422 and form_errors(empty_reply.text)
    invalid_utf8 = await browser.request(
        "POST",
        "/boards/forum/new",
        b"title=%FF%FE&body=x&_xsrf=" + (await browser.xsrf()).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= invalid_utf8.status < 500
    assert (await api.get("/boards/forum/posts")).json()["items"][0]["title"] == "t"


@pytest.mark.gen_test
async def test_visitors_are_sent_to_login(browser):
    for path in ("/boards/forum/new", "/me"):
        response = await browser.get(path)
        assert response.status == 303 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.gen_test
async def test_logout_needs_a_post(browser, api):
    await api.register("alice")
    await browser.log_in("alice")
    assert (await browser.get("/logout")).status == 200
    assert "session" in browser.cookies  # GET changes nothing
    assert (await browser.submit("/logout", {})).status == 303
    assert "session" not in browser.cookies
    assert (await browser.get("/me")).status == 303


@pytest.mark.gen_test
async def test_friendly_404_pages(browser):
    for path in ("/nowhere", "/boards/nope", "/posts/0123456789abcdef01234567"):
        response = await browser.get(path)
        assert response.status == 404 and "<html" in response.text, path


@pytest.mark.gen_test
async def test_board_page_lists_and_pages(browser, api, store):
    await person(store, "alice", Role.STAFF)  # staff are not rate limited
    alice = await api.login("alice")
    for i in range(25):
        await alice.post("/boards/forum/posts", {"title": f"第{i:02d}帖", "body": "x"})
    first = await browser.get("/boards/forum")
    assert "第24帖" in first.text and "第04帖" not in first.text
    next_link = re.search(r'href="(/boards/forum\?cursor=[^"]+)"', first.text)
    assert next_link
    second = await browser.get(next_link.group(1).replace("&amp;", "&"))
    assert "第04帖" in second.text and "第24帖" not in second.text
    assert (await browser.get("/boards/forum?cursor=garbage")).status == 422


@pytest.mark.gen_test
async def test_me_lists_own_posts(browser, api):
    alice = await api.new_user("alice")
    await alice.post("/boards/forum/posts", {"title": "我的帖子", "body": "x"})
    await browser.log_in("alice")
    assert "我的帖子" in (await browser.get("/me")).text


@pytest.mark.gen_test
async def test_the_hotline_write_page_is_for_officials(browser, api):
    await api.register("alice")
    await browser.log_in("alice")
    assert (await browser.get("/boards/hotline/new")).status == 403


@pytest.mark.gen_test
async def test_edit_page_is_refused_to_others_and_readers_see_the_edited_note(browser, api):
    alice = await api.new_user("alice")
    post = (await alice.post("/boards/forum/posts", {"title": "t", "body": "旧"})).json()["post"]
    await alice.patch(f"/posts/{post['id']}", {"body": "新"})
    await api.register("bob")
    await browser.log_in("bob")
    assert (await browser.get(f"/posts/{post['id']}/edit")).status == 403
    page = await browser.get(f"/posts/{post['id']}")
    assert "已编辑" in page.text and "修改前" not in page.text


@pytest.mark.gen_test
async def test_time_elements_carry_datetimes_html_accepts(browser, store):
    """HTML allows at most three fraction digits in <time datetime>: Python's isoformat writes
    six, which validators refuse."""
    import re
    from forum.services import posting
    from tests.support.people import person

    writer = await person(store, "writer")
    view = await posting.create_post(store, writer, "forum", {"title": "路灯", "body": "不亮"})
    await posting.add_reply(store, writer, view.post.id, "补充")
    page = (await browser.get(f"/posts/{view.post.id}")).text
    stamps = re.findall(r'<time datetime="([^"]*)"', page)
    assert stamps and all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s) for s in stamps
    ), stamps


@pytest.mark.gen_test
async def test_registering_from_a_login_prompt_keeps_where_the_visitor_was_going(browser):
    login = await browser.get("/login?next=%2Fboards%2Fmayor%2Fnew")
    assert 'href="/register?next=%2Fboards%2Fmayor%2Fnew"' in login.text
    form = await browser.get("/register?next=%2Fboards%2Fmayor%2Fnew")
    assert 'name="next" value="/boards/mayor/new"' in form.text
    done = await browser.submit(
        "/register",
        {"username": "newcomer", "password": "correct-horse-9", "next": "/boards/mayor/new"},
    )
    assert done.status == 303 and done.headers["Location"] == "/boards/mayor/new"
    landed = await browser.get("/boards/mayor/new")
    assert "欢迎，newcomer！" in landed.text
    assert "欢迎" not in (await browser.get("/boards/mayor/new")).text  # said once
    elsewhere = await browser.submit(
        "/register", {"username": "other", "password": "x", "next": "https://evil.example/"}
    )
    assert elsewhere.status == 422


@pytest.mark.gen_test
async def test_registration_reports_every_problem_at_once_a_taken_name_among_them(browser):
    await browser.submit("/register", {"username": "taken", "password": "correct-horse-9"})
    again = Browser(browser.http, browser.base)
    both = await again.submit(
        "/register", {"username": "taken", "password": "short", "email": "not-an-address"}
    )
    assert both.status == 422
    assert {"用户名已被使用", "不是有效的电子邮箱地址"} <= set(form_errors(both.text))
    only_name = await again.submit(
        "/register", {"username": "taken", "password": "correct-horse-9"}
    )
    assert only_name.status == 409


@pytest.mark.gen_test
async def test_visitors_are_offered_to_write_through_the_login_in_each_boards_words(browser):
    home = (await browser.get("/")).text
    for board, label in (
        ("mayor", "登录后写信"),
        ("lawyer", "登录后提问"),
        ("agri", "登录后提问"),
        ("forum", "登录后发帖"),
    ):
        link = f'href="/login?next=%2Fboards%2F{board}%2Fnew">{label}<'
        assert link in home, board
        assert link in (await browser.get(f"/boards/{board}")).text, board
    assert 'href="/boards/tax/new">举报<' in home  # reports need no account
    assert "/login?next=%2Fboards%2Fhotline%2Fnew" not in home  # officials only


@pytest.mark.gen_test(timeout=30)
async def test_the_home_page_and_the_case_boards_show_this_years_figures(browser, store):
    from forum.model import Role
    from tests.support.casework import letter_until
    from tests.support.people import person

    writer = await person(store, "writer")
    mod = await person(store, "mod", Role.MODERATOR)
    clerk = await person(store, "clerk", Role.STAFF, department="housing")
    await letter_until(store, writer, mod, clerk, "submitted")
    await letter_until(store, writer, mod, clerk, "closed")
    home = (await browser.get("/")).text
    facts = re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", home)
    assert facts == [("收到", "2"), ("已答复", "1"), ("办结率", "100.0%"), ("满意率", "100.0%")]
    assert 'href="/stats?from=' in home
    mayor = (await browser.get("/boards/mayor")).text
    assert "市长书记信箱：今年的办理情况" in mayor
    assert "今年的办理情况" not in (await browser.get("/boards/forum")).text


@pytest.mark.gen_test(timeout=30)
async def test_the_mayor_board_lists_who_handles_each_letter_when_it_was_answered_and_overdue(
    browser, store, clock
):
    import datetime as dt
    from forum.model import Role
    from forum.services import cases, moderation, posting
    from tests.support.people import person

    writer = await person(store, "writer")
    mod = await person(store, "mod", Role.MODERATOR)
    clerk = await person(store, "clerk", Role.STAFF, department="housing")
    letters = []
    for title in ("路灯不亮", "井盖缺失"):
        view = await posting.create_post(
            store,
            writer,
            "mayor",
            {
                "title": title,
                "body": "请处理",
                "letter_type": "complaint",
                "area": "city",
                "contact": "138",
                "public": True,
            },
        )
        await moderation.moderate(store, mod, view.post.id, "accept")
        await cases.route_case(store, mod, view.post.id, "housing", 1)
        letters.append(view.post.id)
    await posting.add_reply(store, clerk, letters[0], "已修好")
    clock.advance(dt.timedelta(days=10))  # the other one is now past its one working day
    page = (await browser.get("/boards/mayor")).text
    items = page.split('<li class="post-summary')[1:]
    late = next(item for item in items if "井盖缺失" in item)
    answered = next(item for item in items if "路灯不亮" in item)
    assert "承办：住房和城乡建设局" in late and "已超期" in late and "答复于" not in late
    assert "答复于" in answered and "已超期" not in answered


@pytest.mark.gen_test(timeout=30)
async def test_me_puts_the_writers_own_letters_first_and_opening_a_notice_reads_it(browser, store):
    from forum.model import Role
    from forum.services import cases, moderation, posting
    from tests.support.people import person

    writer = await person(store, "writer")
    mod = await person(store, "mod", Role.MODERATOR)
    clerk = await person(store, "clerk", Role.STAFF, department="housing")
    view = await posting.create_post(
        store,
        writer,
        "mayor",
        {
            "title": "路灯不亮",
            "body": "请修",
            "letter_type": "complaint",
            "area": "city",
            "contact": "138",
            "public": True,
        },
    )
    await moderation.moderate(store, mod, view.post.id, "accept")
    await cases.route_case(store, mod, view.post.id, "housing")
    await posting.add_reply(store, clerk, view.post.id, "已修好")
    await browser.log_in("writer")
    me = (await browser.get("/me")).text
    assert (
        me.index("own-posts-heading")
        < me.index("notifications-heading")
        < me.index("profile-heading")
    )
    assert f'href="/posts/{view.post.id}#rating-heading">待评价<' in me
    unread = await store.count_unread(writer.id)
    assert unread >= 1
    notices = re.findall(r'href="(/me/notifications/[0-9a-f]{24}\?post=[0-9a-f]{24})"', me)
    opened = await browser.get(notices[0])
    assert opened.status == 303 and opened.headers["Location"] == f"/posts/{view.post.id}"
    assert await store.count_unread(writer.id) == unread - 1
    stranger = Browser(browser.http, browser.base)
    assert (await stranger.get(notices[0])).status == 303  # to the login, nothing read
