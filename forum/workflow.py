"""Lifecycles and the working-day clock.

Services ask `transition(kind, action, status)` and get the new status, or Conflict when the
lifecycle does not allow the action in that status. For cases, `CASE_ACTORS` says who takes each
action; the services work out which of those parties the viewer is (boards.py and presenting.py
know roles and departments), and nothing else decides the order of a case.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from forum.errors import Conflict
from forum.messages import msg, term
from forum.model import Kind, Post, ReplyKind, Status

# (kind, action) -> {from status: to status}
TRANSITIONS: dict[tuple[Kind, str], dict[Status, Status]] = {
    # consultation: open -> answered -> resolved
    (Kind.CONSULTATION, "answer"): {Status.OPEN: Status.ANSWERED,
                                    Status.ANSWERED: Status.ANSWERED},
    (Kind.CONSULTATION, "follow_up"): {Status.OPEN: Status.OPEN,
                                       Status.ANSWERED: Status.ANSWERED},
    (Kind.CONSULTATION, "accept_answer"): {Status.ANSWERED: Status.RESOLVED},
    # discussion: comments while published
    (Kind.DISCUSSION, "comment"): {Status.PUBLISHED: Status.PUBLISHED},
    # case: submitted -> accepted -> routed -> replied -> closed; submitted -> rejected
    (Kind.CASE, "accept"): {Status.SUBMITTED: Status.ACCEPTED},
    (Kind.CASE, "reject"): {Status.SUBMITTED: Status.REJECTED},
    (Kind.CASE, "route"): {Status.ACCEPTED: Status.ROUTED, Status.ROUTED: Status.ROUTED},
    (Kind.CASE, "return"): {Status.ROUTED: Status.ACCEPTED},
    (Kind.CASE, "official"): {Status.ROUTED: Status.REPLIED, Status.REPLIED: Status.REPLIED},
    (Kind.CASE, "follow_up"): {s: s for s in (Status.SUBMITTED, Status.ACCEPTED, Status.ROUTED,
                                               Status.REPLIED)},
    (Kind.CASE, "rate_satisfied"): {Status.REPLIED: Status.CLOSED},
    (Kind.CASE, "rate_unsatisfied"): {Status.REPLIED: Status.ACCEPTED},
    (Kind.CASE, "rate_final"): {Status.REPLIED: Status.CLOSED},
    (Kind.CASE, "expire"): {Status.REPLIED: Status.CLOSED},
    (Kind.CASE, "overdue"): {Status.ROUTED: Status.ROUTED},
    # moderation of what the public reads: approving a held post, hiding one. Restoring returns
    # a hidden post to the status it had, which the event log keeps (see RESTORABLE).
    (Kind.DISCUSSION, "accept"): {Status.PENDING: Status.PUBLISHED},
    (Kind.CONSULTATION, "accept"): {Status.PENDING: Status.OPEN},
    (Kind.DISCUSSION, "hide"): {s: Status.HIDDEN for s in (Status.PUBLISHED, Status.PENDING)},
    (Kind.CONSULTATION, "hide"): {s: Status.HIDDEN for s in (Status.OPEN, Status.ANSWERED,
                                                             Status.RESOLVED, Status.PENDING)},
    (Kind.BULLETIN, "hide"): {Status.PUBLISHED: Status.HIDDEN},
}

RESTORABLE = Status.HIDDEN

# Who takes each case action. "moderator" includes admins; "routed_staff" is staff of the
# department the case is routed to; "writer" is who wrote it (by account or tracking code);
# "system" is the clock.
CASE_ACTORS: dict[str, str] = {
    "accept": "moderator", "reject": "moderator", "route": "moderator",
    "return": "routed_staff", "official": "routed_staff",
    "follow_up": "writer", "rate_satisfied": "writer", "rate_unsatisfied": "writer",
    "rate_final": "writer", "expire": "system", "overdue": "system",
}

RATINGS = ("satisfied", "basically_satisfied", "unsatisfied")
RATING_WINDOW_DAYS = 15

ACTION_NAMES = {
    "answer": "解答", "follow_up": "追问", "accept": "受理", "accept_answer": "采纳",
    "comment": "回复", "hide": "隐藏", "restore": "恢复",
    "reject": "不予受理", "route": "转办", "return": "退回", "official": "答复",
    "rate_satisfied": "评价", "rate_unsatisfied": "评价", "rate_final": "评价", "expire": "办结",
    "overdue": "标记超期",
}


def allows(kind: Kind, action: str, status: Status) -> bool:
    return status in TRANSITIONS.get((kind, action), {})


def transition(kind: Kind, action: str, status: Status) -> Status:
    """The status after `action`; raises Conflict when the lifecycle does not allow it now."""
    table = TRANSITIONS.get((kind, action), {})
    if status not in table:
        verb = ACTION_NAMES.get(action, action)
        raise Conflict(msg("当前状态下不能{verb}", verb=term(verb, "动作")),
                       code="invalid_transition")
    return table[status]


def reply_action(kind: ReplyKind) -> str:
    """The lifecycle action a reply of this kind takes."""
    return kind.value


def rating_action(score: str, reopened: bool) -> str:
    """满意 and 基本满意 close the case; 不满意 sends it back to the moderators once, and closes it
    when it was already reopened."""
    if score != "unsatisfied":
        return "rate_satisfied"
    return "rate_final" if reopened else "rate_unsatisfied"


def is_overdue(post: Post, at: dt.datetime) -> bool:
    """A case is overdue while its due time has passed and it has no reply yet; a submitted case
    is overdue when acceptance was not decided in time."""
    if post.status is Status.ROUTED and post.due_at is not None:
        return post.due_at < at
    if post.status is Status.SUBMITTED and post.accept_due_at is not None:
        return post.accept_due_at < at
    return False


# the working-day clock -----------------------------------------------------------------------
CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


@dataclass(frozen=True)
class Calendar:
    """Which days are worked: Monday to Friday, less the holidays, plus the weekend days worked
    in exchange for them (调休). Dates are the city's local dates."""
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
