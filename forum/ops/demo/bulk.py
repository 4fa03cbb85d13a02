"""Bulk forum posts, for benchmarks: texts combined from a pool of a few hundred titles and
paragraphs that are segmented once, written with the store's add_posts_bulk in large batches."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import itertools
import random
from typing import Callable

from forum import search, text
from forum.clock import now
from forum.model import Post, Status, new_id
from forum.ops.demo.timeline import MINUTE, YEAR
from forum.ops.demo.words import bulk as bulk_words
from forum.ops.demo.words import people as people_words
from forum.ops.demo.year import DEFAULT_SEED
from forum.store.base import Store

BULK_BATCH = 5000
BULK_IN_FLIGHT = 2


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
        for subject, category in bulk_words.BULK_SUBJECTS:
            forms = [
                (form, place) for form in bulk_words.BULK_TITLES for place in bulk_words.BULK_PLACES
            ]
            titles = []
            for form, place in rng.sample(forms, self.TITLES_PER_SUBJECT):
                title = form.format(place=place, subject=subject)
                titles.append(_Piece(title, "", search.terms_for(title, "")))
            paragraphs = []
            for _ in range(self.PARAGRAPHS_PER_SUBJECT):
                place = rng.choice(bulk_words.BULK_PLACES)
                paragraph = "".join(
                    rng.choice(part).format(place=place, subject=subject)
                    for part in (
                        bulk_words.BULK_OPENINGS,
                        bulk_words.BULK_MIDDLES,
                        bulk_words.BULK_CLOSINGS,
                    )
                )
                paragraphs.append(
                    _Piece(paragraph, text.render(paragraph), search.terms_for("", paragraph))
                )
            self.subjects.append((category, titles, paragraphs))

    def posts(
        self, rng: random.Random, times: list[dt.datetime], authors: list[str]
    ) -> tuple[list[Post], list[list[str]]]:
        """A forum post for each time, and its search terms."""
        posts, terms = [], []
        for at in times:
            category, titles, paragraphs = rng.choice(self.subjects)
            title = rng.choice(titles)
            chosen = rng.sample(paragraphs, 1 + (rng.random() < 0.6) + (rng.random() < 0.3))
            posts.append(
                Post(
                    id=new_id(),
                    board="forum",
                    title=title.text,
                    body="\n\n".join(p.text for p in chosen),
                    html="".join(p.html for p in chosen),
                    author_id=rng.choice(authors),
                    status=Status.PUBLISHED,
                    created_at=at,
                    updated_at=at,
                    category=category,
                )
            )
            terms.append(
                title.terms
                + list(dict.fromkeys(itertools.chain.from_iterable(p.terms for p in chosen)))
            )
        return posts, terms


async def add_bulk_posts(
    store: Store,
    count: int,
    *,
    seed: int = DEFAULT_SEED,
    batch: int = BULK_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Add `count` published forum posts by the demo citizens, spread evenly over the last
    twelve months, with their search terms, through the store's add_posts_bulk. Batches are
    made in a thread while the one before is written. Raises LookupError when the demo
    accounts are not there."""
    authors = [
        user.id
        for name, _ in people_words.CITIZENS
        if (user := await store.get_user_by_name(name)) is not None
    ]
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
