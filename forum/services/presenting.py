"""What a viewer may see of posts and replies, and may do with them.

This is the one place that decides visibility, anonymity, who reads personal data unmasked and
the actions offered; every service that returns posts or replies builds its views here. What
the others read of each text field is forum/privacy.py's to decide.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Collection, NamedTuple

from forum import boards, privacy, workflow
from forum.boards import Policy
from forum.clock import now
from forum.errors import Conflict
from forum.model import (
    BoardSettings,
    Event,
    Kind,
    Post,
    Reply,
    ReplyKind,
    Revision,
    Role,
    Status,
    User,
)
from forum.services.kept_views import ViewList, kept_form, kept_on
from forum.store.base import Store

EDIT_WINDOW_MINUTES = 30
ANONYMOUS_NAME = "网友"

# The kinds of board whose rules are built so far; posting elsewhere is refused plainly.
SUPPORTED_KINDS = frozenset(Kind)

# Shown beside the answers of verified volunteers.
BADGES = {Role.LAWYER: "认证律师", Role.EXPERT: "农业专家"}
# Shown beside every reply by an official, whatever the board: a role gives it, so nobody else
# can have it (a display name cannot claim an office either: accounts.office_name_refusal).
OFFICIAL_BADGES = {Role.ADMIN: "系统管理员", Role.MODERATOR: "市信访局", Role.STAFF: "工作人员"}


@dataclass
class Author:
    username: str
    display_name: str
    badge: str | None = None
    specialties: list[str] = field(default_factory=list)


@dataclass
class BoardView:
    settings: BoardSettings
    policy: Policy
    may_post: bool

    @property
    def slug(self) -> str:
        return self.settings.slug


@dataclass
class PostView:
    post: Post
    author: Author | None
    may_edit: bool = False
    may_reply: bool = False
    may_moderate: bool = False  # marks that are not steps: lock, pin, dismissing flags
    overdue: bool = False
    tracking_code: str | None = None  # only right after a case is submitted
    # The lifecycle actions this viewer may take now, as workflow.offered gives them: pages
    # and the API offer exactly these.
    actions: frozenset[str] = frozenset()
    # A visitor who showed the case's tracking code may add to it (补充材料) while it is open.
    may_supplement: bool = False
    # The case's named officer (承办人), for those who work it; None for everyone else.
    officer: Author | None = None
    # Who works the case: notes, the officer and the real name are theirs to see.
    insider: bool = False
    own: bool = False  # the viewer wrote it

    @property
    def may_accept(self) -> bool:
        return "accept_answer" in self.actions

    @property
    def may_flag(self) -> bool:
        return "flag" in self.actions

    @property
    def may_rate(self) -> bool:
        return any(action.startswith("rate_") for action in self.actions)

    @property
    def may_return(self) -> bool:
        return "return" in self.actions


@dataclass
class ReplyView:
    reply: Reply
    author: Author | None


@dataclass
class Thread:
    post: PostView
    board: BoardView
    replies: list[ReplyView] = field(default_factory=list)
    edited: bool = False
    revisions: list[Revision] = field(default_factory=list)
    events: list["EventView"] = field(default_factory=list)


@dataclass
class EventView:
    """One step of a case as its writer sees it: when, who (by office, not by name), what."""

    event: Event
    actor: str


# rights --------------------------------------------------------------------------------------
def is_moderator(viewer: User | None) -> bool:
    return viewer is not None and viewer.moderates


def is_author(post: Post, viewer: User | None) -> bool:
    return viewer is not None and post.author_id is not None and post.author_id == viewer.id


def may_post(policy: Policy, settings: BoardSettings, viewer: User | None) -> bool:
    if not settings.is_open or policy.kind not in SUPPORTED_KINDS:
        return False
    if viewer is None:
        return policy.visitors_may_post
    return any(viewer.has(role) for role in policy.posters)


def may_answer(policy: Policy, viewer: User | None) -> bool:
    """Whether the viewer holds a role that answers in this board (a verified volunteer)."""
    return viewer is not None and not policy.answerers.isdisjoint(viewer.roles)


class Standing(NamedTuple):
    """What one viewer is to one post: all that the rights below and a post's view read of the
    viewer. A view is a function of the post, its author and officer, the time and this, so
    every viewer who stands alike to a post (most readers of a board: signed in, none of the
    rest) shares one view of it (present_posts)."""

    signed_in: bool = False
    disabled: bool = False
    author: bool = False
    moderator: bool = False
    # Staff of the department a case is routed to (the case's department is cleared when it
    # goes back to the moderators), and of a helper department (协办): they see it, add notes.
    routed_staff: bool = False
    helper_staff: bool = False
    answerer: bool = False  # holds a role that answers in the post's board
    answered: bool = False  # answered this post
    holds_code: bool = False  # showed the case's tracking code

    @property
    def insider(self) -> bool:
        """Who works a case: moderators and the staff of its lead and helper departments. They
        read its internal notes, the named officer and the writer's real name."""
        return self.moderator or self.routed_staff or self.helper_staff

    @property
    def unmasked(self) -> bool:
        """The writer, those who work the case, those who answered the post and a holder of
        its tracking code see phone numbers, ID numbers, e-mail addresses and contact data as
        written; everyone else sees them masked."""
        return self.holds_code or self.insider or self.author or self.answered


NOBODY = Standing()


def standing(
    post: Post,
    viewer: User | None,
    answerer_ids: Collection[str] = (),
    *,
    holds_code: bool = False,
) -> Standing:
    """`answerer_ids`: who answered the post, when known (a thread; not a list)."""
    if viewer is None:
        return Standing(holds_code=True) if holds_code else NOBODY
    policy = boards.POLICIES[post.board]
    routed = helper = False
    if policy.kind is Kind.CASE and viewer.has(Role.STAFF):
        routed = post.department is not None and viewer.department == post.department
        helper = viewer.department is not None and viewer.department in post.helpers
    # In field order, not by keyword: a board page asks this for every post it lists.
    return Standing(
        True,
        viewer.disabled,
        post.author_id is not None and post.author_id == viewer.id,
        viewer.moderates,
        routed,
        helper,
        not policy.answerers.isdisjoint(viewer.roles),
        viewer.id in answerer_ids,
        holds_code,
    )


def is_routed_staff(post: Post, viewer: User | None) -> bool:
    return standing(post, viewer).routed_staff


def is_insider(post: Post, viewer: User | None) -> bool:
    return standing(post, viewer).insider


def parties(post: Post, policy: Policy, viewer: User | None) -> frozenset[workflow.Party]:
    """What `viewer` is to `post`, for the lifecycle authority (workflow.step and offered)."""
    return _parties(policy, standing(post, viewer))


def _parties(policy: Policy, stands: Standing) -> frozenset[workflow.Party]:
    if not stands.signed_in or stands.disabled:
        return frozenset()
    Party = workflow.Party
    found = {Party.MEMBER}
    if stands.author:
        found.add(Party.WRITER)
    elif not stands.moderator and not policy.confidential:
        # Readers flag (department staff too); moderators act on the post directly instead,
        # and a confidential report has no readers.
        found.add(Party.READER)
    if stands.moderator:
        found.add(Party.MODERATOR)
    if stands.routed_staff:
        found.add(Party.ROUTED_STAFF)
    if stands.helper_staff:
        found.add(Party.HELPER_STAFF)
    if stands.answerer:
        found.add(Party.ANSWERER)
    return frozenset(found)


# A case's events that only those who work it see.
OFFICE_EVENTS = frozenset({"assign", "extension_request", "urge", "remind"})


# What holding a case's tracking code lets one do: add to it, as its writer would. Nothing else
# (rating, accepting, ...) is taken by a code, which is for following a case.
CODE_HOLDER_ACTIONS = frozenset({"follow_up"})


def code_holder_parties(policy: Policy, action: str) -> frozenset[workflow.Party]:
    """What showing a case's tracking code makes one to it for `action`: the writer's party for
    the code holder's actions on a case, nothing otherwise."""
    if policy.kind is Kind.CASE and action in CODE_HOLDER_ACTIONS:
        return frozenset({workflow.Party.WRITER})
    return frozenset()


def step(post: Post, action: str, viewer: User | None, *, holds_code: bool = False) -> Status:
    """workflow.step for `viewer` on `post`: the new status, or Forbidden / Conflict.
    `holds_code`: the viewer showed the case's tracking code (see CODE_HOLDER_ACTIONS)."""
    policy = boards.POLICIES[post.board]
    found = parties(post, policy, viewer)
    if holds_code:
        found |= code_holder_parties(policy, action)
    try:
        return workflow.step(policy.kind, action, post.status, found)
    except Conflict as refused:
        refused.state = {"status": post.status.value}
        raise


def may_see(post: Post, policy: Policy, viewer: User | None) -> bool:
    stands = standing(post, viewer)
    if stands.insider or stands.author:
        return True
    if policy.confidential:
        return False
    if policy.kind is Kind.CASE and not post.public:
        return False
    return post.status in boards.PUBLIC_STATUSES[policy.kind]


def may_edit(post: Post, viewer: User | None, at: dt.datetime) -> bool:
    return _may_edit(post, standing(post, viewer), at)


def _may_edit(post: Post, stands: Standing, at: dt.datetime) -> bool:
    # Only an author's right hangs on the clock: a list of views is kept on that (ViewList).
    if stands.moderator:
        return True
    return stands.author and at - post.created_at <= dt.timedelta(minutes=EDIT_WINDOW_MINUTES)


def reply_kind(post: Post, policy: Policy, viewer: User | None) -> ReplyKind | None:
    """The kind a reply by `viewer` would have, or None when they may not reply at all."""
    return _reply_kind(policy, standing(post, viewer))


def _reply_kind(policy: Policy, stands: Standing) -> ReplyKind | None:
    if not stands.signed_in or not policy.replies or policy.kind not in SUPPORTED_KINDS:
        return None
    if policy.kind is Kind.DISCUSSION:
        return ReplyKind.COMMENT if policy.citizens_may_comment else None
    if policy.kind is Kind.CONSULTATION:
        if stands.author:
            return ReplyKind.FOLLOW_UP
        return ReplyKind.ANSWER if stands.answerer else None
    if policy.kind is Kind.CASE:
        if stands.routed_staff:
            return ReplyKind.OFFICIAL
        return ReplyKind.FOLLOW_UP if stands.author else None
    return None


def sees_personal_data(post: Post, viewer: User | None, answerer_ids: Collection[str]) -> bool:
    """See Standing.unmasked."""
    return standing(post, viewer, answerer_ids).unmasked


# building views ------------------------------------------------------------------------------
def _author(user: User | None, policy: Policy | None = None) -> Author | None:
    """`policy`: the board, for the author of an answer (a volunteer's badge and specialties)."""
    if user is None:
        return None
    badge = None
    if policy is not None:
        badge = next((BADGES[r] for r in policy.answerers if r in BADGES and user.has(r)), None)
    return Author(user.username, user.display_name, badge, list(user.specialties) if badge else [])


def _reply_author(user: User | None, reply: Reply, policy: Policy) -> Author | None:
    author = _author(user, policy if reply.kind is ReplyKind.ANSWER else None)
    office = next((OFFICIAL_BADGES[r] for r in OFFICIAL_BADGES if user and user.has(r)), None)
    if author is not None and office is not None:
        author.badge, author.specialties = office, []
    return author


def _hides_author(post: Post, author_id: str | None, stands: Standing) -> bool:
    """An anonymous asker is 网友 to everyone but themselves and moderators, on the question
    and on their own follow-ups alike."""
    return (
        post.anonymous
        and author_id is not None
        and author_id == post.author_id
        and not stands.moderator
        and not stands.author
    )


async def present_posts(store: Store, viewer: User | None, posts: list[Post]) -> list[PostView]:
    """Views of posts for a list, where answerers are not known: masked unless the viewer
    wrote the post or moderates."""
    users = await store.get_users(
        [
            *(p.author_id for p in posts if p.author_id),
            *(p.officer_id for p in posts if p.officer_id),
        ]
    )
    at = now()
    people = [users.get(p.author_id) if p.author_id else None for p in posts] + [
        users.get(p.officer_id) if p.officer_id else None for p in posts
    ]
    kept = ViewList.kept(posts, viewer, people, at)
    if kept is not None:
        return list(kept)
    size = len(posts)
    views = [
        _kept_view(p, standing(p, viewer), people[i], people[size + i], at)
        for i, p in enumerate(posts)
    ]
    ViewList.keep(posts, viewer, people, at, views)
    return views


def _kept_view(
    post: Post, stands: Standing, author: User | None, officer: User | None, at: dt.datetime
) -> PostView:
    """The view of `post` for a viewer who stands so to it, made once per record object and
    kept on it, like its public form (kept_form): the records of a board page are the same
    objects for every request while the content version stands, so its twenty views are made
    once for all readers who stand alike, not for each. What the time decides (the edit window,
    overdue) is part of the key. Views are not changed once made."""
    editable = _may_edit(post, stands, at)
    overdue = workflow.is_overdue(post, at)
    view: PostView = kept_on(
        post,
        (stands, editable, overdue),
        (author, officer),
        lambda: _view(post, stands, author, officer, editable, overdue),
    )
    return view


def present_post(
    post: Post,
    viewer: User | None,
    author: User | None,
    answerer_ids: Collection[str],
    *,
    holds_code: bool = False,
    officer: User | None = None,
) -> PostView:
    """`holds_code`: the viewer showed the case's tracking code, so they read it as its writer
    does (but act on nothing: the code is for following, not for changing)."""
    stands = standing(post, viewer, answerer_ids, holds_code=holds_code)
    at = now()
    editable, overdue = _may_edit(post, stands, at), workflow.is_overdue(post, at)
    return _view(post, stands, author, officer, editable, overdue)


def _view(
    post: Post,
    stands: Standing,
    author: User | None,
    officer: User | None,
    editable: bool,
    overdue: bool,
) -> PostView:
    """A post's view from what its viewer is to it (never the viewer itself: see Standing)."""
    policy = boards.POLICIES[post.board]
    shown = post if stands.unmasked else kept_form(post, privacy.public_post)
    if not stands.insider:
        # Who inside the department handles it is the offices' business; the writer sees the
        # department. The real name stays with the writer and the offices.
        real_name = shown.real_name if stands.author or stands.holds_code else None
        if shown.officer_id is not None or shown.real_name != real_name:
            shown = dataclasses.replace(shown, officer_id=None, real_name=real_name)
    is_case = policy.kind is Kind.CASE
    # A tracking code is for following a case, not for acting on it.
    by_code = stands.holds_code and not stands.signed_in
    actions = (
        frozenset()
        if by_code
        else workflow.offered(policy.kind, post.status, _parties(policy, stands))
    )
    supplement = (
        by_code
        and any(
            action
            in workflow.offered(policy.kind, post.status, code_holder_parties(policy, action))
            for action in CODE_HOLDER_ACTIONS
        )
        and not post.locked
    )
    kind = _reply_kind(policy, stands)
    return PostView(
        post=shown,
        author=None if _hides_author(post, post.author_id, stands) else _author(author),
        may_edit=editable and not is_case,
        may_reply=kind is not None and not post.locked and workflow.reply_action(kind) in actions,
        may_moderate=stands.moderator,
        overdue=is_case and overdue,
        actions=actions,
        may_supplement=supplement,
        officer=_author(officer) if stands.insider else None,
        insider=stands.insider,
        own=stands.author,
    )


async def present_thread(
    store: Store,
    viewer: User | None,
    post: Post,
    board: BoardView,
    replies: list[Reply],
    revisions: list[Revision],
    events: list[Event],
    *,
    holds_code: bool = False,
) -> Thread:
    answerer_ids = {r.author_id for r in replies if r.kind is ReplyKind.ANSWER and r.author_id}
    actor_ids = [e.actor_id for e in events if e.actor_id]
    users = await store.get_users(
        [
            a
            for a in [post.author_id, *(r.author_id for r in replies), *actor_ids, post.officer_id]
            if a
        ]
    )
    stands = standing(post, viewer, answerer_ids, holds_code=holds_code)
    policy = board.policy
    if not stands.insider:
        # Internal notes are between the offices: never the writer's, the public's or a code's.
        replies = [r for r in replies if r.kind is not ReplyKind.INTERNAL]
    # The accepted answer comes first; the rest keep their order.
    ordered = sorted(replies, key=lambda r: r.id != post.accepted_reply_id)
    writers = [users.get(r.author_id) if r.author_id else None for r in ordered]
    # The whole list kept on the post too, for every reader whom the replies' views take alike
    # (see _kept_reply_view): a post page read by many makes them once.
    reply_views: list[ReplyView] = list(
        kept_on(
            post,
            ("replies", len(ordered), stands.unmasked, stands.moderator, stands.author),
            (*ordered, *writers),
            lambda: [
                _kept_reply_view(r, post, stands, writer, policy)
                for r, writer in zip(ordered, writers)
            ],
        )
    )
    view = present_post(
        post,
        viewer,
        users.get(post.author_id) if post.author_id else None,
        answerer_ids,
        holds_code=holds_code,
        officer=users.get(post.officer_id) if post.officer_id else None,
    )
    follows = policy.kind is Kind.CASE and stands.unmasked
    offices = {d.slug: d.name for d in await store.list_departments()} if follows else {}
    if not view.insider:
        # How the offices share the work (the officer, extension requests, urging, reminders)
        # is theirs; the writer follows the case's steps and the decisions that concern them.
        events = [e for e in events if e.action not in OFFICE_EVENTS]
    return Thread(
        post=view,
        board=board,
        replies=reply_views,
        edited=bool(revisions),
        events=[_event_view(e, users, post, offices) for e in events] if follows else [],
        # Earlier texts stay with the author and moderators: an edit may have removed something
        # its writer regretted publishing.
        revisions=revisions if stands.moderator or stands.author else [],
    )


def present_reply(post: Post, viewer: User, reply: Reply) -> ReplyView:
    """The view of a reply `viewer` has just written, as present_thread would make it, without
    reading anything: its author is the viewer."""
    answered = {viewer.id} if reply.kind is ReplyKind.ANSWER else set()
    stands = standing(post, viewer, answered)
    return _kept_reply_view(reply, post, stands, viewer, boards.POLICIES[post.board])


def _kept_reply_view(
    reply: Reply, post: Post, stands: Standing, author: User | None, policy: Policy
) -> ReplyView:
    """A reply's view, made once per record object and what decides it (see _kept_view): masked
    or not, its author hidden or not, and the author's record."""
    hidden = _hides_author(post, reply.author_id, stands)
    view: ReplyView = kept_on(
        reply,
        (stands.unmasked, hidden),
        (author,),
        lambda: ReplyView(
            reply=reply if stands.unmasked else kept_form(reply, privacy.public_reply),
            author=None if hidden else _reply_author(author, reply, policy),
        ),
    )
    return view


def _event_view(
    event: Event, users: dict[str, User], post: Post, offices: dict[str, str]
) -> EventView:
    # The writer learns which office acted, never which official: staff names stay private.
    user = users.get(event.actor_id) if event.actor_id else None
    if user is None:
        clock = event.actor_id is None and event.action in workflow.SYSTEM_ACTIONS
        actor = "系统" if clock else "网友"
    elif event.actor_id == post.author_id:
        actor = "写信人"
    elif user.moderates:
        actor = "市信访局"
    elif user.has(Role.STAFF):
        actor = offices.get(user.department or "", "承办部门")
    else:
        actor = user.display_name
    return EventView(event, actor)
