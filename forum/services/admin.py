"""Administration of accounts: finding people, granting roles, verifying lawyers and experts,
disabling accounts. Every change is written to the audit log."""

from __future__ import annotations

import dataclasses
from typing import Any

from forum import boards
from forum.errors import Forbidden, NotFound, NotLoggedIn
from forum.messages import msg
from forum.model import AuditEntry, BoardSettings, Department, Role, User, is_id
from forum.services import accounts, audit, forms
from forum.services.fields import Fields, check_limit, required
from forum.store.base import Store

SPECIALTIES_MAX = 12
CHANGEABLE = frozenset({"roles", "department", "specialties", "disabled", "display_name"})


def require_admin(viewer: User | None) -> User:
    if viewer is None:
        raise NotLoggedIn()
    if not viewer.has(Role.ADMIN):
        raise Forbidden("只有管理员可以进行此操作")
    return viewer


def known_specialties() -> list[str]:
    """What lawyers and experts may be verified in: the consultation boards' categories."""
    seen: list[str] = []
    for policy in boards.POLICIES.values():
        if policy.answerers & {Role.LAWYER, Role.EXPERT}:
            seen.extend(c for c in policy.categories if c != "其他" and c not in seen)
    return seen


async def find_users(
    store: Store, viewer: User | None, query: Any, *, after: Any = None, limit: Any = None
) -> tuple[list[User], str | None]:
    """Users whose name starts with `query`, by name; (page, key of the next page or None).
    Raises NotLoggedIn, Forbidden, Invalid."""
    require_admin(viewer)
    fields = Fields()
    prefix = fields.take(forms.USER_PREFIX, "q", query) or ""
    start = fields.take(forms.USER_PREFIX, "after", after)
    fields.done()
    size = check_limit(limit)
    users = await store.find_users(prefix, start.casefold() if start else None, size + 1)
    more = len(users) > size
    users = users[:size]
    return users, (users[-1].username.casefold() if more else None)


async def update_user(
    store: Store, viewer: User | None, username: Any, data: dict[str, Any]
) -> User:
    """Change roles, department, specialties, the display name or the disabled flag of an
    account (an office's name in the display name only with an official's role). Disabling
    ends all of its sessions. Raises NotLoggedIn, Forbidden, NotFound, Invalid."""
    admin = require_admin(viewer)
    user = await store.get_user_by_name(username) if isinstance(username, str) else None
    if user is None:
        raise NotFound("用户不存在")
    departments = {d.slug for d in await store.list_departments()}
    fields = Fields()
    for unknown in sorted(set(data) - CHANGEABLE, key=str)[:5]:
        fields.fail(str(unknown)[:40], "不能修改此项")
    changes: dict[str, Any] = {}
    if "roles" in data:
        roles = _roles(fields, data["roles"])
        if roles is not None:
            if user.id == admin.id and Role.ADMIN not in roles:
                fields.fail("roles", "不能取消自己的管理员角色")
            changes["roles"] = roles
    if "department" in data:
        department = data["department"]
        if department is not None and (
            not isinstance(department, str) or department not in departments
        ):
            fields.fail("department", "没有这个部门")
        else:
            changes["department"] = department
    if "specialties" in data:
        specialties = _specialties(fields, data["specialties"])
        if specialties is not None:
            changes["specialties"] = specialties
    if "disabled" in data:
        disabled = fields.take(forms.DISABLED, "disabled", data["disabled"])
        if disabled and user.id == admin.id:
            fields.fail("disabled", "不能停用自己的账号")
        changes["disabled"] = disabled
    if "display_name" in data:
        shown = accounts.display_name_field(fields, data["display_name"])
        changes["display_name"] = shown or user.username
    roles_after = changes.get("roles", user.roles)
    # Checked again when roles change too: an office's name leaves with the office.
    refused = ("display_name" in changes or "roles" in changes) and accounts.office_name_refusal(
        changes.get("display_name", user.display_name), roles_after, await store.list_departments()
    )
    if refused:
        fields.fail("display_name", refused)
    if Role.STAFF in roles_after and not changes.get("department", user.department):
        fields.fail("department", "部门工作人员必须属于一个部门")
    if not changes and not fields.errors:
        fields.fail("roles", "没有要修改的内容")
    fields.done()
    await store.update_user(user.id, changes)
    if changes.get("disabled"):
        await store.delete_user_sessions(user.id)
    await audit.record(store, admin, "update_user", f"user:{user.username}", detail=changes)
    updated = await store.get_user(user.id)
    assert updated is not None
    return updated


def _roles(fields: Fields, value: Any) -> list[Role] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        fields.fail("roles", "应为角色名称的列表")
        return None
    unknown = [item for item in value if item not in {r.value for r in Role}]
    if unknown:
        fields.fail("roles", msg("没有这些角色：{roles}", roles=unknown[:5]))
        return None
    chosen = {Role(item) for item in value} | {Role.CITIZEN}
    return [role for role in Role if role in chosen]


def _specialties(fields: Fields, value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        fields.fail("specialties", "应为专长名称的列表")
        return None
    known = known_specialties()
    unknown = [item for item in value if item not in known]
    if unknown:
        fields.fail("specialties", msg("可选专长：{choices}", choices=list(known)))
        return None
    if len(set(value)) > SPECIALTIES_MAX:
        fields.fail("specialties", msg("最多 {count} 项", count=SPECIALTIES_MAX))
        return None
    return [item for item in known if item in value]


async def add_department(store: Store, viewer: User | None, slug: Any, name: Any) -> Department:
    """A new department cases can be routed to. Raises NotLoggedIn, Forbidden, Invalid,
    Conflict (slug taken)."""
    admin = require_admin(viewer)
    fields = Fields()
    checked_slug = fields.take(forms.DEPARTMENT_SLUG_FIELD, "slug", slug)
    checked_name = fields.take(forms.DEPARTMENT_NAME, "name", name)
    fields.done()
    department = Department(required(checked_slug), required(checked_name))
    await store.add_department(department)
    await audit.record(
        store, admin, "add_department", f"department:{checked_slug}", detail={"name": checked_name}
    )
    return department


@dataclasses.dataclass
class AuditLine:
    entry: AuditEntry
    actor: User | None  # None when the account is gone


async def audit_log(
    store: Store,
    viewer: User | None,
    *,
    actor: Any = None,
    post_id: Any = None,
    cursor: Any = None,
    limit: Any = None,
) -> tuple[list[AuditLine], str | None]:
    """The audit log, newest first, each entry with who acted, filtered by the acting username
    and/or a post. Raises NotLoggedIn, Forbidden, Invalid."""
    require_admin(viewer)
    fields = Fields()
    name = fields.take(forms.ACTOR, "actor", actor)
    post = fields.take(forms.AUDITED_POST, "post_id", post_id)
    if post is not None and not is_id(post):
        fields.fail("post_id", "不是有效的编号")
    fields.done()
    actor_id = None
    if name is not None:
        user = await store.get_user_by_name(name)
        if user is None:
            return [], None
        actor_id = user.id
    entries, next_cursor = await audit.list_entries(
        store,
        actor_id=actor_id,
        target=f"post:{post}" if post else None,
        cursor=cursor,
        limit=limit,
    )
    actors = await store.get_users([e.actor_id for e in entries])
    return [AuditLine(e, actors.get(e.actor_id)) for e in entries], next_cursor


BOARD_FIELDS = frozenset(
    {"name", "description", "categories", "is_open", "accept_days", "reply_days"}
)
CATEGORIES_MAX = 30


async def update_board(
    store: Store, viewer: User | None, slug: Any, data: dict[str, Any]
) -> BoardSettings:
    """Change a board's settings: name, description, categories, whether it takes posts, and
    for case boards the acceptance and reply times in working days. Raises NotLoggedIn,
    Forbidden, NotFound, Invalid."""
    admin = require_admin(viewer)
    board = await store.get_board(slug) if isinstance(slug, str) else None
    if board is None:
        raise NotFound("栏目不存在")
    fields = Fields()
    for unknown in sorted(set(data) - BOARD_FIELDS, key=str)[:5]:
        fields.fail(str(unknown)[:40], "不能修改此项")
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = fields.take(forms.BOARD_NAME, "name", data["name"])
    if "description" in data:
        changes["description"] = (
            fields.take(forms.BOARD_DESCRIPTION, "description", data["description"]) or ""
        )
    if "categories" in data:
        value = data["categories"]
        if (
            not isinstance(value, list)
            or len(value) > CATEGORIES_MAX
            or not all(isinstance(c, str) and 1 <= len(c.strip()) <= 20 for c in value)
        ):
            fields.fail(
                "categories",
                msg("应为最多 {count} 个、每个 1 到 20 字的分类", count=CATEGORIES_MAX),
            )
        else:
            changes["categories"] = list(dict.fromkeys(c.strip() for c in value))
    if "is_open" in data:
        changes["is_open"] = fields.take(forms.IS_OPEN, "is_open", data["is_open"])
    for name, top in (("accept_days", 30), ("reply_days", 60)):
        if name in data:
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                fields.fail(name, msg("应为 1 到 {top} 之间的整数（工作日）", top=top))
            else:
                changes[name] = value
    fields.done()
    updated = dataclasses.replace(board, **{k: v for k, v in changes.items() if v is not None})
    await store.save_board(updated)
    await audit.record(store, admin, "update_board", f"board:{board.slug}", detail=changes)
    return updated
