"""Case handling through the JSON API: the journeys, and who may do what with public, private
and confidential cases."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from PIL import Image

from forum.model import Role
from tests.support import files
from tests.support.people import login_as
from tests.support.web import multipart

LETTER = {
    "title": "小区门口路灯不亮",
    "body": "一个月了",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13812345678",
    "public": True,
}


async def upload(client, post_id, *items):
    body, content_type = multipart([("files", name, data) for name, data in items])
    return await client.call(
        "POST", f"/posts/{post_id}/attachments", raw=body, headers={"Content-Type": content_type}
    )


@pytest.mark.gen_test
async def test_mayor_letter_journey(api, store):
    writer = await login_as(api, store, "writer")
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    staff = await login_as(api, store, "clerk", Role.STAFF, department="housing")

    created = await writer.post("/boards/mayor/posts", LETTER)
    assert created.status == 201 and len(created.json()["tracking_code"]) == 34  # 7 groups of 4
    post_id = created.json()["post"]["id"]
    assert (await api.get(f"/posts/{post_id}")).status == 404  # invisible until accepted

    queue = (await mod.get("/moderation/queue")).json()
    assert queue["counts"]["submitted"] == 1 and queue["items"][0]["kind"] == "submitted"
    accepted = await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})
    assert accepted.status == 200 and accepted.json()["post"]["status"] == "accepted"
    routed = await mod.post(f"/posts/{post_id}/route", {"department": "housing", "due_days": 5})
    assert routed.status == 200 and routed.json()["post"]["department"] == "housing"

    listed = (await staff.get("/departments/housing/cases")).json()
    assert [p["id"] for p in listed["items"]] == [post_id]
    assert listed["items"][0]["contact"] == "13812345678"
    assert (await api.get(f"/posts/{post_id}")).json()["post"]["contact"] is None

    reply = await staff.post(f"/posts/{post_id}/replies", {"body": "已安排维修。"})
    assert reply.status == 201 and reply.json()["reply"]["kind"] == "official"
    rated = await writer.post(f"/posts/{post_id}/rating", {"score": "satisfied"})
    assert rated.status == 200 and rated.json()["post"]["status"] == "closed"
    again = await writer.post(f"/posts/{post_id}/rating", {"score": "satisfied"})
    assert again.status == 409

    thread = (await writer.get(f"/posts/{post_id}")).json()
    assert [e["action"] for e in thread["events"]] == [
        "create",
        "accept",
        "route",
        "official",
        "rate_satisfied",
    ]
    figures = (await api.get("/stats")).json()
    assert figures["boards"]["mayor"]["closed"] == 1
    assert figures["departments"]["housing"]["completion_rate"] == 1.0
    audit = (await login_as(api, store, "root", Role.ADMIN)).get
    entries = (await audit(f"/admin/audit?post_id={post_id}")).json()["items"]
    assert {e["action"] for e in entries} == {"accept", "route", "official_reply"}
    # who acted, by name and role, not an opaque id
    assert {(e["action"], e["actor"]["username"], tuple(e["actor"]["roles"])) for e in entries} == {
        ("accept", "mod", ("citizen", "moderator")),
        ("route", "mod", ("citizen", "moderator")),
        ("official_reply", "clerk", ("citizen", "staff")),
    }


@pytest.mark.gen_test
async def test_anonymous_tax_report_and_tracking(api, store):
    created = await api.post("/boards/tax/posts", {"title": "虚开发票", "body": "某公司"})
    assert created.status == 201
    code = created.json()["tracking_code"]
    post_id = created.json()["post"]["id"]
    assert (await api.get(f"/posts/{post_id}")).status == 404
    tracked = await api.get(f"/track/{code}")
    assert tracked.status == 200 and tracked.json()["post"]["id"] == post_id
    assert (await api.get("/track/AAAAAAAAAAAAAAAA")).status == 404
    assert (await api.get("/boards/tax/posts")).json()["items"] == []


@pytest.mark.gen_test
async def test_case_bad_input(api, store):
    writer = await login_as(api, store, "writer")
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    no_contact = await writer.post(
        "/boards/mayor/posts",
        {**LETTER, "letter_type": "complaint", "area": "city", "contact": None},
    )
    assert no_contact.status == 422 and "contact" in no_contact.error["fields"]
    post_id = (await writer.post("/boards/mayor/posts", LETTER)).json()["post"]["id"]
    for body, field in (
        ({"action": "reject"}, "reason"),
        ({"action": "nuke"}, "action"),
        ({"action": {"$ne": 1}}, "action"),
        ({}, "action"),
    ):
        response = await mod.post(f"/posts/{post_id}/moderate", body)
        assert response.status == 422 and field in response.error["fields"], body
    await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})
    unknown = await mod.post(f"/posts/{post_id}/route", {"department": "mars"})
    assert unknown.status == 422 and "department" in unknown.error["fields"]
    early = await writer.post(f"/posts/{post_id}/rating", {"score": "satisfied"})
    assert early.status == 409
    bad_score = await writer.post(f"/posts/{post_id}/rating", {"score": "great"})
    assert bad_score.status == 422
    assert (await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})).status == 409


@pytest.mark.gen_test
async def test_attachments_are_checked_cleaned_and_guarded(api, store):
    writer = await login_as(api, store, "writer")
    other = await login_as(api, store, "other")
    post_id = (await writer.post("/boards/mayor/posts", LETTER)).json()["post"]["id"]
    saved = await upload(
        writer, post_id, ("现场.jpg", files.jpeg_with_location()), ("证明.pdf", files.PDF)
    )
    assert saved.status == 201
    items = saved.json()["items"]
    assert [i["content_type"] for i in items] == ["image/jpeg", "application/pdf"]
    downloaded = await writer.get(f"/attachments/{items[0]['id']}")
    assert downloaded.status == 200
    assert downloaded.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in downloaded.headers["Content-Security-Policy"]
    with Image.open(io.BytesIO(downloaded.raw.body)) as image:
        assert files.GPS_TAG not in image.getexif() and 0x010F not in image.getexif()
    assert (await other.get(f"/attachments/{items[0]['id']}")).status == 404
    assert (await api.get(f"/attachments/{items[0]['id']}")).status == 404
    fake = await upload(writer, post_id, ("x.jpg", b"<script>alert(1)</script>"))
    assert fake.status == 422 and "files" in fake.error["fields"]
    broken = await upload(writer, post_id, ("x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20))
    assert broken.status == 422
    too_many = await upload(writer, post_id, *[(f"{i}.png", files.png()) for i in range(4)])
    assert too_many.status == 422
    assert (await upload(other, post_id, ("x.png", files.png()))).status == 404
    huge = await upload(writer, post_id, ("big.pdf", b"%PDF-" + b"0" * 10_000_001))
    # Over 10 MB: 413, naming the field, refused as it arrives (tests/web/test_uploads.py).
    assert huge.status == 413 and huge.error["code"] == "too_large"
    assert "10 MB" in huge.error["fields"]["files"]
    thread = (await writer.get(f"/posts/{post_id}")).json()
    assert len(thread["attachments"]) == 2


ROLES = ["visitor", "citizen", "writer", "other_staff", "routed_staff", "moderator", "admin"]
CASES = ["public", "private", "confidential"]


@pytest.mark.gen_test
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("role", ROLES)
async def test_case_permission_matrix(api, store, role, case):
    """Reading, listing, replying, rating, routing and downloading, for each role and case."""
    writer = await login_as(api, store, "writer")
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    board = "tax" if case == "confidential" else "mayor"
    department = "tax" if case == "confidential" else "housing"
    body = {
        "title": "事项",
        "body": "内容",
        "letter_type": "complaint",
        "area": "city",
        "contact": "13812345678",
    }
    if board == "mayor":
        body["public"] = case == "public"
    post_id = (await writer.post(f"/boards/{board}/posts", body)).json()["post"]["id"]
    attachment = (await upload(writer, post_id, ("a.png", files.png()))).json()["items"][0]["id"]
    await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})
    await mod.post(f"/posts/{post_id}/route", {"department": department})
    routed_staff = await login_as(api, store, "routed_clerk", Role.STAFF, department=department)
    assert (await routed_staff.post(f"/posts/{post_id}/replies", {"body": "答复"})).status == 201

    client = {
        "visitor": lambda: api.as_user(None),
        "citizen": lambda: login_as(api, store, "citizen"),
        "writer": lambda: writer,
        "other_staff": lambda: login_as(api, store, "other_clerk", Role.STAFF, department="police"),
        "routed_staff": lambda: routed_staff,
        "moderator": lambda: mod,
        "admin": lambda: login_as(api, store, "root", Role.ADMIN),
    }[role]()
    if not isinstance(client, type(api)):
        client = await client

    insiders = {"writer", "routed_staff", "moderator", "admin"}
    sees = role in insiders or case == "public"
    hidden = 404

    read = await client.get(f"/posts/{post_id}")
    assert read.status == (200 if sees else hidden)
    listed = [p["id"] for p in (await client.get(f"/boards/{board}/posts")).json()["items"]]
    assert (post_id in listed) == (case == "public" or role in {"moderator", "admin"})
    found = [
        r["post"]["id"] for r in (await client.get("/search?q=" + quote("事项"))).json()["items"]
    ]
    assert (post_id in found) == sees

    reply = await client.post(f"/posts/{post_id}/replies", {"body": "再说一句"})
    # One official reply per routing: the department has given it, the writer rates it.
    expected_reply = {"visitor": 401, "writer": 201, "routed_staff": 409}.get(
        role, 403 if sees else hidden
    )
    assert reply.status == expected_reply, reply.text

    rating = await client.post(f"/posts/{post_id}/rating", {"score": "basically_satisfied"})
    expected_rating = {"visitor": 401, "writer": 200}.get(role, 403 if sees else hidden)
    assert rating.status == expected_rating, rating.text

    route = await client.post(f"/posts/{post_id}/route", {"department": department})
    if role in {"moderator", "admin"}:
        expected_route = 409  # allowed to route, but a replied case is not re-routed
    elif role == "visitor":
        expected_route = 401
    else:
        expected_route = 403 if sees else hidden
    assert route.status == expected_route, route.text

    download = await client.get(f"/attachments/{attachment}")
    assert download.status == (200 if role in insiders else 404)
