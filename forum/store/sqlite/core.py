"""The embedded default store: SQLite through the standard library.

One writer thread owns the only writing connection, so writes never contend inside the process;
readers use their own connections on a small pool, which WAL lets run beside the writer. Every
call runs off the event loop.

Group commit: the units of work (and single writes) that queue for the writer while a group is
open run one after another in that group's transaction, each under a savepoint of its own (one
that fails is rolled back alone), and the group ends in one COMMIT, so one flush to disk serves
all of them. Every caller returns only after the COMMIT that holds its writes: a client told
"created" has its write on disk. Between processes the writer takes a lock file beside the
database (flock) around each group's transaction, so a process waiting for another's group is
woken by the kernel the moment it ends, not by SQLite's busy handler, which sleeps with a
growing back-off (up to 100 ms a try) and gave `--processes 2` its second-long tails.
"""
from __future__ import annotations

import array
import asyncio
import collections
import contextlib
import contextvars
import dataclasses
import datetime as dt
import enum
import fcntl
import functools
import json
import operator
import os
import sqlite3
import threading
import typing
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncGenerator, AsyncIterator, Callable, Sequence, TypeVar

from forum.durable import sync_folder, write_whole
from forum.model import (ApiKey, Attachment, AuditEntry, BoardSettings, Department, Event,
                         FaqEntry, Flag, IdempotencyRecord, Mail, Notification, Post, PostFilter,
                         Reply, ReplyKind, ReplyStats, ReplyTemplate, Revision, Role, SearchHit,
                         SearchRank, Session, Setting, Subscription, User, is_id,
                         iso)
from forum.store.base import (IDEMPOTENCY_RETENTION, POST_CHANGEABLE, RECORD_KINDS,
                              TOO_MANY_FILES, AuditKey, Conflict, FaqKey, NotFound, PostKey,
                              ReplyKey,
                              StoreRefused, StoreUnavailable, importable_kind, newer_schema,
                              record_key)
from forum.store.codec import as_utc, from_plain, plain_changes, to_plain

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
VERSION_TIMEOUT_MS = 200  # content_version runs on the event loop: it must not wait long
READER_THREADS = 2
HIT_RETENTION = dt.timedelta(days=1)
# At most this many search hits are checked against the filters at a time (see _ranked_hits).
SEARCH_BATCH_MAX = 500
# What _SearchCache keeps: the candidate lists of this many terms, holding at most this many
# numbers in all (8 bytes each: 16 MB); terms with fewer matches than SEARCH_CACHE_MATCHES_MIN
# are read each time (a rare word is a short read, and a flood of made-up words must not push
# the common ones out); and, per set of filters, whether each of at most SEARCH_CACHE_SEEN_MAX
# posts passed them (with its id and time: about 20 MB).
SEARCH_CACHE_TERMS = 5000
SEARCH_CACHE_NUMBERS = 2_000_000
SEARCH_CACHE_MATCHES_MIN = 20
SEARCH_CACHE_SEEN_MAX = 100_000
# A post's number in the search index is the millisecond of its created_at times this, plus its
# slot among the posts of that millisecond (see _doc_base); up to the year 2109 it fits in 62 bits.
DOC_SLOTS = 1 << 20
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# Attachment bytes live in this folder beside the database file, one file per attachment named by
# its id; never under static/, so no file is served without the application's checks.
FILES_FOLDER = "files"

# Each entry upgrades the schema by one version; PRAGMA user_version records how far a database is.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE departments (slug TEXT PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE boards (
        slug TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
        categories TEXT NOT NULL, is_open INTEGER NOT NULL,
        accept_days INTEGER NOT NULL, reply_days INTEGER NOT NULL);
    CREATE TABLE users (
        id TEXT PRIMARY KEY, username TEXT NOT NULL, username_key TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL, password_hash TEXT NOT NULL, roles TEXT NOT NULL,
        email TEXT, department TEXT, specialties TEXT NOT NULL, disabled INTEGER NOT NULL,
        created_at TEXT NOT NULL);
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE posts (
        id TEXT PRIMARY KEY, board TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
        html TEXT NOT NULL, author_id TEXT REFERENCES users(id), status TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, category TEXT,
        anonymous INTEGER NOT NULL, reply_count INTEGER NOT NULL, accepted_reply_id TEXT,
        pinned INTEGER NOT NULL, locked INTEGER NOT NULL, public INTEGER NOT NULL, contact TEXT,
        department TEXT, due_at TEXT, reopened INTEGER NOT NULL, rating TEXT, tracking_hash TEXT);
    CREATE INDEX posts_board_list ON posts(board, pinned, status, created_at DESC, id DESC);
    CREATE INDEX posts_author ON posts(author_id, created_at DESC, id DESC);
    CREATE INDEX posts_department ON posts(department, status, created_at DESC, id DESC);
    CREATE UNIQUE INDEX posts_tracking ON posts(tracking_hash) WHERE tracking_hash IS NOT NULL;
    CREATE TABLE replies (
        id TEXT PRIMARY KEY, post_id TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
        author_id TEXT REFERENCES users(id), body TEXT NOT NULL, html TEXT NOT NULL,
        kind TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX replies_post ON replies(post_id, created_at, id);
    CREATE TABLE revisions (
        id TEXT PRIMARY KEY, post_id TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
        title TEXT NOT NULL, body TEXT NOT NULL, editor_id TEXT NOT NULL, edited_at TEXT NOT NULL);
    CREATE INDEX revisions_post ON revisions(post_id, edited_at, id);
    CREATE TABLE events (
        id TEXT PRIMARY KEY, post_id TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
        at TEXT NOT NULL, actor_id TEXT, action TEXT NOT NULL, from_status TEXT,
        to_status TEXT, note TEXT NOT NULL);
    CREATE INDEX events_post ON events(post_id, at, id);
    CREATE TABLE hits (key TEXT NOT NULL, at TEXT NOT NULL);
    CREATE INDEX hits_key ON hits(key, at);
    """,
    # 2: answer records (a reply's board and whether it was accepted), flags, the audit log.
    """
    ALTER TABLE replies ADD COLUMN board TEXT;
    ALTER TABLE replies ADD COLUMN accepted INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX replies_author ON replies(author_id, kind, created_at DESC, id DESC);
    CREATE TABLE flags (
        id TEXT PRIMARY KEY, post_id TEXT NOT NULL, user_id TEXT NOT NULL, reason TEXT NOT NULL,
        created_at TEXT NOT NULL, open INTEGER NOT NULL);
    CREATE INDEX flags_post ON flags(post_id, created_at, id);
    -- One open flag per reader and post; the index, not a read before the write, enforces it.
    CREATE UNIQUE INDEX flags_open ON flags(post_id, user_id) WHERE open = 1;
    CREATE TABLE audit (
        id TEXT PRIMARY KEY, at TEXT NOT NULL, actor_id TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX audit_actor ON audit(actor_id, at DESC, id DESC);
    CREATE INDEX audit_target ON audit(target, at DESC, id DESC);
    CREATE INDEX audit_time ON audit(at DESC, id DESC);
    """,
    # 3: case handling: the times of a case's steps, hotline bulletins, settings, attachments,
    # and indexes for case lists by status, due cases and the moderators' queue of open flags.
    """
    ALTER TABLE posts ADD COLUMN accept_due_at TEXT;
    ALTER TABLE posts ADD COLUMN accepted_at TEXT;
    ALTER TABLE posts ADD COLUMN routed_at TEXT;
    ALTER TABLE posts ADD COLUMN replied_at TEXT;
    ALTER TABLE posts ADD COLUMN closed_at TEXT;
    ALTER TABLE posts ADD COLUMN rated_at TEXT;
    ALTER TABLE posts ADD COLUMN rating_comment TEXT;
    ALTER TABLE posts ADD COLUMN status_note TEXT;
    ALTER TABLE posts ADD COLUMN case_number TEXT;
    ALTER TABLE posts ADD COLUMN received_on TEXT;
    CREATE INDEX posts_status_time ON posts(status, created_at, id);
    CREATE INDEX posts_status_due ON posts(status, due_at);
    CREATE INDEX flags_open_time ON flags(open, created_at, id);
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE attachments (
        id TEXT PRIMARY KEY, post_id TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
        filename TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
        sha256 TEXT NOT NULL, uploader_id TEXT, created_at TEXT NOT NULL);
    CREATE INDEX attachments_post ON attachments(post_id, created_at, id);
    """,
    # 4: when the periodic job first saw a case overdue, and an index for the cases it has (or
    # has not yet) noted, by status.
    """
    ALTER TABLE posts ADD COLUMN overdue_since TEXT;
    CREATE INDEX posts_status_overdue ON posts(status, overdue_since);
    """,
    # 5: search. Each indexed post has a row in search_docs, whose INTEGER PRIMARY KEY `doc`
    # (kept by VACUUM, which may renumber posts' implicit rowid) is the rowid of its tokens (see
    # _index_tokens) in the FTS5 table post_search; the trigger drops the tokens with the row.
    # `doc` grows with the post's created_at (see _doc_base), so that hits are put in order
    # without reading search_docs or posts. The ascii tokenizer splits only at ASCII characters
    # other than letters and digits, which no token holds; detail=none, as tokens are matched
    # one by one (never as phrases), so no positions are stored. post_search_terms lists the
    # tokens, for the repeat marks a query looks up.
    """
    CREATE TABLE search_docs (
        doc INTEGER PRIMARY KEY,
        post_id TEXT NOT NULL UNIQUE REFERENCES posts(id) ON DELETE CASCADE);
    CREATE VIRTUAL TABLE post_search USING fts5(terms, tokenize = 'ascii', detail = 'none');
    CREATE VIRTUAL TABLE post_search_terms USING fts5vocab(post_search, 'row');
    CREATE TRIGGER search_docs_removed AFTER DELETE ON search_docs BEGIN
        DELETE FROM post_search WHERE rowid = old.doc;
    END;
    """,
    # 6: whether a user's e-mail address is confirmed; notifications, newest first per person,
    # and their unread count; the mail outbox, by when each mail is next due ("to" is quoted:
    # a keyword to SQLite).
    """
    ALTER TABLE users ADD COLUMN email_confirmed INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE notifications (
        id TEXT PRIMARY KEY, user_id TEXT NOT NULL, kind TEXT NOT NULL, post_id TEXT,
        text TEXT NOT NULL, created_at TEXT NOT NULL, read INTEGER NOT NULL);
    CREATE INDEX notifications_user ON notifications(user_id, created_at DESC, id DESC);
    CREATE INDEX notifications_unread ON notifications(user_id, read);
    CREATE TABLE mail (
        id TEXT PRIMARY KEY, "to" TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
        created_at TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at TEXT, sent_at TEXT,
        last_error TEXT);
    CREATE INDEX mail_due ON mail(next_attempt_at);
    """,
    """
    CREATE INDEX users_department ON users(department, username_key);
    """,
    # 8: API keys an admin issues to other systems (Open311 clients): only each key's SHA-256,
    # unique, so that a key is found by its hash; listed newest first.
    """
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE,
        created_by TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT);
    CREATE INDEX api_keys_time ON api_keys(created_at DESC, id DESC);
    """,
    # 9: when a login was last used, for the idle timeout.
    """
    ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
    """,
    # 10: a number every write of what pages show moves on (see content_version); one row.
    """
    CREATE TABLE content_version (one INTEGER PRIMARY KEY CHECK (one = 1),
                                  version INTEGER NOT NULL);
    INSERT INTO content_version (one, version) VALUES (1, 0);
    """,
    # 11: the repeat marks (see _repeat_mark) the index holds, each once, for search_posts to
    # look up by range. post_search_terms (fts5vocab) answers the same question, but counts
    # every matching post of every term in the range while doing so: 12 ms for a common word
    # at 1,000,000 posts, against microseconds here.
    """
    CREATE TABLE search_marks (term TEXT PRIMARY KEY) WITHOUT ROWID;
    INSERT OR IGNORE INTO search_marks (term)
        SELECT term FROM post_search_terms WHERE instr(term, char(57344) || 'x') > 0;
    """,
    # 12: creates sent with an Idempotency-Key and their answers, one per caller and key; old
    # ones are removed by time (claim_idempotency).
    """
    CREATE TABLE idempotency (
        caller TEXT NOT NULL, key TEXT NOT NULL, body_hash TEXT NOT NULL,
        created_at TEXT NOT NULL, status INTEGER, content_type TEXT, body TEXT,
        PRIMARY KEY (caller, key)) WITHOUT ROWID;
    CREATE INDEX idempotency_time ON idempotency(created_at);
    """,
    # 13: casework of the second release. Departments have a kind (county governments are
    # routed to like bureaus); a case has a letter type and area, the writer's real name, up
    # to three helper departments and a named officer, an extension, the reminder and
    # supervision marks, the case it was merged into, and its history of ratings and callbacks
    # (JSON lists, read with the case). The first release's single rating starts the history.
    """
    ALTER TABLE departments ADD COLUMN kind TEXT NOT NULL DEFAULT 'bureau';
    ALTER TABLE posts ADD COLUMN letter_type TEXT;
    ALTER TABLE posts ADD COLUMN area TEXT;
    ALTER TABLE posts ADD COLUMN real_name TEXT;
    ALTER TABLE posts ADD COLUMN helpers TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE posts ADD COLUMN officer_id TEXT;
    ALTER TABLE posts ADD COLUMN extension_status TEXT;
    ALTER TABLE posts ADD COLUMN extension_days INTEGER;
    ALTER TABLE posts ADD COLUMN extension_reason TEXT;
    ALTER TABLE posts ADD COLUMN extended INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE posts ADD COLUMN reminded_at TEXT;
    ALTER TABLE posts ADD COLUMN supervised INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE posts ADD COLUMN supervised_at TEXT;
    ALTER TABLE posts ADD COLUMN merged_into TEXT;
    ALTER TABLE posts ADD COLUMN ratings TEXT NOT NULL DEFAULT '[]';
    UPDATE posts SET ratings = json_array(json_object(
            'at', rated_at, 'source', 'rating', 'score', rating, 'comment', rating_comment,
            'department', department, 'reached', NULL))
        WHERE rating IS NOT NULL AND rated_at IS NOT NULL;
    CREATE INDEX posts_status_supervised ON posts(supervised, status, created_at, id);
    CREATE INDEX posts_status_reminded ON posts(status, reminded_at, due_at);
    """,
    # 14: who follows (关注) what: one row per person and target (the unique index is what keeps
    # a second out), a person's list newest first, and a target's followers by person.
    """
    CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY, user_id TEXT NOT NULL, target TEXT NOT NULL,
        created_at TEXT NOT NULL);
    CREATE UNIQUE INDEX subscriptions_user_target ON subscriptions(user_id, target);
    CREATE INDEX subscriptions_user_time ON subscriptions(user_id, created_at DESC, id DESC);
    CREATE INDEX subscriptions_target_user ON subscriptions(target, user_id);
    """,
    # 15: departments' reply templates (答复模板), listed newest first per department; the
    # knowledge base (常见问题), listed newest first per board and across boards, and found by
    # the post each entry was made from.
    """
    CREATE TABLE templates (
        id TEXT PRIMARY KEY, department TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
        author_id TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX templates_department ON templates(department, created_at DESC, id DESC);
    CREATE TABLE faq (
        id TEXT PRIMARY KEY, board TEXT NOT NULL, post_id TEXT NOT NULL, question TEXT NOT NULL,
        answer TEXT NOT NULL, answer_html TEXT NOT NULL, author_id TEXT NOT NULL,
        created_at TEXT NOT NULL);
    CREATE INDEX faq_board ON faq(board, created_at DESC, id DESC);
    CREATE INDEX faq_time ON faq(created_at DESC, id DESC);
    CREATE INDEX faq_post ON faq(post_id);
    """,
    # 16: the mark a restore leaves while it loads (mark_restoring): one row at most, kept apart
    # from the records, so that wipe, exports and is_empty never see it.
    """
    CREATE TABLE restore_mark (one INTEGER PRIMARY KEY CHECK (one = 1),
                               started_at TEXT NOT NULL);
    """,
    # 17: a number every write of who a login is moves on (see auth_version); one row.
    """
    CREATE TABLE auth_version (one INTEGER PRIMARY KEY CHECK (one = 1),
                               version INTEGER NOT NULL);
    INSERT INTO auth_version (one, version) VALUES (1, 0);
    """,
]

SEARCH_CANDIDATES = 500  # per term; see search_posts

LIST_COLUMNS = frozenset({"roles", "specialties", "categories", "helpers", "ratings"})


def _to_sql(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _from_row(cls: type[T], row: sqlite3.Row) -> T:
    data = {key: (json.loads(row[key]) if key in LIST_COLUMNS else row[key]) for key in row.keys()}
    return from_plain(cls, data)


def _where(clauses: list[str]) -> str:
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def _equal(values: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """A `column = ?` clause and its parameter for each value given (None sets no condition)."""
    given = {column: value for column, value in values.items() if value is not None}
    return [f"{column} = ?" for column in given], [_to_sql(value) for value in given.values()]


def _post_where(where: PostFilter) -> tuple[list[str], list[Any]]:
    """The WHERE clauses and their parameters for a PostFilter (list_posts and the counts)."""
    clauses, params = _equal({column: getattr(where, column) for column in
                              ("board", "category", "author_id", "department", "pinned",
                               "reopened", "public", "supervised", "extension_status",
                               "officer_id")})
    statuses = None if where.statuses is None else [status.value for status in where.statuses]
    for column, values in (("status", statuses), ("category", where.categories),
                           ("board", where.boards)):
        if values is not None:
            clauses.append(_is_in(column, values))
            params.extend(values)
    # A post without a due time has due_at NULL, and NULL < ? is never true: due_before skips it.
    for column, compare, bound in (("created_at", ">=", where.created_from),
                                   ("created_at", "<", where.created_before),
                                   ("due_at", "<", where.due_before),
                                   ("due_at", ">=", where.due_from)):
        if bound is not None:
            clauses.append(f"{column} {compare} ?")
            params.append(_to_sql(bound))
    for column, given in (("overdue_since", where.overdue_noted),
                          ("reminded_at", where.reminded)):
        if given is not None:
            clauses.append(f"{column} IS {'NOT ' if given else ''}NULL")
    if where.helper is not None:
        # Helpers are kept as a JSON list; json_each reads it as rows.
        clauses.append("EXISTS (SELECT 1 FROM json_each(posts.helpers) WHERE value = ?)")
        params.append(where.helper)
    return clauses, params


def _expected(expect: dict[str, Any] | None) -> dict[str, Any]:
    values = plain_changes(expect or {})
    unknown = set(values) - POST_CHANGEABLE - {"status"}
    if unknown:
        raise ValueError(f"posts cannot be matched on {sorted(unknown)}")
    return values


def _is_in(column: str, values: Sequence[Any]) -> str:
    # An empty tuple gives "IN ()", which SQLite accepts and which matches nothing.
    return f"{column} IN ({', '.join('?' for _ in values)})"


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
        char if "a" <= char <= "z" or "0" <= char <= "9" or (char > "\x7f" and char != FTS_ESCAPE)
        else f"{FTS_ESCAPE}{ord(char):06x}" for char in term)


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
            last = conn.execute("SELECT max(doc) FROM search_docs WHERE doc >= ? AND doc < ?",
                                (base, base + DOC_SLOTS)).fetchone()[0]
            following[base] = base if last is None else last + 1
        doc = following[base]
        if doc >= base + DOC_SLOTS:
            raise ValueError(f"more than {DOC_SLOTS} posts created at {created_at}")
        following[base] = doc + 1
        rows.append((doc, post_id, tokens))
    conn.executemany("INSERT INTO search_docs (doc, post_id) VALUES (?, ?)",
                     [(doc, post_id) for doc, post_id, _ in rows])
    conn.executemany("INSERT INTO post_search (rowid, terms) VALUES (?, ?)",
                     [(doc, tokens) for doc, _, tokens in rows])
    marks = {token for _, _, tokens in rows for token in tokens.split(" ")
             if MARK_INFIX in token}
    conn.executemany("INSERT OR IGNORE INTO search_marks (term) VALUES (?)",
                     [(mark,) for mark in marks])


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
        self.terms: collections.OrderedDict[str, tuple[array.array, array.array, array.array]] = \
            collections.OrderedDict()
        self.numbers = 0
        self.seen: collections.OrderedDict[str, dict[int, tuple[str, str] | None]] = \
            collections.OrderedDict()
        self.seen_count = 0

    def start(self, version: int) -> bool:
        """Whether a read at `version` may use the cache; a newer version drops what it held."""
        with self.lock:
            if version > self.version:
                self.version = version
                self._clear()
            return version == self.version

    def term(self, version: int, token: str) -> tuple[array.array, array.array, array.array] | None:
        with self.lock:
            if version != self.version or token not in self.terms:
                return None
            self.terms.move_to_end(token)
            return self.terms[token]

    def keep_term(self, version: int, token: str,
                  candidates: tuple[array.array, array.array, array.array]) -> None:
        size = sum(len(numbers) for numbers in candidates)
        if len(candidates[0]) < SEARCH_CACHE_MATCHES_MIN or size > SEARCH_CACHE_NUMBERS:
            return
        with self.lock:
            if version != self.version or token in self.terms:
                return
            self.terms[token] = candidates
            self.numbers += size
            while self.numbers > SEARCH_CACHE_NUMBERS or len(self.terms) > SEARCH_CACHE_TERMS:
                _, old = self.terms.popitem(last=False)
                self.numbers -= sum(len(numbers) for numbers in old)

    def seen_by(self, version: int, filters: str) -> dict[int, tuple[str, str] | None]:
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

    def keep_seen(self, version: int, filters: str, seen: dict[int, tuple[str, str] | None],
                  found: dict[int, tuple[str, str] | None]) -> None:
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


def _term_candidates(conn: sqlite3.Connection, token: str
                     ) -> tuple[array.array, array.array, array.array]:
    """A term's candidates: the numbers of its newest SEARCH_CANDIDATES posts (doc order is
    created_at order, so a common word costs the same at any size of the data), then its
    weights as posts and how much each weighs: each candidate 1, plus n - 1 for each of the
    newest SEARCH_CANDIDATES posts with its repeat mark for n. Summed over a query's terms, the
    first counts how many of them a post has and the weights how many times (a post only a mark
    brought, older than the term's candidates, has weight but is ranked only when another of
    the query's terms brings it)."""
    def newest(token_or_mark: str) -> list[int]:
        # A quoted string made only of a term or mark: no text of the query is FTS5 syntax.
        return [row[0] for row in conn.execute(
            f"SELECT rowid FROM post_search WHERE post_search MATCH ? ORDER BY rowid DESC "
            f"LIMIT {SEARCH_CANDIDATES}", (_fts_string(token_or_mark),))]
    first = newest(token)
    weights = dict.fromkeys(first, 1)
    prefix = _repeat_mark(token)
    for (mark,) in conn.execute("SELECT term FROM search_marks WHERE term > ? AND term < ?",
                                (prefix, _repeat_mark(token, "y"))).fetchall():
        extra = int(mark[len(prefix):]) - 1
        for doc in newest(mark):
            weights[doc] = weights.get(doc, 0) + extra
    # Arrays of 8-byte numbers: a fifth of the memory of tuples of ints, read as fast.
    return (array.array("q", first), array.array("q", weights),
            array.array("q", weights.values()))


def _ranked_hits(conn: sqlite3.Connection, ranked: list[tuple[int, int, int]],
                 visible: str, params: list[Any], seen: dict[int, tuple[str, str] | None],
                 wanted: int) -> tuple[list[tuple[int, int, str, str]],
                                       dict[int, tuple[str, str] | None]]:
    """The first `wanted` of the ranked (doc, matched, weight) rows whose posts pass the
    filters, as (matched, weight, created_at, post id) in their final order: by rank, and
    within a run of one millisecond and equal rank, the newest id first, as in MongoDB. Posts
    `seen` before are not checked again; the others are, a batch at a time, reading only their
    id and time. Also returns what was found out, for the cache."""
    found: dict[int, tuple[str, str] | None] = {}
    hits: list[tuple[int, int, str, str]] = []
    last: tuple[int, int, int] | None = None  # the run the `wanted`th hit is in
    position, size = 0, max(wanted, 50)
    while position < len(ranked):
        batch = ranked[position:position + size]
        position += len(batch)
        size = min(size * 2, SEARCH_BATCH_MAX)
        unknown = [doc for doc, _, _ in batch if doc not in seen and doc not in found]
        if unknown:
            passed = {row[0]: (row[1], row[2])
                      for row in conn.execute(visible, [json.dumps(unknown), *params])}
            found.update((doc, passed.get(doc)) for doc in unknown)
        for doc, matched, weight in batch:
            run = (matched, weight, doc // DOC_SLOTS)
            if last is not None and run != last:
                position = len(ranked)
                break
            post = seen[doc] if doc in seen else found[doc]
            if post is not None:
                hits.append((matched, weight, post[1], post[0]))
                if len(hits) == wanted:
                    last = run
    hits.sort(reverse=True)
    return hits[:wanted], found


def _search_score(matched: int, weight: int) -> float:
    """How many of the query's terms a post has, plus a fraction below 1 that grows with how
    many times it has them: higher is better, in the order search_posts sorts by (and the
    same as MongoDB's)."""
    return matched + weight / (1 + weight)


EXPORT_BATCH = 500
# Tables prepare_store fills on every start; a store holding nothing else counts as empty.
SEEDED_TABLES = frozenset({"departments", "boards"})


def _plain_record(cls: type, row: sqlite3.Row) -> dict[str, Any]:
    """A row as export_records gives it: the record's plain dict, whatever else the row holds."""
    if cls is Setting:
        return {"key": row["key"], "value": json.loads(row["value"])}
    return to_plain(_from_row(cls, row))


def _record_tables(conn: sqlite3.Connection) -> list[str]:
    """Every table that holds records: all but SQLite's own, the FTS5 (and fts5vocab) virtual
    tables and their shadow tables, whose content follows search_docs through its trigger."""
    tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [name for name, sql in tables
               if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    return [name for name, _ in tables if not name.startswith("sqlite_") and name not in virtual
            and name not in ("content_version", "auth_version", "restore_mark")
            and not any(name.startswith(f"{table}_") for table in virtual)]


def _reserve_hit(conn: sqlite3.Connection, key: str, at: dt.datetime, since: dt.datetime,
                 limit: int) -> str | None:
    # Counted and inserted in the writer's BEGIN IMMEDIATE transaction, which holds the database
    # write lock: no other thread or process can add a hit between the count and the insert.
    conn.execute("DELETE FROM hits WHERE key = ? AND at < ?", (key, iso(at - HIT_RETENTION)))
    (used,) = conn.execute("SELECT COUNT(*) FROM hits WHERE key = ? AND at >= ?",
                           (key, iso(since))).fetchone()
    if used >= limit:
        return None
    # The hits table has no id column (and no migration may add one here), so a hit is named by
    # its implicit rowid. VACUUM may renumber a rowid table; release_hit also matches the key, so
    # at worst it takes back another hit of the same key, which counts the same.
    return str(conn.execute("INSERT INTO hits (key, at) VALUES (?, ?)", (key, iso(at))).lastrowid)


def _insert(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    # Quoted, because some field names are SQL keywords (a mail's "to").
    columns = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" for _ in values)
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                 [_to_sql(v) for v in values.values()])


# add_posts_bulk: every column of a post, in the order of the Post fields, as _insert writes them.
_POST_COLUMNS = tuple(f.name for f in dataclasses.fields(Post))
_POST_INSERT = (f"INSERT INTO posts ({', '.join(_POST_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in _POST_COLUMNS)})")
_post_values = operator.attrgetter(*_POST_COLUMNS)
# Which columns need converting, worked out once from the field types: a million rows pass here.
_POST_TYPES = typing.get_type_hints(Post)
_POST_TIMES = tuple(n for n, c in enumerate(_POST_COLUMNS) if dt.datetime in (
    _POST_TYPES[c], *typing.get_args(_POST_TYPES[c])))
_POST_FLAGS = tuple(n for n, c in enumerate(_POST_COLUMNS) if _POST_TYPES[c] is bool)
_POST_ENUMS = tuple(n for n, c in enumerate(_POST_COLUMNS) if isinstance(_POST_TYPES[c], type)
                    and issubclass(_POST_TYPES[c], enum.Enum))
_POST_LISTS = tuple(n for n, c in enumerate(_POST_COLUMNS) if c in LIST_COLUMNS)


def _post_row(post: Post) -> list[Any]:
    """What _insert(conn, "posts", to_plain(post)) would write, by column."""
    row = list(_post_values(post))
    for n in _POST_TIMES:
        if row[n] is not None:
            row[n] = iso(row[n])
    for n in _POST_FLAGS:
        row[n] = int(row[n])
    for n in _POST_ENUMS:
        row[n] = row[n].value
    for n in _POST_LISTS:
        row[n] = json.dumps(row[n], ensure_ascii=False)
    return row


def _bulk_rows(posts: list[Post], terms: list[list[str]]
               ) -> tuple[list[list[Any]], list[tuple[str, str, str]]]:
    """The posts' rows, and (post id, created_at, tokens) for each post that has terms."""
    rows = [_post_row(post) for post in posts]
    docs = []
    for post, post_terms in zip(posts, terms):
        tokens = " ".join(_index_tokens(post_terms))
        if tokens:
            docs.append((post.id, iso(post.created_at), tokens))
    return rows, docs


@dataclasses.dataclass
class _Unit:
    """An open unit of work: whether it wrote anything pages show (content_version then moves
    on in its group's commit)."""
    content: bool = False


@dataclasses.dataclass
class _Group:
    """The writer's open transaction and the units that finished in it, waiting for its COMMIT
    (`committed`: its result, or the error that lost them all)."""
    committed: asyncio.Future[None]
    content: bool = False
    flush: asyncio.Task[None] | None = None


class _GroupLost(sqlite3.OperationalError):
    """The writer's transaction ended under a unit (SQLite rolls the whole transaction back on
    some errors: a full disk, an I/O error): the units of its group are not stored."""


def _auth_moved(conn: sqlite3.Connection, sql: str, params: Any = ()) -> sqlite3.Cursor:
    """`sql`, which changes who a login is (an account, a session's end), and auth_version
    moved on in the same transaction: no process keeps the old answer past the commit."""
    cursor = conn.execute(sql, params)
    conn.execute("UPDATE auth_version SET version = version + 1")
    return cursor


def _roll_back(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _savepoint(conn: sqlite3.Connection) -> None:
    conn.execute("SAVEPOINT unit")


def _release(conn: sqlite3.Connection) -> None:
    conn.execute("RELEASE unit")


# Tables every version of the schema has; a database without them is not this forum's.
CORE_TABLES = frozenset({"departments", "boards", "users", "sessions", "posts"})


def _examine(path: str) -> None:
    """Refuse what open() must not touch, reading only: a file that is not an SQLite database
    or is damaged where the schema is kept, another application's database (tables, but not
    this forum's), a schema newer than this code. A file that does not exist or is empty is
    left for open() to make. A plain connection, not yet in WAL mode: reading a database that
    is not in WAL mode writes nothing."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.OperationalError:
        raise  # cannot be read now (permissions, a lock): the caller reports it as it is
    except sqlite3.DatabaseError as exc:
        raise StoreRefused(f"{path} is damaged or not an SQLite database ({exc}): restore it "
                           f"from a backup, or move it away to start with an empty one") from exc
    if version > len(MIGRATIONS):
        raise newer_schema(path, version, len(MIGRATIONS))
    if tables and not CORE_TABLES <= tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreRefused(f"{path} is another application's SQLite database (tables {shown}): "
                           f"give the forum a file of its own (--db or FORUM_DB)")


class SqliteStore:
    kind = "sqlite"

    def __init__(self, path: str):
        self.path = path
        self.files = os.path.join(os.path.dirname(path), FILES_FOLDER)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._version_connection: sqlite3.Connection | None = None
        self._kept: dict[str, tuple[int, list[sqlite3.Row]]] = {}  # see _rarely_changed
        self._search_cache = _SearchCache()
        # The unit of work open in this context (see transaction), and the gate that lets one
        # unit or one single write at a time onto the writer's connection.
        self._unit: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar(
            f"sqlite-unit-{id(self)}", default=None)
        self._gate: asyncio.Lock | None = None
        self._gate_loop: asyncio.AbstractEventLoop | None = None
        # The group open on the writer (see transaction). `_pending`: statements the next call
        # on the writer runs first (the group's BEGIN, a unit's SAVEPOINT and RELEASE), so that
        # opening and closing a unit costs no trip of its own to the writer thread; changed
        # only while holding the gate, run only on the writer thread.
        self._group: _Group | None = None
        self._pending: list[Callable[[sqlite3.Connection], None]] = []
        # Writer thread only: the lock file's descriptor, whether it holds the lock (from the
        # group's BEGIN to its COMMIT or ROLLBACK).
        self._lock_descriptor: int | None = None
        self._locked = False

    # connections -----------------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        unit = self._unit.get()
        if unit is not None:
            # Inside a unit of work reads go through its transaction: they see its own writes,
            # and what they saw cannot change before it commits.
            return await self._run(self._writer, work)
        return await self._run(self._readers, work)

    async def _write(self, work: Callable[[sqlite3.Connection], T], *,
                     content: bool = True) -> T:
        """`work` in the writer's transaction: the open unit of work's, else a unit of its own
        (returning once its group has committed). `content`: it may change what pages show, so
        content_version moves on in the same transaction; False only for bookkeeping that no
        shared page shows (sessions, throttling hits, notifications, mail, audit, API keys)."""
        unit = self._unit.get()
        if unit is not None:
            unit.content = unit.content or content
            return await self._run(self._writer, work)
        async with self.transaction():
            return await self._write(work, content=content)

    def _writer_gate(self) -> asyncio.Lock:
        # An asyncio lock belongs to one event loop; tools that run several loops one after
        # another over one store (asyncio.run per step) get a fresh one for each. A group left
        # by a loop that ended (its callers cancelled, none told it committed) is abandoned:
        # the next BEGIN rolls it back.
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate_loop is not loop:
            self._gate, self._gate_loop = asyncio.Lock(), loop
            self._group, self._pending = None, []
        return self._gate

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        if self._unit.get() is not None:
            yield  # joins the unit already open
            return
        async with self._writer_gate():
            group = self._group
            if group is None:
                group = self._group = _Group(asyncio.get_running_loop().create_future())
                self._pending.append(self._begin)
            self._pending.append(_savepoint)
            unit = _Unit()
            token = self._unit.set(unit)
            failure: Exception | None = None
            try:
                yield
            except Exception as exc:
                self._unit.reset(token)
                if not await self._run(self._writer, self._undo_unit, pending=False):
                    self._lose(group)
                    raise
                failure = exc
            except BaseException:  # cancelled: undone, and no waiting for the group
                self._unit.reset(token)
                if not await self._run(self._writer, self._undo_unit, pending=False):
                    self._lose(group)
                raise
            else:
                self._unit.reset(token)
                self._pending.append(_release)
                group.content = group.content or unit.content
            if group.flush is None:
                # Queued behind the units already waiting for the gate, which join this group
                # first; those that come later wait for the next one.
                group.flush = asyncio.ensure_future(self._flush(group))
        try:
            # Shielded: a caller that stops waiting must not cancel the others' commit.
            await asyncio.shield(group.committed)
        except Exception:
            if failure is None:
                raise
        if failure is not None:
            # Raised only now: a unit that failed on what an earlier unit of its group wrote
            # (a conditional write finding the status moved on) is answered once that write is
            # committed, so what its caller reads next (the state now, for a 409) shows it.
            raise failure

    async def _flush(self, group: _Group) -> None:
        """Commit `group`: one COMMIT (one flush to disk) for every unit in it."""
        async with self._writer_gate():
            if self._group is not group:
                return  # lost meanwhile; its callers have been told
            self._group = None
            try:
                await self._run(self._writer, functools.partial(self._commit, group.content))
            except Exception as exc:  # every caller of the group gets the error, none the commit
                group.committed.set_exception(exc)
            except BaseException:  # cancelled with the loop: the callers must not wait forever
                group.committed.set_exception(StoreUnavailable())
                raise
            else:
                group.committed.set_result(None)

    def _lose(self, group: _Group) -> None:
        if self._group is group:
            self._group = None
            self._pending = []
        if group.flush is not None and not group.committed.done():
            # Units finished in it wait for this commit: they learn that it will not come.
            group.committed.set_exception(StoreUnavailable())
            group.flush.cancel()

    # writer thread ---------------------------------------------------------------------------
    def _lock_file(self) -> int:
        if self._lock_descriptor is None:
            self._lock_descriptor = os.open(self.path + "-lock", os.O_RDWR | os.O_CREAT, 0o644)
        return self._lock_descriptor

    def _take_lock(self) -> None:
        # Blocks until no other process (or other store over this file) has a group open: the
        # kernel wakes this thread when that one ends, so the wait is the other's group and no
        # more. SQLite's own lock then never waits (its busy handler would sleep 25–100 ms a
        # try once another writer held on for a few milliseconds).
        fcntl.flock(self._lock_file(), fcntl.LOCK_EX)
        self._locked = True

    def _drop_lock(self, conn: sqlite3.Connection) -> None:
        if self._locked and not conn.in_transaction:
            fcntl.flock(self._lock_file(), fcntl.LOCK_UN)
            self._locked = False

    def _begin(self, conn: sqlite3.Connection) -> None:
        self._take_lock()
        try:
            _roll_back(conn)  # a group abandoned by an event loop that ended (_writer_gate)
            conn.execute("BEGIN IMMEDIATE")
        finally:
            self._drop_lock(conn)

    def _undo_unit(self, conn: sqlite3.Connection) -> bool:
        """Roll back the failed unit alone; whether the group's transaction still stands."""
        pending, self._pending = self._pending, []
        if _savepoint in pending:
            # The unit never reached the writer: nothing of it to undo (the unit before it is
            # still to be released). A BEGIN that never ran leaves no group: this was its first.
            self._pending = [step for step in pending if step is _release]
            return self._begin not in pending and conn.in_transaction
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
        except sqlite3.Error:
            _roll_back(conn)
        finally:
            self._drop_lock(conn)
        return conn.in_transaction

    def _commit(self, content: bool, conn: sqlite3.Connection) -> None:
        try:
            if content:
                conn.execute("UPDATE content_version SET version = version + 1")
            conn.execute("COMMIT")
        except BaseException:
            _roll_back(conn)
            raise
        finally:
            self._drop_lock(conn)

    async def _run(self, pool: ThreadPoolExecutor, work: Callable[[sqlite3.Connection], T], *,
                   pending: bool = True) -> T:
        """`work` on a thread of `pool`; on the writer, after the statements pending for it
        (unless `pending` is False: the work takes them itself)."""
        def call() -> T:
            conn = self._connection()
            if pool is self._writer and pending:
                steps, self._pending = self._pending, []
                for step in steps:
                    step(conn)
                if self._locked and not conn.in_transaction:
                    # SQLite ended the group's transaction under an earlier statement: what
                    # follows must not run outside it, one statement at a time.
                    self._drop_lock(conn)
                    raise _GroupLost("the group's transaction was rolled back")
            return work(conn)

        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except sqlite3.OperationalError as exc:
            # The SQLite text stays in the cause, for the log; clients see the plain message.
            raise StoreUnavailable() from exc
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:
                raise  # a constraint or a mistake in a statement, not the file
            # A damaged file ("database disk image is malformed"): unavailable, not a bug.
            raise StoreUnavailable() from exc

    # lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        """Upgrade the schema, after making sure the file is this forum's database (or empty):
        another application's database, a damaged file and a newer schema are refused
        (StoreRefused) before anything is written to the file or beside it."""
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        await asyncio.to_thread(_examine, self.path)
        await self._run(self._writer, self._migrate)
        os.makedirs(self.files, exist_ok=True)
        # The folder's own entry must be on disk too, or a crash could lose every file in it.
        sync_folder(directory)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise newer_schema(self.path, version, len(MIGRATIONS))
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits on its own, so the version bump goes inside the same script.
            conn.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;")

    async def close(self) -> None:
        def close_all() -> None:
            with self._connections_lock:
                for conn in self._connections:
                    conn.close()
                self._connections.clear()
            self._version_connection = None

        group = self._group
        if group is not None and group.flush is not None and not group.flush.done():
            await asyncio.wait([group.flush])  # its callers were cancelled; commit what they wrote
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        close_all()
        if self._lock_descriptor is not None:
            os.close(self._lock_descriptor)  # also lets go of the lock, were it held
            self._lock_descriptor, self._locked = None, False

    async def ping(self) -> None:
        def probe(conn: sqlite3.Connection) -> None:
            # The first row of each core table: a few pages each, however large the table,
            # yet enough to find a table whose pages the file has lost.
            for table in sorted(CORE_TABLES):
                conn.execute(f"SELECT * FROM {table} LIMIT 1").fetchall()
        await self._read(probe)

    async def check(self) -> list[str]:
        def quick_check() -> list[str]:
            if not os.path.exists(self.path):
                return [f"{self.path} does not exist"]
            try:
                conn = sqlite3.connect(self.path, isolation_level=None)
                try:
                    found = [row[0] for row in conn.execute("PRAGMA quick_check")]
                finally:
                    conn.close()
            except sqlite3.DatabaseError as exc:
                return [str(exc)]
            return [] if found == ["ok"] else found
        return await asyncio.to_thread(quick_check)

    async def content_version(self) -> int:
        return self._version("SELECT version FROM content_version")

    async def auth_version(self) -> int:
        # Read like content_version, for the same reason: logged-in pages ask on every request.
        return self._version("SELECT version FROM auth_version")

    def _version(self, sql: str) -> int:
        # Read on the event loop's own thread, the one exception to "every call off the loop":
        # one row of a one-page table takes microseconds, a hop to a reader thread and back
        # costs more than that, and pages ask on every anonymous request. Under WAL a reader
        # never waits for the writer; the short busy timeout bounds the rare wait for a
        # checkpoint or recovery, after which the store counts as unavailable.
        conn = self._version_connection
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=VERSION_TIMEOUT_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {VERSION_TIMEOUT_MS}")
            self._version_connection = conn
            with self._connections_lock:
                self._connections.append(conn)
        try:
            return conn.execute(sql).fetchone()[0]
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable() from exc

    # departments and boards ------------------------------------------------------------------
    async def ensure_departments(self, departments: list[Department]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR IGNORE INTO departments (slug, name, kind) VALUES (?, ?, ?)",
                [(d.slug, d.name, d.kind) for d in departments])
        await self._write(work)

    async def add_department(self, department: Department) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "departments", to_plain(department))
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="department_taken") from exc
        await self._write(work)

    async def list_departments(self) -> list[Department]:
        rows = await self._rarely_changed("departments", "SELECT * FROM departments ORDER BY slug")
        return [_from_row(Department, row) for row in rows]

    async def _rarely_changed(self, name: str, sql: str) -> list[sqlite3.Row]:
        """The rows of `sql`, read again only when the content version has moved since they
        were read: boards and departments are on every page and change a few times a year,
        and asking for the version costs no thread hop (see content_version)."""
        version = await self.content_version()  # before the rows: a later write moves it
        kept = self._kept.get(name)
        if kept is None or kept[0] != version:
            kept = (version, await self._read(lambda conn: conn.execute(sql).fetchall()))
            self._kept[name] = kept
        return kept[1]

    async def ensure_boards(self, boards: list[BoardSettings]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for board in boards:
                if conn.execute("SELECT 1 FROM boards WHERE slug = ?", (board.slug,)).fetchone():
                    continue
                _insert(conn, "boards", to_plain(board))
        await self._write(work)

    async def list_boards(self) -> list[BoardSettings]:
        rows = await self._rarely_changed("boards", "SELECT * FROM boards ORDER BY slug")
        return [_from_row(BoardSettings, row) for row in rows]

    async def get_board(self, slug: str) -> BoardSettings | None:
        rows = await self._rarely_changed("boards", "SELECT * FROM boards ORDER BY slug")
        row = next((row for row in rows if row["slug"] == slug), None)
        return _from_row(BoardSettings, row) if row else None

    async def save_board(self, board: BoardSettings) -> None:
        values = to_plain(board)
        slug = values.pop("slug")

        def work(conn: sqlite3.Connection) -> None:
            assignments = ", ".join(f"{name} = ?" for name in values)
            cursor = conn.execute(f"UPDATE boards SET {assignments} WHERE slug = ?",
                                  [_to_sql(v) for v in values.values()] + [slug])
            if cursor.rowcount == 0:
                raise NotFound()
        await self._write(work)

    # users and sessions ----------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        values = to_plain(user)
        values["username_key"] = user.username.casefold()

        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "users", values)
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="username_taken") from exc
        await self._write(work)

    async def get_user(self, user_id: str) -> User | None:
        row = await self._read(
            lambda conn: conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone())
        return _from_row(User, row) if row else None

    async def get_user_by_name(self, username: str) -> User | None:
        row = await self._read(lambda conn: conn.execute(
            "SELECT * FROM users WHERE username_key = ?", (username.casefold(),)).fetchone())
        return _from_row(User, row) if row else None

    async def get_users(self, user_ids: list[str]) -> dict[str, User]:
        unique = sorted(set(user_ids))
        if not unique:
            return {}

        def work(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            marks = ", ".join("?" for _ in unique)
            return conn.execute(f"SELECT * FROM users WHERE id IN ({marks})", unique).fetchall()
        rows = await self._read(work)
        return {row["id"]: _from_row(User, row) for row in rows}

    async def update_user(self, user_id: str, changes: dict[str, Any]) -> None:
        values = plain_changes(changes)
        if "username" in values:
            values["username_key"] = values["username"].casefold()

        def work(conn: sqlite3.Connection) -> None:
            assignments = ", ".join(f"{name} = ?" for name in values) or "id = id"
            try:
                cursor = _auth_moved(conn, f"UPDATE users SET {assignments} WHERE id = ?",
                                     [_to_sql(v) for v in values.values()] + [user_id])
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="username_taken") from exc
            if cursor.rowcount == 0:
                raise NotFound()
        await self._write(work)

    async def find_users(self, prefix: str, after: str | None, limit: int) -> list[User]:
        key = prefix.casefold()
        # A range rather than LIKE: the unique index on username_key serves it, and a prefix
        # holding % or _ means those characters, not wildcards.
        clauses, params = ["username_key >= ?", "username_key < ?"], [key, key + "\uffff"]
        if after is not None:
            clauses.append("username_key > ?")
            params.append(after.casefold())
        rows = await self._read(lambda conn: conn.execute(
            f"SELECT * FROM users{_where(clauses)} ORDER BY username_key LIMIT ?",
            [*params, max(limit, 0)]).fetchall())
        return [_from_row(User, row) for row in rows]

    async def list_users(self, *, role: Role | None, department: str | None,
                         limit: int) -> list[User]:
        clauses, params = ["disabled = 0"], []
        if role is not None:
            # Roles are kept as a JSON list; json_each reads it as rows.
            clauses.append("EXISTS (SELECT 1 FROM json_each(users.roles) WHERE value = ?)")
            params.append(Role(role).value)
        if department is not None:
            clauses.append("department = ?")
            params.append(department)
        rows = await self._read(lambda conn: conn.execute(
            f"SELECT * FROM users{_where(clauses)} ORDER BY username_key LIMIT ?",
            [*params, max(limit, 0)]).fetchall())
        return [_from_row(User, row) for row in rows]

    async def add_session(self, session: Session) -> None:
        await self._write(lambda conn: _insert(conn, "sessions", to_plain(session)),
                          content=False)

    async def get_session(self, token_hash: str) -> Session | None:
        row = await self._read(lambda conn: conn.execute(
            "SELECT * FROM sessions WHERE token_hash = ?", (token_hash,)).fetchone())
        return _from_row(Session, row) if row else None

    async def touch_session(self, token_hash: str, at: dt.datetime) -> None:
        await self._write(lambda conn: conn.execute(
            "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", (iso(at), token_hash)),
            content=False)

    async def delete_session(self, token_hash: str) -> None:
        await self._write(lambda conn: _auth_moved(
            conn, "DELETE FROM sessions WHERE token_hash = ?", (token_hash,)), content=False)

    async def delete_user_sessions(self, user_id: str) -> int:
        return await self._write(lambda conn: _auth_moved(
            conn, "DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount, content=False)

    async def take_session(self, token_hash: str, kind: str) -> Session | None:
        # One statement in the writer's transaction: two callers cannot both get the row.
        def work(conn: sqlite3.Connection) -> sqlite3.Row | None:
            found = conn.execute(
                "DELETE FROM sessions WHERE token_hash = ? AND kind = ? RETURNING *",
                (token_hash, kind)).fetchone()
            if found is not None:  # see _auth_moved
                conn.execute("UPDATE auth_version SET version = version + 1")
            return found
        row = await self._write(work, content=False)
        return _from_row(Session, row) if row else None

    # API keys --------------------------------------------------------------------------------
    async def add_api_key(self, key: ApiKey) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "api_keys", to_plain(key))
            except sqlite3.IntegrityError as exc:  # the id or the key's hash is taken
                raise Conflict(code="key_taken") from exc
        await self._write(work, content=False)

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        row = await self._read(lambda conn: conn.execute(
            "SELECT * FROM api_keys WHERE key_hash = ?", (key_hash,)).fetchone())
        return _from_row(ApiKey, row) if row else None

    async def list_api_keys(self) -> list[ApiKey]:
        rows = await self._read(lambda conn: conn.execute(
            "SELECT * FROM api_keys ORDER BY created_at DESC, id DESC").fetchall())
        return [_from_row(ApiKey, row) for row in rows]

    async def revoke_api_key(self, key_id: str, at: dt.datetime) -> ApiKey:
        def work(conn: sqlite3.Connection) -> sqlite3.Row:
            # COALESCE keeps the first revocation's time when the key is revoked again.
            conn.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                         (iso(at), key_id))
            row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None:
                raise NotFound()
            return row
        return _from_row(ApiKey, await self._write(work, content=False))

    # posts -----------------------------------------------------------------------------------
    async def add_post(self, post: Post, event: Event | None = None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "posts", to_plain(post))
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="already_exists") from exc
            if event:
                _insert(conn, "events", to_plain(event))
        await self._write(work)

    async def add_posts_bulk(self, posts: list[Post], terms: list[list[str]]) -> None:
        if len(posts) != len(terms):
            raise ValueError("one list of terms per post")
        if not posts:
            return
        # The rows are made in a worker thread, not the writer's: a loader that keeps two batches
        # in flight has the next one made while this one is written.
        rows, docs = await asyncio.to_thread(_bulk_rows, posts, terms)

        def work(conn: sqlite3.Connection) -> None:
            try:
                conn.executemany(_POST_INSERT, rows)
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="already_exists") from exc
            _add_to_index(conn, docs)
        await self._write(work)

    async def get_post(self, post_id: str) -> Post | None:
        row = await self._read(
            lambda conn: conn.execute("SELECT * FROM posts WHERE id = ?", (post_id,)).fetchone())
        return _from_row(Post, row) if row else None

    async def get_post_by_tracking(self, tracking_hash: str) -> Post | None:
        # An equality implies tracking_hash IS NOT NULL, so the partial index
        # posts_tracking serves it.
        row = await self._read(lambda conn: conn.execute(
            "SELECT * FROM posts WHERE tracking_hash = ?", (tracking_hash,)).fetchone())
        return _from_row(Post, row) if row else None

    async def list_posts(self, where: PostFilter, after: PostKey | None, limit: int, *,
                         oldest_first: bool = False) -> list[Post]:
        clauses, params = _post_where(where)
        return await self._page(Post, "posts", "created_at", clauses, params, after, limit,
                                ascending=oldest_first)

    async def count_posts_by_category(self, where: PostFilter) -> dict[str | None, int]:
        clauses, params = _post_where(where)
        rows = await self._read(lambda conn: conn.execute(
            f"SELECT category, COUNT(*) FROM posts{_where(clauses)} GROUP BY category",
            params).fetchall())
        return {category: count for category, count in rows}

    async def _page(self, cls: type[T], table: str, time: str, clauses: list[str],
                    params: list[Any], after: tuple[dt.datetime, str] | None, limit: int, *,
                    ascending: bool = False) -> list[T]:
        """Up to `limit` rows matching `clauses`, ordered by (time, id), newest first unless
        `ascending`, strictly after the key `after` in that order."""
        beyond, order = (">", "ASC") if ascending else ("<", "DESC")
        clauses, params = list(clauses), list(params)
        if after is not None:
            # A row value, not "time < ? OR (time = ? AND id < ?)": SQLite seeks the index to
            # it, where the OR made it walk the index from the top (279 ms, not 0.2 ms, half
            # way down a board of 1,000,000 posts).
            clauses.append(f"({time}, id) {beyond} (?, ?)")
            params.extend([iso(after[0]), after[1]])
        sql = (f"SELECT * FROM {table}{_where(clauses)} "
               f"ORDER BY {time} {order}, id {order} LIMIT ?")
        # LIMIT -1 would mean no limit at all to SQLite; MongoDB's adapter answers [] too.
        rows = await self._read(
            lambda conn: conn.execute(sql, [*params, max(limit, 0)]).fetchall())
        return [_from_row(cls, row) for row in rows]

    @staticmethod
    def _update_post(conn: sqlite3.Connection, post_id: str, changes: dict[str, Any],
                     event: Event | None = None, expect: dict[str, Any] | None = None) -> Post:
        """Apply `changes` to the post and record `event`; NotFound (so the caller's transaction
        rolls back) when the post does not exist, Conflict when `expect` is given and the post's
        fields no longer hold those values."""
        values = plain_changes(changes)
        unknown = set(values) - POST_CHANGEABLE
        if unknown:
            raise ValueError(f"posts cannot change {sorted(unknown)}")
        expected = _expected(expect)
        if values or expected:
            # The condition is part of the UPDATE itself, so nothing read earlier can be stale
            # when it is judged; "id = id" updates the row only to learn whether it matched.
            # "IS" compares NULL too.
            assignments = ", ".join(f"{name} = ?" for name in values) or "id = id"
            condition = " AND ".join(["id = ?", *(f"{name} IS ?" for name in expected)])
            cursor = conn.execute(f"UPDATE posts SET {assignments} WHERE {condition}",
                                  [_to_sql(v) for v in values.values()] + [post_id]
                                  + [_to_sql(v) for v in expected.values()])
            if cursor.rowcount == 0 and expected:
                if conn.execute("SELECT 1 FROM posts WHERE id = ?", (post_id,)).fetchone():
                    raise Conflict(code="stale")
                raise NotFound()
        row = conn.execute("SELECT * FROM posts WHERE id = ?", (post_id,)).fetchone()
        if row is None:
            raise NotFound()
        if event:
            _insert(conn, "events", to_plain(event))
        return _from_row(Post, row)

    async def update_post(self, post_id: str, changes: dict[str, Any],
                          revision: Revision | None = None, event: Event | None = None, *,
                          expect: dict[str, Any] | None = None) -> Post:
        def work(conn: sqlite3.Connection) -> Post:
            # Everything in the writer's transaction: a Conflict or NotFound rolls it all back.
            post = self._update_post(conn, post_id, changes, event, expect)
            if revision:
                _insert(conn, "revisions", to_plain(revision))
            return post
        return await self._write(work)

    async def add_reply(self, reply: Reply, changes: dict[str, Any],
                        event: Event | None = None, *,
                        expect: dict[str, Any] | None = None, counted: bool = True) -> Post:
        def work(conn: sqlite3.Connection) -> Post:
            if not conn.execute("SELECT 1 FROM posts WHERE id = ?", (reply.post_id,)).fetchone():
                raise NotFound()
            _insert(conn, "replies", to_plain(reply))
            if counted:
                conn.execute("UPDATE posts SET reply_count = reply_count + 1 WHERE id = ?",
                             (reply.post_id,))
            return self._update_post(conn, reply.post_id, changes, event, expect)
        return await self._write(work)

    async def accept_reply(self, post_id: str, reply_id: str, changes: dict[str, Any],
                           event: Event | None = None, *,
                           expect: dict[str, Any] | None = None) -> Post:
        def work(conn: sqlite3.Connection) -> Post:
            # A reply belongs to an existing post (foreign key), so one row updated answers both
            # questions; none means NotFound, and the transaction rolls back (as it does when
            # `expect` no longer holds).
            if conn.execute("UPDATE replies SET accepted = 1 WHERE id = ? AND post_id = ?",
                            (reply_id, post_id)).rowcount == 0:
                raise NotFound()
            return self._update_post(conn, post_id, changes, event, expect)
        return await self._write(work)

    async def list_replies_by_author(self, author_id: str, kind: ReplyKind | None,
                                     after: ReplyKey | None, limit: int) -> list[Reply]:
        clauses, params = ["author_id = ?"], [author_id]
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind.value)
        return await self._page(Reply, "replies", "created_at", clauses, params, after, limit)

    async def reply_stats(self, author_id: str, kind: ReplyKind) -> ReplyStats:
        rows = await self._read(lambda conn: conn.execute(
            "SELECT board, COUNT(*), SUM(accepted) FROM replies WHERE author_id = ? AND kind = ? "
            "GROUP BY board", (author_id, kind.value)).fetchall())
        return ReplyStats(total=sum(total for _, total, _ in rows),
                          accepted=sum(accepted for _, _, accepted in rows),
                          by_board={board: total for board, total, _ in rows if board is not None})

    async def _children(self, cls: type[T], table: str, order: str, post_id: str) -> list[T]:
        rows = await self._read(lambda conn: conn.execute(
            f"SELECT * FROM {table} WHERE post_id = ? ORDER BY {order}, id", (post_id,)).fetchall())
        return [_from_row(cls, row) for row in rows]

    async def list_replies(self, post_id: str) -> list[Reply]:
        return await self._children(Reply, "replies", "created_at", post_id)

    async def list_revisions(self, post_id: str) -> list[Revision]:
        return await self._children(Revision, "revisions", "edited_at", post_id)

    async def list_events(self, post_id: str) -> list[Event]:
        return await self._children(Event, "events", "at", post_id)

    # flags and audit -------------------------------------------------------------------------
    async def add_flag(self, flag: Flag) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "flags", to_plain(flag))
            except sqlite3.IntegrityError as exc:  # the flags_open index: one open flag each
                raise Conflict(code="already_flagged") from exc
        await self._write(work)

    async def list_flags(self, post_id: str) -> list[Flag]:
        return await self._children(Flag, "flags", "created_at", post_id)

    async def list_open_flags(self, after: tuple[dt.datetime, str] | None,
                              limit: int) -> list[Flag]:
        return await self._page(Flag, "flags", "created_at", ["open = 1"], [], after, limit,
                                ascending=True)

    async def close_flags(self, post_id: str) -> int:
        return await self._write(lambda conn: conn.execute(
            "UPDATE flags SET open = 0 WHERE post_id = ? AND open = 1", (post_id,)).rowcount)

    async def add_audit(self, entry: AuditEntry) -> None:
        await self._write(lambda conn: _insert(conn, "audit", to_plain(entry)), content=False)

    async def list_audit(self, *, actor_id: str | None, target: str | None,
                         after: AuditKey | None, limit: int) -> list[AuditEntry]:
        clauses, params = _equal({"actor_id": actor_id, "target": target})
        return await self._page(AuditEntry, "audit", "at", clauses, params, after, limit)

    # reply templates and the knowledge base ----------------------------------------------------
    async def add_template(self, template: ReplyTemplate) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "templates", to_plain(template))
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="already_exists") from exc
        await self._write(work)

    async def list_templates(self, department: str) -> list[ReplyTemplate]:
        rows = await self._read(lambda conn: conn.execute(
            "SELECT * FROM templates WHERE department = ? ORDER BY created_at DESC, id DESC",
            (department,)).fetchall())
        return [_from_row(ReplyTemplate, row) for row in rows]

    async def get_template(self, template_id: str) -> ReplyTemplate | None:
        row = await self._read(lambda conn: conn.execute(
            "SELECT * FROM templates WHERE id = ?", (template_id,)).fetchone())
        return _from_row(ReplyTemplate, row) if row else None

    async def delete_template(self, template_id: str) -> bool:
        return bool(await self._write(lambda conn: conn.execute(
            "DELETE FROM templates WHERE id = ?", (template_id,)).rowcount))

    async def add_faq(self, entry: FaqEntry) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "faq", to_plain(entry))
            except sqlite3.IntegrityError as exc:
                raise Conflict(code="already_exists") from exc
        await self._write(work)

    async def list_faq(self, board: str | None, after: FaqKey | None,
                       limit: int) -> list[FaqEntry]:
        clauses, params = _equal({"board": board})
        return await self._page(FaqEntry, "faq", "created_at", clauses, params, after, limit)

    async def get_faq(self, entry_id: str) -> FaqEntry | None:
        row = await self._read(lambda conn: conn.execute(
            "SELECT * FROM faq WHERE id = ?", (entry_id,)).fetchone())
        return _from_row(FaqEntry, row) if row else None

    async def delete_faq(self, entry_id: str) -> bool:
        return bool(await self._write(lambda conn: conn.execute(
            "DELETE FROM faq WHERE id = ?", (entry_id,)).rowcount))

    # attachments -----------------------------------------------------------------------------
    def _file_path(self, attachment_id: str) -> str:
        # Only well-formed ids name a file, so no id can point outside the folder.
        if not is_id(attachment_id):
            raise ValueError(f"not an attachment id: {attachment_id!r}")
        return os.path.join(self.files, attachment_id)

    async def add_attachment(self, attachment: Attachment, data: bytes) -> None:
        await self.add_attachments(attachment.post_id, [(attachment, data)], None)

    async def add_attachments(self, post_id: str, items: list[tuple[Attachment, bytes]],
                              max_per_post: int | None) -> None:
        paths = [self._file_path(attachment.id) for attachment, _ in items]

        def work(conn: sqlite3.Connection) -> None:
            # Asked before any byte is written: renaming over a taken id would replace the bytes
            # of the attachment that has it. The writer thread runs one of these at a time, and
            # its transaction holds the write lock, so the count below stays true until commit.
            ids = [attachment.id for attachment, _ in items]
            if len(set(ids)) < len(ids) or conn.execute(
                    f"SELECT 1 FROM attachments WHERE id IN ({', '.join('?' for _ in ids)})",
                    ids).fetchone():
                raise Conflict(code="attachment_taken")
            if not conn.execute("SELECT 1 FROM posts WHERE id = ?", (post_id,)).fetchone():
                raise NotFound()
            if max_per_post is not None:
                (kept,) = conn.execute("SELECT COUNT(*) FROM attachments WHERE post_id = ?",
                                       (post_id,)).fetchone()
                if kept + len(items) > max_per_post:
                    raise Conflict(code=TOO_MANY_FILES)
            # The files first, durably, then the rows: a crash in between leaves files no row
            # names (space lost), never a row naming a file that is not there.
            written = []
            try:
                for path, (attachment, data) in zip(paths, items):
                    write_whole(path, data)
                    written.append(path)
                    _insert(conn, "attachments", to_plain(attachment))
            except BaseException:
                for path in written:
                    os.remove(path)
                raise
        await self._write(work)

    async def get_attachment(self, attachment_id: str) -> tuple[Attachment, bytes] | None:
        def work(conn: sqlite3.Connection) -> tuple[Attachment, bytes] | None:
            row = conn.execute("SELECT * FROM attachments WHERE id = ?",
                               (attachment_id,)).fetchone()
            if row is None:
                return None
            with open(self._file_path(row["id"]), "rb") as file:
                return _from_row(Attachment, row), file.read()
        return await self._read(work)

    async def list_attachments(self, post_id: str) -> list[Attachment]:
        return await self._children(Attachment, "attachments", "created_at", post_id)

    # settings --------------------------------------------------------------------------------
    async def get_setting(self, key: str) -> Any:
        row = await self._read(lambda conn: conn.execute(
            "SELECT value FROM settings WHERE key = ?", (key,)).fetchone())
        return json.loads(row["value"]) if row else None

    async def put_setting(self, key: str, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=False)
        await self._write(lambda conn: conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, text)))

    # search ----------------------------------------------------------------------------------
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
            created = dict(conn.execute(f"SELECT id, created_at FROM posts WHERE {_is_in('id', ids)}",
                                        ids).fetchall())
            # As index_post, for the whole batch in the writer's one transaction.
            conn.executemany("DELETE FROM search_docs WHERE post_id = ?",
                             [(post_id,) for post_id in created])
            _add_to_index(conn, [(post_id, created[post_id], tokens[post_id])
                                 for post_id in created if tokens[post_id]])
        await self._write(work)

    async def search_posts(self, terms: list[str], where: list[PostFilter], offset: int,
                           limit: int) -> list[SearchHit]:
        wanted = max(offset, 0) + limit

        def read(conn: sqlite3.Connection, ranks: list[tuple[int, int, str, str]]
                 ) -> list[SearchHit]:
            page = ranks[max(offset, 0):wanted]
            ids = tuple(post_id for _, _, _, post_id in page)
            rows = {row["id"]: row for row in conn.execute(
                f"SELECT * FROM posts WHERE {_is_in('id', ids)}", ids)}
            return [SearchHit(_from_row(Post, rows[post_id]), _search_score(matched, weight))
                    for matched, weight, _, post_id in page]
        return await self._search(terms, where, wanted, read)

    async def search_ranks(self, terms: list[str], where: list[PostFilter],
                           limit: int) -> list[SearchRank]:
        def read(conn: sqlite3.Connection, ranks: list[tuple[int, int, str, str]]
                 ) -> list[SearchRank]:
            return [SearchRank(post_id, as_utc(created_at), _search_score(matched, weight))
                    for matched, weight, created_at, post_id in ranks]
        return await self._search(terms, where, limit, read)

    async def get_posts(self, post_ids: list[str]) -> list[Post]:
        ids = tuple(dict.fromkeys(post_ids))
        if not ids:
            return []
        rows = await self._read(lambda conn: conn.execute(
            f"SELECT * FROM posts WHERE {_is_in('id', ids)}", ids).fetchall())
        found = {row["id"]: _from_row(Post, row) for row in rows}
        return [found[post_id] for post_id in post_ids if post_id in found]

    async def _search(self, terms: list[str], where: list[PostFilter], wanted: int,
                      read: Callable[[sqlite3.Connection, list[tuple[int, int, str, str]]], T]
                      ) -> T | list[Any]:
        """The best `wanted` hits as (matched, weight, created_at, post id), given to `read`
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
        visible = (f"SELECT search_docs.doc, posts.id, posts.created_at FROM json_each(?) AS "
                   f"ranked CROSS JOIN search_docs ON search_docs.doc = ranked.value "
                   f"CROSS JOIN posts ON posts.id = search_docs.post_id "
                   f"WHERE {' OR '.join(groups)}")
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
                # Each term's candidates; summed per post, how many of the query's terms it has
                # (first) and how many times (weights). Posts in order by that, then newer (doc
                # order); posts of one millisecond and equal rank by id (see _ranked_hits).
                first: collections.Counter[int] = collections.Counter()
                weights: dict[int, int] = {}
                for token in tokens:
                    candidates = cache.term(version, token) if usable else None
                    if candidates is None:
                        candidates = _term_candidates(conn, token)
                        if usable:
                            cache.keep_term(version, token, candidates)
                    first.update(candidates[0])  # counted in C: no Python loop per number
                    if not weights:
                        weights = dict(zip(candidates[1], candidates[2]))
                    else:
                        weight = weights.get
                        for doc, more in zip(candidates[1], candidates[2]):
                            weights[doc] = weight(doc, 0) + more
                ranked = sorted(((doc, matched, weights[doc]) for doc, matched in first.items()),
                                key=lambda row: (row[1], row[2], row[0]), reverse=True)
                seen = cache.seen_by(version, filters) if usable else {}
                ranks, found = _ranked_hits(conn, ranked, visible, params, seen, wanted)
                if usable and found:
                    cache.keep_seen(version, filters, seen, found)
                return read(conn, ranks)
            finally:
                if cached:
                    conn.execute("COMMIT")  # ends the read, so that it holds back no checkpoint
        return await self._read(work)

    # notifications and mail ------------------------------------------------------------------
    async def add_notifications(self, notifications: list[Notification]) -> None:
        if not notifications:
            return

        def work(conn: sqlite3.Connection) -> None:
            for notification in notifications:
                _insert(conn, "notifications", to_plain(notification))
        await self._write(work, content=False)

    async def list_notifications(self, user_id: str, after: tuple[dt.datetime, str] | None,
                                 limit: int) -> list[Notification]:
        return await self._page(Notification, "notifications", "created_at", ["user_id = ?"],
                                [user_id], after, limit)

    async def count_unread(self, user_id: str) -> int:
        row = await self._read(lambda conn: conn.execute(
            "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read = 0",
            (user_id,)).fetchone())
        return row[0]

    async def count_all_unread(self) -> int:
        # Answered from the (user_id, read) index alone, without reading the rows.
        row = await self._read(lambda conn: conn.execute(
            "SELECT COUNT(*) FROM notifications WHERE read = 0").fetchone())
        return row[0]

    async def mark_read(self, user_id: str, ids: list[str] | None) -> int:
        # The user's own unread rows only: another user's ids match nothing, and rows already
        # read are not changed, so the count is of those that changed.
        clauses, params = ["user_id = ?", "read = 0"], [user_id]
        if ids is not None:
            unique = sorted(set(ids))
            clauses.append(_is_in("id", tuple(unique)))
            params.extend(unique)
        return await self._write(lambda conn: conn.execute(
            f"UPDATE notifications SET read = 1{_where(clauses)}", params).rowcount,
            content=False)

    # subscriptions ---------------------------------------------------------------------------
    async def add_subscription(self, subscription: Subscription) -> tuple[Subscription, bool]:
        values = to_plain(subscription)

        def work(conn: sqlite3.Connection) -> tuple[Subscription, bool]:
            # The unique (user_id, target) index decides, in the write itself: DO NOTHING when
            # the pair is there, and then the row that was there is the answer.
            cursor = conn.execute(
                "INSERT INTO subscriptions (id, user_id, target, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id, target) DO NOTHING",
                [_to_sql(values[name]) for name in ("id", "user_id", "target", "created_at")])
            row = conn.execute("SELECT * FROM subscriptions WHERE user_id = ? AND target = ?",
                               (subscription.user_id, subscription.target)).fetchone()
            return _from_row(Subscription, row), cursor.rowcount == 1
        return await self._write(work, content=False)

    async def list_subscriptions(self, user_id: str, after: tuple[dt.datetime, str] | None,
                                 limit: int) -> list[Subscription]:
        return await self._page(Subscription, "subscriptions", "created_at", ["user_id = ?"],
                                [user_id], after, limit)

    async def get_subscription(self, user_id: str, target: str) -> Subscription | None:
        row = await self._read(lambda conn: conn.execute(
            "SELECT * FROM subscriptions WHERE user_id = ? AND target = ?",
            (user_id, target)).fetchone())
        return _from_row(Subscription, row) if row else None

    async def list_subscribers(self, target: str, after: str | None,
                               limit: int) -> list[Subscription]:
        clauses, params = ["target = ?"], [target]
        if after is not None:
            clauses.append("user_id > ?")
            params.append(after)
        sql = f"SELECT * FROM subscriptions{_where(clauses)} ORDER BY user_id LIMIT ?"
        rows = await self._read(
            lambda conn: conn.execute(sql, [*params, max(limit, 0)]).fetchall())
        return [_from_row(Subscription, row) for row in rows]

    async def delete_subscription(self, subscription_id: str, user_id: str) -> bool:
        return await self._write(lambda conn: conn.execute(
            "DELETE FROM subscriptions WHERE id = ? AND user_id = ?",
            (subscription_id, user_id)).rowcount == 1, content=False)

    async def enqueue_mail(self, mail: Mail) -> None:
        await self._write(lambda conn: _insert(conn, "mail", to_plain(mail)), content=False)

    async def claim_mail(self, at: dt.datetime, lease_until: dt.datetime,
                         limit: int) -> list[Mail]:
        if limit <= 0:
            return []

        def work(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            # Read and moved in one writer transaction: the single writer runs one claim at a
            # time, so no other claim sees these mails due. A NULL next_attempt_at (sent or given
            # up) is never <= anything.
            rows = conn.execute(
                "SELECT * FROM mail WHERE next_attempt_at <= ? "
                "ORDER BY next_attempt_at, id LIMIT ?", (iso(at), limit)).fetchall()
            claimed = tuple(row["id"] for row in rows)
            if claimed:
                conn.execute(f"UPDATE mail SET next_attempt_at = ? WHERE {_is_in('id', claimed)}",
                             (iso(lease_until), *claimed))
            return rows
        return [_from_row(Mail, row) for row in await self._write(work, content=False)]

    async def finish_mail(self, mail_id: str, *, sent_at: dt.datetime | None,
                          next_attempt_at: dt.datetime | None, attempts: int,
                          error: str | None, body: str | None = None) -> None:
        await self._write(lambda conn: conn.execute(
            "UPDATE mail SET sent_at = ?, next_attempt_at = ?, attempts = ?, last_error = ?, "
            "body = coalesce(?, body) WHERE id = ?",
            (iso(sent_at), iso(next_attempt_at), attempts, error, body, mail_id)),
            content=False)

    async def count_mail_waiting(self) -> int:
        row = await self._read(lambda conn: conn.execute(
            "SELECT COUNT(*) FROM mail WHERE next_attempt_at IS NOT NULL").fetchone())
        return row[0]

    # throttling ------------------------------------------------------------------------------
    async def count_hits(self, key: str, since: dt.datetime) -> int:
        row = await self._read(lambda conn: conn.execute(
            "SELECT COUNT(*) FROM hits WHERE key = ? AND at >= ?", (key, iso(since))).fetchone())
        return row[0]

    async def reserve_hit(self, key: str, at: dt.datetime, since: dt.datetime,
                          limit: int) -> str | None:
        return await self._write(lambda conn: _reserve_hit(conn, key, at, since, limit),
                                 content=False)

    async def release_hit(self, key: str, hit_id: str) -> None:
        if not hit_id.isdigit():
            return  # no rowid names it, so no hit of ours
        await self._write(lambda conn: conn.execute(
            "DELETE FROM hits WHERE key = ? AND rowid = ?", (key, int(hit_id))), content=False)

    async def clear_hits(self, key: str) -> None:
        await self._write(lambda conn: conn.execute("DELETE FROM hits WHERE key = ?", (key,)),
                          content=False)

    # idempotency keys ------------------------------------------------------------------------
    async def claim_idempotency(self, caller: str, key: str, body_hash: str,
                                at: dt.datetime) -> IdempotencyRecord | None:
        def work(conn: sqlite3.Connection) -> IdempotencyRecord | None:
            # The writer's transaction makes the look-up and the insert one step.
            conn.execute("DELETE FROM idempotency WHERE created_at < ?",
                         (iso(at - IDEMPOTENCY_RETENTION),))
            row = conn.execute("SELECT * FROM idempotency WHERE caller = ? AND key = ?",
                               (caller, key)).fetchone()
            if row is not None:
                return _from_row(IdempotencyRecord, row)
            _insert(conn, "idempotency", to_plain(IdempotencyRecord(caller, key, body_hash, at)))
            return None
        return await self._write(work, content=False)

    async def finish_idempotency(self, caller: str, key: str, status: int, content_type: str,
                                 body: str) -> None:
        await self._write(lambda conn: conn.execute(
            "UPDATE idempotency SET status = ?, content_type = ?, body = ? "
            "WHERE caller = ? AND key = ?", (status, content_type, body, caller, key)),
            content=False)

    async def release_idempotency(self, caller: str, key: str) -> None:
        await self._write(lambda conn: conn.execute(
            "DELETE FROM idempotency WHERE caller = ? AND key = ?", (caller, key)), content=False)

    # backup and restore ----------------------------------------------------------------------
    async def export_records(self) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        # A connection of its own, on a thread of its own, holding one read transaction from the
        # first SELECT to the last: under WAL that is one snapshot of the whole database, which
        # the writer's commits meanwhile do not change (they wait in the WAL until it ends).
        thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-export")
        loop = asyncio.get_running_loop()

        def run(work: Callable[[], T]) -> asyncio.Future[T]:
            return loop.run_in_executor(thread, work)

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("BEGIN")  # deferred: the snapshot is taken by the first SELECT
            return conn

        try:
            conn = await run(connect)
        except sqlite3.OperationalError as exc:
            thread.shutdown(wait=False)
            raise StoreUnavailable() from exc
        try:
            for kind, cls in RECORD_KINDS.items():
                cursor = await run(lambda: conn.execute(
                    f'SELECT * FROM {kind} ORDER BY "{record_key(kind)}"'))
                while rows := await run(lambda: cursor.fetchmany(EXPORT_BATCH)):
                    for row in rows:
                        yield kind, _plain_record(cls, row)
            await run(lambda: conn.execute("COMMIT"))
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable() from exc
        finally:
            await run(conn.close)
            thread.shutdown(wait=False)

    async def import_records(self, kind: str, records: list[dict[str, Any]]) -> None:
        cls = importable_kind(kind)
        rows = []
        for record in records:
            values = to_plain(from_plain(cls, record))
            if cls is User:
                values["username_key"] = values["username"].casefold()
            if cls is Setting:
                values["value"] = json.dumps(values["value"], ensure_ascii=False)
            rows.append(values)

        def work(conn: sqlite3.Connection) -> None:
            try:
                for values in rows:
                    _insert(conn, kind, values)
            except sqlite3.IntegrityError as exc:  # a taken id or name, or a missing reference
                raise Conflict(f"{kind}: {exc}") from exc
        await self._write(work)

    async def count_records(self) -> dict[str, int]:
        def work(conn: sqlite3.Connection) -> dict[str, int]:
            return {kind: conn.execute(f"SELECT COUNT(*) FROM {kind}").fetchone()[0]
                    for kind in RECORD_KINDS}
        return await self._read(work)

    async def mark_restoring(self, started_at: dt.datetime | None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM restore_mark")
            if started_at is not None:
                conn.execute("INSERT INTO restore_mark (one, started_at) VALUES (1, ?)",
                             (iso(started_at),))
        await self._write(work)

    async def unfinished_restore(self) -> dt.datetime | None:
        def work(conn: sqlite3.Connection) -> dt.datetime | None:
            row = conn.execute("SELECT started_at FROM restore_mark").fetchone()
            return as_utc(row[0]) if row else None
        return await self._read(work)

    async def is_empty(self) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            return not any(conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone()
                           for table in _record_tables(conn) if table not in SEEDED_TABLES)
        return await self._read(work)

    async def wipe(self) -> None:
        def work(conn: sqlite3.Connection) -> None:
            # References are checked at COMMIT, when nothing is left to refer to.
            conn.execute("PRAGMA defer_foreign_keys = ON")
            # search_docs first: its trigger takes each post's tokens out of the FTS index.
            for table in sorted(_record_tables(conn), key=lambda name: name != "search_docs"):
                conn.execute(f'DELETE FROM "{table}"')
            conn.execute("UPDATE auth_version SET version = version + 1")  # every login gone
        await self._write(work)

        def remove_files() -> None:
            # After the rows: a crash in between leaves files no row names (which a restore's
            # add_attachment replaces), never a row without its file.
            for name in os.listdir(self.files):
                if is_id(name):
                    os.remove(os.path.join(self.files, name))
            sync_folder(self.files)
        await asyncio.to_thread(remove_files)


assert {f.name for f in dataclasses.fields(Post)} >= POST_CHANGEABLE
