"""Domain records shared by every layer: plain dataclasses and string enums, no behaviour of note.

Times are timezone-aware UTC datetimes truncated to milliseconds, because MongoDB keeps no finer
precision and both stores must return exactly what they were given.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeGuard, overload

from bson import ObjectId

from forum.clock import now


class Role(str, enum.Enum):
    CITIZEN = "citizen"
    LAWYER = "lawyer"
    EXPERT = "expert"
    STAFF = "staff"
    MODERATOR = "moderator"
    ADMIN = "admin"


# Who counts as an official, and who moderates: written once, read everywhere.
OFFICIAL_ROLES = frozenset({Role.STAFF, Role.MODERATOR, Role.ADMIN})
MODERATING_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})


class Kind(str, enum.Enum):
    DISCUSSION = "discussion"
    CONSULTATION = "consultation"
    CASE = "case"
    BULLETIN = "bulletin"


class Status(str, enum.Enum):
    # discussion and bulletin
    PUBLISHED = "published"
    PENDING = "pending"
    HIDDEN = "hidden"
    # consultation
    OPEN = "open"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    # case
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    ROUTED = "routed"
    REPLIED = "replied"
    CLOSED = "closed"
    REJECTED = "rejected"
    UNRATED = "unrated"  # closed without a rating in the window (未评价)
    MERGED = "merged"  # closed as a duplicate of an earlier case (重复件)


class ReplyKind(str, enum.Enum):
    COMMENT = "comment"
    ANSWER = "answer"
    OFFICIAL = "official"
    FOLLOW_UP = "follow_up"
    INTERNAL = "internal"  # a note between the bureau and the departments (协办意见)


def new_id() -> str:
    """A fresh 24-hex id, the same shape in both stores so URLs and exports are portable."""
    return str(ObjectId())


def is_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) == 24 and ObjectId.is_valid(value)


@overload
def iso(stamp: dt.datetime) -> str: ...
@overload
def iso(stamp: None) -> None: ...
@overload
def iso(stamp: dt.datetime | None) -> str | None: ...
def iso(stamp: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a trailing Z, as API.md writes times."""
    if stamp is None:
        return None
    at = stamp.astimezone(dt.timezone.utc)
    # By hand, not strftime: four digits of year always (strftime drops the zeros of years
    # before 1000), and a third of the time.
    return (
        f"{at.year:04d}-{at.month:02d}-{at.day:02d}T{at.hour:02d}:{at.minute:02d}:"
        f"{at.second:02d}.{at.microsecond // 1000:03d}Z"
    )


@dataclass
class Department:
    slug: str
    name: str
    kind: str = "bureau"  # "bureau" | "county" (a county-level government, 属地管理)


@dataclass
class BoardSettings:
    """The parts of a board an admin may change; the policy itself lives in boards.py."""

    slug: str
    name: str
    description: str = ""
    categories: list[str] = field(default_factory=list)
    is_open: bool = True
    accept_days: int = 3
    reply_days: int = 15


@dataclass
class User:
    id: str
    username: str
    display_name: str
    password_hash: str
    roles: list[Role] = field(default_factory=lambda: [Role.CITIZEN])
    email: str | None = None
    department: str | None = None
    specialties: list[str] = field(default_factory=list)
    disabled: bool = False
    created_at: dt.datetime = field(default_factory=now)
    email_confirmed: bool = False

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_official(self) -> bool:
        """Staff, moderators or admins: they act on cases, are exempt from posting limits and
        log out sooner when idle."""
        return not OFFICIAL_ROLES.isdisjoint(self.roles)

    @property
    def moderates(self) -> bool:
        """Moderators and admins (admins may do everything a moderator may)."""
        return not MODERATING_ROLES.isdisjoint(self.roles)


@dataclass
class Session:
    """A login: the browser's cookie or an API client's bearer token. Only the token's hash is kept."""

    token_hash: str
    user_id: str
    kind: str  # "cookie" | "bearer" | "confirm_email"
    created_at: dt.datetime
    expires_at: dt.datetime
    last_seen_at: dt.datetime | None = None  # for the idle timeout; None until first touched


@dataclass
class IdempotencyRecord:
    """A create sent with an Idempotency-Key: who sent it, the key, a hash of what was asked,
    and, once it is done, the answer as it was sent, for a retry to get again."""

    caller: str
    key: str
    body_hash: str
    created_at: dt.datetime
    status: int | None = None  # None while the first request is still running
    content_type: str | None = None
    body: str | None = None


@dataclass
class ApiKey:
    """A key an admin issued to another system (an Open311 client). Like a session token, only
    the key's SHA-256 is kept: the key itself is shown once, when it is issued."""

    id: str
    name: str
    key_hash: str
    created_by: str  # the admin's user id
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


@dataclass
class Post:
    id: str
    board: str
    title: str
    body: str
    html: str
    author_id: str | None
    status: Status
    created_at: dt.datetime
    updated_at: dt.datetime
    category: str | None = None
    anonymous: bool = False
    reply_count: int = 0
    accepted_reply_id: str | None = None
    pinned: bool = False
    locked: bool = False
    # case boards
    public: bool = False
    contact: str | None = None
    department: str | None = None
    due_at: dt.datetime | None = None
    reopened: bool = False
    rating: str | None = None
    tracking_hash: str | None = None
    accept_due_at: dt.datetime | None = None  # acceptance must be decided by then
    accepted_at: dt.datetime | None = None
    routed_at: dt.datetime | None = None
    replied_at: dt.datetime | None = None  # the first official reply
    closed_at: dt.datetime | None = None
    rated_at: dt.datetime | None = None
    rating_comment: str | None = None
    status_note: str | None = None  # why: a rejection's or a hiding's reason
    # hotline bulletins
    case_number: str | None = None
    received_on: str | None = None  # the call's date, YYYY-MM-DD
    # when the periodic job first saw the case past its due time unanswered
    overdue_since: dt.datetime | None = None
    # casework of the second release
    letter_type: str | None = None  # consult | complaint | suggestion | help | praise
    area: str | None = None  # city, or one of the county-level divisions
    real_name: str | None = None  # the writer's 姓名: officials only, never public
    helpers: list[str] = field(default_factory=list)  # 协办 departments beside the lead
    officer_id: str | None = None  # 承办人: a member of the lead department
    extension_status: str | None = None  # requested | approved | refused, this routing
    extension_days: int | None = None
    extension_reason: str | None = None
    extended: bool = False  # an extension was ever approved
    reminded_at: dt.datetime | None = None  # the automatic reminder of this routing
    supervised: bool = False  # 督办件 until the official reply
    supervised_at: dt.datetime | None = None
    merged_into: str | None = None  # the earlier case this one joined
    # every rating and callback, oldest first: {at, source, score, comment, department,
    # reached}; kept on the case, which is read whenever they are
    ratings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Reply:
    id: str
    post_id: str
    author_id: str | None
    body: str
    html: str
    kind: ReplyKind
    created_at: dt.datetime
    board: str | None = None  # the post's board, kept here so answerers' records need no join
    accepted: bool = False  # the asker chose this answer as best


@dataclass
class Revision:
    """An earlier text of a post, kept when its author or a moderator edits it."""

    id: str
    post_id: str
    title: str
    body: str
    editor_id: str
    edited_at: dt.datetime


@dataclass
class Event:
    id: str
    post_id: str
    at: dt.datetime
    actor_id: str | None
    action: str
    from_status: str | None
    to_status: str | None
    note: str = ""


@dataclass
class Flag:
    """A reader's report that a post needs a moderator's look; open until a moderator acts."""

    id: str
    post_id: str
    user_id: str
    reason: str
    created_at: dt.datetime
    open: bool = True


@dataclass
class Attachment:
    """A file attached to a case: evidence photos and PDFs. The bytes are kept by the store."""

    id: str
    post_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploader_id: str | None
    created_at: dt.datetime


@dataclass
class Notification:
    """Something that reached a person: an answer, an official reply, a status change, a case
    routed to their department, a case gone overdue."""

    id: str
    user_id: str
    kind: str  # "reply" | "answer" | "official" | "status" | "routed" | "overdue"
    post_id: str | None
    text: str
    created_at: dt.datetime
    read: bool = False


@dataclass
class Subscription:
    """Someone following (关注) a post, a board or a department, to be told of what is new there.
    One per person and target."""

    id: str
    user_id: str
    target: str  # "post:<id>" | "board:<slug>" | "department:<slug>"
    created_at: dt.datetime


@dataclass
class Mail:
    """An e-mail waiting in the outbox; a background sender delivers it, retrying with backoff."""

    id: str
    to: str
    subject: str
    body: str
    created_at: dt.datetime
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None  # None once sent or given up
    sent_at: dt.datetime | None = None
    last_error: str | None = None


@dataclass
class Setting:
    """One stored setting (the holiday calendar, the sensitive words, ...): a key and a
    JSON-serialisable value. Services use get_setting/put_setting; this record is what a backup
    holds."""

    key: str
    value: object = None


@dataclass
class ReplyTemplate:
    """A department's ready text for a common answer (答复模板): its staff start an official reply
    from one. The body is Markdown, as a reply is written."""

    id: str
    department: str
    title: str
    body: str
    author_id: str
    created_at: dt.datetime


@dataclass
class FaqEntry:
    """A knowledge-base entry (常见问题) made from an answered question or a closed public case:
    an edited question and answer, the answer kept as written (Markdown, masked) and as
    sanitised HTML, and the post it came from."""

    id: str
    board: str
    post_id: str
    question: str
    answer: str
    answer_html: str
    author_id: str
    created_at: dt.datetime


@dataclass
class SearchHit:
    post: "Post"
    score: float


class SearchRank(NamedTuple):
    """A search hit without its post: what a search needs to count hits and to order them
    by time before it reads the few posts of the page it shows. A tuple: a search makes a
    hundred of them, and a frozen dataclass costs a few microseconds each to make."""

    post_id: str
    created_at: dt.datetime
    score: float


@dataclass
class AuditEntry:
    """One moderator, staff or admin action: who, when, what, to what, and why."""

    id: str
    at: dt.datetime
    actor_id: str
    action: str
    target: str  # "user:<username>", "post:<id>", "department:<slug>", ...
    reason: str = ""
    detail: str = ""  # what changed, in words or compact JSON


@dataclass
class ReplyStats:
    """What one person's replies of one kind add up to."""

    total: int = 0
    accepted: int = 0
    by_board: dict[str, int] = field(default_factory=dict)


@dataclass
class PostFilter:
    """Which posts a list may contain; built by services from the viewer's rights, applied by stores."""

    board: str | None = None
    statuses: tuple[Status, ...] | None = None
    category: str | None = None
    categories: tuple[str, ...] | None = None  # any of these (an empty tuple matches nothing)
    author_id: str | None = None
    department: str | None = None
    pinned: bool | None = None
    boards: tuple[str, ...] | None = None  # any of these boards
    reopened: bool | None = None
    public: bool | None = None
    created_from: dt.datetime | None = None  # created at or after
    created_before: dt.datetime | None = None  # created strictly before
    due_before: dt.datetime | None = None  # due_at set and strictly before
    overdue_noted: bool | None = None  # True: overdue_since set; False: it is not
    helper: str | None = None  # this department is among the helpers
    supervised: bool | None = None
    reminded: bool | None = None  # True: reminded_at set; False: it is not
    due_from: dt.datetime | None = None  # due_at set and at or after
    extension_status: str | None = None  # requested | approved | refused, this routing
    officer_id: str | None = None  # the named officer (承办人)


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    prev_cursor: str | None = None  # where given: the page before, as `before=`
