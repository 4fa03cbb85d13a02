"""A tour of the pages the journeys do not reach, by role, in Chinese and then in English (the
header's switch), each through `Person.check` (axe, fields and errors, 375 px, CSP, screenshots
at both widths); in English, also no Chinese UI chrome outside what people wrote. Content is
made through the JSON API beforehand (the journeys make it by clicks); the tour opens pages by
their addresses and submits their forms."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest

from forum.boards import BOARD_ORDER
from forum.workflow import CHINA_STANDARD_TIME
from tests.e2e.conftest import PASSWORD, PHONE
from tests.support.translations import chinese_chrome

LANGUAGES = ("zh", "en")
ANSWERED = "装修公司拖欠农民工工资，可以去哪里投诉"
ASKING = "装修公司拖欠工资去哪里投诉"
FORUM_POST = "玉溪大河步道晚上太黑，能不能加几盏灯"
ROUTED_LETTER = "玉带路菜市场门口占道经营，早高峰堵车"
PENDING_LETTER = "东风广场夜间噪音扰民"
EXTENDED_LETTER = "红塔区北苑路人行道地砖大面积破损"
DUPLICATE_LETTER = "北苑路人行道地砖破损，老人摔倒"
CALLED_LETTER = "玉溪大河沿线垃圾桶满溢无人清运"
# What the officials and the writer typed into the casework letters: content, not chrome.
REAL_NAME = "王玉兰"
NOTE = "已派人现场测量，需整段翻修。"
EXTENSION_REASON = "需整段翻修，并与红塔区协调施工占道。"
MERGE_REASON = "同一路段的人行道，合并办理。"
CALLBACK_NOTE = "电话无人接听，已发短信。"
CASEWORK_TYPED = [REAL_NAME, NOTE, EXTENSION_REASON, MERGE_REASON, CALLBACK_NOTE]
DEEP_PAGE_POSTS = 21  # one more than a page
# A tracking code of today's length (28 characters in groups of 4) that no case has.
NOTHING = "火星移民签证办理"
UNKNOWN_CODE = "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345"
# What people wrote, inside the tags that hold it: not UI chrome.
DUPLICATE_IDS = """() => {
  const seen = new Set(), twice = new Set();
  for (const el of document.querySelectorAll("[id]")) {
    (seen.has(el.id) ? twice : seen).add(el.id);
  }
  return [...twice];
}"""
# What people wrote, shown as written in either language (an extension's reason is the
# department's own words).
CONTENT_CLASSES = {"post-body", "snippet", "audit-detail", "author", "extension-reason"}


@pytest.fixture(scope="module")
def tour(server):
    """A citizen with a forum post, an answered question, a routed letter and a pending one
    (so the workspace, the queue, the department, /me's notifications and the similar-
    questions step have something to show), and a forum board two pages long."""
    made = server.api(
        "POST",
        "/auth/register",
        {"username": "tour_citizen", "password": PASSWORD, "display_name": "玉带路居民"},
    )
    assert made["user"]["username"] == "tour_citizen"
    citizen, lawyer = server.token("tour_citizen"), server.token("e2e_lawyer")
    moderator = server.token("e2e_mod")

    def post(board, token, **fields):
        return server.api("POST", f"/boards/{board}/posts", fields, token)["post"]["id"]

    # Officials are not throttled: the moderator fills the forum's second page.
    for n in range(DEEP_PAGE_POSTS):
        post(
            "forum",
            moderator,
            title=f"城区路灯巡查记录（第 {n + 1} 期）",
            body="本期巡查红塔区主干道路灯，损坏的已报修。",
        )
    forum = post("forum", citizen, title=FORUM_POST, body="从聂耳公园到玉溪大河桥这一段没有路灯。")
    server.api("POST", f"/posts/{forum}/replies", {"body": "同感，晚上跑步看不清路。"}, moderator)
    question = post(
        "lawyer", citizen, title=ANSWERED, body="给装修公司干了两个月活，老板拖着不给工资。"
    )
    answer = server.api(
        "POST",
        f"/posts/{question}/replies",
        {"body": "可以向人社局劳动保障监察投诉，也可以申请劳动仲裁。"},
        lawyer,
    )["reply"]["id"]
    server.api("POST", f"/posts/{question}/accept", {"reply_id": answer}, citizen)
    routed = post(
        "mayor",
        citizen,
        title=ROUTED_LETTER,
        body="每天早上七点到九点，摊贩占了半条路。",
        contact="13987654321",
        public=True,
        letter_type="complaint",
        area="city",
    )
    server.api("POST", f"/posts/{routed}/moderate", {"action": "accept"}, moderator)
    server.api("POST", f"/posts/{routed}/route", {"department": "housing"}, moderator)
    pending = post(
        "mayor",
        citizen,
        title=PENDING_LETTER,
        body="广场舞音响开到晚上十点半。",
        contact="0877-2012345",
        public=True,
        letter_type="complaint",
        area="hongta",
    )

    # The second release's casework, for the case pages of each role: a letter with a
    # helper, an internal note and an extension awaiting the moderators; a duplicate merged
    # into it (its writer follows it); a replied letter with a callback that did not reach
    # the writer.
    clerk = server.token("e2e_housing")

    def routed_letter(title, body):
        made = post(
            "mayor",
            citizen,
            title=title,
            body=body,
            contact="13987654321",
            public=True,
            letter_type="complaint",
            area="hongta",
            real_name=REAL_NAME,
        )
        server.api("POST", f"/posts/{made}/moderate", {"action": "accept"}, moderator)
        server.api(
            "POST",
            f"/posts/{made}/route",
            {"department": "housing", "helpers": ["gov-hongta"]},
            moderator,
        )
        return made

    extended = routed_letter(EXTENDED_LETTER, "从北苑路口到菜市场一段，地砖松动翘起。")
    server.api("POST", f"/posts/{extended}/notes", {"body": NOTE}, clerk)
    server.api(
        "POST", f"/posts/{extended}/extension", {"days": 5, "reason": EXTENSION_REASON}, clerk
    )
    duplicate = post(
        "mayor",
        citizen,
        title=DUPLICATE_LETTER,
        body="北苑路人行道地砖翘起，昨天邻居老人摔倒了。",
        contact="13987654321",
        public=True,
        letter_type="complaint",
        area="hongta",
        real_name=REAL_NAME,
    )
    server.api(
        "POST", f"/posts/{duplicate}/merge", {"into": extended, "reason": MERGE_REASON}, moderator
    )
    called = routed_letter(CALLED_LETTER, "大河沿线的垃圾桶经常满了两三天没人清运，夏天气味很大。")
    server.api(
        "POST",
        f"/posts/{called}/replies",
        {"body": "已责成环卫公司每天清运两次，并增设垃圾桶六个。"},
        clerk,
    )
    server.api(
        "POST", f"/posts/{called}/callback", {"reached": False, "note": CALLBACK_NOTE}, moderator
    )
    return {
        "forum": forum,
        "question": question,
        "routed": routed,
        "pending": pending,
        "extended": extended,
        "duplicate": duplicate,
        "called": called,
    }


def user_content(server) -> list[str]:
    """Names and titles people gave, as the admin sees them: they stay as written in English."""
    admin = server.token("e2e_admin")
    texts = [
        u["display_name"] for u in server.api("GET", "/admin/users?limit=100", token=admin)["items"]
    ]
    for board in BOARD_ORDER:
        items = server.api("GET", f"/boards/{board}/posts?limit=100", token=admin)["items"]
        texts += [item["title"] for item in items]
    return sorted({t for t in texts if t}, key=len, reverse=True)


class Tour:
    """One person's walk in one language."""

    def __init__(self, person, lang: str, content: list[str]):
        self.person, self.lang, self.content = person, lang, content

    def open(self, path: str) -> None:
        self.person.page.goto(self.person.server.url + path)

    def look(self, name: str, axe: bool = True, extra_content=(), typed=()) -> None:
        """The page's checks; in English also no Chinese chrome, apart from the content and
        what was `typed` into the page."""
        self.person.check(f"{name}-{self.lang}", axe=axe)
        page = self.person.page
        if axe:  # axe 4 no longer reports these under WCAG 2.2; labels by id still need them
            twice = page.evaluate(DUPLICATE_IDS)
            assert not twice, f"ids used twice on {page.url}: {twice}"
        if self.lang == "en":
            assert page.get_attribute("html", "lang") == "en-US", page.url
            html = page.content()
            for text in [*typed, *self.content]:
                html = html.replace(text, "")
            found = chinese_chrome(html, CONTENT_CLASSES | set(extra_content))
            assert not found, f"Chinese UI chrome on {page.url}: {found}"

    def visit(self, path: str, name: str, **options) -> None:
        self.open(path)
        self.look(name, **options)


def in_both_languages(person, walk, content) -> None:
    walk(Tour(person, "zh", []))
    person.open_site()  # the last page may have no switch (the API docs)
    person.click("header button[name=lang][value=en_US]")
    walk(Tour(person, "en", content))


def test_visitor_tour(people, server, tour):
    visitor = people("visitor")
    visitor.open_site()
    page = visitor.page

    def walk(t: Tour) -> None:
        t.open("/boards/forum")
        visitor.click("main .pagination a[rel=next]")
        assert "cursor=" in page.url
        t.look("forum-page-2")
        t.visit("/search?q=" + quote(NOTHING), "search-nothing", typed=[NOTHING])
        assert page.locator(".search-result").count() == 0
        t.open("/track")
        page.fill("#code", UNKNOWN_CODE)
        visitor.submit("form.track-form")
        assert page.get_attribute("#code", "aria-invalid") == "true"
        t.look("track-unknown")
        t.visit("/no/such/page", "not-found")
        t.open("/login")
        page.fill("#username", "tour_nobody")
        page.fill("#password", "wrong-password-1")
        visitor.submit("form[action='/login']")
        assert page.locator("main .alert[role=alert]").count() == 1
        t.look("login-error")
        t.open("/register")
        page.fill("#username", "e2e_admin")  # taken
        page.fill("#password", PASSWORD)
        visitor.submit("form[action='/register']")
        assert page.get_attribute("#username", "aria-invalid") == "true"
        t.look("register-error")
        t.visit("/forgot-password", "forgot-password")
        page.fill("#username", "tour_citizen")
        visitor.submit("form[action='/forgot-password']")
        token = "t0ur" * 8  # no such link: the page says so, with its form
        t.open(f"/reset-password/{token}")
        page.fill("#new_password", "another-horse-7")
        visitor.submit(f"form[action='/reset-password/{token}']")
        t.look("reset-password-error")
        t.visit("/users/e2e_lawyer", "lawyer-profile")  # answerers' profiles are public
        assert page.locator("main h1").inner_text() == "王律师"
        # This month's bulletin (the server shares the test's clock) and a department's record.
        month = dt.datetime.now(CHINA_STANDARD_TIME).strftime("%Y-%m")
        t.visit(f"/stats/{month}", "bulletin")
        assert page.locator("main .table-download a").count() >= 5
        t.visit("/departments/transport", "department-public")
        # Redoc draws the API reference: its own markup, so no axe; CSP and width still count.
        t.visit("/api/docs", "api-docs", axe=False, typed=["玉溪网互动交流", "玉溪网"])
        page.wait_for_selector("[role=search], .api-content, h1", timeout=15_000)

    in_both_languages(visitor, walk, user_content(server))

    # 关怀版 on a phone: a whole tracking code fits its field.
    visitor.open_site()
    visitor.click("header button.care-switch")
    visitor.click("header button[name=lang][value=zh_CN]")
    t = Tour(visitor, "zh", [])
    t.open("/track")
    page.fill("#code", UNKNOWN_CODE)
    page.set_viewport_size(PHONE)
    overflow = page.evaluate(
        "(() => { const el = document.querySelector('#code');"
        " return el.scrollWidth - el.clientWidth; })()"
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    assert overflow <= 0, f"the code is {overflow} px wider than its field"
    visitor.submit("form.track-form")
    t.look("track-unknown-care")
    t.open("/boards/forum")
    visitor.click("main .pagination a[rel=next]")
    t.look("forum-page-2-care")


def test_citizen_tour(people, server, tour):
    citizen = people("citizen")
    citizen.open_site()
    citizen.log_in("tour_citizen")
    page = citizen.page

    def walk(t: Tour) -> None:
        t.visit("/me", "me")
        assert page.locator("#notifications .notification").count() >= 1
        assert page.locator(f"#following a[href='/posts/{tour['extended']}']").count() == 1
        t.visit(f"/posts/{tour['duplicate']}", "merged-letter", typed=CASEWORK_TYPED)
        assert page.locator(f".case-summary a[href='/posts/{tour['extended']}']").count() == 1
        t.visit(f"/posts/{tour['called']}", "called-back-letter", typed=CASEWORK_TYPED)
        t.visit("/password", "password")
        page.fill("#current_password", "not-my-password")
        page.fill("#new_password", "another-horse-7")
        citizen.submit("form[action='/password']")
        assert page.get_attribute("#current_password", "aria-invalid") == "true"
        t.look("password-error")
        t.visit(f"/posts/{tour['forum']}/edit", "edit-post")
        t.visit(f"/posts/{tour['routed']}", "own-letter")
        # The similar-questions step without JavaScript: the button sends the form.
        page.route(
            "**/static/site.js*",
            lambda route: route.fulfill(body="", content_type="application/javascript"),
        )
        t.open("/boards/lawyer/new")
        page.fill("#title", ASKING)
        citizen.click("#similar-button")
        assert ANSWERED in page.inner_text("#similar")
        t.look("similar-no-js", typed=[ASKING])
        page.unroute("**/static/site.js*")
        # With JavaScript: answered questions appear while the title is typed.
        t.open("/boards/lawyer/new")
        page.locator("#title").press_sequentially(ASKING)
        page.wait_for_selector("#similar .similar-panel")
        assert ANSWERED in page.inner_text("#similar")
        t.look("similar-live", typed=[ASKING])
        citizen.click("#similar-button")
        assert "/search/similar" in page.url and "board=lawyer" in page.url
        assert page.locator(f"main a:has-text({ANSWERED!r})").count() == 1
        t.look("similar-page", typed=[ASKING])

    in_both_languages(citizen, walk, user_content(server))


def test_lawyer_tour(people, server, tour):
    lawyer = people("lawyer")
    lawyer.open_site()
    lawyer.log_in("e2e_lawyer")

    def walk(t: Tour) -> None:
        t.visit("/workspace", "workspace")
        t.visit("/users/e2e_lawyer", "own-profile")

    in_both_languages(lawyer, walk, user_content(server))


def test_moderator_tour(people, server, tour):
    moderator = people("moderator")
    moderator.open_site()
    moderator.log_in("e2e_mod")

    def walk(t: Tour) -> None:
        t.visit("/moderation", "queue")
        assert moderator.page.locator(f"main a:has-text({PENDING_LETTER!r})").count() == 1
        t.visit(f"/posts/{tour['pending']}", "pending-letter")
        t.visit(f"/posts/{tour['extended']}", "extension-to-decide", typed=CASEWORK_TYPED)
        assert moderator.page.locator("form[action$='/extension/decision']").count() == 1
        t.visit(f"/posts/{tour['duplicate']}", "merged-letter", typed=CASEWORK_TYPED)
        t.visit(f"/posts/{tour['called']}", "called-back-letter", typed=CASEWORK_TYPED)
        assert moderator.page.locator(".case-summary .rating-history li").count() == 1

    in_both_languages(moderator, walk, user_content(server))


def test_staff_tour(people, server, tour):
    clerk = people("staff")
    clerk.open_site()
    clerk.log_in("e2e_housing")

    def walk(t: Tour) -> None:
        t.visit("/departments/housing", "department")
        assert clerk.page.locator(f"main a:has-text({ROUTED_LETTER!r})").count() == 1
        t.visit(f"/posts/{tour['routed']}", "routed-letter")
        assert clerk.page.locator("form[action$='/extension']").count() == 1
        t.visit(f"/posts/{tour['extended']}", "extension-asked", typed=CASEWORK_TYPED)
        assert clerk.page.locator("article.reply-internal").count() == 1
        t.visit(f"/posts/{tour['called']}", "called-back-letter", typed=CASEWORK_TYPED)

    in_both_languages(clerk, walk, user_content(server))


def test_admin_tour(people, server, tour):
    admin = people("admin")
    admin.open_site()
    admin.log_in("e2e_admin")

    def walk(t: Tour) -> None:
        t.visit("/admin", "admin")
        t.visit("/admin/users/tour_citizen", "admin-user")
        t.visit("/admin/settings", "settings")
        # The reasons moderators typed are content too.
        t.visit("/admin/audit", "audit", extra_content={"cell-wrap"})

    in_both_languages(admin, walk, user_content(server))
