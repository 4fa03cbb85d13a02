"""The year the demo replays, as every story sees it: the store and the people in it, the clock's
rules (office hours, waking hours, when each step of a story falls), the words a story fills
in, and posting and replying as the demo's people."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import itertools
import random
from typing import Any, Callable, Iterator

from forum import boards, holidays, limits
from forum.clock import clock_at
from forum.model import Role, Status, User
from forum.ops.demo.timeline import CST, DAY, HOUR, MINUTE, UTC, YEAR, Timeline
from forum.ops.demo.words import forum as forum_words
from forum.ops.demo.words import people as people_words
from forum.security import Passwords
from forum.services import accounts, admin, posting, settings
from forum.store.base import Store

SPAMMER = ("shop_deals88", "优惠多多")
DEFAULT_SEED = 2026

# (shortest, longest) wait before each step, and whose hours it keeps: "office" steps happen on
# working days in office hours, "citizen" ones in waking hours.
STEP_DELAYS: dict[str, tuple[dt.timedelta, dt.timedelta, str]] = {
    "create": (MINUTE, MINUTE, "citizen"),
    "accept": (2 * HOUR, 2 * DAY, "office"),
    "reject": (2 * HOUR, 2 * DAY, "office"),
    "route": (10 * MINUTE, 3 * HOUR, "office"),
    "misroute": (10 * MINUTE, 3 * HOUR, "office"),
    "return": (DAY, 3 * DAY, "office"),
    "reroute": (2 * HOUR, DAY, "office"),
    "follow": (DAY, 4 * DAY, "citizen"),
    "reply": (2 * DAY, 12 * DAY, "office"),
    "late_reply": (32 * DAY, 40 * DAY, "office"),
    "second_reply": (2 * DAY, 5 * DAY, "office"),
    "rate": (3 * HOUR, 8 * DAY, "citizen"),
    "rate_soon": (3 * HOUR, 2 * DAY, "citizen"),
    # casework of the second release
    "note": (HOUR, DAY, "office"),
    "assign": (10 * MINUTE, 4 * HOUR, "office"),
    "extend": (HOUR, 2 * DAY, "office"),
    "decide": (HOUR, DAY, "office"),
    "urge": (HOUR, 2 * DAY, "office"),
    "supervise": (HOUR, DAY, "office"),
    "callback": (DAY, 5 * DAY, "office"),
    "callback_soon": (2 * HOUR, DAY, "office"),
    "duplicate": (HOUR, 2 * DAY, "citizen"),
    "merge": (HOUR, DAY, "office"),
    # consultations and the forum
    "answer": (2 * HOUR, 3 * DAY, "citizen"),
    "accept_answer": (2 * HOUR, 3 * DAY, "citizen"),
    "thanks": (HOUR, DAY, "citizen"),
    "follow_up": (HOUR, DAY, "citizen"),
    "answer_again": (2 * HOUR, 2 * DAY, "citizen"),
    "second_opinion": (4 * HOUR, 4 * DAY, "citizen"),
    "comment": (10 * MINUTE, 2 * DAY, "citizen"),
    "hide": (HOUR, DAY, "office"),
    "pin": (5 * MINUTE, HOUR, "office"),
    "lock": (HOUR, DAY, "office"),
    "approve": (HOUR, DAY, "office"),
    "flag": (2 * HOUR, 2 * DAY, "citizen"),
    # within the author's edit window: not moved to waking hours
    "edit": (5 * MINUTE, 20 * MINUTE, "exact"),
}


@dataclasses.dataclass
class Account:
    username: str
    display_name: str
    role: str  # admin, moderator, staff, lawyer, expert or citizen
    detail: str = ""  # department or specialties


class Year:
    """One load: the people, the places and the clock's rules, by which the stories
    (discussions.py, cases.py) take their steps."""

    def __init__(
        self,
        store: Store,
        passwords: Passwords,
        *,
        scale: float,
        seed: int,
        password: str,
        today: dt.datetime,
    ):
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
            lambda: itertools.cycle([True, False, False, True, False])
        )
        self.phoned = itertools.cycle([True, False, False])
        # Casework of the second release, in turn too: letters routed to their county's
        # government, helper departments, callbacks, and one extension refused.
        self.county = itertools.cycle([True, False, False])
        self.helped = itertools.cycle([True, False])
        self.called: collections.defaultdict[str, Iterator[bool]] = collections.defaultdict(
            lambda: itertools.cycle([True, False, False])
        )
        self.refused = False
        self.followed = itertools.cycle([True, False, False])
        self.public = itertools.cycle([True, True, False, True])
        self.titles: set[tuple[str, str | None]] = set()  # (board, title) posted so far

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

    def plan(
        self, steps: list[str], *, wait: tuple[dt.timedelta, dt.timedelta | None] | None
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

    def _times(
        self, first: dt.datetime, delays: list[tuple[dt.timedelta, str]]
    ) -> list[dt.datetime]:
        times: list[dt.datetime] = []
        at = first
        for delay, hours in delays:
            at = at + delay if times else at
            at = (
                self.office(at)
                if hours == "office"
                else self.waking(at)
                if hours == "citizen"
                else at
            )
            times.append(at)
        return times

    # words -----------------------------------------------------------------------------------
    def fill(self, template: str, values: dict[str, str]) -> str:
        return template.format_map(values)

    def places(self) -> dict[str, str]:
        rng = self.rng
        return {
            "district": rng.choice(people_words.DISTRICTS),
            "street": rng.choice(people_words.STREETS),
            "road": rng.choice(people_words.ROADS),
            "community": rng.choice(people_words.COMMUNITIES),
            "village": rng.choice(people_words.VILLAGES),
            "n": str(rng.randint(3, 28)),
            "phone": self.phone(),
            "visit_date": "",
            "extra": "",
        }

    def phone(self) -> str:
        return (
            f"1{self.rng.choice('3589')}{self.rng.randint(0, 9)}0877{self.rng.randint(0, 9999):04d}"
        )

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
    async def people(self) -> None:
        """The admin first (as `create-user` makes one), then everyone registering as citizens
        do, and the admin granting roles: a month before the year begins."""
        founding = self.office(self.start - 40 * DAY)
        with clock_at(founding):
            name, shown = people_words.ADMIN
            self.admin = await accounts.create_user(
                self.store,
                self.passwords,
                username=name,
                password=self.password,
                display_name=shown,
                roles=[Role.ADMIN],
            )
        self.accounts.append(Account(name, shown, "admin"))
        with clock_at(founding + 30 * MINUTE):
            await settings.save_sensitive_words(self.store, self.admin, forum_words.SENSITIVE_WORDS)

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
                    self.store,
                    self.passwords,
                    username=username,
                    password=self.password,
                    display_name=display_name,
                    address=self.address(),
                )
            if grant:
                with clock_at(self.office(at + HOUR)):
                    user = await admin.update_user(self.store, self.admin, username, grant)
            self.progress(at)
            return user

        for name, shown in people_words.MODERATORS:
            self.moderators.append(
                await join(name, shown, {"roles": ["moderator"], "department": "xinfang"})
            )
            self.accounts.append(Account(name, shown, "moderator", "市信访局"))
        names = {d.slug: d.name for d in boards.DEPARTMENTS}
        for name, shown, department in people_words.STAFF:
            self.staff[department].append(
                await join(name, shown, {"roles": ["staff"], "department": department})
            )
            self.accounts.append(Account(name, shown, "staff", names[department]))
        for name, shown, specialties in people_words.LAWYERS:
            self.lawyers.append(
                await join(name, shown, {"roles": ["lawyer"], "specialties": specialties})
            )
            self.accounts.append(Account(name, shown, "lawyer", "、".join(specialties)))
        for name, shown, specialties in people_words.EXPERTS:
            self.experts.append(
                await join(name, shown, {"roles": ["expert"], "specialties": specialties})
            )
            self.accounts.append(Account(name, shown, "expert", "、".join(specialties)))
        for name, shown in people_words.CITIZENS:
            self.citizens.append(await join(name, shown, None))
            self.accounts.append(Account(name, shown, "citizen"))
        self.spammer = await join(*SPAMMER, None)

    def answerer(self, pool: list[User], category: str, *, besides: User | None = None) -> User:
        fitting = [u for u in pool if category in u.specialties and u is not besides]
        others = [u for u in pool if u is not besides]
        return self.rng.choice(fitting or others)

    # posting ---------------------------------------------------------------------------------
    async def _post(self, viewer: User | None, board: str, data: dict[str, Any]) -> Any:
        title = data.get("title")
        if title is not None and (board, title) in self.titles:
            # A topic told again comes from another place (or is told again): a board does
            # not list one title several times over.
            districts = people_words.DISTRICTS
            variants = [
                f"{title}（{district}）" for district in self.rng.sample(districts, len(districts))
            ]
            variants += [f"{title}（第{n}次反映）" for n in range(2, 100)]
            fresh = next(v for v in variants if (board, v[: limits.TITLE_MAX]) not in self.titles)
            data = {**data, "title": fresh[: limits.TITLE_MAX]}
        self.titles.add((board, data.get("title")))
        view = await posting.create_post(self.store, viewer, board, data, address=self.address())
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
