"""Reply templates through the JSON API: the permission matrix, bad input on every path."""

from __future__ import annotations

import pytest

from forum import limits
from forum.model import Role
from tests.support.people import login_as

PATH = "/departments/housing/templates"
ROLES = {
    "clerk": (Role.STAFF, "housing"),
    "police": (Role.STAFF, "police"),
    "mod": (Role.MODERATOR, None),
    "root": (Role.ADMIN, None),
    "citizen": (None, None),
    "lawyer": (Role.LAWYER, None),
    "expert": (Role.EXPERT, None),
}


async def as_(api, store, name):
    role, department = ROLES[name]
    return await login_as(api, store, name, *([role] if role else []), department=department)


async def kept(api, store, title="已安排维修"):
    clerk = await as_(api, store, "clerk")
    made = await clerk.post(PATH, {"title": title, "body": "您好，已安排维修。"})
    assert made.status == 201, made.text
    return made.json()["template"]


@pytest.mark.gen_test
async def test_staff_add_list_and_delete_their_templates(api, store):
    clerk = await as_(api, store, "clerk")
    first = await kept(api, store, "甲")
    second = await kept(api, store, "乙")
    assert first["department"] == "housing" and first["body"] == "您好，已安排维修。"
    listed = await clerk.get(PATH)
    assert listed.status == 200
    assert [t["id"] for t in listed.json()["items"]] == [second["id"], first["id"]]
    assert listed.json()["next_cursor"] is None
    gone = await clerk.call("DELETE", f"{PATH}/{first['id']}")
    assert gone.status == 204 and gone.text == ""
    assert [t["id"] for t in (await clerk.get(PATH)).json()["items"]] == [second["id"]]
    again = await clerk.call("DELETE", f"{PATH}/{first['id']}")
    assert again.status == 404


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "name, reads, keeps",
    [
        ("clerk", 200, True),
        ("root", 200, True),
        ("mod", 200, False),
        ("police", 403, False),
        ("citizen", 403, False),
        ("lawyer", 403, False),
        ("expert", 403, False),
    ],
)
async def test_who_reads_and_keeps_a_departments_templates(api, store, name, reads, keeps):
    template = await kept(api, store)
    caller = await as_(api, store, name)
    assert (await caller.get(PATH)).status == reads
    added = await caller.post(PATH, {"title": "新模板", "body": "正文"})
    assert added.status == (201 if keeps else 403), added.text
    removed = await caller.call("DELETE", f"{PATH}/{template['id']}")
    assert removed.status == (204 if keeps else 403)


@pytest.mark.gen_test
async def test_visitors_are_asked_to_log_in(api, store):
    template = await kept(api, store)
    assert (await api.get(PATH)).status == 401
    assert (await api.post(PATH, {"title": "t", "body": "b"})).status == 401
    assert (await api.call("DELETE", f"{PATH}/{template['id']}")).status == 401


@pytest.mark.gen_test
async def test_unknown_departments_and_ids(api, store):
    template = await kept(api, store)
    root = await as_(api, store, "root")
    assert (await root.get("/departments/nowhere/templates")).status == 404
    assert (
        await root.post("/departments/nowhere/templates", {"title": "t", "body": "b"})
    ).status == 404
    for path in (
        f"/departments/police/templates/{template['id']}",  # not police's
        f"{PATH}/0123456789abcdef01234567",
        f"{PATH}/not-an-id",
        f"/departments/nowhere/templates/{template['id']}",
    ):
        assert (await root.call("DELETE", path)).status == 404, path
    assert len((await root.get(PATH)).json()["items"]) == 1


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "body, wrong",
    [
        ({}, {"title", "body"}),
        ({"title": "t"}, {"body"}),
        ({"body": "b"}, {"title"}),
        ({"title": 1, "body": "b"}, {"title"}),
        ({"title": "t", "body": ["b"]}, {"body"}),
        ({"title": "t" * (limits.TEMPLATE_TITLE_MAX + 1), "body": "b"}, {"title"}),
        ({"title": "t", "body": "b" * (limits.TEMPLATE_BODY_MAX + 1)}, {"body"}),
    ],
)
async def test_bad_template_fields_are_422_naming_them(api, store, body, wrong):
    clerk = await as_(api, store, "clerk")
    refused = await clerk.post(PATH, body)
    assert refused.status == 422
    assert set(refused.error["fields"]) == wrong


@pytest.mark.gen_test
async def test_malformed_bodies_are_400(api, store):
    clerk = await as_(api, store, "clerk")
    assert (await clerk.post(PATH, raw=b"{not json")).status == 400
    assert (await clerk.post(PATH, raw=b"[1, 2]")).status == 400
    assert (await clerk.get(PATH)).json()["items"] == []


@pytest.mark.gen_test
async def test_a_retried_create_with_its_key_makes_one_template(api, store):
    clerk = await as_(api, store, "clerk")
    headers = {"Idempotency-Key": "tpl-1"}
    first = await clerk.post(PATH, {"title": "t", "body": "b"}, headers=headers)
    again = await clerk.post(PATH, {"title": "t", "body": "b"}, headers=headers)
    assert first.status == again.status == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len((await clerk.get(PATH)).json()["items"]) == 1


@pytest.mark.gen_test
async def test_foreign_fields_in_the_body_set_nothing(api, store):
    from tests.web.test_mass_assignment import FOREIGN

    clerk = await as_(api, store, "clerk")
    made = await clerk.post(PATH, {**FOREIGN, "title": "t", "body": "b"})
    assert made.status == 201, made.text
    kept = await store.get_template(made.json()["template"]["id"])
    assert kept.department == "housing" and kept.id != FOREIGN["id"]
    assert kept.author_id == (await store.get_user_by_name("clerk")).id
    assert kept.created_at.year > 2000
    assert await store.list_templates("police") == []
