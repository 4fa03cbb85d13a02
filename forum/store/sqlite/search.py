"""Search: the FTS5 index of posts' terms (one token a term, and a mark for a term a post holds
more than once), a query's candidates and their ranking, and what searches keep between them
(_SearchCache)."""

from __future__ import annotations

import collections
import datetime as dt
import functools
import itertools
import json
import sqlite3
import threading
from typing import Any, Callable, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from forum.model import Post, PostFilter, SearchHit, SearchRank
from forum.store.base import NotFound
from forum.store.codec import as_utc
from forum.store.sqlite.core import _Core
from forum.store.sqlite.rows import T, _from_row, _is_in, _post_where

# At most this many search hits are checked against the filters at a time (see _ranked_hits);
# once a search has the hits it wants, this many at a time to find where the last one's run ends.
SEARCH_BATCH_MAX = 500
RUN_PEEK = 8
# What _SearchCache keeps: the candidates of this many terms, costing at most this many units of
# 8 bytes in all (a post and its score are two: 32 MB); terms with fewer matches than
# SEARCH_CACHE_MATCHES_MIN are read each time (a rare word is a short read, and a flood of
# made-up words must not push the common ones out); and, per set of filters, whether each of at
# most SEARCH_CACHE_SEEN_MAX posts passed them (with its id and time: about 20 MB).
SEARCH_CACHE_TERMS = 5000
SEARCH_CACHE_NUMBERS = 4_000_000
SEARCH_CACHE_MATCHES_MIN = 20
# A search runs on the event loop when at most this many of its terms must be read from the
# index (see _Search._search).
SEARCH_UNKEPT_ON_LOOP = 1
SEARCH_CACHE_SEEN_MAX = 100_000
# A post's number in the search index is the millisecond of its created_at times this, plus its
# slot among the posts of that millisecond (see _doc_base); up to the year 2109 it fits in 62 bits.
DOC_SLOTS = 1 << 20
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
SEARCH_CANDIDATES = 500  # per term; see search_posts
# A post's score for a query: how many of its terms it has times MATCHED, plus how many times (at
# most some 20 terms × 4 times each, far below MATCHED): one number orders both (see _ranked).
MATCHED = 1 << 16
Numbers: TypeAlias = "npt.NDArray[np.int64]"


class Candidates(NamedTuple):
    """A term's candidates (see _term_candidates): post numbers in ascending order and each
    one's score; `matches` of them have the term (the others only a repeat mark brought)."""

    docs: Numbers
    scores: Numbers
    matches: int


class Ranked(NamedTuple):
    """A query's candidates in the order of their rank (see _ranked), and each one's score."""

    docs: Numbers
    scores: Numbers


# Per post number, its id and time when it passed a set of filters, None when it did not (the
# time parsed once, when first checked: searches meet the same posts again and again).
Seen: TypeAlias = "dict[int, tuple[str, dt.datetime] | None]"
# A hit: its score (see MATCHED), the post's time and id.
Hit: TypeAlias = "tuple[int, dt.datetime, str]"


# Stands for a character that FTS5's ascii tokenizer would split at or fold (see _fts_token); a
# private-use character, so no text means it.
FTS_ESCAPE = "\ue000"
MARK_INFIX = FTS_ESCAPE + "x"  # in every repeat mark, and in no term's token


@functools.lru_cache(maxsize=1 << 16)  # words recur across posts; a pure function of the term
def _fts_token(term: str) -> str:
    """The one FTS5 token that stands for `term` and nothing else. The ascii tokenizer keeps
    lower-case ASCII letters, digits and every non-ASCII character in a token, and splits at
    (or folds) the rest; those, and the escape itself, are written as the escape and six hex
    digits. So a term matches only itself, as a value in MongoDB's terms array does, whatever
    characters it holds (quotes, *, NEAR, $ne)."""
    return "".join(
        char
        if "a" <= char <= "z" or "0" <= char <= "9" or (char > "\x7f" and char != FTS_ESCAPE)
        else f"{FTS_ESCAPE}{ord(char):06x}"
        for char in term
    )


def _fts_string(token: str) -> str:
    """An FTS5 string (a term to match, never an operator); doubled quotes stand for one."""
    return '"' + token.replace('"', '""') + '"'


def _repeat_mark(token: str, times: int | str = "") -> str:
    """The token a post also gets for a term it has `times` (2 or more) times; without `times`,
    the start all marks of the term share. No term's token holds the escape followed by "x"
    (not a hex digit), so no term can match a mark."""
    return f"{token}{FTS_ESCAPE}x{times}"


def _index_tokens(terms: list[str]) -> list[str]:
    """A post's tokens: one per distinct term (empty terms are none), then, for a term given n
    (2 or more) times, its mark for n. So "has it" and "has it n times" are each one token,
    and a post's weight for a query (how many times it has the query's terms) follows from the
    tokens it matches, with no ranking function to run per hit."""
    # Counted as terms, then made tokens: one term makes one token and no other term makes it,
    # so the counts are the same, and each distinct term is escaped once.
    counted = collections.Counter(terms)
    counted.pop("", None)
    counts = {_fts_token(term): count for term, count in counted.items()}
    marks = [_repeat_mark(token, count) for token, count in counts.items() if count > 1]
    return [*counts, *marks]


def _doc_base(created_at: str) -> int:
    """The first search index number of the posts created in the same millisecond as this one:
    numbers in doc order are in created_at order."""
    return (as_utc(created_at) - EPOCH) // dt.timedelta(milliseconds=1) * DOC_SLOTS


def _add_to_index(conn: sqlite3.Connection, entries: list[tuple[str, str, str]]) -> None:
    """Put (post id, created_at, tokens) of posts not in the index into it, each under the next
    free number of its millisecond. In the writer's transaction, which holds the write lock, so
    the numbers stay free until it ends."""
    following: dict[int, int] = {}  # per millisecond's first number, the next free one
    rows = []
    for post_id, created_at, tokens in entries:
        base = _doc_base(created_at)
        if base not in following:
            last = conn.execute(
                "SELECT max(doc) FROM search_docs WHERE doc >= ? AND doc < ?",
                (base, base + DOC_SLOTS),
            ).fetchone()[0]
            following[base] = base if last is None else last + 1
        doc = following[base]
        if doc >= base + DOC_SLOTS:
            raise ValueError(f"more than {DOC_SLOTS} posts created at {created_at}")
        following[base] = doc + 1
        rows.append((doc, post_id, tokens))
    conn.executemany(
        "INSERT INTO search_docs (doc, post_id) VALUES (?, ?)",
        [(doc, post_id) for doc, post_id, _ in rows],
    )
    conn.executemany(
        "INSERT INTO post_search (rowid, terms) VALUES (?, ?)",
        [(doc, tokens) for doc, _, tokens in rows],
    )
    marks = {token for _, _, tokens in rows for token in tokens.split(" ") if MARK_INFIX in token}
    conn.executemany(
        "INSERT OR IGNORE INTO search_marks (term) VALUES (?)", [(mark,) for mark in marks]
    )


class _SearchCache:
    """What searches read again and again, kept while the content version stands: each common
    term's candidates (_term_candidates), and which posts passed a set of filters. Every write
    of what pages show moves the version, and the first search at a newer version drops it all,
    so a write is found by the next search. Shared by the reader threads: each read and each
    store names the version its own read transaction saw, and is refused when that is not the
    one kept (an older reader neither uses nor leaves anything for a newer one)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = -1
        self._clear()

    def _clear(self) -> None:
        # New objects, never emptied in place: a reader still at the old version keeps
        # reading the ones it was given.
        self.terms: collections.OrderedDict[str, Candidates] = collections.OrderedDict()
        self.numbers = 0
        self.seen: collections.OrderedDict[str, Seen] = collections.OrderedDict()
        self.seen_count = 0

    def start(self, version: int) -> bool:
        """Whether a read at `version` may use the cache; a newer version drops what it held."""
        with self.lock:
            if version > self.version:
                self.version = version
                self._clear()
            return version == self.version

    def term(self, version: int, token: str) -> Candidates | None:
        with self.lock:
            if version != self.version or token not in self.terms:
                return None
            self.terms.move_to_end(token)
            return self.terms[token]

    def keep_term(self, version: int, token: str, candidates: Candidates) -> None:
        size = _cost(candidates)
        if candidates.matches < SEARCH_CACHE_MATCHES_MIN or size > SEARCH_CACHE_NUMBERS:
            return
        with self.lock:
            if version != self.version or token in self.terms:
                return
            self.terms[token] = candidates
            self.numbers += size
            while self.numbers > SEARCH_CACHE_NUMBERS or len(self.terms) > SEARCH_CACHE_TERMS:
                _, old = self.terms.popitem(last=False)
                self.numbers -= _cost(old)

    def unkept(self, version: int, tokens: list[str]) -> int:
        """How many of these terms' candidates are not kept at `version`."""
        with self.lock:
            if version != self.version:
                return len(tokens)
            return sum(1 for token in tokens if token not in self.terms)

    def seen_by(self, version: int, filters: str) -> Seen:
        """Per post number, (id, created_at) when it passed `filters`, None when it did not; a
        dict of the reader's own when the version is not the one kept."""
        with self.lock:
            if version != self.version:
                return {}
            found = self.seen.get(filters)
            if found is None:
                found = self.seen[filters] = {}
            self.seen.move_to_end(filters)
            return found

    def keep_seen(
        self,
        version: int,
        filters: str,
        seen: Seen,
        found: Seen,
    ) -> None:
        seen.update(found)
        with self.lock:
            if version != self.version or self.seen.get(filters) is not seen:
                return
            self.seen_count += len(found)
            while self.seen_count > SEARCH_CACHE_SEEN_MAX and len(self.seen) > 1:
                _, old = self.seen.popitem(last=False)
                self.seen_count -= len(old)
            if self.seen_count > SEARCH_CACHE_SEEN_MAX:  # one set of filters over it alone
                self.seen_count -= len(seen)
                seen.clear()


def _term_candidates(conn: sqlite3.Connection, token: str) -> Candidates:
    """A term's candidates: its newest SEARCH_CANDIDATES posts (doc order is created_at order,
    so a common word costs the same at any size of the data), each with its score: MATCHED for
    having the term, plus how much it weighs: 1, plus n - 1 for each of the newest
    SEARCH_CANDIDATES posts with its repeat mark for n; then the posts only a mark brought
    (older than the term's newest), and their weights. Summed over a query's terms, a score
    tells how many of them a post has and how many times (a post only a mark brought has
    weight but is ranked only when another of the query's terms brings it)."""

    def newest(token_or_mark: str) -> list[int]:
        # A quoted string made only of a term or mark: no text of the query is FTS5 syntax.
        return [
            row[0]
            for row in conn.execute(
                f"SELECT rowid FROM post_search WHERE post_search MATCH ? ORDER BY rowid DESC "
                f"LIMIT {SEARCH_CANDIDATES}",
                (_fts_string(token_or_mark),),
            )
        ]

    first = dict.fromkeys(newest(token), MATCHED + 1)
    marked: dict[int, int] = {}
    prefix = _repeat_mark(token)
    for (mark,) in conn.execute(
        "SELECT term FROM search_marks WHERE term > ? AND term < ?",
        (prefix, _repeat_mark(token, "y")),
    ).fetchall():
        extra = int(mark[len(prefix) :]) - 1
        for doc in newest(mark):
            if doc in first:
                first[doc] += extra
            else:
                marked[doc] = marked.get(doc, 0) + extra
    # Two arrays of 8-byte numbers in the order of the posts, which a query's ranking merges
    # in NumPy (see _ranked): a few thousand numbers cost the same there as a few in Python.
    count = len(first) + len(marked)
    docs = np.fromiter(itertools.chain(first, marked), np.int64, count)
    scores = np.fromiter(itertools.chain(first.values(), marked.values()), np.int64, count)
    order = np.argsort(docs)
    return Candidates(docs[order], scores[order], len(first))


def _cost(candidates: Candidates) -> int:
    """What a term's candidates hold, in units of 8 bytes: two per post."""
    return 2 * len(candidates.docs)


def _ranked(terms: list[Candidates]) -> Ranked:
    """The candidates of a query's terms in the order of their rank: most of the terms first,
    then most times, then newest (highest number); with each one's score (see MATCHED). Posts
    only repeat marks brought (a score below MATCHED) are left out. In NumPy: some 1,600
    posts for three common words, where the same merge in dicts took a millisecond."""
    docs = np.concatenate([term.docs for term in terms])
    if not len(docs):
        return Ranked(docs, docs)
    order = np.argsort(docs, kind="stable")
    docs, scores = docs[order], np.concatenate([term.scores for term in terms])[order]
    # Each post's first place among the sorted numbers, and its scores summed from there.
    starts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
    summed = np.add.reduceat(scores, starts)
    ranked = np.flatnonzero(summed >= MATCHED)
    # Newest first, then a stable sort by score, highest first: equals stay newest first.
    docs, summed = docs[starts[ranked]][::-1], summed[ranked][::-1]
    order = np.argsort(-summed, kind="stable")
    return Ranked(docs[order], summed[order])


def _ranked_hits(
    conn: sqlite3.Connection,
    ranked: Ranked,
    visible: str,
    params: list[Any],
    seen: Seen,
    wanted: int,
) -> tuple[list[Hit], Seen]:
    """The first `wanted` of the ranked candidates (see _ranked) whose posts pass the
    filters, as (score, created_at, post id) in their final order: by rank, and
    within a run of one millisecond and equal rank, the newest id first, as in MongoDB. Posts
    `seen` before are not checked again; the others are, a batch at a time, reading only their
    id and time. Also returns what was found out, for the cache."""
    found: Seen = {}
    hits: list[Hit] = []
    last: tuple[int, int] | None = None  # the run (score, millisecond) of the `wanted`th hit
    # A few more than wanted: the run of the last one wanted mostly ends within them.
    position, size = 0, max(wanted, 50) + RUN_PEEK
    while position < len(ranked.docs):
        batch = ranked.docs[position : position + size].tolist()
        scores = ranked.scores[position : position + size].tolist()
        position += len(batch)
        posts = [seen.get(doc, _UNSEEN) for doc in batch]
        unknown = [doc for doc, post in zip(batch, posts) if post is _UNSEEN]
        if unknown:
            passed = {
                row[0]: (row[1], as_utc(row[2]))
                for row in conn.execute(visible, [json.dumps(unknown), *params])
            }
            found.update((doc, passed.get(doc)) for doc in unknown)
            posts = [found[doc] if post is _UNSEEN else post for doc, post in zip(batch, posts)]
        for doc, score, post in zip(batch, scores, posts):
            if last is not None and (score, doc // DOC_SLOTS) != last:
                position = len(ranked.docs)
                break
            if post is not None:
                hits.append((score, post[1], post[0]))
                if len(hits) == wanted:
                    last = (score, doc // DOC_SLOTS)
        # Once the hits are all found, only the rest of their last run is read, a few at a time:
        # not a batch of posts to check against the filters for nothing.
        size = RUN_PEEK if last is not None else min(size * 2, SEARCH_BATCH_MAX)
    hits.sort(reverse=True)
    return hits[:wanted], found


# A post not checked against the filters yet (see Seen), told apart by identity.
_UNSEEN: tuple[str, dt.datetime] = ("", EPOCH)


def _search_scores(hits: list[Hit]) -> list[float]:
    """Each hit's score as how many of the query's terms a post has (see MATCHED), plus a fraction
    below 1 that grows with how many times it has them: higher is better, in the order
    search_posts sorts by (and the same as MongoDB's). A list at once: a search has a hundred."""
    return [score // MATCHED + (weight := score % MATCHED) / (1 + weight) for score, _, _ in hits]


class _Search(_Core):
    """The index, and the searches over it."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._search_cache = _SearchCache()

    async def index_post(self, post_id: str, terms: list[str]) -> None:
        tokens = " ".join(_index_tokens(terms))

        def work(conn: sqlite3.Connection) -> None:
            post = conn.execute("SELECT created_at FROM posts WHERE id = ?", (post_id,)).fetchone()
            if post is None:
                raise NotFound()
            # The trigger takes the old tokens out of the index with the row; all of it in the
            # writer's transaction.
            conn.execute("DELETE FROM search_docs WHERE post_id = ?", (post_id,))
            if tokens:
                _add_to_index(conn, [(post_id, post["created_at"], tokens)])

        await self._write(work)

    async def index_posts(self, entries: list[tuple[str, list[str]]]) -> None:
        tokens = {post_id: " ".join(_index_tokens(terms)) for post_id, terms in entries}
        if not tokens:
            return

        def work(conn: sqlite3.Connection) -> None:
            ids = tuple(tokens)
            created = dict(
                conn.execute(
                    f"SELECT id, created_at FROM posts WHERE {_is_in('id', ids)}", ids
                ).fetchall()
            )
            # As index_post, for the whole batch in the writer's one transaction.
            conn.executemany(
                "DELETE FROM search_docs WHERE post_id = ?", [(post_id,) for post_id in created]
            )
            _add_to_index(
                conn,
                [
                    (post_id, created[post_id], tokens[post_id])
                    for post_id in created
                    if tokens[post_id]
                ],
            )

        await self._write(work)

    async def search_posts(
        self, terms: list[str], where: list[PostFilter], offset: int, limit: int
    ) -> list[SearchHit]:
        wanted = max(offset, 0) + limit

        def read(conn: sqlite3.Connection, ranks: list[Hit]) -> list[SearchHit]:
            page = ranks[max(offset, 0) : wanted]
            ids = tuple(post_id for _, _, post_id in page)
            rows = {
                row["id"]: row
                for row in conn.execute(f"SELECT * FROM posts WHERE {_is_in('id', ids)}", ids)
            }
            scores = _search_scores(page)
            return [
                SearchHit(_from_row(Post, rows[post_id]), score)
                for (_, _, post_id), score in zip(page, scores)
            ]

        return await self._search(terms, where, wanted, read)

    async def search_ranks(
        self, terms: list[str], where: list[PostFilter], limit: int
    ) -> list[SearchRank]:
        def read(conn: sqlite3.Connection, ranks: list[Hit]) -> list[SearchRank]:
            scores = _search_scores(ranks)
            # The tuples made directly: SearchRank's own __new__ is a Python function.
            return [
                tuple.__new__(SearchRank, (post_id, created_at, score))
                for (_, created_at, post_id), score in zip(ranks, scores)
            ]

        return await self._search(terms, where, limit, read)

    async def _search(
        self,
        terms: list[str],
        where: list[PostFilter],
        wanted: int,
        read: Callable[[sqlite3.Connection, list[Hit]], T],
    ) -> T | list[Any]:
        """The best `wanted` hits as (score, created_at, post id), given to `read`
        in the same read transaction (which reads posts as the ranking saw them)."""
        tokens = list(dict.fromkeys(_fts_token(term) for term in terms if term))
        if not tokens or not where or wanted <= 0:
            return []
        # Any one filter: each one's clauses (none: every post) in parentheses, joined by OR.
        groups, params = [], []
        for one in where:
            clauses, values = _post_where(one)
            groups.append("(" + " AND ".join(clauses) + ")" if clauses else "1")
            params.extend(values)
        # CROSS JOIN: by doc and id, never by scanning the filters' indexes. Only the id and
        # time: the posts shown are read whole afterwards, the others never.
        visible = (
            f"SELECT search_docs.doc, posts.id, posts.created_at FROM json_each(?) AS "
            f"ranked CROSS JOIN search_docs ON search_docs.doc = ranked.value "
            f"CROSS JOIN posts ON posts.id = search_docs.post_id "
            f"WHERE {' OR '.join(groups)}"
        )
        filters = json.dumps([visible, params], default=str)
        # Inside a unit of work the reads see its writes, which no version names yet.
        cached = self._unit.get() is None
        cache = self._search_cache

        def work(conn: sqlite3.Connection) -> T:
            if cached:
                # One snapshot: the version, the index and the posts read under it.
                conn.execute("BEGIN")
            try:
                version = conn.execute("SELECT version FROM content_version").fetchone()[0]
                usable = cached and cache.start(version)
                # Each term's candidates, ranked (see _ranked); posts of one millisecond and
                # equal rank by id (see _ranked_hits).
                terms_candidates = []
                for token in tokens:
                    candidates = cache.term(version, token) if usable else None
                    if candidates is None:
                        candidates = _term_candidates(conn, token)
                        if usable:
                            cache.keep_term(version, token, candidates)
                    terms_candidates.append(candidates)
                ranked = _ranked(terms_candidates)
                seen = cache.seen_by(version, filters) if usable else {}
                ranks, found = _ranked_hits(conn, ranked, visible, params, seen, wanted)
                if usable and found:
                    cache.keep_seen(version, filters, seen, found)
                return read(conn, ranks)
            finally:
                if cached:
                    conn.execute("COMMIT")  # ends the read, so that it holds back no checkpoint

        # Over kept candidates the search reads only its hits' ids and times, by key: on the
        # loop (see _Core._read). A term not kept reads up to SEARCH_CANDIDATES numbers for it
        # and each of its repeat marks from the index (a word no post holds, one probe; a
        # common word, a millisecond or two): one such term on the loop too, more on a reader
        # thread.
        unkept = cache.unkept(await self.content_version(), tokens) if cached else len(tokens)
        return await self._read(work, by_key=cached and unkept <= SEARCH_UNKEPT_ON_LOOP)
