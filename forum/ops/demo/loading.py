"""`load_demo` replays a year: people register and an admin verifies lawyers and experts and
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

Here: how many stories of each outcome the year tells, the whole year told on one timeline
(Replay: the stories of discussions.py and cases.py, and the nightly job), and what the load
made."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import secrets
import time
from typing import Callable

from forum import search
from forum.clock import now
from forum.model import PostFilter, Status
from forum.ops.demo.cases import Cases
from forum.ops.demo.discussions import Discussions
from forum.ops.demo.timeline import CST, DAY, HOUR, UTC, Story
from forum.ops.demo.words import consultations as consultation_words
from forum.ops.demo.words import forum as forum_words
from forum.ops.demo.words import letters as letter_words
from forum.ops.demo.words import people as people_words
from forum.ops.demo.words import tax as tax_words
from forum.ops.demo.year import DEFAULT_SEED, Account
from forum.security import Passwords
from forum.services import cases, casework, faq, following, templates
from forum.store.base import Store

DEMO_ADMIN = people_words.ADMIN[0]
FAQ_PER_BOARD = 3  # the demo's FAQ entries per board: from its latest answered posts


# How many stories of each outcome a full demo (scale 1) tells; a smaller scale tells fewer,
# but at least one of each, so that every status of every board is there.
LETTER_OUTCOMES = {
    "submitted": 3,
    "submitted_late": 1,
    "rejected": 5,
    "accepted": 2,
    "routed": 4,
    "routed_overdue": 3,
    "overdue_replied": 3,
    "returned": 3,
    "replied_waiting": 5,
    "satisfied": 24,
    "basically_satisfied": 12,
    "expired": 8,
    "reopened_waiting": 2,
    "reopened_satisfied": 2,
    "reopened_final": 1,
    "callback_reopened": 1,
    "merged": 2,
}
TAX_OUTCOMES = {
    "submitted": 1,
    "submitted_visitor": 1,
    "rejected": 1,
    "rejected_visitor": 1,
    "accepted": 1,
    "routed": 2,
    "routed_overdue": 1,
    "replied_waiting": 2,
    "satisfied": 4,
    "basically_satisfied": 2,
    "expired": 1,
    "expired_visitor": 2,
    "reopened_waiting": 1,
}
LAWYER_OUTCOMES = {
    "open": 3,
    "answered": 3,
    "followed": 3,
    "two_answers": 1,
    "resolved": 7,
    "hidden": 1,
}
AGRI_OUTCOMES = {"open": 3, "answered": 3, "followed": 2, "two_answers": 0, "resolved": 7}
FORUM_THREADS = len(forum_words.FORUM_TOPICS)
HOTLINE_BULLETINS = 30


@dataclasses.dataclass
class Loaded:
    """What load_demo made: the accounts (all with one password), counts and the time taken."""

    password: str
    accounts: list[Account]
    posts: int
    replies: int
    tracking_codes: list[tuple[str, str]]  # (title, code) of reports filed without an account
    seconds: float


async def database_state(store: Store) -> str:
    """ "demo" when the demo accounts are there, "data" when anything else is (a user or a post),
    "empty" for a fresh database."""
    if await store.get_user_by_name(DEMO_ADMIN) is not None:
        return "demo"
    if await store.find_users("", None, 1) or await store.list_posts(PostFilter(), None, 1):
        return "data"
    return "empty"


def new_password() -> str:
    """The demo accounts' shared password: made for each load and printed, never written down."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "yuxi-" + "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(2))


class Replay(Discussions, Cases):
    """A year told: every story of the year on one timeline."""

    async def tell(self) -> None:
        add = self.timeline.add
        await add(self.housekeeping())
        await add(self.followers())
        await add(self.rules())
        await add(self.campaign())
        topics = list(forum_words.FORUM_TOPICS)
        self.rng.shuffle(topics)
        for topic in topics[: self.count(FORUM_THREADS)]:
            await add(self.discussion(topic))
        await add(self.locked_thread())
        for title, body in forum_words.SPAM_POSTS[:2]:
            await add(self.spam(title, body, hidden=True))
        await add(self.spam(*forum_words.SPAM_POSTS[2], hidden=False))
        await add(self.false_positive())
        await add(self.flagged(hide=True))
        await add(self.flagged(hide=False))
        await add(self.edited())
        for board, outcomes, texts, pool in (
            ("lawyer", LAWYER_OUTCOMES, consultation_words.LAWYER_TOPICS, self.lawyers),
            ("agri", AGRI_OUTCOMES, consultation_words.AGRI_TOPICS, self.experts),
        ):
            chosen = itertools.cycle(self.rng.sample(texts, len(texts)))
            for outcome, base in outcomes.items():
                for _ in range(self.count(base)):
                    await add(self.question(board, outcome, next(chosen), pool))
        letters = itertools.cycle(
            self.rng.sample(letter_words.LETTER_TOPICS, len(letter_words.LETTER_TOPICS))
        )
        for outcome, base in LETTER_OUTCOMES.items():
            for _ in range(self.count(base)):
                await add(self.case("mayor", outcome, next(letters)))
        reports = itertools.cycle(self.rng.sample(tax_words.TAX_TOPICS, len(tax_words.TAX_TOPICS)))
        for outcome, base in TAX_OUTCOMES.items():
            for _ in range(self.count(base)):
                await add(self.case("tax", outcome, next(reports)))
        bulletins = self.count(HOTLINE_BULLETINS)
        for number in range(bulletins):
            await add(self.bulletin(number, hidden=number == bulletins // 2))

    async def followers(self) -> Story:
        """Citizens who follow (关注) a board or a department from early in the year."""
        targets = [
            "board:mayor",
            "board:forum",
            "board:lawyer",
            "department:housing",
            "department:gov-hongta",
            "department:environment",
            "board:agri",
        ]
        at = self.start + 3 * DAY
        for number, target in enumerate(targets):
            for citizen in self.citizens[number % 5 :: 9]:
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

    async def knowledge(self) -> None:
        """What the year's work left behind: each department's reply templates, and FAQ entries
        made from a few answered questions and closed public letters, as of today."""
        for department, staff in sorted(self.staff.items()):
            for title, body in letter_words.REPLY_TEMPLATES:
                await templates.add_template(self.store, staff[0], department, title, body)
        curators = [
            (slug, who)
            for slug, who in (
                ("lawyer", self.lawyers[:1]),
                ("agri", self.experts[:1]),
                ("mayor", self.moderators[:1]),
            )
            if who
        ]
        for slug, (curator,) in curators:
            statuses = (Status.CLOSED,) if slug == "mayor" else (Status.RESOLVED, Status.ANSWERED)
            where = PostFilter(
                board=slug, statuses=statuses, public=True if slug == "mayor" else None
            )
            for post in await self.store.list_posts(where, None, FAQ_PER_BOARD):
                replies = [
                    r
                    for r in await self.store.list_replies(post.id)
                    if r.kind.value in ("answer", "official")
                ]
                if replies:
                    await faq.add_entry(
                        self.store,
                        curator,
                        {"post_id": post.id, "question": post.title, "answer": replies[0].body},
                    )


async def load_demo(
    store: Store,
    passwords: Passwords,
    *,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Loaded:
    """Replay a year of the portal into `store` (opened and prepared; see database_state for
    checking that it is fresh). `scale` shrinks or grows the number of stories (at least one
    of each outcome); `progress(done, total)` hears how far the replay is (in days)."""
    started = time.monotonic()
    await asyncio.to_thread(search.warm_up)
    year = Replay(
        store, passwords, scale=scale, seed=seed, password=password or new_password(), today=now()
    )
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
    return Loaded(
        password=year.password,
        accounts=year.accounts,
        posts=year.posts,
        replies=year.replies,
        tracking_codes=year.tracking_codes,
        seconds=time.monotonic() - started,
    )
