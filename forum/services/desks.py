"""A department's cases: its desk (the cases it leads or helps with, overdue ones first) for
its staff, and what anyone may see of it (its recent closed public letters).
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypedDict

from forum import boards
from forum.clock import now
from forum.errors import Forbidden, NotFound, NotLoggedIn
from forum.model import Page, PostFilter, Role, Status, User
from forum.services import forms
from forum.services.fields import Fields, check_limit
from forum.services.paging import decode_cursor, encode_cursor
from forum.services.presenting import PostView, is_moderator, present_posts
from forum.store.base import Store


@dataclasses.dataclass
class DepartmentCases:
    slug: str
    name: str
    status: Status | None
    overdue: list[PostView]  # on the first page only: routed cases past their due time
    page: Page
    role: str = "lead"
    officer: str | None = None  # "me": only the viewer's own cases
    # Every department's name by slug: the lead of a case the desk helps with is named.
    names: dict[str, str] = dataclasses.field(default_factory=dict)
    # Whether the viewer has cases of their own here to filter by (a member of its staff).
    may_filter_mine: bool = False


@dataclasses.dataclass
class DepartmentPublic:
    slug: str
    name: str
    recent: list[PostView]  # its latest closed public letters
    kind: str = "bureau"  # its level: bureau | county


async def department_public(store: Store, viewer: User | None, slug: Any) -> DepartmentPublic:
    """What anyone may see of a department: its recent closed public letters (its figures are
    the statistics'). Raises NotFound (department)."""
    known = {d.slug: d for d in await store.list_departments()}
    if not isinstance(slug, str) or slug not in known:
        raise NotFound("部门不存在")
    where = PostFilter(
        board="mayor", department=slug, statuses=(Status.CLOSED, Status.UNRATED), public=True
    )
    recent = await present_posts(store, viewer, await store.list_posts(where, None, 10))
    return DepartmentPublic(slug, known[slug].name, recent, known[slug].kind)


def may_work_for(viewer: User | None, slug: str) -> bool:
    """Whether the viewer works a department's cases: its staff, moderators and admins."""
    return viewer is not None and (
        is_moderator(viewer) or (viewer.has(Role.STAFF) and viewer.department == slug)
    )


class _Whose(TypedDict, total=False):
    """Whose cases a desk lists: the PostFilter fields that name the department and officer."""

    department: str
    helper: str
    officer_id: str


async def department_cases(
    store: Store,
    viewer: User | None,
    slug: Any,
    *,
    status: Any = None,
    cursor: Any = None,
    limit: Any = None,
    role: Any = None,
    officer: Any = None,
) -> DepartmentCases:
    """A department's cases, overdue ones first, then oldest first: those it leads, or with
    `role="helper"` those it helps with (协办); with `officer="me"` only those assigned to the
    viewer. Its staff, moderators and admins only. Raises NotLoggedIn, NotFound (department),
    Forbidden, Invalid (status, role, officer)."""
    if viewer is None:
        raise NotLoggedIn()
    known = {d.slug: d.name for d in await store.list_departments()}
    if not isinstance(slug, str) or slug not in known:
        raise NotFound("部门不存在")
    if not may_work_for(viewer, slug):
        raise Forbidden("只有本部门工作人员和信访局管理员可以查看")
    fields = Fields()
    chosen = fields.take(forms.DESK_STATUS, "status", status)
    desk = fields.take(forms.DESK_ROLE, "role", role) or "lead"
    mine = fields.take(forms.DESK_OFFICER, "officer", officer)
    fields.done()
    size = check_limit(limit)
    after = decode_cursor(cursor)
    statuses = (
        (Status.CLOSED, Status.UNRATED)
        if chosen == Status.CLOSED.value
        else (Status(chosen),)
        if chosen
        else (Status.ROUTED, Status.REPLIED)
    )
    # A helper's cases are led by another department; the officer is always of the lead.
    whose: _Whose = {"helper": slug} if desk == "helper" else {"department": slug}
    if mine:
        whose["officer_id"] = viewer.id
    where = PostFilter(boards=boards.CASE_BOARDS, statuses=statuses, **whose)
    overdue: list[PostView] = []
    if after is None and Status.ROUTED in statuses:
        late = await store.list_posts(
            PostFilter(
                boards=boards.CASE_BOARDS, statuses=(Status.ROUTED,), due_before=now(), **whose
            ),
            None,
            100,
            oldest_first=True,
        )
        overdue = await present_posts(store, viewer, late)
    # Work oldest first; the archive newest first.
    posts = await store.list_posts(
        where, after, size + 1, oldest_first=Status.CLOSED not in statuses
    )
    views = await present_posts(store, viewer, posts[:size])
    last = posts[size - 1] if len(posts) > size else None
    return DepartmentCases(
        slug,
        known[slug],
        Status(chosen) if chosen else None,
        overdue,
        Page(views, encode_cursor((last.created_at, last.id)) if last else None),
        desk,
        mine,
        known,
        viewer.has(Role.STAFF) and viewer.department == slug,
    )
