"""Browser end-to-end fixtures: one real server process over a fresh SQLite database, one
Debian Chromium driven by Playwright for the session, a new browser context per person.

Every page a journey looks at goes through `Person.check`: axe-core (vendored in vendor/, never
served) must find no serious or critical violation, the page must not scroll sideways at 375 px,
the browser must report no CSP violation or script error, and a screenshot is saved at both
widths under test-artifacts/e2e/."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
AXE_SOURCE_PATH = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# Debian's Chromium; FORUM_E2E_CHROMIUM names another build of it (never Playwright's download).
CHROMIUM = os.environ.get("FORUM_E2E_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
PASSWORD = "correct-horse-9"
START_TIMEOUT_SECONDS = 30
# What the e2e suite treats as a failure: serious and critical findings, and the page-structure
# rules axe files as moderate (landmarks, headings in order). The rest go to the report.
BLOCKING_IMPACTS = ("serious", "critical")
BLOCKING_RULES = (
    "heading-order",
    "page-has-heading-one",
    "region",
    "landmark-one-main",
    "landmark-unique",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
    "landmark-no-duplicate-main",
)

# The accounts only an operator can make, through `server.py create-user` as the README says.
OFFICIALS = {
    "e2e_mod": ["--role", "moderator", "--display-name", "信访局张敏"],
    "e2e_housing": ["--role", "staff", "--department", "housing", "--display-name", "住建局李工"],
    "e2e_lawyer": ["--role", "lawyer", "--display-name", "王律师"],
    "e2e_admin": ["--role", "admin", "--display-name", "系统管理员"],
}


def _why_no_browser() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright Python package is missing (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(autouse=True, scope="package")
def browser_available():
    """Skip the browser tests on a machine without Chromium, unless FORUM_E2E_REQUIRED=1 (what
    .ci/run sets): then they fail, so CI never passes with the journeys unrun."""
    why = _why_no_browser()
    if why is not None:
        if os.environ.get("FORUM_E2E_REQUIRED") == "1":
            pytest.fail(f"FORUM_E2E_REQUIRED=1 but {why}", pytrace=False)
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """server.py in its own process; its log is copied to test-artifacts/e2e/server.log."""

    def __init__(self, folder: Path):
        self.db = f"sqlite:///{folder / 'forum.db'}"
        self.log_path = folder / "server.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "FORUM_SECRET": "e2e-secret-" + "z" * 40}
        self.process: subprocess.Popen | None = None

    def create_user(self, name: str, *options: str) -> None:
        made = subprocess.run(
            [
                sys.executable,
                "server.py",
                "create-user",
                name,
                "--password-stdin",
                *options,
                "--db",
                self.db,
            ],
            cwd=ROOT,
            env=self.env,
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr

    def start(self) -> "Server":
        log_path = self.log_path
        log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "server.py", "serve", "--port", str(self.port), "--db", self.db],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while "serving on" not in log_path.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=START_TIMEOUT_SECONDS)
        shutil.copyfile(self.log_path, ARTIFACTS / "server.log")

    def api(self, method: str, path: str, body=None, token: str | None = None):
        """For fixtures only: journeys click and type."""
        request = urllib.request.Request(
            self.url + "/api/v1" + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def token(self, username: str) -> str:
        return self.api("POST", "/auth/login", {"username": username, "password": PASSWORD})[
            "token"
        ]


@pytest.fixture(scope="package")
def server(tmp_path_factory):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # another run's leftovers; names are per journey step
        old.unlink(missing_ok=True)
    running = Server(tmp_path_factory.mktemp("e2e"))
    for name, options in OFFICIALS.items():
        running.create_user(name, *options)
    running.start()
    yield running
    running.stop()


# Package scope, not session: Playwright's sync API runs an event loop on this thread while it is
# open, and the Tornado tests that follow need the thread to themselves.
@pytest.fixture(scope="package")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def axe_report():
    """Every axe finding of the session, blocking or not, written out at the end."""
    findings: list[dict] = []
    yield findings
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(findings, ensure_ascii=False, indent=1))


class Person:
    """One person at one browser: a context of their own (own cookies), one page."""

    def __init__(self, context, server: Server, journey: str, who: str, shots: list, axe_report):
        self.context, self.server, self.journey, self.who = context, server, journey, who
        self.page = context.new_page()
        self.page.set_default_timeout(10_000)
        self.shots = shots
        self.axe_report = axe_report
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _console(self, message) -> None:
        # A form answered 4xx with its errors is logged as a failed load of the page itself:
        # not a fault.
        where = message.location.get("url", "")
        if message.type == "error" and where != self.page.url:
            self.problems.append(f"console error: {message.text}")

    # -- moving about: the only direct navigation is opening the site ----------------------
    def open_site(self) -> None:
        self.page.goto(self.server.url + "/")

    def click(self, selector: str) -> None:
        """Click and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()

    def submit(self, form: str) -> None:
        """Press the form's submit button (the first, the main one) and wait for the answer."""
        self.click(f"{form} button[type=submit]")

    def log_in(self, username: str) -> None:
        self.click("header a[href^='/login']")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.submit("form[action='/login']")
        assert self.page.locator("header a[href='/logout']").count() == 1, "not logged in"

    def log_out(self) -> None:
        self.click("header a[href='/logout']")
        self.submit("form[action='/logout']")
        assert self.page.locator("header a[href^='/login']").count() == 1

    def register(self, username: str, display_name: str) -> None:
        self.click("header a[href='/register']")
        self.page.fill("#username", username)
        self.page.fill("#display_name", display_name)
        self.page.fill("#password", PASSWORD)
        self.submit("form[action='/register']")
        assert self.page.locator("header a[href='/logout']").count() == 1, "not registered"

    def write_letter(
        self,
        title: str,
        body: str,
        letter_type: str,
        area: str,
        real_name: str,
        contact: str,
        *,
        public: bool = False,
        check: str | None = None,
    ) -> None:
        """From the mayor board, fill in and send a letter (`check`: the form's screenshot and
        accessibility check, by that name, before sending)."""
        self.click("main a[href='/boards/mayor/new']")
        self.page.fill("#title", title)
        self.page.fill("#body", body)
        self.page.select_option("#letter_type", letter_type)
        self.page.select_option("#area", area)
        self.page.fill("#real_name", real_name)
        self.page.fill("#contact", contact)
        if public:
            self.page.check("#public")
        if check:
            self.check(check)
        self.submit("#post-form")

    def notification_to(self, title: str) -> None:
        """Open the notifications and follow the newest one about `title`."""
        self.click("header a.notifications-link")
        self.click(f"#notifications a:has-text({json.dumps(title, ensure_ascii=False)})")

    # -- what every page must pass --------------------------------------------------------
    def check(self, name: str, axe: bool = True) -> None:
        """`axe=False` only for a page drawn by a third party's renderer (the API docs)."""
        page = self.page
        page.wait_for_load_state("load")
        violations = self._axe(name, AXE_RUN) if axe else []
        shot = f"{self.journey}-{len(self.shots) + 1:02d}-{self.who}-{name}"
        page.screenshot(path=str(ARTIFACTS / f"{shot}-desktop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        try:
            width = page.evaluate("document.scrollingElement.scrollWidth")
            wide = page.evaluate(WIDEST_ELEMENTS) if width > PHONE["width"] else []
            # What the narrow layout may break: the size of what is tapped, contrast where
            # things move, tables that scroll in a box of their own.
            if axe:
                violations += self._axe(f"{name} (phone)", AXE_RUN_PHONE)
            page.screenshot(path=str(ARTIFACTS / f"{shot}-phone.png"), full_page=True)
        finally:
            page.set_viewport_size(DESKTOP)
        self.shots.append(shot)
        problems = [
            f"{v['impact']} {v['id']}: {v['help']} at {v['targets']}"
            for v in violations
            if v["impact"] in BLOCKING_IMPACTS or v["id"] in BLOCKING_RULES
        ]
        problems += page.evaluate(UNTIED_ERRORS)
        if width > PHONE["width"]:
            problems.append(f"scrolls sideways at {PHONE['width']} px: {width} px wide; {wide}")
        problems += self.problems
        self.problems = []
        assert not problems, f"{shot} ({page.url}):\n" + "\n".join(problems)

    def _axe(self, name: str, run: str) -> list[dict]:
        page = self.page
        if not page.evaluate("typeof window.axe === 'object'"):
            # Evaluated through the DevTools protocol, so the page's CSP (script-src 'self')
            # stays on for everything else the page does.
            page.evaluate(AXE_SOURCE + "\n;0")
        found = page.evaluate(run)
        for violation in found:
            self.axe_report.append(
                {"journey": self.journey, "page": name, "url": page.url, **violation}
            )
        return found


AXE_SOURCE = AXE_SOURCE_PATH.read_text(encoding="utf-8") if AXE_SOURCE_PATH.exists() else ""
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                    "best-practice"]},
    resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
    summary: v.nodes.slice(0, 2).map(n => n.failureSummary)}));
}"""
# Error messages tied to their fields: a field marked invalid names a description that exists,
# and every field error (.field-error, id NAME-error) describes some field.
UNTIED_ERRORS = """() => {
  const out = [];
  const described = new Set();
  for (const el of document.querySelectorAll("[aria-describedby]")) {
    for (const id of el.getAttribute("aria-describedby").split(/\\s+/)) {
      if (!id) continue;
      described.add(id);
      if (!document.getElementById(id)) out.push(`aria-describedby names a missing #${id}`);
    }
  }
  for (const el of document.querySelectorAll("[aria-invalid=true]")) {
    if (!el.getAttribute("aria-describedby")) out.push(`invalid #${el.id} has no description`);
  }
  for (const el of document.querySelectorAll(".field-error")) {
    if (!described.has(el.id)) out.push(`error #${el.id} is tied to no field`);
  }
  return out;
}"""
AXE_RUN_PHONE = AXE_RUN.replace(
    '{type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",\n'
    '                                    "best-practice"]}',
    '{type: "rule", values: ["target-size", "color-contrast", "scrollable-region-focusable"]}',
)
assert AXE_RUN_PHONE != AXE_RUN
# What sticks out past the phone's width, to say in a failure which element to fix.
WIDEST_ELEMENTS = """() => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > document.documentElement.clientWidth + 1 && r.width > 0) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
               (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
               " right=" + Math.round(r.right));
    }
    if (out.length >= 8) break;
  }
  return out;
}"""


@pytest.fixture
def people(request, server, chromium, axe_report):
    """people("citizen") gives a new person (own context) for this journey."""
    journey = re.sub(r"^test_", "", request.node.name)
    shots: list[str] = []
    made: list[Person] = []

    def new_person(who: str, **options) -> Person:
        context = chromium.new_context(
            viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai", **options
        )
        person = Person(context, server, journey, who, shots, axe_report)
        made.append(person)
        return person

    yield new_person
    for person in made:
        person.context.close()
