"""Lifecycles and the working-day clock: the one authority over how a post's status changes.

`step(kind, action, status, parties)` is the only way a status changes: it consumes the
transition table (which action moves which status where) and the actor table (which party to
a post takes each action), and answers the new status, Forbidden for the wrong party, or
Conflict when the lifecycle does not allow the action now. `offered(kind, status, parties)`
is the set of actions a viewer may take, which pages and the API show; they never compare raw
status strings. Which parties a viewer is to a post (writer, routed staff, ...) is worked out
where roles and departments are known (services/presenting.py), so this module stays free of
them.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from dataclasses import dataclass, field

from forum.errors import Conflict, Forbidden
from forum.messages import msg, term
from forum.model import Kind, Post, ReplyKind, Status

# (kind, action) -> {from status: to status}
TRANSITIONS: dict[tuple[Kind, str], dict[Status, Status]] = {
    # consultation: open -> answered -> resolved
    (Kind.CONSULTATION, "answer"): {Status.OPEN: Status.ANSWERED, Status.ANSWERED: Status.ANSWERED},
    (Kind.CONSULTATION, "follow_up"): {Status.OPEN: Status.OPEN, Status.ANSWERED: Status.ANSWERED},
    (Kind.CONSULTATION, "accept_answer"): {Status.ANSWERED: Status.RESOLVED},
    # discussion: comments while published
    (Kind.DISCUSSION, "comment"): {Status.PUBLISHED: Status.PUBLISHED},
    # case: submitted -> accepted -> routed -> replied -> closed; submitted -> rejected
    (Kind.CASE, "accept"): {Status.SUBMITTED: Status.ACCEPTED},
    (Kind.CASE, "reject"): {Status.SUBMITTED: Status.REJECTED},
    (Kind.CASE, "route"): {Status.ACCEPTED: Status.ROUTED, Status.ROUTED: Status.ROUTED},
    (Kind.CASE, "return"): {Status.ROUTED: Status.ACCEPTED},
    # one official reply per routing: the writer rates it; more is a new routing's
    (Kind.CASE, "official"): {Status.ROUTED: Status.REPLIED},
    (Kind.CASE, "follow_up"): {
        s: s for s in (Status.SUBMITTED, Status.ACCEPTED, Status.ROUTED, Status.REPLIED)
    },
    (Kind.CASE, "rate_satisfied"): {Status.REPLIED: Status.CLOSED},
    (Kind.CASE, "rate_unsatisfied"): {Status.REPLIED: Status.ACCEPTED},
    (Kind.CASE, "rate_final"): {Status.REPLIED: Status.CLOSED},
    # no rating in the window: closed, but never counted as satisfied
    (Kind.CASE, "expire"): {Status.REPLIED: Status.UNRATED},
    (Kind.CASE, "overdue"): {Status.ROUTED: Status.ROUTED},
    # casework of the second release: notes between the offices, the officer, extensions,
    # reminders, urging and supervision while a case is with its department
    (Kind.CASE, "note"): {s: s for s in (Status.ACCEPTED, Status.ROUTED, Status.REPLIED)},
    (Kind.CASE, "assign"): {Status.ROUTED: Status.ROUTED},
    (Kind.CASE, "extension_request"): {Status.ROUTED: Status.ROUTED},
    (Kind.CASE, "extension_decide"): {Status.ROUTED: Status.ROUTED},
    (Kind.CASE, "urge"): {Status.ROUTED: Status.ROUTED},
    (Kind.CASE, "remind"): {Status.ROUTED: Status.ROUTED},
    (Kind.CASE, "supervise"): {Status.ROUTED: Status.ROUTED},
    # a callback (回访) after the reply: recorded; the writer's satisfaction closes a replied
    # case, their dissatisfaction reopens it once (the same once as a rating's)
    (Kind.CASE, "callback"): {s: s for s in (Status.REPLIED, Status.CLOSED, Status.UNRATED)},
    (Kind.CASE, "callback_close"): {Status.REPLIED: Status.CLOSED},
    (Kind.CASE, "callback_reopen"): {
        s: Status.ACCEPTED for s in (Status.REPLIED, Status.CLOSED, Status.UNRATED)
    },
    # a duplicate joins an earlier case on the same matter before it is answered
    (Kind.CASE, "merge"): {
        s: Status.MERGED for s in (Status.SUBMITTED, Status.ACCEPTED, Status.ROUTED)
    },
    # moderation of what the public reads: approving a held post, hiding one. Restoring returns
    # a hidden post to the status it had, which the event log keeps: the table says only that
    # a hidden post may be restored, and services/moderation.py reads where it goes back to.
    (Kind.DISCUSSION, "accept"): {Status.PENDING: Status.PUBLISHED},
    (Kind.CONSULTATION, "accept"): {Status.PENDING: Status.OPEN},
    (Kind.DISCUSSION, "hide"): {s: Status.HIDDEN for s in (Status.PUBLISHED, Status.PENDING)},
    (Kind.CONSULTATION, "hide"): {
        s: Status.HIDDEN for s in (Status.OPEN, Status.ANSWERED, Status.RESOLVED, Status.PENDING)
    },
    (Kind.BULLETIN, "hide"): {Status.PUBLISHED: Status.HIDDEN},
    # the review rules (sensitive words in an edit) hold a post the public reads for review
    (Kind.DISCUSSION, "hold"): {Status.PUBLISHED: Status.PENDING},
    (Kind.CONSULTATION, "hold"): {
        s: Status.PENDING for s in (Status.OPEN, Status.ANSWERED, Status.RESOLVED)
    },
    **{
        (kind, "restore"): {Status.HIDDEN: Status.HIDDEN}
        for kind in (Kind.DISCUSSION, Kind.CONSULTATION, Kind.BULLETIN)
    },
    # a reader's flag asks a moderator to look; it changes no status, but is offered only while
    # the post is one the public reads
    (Kind.DISCUSSION, "flag"): {Status.PUBLISHED: Status.PUBLISHED},
    (Kind.CONSULTATION, "flag"): {s: s for s in (Status.OPEN, Status.ANSWERED, Status.RESOLVED)},
    (Kind.CASE, "flag"): {
        s: s
        for s in (
            Status.ACCEPTED,
            Status.ROUTED,
            Status.REPLIED,
            Status.CLOSED,
            Status.UNRATED,
            Status.MERGED,
        )
    },
    (Kind.BULLETIN, "flag"): {Status.PUBLISHED: Status.PUBLISHED},
}


class Party(str, enum.Enum):
    """What a person is to one post; one person may be several (a moderator who wrote it)."""

    WRITER = "writer"  # wrote it, by account
    MODERATOR = "moderator"  # the bureau's moderators, and admins
    ROUTED_STAFF = "routed_staff"  # staff of the department a case is routed to (the lead)
    HELPER_STAFF = "helper_staff"  # staff of a helper department (协办) of a routed case
    ANSWERER = "answerer"  # a verified lawyer or expert of the post's board
    MEMBER = "member"  # anyone logged in
    READER = "reader"  # logged in, neither the writer nor a moderator
    SYSTEM = "system"  # the clock (the periodic job)


_MODERATOR = frozenset({Party.MODERATOR})
_WRITER = frozenset({Party.WRITER})
_ROUTED_STAFF = frozenset({Party.ROUTED_STAFF})
_SYSTEM = frozenset({Party.SYSTEM})

# Who takes each action. Every action of TRANSITIONS has its parties here.
ACTORS: dict[tuple[Kind, str], frozenset[Party]] = {
    (Kind.CONSULTATION, "answer"): frozenset({Party.ANSWERER}),
    (Kind.CONSULTATION, "follow_up"): _WRITER,
    (Kind.CONSULTATION, "accept_answer"): _WRITER,
    (Kind.DISCUSSION, "comment"): frozenset({Party.MEMBER}),
    (Kind.CASE, "accept"): _MODERATOR,
    (Kind.CASE, "reject"): _MODERATOR,
    (Kind.CASE, "route"): _MODERATOR,
    (Kind.CASE, "return"): _ROUTED_STAFF,
    (Kind.CASE, "official"): _ROUTED_STAFF,
    (Kind.CASE, "follow_up"): _WRITER,
    (Kind.CASE, "rate_satisfied"): _WRITER,
    (Kind.CASE, "rate_unsatisfied"): _WRITER,
    (Kind.CASE, "rate_final"): _WRITER,
    (Kind.CASE, "expire"): _SYSTEM,
    (Kind.CASE, "overdue"): _SYSTEM,
    (Kind.CASE, "note"): frozenset({Party.MODERATOR, Party.ROUTED_STAFF, Party.HELPER_STAFF}),
    (Kind.CASE, "assign"): _ROUTED_STAFF,
    (Kind.CASE, "extension_request"): _ROUTED_STAFF,
    (Kind.CASE, "extension_decide"): _MODERATOR,
    (Kind.CASE, "urge"): _MODERATOR,
    (Kind.CASE, "remind"): _SYSTEM,
    (Kind.CASE, "supervise"): frozenset({Party.MODERATOR, Party.SYSTEM}),
    **{
        (Kind.CASE, action): _MODERATOR
        for action in ("callback", "callback_close", "callback_reopen", "merge")
    },
    (Kind.DISCUSSION, "hold"): _SYSTEM,
    (Kind.CONSULTATION, "hold"): _SYSTEM,
    **{
        (kind, action): _MODERATOR
        for kind, action in TRANSITIONS
        if action in ("accept", "hide", "restore") and kind is not Kind.CASE
    },
    **{(kind, "flag"): frozenset({Party.READER}) for kind in Kind},
}
assert set(ACTORS) == set(TRANSITIONS), set(ACTORS) ^ set(TRANSITIONS)

# The actions the clock takes, by name, for telling the writer who acted.
SYSTEM_ACTIONS = frozenset(
    action for (_, action), parties in ACTORS.items() if Party.SYSTEM in parties
)

RATINGS = ("satisfied", "basically_satisfied", "unsatisfied")
RATING_WINDOW_DAYS = 15
# The statuses a case ends in: closed after its reply, closed unrated, merged into another.
CLOSED_CASE_STATUSES = (Status.CLOSED, Status.UNRATED, Status.MERGED)
REMIND_BEFORE_DAYS = 2  # working days before the due time, the lead is reminded
SUPERVISE_AFTER_DAYS = 5  # working days overdue, a case is supervised by itself

ACTION_NAMES = {
    "answer": "解答",
    "follow_up": "追问",
    "accept": "受理",
    "accept_answer": "采纳",
    "comment": "回复",
    "hide": "隐藏",
    "restore": "恢复",
    "reject": "不予受理",
    "route": "转办",
    "return": "退回",
    "official": "答复",
    "rate_satisfied": "评价",
    "rate_unsatisfied": "评价",
    "rate_final": "评价",
    "expire": "办结",
    "overdue": "标记超期",
    "flag": "举报",
    "hold": "待审核",
    "note": "添加协办意见",
    "assign": "指定承办人",
    "extension_request": "申请延期",
    "extension_decide": "审批延期",
    "urge": "催办",
    "remind": "到期提醒",
    "supervise": "督办",
    "callback": "回访",
    "callback_close": "回访",
    "callback_reopen": "回访",
    "merge": "合并重复件",
}


PARTY_NAMES = {
    Party.WRITER: "写信人或提问人",
    Party.MODERATOR: "信访局管理员",
    Party.ROUTED_STAFF: "承办部门",
    Party.HELPER_STAFF: "协办部门",
    Party.ANSWERER: "认证律师或农业专家",
    Party.MEMBER: "登录用户",
    Party.READER: "其他读者",
    Party.SYSTEM: "系统",
}


def step(kind: Kind, action: str, status: Status, parties: frozenset[Party]) -> Status:
    """The status after `action`, taken by someone who is `parties` to a post of `kind` now in
    `status`. Raises Forbidden when none of the parties takes this action (an action no kind
    has included), Conflict when the lifecycle does not allow it in this status. The only way
    any service decides a status change; the write that follows is conditional on `status`."""
    verb = term(ACTION_NAMES.get(action, action), "动作")
    table = TRANSITIONS.get((kind, action), {})
    takers = ACTORS.get((kind, action), frozenset())
    if table and not takers & parties:
        raise Forbidden(
            msg(
                "只有{who}可以{verb}",
                verb=verb,
                who=[term(PARTY_NAMES[p]) for p in Party if p in takers],
            ),
            code="not_your_action",
        )
    if status not in table:
        raise Conflict(msg("当前状态下不能{verb}", verb=verb), code="invalid_transition")
    return table[status]


def allows_now(kind: Kind, action: str, status: Status) -> bool:
    """Whether the lifecycle has `action` for a post of `kind` in `status`, whoever takes it:
    for rules that apply only where a step exists (holding an edit for review)."""
    return status in TRANSITIONS.get((kind, action), {})


# Asked for every post of every list: a pure function of a small domain (kinds, statuses and
# sets of parties), so each answer is worked out from the table once.
@functools.cache
def offered(kind: Kind, status: Status, parties: frozenset[Party]) -> frozenset[str]:
    """Every action that `parties` may take on a post of `kind` in `status`: what the pages and
    the API offer a viewer, exactly what step allows."""
    return frozenset(
        action
        for (k, action), table in TRANSITIONS.items()
        if k is kind and status in table and ACTORS[(k, action)] & parties
    )


def reply_action(kind: ReplyKind) -> str:
    """The lifecycle action a reply of this kind takes."""
    return kind.value


def callback_action(score: str | None, reopened: bool, status: Status) -> str:
    """A callback's step: 不满意 reopens a case not yet reopened; satisfaction closes a replied
    case; anything else (not reached, no score, a case already closed) is recorded only."""
    if score == "unsatisfied" and not reopened:
        return "callback_reopen"
    if score in ("satisfied", "basically_satisfied") and status is Status.REPLIED:
        return "callback_close"
    return "callback"


def rating_action(score: str, reopened: bool) -> str:
    """满意 and 基本满意 close the case; 不满意 sends it back to the moderators once, and closes it
    when it was already reopened."""
    if score != "unsatisfied":
        return "rate_satisfied"
    return "rate_final" if reopened else "rate_unsatisfied"


def is_overdue(post: Post, at: dt.datetime) -> bool:
    """A case is overdue while its due time has passed and it has no reply yet; a submitted case
    is overdue when acceptance was not decided in time."""
    due = due_in_status(post)
    return due is not None and due < at


def due_in_status(post: Post) -> dt.datetime | None:
    """The time after which the post in its present status is overdue (is_overdue), if any."""
    if post.status is Status.ROUTED:
        return post.due_at
    if post.status is Status.SUBMITTED:
        return post.accept_due_at
    return None


# the working-day clock -----------------------------------------------------------------------
CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


@dataclass(frozen=True)
class Calendar:
    """Which days are worked: Monday to Friday, less the holidays, plus the weekend days worked
    in exchange for them (调休). Dates are the city's local dates. Plain sets, so counting is a
    look-up per day: forum/holidays.py fills them from `chinesecalendar` and the admins'
    additions (services/settings.load_calendar)."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def due(self, start: dt.datetime, working_days: int) -> dt.datetime:
        """The end (local midnight) of the `working_days`-th working day after `start`'s day,
        in UTC. Zero days means the end of the start day."""
        day = start.astimezone(CHINA_STANDARD_TIME).date()
        remaining = working_days
        while remaining > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), CHINA_STANDARD_TIME)
        return end.astimezone(dt.timezone.utc)
