"""Finding what the viewer may see: full-text search in Chinese, similar answered questions,
and keeping the index up to date."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import unicodedata
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, TypeVar

from forum import boards, privacy, search, text
from forum.errors import Invalid
from forum.model import FaqEntry, Kind, Post, PostFilter, Role, Status, User
from forum.services import forms, stats, throttle
from forum.services.fields import Fields, check_limit, required
from forum.services.kept_views import kept_form
from forum.services.presenting import PostView, is_moderator, may_see, present_posts
from forum.store.base import Store

T = TypeVar("T")

PAGES_MAX = 20  # a result list is read from the top; deeper pages are not offered
SIMILAR_MAX = 5
# A search reads at most this many of the best hits it may show, to count them and, for
# `newest`, to put them in order by time; beyond it the count is shown as "N+".
COUNT_MAX = 100
ANSWERED = (Status.ANSWERED, Status.RESOLVED)


@dataclass
class Result:
    view: PostView
    snippet: str  # escaped HTML with <mark> around the query's words
    score: float


@dataclass
class Results:
    query: str
    terms: list[str]
    board: str | None
    items: list[Result]
    next_cursor: str | None
    total: int = 0  # matching posts the viewer may see, counted up to COUNT_MAX
    total_capped: bool = False  # there are more than `total` (or the store ranked no further)
    sort: str = "relevance"
    # knowledge-base entries matching the query, shown before the posts (first page only)
    faq: list[FaqEntry] = dataclasses.field(default_factory=list)


def _public_terms(title: str, body: str) -> list[str]:
    # One index serves every viewer, so it holds what the public may read: a search for a
    # number a page shows masked finds nothing.
    return search.terms_for(*privacy.index_texts(title, body))


async def terms_of(title: str, body: str) -> list[str]:
    """The search terms of a post's title and body, as the public reads them; segmentation
    runs in a thread. Made before a use case's unit of work opens, so the unit stores them with
    the post it changes."""
    return await asyncio.to_thread(_public_terms, title, body)


def visible_filters(viewer: User | None, board: str | None) -> list[PostFilter]:
    """What the viewer may find, as filters any one of which a post must match: the public
    part of each board, and for people with more rights, their own posts, their department's
    cases, or everything."""
    slugs = (board,) if board else boards.BOARD_ORDER
    if is_moderator(viewer):
        return [PostFilter(boards=slugs)]
    filters = []
    for slug in slugs:
        policy = boards.POLICIES[slug]
        if policy.confidential:
            continue
        filters.append(
            PostFilter(
                board=slug,
                statuses=boards.PUBLIC_STATUSES[policy.kind],
                public=True if policy.kind is Kind.CASE else None,
            )
        )
    if viewer is not None:
        filters.append(PostFilter(boards=slugs, author_id=viewer.id))
        if viewer.has(Role.STAFF) and viewer.department:
            case_boards = tuple(s for s in slugs if boards.POLICIES[s].kind is Kind.CASE)
            filters.append(PostFilter(boards=case_boards, department=viewer.department))
    return filters


async def _segmented(text: str, segment: Callable[[], T]) -> T:
    """`segment()`, which cuts `text` into words: at once when each of its parts was cut before
    (search.segmented), else in a thread (jieba's work is milliseconds for a new text)."""
    return segment() if search.segmented(text) else await asyncio.to_thread(segment)


def _offset(cursor: Any, size: int) -> int:
    if cursor in (None, ""):
        return 0
    if not isinstance(cursor, str) or not cursor.isdigit() or int(cursor) > size * PAGES_MAX:
        raise Invalid({"cursor": "无效的翻页标记"})
    return int(cursor)


async def search_posts(
    store: Store,
    viewer: User | None,
    q: Any,
    *,
    board: Any = None,
    cursor: Any = None,
    limit: Any = None,
    address: str = "",
    sort: Any = None,
    since: Any = None,
    until: Any = None,
) -> Results:
    """Posts the viewer may see that match the query, best first (`sort="newest"`: newest
    first), created from `since` to before `until` (dates, YYYY-MM-DD, in the city's time, as
    on the statistics page), with highlighted snippets and how many there are, counted up to
    COUNT_MAX. A visitor's searches count against SEARCHES_PER_ADDRESS for `address`. Raises
    Invalid (q, board, sort, from, to, cursor, limit), RateLimited."""
    fields = Fields()
    query = fields.take(forms.QUERY, "q", q)
    chosen = fields.take(forms.BOARD, "board", board)
    order = fields.take(forms.SORT, "sort", sort) or "relevance"
    fields.done()
    query = required(query)
    start, end = stats.period(since, until)
    size = check_limit(limit)
    offset = _offset(cursor, size)
    if viewer is None:
        await throttle.reserve(
            store, throttle.SEARCHES_PER_ADDRESS, throttle.address_range(address)
        )

    # Both segmentations (the knowledge base's words for the first page) at once.
    terms, words = await _segmented(
        query,
        lambda: (search.query_terms(query), search.content_words(query) if offset == 0 else []),
    )
    where = visible_filters(viewer, chosen)
    if start or end:  # dataclasses.replace costs microseconds a filter, and most searches have none
        where = [dataclasses.replace(one, created_from=start, created_before=end) for one in where]
    # The best COUNT_MAX + 1 hits are read at once, to count them; the store ranks only the
    # newest ~500 posts of each term, so the count is of those at most and says so when capped.
    # `newest` orders these same hits by time, in the service: it is the newest of the best
    # COUNT_MAX matches (among the store's candidates), not of every match: when more than
    # COUNT_MAX match, a newer post that ranks below them is on no page, and the deep pages of
    # `newest` are the older of those best matches. Pages of either order end at COUNT_MAX.
    # Ranks only (ids, times, scores): the posts are read for the page shown, not for all
    # COUNT_MAX + 1 counted.
    ranks = await store.search_ranks(terms, where, COUNT_MAX + 1)
    capped = len(ranks) > COUNT_MAX
    ranks = ranks[:COUNT_MAX]
    if order == "newest":
        ranks.sort(key=lambda rank: (rank.created_at, rank.post_id), reverse=True)
    page = ranks[offset : offset + size + 1]
    shown = page[:size]
    posts = {post.id: post for post in await store.get_posts([rank.post_id for rank in shown])}
    # The posts are read after the ranking: one hidden, held or made private in between (or
    # moved to another board) is left out rather than shown to someone who may not see it.
    kept = [
        rank
        for rank in shown
        if rank.post_id in posts and _still_found(posts[rank.post_id], viewer, chosen)
    ]
    views = await present_posts(store, viewer, [posts[rank.post_id] for rank in kept])
    items = [
        Result(view, _snippet(view.post, terms), rank.score) for view, rank in zip(views, kept)
    ]
    more = len(page) > size and offset + size < size * PAGES_MAX
    entries = []
    if offset == 0:
        entries = await matching_faq(store, words, chosen, title_only=False)
    return Results(
        query,
        terms,
        chosen,
        items,
        str(offset + size) if more else None,
        total=len(ranks),
        total_capped=capped,
        sort=order,
        faq=entries,
    )


def _still_found(post: Post, viewer: User | None, board: str | None) -> bool:
    return (board is None or post.board == board) and may_see(
        post, boards.POLICIES[post.board], viewer
    )


# The knowledge base ----------------------------------------------------------------------------
FAQ_SHOWN = 3  # entries shown above a search's or a draft's similar questions
FAQ_CANDIDATES = 500  # the newest entries (of the board, or of all) read to match


async def matching_faq(
    store: Store,
    words: list[str],
    board: str | None,
    *,
    title_only: bool,
    among: list[str] | None = None,
) -> list[FaqEntry]:
    """Up to FAQ_SHOWN knowledge-base entries of `board` (of every board when None) holding
    the content words `words`, most words in the question first, then most in all, then
    newest. `title_only` (similar questions): by the rule close_enough applies to posts, the
    question must hold one of them; otherwise any word in the question or answer will do.
    `among`: only entries of these boards. Confidential boards have no entries."""
    if not words or (board is not None and boards.POLICIES[board].confidential):
        return []
    entries = await store.list_faq(board, None, FAQ_CANDIDATES)
    ranked = []
    for order, entry in enumerate(entries):
        if boards.POLICIES[entry.board].confidential or (
            among is not None and entry.board not in among
        ):
            continue
        answer, question, everything = kept_form(entry, _faq_texts)
        if title_only:
            closeness = close_enough(words, entry.question, answer)
        else:
            in_all = sum(1 for word in words if word in everything)
            closeness = (sum(1 for word in words if word in question), in_all) if in_all else None
        if closeness is not None:
            ranked.append((-closeness[0], -closeness[1], order, entry))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked[:FAQ_SHOWN]]


# What search matches and cuts snippets from: the same newest posts and entries come back in
# search after search, and nh3's parse of their HTML was about a sixth of a never-seen search's
# own work, NFKC of the knowledge base's entries another tenth.
def _faq_texts(entry: FaqEntry) -> tuple[str, str, str]:
    """An entry's answer as plain text; its question, and question and answer, folded (NFKC,
    lower case) for matching words. Made once per entry record (kept_form)."""
    answer = text.plain_text(entry.answer_html)
    question = unicodedata.normalize("NFKC", entry.question).lower()
    return answer, question, question + "\n" + unicodedata.normalize("NFKC", answer).lower()


# A post's body text is kept by its HTML, not on the record: a search's posts are mostly new
# records (the kept reads hold a few thousand), but the same texts. A pure function of the HTML,
# so never stale; texts over BODY_KEPT_MAX characters are made each time, so that it holds at
# most some 4096 × 2 × 8,000 characters, with where the terms searched for were found in them
# and up to 8 snippets of some 100 characters each.
BODY_KEPT_MAX = 8000


@functools.lru_cache(maxsize=4096)
def _kept_body_text(rendered_html: str) -> text.Searchable:
    return text.Searchable(text.plain_text(rendered_html))


def _body_text(rendered_html: str) -> text.Searchable:
    """A post's body as plain text, for finding the query's words and cutting snippets."""
    if len(rendered_html) > BODY_KEPT_MAX:
        return _kept_body_text.__wrapped__(rendered_html)
    return _kept_body_text(rendered_html)


def _snippet(post: Post, terms: list[str]) -> str:
    """From the body where the words are; when only the title has them, the title leads."""
    body = _body_text(post.html)
    snippet = body.highlight(terms)
    if snippet is not None:
        return snippet
    # No term is in the body: the first is in the title, or across its end (case folding maps
    # each character alone, so the title's folded text and the body's join).
    longest = max((len(term.casefold()) for term in terms), default=0)
    led = f"{post.title.casefold()}：{body.folded[:longest]}"
    return text.highlight(f"{post.title}：{body.value}", terms, first=text.first_index(led, terms))


SIMILAR_CANDIDATES = 30  # posts the store ranks before the overlap rule keeps the close ones


def consultation_boards() -> list[str]:
    return [slug for slug, policy in boards.POLICIES.items() if policy.kind is Kind.CONSULTATION]


def close_enough(words: list[str], title: str, body: str) -> tuple[int, int] | None:
    """How close a post is to a draft whose content words are `words`: (content words in its
    title, content words in its title or body), or None when it is not close. Close means at
    least two content words in common, or the only one when the draft has just one of at least
    two characters; and at least one of them in the title (a question whose body only mentions
    them is about something else)."""
    title_text = unicodedata.normalize("NFKC", title).lower()
    all_text = title_text + "\n" + unicodedata.normalize("NFKC", body).lower()
    in_title = sum(1 for word in words if word in title_text)
    in_all = sum(1 for word in words if word in all_text)
    needed = 1 if len(words) == 1 and len(words[0]) >= 2 else 2
    return (in_title, in_all) if in_all >= needed and in_title else None


@dataclass
class Similar:
    items: list[PostView]  # answered public questions like the draft's title
    faq: list[FaqEntry]  # knowledge-base entries like it, shown first


async def similar(
    store: Store, viewer: User | None, title: Any, *, board: Any = None
) -> list[PostView]:
    """Up to five answered public questions like `title`, for someone about to ask: of the
    consultation board `board` when given (else of every one), sharing real words with the
    title (function words like 怎么 do not count), closest first; [] when none is close.
    Raises Invalid (title, board)."""
    return (await similar_with_faq(store, viewer, title, board=board)).items


async def similar_with_faq(
    store: Store, viewer: User | None, title: Any, *, board: Any = None
) -> Similar:
    """similar(), and the knowledge-base entries of those boards whose question is as close
    (up to FAQ_SHOWN), shown before the questions. Raises Invalid (title, board)."""
    fields = Fields()
    wanted = fields.take(forms.QUERY, "title", title)
    chosen = fields.take(forms.CONSULTATION_BOARD, "board", board)
    fields.done()
    wanted = required(wanted)
    words = await _segmented(wanted, lambda: search.content_words(wanted))
    if not words:
        return Similar([], [])
    entries = await matching_faq(store, words, chosen, title_only=True, among=consultation_boards())
    return Similar(await _similar_posts(store, viewer, wanted, words, chosen), entries)


async def _similar_posts(
    store: Store, viewer: User | None, wanted: str, words: list[str], chosen: str | None
) -> list[PostView]:
    terms = [
        term
        for term in await _segmented(wanted, lambda: search.query_terms(wanted))
        if term not in search.FUNCTION_WORDS
    ]
    slugs = [chosen] if chosen else consultation_boards()
    where = [PostFilter(board=slug, statuses=ANSWERED) for slug in slugs]
    hits = await store.search_posts(terms, where, 0, SIMILAR_CANDIDATES)
    ranked = []
    for order, hit in enumerate(hits):
        public_title, public_body = privacy.index_texts(hit.post.title, hit.post.body)
        closeness = close_enough(words, public_title, public_body)
        if closeness is not None:
            ranked.append((-closeness[0], -closeness[1], order, hit.post))
    ranked.sort(key=lambda item: item[:3])
    return await present_posts(store, viewer, [item[3] for item in ranked[:SIMILAR_MAX]])


async def reindex(
    store: Store, progress: Callable[[int], Awaitable[None] | None] | None = None
) -> int:
    """Index every post again (after a change of segmentation, or a restore). Returns the count;
    `progress(done)` is called after each batch."""
    done, after = 0, None
    while True:
        batch = await store.list_posts(PostFilter(), after, 500, oldest_first=True)
        # A batch segmented in one thread call and stored in one transaction: one commit per
        # 500 posts, where one per post cost about 1.5 ms each.
        terms = await asyncio.to_thread(
            lambda: [_public_terms(post.title, post.body) for post in batch]
        )
        await store.index_posts([(post.id, post_terms) for post, post_terms in zip(batch, terms)])
        done += len(batch)
        if progress is not None:
            result = progress(done)
            if asyncio.iscoroutine(result):
                await result
        if len(batch) < 500:
            return done
        after = (batch[-1].created_at, batch[-1].id)
