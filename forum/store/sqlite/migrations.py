"""The schema, one entry per version (MIGRATIONS), and what open() refuses before it brings a
file up to the newest: a file that is no SQLite database, another application's, a newer one."""

from __future__ import annotations

import os
import sqlite3

from forum.store.base import StoreRefused, newer_schema

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
    # 18: a number every write of notifications and subscriptions moves on (see
    # notices_version); one row.
    """
    CREATE TABLE notices_version (one INTEGER PRIMARY KEY CHECK (one = 1),
                                  version INTEGER NOT NULL);
    INSERT INTO notices_version (one, version) VALUES (1, 0);
    """,
]


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
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            conn.close()
    except sqlite3.OperationalError:
        raise  # cannot be read now (permissions, a lock): the caller reports it as it is
    except sqlite3.DatabaseError as exc:
        raise StoreRefused(
            f"{path} is damaged or not an SQLite database ({exc}): restore it "
            f"from a backup, or move it away to start with an empty one"
        ) from exc
    if version > len(MIGRATIONS):
        raise newer_schema(path, version, len(MIGRATIONS))
    if tables and not CORE_TABLES <= tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreRefused(
            f"{path} is another application's SQLite database (tables {shown}): "
            f"give the forum a file of its own (--db or FORUM_DB)"
        )
