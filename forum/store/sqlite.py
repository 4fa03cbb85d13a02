"""The embedded default store: SQLite through the standard library.

One writer thread owns the only writing connection, so writes never contend inside the process;
readers use their own connections on a small pool, which WAL lets run beside the writer. Every
call runs off the event loop.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import sqlite3
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from forum.model import (Attachment, AuditEntry, BoardSettings, Department, Event, Flag, Mail,
                         Notification, Post, PostFilter, Reply, ReplyKind, ReplyStats, Revision,
                         Role, SearchHit, Session, Status, User, is_id, iso)
from forum.store.base import (POST_CHANGEABLE, AuditKey, Conflict, NotFound, PostKey, ReplyKey,
                              StoreUnavailable)
from forum.store.codec import from_plain, plain_changes, to_plain

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
READER_THREADS = 2
HIT_RETENTION = dt.timedelta(days=1)
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
    # 5: search. search_docs holds each indexed post's terms (see _fts_token) under an INTEGER
    # PRIMARY KEY, which VACUUM keeps (posts' implicit rowid it may renumber); post_search is an
    # FTS5 index over that table (external content, so the terms are stored once), kept in step
    # by the triggers. The ascii tokenizer splits only at ASCII characters other than letters and
    # digits, which _fts_token never leaves in a token. detail=none: terms are matched one by
    # one, never as phrases, so positions need not be stored.
    """
    CREATE TABLE search_docs (
        doc INTEGER PRIMARY KEY,
        post_id TEXT NOT NULL UNIQUE REFERENCES posts(id) ON DELETE CASCADE,
        terms TEXT NOT NULL);
    CREATE VIRTUAL TABLE post_search USING fts5(
        terms, content = 'search_docs', content_rowid = 'doc', tokenize = 'ascii',
        detail = 'none');
    CREATE TRIGGER search_docs_added AFTER INSERT ON search_docs BEGIN
        INSERT INTO post_search (rowid, terms) VALUES (new.doc, new.terms);
    END;
    CREATE TRIGGER search_docs_removed AFTER DELETE ON search_docs BEGIN
        INSERT INTO post_search (post_search, rowid, terms) VALUES ('delete', old.doc, old.terms);
    END;
    CREATE TRIGGER search_docs_changed AFTER UPDATE ON search_docs BEGIN
        INSERT INTO post_search (post_search, rowid, terms) VALUES ('delete', old.doc, old.terms);
        INSERT INTO post_search (rowid, terms) VALUES (new.doc, new.terms);
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
]

SEARCH_CANDIDATES = 500  # per term; see search_posts

LIST_COLUMNS = frozenset({"roles", "specialties", "categories"})


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
                               "reopened", "public")})
    statuses = None if where.statuses is None else [status.value for status in where.statuses]
    for column, values in (("status", statuses), ("category", where.categories),
                           ("board", where.boards)):
        if values is not None:
            clauses.append(_is_in(column, values))
            params.extend(values)
    # A post without a due time has due_at NULL, and NULL < ? is never true: due_before skips it.
    for column, operator, bound in (("created_at", ">=", where.created_from),
                                    ("created_at", "<", where.created_before),
                                    ("due_at", "<", where.due_before)):
        if bound is not None:
            clauses.append(f"{column} {operator} ?")
            params.append(_to_sql(bound))
    if where.overdue_noted is not None:
        clauses.append(f"overdue_since IS {'NOT ' if where.overdue_noted else ''}NULL")
    return clauses, params


def _expected(expect: dict[str, Any] | None) -> dict[str, Any]:
    values = plain_changes(expect or {})
    unknown = set(values) - POST_CHANGEABLE - {"status"}
    if unknown:
        raise ValueError(f"posts cannot be matched on {sorted(unknown)}")
    return values


def _is_in(column: str, values: tuple[Any, ...]) -> str:
    # An empty tuple gives "IN ()", which SQLite accepts and which matches nothing.
    return f"{column} IN ({', '.join('?' for _ in values)})"


# Stands for a character that FTS5's ascii tokenizer would split at or fold (see _fts_token); a
# private-use character, so no text means it.
FTS_ESCAPE = "\ue000"


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


def _score(matched: int, bm25: float) -> float:
    """How many terms a post matched, plus -bm25 squeezed into [0, 1): higher is better, in the
    order search_posts sorts by."""
    relevance = max(-bm25, 0.0)
    return matched + relevance / (1 + relevance)


def _search_tokens(terms: list[str]) -> list[str]:
    """The distinct tokens of `terms`, in their order; empty terms are no terms."""
    return list(dict.fromkeys(_fts_token(term) for term in terms if term))


def _store_file(path: str, data: bytes) -> None:
    """Put `data` at `path` so that after a crash the file is either whole or absent: written to
    a temporary file in the same folder and flushed to disk, then renamed over `path` (atomic
    within one file system), then the folder flushed so that the rename itself is on disk."""
    folder = os.path.dirname(path)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    _sync_folder(folder)


def _sync_folder(folder: str) -> None:
    """Flush a folder's entries (files created, renamed or removed in it) to disk."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _insert(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    # Quoted, because some field names are SQL keywords (a mail's "to").
    columns = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" for _ in values)
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                 [_to_sql(v) for v in values.values()])


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
        return await self._run(self._readers, work, transaction=False)

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._writer, work, transaction=True)

    async def _run(self, pool: ThreadPoolExecutor, work: Callable[[sqlite3.Connection], T],
                   transaction: bool) -> T:
        def call() -> T:
            conn = self._connection()
            if not transaction:
                return work(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except sqlite3.OperationalError as exc:
            # The SQLite text stays in the cause, for the log; clients see the plain message.
            raise StoreUnavailable() from exc

    # lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(self.files, exist_ok=True)
        # The folder's own entry must be on disk too, or a crash could lose every file in it.
        _sync_folder(directory)
        await self._run(self._writer, self._migrate, transaction=False)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits on its own, so the version bump goes inside the same script.
            conn.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;")

    async def close(self) -> None:
        def close_all() -> None:
            with self._connections_lock:
                for conn in self._connections:
                    conn.close()
                self._connections.clear()

        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        close_all()

    async def ping(self) -> None:
        await self._read(lambda conn: conn.execute("SELECT 1").fetchone())

    # departments and boards ------------------------------------------------------------------
    async def ensure_departments(self, departments: list[Department]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.executemany("INSERT OR IGNORE INTO departments (slug, name) VALUES (?, ?)",
                             [(d.slug, d.name) for d in departments])
        await self._write(work)

    async def add_department(self, department: Department) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "departments", to_plain(department))
            except sqlite3.IntegrityError as exc:
                raise Conflict("部门代码已存在") from exc
        await self._write(work)

    async def list_departments(self) -> list[Department]:
        rows = await self._read(
            lambda conn: conn.execute("SELECT * FROM departments ORDER BY slug").fetchall())
        return [_from_row(Department, row) for row in rows]

    async def ensure_boards(self, boards: list[BoardSettings]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for board in boards:
                if conn.execute("SELECT 1 FROM boards WHERE slug = ?", (board.slug,)).fetchone():
                    continue
                _insert(conn, "boards", to_plain(board))
        await self._write(work)

    async def list_boards(self) -> list[BoardSettings]:
        rows = await self._read(lambda conn: conn.execute("SELECT * FROM boards").fetchall())
        return [_from_row(BoardSettings, row) for row in rows]

    async def get_board(self, slug: str) -> BoardSettings | None:
        row = await self._read(
            lambda conn: conn.execute("SELECT * FROM boards WHERE slug = ?", (slug,)).fetchone())
        return _from_row(BoardSettings, row) if row else None

    async def save_board(self, board: BoardSettings) -> None:
        values = to_plain(board)
        slug = values.pop("slug")

        def work(conn: sqlite3.Connection) -> None:
            assignments = ", ".join(f"{name} = ?" for name in values)
            cursor = conn.execute(f"UPDATE boards SET {assignments} WHERE slug = ?",
                                  [_to_sql(v) for v in values.values()] + [slug])
            if cursor.rowcount == 0:
                raise NotFound("栏目不存在")
        await self._write(work)

    # users and sessions ----------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        values = to_plain(user)
        values["username_key"] = user.username.casefold()

        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "users", values)
            except sqlite3.IntegrityError as exc:
                raise Conflict("用户名已被使用", code="username_taken") from exc
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
                cursor = conn.execute(f"UPDATE users SET {assignments} WHERE id = ?",
                                      [_to_sql(v) for v in values.values()] + [user_id])
            except sqlite3.IntegrityError as exc:
                raise Conflict("用户名已被使用", code="username_taken") from exc
            if cursor.rowcount == 0:
                raise NotFound("用户不存在")
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
        await self._write(lambda conn: _insert(conn, "sessions", to_plain(session)))

    async def get_session(self, token_hash: str) -> Session | None:
        row = await self._read(lambda conn: conn.execute(
            "SELECT * FROM sessions WHERE token_hash = ?", (token_hash,)).fetchone())
        return _from_row(Session, row) if row else None

    async def delete_session(self, token_hash: str) -> None:
        await self._write(lambda conn: conn.execute(
            "DELETE FROM sessions WHERE token_hash = ?", (token_hash,)))

    async def delete_user_sessions(self, user_id: str) -> int:
        return await self._write(lambda conn: conn.execute(
            "DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount)

    # posts -----------------------------------------------------------------------------------
    async def add_post(self, post: Post, event: Event | None = None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            try:
                _insert(conn, "posts", to_plain(post))
            except sqlite3.IntegrityError as exc:
                raise Conflict("内容已存在") from exc
            if event:
                _insert(conn, "events", to_plain(event))
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
            clauses.append(f"({time} {beyond} ? OR ({time} = ? AND id {beyond} ?))")
            params.extend([iso(after[0]), iso(after[0]), after[1]])
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
                    raise Conflict("内容已被他人处理，请刷新后重试", code="stale")
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
                        event: Event | None = None) -> Post:
        def work(conn: sqlite3.Connection) -> Post:
            if not conn.execute("SELECT 1 FROM posts WHERE id = ?", (reply.post_id,)).fetchone():
                raise NotFound()
            _insert(conn, "replies", to_plain(reply))
            conn.execute("UPDATE posts SET reply_count = reply_count + 1 WHERE id = ?",
                         (reply.post_id,))
            return self._update_post(conn, reply.post_id, changes, event)
        return await self._write(work)

    async def accept_reply(self, post_id: str, reply_id: str, changes: dict[str, Any],
                           event: Event | None = None) -> Post:
        def work(conn: sqlite3.Connection) -> Post:
            # A reply belongs to an existing post (foreign key), so one row updated answers both
            # questions; none means NotFound, and the transaction rolls back.
            if conn.execute("UPDATE replies SET accepted = 1 WHERE id = ? AND post_id = ?",
                            (reply_id, post_id)).rowcount == 0:
                raise NotFound()
            return self._update_post(conn, post_id, changes, event)
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
                raise Conflict("您已举报过此内容", code="already_flagged") from exc
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
        await self._write(lambda conn: _insert(conn, "audit", to_plain(entry)))

    async def list_audit(self, *, actor_id: str | None, target: str | None,
                         after: AuditKey | None, limit: int) -> list[AuditEntry]:
        clauses, params = _equal({"actor_id": actor_id, "target": target})
        return await self._page(AuditEntry, "audit", "at", clauses, params, after, limit)

    # attachments -----------------------------------------------------------------------------
    def _file_path(self, attachment_id: str) -> str:
        # Only well-formed ids name a file, so no id can point outside the folder.
        if not is_id(attachment_id):
            raise ValueError(f"not an attachment id: {attachment_id!r}")
        return os.path.join(self.files, attachment_id)

    async def add_attachment(self, attachment: Attachment, data: bytes) -> None:
        path = self._file_path(attachment.id)

        def work(conn: sqlite3.Connection) -> None:
            # Asked before any byte is written: renaming over a taken id would replace the bytes
            # of the attachment that has it. The writer thread runs one of these at a time.
            if conn.execute("SELECT 1 FROM attachments WHERE id = ?",
                            (attachment.id,)).fetchone():
                raise Conflict("附件已存在")
            if not conn.execute("SELECT 1 FROM posts WHERE id = ?",
                                (attachment.post_id,)).fetchone():
                raise NotFound()
            # The file first, durably, then the row: a crash in between leaves a file no row
            # names (space lost), never a row naming a file that is not there.
            _store_file(path, data)
            try:
                _insert(conn, "attachments", to_plain(attachment))
            except BaseException:
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
        # Repeats kept: a term given several times (a title's) weighs more in bm25.
        tokens = " ".join(_fts_token(term) for term in terms if term)

        def work(conn: sqlite3.Connection) -> None:
            if not conn.execute("SELECT 1 FROM posts WHERE id = ?", (post_id,)).fetchone():
                raise NotFound()
            # The triggers of migration 5 take the old terms out of the index and put the new
            # ones in, within the writer's transaction.
            conn.execute("DELETE FROM search_docs WHERE post_id = ?", (post_id,))
            if tokens:
                conn.execute("INSERT INTO search_docs (post_id, terms) VALUES (?, ?)",
                             (post_id, tokens))
        await self._write(work)

    async def search_posts(self, terms: list[str], where: list[PostFilter], offset: int,
                           limit: int) -> list[SearchHit]:
        tokens = _search_tokens(terms)
        if not tokens or not where or limit <= 0:
            return []
        # Any one filter: each one's clauses (none: every post) in parentheses, joined by OR.
        groups, params = [], []
        for one in where:
            clauses, values = _post_where(one)
            groups.append("(" + " AND ".join(clauses) + ")" if clauses else "1")
            params.extend(values)
        # One MATCH per term, each a quoted string made only of the term: no text of the query
        # is ever FTS5 syntax. Per post, how many terms it has and the sum of their bm25 ranks
        # (negative, lower is better), which is the bm25 of all the terms ORed together. More
        # terms first, then the better bm25 (rarer terms), then newer. The score follows that
        # order: the count (MongoDB's score) plus a fraction below 1 that grows with -bm25.
        # Each term brings its newest SEARCH_CANDIDATES matches: bm25 over every match of a
        # common word costs time that grows with the data (100 ms at 13,000 matches), and
        # the newest are what a citizen looking for an answer wants first anyway.
        matches = " UNION ALL ".join(
            "SELECT * FROM (SELECT rowid, rank FROM post_search WHERE post_search MATCH ? "
            f"ORDER BY rowid DESC LIMIT {SEARCH_CANDIDATES})" for _ in tokens)
        sql = (f"WITH hits (doc, matched, bm25) AS ("
               f"SELECT rowid, COUNT(*), SUM(rank) FROM ({matches}) GROUP BY rowid) "
               f"SELECT posts.*, hits.matched AS search_matched, hits.bm25 AS search_bm25 "
               f"FROM hits "
               f"JOIN search_docs ON search_docs.doc = hits.doc "
               f"JOIN posts ON posts.id = search_docs.post_id "
               f"WHERE {' OR '.join(groups)} "
               f"ORDER BY hits.matched DESC, hits.bm25, posts.created_at DESC, posts.id DESC "
               f"LIMIT ? OFFSET ?")
        arguments = [*(_fts_string(token) for token in tokens), *params, limit, max(offset, 0)]
        rows = await self._read(lambda conn: conn.execute(sql, arguments).fetchall())
        return [SearchHit(_from_row(Post, row), _score(row["search_matched"], row["search_bm25"]))
                for row in rows]

    # notifications and mail ------------------------------------------------------------------
    async def add_notifications(self, notifications: list[Notification]) -> None:
        if not notifications:
            return

        def work(conn: sqlite3.Connection) -> None:
            for notification in notifications:
                _insert(conn, "notifications", to_plain(notification))
        await self._write(work)

    async def list_notifications(self, user_id: str, after: tuple[dt.datetime, str] | None,
                                 limit: int) -> list[Notification]:
        return await self._page(Notification, "notifications", "created_at", ["user_id = ?"],
                                [user_id], after, limit)

    async def count_unread(self, user_id: str) -> int:
        row = await self._read(lambda conn: conn.execute(
            "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read = 0",
            (user_id,)).fetchone())
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
            f"UPDATE notifications SET read = 1{_where(clauses)}", params).rowcount)

    async def enqueue_mail(self, mail: Mail) -> None:
        await self._write(lambda conn: _insert(conn, "mail", to_plain(mail)))

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
        return [_from_row(Mail, row) for row in await self._write(work)]

    async def finish_mail(self, mail_id: str, *, sent_at: dt.datetime | None,
                          next_attempt_at: dt.datetime | None, attempts: int,
                          error: str | None) -> None:
        await self._write(lambda conn: conn.execute(
            "UPDATE mail SET sent_at = ?, next_attempt_at = ?, attempts = ?, last_error = ? "
            "WHERE id = ?", (iso(sent_at), iso(next_attempt_at), attempts, error, mail_id)))

    async def count_mail_waiting(self) -> int:
        row = await self._read(lambda conn: conn.execute(
            "SELECT COUNT(*) FROM mail WHERE next_attempt_at IS NOT NULL").fetchone())
        return row[0]

    # throttling ------------------------------------------------------------------------------
    async def count_hits(self, key: str, since: dt.datetime) -> int:
        row = await self._read(lambda conn: conn.execute(
            "SELECT COUNT(*) FROM hits WHERE key = ? AND at >= ?", (key, iso(since))).fetchone())
        return row[0]

    async def add_hit(self, key: str, at: dt.datetime) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM hits WHERE key = ? AND at < ?", (key, iso(at - HIT_RETENTION)))
            conn.execute("INSERT INTO hits (key, at) VALUES (?, ?)", (key, iso(at)))
        await self._write(work)

    async def clear_hits(self, key: str) -> None:
        await self._write(lambda conn: conn.execute("DELETE FROM hits WHERE key = ?", (key,)))


assert {f.name for f in dataclasses.fields(Post)} >= POST_CHANGEABLE
