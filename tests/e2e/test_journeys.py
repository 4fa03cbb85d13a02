"""The journeys of PRODUCT.md in real Chromium, each through clicks and typing only (the first
by keyboard alone), with axe-core, the phone width and screenshots checked on every page (see
conftest.py). Elements are found by id, name, href and role rather than by their Chinese text,
which the translations change; user content (titles) is found by its text."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PASSWORD

MAX_TABS = 80


def tab_to(person, selector: str) -> None:
    """Press Tab until the element matching `selector` has the focus, checking on the way that
    every element that gets the focus shows it (an outline or a box shadow)."""
    page = person.page
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        state = page.evaluate(
            """(selector) => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          if (el === document.body) return {hit: false, visible: true, what: "body"};
          return {hit: el.matches(selector),
                  what: el.outerHTML.slice(0, 120),
                  visible: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
                           || style.boxShadow !== "none"};
        }""",
            selector,
        )
        assert state["visible"], f"no visible focus on {state['what']}"
        if state["hit"]:
            return
    raise AssertionError(f"{selector} not reached by Tab")


def key_open(person, selector: str) -> None:
    """Tab to a link or button and press Enter; wait for the page it leads to."""
    tab_to(person, selector)
    with person.page.expect_navigation():
        person.page.keyboard.press("Enter")


def key_type(person, selector: str, text: str) -> None:
    tab_to(person, selector)
    person.page.keyboard.type(text)


def test_forum_by_keyboard_alone(people):
    """Register (first with a taken name: the error is tied to its field), log out, log in,
    post, reply, log out: Tab, Enter and typing only."""
    alice = people("citizen")
    alice.open_site()
    alice.check("home")
    # The skip link is the first stop and moves to the main content.
    tab_to(alice, "a.skip-link")
    alice.page.keyboard.press("Enter")
    assert alice.page.evaluate("document.activeElement.id") == "main"

    alice.page.keyboard.press("Shift+Tab")  # back before the header, whatever had the focus
    key_open(alice, "header a[href='/register']")
    alice.check("register")
    key_type(alice, "#username", "e2e_mod")  # an official's name: taken
    key_type(alice, "#password", PASSWORD)
    alice.page.keyboard.press("Enter")
    alice.page.wait_for_selector(".error-summary")
    described = alice.page.get_attribute("#username", "aria-describedby").split()
    assert "username-error" in described
    assert alice.page.get_attribute("#username", "aria-invalid") == "true"
    assert alice.page.locator("#username-error").is_visible()
    alice.check("register-error")

    alice.page.fill("#username", "")  # emptied, then typed again
    alice.page.focus("#username")
    alice.page.keyboard.type("e2e_alice")
    key_type(alice, "#display_name", "红塔区市民小李")
    key_type(alice, "#password", PASSWORD)
    with alice.page.expect_navigation():
        alice.page.keyboard.press("Enter")
    assert alice.page.locator("header a[href='/logout']").count() == 1

    key_open(alice, "header a[href='/logout']")
    alice.check("logout")
    key_open(alice, "form[action='/logout'] button[type=submit]")
    key_open(alice, "header a[href^='/login']")
    alice.check("login")
    key_type(alice, "#username", "e2e_alice")
    key_type(alice, "#password", PASSWORD)
    with alice.page.expect_navigation():
        alice.page.keyboard.press("Enter")
    assert alice.page.locator("header a[href='/logout']").count() == 1

    key_open(alice, "nav.board-nav a[href='/boards/forum']")
    alice.check("forum")
    key_open(alice, "main a[href='/boards/forum/new']")
    alice.check("new-post")
    key_type(alice, "#title", "聂耳公园的路灯坏了")
    key_type(alice, "#body", "**三盏**路灯不亮，晚上散步很黑。")
    key_open(alice, "#post-form button[type=submit]")
    assert alice.page.inner_text("h1") == "聂耳公园的路灯坏了"
    assert alice.page.inner_text(".post-body strong") == "三盏"
    alice.check("post")

    key_type(alice, ".reply-form #body", "补充：是靠近东门的那三盏。")
    key_open(alice, ".reply-form button[type=submit]")
    assert "靠近东门" in alice.page.inner_text(".replies")
    alice.check("post-replied")

    key_open(alice, "header a[href='/logout']")
    key_open(alice, "form[action='/logout'] button[type=submit]")
    assert alice.page.locator("header a[href^='/login']").count() == 1
    alice.check("logged-out")


def test_lawyer_answers_and_the_asker_accepts(people):
    asker = people("citizen")
    asker.open_site()
    asker.register("e2e_worker", "打工人老周")
    asker.click("nav.board-nav a[href='/boards/lawyer']")
    asker.check("lawyer-board")
    asker.click("main a[href='/boards/lawyer/new']")
    asker.page.fill("#title", "公司拖欠三个月工资，劳动合同还没签怎么办")
    asker.page.fill("#body", "在玉溪一家餐馆做了半年，老板一直没签劳动合同，最近三个月工资没发。")
    asker.page.check("#anonymous")
    asker.check("ask")
    asker.submit("#post-form")
    title = "公司拖欠三个月工资，劳动合同还没签怎么办"
    assert asker.page.inner_text("h1") == title
    assert asker.page.locator(".status-open").count() == 1
    asker.check("question")

    lawyer = people("lawyer")
    lawyer.open_site()
    lawyer.log_in("e2e_lawyer")
    lawyer.click("header button[name=lang][value=en_US]")  # this lawyer reads English
    assert lawyer.page.get_attribute("html", "lang") == "en-US"
    lawyer.click("header a[href='/workspace']")
    lawyer.check("workspace")
    lawyer.click("nav.board-nav a[href='/boards/lawyer']")
    lawyer.click(f"main a:has-text({title!r})")
    lawyer.page.fill(
        ".reply-form #body",
        "未签书面劳动合同超过一个月的，可以要求支付二倍工资；"
        "拖欠工资可向人社局劳动监察投诉，或申请劳动仲裁。",
    )
    lawyer.submit(".reply-form")
    assert lawyer.page.locator(".reply-answer").count() == 1
    lawyer.check("answered")

    asker.notification_to(title)
    asker.check("answer-arrived")
    asker.submit(".accept-form")
    assert asker.page.locator(".status-resolved").count() == 1
    assert asker.page.locator(".reply.is-accepted").count() == 1
    asker.check("accepted")


def test_mayor_letter_from_writing_to_closing(people):
    title = "红塔区玉兴路小区楼道灯长期不亮"
    writer = people("citizen")
    writer.open_site()
    writer.register("e2e_writer", "玉兴路居民")
    writer.click("nav.board-nav a[href='/boards/mayor']")
    writer.check("mayor-board")
    writer.write_letter(
        title,
        "小区 3 栋楼道灯坏了两个月，物业一直不修，老人晚上上下楼很危险。",
        "complaint",
        "hongta",
        "李建华",
        "13812345678",
        public=True,
        check="write",
    )
    assert re.search(r"/posts/[0-9a-f]{24}$", writer.page.url)  # the letter, after See Other
    assert re.fullmatch(r"[A-Z0-9][A-Z0-9-]{15,}", writer.page.inner_text("#tracking-code").strip())
    writer.check("submitted")

    moderator = people("moderator")
    moderator.open_site()
    moderator.log_in("e2e_mod")
    moderator.click("header button[name=lang][value=en_US]")  # the bureau's pages in English
    assert moderator.page.get_attribute("html", "lang") == "en-US"
    moderator.click("header a[href='/moderation']")
    moderator.check("queue")
    moderator.click(f"main a:has-text({title!r})")
    moderator.check("letter")
    moderator.submit("form:has(input[name=action][value=accept])")
    assert moderator.page.locator(".case-summary .status-accepted").count() == 1
    moderator.page.select_option("#department", "housing")
    moderator.page.fill("#note", "请核实楼道照明情况并督促物业维修。")
    moderator.check("accepted")
    moderator.submit("form.route-form")
    assert moderator.page.locator(".case-summary .status-routed").count() == 1
    moderator.check("routed")

    clerk = people("staff")
    clerk.open_site()
    clerk.log_in("e2e_housing")
    clerk.click("header a[href='/departments/housing']")
    clerk.check("department")
    clerk.click(f"main a:has-text({title!r})")
    clerk.page.fill(
        ".reply-form #body", "已联系物业公司，3 栋楼道灯已于本周更换，今后每月巡查一次。"
    )
    clerk.submit(".reply-form")
    assert clerk.page.locator(".case-summary .status-replied").count() == 1
    clerk.check("replied")

    writer.notification_to(title)
    writer.check("reply-arrived")
    writer.page.check("#score-satisfied")
    writer.page.fill("#comment", "灯修好了，谢谢！")
    writer.submit(".rating-form")
    assert writer.page.locator(".case-summary .status-closed").count() == 1
    assert writer.page.locator(".case-summary .rating-satisfied").count() == 1
    writer.check("closed")


def test_anonymous_tax_report_then_tracking(people):
    title = "某建材店长期不开发票"
    visitor = people("visitor")
    visitor.open_site()
    visitor.click("nav.board-nav a[href='/boards/tax']")
    visitor.check("tax-board")
    visitor.click("main a[href='/boards/tax/new']")
    visitor.page.fill("#title", title)
    visitor.page.fill("#body", "红塔区某建材店购物一律不开发票，要发票就加收 6% 的“税点”。")
    visitor.check("report")
    visitor.submit("#post-form")
    # See Other to the tracking page, which shows the code this once.
    assert visitor.page.url.endswith("/track")
    code = visitor.page.inner_text("#tracking-code").strip()
    assert re.fullmatch(r"[A-Z0-9][A-Z0-9-]{15,}", code)
    assert code not in visitor.page.url
    visitor.check("submitted")

    visitor.page.reload()  # files nothing again, and the code is gone
    assert visitor.page.locator("#tracking-code").count() == 0
    visitor.check("track")
    visitor.page.fill("#code", code.lower())  # not case-sensitive
    visitor.submit("form.track-form")
    assert visitor.page.inner_text("#case-title") == title
    assert visitor.page.locator(".case-timeline").count() == 1
    visitor.check("tracked")

    # 补充材料 through the code: back on the case, the code in no URL.
    visitor.page.fill("#supplement-body", "补充：该店还有一个分店，同样不开发票。")
    visitor.submit("form.supplement-form")
    assert visitor.page.url.endswith("/track") and code not in visitor.page.url
    assert visitor.page.inner_text("#case-title") == title
    assert "该店还有一个分店" in visitor.page.inner_text(".replies")
    visitor.check("supplemented")

    visitor.page.fill("#code", "ABCDEFGHJKLMNPQR")
    visitor.submit("form.track-form")
    assert "code-message" in visitor.page.get_attribute("#code", "aria-describedby")
    visitor.check("unknown-code")


def test_search_in_chinese(people):
    writer = people("citizen")
    writer.open_site()
    writer.register("e2e_farmer", "澄江果农")
    writer.click("nav.board-nav a[href='/boards/forum']")
    writer.click("main a[href='/boards/forum/new']")
    writer.page.fill("#title", "签了劳动合同纠纷调解协议后还能反悔吗")
    writer.page.fill("#body", "去年在果园打工，和老板的劳动合同纠纷已经调解。")
    writer.submit("#post-form")

    reader = people("visitor")
    reader.open_site()
    reader.page.fill("#site-search-q", "劳动合同")
    with reader.page.expect_navigation():
        reader.page.press("#site-search-q", "Enter")
    results = reader.page.locator(".search-results .search-result")
    assert "签了劳动合同纠纷调解协议后还能反悔吗" in results.all_inner_texts()[0]
    assert reader.page.locator(".search-results mark").count() >= 1
    reader.check("results")
    reader.page.select_option("#board", "lawyer")
    reader.submit("form.search-page-form")
    assert reader.page.locator(".search-result:has-text('签了劳动合同纠纷调解协议')").count() == 0
    reader.check("results-in-lawyer-board")
    reader.page.fill("#q", "路灯不亮 晚上")
    reader.page.select_option("#board", "")
    reader.submit("form.search-page-form")
    reader.check("results-other-words")


@pytest.fixture
def routed_cases(server):
    """Cases in two departments, one of them answered, so the statistics page draws its charts
    (a department whose cases are all still within their time has no rate to draw). Made
    through the JSON API: this journey is about reading the figures, not making them."""
    moderator = server.token("e2e_mod")
    writer = server.api("POST", "/auth/register", {"username": "e2e_stats", "password": PASSWORD})
    assert writer["user"]["username"] == "e2e_stats"
    token = server.token("e2e_stats")
    for department, title in (
        ("transport", "公交 12 路晚班车太少"),
        ("housing", "小区电梯经常停运"),
    ):
        made = server.api(
            "POST",
            "/boards/mayor/posts",
            {
                "title": title,
                "body": "希望有关部门研究解决。",
                "letter_type": "complaint",
                "area": "city",
                "contact": "0877-1234567",
                "public": True,
            },
            token,
        )
        post_id = made["post"]["id"]
        server.api("POST", f"/posts/{post_id}/moderate", {"action": "accept"}, moderator)
        server.api("POST", f"/posts/{post_id}/route", {"department": department}, moderator)
    server.api(
        "POST",
        f"/posts/{post_id}/replies",
        {"body": "已联系物业公司检修电梯。"},
        server.token("e2e_housing"),
    )


def test_statistics_page(people, routed_cases):
    visitor = people("visitor")
    visitor.open_site()
    visitor.click("footer a[href='/stats']")
    page = visitor.page
    sections = page.locator("main section:has(svg.chart-svg)")
    assert sections.count() == 2
    for i in range(sections.count()):
        # Each chart is an image with a name and a description, and its figures are also
        # in a table after it.
        section = sections.nth(i)
        chart = section.locator("svg.chart-svg")
        assert chart.get_attribute("role") == "img"
        assert chart.locator("title").text_content() and chart.locator("desc").text_content()
        assert section.locator(".chart ~ .table-scroll table.data-table tbody tr").count() >= 1
    assert page.locator("#boards-caption").count() == 1
    visitor.check("stats")
    page.fill("#from", "2020-01-01")
    page.fill("#to", "2020-02-01")
    visitor.submit("form.stats-form")
    assert page.locator("svg.chart-svg").count() == 0
    visitor.check("stats-empty-period")


def font_size(person, selector: str) -> float:
    return person.page.evaluate(
        "(s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize)", selector
    )


SMALL_TEXT = """(least) => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || el.closest(".visually-hidden")) continue;
    if (parseFloat(style.fontSize) < least) {
      out.push(el.tagName.toLowerCase() + "." + [...el.classList].join(".") + " " + style.fontSize);
    }
  }
  return out;
}"""


def assert_care_text(person) -> None:
    """In 关怀版 no visible text is smaller than 19 px."""
    small = person.page.evaluate(SMALL_TEXT, 18.9)
    assert not small, small


def test_language_switch_and_care_mode(people):
    """中文 → English across several pages, then 关怀版 (larger text, underlined links, one
    column), kept in cookies from page to page, then back."""
    reader = people("visitor")
    reader.open_site()
    page = reader.page
    assert page.get_attribute("html", "lang") == "zh-CN"
    chinese_nav = page.inner_text("nav.board-nav")
    body_size = font_size(reader, "main p")

    key_open(reader, "header button[name=lang][value=en_US]")  # the switch works by keyboard
    assert page.get_attribute("html", "lang") == "en-US"
    assert page.get_attribute("header button[name=lang][value=en_US]", "aria-pressed") == "true"
    assert page.inner_text("nav.board-nav") != chinese_nav
    assert not re.search(r"[\u4e00-\u9fff]", page.inner_text("nav.board-nav"))
    reader.check("home-en")
    reader.click("nav.board-nav a[href='/boards/mayor']")
    assert page.get_attribute("html", "lang") == "en-US"
    reader.check("mayor-board-en")
    reader.click("footer a[href='/stats']")
    reader.check("stats-en")
    reader.click("footer a[href='/track']")
    reader.check("track-en")
    reader.click("header a[href^='/login']")
    reader.check("login-en")
    reader.click("header a[href='/register']")
    reader.check("register-en")

    reader.click("header button.care-switch")
    assert "care" in page.get_attribute("html", "class").split()
    assert page.get_attribute("header button.care-switch", "aria-pressed") == "true"
    assert font_size(reader, "main label") >= 1.25 * 16
    assert_care_text(reader)
    reader.check("register-en-care")
    reader.click("header a.site-name")
    assert "care" in page.get_attribute("html", "class").split()
    assert font_size(reader, "main p") >= 1.25 * body_size
    # Links are underlined and the boards stand in one column.
    assert (
        page.evaluate(
            "getComputedStyle(document.querySelector('main .card-head a')).textDecorationLine"
        )
        == "underline"
    )
    columns = page.evaluate(
        "getComputedStyle(document.querySelector('.board-grid')).gridTemplateColumns"
    )
    assert len(columns.split()) == 1, columns
    assert_care_text(reader)
    reader.check("home-en-care")

    reader.click("header button[name=lang][value=zh_CN]")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert "care" in page.get_attribute("html", "class").split()
    reader.check("home-care")
    reader.click("nav.board-nav a[href='/boards/forum']")
    assert_care_text(reader)
    reader.check("forum-care")
    reader.click("footer a[href='/stats']")
    assert_care_text(reader)
    reader.check("stats-care")
    reader.click("header button.care-switch")
    assert "care" not in (page.get_attribute("html", "class") or "").split()
    assert page.inner_text("nav.board-nav") == chinese_nav


def due_time(person) -> str:
    """The machine-readable due time on a case's page."""
    return person.page.get_attribute(".case-summary .case-fact-due time", "datetime")


def test_extension_asked_by_the_department_and_approved_by_a_moderator(people):
    """延期: the lead department's staff ask for more working days on the case's page, a
    moderator (told of it) approves, and the writer sees 已延期 and the later due time."""
    title = "江川区星云路排水沟堵塞，雨天倒灌进店"
    writer = people("citizen")
    writer.open_site()
    writer.register("e2e_shopkeeper", "星云路店主")
    writer.click("nav.board-nav a[href='/boards/mayor']")
    writer.write_letter(
        title,
        "每次下大雨，路边排水沟的水就倒灌进我们几家店里，已经三次了。",
        "help",
        "jiangchuan",
        "段明",
        "13987650000",
        public=True,
    )

    moderator = people("moderator")
    moderator.open_site()
    moderator.log_in("e2e_mod")
    moderator.click("header a[href='/moderation']")
    moderator.click(f"main a:has-text({title!r})")
    moderator.submit("form:has(input[name=action][value=accept])")
    moderator.page.select_option("#department", "housing")
    moderator.submit("form.route-form")
    assert moderator.page.locator(".case-summary .status-routed").count() == 1

    writer.notification_to(title)
    due_before = due_time(writer)
    assert due_before and writer.page.locator(".case-summary .badge-extended").count() == 0

    clerk = people("staff")
    clerk.open_site()
    clerk.log_in("e2e_housing")
    clerk.click("header a[href='/departments/housing']")
    clerk.click(f"main a:has-text({title!r})")
    clerk.check("case")
    form = "form[action$='/extension']"
    clerk.page.locator(f"details:has({form}) > summary").click()
    clerk.page.fill(f"{form} [name=days]", "5")
    clerk.page.fill(f"{form} [name=reason]", "需请施工单位疏通整段管网，并协调交通部门临时占道。")
    clerk.check("extension-form")
    clerk.submit(form)
    assert "已申请，待审批 · 5 个工作日" in clerk.page.inner_text(".case-summary")
    assert clerk.page.locator(form).count() == 0  # asked once per routing
    clerk.check("extension-asked")

    moderator.click("header button[name=lang][value=en_US]")  # the bureau's pages in English
    moderator.notification_to(title)
    decision = "form[action$='/extension/decision']"
    assert "需请施工单位疏通整段管网" in moderator.page.inner_text(".casework-panel")
    moderator.check("extension-requested")
    moderator.page.fill(f"{decision} [name=reason]", "同意，请尽快组织疏通。")
    moderator.click(f"{decision} button[name=approve][value='1']")
    assert moderator.page.locator(decision).count() == 0
    assert moderator.page.locator(".case-summary .badge-extended").count() == 1
    moderator.check("extension-approved")

    writer.notification_to(title)
    assert writer.page.inner_text(".case-summary .badge-extended").strip() == "已延期"
    due_after = due_time(writer)
    assert due_after > due_before  # ISO times of one zone compare as text
    assert writer.page.locator(".casework-panel").count() == 0
    writer.check("extended")


@pytest.fixture
def earlier_letter(server):
    """A public letter already routed, by someone else: the case a duplicate joins. Made
    through the JSON API: the journey is about the duplicate."""
    server.api("POST", "/auth/register", {"username": "e2e_first_writer", "password": PASSWORD})
    token = server.token("e2e_first_writer")
    moderator = server.token("e2e_mod")
    title = "澄江市广龙路口红绿灯时间太短，老人过不了马路"
    made = server.api(
        "POST",
        "/boards/mayor/posts",
        {
            "title": title,
            "body": "绿灯只有十五秒，老人走到一半就变红灯了。",
            "letter_type": "suggestion",
            "area": "chengjiang",
            "contact": "13700001111",
            "public": True,
        },
        token,
    )
    post_id = made["post"]["id"]
    server.api("POST", f"/posts/{post_id}/moderate", {"action": "accept"}, moderator)
    server.api("POST", f"/posts/{post_id}/route", {"department": "transport"}, moderator)
    return post_id, title


def test_duplicate_merged_into_an_earlier_letter_whose_case_its_writer_follows(
    people, earlier_letter
):
    """重复件: a moderator merges a second letter on the same matter into the earlier one; its
    writer is told, its page links to the case it joined, and they follow that case (/me)."""
    earlier, earlier_title = earlier_letter
    title = "广龙路口行人绿灯太短"
    writer = people("citizen")
    writer.open_site()
    writer.register("e2e_neighbour", "广龙路老住户")
    writer.click("nav.board-nav a[href='/boards/mayor']")
    writer.write_letter(
        title,
        "广龙路口的行人绿灯太短了，我母亲腿脚不好，每次都过不去。",
        "complaint",
        "chengjiang",
        "杨秀兰",
        "13600002222",
    )

    moderator = people("moderator")
    moderator.open_site()
    moderator.log_in("e2e_mod")
    moderator.click("header a[href='/moderation']")
    moderator.click(f"main a:has-text({title!r})")
    form = "form[action$='/merge']"
    moderator.page.locator(f"details:has({form}) > summary").click()
    moderator.page.fill(f"{form} [name=into]", earlier)
    moderator.page.fill(f"{form} [name=reason]", "与先前来信反映的为同一路口，合并办理。")
    moderator.check("merge-form")
    moderator.submit(form)
    assert moderator.page.locator(".case-summary .status-merged").count() == 1
    assert moderator.page.locator(f".case-summary a[href='/posts/{earlier}']").count() == 1
    moderator.check("merged")

    writer.notification_to(title)
    assert writer.page.locator(".case-summary .status-merged").count() == 1
    writer.check("merged-letter")
    writer.click(f".case-summary a[href='/posts/{earlier}']")
    assert writer.page.inner_text("h1") == earlier_title
    writer.check("joined-case")
    writer.click("header a[href='/me']")
    following = writer.page.locator(f"#following a[href='/posts/{earlier}']")
    assert following.count() == 1 and following.inner_text() == earlier_title
    writer.check("me-following")
