"""Reply templates (答复模板) without HTTP (forum/services/templates.py): who keeps and reads a
department's templates, what is checked, and the templates an official reply may start from."""

from __future__ import annotations

import pytest

from forum import limits
from forum.errors import Conflict, Forbidden, Invalid, NotFound, NotLoggedIn
from forum.model import Role, new_id
from forum.services import templates
from tests.support.casework import letter_until
from tests.support.people import person


async def people(store):
    return {
        "clerk": await person(store, "clerk", Role.STAFF, department="housing"),
        "other_clerk": await person(store, "police_clerk", Role.STAFF, department="police"),
        "mod": await person(store, "mod", Role.MODERATOR),
        "admin": await person(store, "root", Role.ADMIN),
        "citizen": await person(store, "citizen"),
        "lawyer": await person(store, "lawyer", Role.LAWYER),
    }


@pytest.mark.gen_test
async def test_staff_keep_their_departments_templates_newest_first(store):
    who = await people(store)
    first = await templates.add_template(
        store, who["clerk"], "housing", "已安排维修", "您好，已安排维修人员三日内上门。"
    )
    second = await templates.add_template(
        store, who["admin"], "housing", " 不属于本部门 ", "您好，此事由物业负责。"
    )
    assert second.title == "不属于本部门" and second.department == "housing"
    assert [t.id for t in await templates.list_templates(store, who["clerk"], "housing")] == [
        second.id,
        first.id,
    ]
    # moderators read them, as they read the department's cases
    assert len(await templates.list_templates(store, who["mod"], "housing")) == 2
    await templates.delete_template(store, who["clerk"], "housing", first.id)
    assert [t.id for t in await templates.list_templates(store, who["admin"], "housing")] == [
        second.id
    ]
    actions = [
        e.action
        for e in await store.list_audit(
            actor_id=None, target="department:housing", after=None, limit=10
        )
    ]
    assert sorted(actions) == ["add_template", "add_template", "delete_template"]


@pytest.mark.gen_test
@pytest.mark.parametrize("name", ["other_clerk", "citizen", "lawyer"])
async def test_others_may_not_read_a_departments_templates(store, name):
    who = await people(store)
    await templates.add_template(store, who["clerk"], "housing", "模板", "正文")
    with pytest.raises(Forbidden):
        await templates.list_templates(store, who[name], "housing")


@pytest.mark.gen_test
@pytest.mark.parametrize("name", ["other_clerk", "citizen", "lawyer", "mod"])
async def test_only_its_staff_and_admins_add_or_delete_templates(store, name):
    who = await people(store)
    kept = await templates.add_template(store, who["clerk"], "housing", "模板", "正文")
    with pytest.raises(Forbidden):
        await templates.add_template(store, who[name], "housing", "模板", "正文")
    with pytest.raises(Forbidden):
        await templates.delete_template(store, who[name], "housing", kept.id)
    assert len(await store.list_templates("housing")) == 1


@pytest.mark.gen_test
async def test_visitors_unknown_departments_and_unknown_templates(store):
    who = await people(store)
    with pytest.raises(NotLoggedIn):
        await templates.list_templates(store, None, "housing")
    with pytest.raises(NotLoggedIn):
        await templates.add_template(store, None, "housing", "模板", "正文")
    for slug in ("nowhere", None, 3):
        with pytest.raises(NotFound):
            await templates.list_templates(store, who["admin"], slug)
    kept = await templates.add_template(store, who["other_clerk"], "police", "模板", "正文")
    for template_id in (new_id(), "bad", None, kept.id):  # another department's is not ours
        with pytest.raises(NotFound):
            await templates.delete_template(store, who["admin"], "housing", template_id)


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "title, body, wrong",
    [
        (None, "正文", {"title"}),
        ("", "正文", {"title"}),
        ("模板", None, {"body"}),
        ("模板", "   ", {"body"}),
        (3, ["x"], {"title", "body"}),
        ("长" * (limits.TEMPLATE_TITLE_MAX + 1), "正文", {"title"}),
        ("模板", "长" * (limits.TEMPLATE_BODY_MAX + 1), {"body"}),
        ("模\u200b板", "正文", {"title"}),
    ],
)
async def test_template_fields_are_checked(store, title, body, wrong):
    who = await people(store)
    with pytest.raises(Invalid) as refused:
        await templates.add_template(store, who["clerk"], "housing", title, body)
    assert set(refused.value.fields) == wrong
    assert await store.list_templates("housing") == []


@pytest.mark.gen_test
async def test_a_department_keeps_at_most_so_many_templates(store, monkeypatch):
    who = await people(store)
    monkeypatch.setattr(templates, "TEMPLATES_PER_DEPARTMENT_MAX", 2)
    for n in range(2):
        await templates.add_template(store, who["clerk"], "housing", f"模板{n}", "正文")
    with pytest.raises(Conflict) as refused:
        await templates.add_template(store, who["clerk"], "housing", "再来一个", "正文")
    assert refused.value.code == "too_many_templates"


@pytest.mark.gen_test
async def test_an_official_reply_starts_from_the_lead_departments_templates(store):
    who = await people(store)
    writer = await person(store, "writer")
    kept = await templates.add_template(store, who["clerk"], "housing", "模板", "您好，")
    await templates.add_template(store, who["other_clerk"], "police", "别的", "别的")
    routed = (await letter_until(store, writer, who["mod"], who["clerk"], "routed")).post
    case = await store.get_post(routed.id)
    offered = await templates.for_reply(store, who["clerk"], case)
    assert [t.id for t in offered] == [kept.id]
    assert templates.chosen(offered, kept.id) == kept
    assert templates.chosen(offered, "nope") is None
    for name in ("other_clerk", "mod", "citizen"):
        assert await templates.for_reply(store, who[name], case) == []
    assert await templates.for_reply(store, writer, case) == []
    assert await templates.for_reply(store, None, case) == []
