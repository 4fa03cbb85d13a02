"""Lifecycles: which status follows which action, in one table per kind of board.

Services ask `transition(kind, action, status)` and get the new status, or Conflict when the
lifecycle does not allow the action in that status. Who may take an action is decided by the
services from boards.py; this module only knows the order of things.
"""
from __future__ import annotations

from forum.errors import Conflict
from forum.model import Kind, ReplyKind, Status

# (kind, action) -> {from status: to status}
TRANSITIONS: dict[tuple[Kind, str], dict[Status, Status]] = {
    # consultation: open -> answered -> resolved
    (Kind.CONSULTATION, "answer"): {Status.OPEN: Status.ANSWERED,
                                    Status.ANSWERED: Status.ANSWERED},
    (Kind.CONSULTATION, "follow_up"): {Status.OPEN: Status.OPEN,
                                       Status.ANSWERED: Status.ANSWERED},
    (Kind.CONSULTATION, "accept"): {Status.ANSWERED: Status.RESOLVED},
    # discussion: comments while published
    (Kind.DISCUSSION, "comment"): {Status.PUBLISHED: Status.PUBLISHED},
}

ACTION_NAMES = {
    "answer": "解答", "follow_up": "追问", "accept": "采纳", "comment": "回复",
}


def allows(kind: Kind, action: str, status: Status) -> bool:
    return status in TRANSITIONS.get((kind, action), {})


def transition(kind: Kind, action: str, status: Status) -> Status:
    """The status after `action`; raises Conflict when the lifecycle does not allow it now."""
    table = TRANSITIONS.get((kind, action), {})
    if status not in table:
        verb = ACTION_NAMES.get(action, action)
        raise Conflict(f"当前状态下不能{verb}", code="invalid_transition")
    return table[status]


def reply_action(kind: ReplyKind) -> str:
    """The lifecycle action a reply of this kind takes."""
    return kind.value
