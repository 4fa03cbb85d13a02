"""Stories of the boards where citizens talk: the city forum's threads (its rules and a
campaign, discussions, a locked thread, adverts, a post held by mistake, flags, an edit) and the
questions the volunteer lawyers and experts answer."""

from __future__ import annotations

from typing import Any

from forum.model import User
from forum.ops.demo.timeline import DAY, HOUR, MINUTE, Story
from forum.ops.demo.words import consultations as consultation_words
from forum.ops.demo.words import forum as forum_words
from forum.ops.demo.year import Year
from forum.services import consulting, flags, following, moderation, posting


class Discussions(Year):
    """The forum's stories and the consultations'."""

    # the forum
    async def rules(self) -> Story:
        mod = self.moderators[0]
        at = self.office(self.start + 2 * DAY)
        yield at
        view = await self._post(
            mod,
            "forum",
            {"title": forum_words.RULES_TITLE, "body": forum_words.RULES_BODY, "category": "其他"},
        )
        yield at + 10 * MINUTE
        await moderation.moderate(self.store, mod, view.post.id, "pin")
        yield at + 12 * MINUTE
        await moderation.moderate(self.store, mod, view.post.id, "lock", "版规帖，无需回复")

    async def campaign(self) -> Story:
        mod = self.moderators[-1]
        at = self.office(self.today - (60 + 30 * self.rng.random()) * DAY)
        yield at
        view = await self._post(
            mod,
            "forum",
            {
                "title": forum_words.PINNED_TITLE,
                "body": forum_words.PINNED_BODY,
                "category": "建言献策",
            },
        )
        yield at + 5 * MINUTE
        await moderation.moderate(self.store, mod, view.post.id, "pin")
        replies = forum_words.PINNED_REPLIES[: max(2, self.count(len(forum_words.PINNED_REPLIES)))]
        for body in replies:
            at = self.waking(at + (2 * HOUR + 4 * DAY * self.rng.random()))
            yield at
            await self._reply(self.citizen(), view.post.id, body)

    def _comments(self, topic_replies: list[str], values: dict[str, str]) -> list[str]:
        own = [self.fill(body, values) for body in topic_replies]
        count = self.rng.randint(max(1, len(own) - 2), len(own) + 3)
        generic = self.rng.sample(forum_words.FORUM_COMMENTS, len(forum_words.FORUM_COMMENTS))
        return (own + generic)[:count]

    async def discussion(self, topic: tuple[Any, ...]) -> Story:
        category, title, body, topic_replies = topic
        values = self.places()
        comments = self._comments(topic_replies, values)
        times = self.plan(["create", *["comment"] * len(comments)], wait=None)
        author = self.citizen()
        yield times[0]
        view = await self._post(
            author,
            "forum",
            {
                "title": self.fill(title, values),
                "category": category,
                "body": "\n\n".join(self.fill(p, values) for p in body),
            },
        )
        followed = next(self.followed)  # its first commenter follows it, one time in three
        for at, comment in zip(times[1:], comments):
            yield at
            commenter = self.citizen(besides=author)
            await self._reply(commenter, view.post.id, comment)
            if followed:
                await following.follow(self.store, commenter, f"post:{view.post.id}")
                followed = False

    async def locked_thread(self) -> Story:
        category, title, body, replies = forum_words.LOCKED_TOPIC
        values = self.places()
        times = self.plan(["create", *["comment"] * len(replies), "lock"], wait=None)
        author = self.citizen()
        yield times[0]
        view = await self._post(
            author,
            "forum",
            {
                "title": self.fill(title, values),
                "category": category,
                "body": "\n\n".join(self.fill(p, values) for p in body),
            },
        )
        for at, reply in zip(times[1:-1], replies):
            yield at
            await self._reply(self.citizen(besides=author), view.post.id, reply)
        yield times[-1]
        await moderation.moderate(
            self.store, self._moderator(), view.post.id, "lock", forum_words.LOCK_REASON
        )

    async def spam(self, title: str, body: str, *, hidden: bool) -> Story:
        times = (
            self.plan(["create", "hide"], wait=None)
            if hidden
            else self.plan(["create"], wait=(2 * HOUR, 20 * HOUR))
        )
        yield times[0]
        view = await self._post(
            self.spammer, "forum", {"title": title, "body": body, "category": "其他"}
        )
        if hidden:  # held by the word list; a moderator hides it from the queue
            yield times[1]
            await moderation.moderate(
                self.store, self._moderator(), view.post.id, "hide", "广告信息"
            )

    async def false_positive(self) -> Story:
        title, body = forum_words.FALSE_POSITIVE
        times = self.plan(["create", "approve", "comment"], wait=None)
        author = self.citizen()
        yield times[0]
        view = await self._post(
            author, "forum", {"title": title, "body": body, "category": "民生热点"}
        )
        yield times[1]  # held for 办证; a moderator sees it is a real question and lets it out
        await moderation.moderate(self.store, self._moderator(), view.post.id, "accept")
        yield times[2]
        await self._reply(
            self.citizen(besides=author), view.post.id, forum_words.FALSE_POSITIVE_REPLIES[0]
        )

    async def flagged(self, *, hide: bool) -> Story:
        """A post a reader flags: hidden by a moderator, or (recently) still in the queue."""
        title, body = forum_words.FLAGGED_AD if hide else forum_words.FLAGGED_QUESTION
        values = self.places()
        times = (
            self.plan(["create", "flag", "hide"], wait=None)
            if hide
            else self.plan(["create", "flag"], wait=(HOUR, 10 * HOUR))
        )
        author = self.spammer if hide else self.citizen()
        yield times[0]
        view = await self._post(
            author,
            "forum",
            {
                "title": self.fill(title, values),
                "body": self.fill(body, values),
                "category": "其他",
            },
        )
        yield times[1]
        await flags.flag_post(
            self.store,
            self.citizen(besides=author),
            view.post.id,
            forum_words.FLAG_REASONS[0] if hide else forum_words.FLAG_REASONS[1],
        )
        if hide:
            yield times[2]
            mod = self._moderator()
            await moderation.moderate(self.store, mod, view.post.id, "hide", "广告信息")
            await moderation.moderate(self.store, mod, view.post.id, "dismiss_flags")

    async def edited(self) -> Story:
        category, title, body, topic_replies = forum_words.FORUM_TOPICS[6]
        values = self.places()
        times = self.plan(["create", "edit", "comment"], wait=None)
        author = self.citizen()
        text_body = "\n\n".join(self.fill(p, values) for p in body)
        yield times[0]
        view = await self._post(
            author,
            "forum",
            {"title": self.fill(title, values), "body": text_body, "category": category},
        )
        yield times[1]
        await posting.edit_post(
            self.store, author, view.post.id, {"body": text_body + "\n\n" + forum_words.EDIT_NOTE}
        )
        yield times[2]
        await self._reply(
            self.citizen(besides=author), view.post.id, self.fill(topic_replies[0], values)
        )

    # consultations
    async def question(
        self, board: str, outcome: str, topic: tuple[Any, ...], pool: list[User]
    ) -> Story:
        if outcome == "hidden":
            times = self.plan(["create", "hide"], wait=None)
            yield times[0]
            title, body = consultation_words.AD_QUESTION
            view = await self._post(
                self.spammer, board, {"title": title, "body": body, "category": "其他"}
            )
            yield times[1]
            await moderation.moderate(
                self.store, self._moderator(), view.post.id, "hide", "广告信息，与咨询无关"
            )
            return
        category, title, body, answer, follow_up, follow_answer = topic
        if follow_up is None and outcome == "followed":
            outcome = "answered"
        steps = {
            "open": ["create"],
            "answered": ["create", "answer"],
            "followed": ["create", "answer", "follow_up", "answer_again"],
            "two_answers": ["create", "answer", "second_opinion"],
            "resolved": ["create", "answer", "thanks", "accept_answer"],
        }[outcome]
        if outcome == "resolved" and follow_up is not None and self.rng.random() < 0.5:
            steps = ["create", "answer", "follow_up", "answer_again", "accept_answer"]
        values = self.places()
        times = self.plan(steps, wait=(2 * HOUR, 4 * DAY) if outcome == "open" else None)
        asker = self.citizen()
        paragraphs = [self.fill(p, values) for p in body]
        if next(self.phoned):
            paragraphs.append(self.fill(consultation_words.PHONE_LINE, values))
        first = self.answerer(pool, category)
        post_id, best = "", ""
        for step, at in zip(steps, times):
            yield at
            if step == "create":
                view = await self._post(
                    asker,
                    board,
                    {
                        "title": title,
                        "category": category,
                        "body": "\n\n".join(paragraphs),
                        "anonymous": next(self.anonymous[board]),
                    },
                )
                post_id = view.post.id
            elif step == "answer":
                best = (await self._reply(first, post_id, self.fill(answer, values))).reply.id
            elif step == "follow_up":
                await self._reply(asker, post_id, follow_up)
            elif step == "answer_again":
                await self._reply(first, post_id, follow_answer)
            elif step == "second_opinion":  # a second volunteer adds a view
                extra = self.rng.choice(consultation_words.SECOND_OPINIONS)
                await self._reply(
                    self.answerer(pool, category, besides=first),
                    post_id,
                    consultation_words.SECOND_OPINION.format(extra=extra),
                )
            elif step == "thanks":
                await self._reply(asker, post_id, self.rng.choice(consultation_words.THANKS))
            elif step == "accept_answer":
                await consulting.accept_answer(self.store, asker, post_id, best)
