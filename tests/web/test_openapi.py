"""The OpenAPI document against the application: every /api/v1 route documented with the methods
its handler implements, every documented operation served, the document valid OpenAPI 3.1, and
real responses of a journey through the API valid against the documented schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import tornado.web
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from forum import app as forum_app
from forum.model import Role
from forum.web import openapi
from forum.web.base import ApiHandler, BaseHandler, NotFoundApiHandler
from tests.support import files
from tests.support.people import login_as
from tests.support.web import multipart

METHODS = ("get", "post", "put", "patch", "delete")
# The regex groups of app.py and the parameter names API.md gives them.
GROUPS = {
    forum_app.ID: "{id}",
    forum_app.SLUG: "{slug}",
    forum_app.NAME: "{username}",
    r"([^/]{1,64})": "{code}",
}
SAMPLES = {
    "id": "0123456789abcdef01234567",
    "slug": "forum",
    "username": "nobody",
    "code": "ABCDEFGHJKLMNPQR",
}


def template(pattern: str) -> str:
    for group, name in GROUPS.items():
        pattern = pattern.replace(group, name)
    pattern = pattern.replace("\\.", ".")  # an escaped dot: /stats.csv
    assert "(" not in pattern and "\\" not in pattern, f"unnamed group in {pattern}"
    return pattern


def implemented(handler: type) -> set[str]:
    """The HTTP methods a handler class defines itself (not the RequestHandler stubs, nor
    anything BaseHandler or ApiHandler might add)."""
    inherited = (tornado.web.RequestHandler, BaseHandler, ApiHandler)
    return {
        method
        for method in METHODS
        if any(method in vars(cls) for cls in handler.__mro__ if cls not in inherited)
    }


def api_routes() -> dict[str, set[str]]:
    return {
        template(pattern): implemented(handler)
        for pattern, handler in forum_app.routes()
        if pattern.startswith("/api/v1/")
    }


def documented(doc: dict) -> dict[str, set[str]]:
    return {path: {m for m in item if m in METHODS} for path, item in doc["paths"].items()}


@pytest.fixture(scope="module")
def doc() -> dict:
    return openapi.document()


# both directions -----------------------------------------------------------------------------
def test_every_api_route_is_documented_with_its_methods(doc):
    routes, paths = api_routes(), documented(doc)
    assert routes, "no /api/v1 routes found"
    missing = {path: methods - paths.get(path, set()) for path, methods in routes.items()}
    assert not {p: m for p, m in missing.items() if m}, "routes or methods not documented"
    extra = {path: methods - routes.get(path, set()) for path, methods in paths.items()}
    assert not {p: m for p, m in extra.items() if m}, "documented but not served"
    assert routes == paths


def test_every_documented_operation_reaches_its_handler(app, doc):
    """Resolved through the application's own router: never the /api catch-all, never the
    pages' 404, and the handler implements the method."""
    for path, methods in documented(doc).items():
        concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)
        for method in methods:
            request = HTTPServerRequest(
                start_line=RequestStartLine(method.upper(), concrete, "HTTP/1.1"),
                headers=HTTPHeaders({"Host": "localhost"}),
                connection=None,
            )
            handler = app.find_handler(request).handler_class
            assert handler is not NotFoundApiHandler and issubclass(handler, ApiHandler), (
                method,
                path,
                handler,
            )
            assert method in implemented(handler), (method, path, handler)


@pytest.mark.gen_test
async def test_documented_operations_answer_neither_404_from_routing_nor_405(api, doc):
    for path, methods in documented(doc).items():
        concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)
        for method in methods:
            body = {} if method in ("post", "put", "patch") else None
            response = await api.call(method.upper(), concrete.removeprefix("/api/v1"), body)
            assert response.status != 405, (method, path)
            if response.status == 404:  # a record that does not exist, not an unknown route
                assert "{" in path, (method, path, response.text)


# the document itself -------------------------------------------------------------------------
def test_document_is_valid_openapi_3_1(doc):
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert doc["openapi"].startswith("3.1.")
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerToken"]["scheme"] == "bearer"
    assert (schemes["sessionCookie"]["in"], schemes["xsrfToken"]["name"]) == (
        "cookie",
        "X-XSRFToken",
    )
    error = doc["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(error["required"]) == {"code", "message"} and "fields" in error["properties"]


def test_document_names_the_field_limits_of_the_services(doc):
    paths = doc["paths"]

    def body(path, method="post"):
        return paths[path][method]["requestBody"]["content"]["application/json"]["schema"]

    register = body("/api/v1/auth/register")["properties"]
    assert register["username"]["pattern"] == "^[A-Za-z0-9_]{3,32}$"
    assert (register["password"]["minLength"], register["password"]["maxLength"]) == (8, 256)
    post = body("/api/v1/boards/{slug}/posts")["properties"]
    assert (post["title"]["minLength"], post["title"]["maxLength"]) == (1, 120)
    assert (post["body"]["minLength"], post["body"]["maxLength"]) == (1, 20000)
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 20)


def test_every_operation_lists_its_error_statuses(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            if op["security"][-1] != {}:  # logged-in callers only
                assert "401" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method != "get":
                assert {"403", "413"} <= codes, (method, path)
            for code in codes - {"200", "201", "202", "204"}:
                assert op["responses"][code]["$ref"].startswith("#/components/responses/")


@pytest.mark.gen_test
async def test_served_at_api_openapi_json(api, http_client, base_url, doc):
    response = await http_client.fetch(base_url + "/api/openapi.json")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.body) == json.loads(json.dumps(doc))
    wrong = await http_client.fetch(
        base_url + "/api/openapi.json", method="DELETE", raise_error=False
    )
    assert wrong.code == 405 and json.loads(wrong.body)["error"]["code"] == "method_not_allowed"


@pytest.mark.gen_test
async def test_reference_page_uses_the_vendored_renderer_under_a_strict_script_policy(
    http_client, base_url
):
    response = await http_client.fetch(base_url + "/api/docs")
    assert response.code == 200 and response.headers["Content-Type"].startswith("text/html")
    html = response.body.decode()
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert "<script>" not in html and "http" not in re.sub(r'href="[^"]*"', "", html)
    static = Path(__file__).resolve().parents[2] / "static"
    assert (static / "vendor/redoc/redoc.standalone.js").stat().st_size > 100_000
    assert "MIT" in (static / "vendor/redoc/LICENSE").read_text()
    for url in re.findall(r'(?:src|data-renderer)="([^"]+)"', html):
        served = await http_client.fetch(base_url + url)
        assert served.code == 200 and "javascript" in served.headers["Content-Type"]


# real responses against the documented schemas -----------------------------------------------
def inline(node: Any, doc: dict, seen: tuple[str, ...] = ()) -> Any:
    """The node with every local $ref replaced by what it points to (the document has no
    cycles; a cycle fails loudly)."""
    if isinstance(node, list):
        return [inline(item, doc, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = node["$ref"]
        assert target not in seen, f"cycle through {target}"
        found: Any = doc
        for part in target.removeprefix("#/").split("/"):
            found = found[part.replace("~1", "/").replace("~0", "~")]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return {**inline(found, doc, (*seen, target)), **inline(siblings, doc, seen)}
    return {key: inline(value, doc, seen) for key, value in node.items()}


def closed(node: Any) -> Any:
    """The schema with objects closed to undocumented fields, so the test also catches a field
    views.py sends that the document does not name (the document itself stays open, as API.md
    lets responses grow)."""
    if isinstance(node, list):
        return [closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: closed(value) for key, value in node.items()}
    types = node.get("type")
    if (
        (types == "object" or isinstance(types, list) and "object" in types)
        and "properties" in node
        and "additionalProperties" not in node
    ):
        result["unevaluatedProperties"] = False
    return result


class Contract:
    """Checks responses against the document and remembers what was checked."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.patterns = [
            (re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$"), path)
            for path in doc["paths"]
        ]
        self.checked: set[tuple[str, str, int]] = set()

    def operation(self, method: str, url: str) -> tuple[str, dict]:
        path = urlsplit(url).path
        matches = [template for pattern, template in self.patterns if pattern.match(path)]
        assert matches, f"{method} {path} is not documented"
        # a literal path wins over a template (/search/similar over /search/{...})
        template_path = min(matches, key=lambda t: t.count("{"))
        op = self.doc["paths"][template_path].get(method.lower())
        assert op is not None, f"{method} {template_path} is not documented"
        return template_path, op

    def check(self, response, expect: int | None = None):
        method, url = response.raw.request.method, response.raw.request.url
        path, op = self.operation(method, url)
        where = f"{method} {path} -> {response.status}"
        if expect is not None:
            assert response.status == expect, f"{where}: {response.text}"
        documented_response = op["responses"].get(str(response.status))
        assert documented_response is not None, f"{where} is not a documented status"
        documented_response = inline(documented_response, self.doc)
        content = documented_response.get("content")
        if content is None:
            assert not response.text, f"{where}: a body where none is documented"
        elif "application/json" not in content:
            kind = response.headers["Content-Type"].split(";")[0].strip()
            assert kind in content, f"{where}: {kind} is not a documented type"
        else:
            schema = closed(inline(content["application/json"]["schema"], self.doc))
            errors = sorted(
                Draft202012Validator(schema).iter_errors(response.json()),
                key=lambda e: list(e.absolute_path),
            )
            assert not errors, f"{where}: " + "; ".join(
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
            )
        self.checked.add((method, path, response.status))
        return response


@pytest.mark.gen_test(timeout=60)
async def test_a_journey_through_the_api_matches_the_documented_schemas(api, store, doc, segmenter):
    c = Contract(doc)
    ok = c.check

    # accounts
    ok(await api.register("alice", display_name="爱丽丝", email="alice@example.com"), 201)
    ok(await api.register("alice"), 409)
    ok(await api.register("x", password="short"), 422)
    ok(await api.post("/auth/login", {"username": "alice", "password": "wrong-password"}), 401)
    login = ok(
        await api.post("/auth/login", {"username": "alice", "password": "correct-horse-9"}), 200
    )
    alice = api.as_user(login.json()["token"])
    ok(await api.get("/me"), 401)
    ok(await alice.get("/me"), 200)
    ok(
        await alice.patch(
            "/me", {"email": "alice@example.org", "current_password": "correct-horse-9"}
        ),
        200,
    )
    ok(await alice.post("/auth/login", raw=b"{not json"), 400)
    bob = await login_as(api, store, "bob")
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    clerk = await login_as(api, store, "clerk", Role.STAFF, department="housing")
    lawyer = await login_as(api, store, "lawyer", Role.LAWYER)
    root = await login_as(api, store, "root", Role.ADMIN)

    # boards, posts, replies
    ok(await api.get("/boards"), 200)
    created = ok(
        await alice.post(
            "/boards/forum/posts", {"title": "城区停车难怎么办", "body": "**建议**增加停车位"}
        ),
        201,
    )
    post_id = created.json()["post"]["id"]
    ok(await alice.post("/boards/forum/posts", {"title": "", "body": "x" * 20001}), 422)
    ok(await api.post("/boards/forum/posts", {"title": "t", "body": "b"}), 401)
    ok(await api.post("/boards/nowhere/posts", {"title": "t", "body": "b"}), 404)
    ok(await api.get("/boards/forum/posts"), 200)
    ok(await api.get("/boards/forum/posts?limit=0"), 422)
    ok(await bob.post(f"/posts/{post_id}/replies", {"body": "同意"}), 201)
    ok(await api.get(f"/posts/{post_id}/replies"), 200)
    ok(await bob.patch(f"/posts/{post_id}", {"title": "改别人的"}), 403)
    ok(await alice.patch(f"/posts/{post_id}", {"title": "城区停车难，怎么办？"}), 200)
    ok(await alice.get(f"/posts/{post_id}"), 200)
    ok(await api.get("/posts/0123456789abcdef01234567"), 404)
    ok(await api.post("/preview", {"body": "*预览*"}), 200)
    ok(await bob.post(f"/posts/{post_id}/flag", {"reason": "广告"}), 201)
    ok(await bob.post(f"/posts/{post_id}/flag", {"reason": "广告"}), 409)

    # search, statistics, departments
    ok(await api.get("/search?q=停车"), 200)
    ok(await api.get("/search"), 422)
    ok(await api.get("/search/similar?title=停车难"), 200)
    ok(await api.get("/departments"), 200)
    ok(await api.get("/stats"), 200)
    ok(await api.get("/stats?from=2026-13-01"), 422)
    ok(await api.get("/stats.csv?by=department&from=2026-01-01"), 200)
    ok(await api.get("/stats.csv?by=street"), 422)
    ok(await api.get("/departments/housing/record"), 200)
    ok(await api.get("/departments/nowhere/record"), 404)

    # a consultation
    question = ok(
        await alice.post(
            "/boards/lawyer/posts",
            {
                "title": "劳动合同到期不续签有补偿吗",
                "body": "公司说不续签",
                "category": "劳动",
                "anonymous": True,
            },
        ),
        201,
    ).json()["post"]["id"]
    ok(await lawyer.get("/workspace?all=1"), 200)
    ok(await alice.get("/workspace"), 403)
    answer = ok(
        await lawyer.post(f"/posts/{question}/replies", {"body": "有经济补偿。"}), 201
    ).json()["reply"]["id"]
    ok(await alice.post(f"/posts/{question}/accept", {"reply_id": answer}), 200)
    ok(await api.get("/users/lawyer"), 200)
    ok(await api.get("/users/alice"), 404)

    # the knowledge base
    made = ok(
        await lawyer.post(
            "/faq",
            {"post_id": question, "question": "不续签有补偿吗", "answer": "有**经济补偿**。"},
        ),
        201,
    ).json()["faq"]
    ok(await lawyer.post("/faq", {"post_id": question, "question": ""}), 422)
    ok(await bob.post("/faq", {"post_id": question, "question": "q", "answer": "a"}), 403)
    ok(
        await lawyer.post(
            "/faq", {"post_id": "0123456789abcdef01234567", "question": "q", "answer": "a"}
        ),
        404,
    )
    ok(await api.get("/faq?board=lawyer"), 200)
    ok(await api.get("/faq?board=nowhere"), 422)
    ok(await api.get("/search?q=补偿"), 200)
    ok(await api.get("/search/similar?title=不续签有补偿吗&board=lawyer"), 200)
    ok(await lawyer.call("DELETE", f"/faq/{made['id']}"), 403)
    ok(await mod.call("DELETE", f"/faq/{made['id']}"), 204)
    ok(await mod.call("DELETE", f"/faq/{made['id']}"), 404)

    # a mayor letter from submission to rating, and a tax report followed by its code
    letter = ok(
        await alice.post(
            "/boards/mayor/posts",
            {
                "title": "小区门口路灯不亮",
                "body": "一个月了",
                "category": "城乡建设",
                "letter_type": "complaint",
                "area": "city",
                "contact": "13812345678",
                "public": True,
            },
        ),
        201,
    ).json()["post"]["id"]
    body, content_type = multipart([("files", "photo.png", files.png())])
    ok(
        await alice.call(
            "POST", f"/posts/{letter}/attachments", raw=body, headers={"Content-Type": content_type}
        ),
        201,
    )
    ok(await mod.get("/moderation/queue"), 200)
    ok(await alice.get("/moderation/queue"), 403)
    ok(await mod.post(f"/posts/{letter}/moderate", {"action": "explode"}), 422)
    ok(await mod.post(f"/posts/{letter}/moderate", {"action": "accept"}), 200)
    ok(await mod.post(f"/posts/{letter}/moderate", {"action": "accept"}), 409)
    ok(await mod.post(f"/posts/{letter}/route", {"department": "police"}), 200)
    ok(await clerk.post(f"/posts/{letter}/return", {"reason": "不属于公安"}), 403)
    ok(await mod.post(f"/posts/{letter}/route", {"department": "housing", "due_days": 5}), 200)
    ok(await clerk.get("/departments/housing/cases"), 200)
    ok(await bob.get("/departments/housing/cases"), 403)
    ok(await clerk.get("/departments/housing/cases?role=helper&status=closed"), 200)
    ok(await clerk.get("/departments/housing/cases?officer=me"), 200)
    ok(await clerk.get("/departments/housing/cases?role=boss"), 422)
    kept = ok(
        await clerk.post(
            "/departments/housing/templates", {"title": "已安排维修", "body": "您好，已安排维修。"}
        ),
        201,
    )
    ok(await clerk.post("/departments/housing/templates", {"title": "", "body": 3}), 422)
    ok(await bob.post("/departments/housing/templates", {"title": "t", "body": "b"}), 403)
    ok(await clerk.get("/departments/housing/templates"), 200)
    ok(await bob.get("/departments/housing/templates"), 403)
    ok(await clerk.get("/departments/nowhere/templates"), 404)
    ok(
        await clerk.call(
            "DELETE", f"/departments/housing/templates/{kept.json()['template']['id']}"
        ),
        204,
    )
    ok(await clerk.post(f"/posts/{letter}/replies", {"body": "已安排维修。"}), 201)
    thread = ok(await alice.get(f"/posts/{letter}"), 200).json()
    ok(await alice.get(thread["attachments"][0]["url"].removeprefix("/api/v1")), 200)
    ok(await alice.post(f"/posts/{letter}/rating", {"score": "satisfied"}), 200)
    ok(await alice.post(f"/posts/{letter}/rating", {"score": "satisfied"}), 409)
    report = ok(await api.post("/boards/tax/posts", {"title": "虚开发票", "body": "某公司"}), 201)
    ok(await api.get(f"/track/{report.json()['tracking_code']}"), 200)
    ok(await api.get("/track/NOSUCHCODE234567"), 404)
    ok(
        await clerk.post(
            "/boards/hotline/posts",
            {
                "title": "路灯维修答复",
                "body": "已修复",
                "category": "城乡建设",
                "letter_type": "complaint",
                "area": "city",
                "case_number": "12345-2026-0001",
                "received_on": "2026-11-02",
                "department": "housing",
            },
        ),
        201,
    )
    ok(await api.get("/boards/hotline/posts"), 200)

    # notifications
    ok(await alice.get("/notifications"), 200)
    ok(await alice.post("/notifications/read", {"ids": "all"}), 422)
    ok(await alice.post("/notifications/read", {}), 200)

    # following
    followed = ok(await bob.post("/subscriptions", {"target": f"post:{post_id}"}), 201)
    ok(await bob.post("/subscriptions", {"target": f"post:{post_id}"}), 200)
    ok(await bob.post("/subscriptions", {"target": "board:tax"}), 404)
    ok(await bob.post("/subscriptions", {"target": "user:alice"}), 422)
    ok(await api.post("/subscriptions", {"target": "board:forum"}), 401)
    ok(await bob.get("/subscriptions"), 200)
    ok(await alice.call("DELETE", f"/subscriptions/{followed.json()['subscription']['id']}"), 404)
    ok(await bob.call("DELETE", f"/subscriptions/{followed.json()['subscription']['id']}"), 204)

    # administration
    ok(await root.get("/admin/users?q=a"), 200)
    ok(await bob.get("/admin/users"), 403)
    ok(await root.call("PUT", "/admin/users/lawyer", {"specialties": ["劳动"]}), 200)
    ok(await root.call("PUT", "/admin/users/lawyer", {"karma": 1}), 422)
    ok(await root.call("PUT", "/admin/users/nobody", {"disabled": True}), 404)
    ok(await root.get("/admin/audit"), 200)
    ok(await root.post("/admin/departments", {"slug": "water", "name": "水务局"}), 201)
    ok(await root.post("/admin/departments", {"slug": "water", "name": "水务局"}), 409)
    ok(await root.call("PUT", "/admin/boards/forum", {"description": "市民交流"}), 200)
    ok(await root.get("/admin/sensitive-words"), 200)
    ok(await root.call("PUT", "/admin/sensitive-words", {"words": ["赌博"]}), 200)
    issued = ok(await root.post("/admin/api-keys", {"name": "12345 热线系统"}), 201).json()
    ok(await bob.post("/admin/api-keys", {"name": "x"}), 403)
    ok(await root.get("/admin/api-keys"), 200)
    ok(await root.call("DELETE", f"/admin/api-keys/{issued['api_key']['id']}?reason=停用"), 200)
    ok(await root.call("DELETE", "/admin/api-keys/0123456789abcdef01234567"), 404)
    ok(await root.get("/admin/calendar"), 200)
    ok(await root.call("PUT", "/admin/calendar", {"holidays": ["2026-10-01"], "workdays": []}), 200)

    # a new password ends the other sessions; logging out ends the token
    ok(
        await alice.post(
            "/auth/password",
            {"current_password": "wrong-password", "new_password": "another-horse-7"},
        ),
        422,
    )
    changed = ok(
        await alice.post(
            "/auth/password",
            {"current_password": "correct-horse-9", "new_password": "another-horse-7"},
        ),
        200,
    )
    ok(await alice.get("/me"), 401)
    alice = api.as_user(changed.json()["token"])
    ok(await alice.post("/auth/logout"), 204)
    ok(await alice.get("/me"), 401)

    statuses = {status for _, _, status in c.checked}
    assert {200, 201, 204, 400, 401, 403, 404, 409, 422} <= statuses
