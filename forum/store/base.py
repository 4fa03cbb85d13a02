"""The Store protocol: the only storage interface services see.

Adapters (`sqlite/`, `mongo/`) implement it and pass one contract suite. A store keeps and
finds records; it knows no roles, boards or lifecycles. Every write it acknowledges is durable, and
each method that changes several records changes all of them or none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, AsyncContextManager, AsyncGenerator, Protocol

from forum.errors import Conflict, NotFound, StoreUnavailable
from forum.store.kinds import (
    IDEMPOTENCY_RETENTION,
    POST_CHANGEABLE,
    RECORD_KINDS,
    TOO_MANY_FILES,
    TRANSIENT_KINDS,
    AuditKey,
    FaqKey,
    PostKey,
    ReplyKey,
    StoreRefused,
    importable_kind,
    newer_schema,
    record_key,
)
from forum.model import (
    ApiKey,
    Attachment,
    AuditEntry,
    BoardSettings,
    Department,
    Event,
    FaqEntry,
    Flag,
    IdempotencyRecord,
    Mail,
    Notification,
    Post,
    PostFilter,
    Reply,
    ReplyKind,
    ReplyStats,
    ReplyTemplate,
    Revision,
    Role,
    SearchHit,
    SearchRank,
    Session,
    Subscription,
    User,
)

__all__ = [
    "Store",
    "Conflict",
    "NotFound",
    "StoreUnavailable",
    "StoreRefused",
    "newer_schema",
    "TOO_MANY_FILES",
    "PostKey",
    "ReplyKey",
    "AuditKey",
    "FaqKey",
    "POST_CHANGEABLE",
    "RECORD_KINDS",
    "TRANSIENT_KINDS",
    "IDEMPOTENCY_RETENTION",
    "importable_kind",
    "record_key",
]


class Store(Protocol):
    kind: str  # "sqlite" | "mongodb", as /healthz reports it

    async def open(self) -> None:
        """Connect, create or upgrade the schema and indexes. Safe to call on an existing database."""

    async def close(self) -> None:
        """Finish pending writes and release connections."""

    async def ping(self) -> None:
        """Return when the store answers and can read its core tables (cheaply: a row of each);
        raise StoreUnavailable otherwise."""

    async def check(self) -> list[str]:
        """Check the whole database for damage (SQLite: PRAGMA quick_check; MongoDB: the
        validate command on every collection); return what is wrong, nothing when all is well.
        Needs no open(), and writes nothing."""

    def transaction(self) -> AsyncContextManager[None]:
        """A unit of work: `async with store.transaction():` makes every store call inside the
        block (by this task and the tasks it starts) one transaction, committed when the block
        ends and rolled back when it raises, so a use case's change, event, audit entry,
        notifications, mail and search entry are stored together or not at all. Reads inside
        see the unit's own writes. A block inside another joins it.

        SQLite: one BEGIN IMMEDIATE transaction on the writer; units and single writes take
        turns, so what a unit read cannot change before it commits (in other processes too).
        MongoDB on a replica set: a session with a transaction (majority read and write
        concern); a unit that loses a write conflict raises Conflict (code "stale"). On a
        server without transactions (standalone, or the in-process stand-in) the writes apply
        as they are made, in order, and conditional writes (`expect`) are what keeps two units
        from both winning. Keep slow work (hashing, rendering, segmenting) outside the block."""

    async def content_version(self) -> int:
        """A number that moves on with every committed write that may change what pages show
        (posts, replies, users, boards, departments, settings, flags, attachments, the search
        index), by any process sharing the store; bookkeeping (sessions, throttling hits,
        idempotency records, notifications, mail, audit, API keys) leaves it. Read it before
        reading what a page shows: while it is unchanged, so is what was read after it. Cheap:
        pages ask on every anonymous request."""

    async def auth_version(self) -> int:
        """A number that moves on with every committed write that changes who a login is: an
        account changed (roles, disabled, password, name), a session ended (logout, password
        change, single-use token taken), the store wiped; by any process sharing the store.
        Opening or touching a session leaves it. Read it before a session and its user: while
        it is unchanged, so are they (but for the clock: expiry is the caller's to judge).
        Cheap: logged-in pages ask on every request."""

    async def notices_version(self) -> int:
        """A number that moves on with every committed write of what reaches a person:
        notifications added or marked read, subscriptions added or removed, the store wiped or
        loaded; by any process sharing the store. Read it before someone's unread count or
        subscriptions: while it is unchanged, so are they. Cheap: logged-in pages ask on every
        request."""

    async def versions(self) -> tuple[int, int, int]:
        """(content_version, auth_version, notices_version) in one read, for a request that
        will ask for all three (a logged-in page)."""

    # departments and boards ------------------------------------------------------------------
    async def ensure_departments(self, departments: list[Department]) -> None:
        """Add the departments whose slug is missing; leave existing ones as they are."""

    async def add_department(self, department: Department) -> None:
        """Raise Conflict when the slug exists."""

    async def list_departments(self) -> list[Department]:
        """All departments ordered by slug; empty list when none."""

    async def ensure_boards(self, boards: list[BoardSettings]) -> None:
        """Add settings for boards whose slug is missing; keep an admin's changes to existing ones."""

    async def list_boards(self) -> list[BoardSettings]:
        """All board settings, in no particular order."""

    async def get_board(self, slug: str) -> BoardSettings | None:
        """One board's settings; None for an unknown slug."""

    async def save_board(self, board: BoardSettings) -> None:
        """Replace a board's settings; raise NotFound for an unknown slug."""

    # users and sessions ----------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        """Raise Conflict when the username is taken, compared case-insensitively."""

    async def get_user(self, user_id: str) -> User | None:
        """None when no user has this id."""

    async def get_user_by_name(self, username: str) -> User | None:
        """Case-insensitive; None when nobody has this name."""

    async def get_users(self, user_ids: list[str]) -> dict[str, User]:
        """The users found, by id; ids that match nobody are absent from the result."""

    async def update_user(self, user_id: str, changes: dict[str, Any]) -> None:
        """Set the given User fields; raise NotFound when the user does not exist."""

    async def find_users(self, prefix: str, after: str | None, limit: int) -> list[User]:
        """Up to `limit` users whose username starts with `prefix` (case-insensitive; "" for
        all), ordered by lower-cased username, strictly after the lower-cased name `after`."""

    async def list_users(
        self, *, role: Role | None, department: str | None, limit: int
    ) -> list[User]:
        """Up to `limit` active (not disabled) users holding `role` and/or belonging to
        `department`, by username; both None lists everyone."""

    async def add_session(self, session: Session) -> None:
        """Store a new login."""

    async def get_session(self, token_hash: str) -> Session | None:
        """None when no login has this token hash (expiry is for the caller to judge)."""

    async def touch_session(self, token_hash: str, at: dt.datetime) -> None:
        """Record that a login was used at `at`; nothing happens when it is absent."""

    async def delete_session(self, token_hash: str) -> None:
        """Remove one login; nothing happens when it is absent."""

    async def delete_user_sessions(self, user_id: str) -> int:
        """Remove every login of a user; return how many there were."""

    async def take_session(self, token_hash: str, kind: str) -> Session | None:
        """Remove the session with this hash if it is of `kind`, and return it: at most one
        caller ever gets it (single-use tokens). None when absent, of another kind, or already
        taken."""

    # API keys --------------------------------------------------------------------------------
    async def add_api_key(self, key: ApiKey) -> None:
        """Store a newly issued key; raise Conflict when its id or key_hash is taken."""

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key with this hash, revoked or not (the caller judges); None when none has it."""

    async def list_api_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, newest first by (created_at, id); empty list when
        none."""

    async def revoke_api_key(self, key_id: str, at: dt.datetime) -> ApiKey:
        """Set the key's revoked_at to `at` unless it is revoked already (the first revocation's
        time stays); return the key as stored afterwards. Raise NotFound for an unknown id."""

    # posts, replies, revisions, events -------------------------------------------------------
    async def add_post(self, post: Post, event: Event | None = None) -> None:
        """Insert a post (and its first event) atomically. Raise Conflict on a duplicate id."""

    async def add_posts_bulk(self, posts: list[Post], terms: list[list[str]]) -> None:
        """Insert many new posts at once, each with its search terms (`terms[i]` for `posts[i]`,
        as index_post takes them; an empty list leaves that post out of the index). For loading
        data in bulk (demo and benchmark posts), not for requests: no events are written. Raise
        Conflict on a duplicate id; then some of the batch may be stored, each post whole with
        its terms or not at all."""

    async def get_post(self, post_id: str) -> Post | None:
        """None when no post has this id."""

    async def get_post_by_tracking(self, tracking_hash: str) -> Post | None:
        """The post whose tracking_hash is this; None when none is."""

    async def list_posts(
        self, where: PostFilter, after: PostKey | None, limit: int, *, oldest_first: bool = False
    ) -> list[Post]:
        """Up to `limit` posts matching `where`, newest first by (created_at, id) (oldest first
        when asked), strictly after the key `after` in that order. Empty list when none match."""

    async def count_posts_by_category(self, where: PostFilter) -> dict[str | None, int]:
        """How many posts match `where`, per category (None for posts without one); categories
        with no posts are absent."""

    async def update_post(
        self,
        post_id: str,
        changes: dict[str, Any],
        revision: Revision | None = None,
        event: Event | None = None,
        *,
        expect: dict[str, Any] | None = None,
    ) -> Post:
        """Apply `changes` (keys from POST_CHANGEABLE), record the revision and event, all at once.
        Return the post as stored afterwards; raise NotFound when it does not exist.

        With `expect` ({field: value}, None meaning unset), all of it happens only if the post's
        fields still hold those values at the
        moment of writing (checked by the write itself, not by a read before it); otherwise
        raise Conflict (code "stale") and write nothing. Of two callers racing to move a post on
        from the same status, exactly one wins."""

    async def add_reply(
        self,
        reply: Reply,
        changes: dict[str, Any],
        event: Event | None = None,
        *,
        expect: dict[str, Any] | None = None,
        counted: bool = True,
    ) -> Post:
        """Insert the reply, add one to its post's reply_count (unless not `counted`: notes the
        public does not see) and apply `changes` to the post, all at once. Return the post afterwards; raise NotFound when the post does not exist (and
        store none of it). With `expect`, as update_post: Conflict (code "stale") and no reply
        stored when the post no longer holds those values. What the reply causes (notices,
        mail, audit) goes in the same unit of work (transaction)."""

    async def accept_reply(
        self,
        post_id: str,
        reply_id: str,
        changes: dict[str, Any],
        event: Event | None = None,
        *,
        expect: dict[str, Any] | None = None,
    ) -> Post:
        """Mark the reply accepted and apply `changes` to its post, all at once. Return the post
        afterwards; raise NotFound when the post, or that reply of that post, does not exist.
        With `expect`, as update_post: Conflict (code "stale") and nothing marked when the
        post no longer holds those values."""

    async def list_replies_by_author(
        self, author_id: str, kind: ReplyKind | None, after: ReplyKey | None, limit: int
    ) -> list[Reply]:
        """Up to `limit` replies by one person (of one kind when given), newest first by
        (created_at, id), strictly after `after`. Empty list when none."""

    async def reply_stats(self, author_id: str, kind: ReplyKind) -> ReplyStats:
        """Totals of one person's replies of one kind: all, accepted, and per board."""

    async def list_replies(self, post_id: str) -> list[Reply]:
        """Replies of a post, oldest first; empty list when none or the post does not exist."""

    async def list_revisions(self, post_id: str) -> list[Revision]:
        """Earlier texts of a post, oldest first."""

    async def list_events(self, post_id: str) -> list[Event]:
        """Events of a post, oldest first."""

    # flags and audit -------------------------------------------------------------------------
    async def add_flag(self, flag: Flag) -> None:
        """Record a flag; raise Conflict when this user already has an open flag on this post."""

    async def list_flags(self, post_id: str) -> list[Flag]:
        """Every flag of a post, open or not, oldest first."""

    async def list_open_flags(
        self, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Flag]:
        """Up to `limit` open flags of all posts, oldest first by (created_at, id), strictly
        after `after`."""

    async def close_flags(self, post_id: str) -> int:
        """Close every open flag of a post; return how many were open."""

    # attachments -----------------------------------------------------------------------------
    async def add_attachment(self, attachment: Attachment, data: bytes) -> None:
        """Keep a file and its description, however many the post has (restore uses it);
        durable when this returns. Raises as add_attachments."""

    async def add_attachments(
        self, post_id: str, items: list[tuple[Attachment, bytes]], max_per_post: int | None
    ) -> None:
        """Keep files (each attachment's post_id is `post_id`) with their descriptions: all of
        them or none. With `max_per_post`, only if the post would then have at most that many,
        counted by the write itself, so that uploads racing for the last places cannot together
        pass it; otherwise raise Conflict (code TOO_MANY_FILES). Raises NotFound when the post
        does not exist, Conflict when an id is taken."""

    async def get_attachment(self, attachment_id: str) -> tuple[Attachment, bytes] | None:
        """The description and bytes; None when no attachment has this id."""

    async def list_attachments(self, post_id: str) -> list[Attachment]:
        """The descriptions of a post's attachments, oldest first; empty list when none."""

    # settings --------------------------------------------------------------------------------
    async def get_setting(self, key: str) -> Any:
        """The JSON-serialisable value stored under `key`; None when nothing is."""

    async def put_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under `key`, replacing any earlier one."""

    async def add_audit(self, entry: AuditEntry) -> None:
        """Append one entry to the audit log (there is no way to change or remove one)."""

    async def list_audit(
        self, *, actor_id: str | None, target: str | None, after: AuditKey | None, limit: int
    ) -> list[AuditEntry]:
        """Up to `limit` entries, newest first by (at, id), filtered by actor and/or target when
        given, strictly after `after`."""

    # reply templates and the knowledge base ----------------------------------------------------
    async def add_template(self, template: ReplyTemplate) -> None:
        """Store a department's reply template; raise Conflict when its id is taken."""

    async def list_templates(self, department: str) -> list[ReplyTemplate]:
        """Every template of a department, newest first by (created_at, id); empty list when
        none."""

    async def get_template(self, template_id: str) -> ReplyTemplate | None:
        """None when no template has this id (a malformed id included)."""

    async def delete_template(self, template_id: str) -> bool:
        """Remove a template; True when it was there, False when there was none."""

    async def add_faq(self, entry: FaqEntry) -> None:
        """Store a knowledge-base entry; raise Conflict when its id is taken."""

    async def list_faq(self, board: str | None, after: FaqKey | None, limit: int) -> list[FaqEntry]:
        """Up to `limit` entries of one board (of every board when None), newest first by
        (created_at, id), strictly after `after`. Empty list when none."""

    async def get_faq(self, entry_id: str) -> FaqEntry | None:
        """None when no entry has this id (a malformed id included)."""

    async def delete_faq(self, entry_id: str) -> bool:
        """Remove an entry; True when it was there, False when there was none."""

    # search ----------------------------------------------------------------------------------
    async def index_post(self, post_id: str, terms: list[str]) -> None:
        """Replace the search terms of a post (made by forum/search.py; the store only matches
        them). An empty list removes the post from the index. Raise NotFound when the post does
        not exist."""

    async def index_posts(self, entries: list[tuple[str, list[str]]]) -> None:
        """index_post for many posts at once, as (post id, terms) pairs, in one write (one
        SQLite transaction): what a reindex does 500 posts at a time. Posts that do not exist
        are skipped; a post given twice gets its last terms."""

    async def search_posts(
        self, terms: list[str], where: list[PostFilter], offset: int, limit: int
    ) -> list[SearchHit]:
        """Posts that have at least one of `terms` and match any one of the filters in `where`,
        best first (more of the terms, then more occurrences of them, as a term given several
        times to index_post counts that many times, then newer: created_at, then id), skipping
        `offset` hits; score = terms matched + occurrences / (1 + occurrences).
        Only about the newest 500 posts holding each term are ranked, so that a common
        word costs the same at any size of the data.
        Terms are plain words, never query syntax. Empty list when nothing matches or `terms`
        or `where` is empty."""

    async def search_ranks(
        self, terms: list[str], where: list[PostFilter], limit: int
    ) -> list[SearchRank]:
        """The first `limit` hits of search_posts(terms, where, 0, limit), in the same order and
        with the same scores, as post ids and creation times: the posts themselves are not
        read (get_posts reads the few that are shown)."""

    async def get_posts(self, post_ids: list[str]) -> list[Post]:
        """The posts with these ids, in the order given; ids of no post (malformed ones
        included) are skipped."""

    # notifications and mail --------------------------------------------------------------------
    async def add_notifications(self, notifications: list[Notification]) -> None:
        """Store several notifications at once."""

    async def list_notifications(
        self, user_id: str, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Notification]:
        """A user's notifications, newest first by (created_at, id), strictly after `after`."""

    async def count_unread(self, user_id: str) -> int:
        """How many of a user's notifications are unread."""

    async def count_all_unread(self) -> int:
        """How many notifications are unread, everyone's together (a figure for operators)."""

    async def mark_read(self, user_id: str, ids: list[str] | None) -> int:
        """Mark the user's notifications with these ids (all of them when None) read; return how
        many changed. Ids of other users' notifications are ignored."""

    # subscriptions (关注) ----------------------------------------------------------------------
    async def add_subscription(self, subscription: Subscription) -> tuple[Subscription, bool]:
        """Store `subscription` unless its user already follows its target; return the one
        stored and whether it is new (False: the earlier one, its id and time, and `subscription`
        was not stored). One per (user_id, target), kept by a unique index, not a read before
        the write: of callers racing with one pair, exactly one stores its record and all get
        that one."""

    async def list_subscriptions(
        self, user_id: str, after: tuple[dt.datetime, str] | None, limit: int
    ) -> list[Subscription]:
        """Up to `limit` of a user's subscriptions, newest first by (created_at, id), strictly
        after `after`; empty list when none."""

    async def get_subscription(self, user_id: str, target: str) -> Subscription | None:
        """The user's subscription to `target`; None when they do not follow it."""

    async def list_subscribers(
        self, target: str, after: str | None, limit: int
    ) -> list[Subscription]:
        """Up to `limit` subscriptions to `target`, ordered by user_id, strictly after the
        user id `after`; empty list when none. For telling followers, a page at a time."""

    async def delete_subscription(self, subscription_id: str, user_id: str) -> bool:
        """Remove the subscription with this id if it is `user_id`'s; return whether one was
        removed (False for an unknown id or another user's)."""

    async def enqueue_mail(self, mail: Mail) -> None:
        """Put an e-mail in the outbox; durable when this returns."""

    async def claim_mail(self, at: dt.datetime, lease_until: dt.datetime, limit: int) -> list[Mail]:
        """Up to `limit` mails due (next_attempt_at <= at), oldest due first, each claimed by
        moving its next_attempt_at to `lease_until` in the same write, so that two senders never
        take the same mail. Returns the mails as they were before the claim."""

    async def finish_mail(
        self,
        mail_id: str,
        *,
        sent_at: dt.datetime | None,
        next_attempt_at: dt.datetime | None,
        attempts: int,
        error: str | None,
        body: str | None = None,
    ) -> None:
        """Record the outcome of a send: sent (sent_at set, next_attempt_at None), to retry
        (next_attempt_at later), or given up (both None, error kept). `body`, when given,
        replaces the stored text (what is done with need not be kept)."""

    async def count_mail_waiting(self) -> int:
        """How many mails are not yet sent and not given up."""

    # throttling ------------------------------------------------------------------------------
    async def count_hits(self, key: str, since: dt.datetime) -> int:
        """How many hits were recorded for `key` at or after `since`."""

    async def reserve_hit(
        self, key: str, at: dt.datetime, since: dt.datetime, limit: int
    ) -> str | None:
        """Record a hit for `key` at `at`, only if fewer than `limit` hits of `key` were recorded
        at or after `since`; return its id, or None (nothing recorded) when the limit is used up.
        Counting and recording are one write: of any number of callers racing, across
        processes too, at most `limit` get an id. Hits older than `since` or than a day may be
        discarded."""

    async def release_hit(self, key: str, hit_id: str) -> None:
        """Take back a hit reserve_hit recorded (the attempt turned out not to count); nothing
        when it is gone already."""

    async def clear_hits(self, key: str) -> None:
        """Forget every hit of `key`."""

    # idempotency keys ------------------------------------------------------------------------
    async def claim_idempotency(
        self, caller: str, key: str, body_hash: str, at: dt.datetime
    ) -> IdempotencyRecord | None:
        """Take (caller, key) for a create starting at `at`: store a record without an answer
        and return None; or, when a record of that pair made less than IDEMPOTENCY_RETENTION
        before `at` exists, store nothing and return it (older ones count as absent). Atomic:
        of callers racing with one pair, exactly one gets None."""

    async def finish_idempotency(
        self, caller: str, key: str, status: int, content_type: str, body: str
    ) -> None:
        """Keep the answer of the create that claimed (caller, key); nothing happens when the
        record is gone."""

    async def release_idempotency(self, caller: str, key: str) -> None:
        """Forget (caller, key), so that the key can be claimed again (the create failed and
        left nothing to answer again); nothing happens when it is absent."""

    # backup and restore ----------------------------------------------------------------------
    def export_records(self) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        """Every record of every kind in RECORD_KINDS, as (kind, codec.to_plain(record)): kinds
        in that order, records of a kind ordered by record_key. Read as one consistent snapshot,
        so that writes made meanwhile are either wholly seen or not at all (SQLite: one read
        transaction; MongoDB: a snapshot session where the server has them, i.e. a replica set
        or sharded cluster of 5.0 or later; on a standalone server plain reads, which may see
        a multi-document change half done). Transient kinds and search terms are left out. The
        iterator must be run to its end or closed (aclose) to release the snapshot."""

    async def import_records(self, kind: str, records: list[dict[str, Any]]) -> None:
        """Insert a batch of records of one kind (plain dicts as export_records gives them;
        datetimes may be ISO strings) as they are, ids kept: all or none in one transaction
        (SQLite; MongoDB where it has transactions, else in order, so a failure keeps the
        batch's first records). Raise Conflict when one is there already, ValueError for an
        unknown kind or for "attachments" (use add_attachment, which keeps the bytes too)."""

    async def count_records(self) -> dict[str, int]:
        """How many records of each kind in RECORD_KINDS there are (for progress bars; not read
        from a snapshot)."""

    async def mark_restoring(self, started_at: dt.datetime | None) -> None:
        """Record durably that a restore started loading this database at `started_at`, or
        (None) that it finished. The mark is kept apart from the records: wipe(), exports and
        is_empty() do not see it. A server does not start on a database that holds one (a
        restore killed part-way leaves half an archive)."""

    async def unfinished_restore(self) -> dt.datetime | None:
        """When a restore that has not finished started loading this database; None when none
        did."""

    async def is_empty(self) -> bool:
        """True when the store holds no records but departments and boards (which prepare_store
        seeds on every start): no users, posts, settings, logins or anything else."""

    async def wipe(self) -> None:
        """Remove every record of every kind, transient ones, the search index and attachments'
        bytes; the schema and indexes stay. Restore calls it before loading: on an empty target
        that clears the seeded departments and boards, with --force everything."""
