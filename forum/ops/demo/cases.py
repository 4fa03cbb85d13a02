"""Stories of the government's boards: mayor letters and tax reports from their writing to their
rating, with the casework between offices (routing to a county's government with helpers,
notes, officers, extensions, urging, supervision, callbacks, merging), and hotline replies."""

from __future__ import annotations

from typing import Any

from forum import boards
from forum.model import Status
from forum.ops.demo.timeline import CST, DAY, HOUR, Story
from forum.ops.demo.words import hotline as hotline_words
from forum.ops.demo.words import letters as letter_words
from forum.ops.demo.words import tax as tax_words
from forum.ops.demo.year import Year
from forum.services import cases, casework, moderation

# The steps of a case, by outcome. "rate:X" is the writer's rating X.
CASE_STEPS = {
    "submitted": ["create"],
    "submitted_late": ["create"],
    "rejected": ["create", "reject"],
    "accepted": ["create", "accept"],
    "routed": ["create", "accept", "route"],
    "routed_overdue": ["create", "accept", "route", "follow"],
    "overdue_replied": [
        "create",
        "accept",
        "route",
        "follow",
        "late_reply",
        "rate:basically_satisfied",
    ],
    "returned": ["create", "accept", "misroute", "return", "reroute", "reply", "rate:satisfied"],
    "replied_waiting": ["create", "accept", "route", "reply"],
    "satisfied": ["create", "accept", "route", "reply", "rate:satisfied"],
    "basically_satisfied": ["create", "accept", "route", "reply", "rate:basically_satisfied"],
    "expired": ["create", "accept", "route", "reply"],
    "reopened_waiting": ["create", "accept", "route", "reply", "rate:unsatisfied"],
    # Quickly, because the nightly job counts the rating window from the first official reply:
    # a second reply that comes 15 days after the first is closed as unrated the next night.
    "reopened_satisfied": [
        "create",
        "accept",
        "route",
        "reply",
        "rate_soon:unsatisfied",
        "reroute",
        "second_reply",
        "rate_soon:satisfied",
    ],
    "reopened_final": [
        "create",
        "accept",
        "route",
        "reply",
        "rate_soon:unsatisfied",
        "reroute",
        "second_reply",
        "rate_soon:unsatisfied",
    ],
    # A callback (回访) finds the writer unsatisfied: the case goes back to the moderators.
    "callback_reopened": [
        "create",
        "accept",
        "route",
        "reply",
        "callback_soon:unsatisfied",
        "reroute",
        "second_reply",
        "rate_soon:satisfied",
    ],
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
CALLBACKS = {
    "satisfied": "callback:satisfied",
    "basically_satisfied": "callback:unreached",
    "expired": "callback_soon:unreached",
    "reopened_final": "callback:unsatisfied",
}
# County governments with staff in the demo: letters of their areas may go to them (属地).
COUNTY_AREAS = ("hongta", "jiangchuan", "tonghai")
# How long a case waits, now, after its last step, for outcomes that are still under way
# (None: a finished case, anywhere in the year). Expired cases wait past the rating window.
CASE_WAIT = {
    "submitted": (HOUR, 30 * HOUR),
    "submitted_late": (6 * DAY, 9 * DAY),
    "accepted": (HOUR, 20 * HOUR),
    "routed": (DAY, 9 * DAY),
    "routed_overdue": (35 * DAY, 80 * DAY),
    "replied_waiting": (DAY, 9 * DAY),
    "reopened_waiting": (2 * HOUR, 3 * DAY),
    "expired": (17 * DAY, None),
}


class Cases(Year):
    """The stories of letters, tax reports and hotline replies."""

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
            opening = self.rng.choice(letter_words.LETTER_OPENINGS)
            closing = self.rng.choice(letter_words.LETTER_CLOSINGS)
            paragraphs = [self.fill(p, values) for p in body]
            if opening:
                paragraphs.insert(0, opening)
            if closing:
                paragraphs.append(closing)
            data = {
                "title": self.fill(title, values),
                "body": "\n\n".join(paragraphs),
                "category": category,
                "contact": values["phone"],
                "public": next(self.public),
                **self.letter_kind(),
                "real_name": self.rng.choice(letter_words.FAMILY_NAMES)
                + self.rng.choice(letter_words.GIVEN_NAMES),
            }
        else:
            category, title, body, reply = topic
            department, wrong = "tax", "market"
            data = {
                "title": self.fill(title, values),
                "category": category,
                "body": "\n\n".join(self.fill(p, values) for p in body),
                "anonymous": visitor or next(self.anonymous["tax"]),
                "contact": None if visitor else values["phone"],
            }
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
            steps = [*steps[: route_at + 1], "note", *steps[route_at + 1 :]]
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
                reason = (
                    tax_words.TAX_REJECTION
                    if board == "tax"
                    else self.rng.choice(letter_words.REJECTIONS)
                )
                await moderation.moderate(self.store, mod, post_id, "reject", reason)
            elif kind in ("route", "reroute"):
                await cases.route_case(
                    self.store,
                    mod,
                    post_id,
                    department,
                    note=self.rng.choice(letter_words.ROUTE_NOTES) or None,
                    helpers=helpers,
                )
            elif kind == "note":
                await casework.add_note(
                    self.store,
                    self.rng.choice(self.staff[helpers[0]]),
                    post_id,
                    self.rng.choice(letter_words.HELPER_NOTES),
                )
            elif kind == "assign":
                lead = self.rng.choice(self.staff[department])
                officer = self.rng.choice(self.staff[department])
                await casework.assign(self.store, lead, post_id, officer.username)
            elif kind == "extend":
                await casework.request_extension(
                    self.store,
                    self.rng.choice(self.staff[department]),
                    post_id,
                    self.rng.randint(3, 10),
                    self.rng.choice(letter_words.EXTENSION_REASONS),
                )
            elif kind == "decide":
                approve = step.split(":")[1] == "approve"
                decision = (
                    self.rng.choice(
                        letter_words.EXTENSION_APPROVALS
                        if approve
                        else letter_words.EXTENSION_REFUSALS
                    )
                    or None
                )
                await casework.decide_extension(self.store, mod, post_id, approve, decision)
            elif kind == "urge":
                if await self._status(post_id) is Status.ROUTED:
                    await casework.urge(
                        self.store, mod, post_id, self.rng.choice(letter_words.URGE_NOTES)
                    )
            elif kind == "supervise":
                await casework.supervise(
                    self.store, mod, post_id, self.rng.choice(letter_words.SUPERVISE_REASONS)
                )
            elif kind in ("callback", "callback_soon"):
                if await self._status(post_id) not in (
                    Status.REPLIED,
                    Status.CLOSED,
                    Status.UNRATED,
                ):
                    continue
                score = step.split(":")[1]
                reached = score != "unreached"
                await casework.callback(
                    self.store,
                    mod,
                    post_id,
                    reached,
                    score if reached else None,
                    self.rng.choice(letter_words.CALLBACK_NOTES[score if reached else None])
                    or None,
                )
            elif kind == "duplicate":
                duplicate = await self._post(
                    self.citizen(besides=writer),
                    board,
                    {
                        **data,
                        "title": data["title"] + "（再次反映）",
                        "real_name": self.rng.choice(letter_words.FAMILY_NAMES)
                        + self.rng.choice(letter_words.GIVEN_NAMES),
                        "contact": self.phone(),
                    },
                )
            elif kind == "merge":
                # The neighbour is told, and follows the case they joined (it is public).
                await casework.merge(
                    self.store,
                    mod,
                    duplicate.post.id,
                    post_id,
                    self.rng.choice(letter_words.MERGE_REASONS),
                )
            elif kind == "misroute":
                await cases.route_case(self.store, mod, post_id, wrong)
            elif kind == "return":
                reason = letter_words.RETURN_REASON.format(department=names[department])
                await cases.return_case(
                    self.store, self.rng.choice(self.staff[wrong]), post_id, reason
                )
            elif kind == "follow":
                if writer is not None:
                    await self._reply(
                        writer, post_id, self.rng.choice(letter_words.LETTER_FOLLOW_UPS)
                    )
            elif kind in ("reply", "late_reply"):
                visit = self.day_words(at - self.rng.randint(1, 3) * DAY)
                await self._reply(
                    self.rng.choice(self.staff[department]),
                    post_id,
                    self.fill(reply, {**values, "visit_date": visit}),
                )
            elif kind == "second_reply":
                await self._reply(
                    self.rng.choice(self.staff[department]), post_id, letter_words.SECOND_REPLY
                )
            elif kind in ("rate", "rate_soon") and writer is not None:
                if await self._status(post_id) is not Status.REPLIED:
                    continue  # closed unrated in the meantime (a long holiday came between)
                score = step.split(":")[1]
                comment = self.rng.choice(letter_words.RATING_COMMENTS[score]) or None
                await cases.rate_case(self.store, writer, post_id, score, comment)

    # hotline replies
    async def bulletin(self, number: int, *, hidden: bool) -> Story:
        category, department, title, said, done = hotline_words.HOTLINE_TOPICS[
            number % len(hotline_words.HOTLINE_TOPICS)
        ]
        values = self.places()
        times = self.plan(["create", "hide"], wait=None)
        published = self.office(times[0])
        received = (published - self.rng.randint(2, 10) * DAY).astimezone(CST).date()
        staff = self.rng.choice(self.staff[department] or self.moderators)
        names = {d.slug: d.name for d in boards.DEPARTMENTS}
        body = (
            f"**来电时间：** {received.year}年{received.month}月{received.day}日\n\n"
            f"**来电内容：** {self.fill(said, values)}\n\n"
            f"**办理情况：** {self.fill(done, values)}\n\n"
            f"**承办单位：** {names[department]}"
        )
        yield published
        view = await self._post(
            staff,
            "hotline",
            {
                "title": self.fill(title, values),
                "body": body,
                "category": category,
                "department": department,
                "received_on": received.isoformat(),
                "case_number": f"12345-{received:%Y%m%d}-{self.rng.randint(1, 9999):04d}",
                **self.letter_kind(),
            },
        )
        if hidden:
            yield max(times[1], published + HOUR)
            await moderation.moderate(
                self.store,
                self._moderator(),
                view.post.id,
                "hide",
                "答复内容有误，承办单位更正后重新发布",
            )
