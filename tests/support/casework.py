"""A mayor letter taken through its lifecycle by the services, for tests that need one in a
given state."""

from __future__ import annotations

from forum.services import cases, moderation, posting

STEPS = ("submitted", "accepted", "routed", "replied", "closed")


async def letter_until(
    store, writer, mod, clerk, until: str, *, title: str = "路灯不亮", department: str = "housing"
):
    """A public letter by `writer`, accepted and routed by `mod`, answered by `clerk` (staff
    of `department`) and rated satisfied, as far as `until` (one of STEPS). Its view."""
    view = await posting.create_post(
        store,
        writer,
        "mayor",
        {
            "title": title,
            "body": "请处理",
            "letter_type": "complaint",
            "area": "city",
            "contact": "138",
            "public": True,
        },
    )
    reached = STEPS.index(until)
    if reached >= 1:
        await moderation.moderate(store, mod, view.post.id, "accept")
    if reached >= 2:
        await cases.route_case(store, mod, view.post.id, department)
    if reached >= 3:
        await posting.add_reply(store, clerk, view.post.id, "已处理")
    if reached >= 4:
        await cases.rate_case(store, writer, view.post.id, "satisfied")
    return view
