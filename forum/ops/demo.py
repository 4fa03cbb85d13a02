"""Demo data: a year of life on the portal, made through the services, and bulk forum posts for
benchmarks.

`load_demo` replays a year: people register and an admin verifies lawyers and experts and
appoints moderators and department staff; citizens discuss, ask and write letters; moderators
accept, reject, route, hide, pin and lock; departments answer, return misrouted cases and
publish hotline replies; writers follow up and rate; the periodic job marks overdue cases and
closes unrated ones. The casework of the second release is there too: letters routed to their
county's government (属地) with the city bureau helping, helpers' internal notes (协办意见), named
officers, extensions asked (one refused, the rest approved), urging, supervision by a moderator
and by the clock, callbacks (reached or not, one reopening its case), duplicates merged into an
earlier letter whose writers then follow it, and people following boards, departments and
posts. Every step is a call of the service a page or the API would make, so every rule, event,
notification, audit entry and search term is what real use leaves. The services stamp what they
write with `now()`; the loader runs each step under `clock_at(when)`, so the year's records
carry the times of that year (events, notifications and audit entries too).

`add_bulk_posts` adds N forum posts quickly, for benchmarks: texts combined from a pool of
a few hundred titles and paragraphs that are segmented once, written with the store's
add_posts_bulk in large batches.

No Tornado here: server.py's `demo` command drives both.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import heapq
import itertools
import logging
import random
import secrets
import sys
import time
from typing import IO, Any, AsyncGenerator, Callable, Iterator

from forum import boards, holidays, limits, search, text, workflow
from forum.ops import demo_content as words
from forum.clock import clock_at, now
from forum.model import Post, PostFilter, Role, Status, User, new_id
from forum.security import Passwords
from forum.services import (accounts, admin, cases, casework, consulting, faq, flags, following,
                            moderation, posting, settings, templates)
from forum.store.base import Store

CST = workflow.CHINA_STANDARD_TIME
UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
YEAR = dt.timedelta(days=365)

DEMO_ADMIN = words.ADMIN[0]
SPAMMER = ("shop_deals88", "优惠多多")
DEFAULT_SEED = 2026

# How many stories of each outcome a full demo (scale 1) tells; a smaller scale tells fewer,
# but at least one of each, so that every status of every board is there.
LETTER_OUTCOMES = {
    "submitted": 3, "submitted_late": 1, "rejected": 5, "accepted": 2, "routed": 4,
    "routed_overdue": 3, "overdue_replied": 3, "returned": 3, "replied_waiting": 5,
    "satisfied": 24, "basically_satisfied": 12, "expired": 8, "reopened_waiting": 2,
    "reopened_satisfied": 2, "reopened_final": 1, "callback_reopened": 1, "merged": 2,
}
TAX_OUTCOMES = {
    "submitted": 1, "submitted_visitor": 1, "rejected": 1, "rejected_visitor": 1, "accepted": 1,
    "routed": 2, "routed_overdue": 1, "replied_waiting": 2, "satisfied": 4,
    "basically_satisfied": 2, "expired": 1, "expired_visitor": 2, "reopened_waiting": 1,
}
LAWYER_OUTCOMES = {"open": 3, "answered": 3, "followed": 3, "two_answers": 1, "resolved": 7,
                   "hidden": 1}
AGRI_OUTCOMES = {"open": 3, "answered": 3, "followed": 2, "two_answers": 0, "resolved": 7}
FORUM_THREADS = len(words.FORUM_TOPICS)
HOTLINE_BULLETINS = 30

# The steps of a case, by outcome. "rate:X" is the writer's rating X.
CASE_STEPS = {
    "submitted": ["create"],
    "submitted_late": ["create"],
    "rejected": ["create", "reject"],
    "accepted": ["create", "accept"],
    "routed": ["create", "accept", "route"],
    "routed_overdue": ["create", "accept", "route", "follow"],
    "overdue_replied": ["create", "accept", "route", "follow", "late_reply",
                        "rate:basically_satisfied"],
    "returned": ["create", "accept", "misroute", "return", "reroute", "reply", "rate:satisfied"],
    "replied_waiting": ["create", "accept", "route", "reply"],
    "satisfied": ["create", "accept", "route", "reply", "rate:satisfied"],
    "basically_satisfied": ["create", "accept", "route", "reply", "rate:basically_satisfied"],
    "expired": ["create", "accept", "route", "reply"],
    "reopened_waiting": ["create", "accept", "route", "reply", "rate:unsatisfied"],
    # Quickly, because the nightly job counts the rating window from the first official reply:
    # a second reply that comes 15 days after the first is closed as unrated the next night.
    "reopened_satisfied": ["create", "accept", "route", "reply", "rate_soon:unsatisfied",
                           "reroute", "second_reply", "rate_soon:satisfied"],
    "reopened_final": ["create", "accept", "route", "reply", "rate_soon:unsatisfied", "reroute",
                       "second_reply", "rate_soon:unsatisfied"],
    # A callback (回访) finds the writer unsatisfied: the case goes back to the moderators.
    "callback_reopened": ["create", "accept", "route", "reply", "callback_soon:unsatisfied",
                          "reroute", "second_reply", "rate_soon:satisfied"],
    # A neighbour writes of the same matter: merged into this letter, they follow it.
    "merged": ["create", "accept", "route", "duplicate", "merge", "reply", "rate:satisfied"],
}
# The casework steps (second release) some stories take besides: after the routing (an officer
# named, a helper's note, an extension asked and decided, urging, supervision) or at the end
# (a callback). "extend:approve" asks for more days and has them approved.
CASEWORK_STEPS = {
    "routed": ["assign", "extend:refuse", "supervise"],
    "routed_overdue": ["urge"],
    "overdue_replied": ["assign"],
    "replied_waiting": ["assign", "extend:approve"],
    "satisfied": ["assign"],
    "basically_satisfied": ["extend:approve", "urge"],
    "reopened_waiting": ["assign"],
}
CALLBACKS = {"satisfied": "callback:satisfied", "basically_satisfied": "callback:unreached",
             "expired": "callback_soon:unreached", "reopened_final": "callback:unsatisfied"}
# County governments with staff in the demo: letters of their areas may go to them (属地).
COUNTY_AREAS = ("hongta", "jiangchuan", "tonghai")
# How long a case waits, now, after its last step, for outcomes that are still under way
# (None: a finished case, anywhere in the year). Expired cases wait past the rating window.
CASE_WAIT = {
    "submitted": (HOUR, 30 * HOUR), "submitted_late": (6 * DAY, 9 * DAY),
    "accepted": (HOUR, 20 * HOUR), "routed": (DAY, 9 * DAY),
    "routed_overdue": (35 * DAY, 80 * DAY), "replied_waiting": (DAY, 9 * DAY),
    "reopened_waiting": (2 * HOUR, 3 * DAY), "expired": (17 * DAY, None),
}
# (shortest, longest) wait before each step, and whose hours it keeps: "office" steps happen on
# working days in office hours, "citizen" ones in waking hours.
STEP_DELAYS: dict[str, tuple[dt.timedelta, dt.timedelta, str]] = {
    "create": (MINUTE, MINUTE, "citizen"),
    "accept": (2 * HOUR, 2 * DAY, "office"), "reject": (2 * HOUR, 2 * DAY, "office"),
    "route": (10 * MINUTE, 3 * HOUR, "office"), "misroute": (10 * MINUTE, 3 * HOUR, "office"),
    "return": (DAY, 3 * DAY, "office"), "reroute": (2 * HOUR, DAY, "office"),
    "follow": (DAY, 4 * DAY, "citizen"), "reply": (2 * DAY, 12 * DAY, "office"),
    "late_reply": (32 * DAY, 40 * DAY, "office"), "second_reply": (2 * DAY, 5 * DAY, "office"),
    "rate": (3 * HOUR, 8 * DAY, "citizen"), "rate_soon": (3 * HOUR, 2 * DAY, "citizen"),
    # casework of the second release
    "note": (HOUR, DAY, "office"), "assign": (10 * MINUTE, 4 * HOUR, "office"),
    "extend": (HOUR, 2 * DAY, "office"), "decide": (HOUR, DAY, "office"),
    "urge": (HOUR, 2 * DAY, "office"), "supervise": (HOUR, DAY, "office"),
    "callback": (DAY, 5 * DAY, "office"), "callback_soon": (2 * HOUR, DAY, "office"),
    "duplicate": (HOUR, 2 * DAY, "citizen"), "merge": (HOUR, DAY, "office"),
    # consultations and the forum
    "answer": (2 * HOUR, 3 * DAY, "citizen"), "accept_answer": (2 * HOUR, 3 * DAY, "citizen"),
    "thanks": (HOUR, DAY, "citizen"), "follow_up": (HOUR, DAY, "citizen"),
    "answer_again": (2 * HOUR, 2 * DAY, "citizen"),
    "second_opinion": (4 * HOUR, 4 * DAY, "citizen"),
    "comment": (10 * MINUTE, 2 * DAY, "citizen"),
    "hide": (HOUR, DAY, "office"), "pin": (5 * MINUTE, HOUR, "office"),
    "lock": (HOUR, DAY, "office"), "approve": (HOUR, DAY, "office"),
    "flag": (2 * HOUR, 2 * DAY, "citizen"),
    # within the author's edit window: not moved to waking hours
    "edit": (5 * MINUTE, 20 * MINUTE, "exact"),
}


@dataclasses.dataclass
class Account:
    username: str
    display_name: str
    role: str          # admin, moderator, staff, lawyer, expert or citizen
    detail: str = ""   # department or specialties


@dataclasses.dataclass
class Loaded:
    """What load_demo made: the accounts (all with one password), counts and the time taken."""
    password: str
    accounts: list[Account]
    posts: int
    replies: int
    tracking_codes: list[tuple[str, str]]   # (title, code) of reports filed without an account
    seconds: float


async def database_state(store: Store) -> str:
    """"demo" when the demo accounts are there, "data" when anything else is (a user or a post),
    "empty" for a fresh database."""
    if await store.get_user_by_name(DEMO_ADMIN) is not None:
        return "demo"
    if await store.find_users("", None, 1) or await store.list_posts(PostFilter(), None, 1):
        return "data"
    return "empty"


def new_password() -> str:
    """The demo accounts' shared password: made for each load and printed, never written down."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "yuxi-" + "-".join("".join(secrets.choice(alphabet) for _ in range(4))
                              for _ in range(2))


# the timeline --------------------------------------------------------------------------------
Story = AsyncGenerator[dt.datetime, None]


class Timeline:
    """Stories (async generators that yield the time of their next step, then take it) run in
    the order of their steps' times, each step under clock_at(its time)."""

    def __init__(self) -> None:
        self._queue: list[tuple[dt.datetime, int, Story]] = []
        self._order = itertools.count()
        self.steps = 0

    async def add(self, story: Story) -> None:
        try:
            first = await story.__anext__()
        except StopAsyncIteration:
            return
        heapq.heappush(self._queue, (first, next(self._order), story))

    async def run(self, until: dt.datetime,
                  progress: Callable[[dt.datetime], None] | None = None) -> None:
        """Take every step up to `until`; `progress(time)` hears the time of each step."""
        while self._queue:
            at, _, story = heapq.heappop(self._queue)
            if at > until:  # a step that would lie in the future is not taken
                await story.aclose()
                continue
            with clock_at(at):
                try:
                    following = await story.__anext__()
                except StopAsyncIteration:
                    following = None
            self.steps += 1
            if progress is not None:
                progress(at)
            if following is not None:
                heapq.heappush(self._queue, (max(following, at + MINUTE), next(self._order),
                                             story))


# the year ------------------------------------------------------------------------------------
class Year:
    """One load: the people, the places, the clock's rules, and the stories of the year."""

    def __init__(self, store: Store, passwords: Passwords, *, scale: float, seed: int,
                 password: str, today: dt.datetime):
        self.store = store
        self.passwords = passwords
        self.scale = scale
        self.rng = random.Random(seed)
        self.password = password
        self.today = today
        self.start = today - YEAR
        # The portal's own calendar (chinesecalendar's holidays and 调休), with no additions:
        # the demo admin keeps none, so office hours and due times agree.
        self.calendar = holidays.working_calendar(holidays.official())
        self.accounts: list[Account] = []
        self.citizens: list[User] = []
        self.moderators: list[User] = []
        self.staff: dict[str, list[User]] = collections.defaultdict(list)
        self.lawyers: list[User] = []
        self.experts: list[User] = []
        self.admin: User | None = None
        self.spammer: User | None = None
        self.tracking_codes: list[tuple[str, str]] = []
        self.posts = 0
        self.replies = 0
        self.timeline = Timeline()
        self._addresses = itertools.count(10)
        self.progress: Callable[[dt.datetime], None] = lambda at: None
        # Taken in turn rather than drawn, so that even a small demo has some of each: askers
        # who show as 网友, questions with a phone number (masked for the public), private
        # letters.
        # One turn per board: interleaving across boards (which depends on today's date) must
        # not leave one board without an anonymous post.
        self.anonymous: collections.defaultdict[str, Iterator[bool]] = collections.defaultdict(
            lambda: itertools.cycle([True, False, False, True, False]))
        self.phoned = itertools.cycle([True, False, False])
        # Casework of the second release, in turn too: letters routed to their county's
        # government, helper departments, callbacks, and one extension refused.
        self.county = itertools.cycle([True, False, False])
        self.helped = itertools.cycle([True, False])
        self.called: collections.defaultdict[str, Iterator[bool]] = collections.defaultdict(
            lambda: itertools.cycle([True, False, False]))
        self.refused = False
        self.followed = itertools.cycle([True, False, False])
        self.public = itertools.cycle([True, True, False, True])
        self.titles: set[tuple[str, str | None]] = set()   # (board, title) posted so far

    def count(self, base: int) -> int:
        return max(1, round(base * self.scale)) if base else 0

    # hours -----------------------------------------------------------------------------------
    def office(self, at: dt.datetime) -> dt.datetime:
        """`at`, or the next moment in office hours (9:00 to 17:30 on a working day)."""
        local = at.astimezone(CST)
        for _ in range(40):
            opens = local.replace(hour=9, minute=0, second=0, microsecond=0)
            closes = local.replace(hour=17, minute=30, second=0, microsecond=0)
            if self.calendar.is_working_day(local.date()) and local < closes:
                if local < opens:
                    local = opens + self.rng.randint(5, 120) * MINUTE
                return local.astimezone(UTC)
            local = (local + DAY).replace(hour=0, minute=0, second=0, microsecond=0)
        return local.astimezone(UTC)

    def waking(self, at: dt.datetime) -> dt.datetime:
        """`at`, or the next morning when it falls in the night."""
        local = at.astimezone(CST)
        if local.hour < 7:
            local = local.replace(hour=7, minute=0) + self.rng.randint(0, 180) * MINUTE
        elif local.hour >= 23:
            local = (local + DAY).replace(hour=7, minute=0) + self.rng.randint(0, 180) * MINUTE
        return local.astimezone(UTC)

    def plan(self, steps: list[str], *, wait: tuple[dt.timedelta, dt.timedelta | None] | None
             ) -> list[dt.datetime]:
        """The times of `steps`: a finished story somewhere in the year, or one under way
        whose last step lies `wait` (shortest, longest) before now."""
        delays = []
        for step in steps:
            low, high, hours = STEP_DELAYS[step.split(":")[0]]
            delays.append((low + (high - low) * self.rng.random(), hours))
        total = sum((delay for delay, _ in delays), dt.timedelta())
        if wait is None:
            latest = self.today - HOUR
            first = self.start + (latest - total - self.start) * self.rng.random()
        else:
            shortest, at_most = wait
            latest = self.today - shortest
            longest = at_most if at_most is not None else shortest + 120 * DAY
            first = self.today - total - (shortest + (longest - shortest) * self.rng.random())
        for _ in range(12):
            times = self._times(first, delays)
            if times[-1] <= latest:
                return times
            first -= times[-1] - latest + self.rng.randint(10, 120) * MINUTE
        return times

    def _times(self, first: dt.datetime, delays: list[tuple[dt.timedelta, str]]
               ) -> list[dt.datetime]:
        times: list[dt.datetime] = []
        at = first
        for delay, hours in delays:
            at = at + delay if times else at
            at = (self.office(at) if hours == "office" else self.waking(at) if hours == "citizen"
                  else at)
            times.append(at)
        return times

    # words -----------------------------------------------------------------------------------
    def fill(self, template: str, values: dict[str, str]) -> str:
        return template.format_map(values)

    def places(self) -> dict[str, str]:
        rng = self.rng
        return {"district": rng.choice(words.DISTRICTS), "street": rng.choice(words.STREETS),
                "road": rng.choice(words.ROADS), "community": rng.choice(words.COMMUNITIES),
                "village": rng.choice(words.VILLAGES), "n": str(rng.randint(3, 28)),
                "phone": self.phone(), "visit_date": "", "extra": ""}

    def phone(self) -> str:
        return (f"1{self.rng.choice('3589')}{self.rng.randint(0, 9)}0877"
                f"{self.rng.randint(0, 9999):04d}")

    @staticmethod
    def day_words(at: dt.datetime) -> str:
        local = at.astimezone(CST)
        return f"{local.month}月{local.day}日"

    def address(self) -> str:
        return f"198.51.100.{next(self._addresses) % 250 + 1}"

    def citizen(self, *, besides: User | None = None) -> User:
        while True:
            user = self.rng.choice(self.citizens)
            if besides is None or user.id != besides.id:
                return user

    # people ----------------------------------------------------------------------------------
    async def knowledge(self) -> None:
        """What the year's work left behind: each department's reply templates, and FAQ entries
        made from a few answered questions and closed public letters, as of today."""
        for department, staff in sorted(self.staff.items()):
            for title, body in words.REPLY_TEMPLATES:
                await templates.add_template(self.store, staff[0], department, title, body)
        curators = [(slug, who) for slug, who in (
            ("lawyer", self.lawyers[:1]), ("agri", self.experts[:1]),
            ("mayor", self.moderators[:1])) if who]
        for slug, (curator,) in curators:
            statuses = (Status.CLOSED,) if slug == "mayor" else (Status.RESOLVED, Status.ANSWERED)
            where = PostFilter(board=slug, statuses=statuses,
                               public=True if slug == "mayor" else None)
            for post in await self.store.list_posts(where, None, FAQ_PER_BOARD):
                replies = [r for r in await self.store.list_replies(post.id)
                           if r.kind.value in ("answer", "official")]
                if replies:
                    await faq.add_entry(self.store, curator, {
                        "post_id": post.id, "question": post.title, "answer": replies[0].body})

    async def people(self) -> None:
        """The admin first (as `create-user` makes one), then everyone registering as citizens
        do, and the admin granting roles: a month before the year begins."""
        founding = self.office(self.start - 40 * DAY)
        with clock_at(founding):
            name, shown = words.ADMIN
            self.admin = await accounts.create_user(
                self.store, self.passwords, username=name, password=self.password,
                display_name=shown, roles=[Role.ADMIN])
        self.accounts.append(Account(name, shown, "admin"))
        with clock_at(founding + 30 * MINUTE):
            await settings.save_sensitive_words(self.store, self.admin, words.SENSITIVE_WORDS)

        joining = founding + DAY
        span = 25 * DAY

        async def join(username: str, display_name: str, grant: dict[str, Any] | None) -> User:
            at = self.waking(joining + span * self.rng.random())
            # An office's name comes with the office: an official registers under their own
            # name, 张敏, and the admin's grant signs them 张敏（市信访局）.
            if grant and "department" in grant:
                grant = {**grant, "display_name": display_name}
                display_name = display_name.split("（")[0]
            with clock_at(at):
                user = await accounts.register(
                    self.store, self.passwords, username=username, password=self.password,
                    display_name=display_name, address=self.address())
            if grant:
                with clock_at(self.office(at + HOUR)):
                    user = await admin.update_user(self.store, self.admin, username, grant)
            self.progress(at)
            return user

        for name, shown in words.MODERATORS:
            self.moderators.append(await join(name, shown, {"roles": ["moderator"],
                                                            "department": "xinfang"}))
            self.accounts.append(Account(name, shown, "moderator", "市信访局"))
        names = {d.slug: d.name for d in boards.DEPARTMENTS}
        for name, shown, department in words.STAFF:
            self.staff[department].append(await join(name, shown, {"roles": ["staff"],
                                                                    "department": department}))
            self.accounts.append(Account(name, shown, "staff", names[department]))
        for name, shown, specialties in words.LAWYERS:
            self.lawyers.append(await join(name, shown, {"roles": ["lawyer"],
                                                         "specialties": specialties}))
            self.accounts.append(Account(name, shown, "lawyer", "、".join(specialties)))
        for name, shown, specialties in words.EXPERTS:
            self.experts.append(await join(name, shown, {"roles": ["expert"],
                                                         "specialties": specialties}))
            self.accounts.append(Account(name, shown, "expert", "、".join(specialties)))
        for name, shown in words.CITIZENS:
            self.citizens.append(await join(name, shown, None))
            self.accounts.append(Account(name, shown, "citizen"))
        self.spammer = await join(*SPAMMER, None)

    def answerer(self, pool: list[User], category: str, *, besides: User | None = None) -> User:
        fitting = [u for u in pool if category in u.specialties and u is not besides]
        others = [u for u in pool if u is not besides]
        return self.rng.choice(fitting or others)

    # stories ---------------------------------------------------------------------------------
    async def tell(self) -> None:
        add = self.timeline.add
        await add(self.housekeeping())
        await add(self.followers())
        await add(self.rules())
        await add(self.campaign())
        topics = list(words.FORUM_TOPICS)
        self.rng.shuffle(topics)
        for topic in topics[:self.count(FORUM_THREADS)]:
            await add(self.discussion(topic))
        await add(self.locked_thread())
        for title, body in words.SPAM_POSTS[:2]:
            await add(self.spam(title, body, hidden=True))
        await add(self.spam(*words.SPAM_POSTS[2], hidden=False))
        await add(self.false_positive())
        await add(self.flagged(hide=True))
        await add(self.flagged(hide=False))
        await add(self.edited())
        for board, outcomes, texts, pool in (
                ("lawyer", LAWYER_OUTCOMES, words.LAWYER_TOPICS, self.lawyers),
                ("agri", AGRI_OUTCOMES, words.AGRI_TOPICS, self.experts)):
            chosen = itertools.cycle(self.rng.sample(texts, len(texts)))
            for outcome, base in outcomes.items():
                for _ in range(self.count(base)):
                    await add(self.question(board, outcome, next(chosen), pool))
        letters = itertools.cycle(self.rng.sample(words.LETTER_TOPICS, len(words.LETTER_TOPICS)))
        for outcome, base in LETTER_OUTCOMES.items():
            for _ in range(self.count(base)):
                await add(self.case("mayor", outcome, next(letters)))
        reports = itertools.cycle(self.rng.sample(words.TAX_TOPICS, len(words.TAX_TOPICS)))
        for outcome, base in TAX_OUTCOMES.items():
            for _ in range(self.count(base)):
                await add(self.case("tax", outcome, next(reports)))
        bulletins = self.count(HOTLINE_BULLETINS)
        for number in range(bulletins):
            await add(self.bulletin(number, hidden=number == bulletins // 2))

    async def followers(self) -> Story:
        """Citizens who follow (关注) a board or a department from early in the year."""
        targets = ["board:mayor", "board:forum", "board:lawyer", "department:housing",
                   "department:gov-hongta", "department:environment", "board:agri"]
        at = self.start + 3 * DAY
        for number, target in enumerate(targets):
            for citizen in self.citizens[number % 5::9]:
                at = self.waking(at + self.rng.randint(1, 40) * HOUR)
                yield at
                await following.follow(self.store, citizen, target)

    async def housekeeping(self) -> Story:
        """What the server's periodic job does, once a night: close cases left unrated for 15
        days, mark routed cases past their due time, remind and supervise."""
        day = self.start.astimezone(CST).replace(hour=2, minute=0, second=0, microsecond=0)
        while True:
            yield day.astimezone(UTC)
            await casework.clock_round(self.store)
            day += DAY

    async def _post(self, viewer: User | None, board: str, data: dict[str, Any]) -> Any:
        title = data.get("title")
        if title is not None and (board, title) in self.titles:
            # A topic told again comes from another place (or is told again): a board does
            # not list one title several times over.
            variants = [f"{title}（{district}）"
                        for district in self.rng.sample(words.DISTRICTS, len(words.DISTRICTS))]
            variants += [f"{title}（第{n}次反映）" for n in range(2, 100)]
            fresh = next(v for v in variants if (board, v[:limits.TITLE_MAX]) not in self.titles)
            data = {**data, "title": fresh[:limits.TITLE_MAX]}
        self.titles.add((board, data.get("title")))
        view = await posting.create_post(self.store, viewer, board, data,
                                         address=self.address())
        self.posts += 1
        return view

    async def _reply(self, viewer: User, post_id: str, body: str) -> Any:
        view = await posting.add_reply(self.store, viewer, post_id, body)
        self.replies += 1
        return view

    async def _status(self, post_id: str) -> Status:
        """The status of a post the demo wrote; raises LookupError if it is gone (the demo
        deletes none)."""
        post = await self.store.get_post(post_id)
        if post is None:
            raise LookupError(f"the demo's post {post_id} is gone")
        return post.status

    def _moderator(self) -> User:
        return self.rng.choice(self.moderators)

    # the forum
    async def rules(self) -> Story:
        mod = self.moderators[0]
        at = self.office(self.start + 2 * DAY)
        yield at
        view = await self._post(mod, "forum", {"title": words.RULES_TITLE,
                                               "body": words.RULES_BODY, "category": "其他"})
        yield at + 10 * MINUTE
        await moderation.moderate(self.store, mod, view.post.id, "pin")
        yield at + 12 * MINUTE
        await moderation.moderate(self.store, mod, view.post.id, "lock", "版规帖，无需回复")

    async def campaign(self) -> Story:
        mod = self.moderators[-1]
        at = self.office(self.today - (60 + 30 * self.rng.random()) * DAY)
        yield at
        view = await self._post(mod, "forum", {"title": words.PINNED_TITLE,
                                               "body": words.PINNED_BODY,
                                               "category": "建言献策"})
        yield at + 5 * MINUTE
        await moderation.moderate(self.store, mod, view.post.id, "pin")
        replies = words.PINNED_REPLIES[:max(2, self.count(len(words.PINNED_REPLIES)))]
        for body in replies:
            at = self.waking(at + (2 * HOUR + 4 * DAY * self.rng.random()))
            yield at
            await self._reply(self.citizen(), view.post.id, body)

    def _comments(self, topic_replies: list[str], values: dict[str, str]) -> list[str]:
        own = [self.fill(body, values) for body in topic_replies]
        count = self.rng.randint(max(1, len(own) - 2), len(own) + 3)
        generic = self.rng.sample(words.FORUM_COMMENTS, len(words.FORUM_COMMENTS))
        return (own + generic)[:count]

    async def discussion(self, topic: tuple[Any, ...]) -> Story:
        category, title, body, topic_replies = topic
        values = self.places()
        comments = self._comments(topic_replies, values)
        times = self.plan(["create", *["comment"] * len(comments)], wait=None)
        author = self.citizen()
        yield times[0]
        view = await self._post(author, "forum", {
            "title": self.fill(title, values), "category": category,
            "body": "\n\n".join(self.fill(p, values) for p in body)})
        followed = next(self.followed)  # its first commenter follows it, one time in three
        for at, comment in zip(times[1:], comments):
            yield at
            commenter = self.citizen(besides=author)
            await self._reply(commenter, view.post.id, comment)
            if followed:
                await following.follow(self.store, commenter, f"post:{view.post.id}")
                followed = False

    async def locked_thread(self) -> Story:
        category, title, body, replies = words.LOCKED_TOPIC
        values = self.places()
        times = self.plan(["create", *["comment"] * len(replies), "lock"], wait=None)
        author = self.citizen()
        yield times[0]
        view = await self._post(author, "forum", {
            "title": self.fill(title, values), "category": category,
            "body": "\n\n".join(self.fill(p, values) for p in body)})
        for at, reply in zip(times[1:-1], replies):
            yield at
            await self._reply(self.citizen(besides=author), view.post.id, reply)
        yield times[-1]
        await moderation.moderate(self.store, self._moderator(), view.post.id, "lock",
                                  words.LOCK_REASON)

    async def spam(self, title: str, body: str, *, hidden: bool) -> Story:
        times = (self.plan(["create", "hide"], wait=None) if hidden
                 else self.plan(["create"], wait=(2 * HOUR, 20 * HOUR)))
        yield times[0]
        view = await self._post(self.spammer, "forum", {"title": title, "body": body,
                                                        "category": "其他"})
        if hidden:  # held by the word list; a moderator hides it from the queue
            yield times[1]
            await moderation.moderate(self.store, self._moderator(), view.post.id, "hide",
                                      "广告信息")

    async def false_positive(self) -> Story:
        title, body = words.FALSE_POSITIVE
        times = self.plan(["create", "approve", "comment"], wait=None)
        author = self.citizen()
        yield times[0]
        view = await self._post(author, "forum", {"title": title, "body": body,
                                                  "category": "民生热点"})
        yield times[1]  # held for 办证; a moderator sees it is a real question and lets it out
        await moderation.moderate(self.store, self._moderator(), view.post.id, "accept")
        yield times[2]
        await self._reply(self.citizen(besides=author), view.post.id,
                          words.FALSE_POSITIVE_REPLIES[0])

    async def flagged(self, *, hide: bool) -> Story:
        """A post a reader flags: hidden by a moderator, or (recently) still in the queue."""
        title, body = words.FLAGGED_AD if hide else words.FLAGGED_QUESTION
        values = self.places()
        times = (self.plan(["create", "flag", "hide"], wait=None) if hide
                 else self.plan(["create", "flag"], wait=(HOUR, 10 * HOUR)))
        author = self.spammer if hide else self.citizen()
        yield times[0]
        view = await self._post(author, "forum", {"title": self.fill(title, values),
                                                  "body": self.fill(body, values),
                                                  "category": "其他"})
        yield times[1]
        await flags.flag_post(self.store, self.citizen(besides=author), view.post.id,
                              words.FLAG_REASONS[0] if hide else words.FLAG_REASONS[1])
        if hide:
            yield times[2]
            mod = self._moderator()
            await moderation.moderate(self.store, mod, view.post.id, "hide", "广告信息")
            await moderation.moderate(self.store, mod, view.post.id, "dismiss_flags")

    async def edited(self) -> Story:
        category, title, body, topic_replies = words.FORUM_TOPICS[6]
        values = self.places()
        times = self.plan(["create", "edit", "comment"], wait=None)
        author = self.citizen()
        text_body = "\n\n".join(self.fill(p, values) for p in body)
        yield times[0]
        view = await self._post(author, "forum", {"title": self.fill(title, values),
                                                  "body": text_body, "category": category})
        yield times[1]
        await posting.edit_post(self.store, author, view.post.id,
                                {"body": text_body + "\n\n" + words.EDIT_NOTE})
        yield times[2]
        await self._reply(self.citizen(besides=author), view.post.id,
                          self.fill(topic_replies[0], values))

    # consultations
    async def question(self, board: str, outcome: str, topic: tuple[Any, ...],
                       pool: list[User]) -> Story:
        if outcome == "hidden":
            times = self.plan(["create", "hide"], wait=None)
            yield times[0]
            title, body = words.AD_QUESTION
            view = await self._post(self.spammer, board, {"title": title, "body": body,
                                                          "category": "其他"})
            yield times[1]
            await moderation.moderate(self.store, self._moderator(), view.post.id, "hide",
                                      "广告信息，与咨询无关")
            return
        category, title, body, answer, follow_up, follow_answer = topic
        if follow_up is None and outcome == "followed":
            outcome = "answered"
        steps = {"open": ["create"], "answered": ["create", "answer"],
                 "followed": ["create", "answer", "follow_up", "answer_again"],
                 "two_answers": ["create", "answer", "second_opinion"],
                 "resolved": ["create", "answer", "thanks", "accept_answer"]}[outcome]
        if outcome == "resolved" and follow_up is not None and self.rng.random() < 0.5:
            steps = ["create", "answer", "follow_up", "answer_again", "accept_answer"]
        values = self.places()
        times = self.plan(steps, wait=(2 * HOUR, 4 * DAY) if outcome == "open" else None)
        asker = self.citizen()
        paragraphs = [self.fill(p, values) for p in body]
        if next(self.phoned):
            paragraphs.append(self.fill(words.PHONE_LINE, values))
        first = self.answerer(pool, category)
        post_id, best = "", ""
        for step, at in zip(steps, times):
            yield at
            if step == "create":
                view = await self._post(asker, board, {
                    "title": title, "category": category, "body": "\n\n".join(paragraphs),
                    "anonymous": next(self.anonymous[board])})
                post_id = view.post.id
            elif step == "answer":
                best = (await self._reply(first, post_id, self.fill(answer, values))).reply.id
            elif step == "follow_up":
                await self._reply(asker, post_id, follow_up)
            elif step == "answer_again":
                await self._reply(first, post_id, follow_answer)
            elif step == "second_opinion":  # a second volunteer adds a view
                extra = self.rng.choice(words.SECOND_OPINIONS)
                await self._reply(self.answerer(pool, category, besides=first), post_id,
                                  words.SECOND_OPINION.format(extra=extra))
            elif step == "thanks":
                await self._reply(asker, post_id, self.rng.choice(words.THANKS))
            elif step == "accept_answer":
                await consulting.accept_answer(self.store, asker, post_id, best)

    def casework_steps(self, outcome: str, steps: list[str]) -> list[str]:
        """The outcome's steps with the casework steps its stories take besides (see
        CASEWORK_STEPS and CALLBACKS): the first extension asked is refused, the rest approved;
        one story in three of those that may end in a callback has one."""
        extra: list[str] = []
        for step in CASEWORK_STEPS.get(outcome, []):
            if step.startswith("extend:"):
                decision = step.split(":")[1]
                if decision == "refuse":
                    decision = "approve" if self.refused else "refuse"
                    self.refused = True
                extra += ["extend", f"decide:{decision}"]
            else:
                extra.append(step)
        if "route" in steps and extra:
            at = steps.index("route") + 1
            steps = [*steps[:at], *extra, *steps[at:]]
        if outcome in CALLBACKS and next(self.called[outcome]):
            steps = [*steps, CALLBACKS[outcome]]
        return steps

    def letter_kind(self) -> dict[str, str]:
        """A letter's type and area: most are complaints and requests for help, and most
        matters lie in the city itself or in Hongta, where most people live."""
        kind = self.rng.choices(list(boards.LETTER_TYPES), weights=(20, 40, 15, 20, 5))[0]
        area = self.rng.choices(list(boards.AREAS), weights=(40, 20, 6, 6, 6, 5, 5, 4, 4, 4))[0]
        return {"letter_type": kind, "area": area}

    # cases
    async def case(self, board: str, outcome: str, topic: tuple[Any, ...]) -> Story:
        visitor = outcome.endswith("_visitor")
        outcome = outcome.removesuffix("_visitor")
        steps = self.casework_steps(outcome, CASE_STEPS[outcome])
        values = self.places()
        if board == "mayor":
            category, department, wrong, title, body, reply = topic
            opening = self.rng.choice(words.LETTER_OPENINGS)
            closing = self.rng.choice(words.LETTER_CLOSINGS)
            paragraphs = [self.fill(p, values) for p in body]
            if opening:
                paragraphs.insert(0, opening)
            if closing:
                paragraphs.append(closing)
            data = {"title": self.fill(title, values), "body": "\n\n".join(paragraphs),
                    "category": category, "contact": values["phone"],
                    "public": next(self.public), **self.letter_kind(),
                    "real_name": self.rng.choice(words.FAMILY_NAMES) + self.rng.choice(
                        words.GIVEN_NAMES)}
        else:
            category, title, body, reply = topic
            department, wrong = "tax", "market"
            data = {"title": self.fill(title, values), "category": category,
                    "body": "\n\n".join(self.fill(p, values) for p in body),
                    "anonymous": visitor or next(self.anonymous["tax"]),
                    "contact": None if visitor else values["phone"]}
        if outcome == "merged":
            data["public"] = True  # so that the neighbour may follow the case they joined
        helpers: list[str] = []
        if board == "mayor" and ("route" in steps or "reroute" in steps):
            if next(self.county):
                # 属地管理: the county's government leads, the city bureau helps.
                if data["area"] not in COUNTY_AREAS:
                    data["area"] = self.rng.choice(COUNTY_AREAS)
                department, helpers = f"gov-{data['area']}", [department]
            elif next(self.helped) and outcome != "returned":
                helpers = [wrong]
        if helpers:
            route_at = next(i for i, s in enumerate(steps) if s in ("route", "reroute"))
            steps = [*steps[:route_at + 1], "note", *steps[route_at + 1:]]
        times = self.plan(steps, wait=CASE_WAIT.get(outcome))
        writer = None if visitor else self.citizen()
        mod = self._moderator()
        names = {d.slug: d.name for d in boards.DEPARTMENTS}
        post_id = ""
        duplicate: Any = None
        for step, at in zip(steps, times):
            yield at
            kind = step.split(":")[0]
            if kind == "create":
                view = await self._post(writer, board, data)
                post_id = view.post.id
                if writer is None:
                    self.tracking_codes.append((view.post.title, view.tracking_code))
            elif kind == "accept":
                await moderation.moderate(self.store, mod, post_id, "accept")
            elif kind == "reject":
                reason = (words.TAX_REJECTION if board == "tax"
                          else self.rng.choice(words.REJECTIONS))
                await moderation.moderate(self.store, mod, post_id, "reject", reason)
            elif kind in ("route", "reroute"):
                await cases.route_case(self.store, mod, post_id, department,
                                       note=self.rng.choice(words.ROUTE_NOTES) or None,
                                       helpers=helpers)
            elif kind == "note":
                await casework.add_note(self.store, self.rng.choice(self.staff[helpers[0]]),
                                        post_id, self.rng.choice(words.HELPER_NOTES))
            elif kind == "assign":
                lead = self.rng.choice(self.staff[department])
                officer = self.rng.choice(self.staff[department])
                await casework.assign(self.store, lead, post_id, officer.username)
            elif kind == "extend":
                await casework.request_extension(
                    self.store, self.rng.choice(self.staff[department]), post_id,
                    self.rng.randint(3, 10), self.rng.choice(words.EXTENSION_REASONS))
            elif kind == "decide":
                approve = step.split(":")[1] == "approve"
                decision = self.rng.choice(words.EXTENSION_APPROVALS if approve
                                           else words.EXTENSION_REFUSALS) or None
                await casework.decide_extension(self.store, mod, post_id, approve, decision)
            elif kind == "urge":
                if await self._status(post_id) is Status.ROUTED:
                    await casework.urge(self.store, mod, post_id,
                                        self.rng.choice(words.URGE_NOTES))
            elif kind == "supervise":
                await casework.supervise(self.store, mod, post_id,
                                         self.rng.choice(words.SUPERVISE_REASONS))
            elif kind in ("callback", "callback_soon"):
                if await self._status(post_id) not in (
                        Status.REPLIED, Status.CLOSED, Status.UNRATED):
                    continue
                score = step.split(":")[1]
                reached = score != "unreached"
                await casework.callback(self.store, mod, post_id, reached,
                                        score if reached else None,
                                        self.rng.choice(words.CALLBACK_NOTES[
                                            score if reached else None]) or None)
            elif kind == "duplicate":
                duplicate = await self._post(self.citizen(besides=writer), board, {
                    **data, "title": data["title"] + "（再次反映）",
                    "real_name": self.rng.choice(words.FAMILY_NAMES) + self.rng.choice(
                        words.GIVEN_NAMES), "contact": self.phone()})
            elif kind == "merge":
                # The neighbour is told, and follows the case they joined (it is public).
                await casework.merge(self.store, mod, duplicate.post.id, post_id,
                                     self.rng.choice(words.MERGE_REASONS))
            elif kind == "misroute":
                await cases.route_case(self.store, mod, post_id, wrong)
            elif kind == "return":
                await cases.return_case(self.store, self.rng.choice(self.staff[wrong]), post_id,
                                        words.RETURN_REASON.format(department=names[department]))
            elif kind == "follow":
                if writer is not None:
                    await self._reply(writer, post_id, self.rng.choice(words.LETTER_FOLLOW_UPS))
            elif kind in ("reply", "late_reply"):
                visit = self.day_words(at - self.rng.randint(1, 3) * DAY)
                await self._reply(self.rng.choice(self.staff[department]), post_id,
                                  self.fill(reply, {**values, "visit_date": visit}))
            elif kind == "second_reply":
                await self._reply(self.rng.choice(self.staff[department]), post_id,
                                  words.SECOND_REPLY)
            elif kind in ("rate", "rate_soon") and writer is not None:
                if await self._status(post_id) is not Status.REPLIED:
                    continue  # closed unrated in the meantime (a long holiday came between)
                score = step.split(":")[1]
                comment = self.rng.choice(words.RATING_COMMENTS[score]) or None
                await cases.rate_case(self.store, writer, post_id, score, comment)

    # hotline replies
    async def bulletin(self, number: int, *, hidden: bool) -> Story:
        category, department, title, said, done = words.HOTLINE_TOPICS[
            number % len(words.HOTLINE_TOPICS)]
        values = self.places()
        times = self.plan(["create", "hide"], wait=None)
        published = self.office(times[0])
        received = (published - self.rng.randint(2, 10) * DAY).astimezone(CST).date()
        staff = self.rng.choice(self.staff[department] or self.moderators)
        names = {d.slug: d.name for d in boards.DEPARTMENTS}
        body = (f"**来电时间：** {received.year}年{received.month}月{received.day}日\n\n"
                f"**来电内容：** {self.fill(said, values)}\n\n"
                f"**办理情况：** {self.fill(done, values)}\n\n"
                f"**承办单位：** {names[department]}")
        yield published
        view = await self._post(staff, "hotline", {
            "title": self.fill(title, values), "body": body, "category": category,
            "department": department, "received_on": received.isoformat(),
            "case_number": f"12345-{received:%Y%m%d}-{self.rng.randint(1, 9999):04d}",
            **self.letter_kind()})
        if hidden:
            yield max(times[1], published + HOUR)
            await moderation.moderate(self.store, self._moderator(), view.post.id, "hide",
                                      "答复内容有误，承办单位更正后重新发布")


async def load_demo(store: Store, passwords: Passwords, *, scale: float = 1.0,
                    seed: int = DEFAULT_SEED, password: str | None = None,
                    progress: Callable[[int, int], None] | None = None) -> Loaded:
    """Replay a year of the portal into `store` (opened and prepared; see database_state for
    checking that it is fresh). `scale` shrinks or grows the number of stories (at least one
    of each outcome); `progress(done, total)` hears how far the replay is (in days)."""
    started = time.monotonic()
    await asyncio.to_thread(search.warm_up)
    year = Year(store, passwords, scale=scale, seed=seed, password=password or new_password(),
                today=now())
    first = year.start - 45 * DAY
    days = int((year.today - first) / DAY)

    furthest = 0

    def report(at: dt.datetime) -> None:
        # How far through the year the replay is, in days: a steady measure of the work left.
        # People register at times spread over the year before the replay starts, so the bar
        # shows the furthest day reached and never runs backwards.
        nonlocal furthest
        furthest = max(furthest, min(max(int((at - first) / DAY), 0), days))
        if progress is not None:
            progress(furthest, days)
    year.progress = report
    await year.people()
    await year.tell()
    await year.timeline.run(year.today, report)
    await year.knowledge()
    # As the server does at start: what became overdue since the last night.
    await cases.note_overdue(store)
    report(year.today)
    return Loaded(password=year.password, accounts=year.accounts, posts=year.posts,
                  replies=year.replies, tracking_codes=year.tracking_codes,
                  seconds=time.monotonic() - started)


# bulk forum posts ----------------------------------------------------------------------------
@dataclasses.dataclass
class _Piece:
    text: str
    html: str
    terms: list[str]


class TextPool:
    """Titles and paragraphs of forum posts, each segmented (and each paragraph rendered) once;
    bulk posts combine them. A body is paragraphs apart, and jieba never joins words across
    a paragraph break, so a post's terms are its title's and its paragraphs' together: the
    same terms, repeats included, that indexing the post on its own would give."""

    TITLES_PER_SUBJECT = 60
    PARAGRAPHS_PER_SUBJECT = 24

    def __init__(self, rng: random.Random):
        self.subjects: list[tuple[str, list[_Piece], list[_Piece]]] = []
        for subject, category in words.BULK_SUBJECTS:
            forms = [(form, place) for form in words.BULK_TITLES for place in words.BULK_PLACES]
            titles = []
            for form, place in rng.sample(forms, self.TITLES_PER_SUBJECT):
                title = form.format(place=place, subject=subject)
                titles.append(_Piece(title, "", search.terms_for(title, "")))
            paragraphs = []
            for _ in range(self.PARAGRAPHS_PER_SUBJECT):
                place = rng.choice(words.BULK_PLACES)
                paragraph = "".join(rng.choice(part).format(place=place, subject=subject)
                                    for part in (words.BULK_OPENINGS, words.BULK_MIDDLES,
                                                 words.BULK_CLOSINGS))
                paragraphs.append(_Piece(paragraph, text.render(paragraph),
                                         search.terms_for("", paragraph)))
            self.subjects.append((category, titles, paragraphs))

    def posts(self, rng: random.Random, times: list[dt.datetime], authors: list[str]
              ) -> tuple[list[Post], list[list[str]]]:
        """A forum post for each time, and its search terms."""
        posts, terms = [], []
        for at in times:
            category, titles, paragraphs = rng.choice(self.subjects)
            title = rng.choice(titles)
            chosen = rng.sample(paragraphs, 1 + (rng.random() < 0.6) + (rng.random() < 0.3))
            posts.append(Post(
                id=new_id(), board="forum", title=title.text,
                body="\n\n".join(p.text for p in chosen), html="".join(p.html for p in chosen),
                author_id=rng.choice(authors), status=Status.PUBLISHED, created_at=at,
                updated_at=at, category=category))
            terms.append(title.terms + list(dict.fromkeys(
                itertools.chain.from_iterable(p.terms for p in chosen))))
        return posts, terms


BULK_BATCH = 5000
BULK_IN_FLIGHT = 2
FAQ_PER_BOARD = 3   # the demo's FAQ entries per board: from its latest answered posts


async def add_bulk_posts(store: Store, count: int, *, seed: int = DEFAULT_SEED,
                         batch: int = BULK_BATCH,
                         progress: Callable[[int, int], None] | None = None) -> int:
    """Add `count` published forum posts by the demo citizens, spread evenly over the last
    twelve months, with their search terms, through the store's add_posts_bulk. Batches are
    made in a thread while the one before is written. Raises LookupError when the demo
    accounts are not there."""
    authors = [user.id for name, _ in words.CITIZENS
               if (user := await store.get_user_by_name(name)) is not None]
    if not authors:
        raise LookupError("demo accounts missing: load the demo first")
    if count <= 0:
        return 0
    rng = random.Random(seed)
    await asyncio.to_thread(search.warm_up)
    pool = await asyncio.to_thread(TextPool, rng)
    newest = now() - MINUTE
    step = YEAR / count

    def times(first: int, size: int) -> list[dt.datetime]:
        stamps = []
        for number in range(first, first + size):
            at = newest - YEAR + step * (number + rng.random() * 0.9)
            stamps.append(at.replace(microsecond=at.microsecond // 1000 * 1000))
        return stamps

    done = 0
    writing: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()
    try:
        for first in range(0, count, batch):
            size = min(batch, count - first)
            posts, terms = await asyncio.to_thread(pool.posts, rng, times(first, size), authors)
            writing.append((size, asyncio.ensure_future(store.add_posts_bulk(posts, terms))))
            while len(writing) >= BULK_IN_FLIGHT or (writing and first + size >= count):
                size_written, future = writing.popleft()
                await future
                done += size_written
                if progress is not None:
                    progress(done, count)
    finally:
        for _, future in writing:  # a failed batch: let the others finish before raising
            await asyncio.gather(future, return_exceptions=True)
    return done


# the command line ----------------------------------------------------------------------------
ROLE_ORDER = ("admin", "moderator", "staff", "lawyer", "expert", "citizen")


async def demo_command(db: str, posts: int = 0, force: bool = False, *, scale: float = 1.0,
                       passwords: Passwords | None = None, out: IO[str] | None = None) -> int:
    """`python server.py demo`: load the demo into the database `db` (refusing one that is not
    fresh unless `force`), then `posts` bulk forum posts; print the accounts and their
    password. Returns the exit status."""
    from forum.ops.backup import ProgressBars
    from forum.config import Config
    from forum.errors import DomainError, StoreUnavailable
    from forum.services.setup import prepare_store
    from forum.store import open_store

    out = out if out is not None else sys.stdout
    # A year of actions would log thousands of audit lines over the progress bars.
    logging.getLogger("forum").setLevel(logging.WARNING)
    if posts < 0 or scale <= 0:
        print("error: --posts and --scale cannot be negative", file=sys.stderr)
        return 2
    try:
        store = open_store(db)
    except ValueError as error:   # a URL of no store it knows: the line says which it takes
        print(f"error: {error}", file=sys.stderr)
        return 2
    bars = ProgressBars()
    try:
        await prepare_store(store)
        state = await database_state(store)
        if state != "empty" and not force:
            what = ("the demo data is already loaded" if state == "demo"
                    else "the database is not empty (it has accounts or posts)")
            print(f"error: {what}; add --force to load anyway", file=sys.stderr)
            return 1
        loaded = None
        if state == "demo":
            print("the demo accounts exist already: demo content skipped", file=sys.stderr)
        else:
            loaded = await load_demo(store, passwords or Passwords(Config().password_cost),
                                     scale=scale,
                                     progress=lambda done, total: bars("demo (days)", done,
                                                                       total))
        if posts:
            started = time.monotonic()
            await add_bulk_posts(store, posts,
                                 progress=lambda done, total: bars("forum posts", done, total))
            bars.close()
            print(f"added {posts} forum posts in {time.monotonic() - started:.1f}s", file=out)
        bars.close()
    except (DomainError, LookupError) as exc:
        bars.close()
        if isinstance(exc, StoreUnavailable):
            raise  # server.py says what to check, in one line, as for every command
        print(f"error: demo failed: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    if loaded is not None:
        print(describe(loaded), file=out)
    return 0


def describe(loaded: Loaded) -> str:
    """The accounts of a load, by role, with the one password, as the command prints them."""
    lines = [f"demo data loaded in {loaded.seconds:.0f}s: {loaded.posts} posts, "
             f"{loaded.replies} replies, {len(loaded.accounts)} accounts", "",
             f"password of every demo account: {loaded.password}", ""]
    for role in ROLE_ORDER:
        people = [a for a in loaded.accounts if a.role == role]
        if role == "citizen":
            lines.append(f"{role:<10} {', '.join(a.username for a in people)}")
            continue
        for account in people:
            # Staff and moderators carry their office in their names; answerers their fields.
            detail = f"：{account.detail}" if role in ("lawyer", "expert") else ""
            lines.append(f"{role:<10} {account.username:<16} {account.display_name}{detail}")
    if loaded.tracking_codes:
        title, code = loaded.tracking_codes[0]
        lines += ["", f"a tax report filed without an account (follow it at /track): {code}"]
    return "\n".join(lines)
