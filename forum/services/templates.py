"""Reply templates (答复模板): each department keeps ready texts for common answers, and its
staff start an official reply from one.

Staff of the department and admins keep them (add, delete); moderators may read them too, as
they read the department's cases. Everyone else is refused, as on the department's desk.
"""

from __future__ import annotations

from typing import Any

from forum.clock import now
from forum.errors import Conflict, Forbidden, NotFound, NotLoggedIn
from forum.limits import TEMPLATES_PER_DEPARTMENT_MAX
from forum.messages import msg
from forum.model import Post, ReplyTemplate, Role, User, is_id, new_id

# posting before cases: cases cannot be the first of the services imported (cases ->
# attachments -> posting -> searching -> stats -> cases).
from forum.services import audit, forms, posting  # noqa: F401
from forum.services.desks import may_work_for
from forum.services.fields import Fields, required
from forum.services.presenting import is_routed_staff
from forum.store.base import Store


def may_read(viewer: User | None, slug: str) -> bool:
    """Staff of the department, moderators and admins: those who work its cases."""
    return may_work_for(viewer, slug)


def may_keep(viewer: User | None, slug: str) -> bool:
    """Staff of the department and admins add and delete its templates."""
    return (
        viewer is not None
        and not viewer.disabled
        and (viewer.has(Role.ADMIN) or (viewer.has(Role.STAFF) and viewer.department == slug))
    )


async def _department(store: Store, slug: Any) -> str:
    known = {d.slug for d in await store.list_departments()}
    if not isinstance(slug, str) or slug not in known:
        raise NotFound("部门不存在")
    return slug


async def list_templates(store: Store, viewer: User | None, slug: Any) -> list[ReplyTemplate]:
    """A department's templates, newest first. Raises NotLoggedIn, NotFound (department),
    Forbidden."""
    if viewer is None:
        raise NotLoggedIn()
    department = await _department(store, slug)
    if not may_read(viewer, department):
        raise Forbidden("只有本部门工作人员和信访局管理员可以查看答复模板")
    return await store.list_templates(department)


async def add_template(
    store: Store, viewer: User | None, slug: Any, title: Any, body: Any
) -> ReplyTemplate:
    """Keep a new template for the department. Raises NotLoggedIn, NotFound (department),
    Forbidden, Invalid (title, body), Conflict (the department has the most it may keep)."""
    if viewer is None:
        raise NotLoggedIn()
    department = await _department(store, slug)
    if not may_keep(viewer, department):
        raise Forbidden("只有本部门工作人员和系统管理员可以维护答复模板")
    fields = Fields()
    checked_title = fields.take(forms.TEMPLATE_TITLE, "title", title)
    checked_body = fields.take(forms.TEMPLATE_BODY, "body", body)
    fields.done()
    checked_title, checked_body = required(checked_title), required(checked_body)
    template = ReplyTemplate(
        id=new_id(),
        department=department,
        title=checked_title,
        body=checked_body,
        author_id=viewer.id,
        created_at=now(),
    )
    async with store.transaction():
        # Counted in the unit that adds, so two adds at once cannot pass the cap together.
        if len(await store.list_templates(department)) >= TEMPLATES_PER_DEPARTMENT_MAX:
            raise Conflict(
                msg("每个部门最多保存 {count} 个答复模板", count=TEMPLATES_PER_DEPARTMENT_MAX),
                code="too_many_templates",
            )
        await store.add_template(template)
        await audit.record(
            store,
            viewer,
            "add_template",
            f"department:{department}",
            detail={"template": template.id, "title": template.title},
        )
    return template


async def delete_template(store: Store, viewer: User | None, slug: Any, template_id: Any) -> None:
    """Remove one of the department's templates. Raises NotLoggedIn, NotFound (department, or
    no such template of it), Forbidden."""
    if viewer is None:
        raise NotLoggedIn()
    department = await _department(store, slug)
    if not may_keep(viewer, department):
        raise Forbidden("只有本部门工作人员和系统管理员可以维护答复模板")
    async with store.transaction():
        template = await store.get_template(template_id) if is_id(template_id) else None
        if template is None or template.department != department:
            raise NotFound("答复模板不存在")
        await store.delete_template(template.id)
        await audit.record(
            store,
            viewer,
            "delete_template",
            f"department:{department}",
            detail={"template": template.id, "title": template.title},
        )


async def for_reply(store: Store, viewer: User | None, post: Post) -> list[ReplyTemplate]:
    """The templates an official reply to `post` may start from: the lead department's, for
    its staff; [] for everyone else."""
    if post.department is None or not is_routed_staff(post, viewer):
        return []
    return await store.list_templates(post.department)


def chosen(templates: list[ReplyTemplate], template_id: Any) -> ReplyTemplate | None:
    """The template of these with this id (as a form or link gives it); None when none is."""
    return next((t for t in templates if t.id == template_id), None)
