"""Operations: their parameters, error responses and security, and the builder of an operation
object."""

from __future__ import annotations

from typing import Iterable

from forum import limits
from forum.services.fields import Field
from forum.web.base import MAX_BODY_BYTES
from forum.web.openapi.schema import JSON, Schema, describe, integer, obj, ref, schema_of, string


def parameter(
    where: str, name: str, schema: Schema, description: str, *, required: bool = False
) -> Schema:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema,
    }


def param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


def query(name: str, schema: Schema, description: str, *, required: bool = False) -> Schema:
    return parameter("query", name, schema, description, required=required)


def query_of(name: str, definition: Field, description: str) -> Schema:
    """A query parameter the services check with `definition`."""
    return query(name, schema_of(definition), description, required=definition.required)


PARAMETERS = {
    "id": parameter(
        "path",
        "id",
        string(pattern="^[0-9a-fA-F]{24}$"),
        "the id of the post (attachment, API key) the path names",
    ),
    "slug": parameter(
        "path",
        "slug",
        string(1, 32, pattern="^[a-z0-9_-]{1,32}$"),
        "a board's or a department's slug",
    ),
    "username": parameter(
        "path", "username", string(1, 32, pattern="^[A-Za-z0-9_]{1,32}$"), "a username"
    ),
    "code": parameter(
        "path",
        "code",
        string(1, 64),
        "the tracking code shown once when the case was submitted: 28 characters "
        "of `A-HJ-NP-Z2-9` in groups of 4 joined by `-` (140 bits), read in any "
        "case with or without the dashes; codes of 16 characters handed out "
        "before stay valid. Any other code answers 404",
    ),
    "idempotencyKey": parameter(
        "header",
        "Idempotency-Key",
        string(1, 64, pattern="^[\\x21-\\x7e]{1,64}$"),
        "makes the create safe to retry: the same key from the same caller (the account, or "
        "the address for visitors) within 24 hours answers the first result again, with "
        "`Idempotent-Replayed: true`, and creates nothing; the same key with a different body "
        "is a 422, and a malformed key (empty, over 64, not visible ASCII) too. A retry that "
        "arrives while the first is still running waits for it briefly, then answers 409. "
        "Only successful creates are remembered: a refused one leaves the key free",
    ),
    "limit": query(
        "limit",
        integer(1, limits.LIST_LIMIT_MAX, default=limits.LIST_LIMIT_DEFAULT),
        f"items per page, 1 to {limits.LIST_LIMIT_MAX}",
    ),
    "cursor": query("cursor", string(), "opaque: `next_cursor` of the previous page"),
}

ERRORS = {
    400: (
        "BadRequest",
        "Malformed: the body is not a JSON object (or, for uploads, not "
        "multipart/form-data); or a value of none of the shapes a field takes "
        "(a follow's `target`), named in `error.fields`.",
    ),
    401: ("Unauthorized", "Not logged in (or, for login, wrong username or password)."),
    403: (
        "Forbidden",
        "Logged in but not allowed; or a cookie-authenticated write without the XSRF token.",
    ),
    404: (
        "NotFound",
        "Absent, or present but not visible to the caller (confidential content "
        "never answers 403).",
    ),
    409: (
        "Conflict",
        "Conflicts with the current state (a taken name, a transition the "
        "lifecycle does not allow, a locked post, ...).",
    ),
    413: (
        "PayloadTooLarge",
        f"The body is over the limit ({MAX_BODY_BYTES // (1 << 20)} MiB; uploads 10 MB a file).",
    ),
    422: (
        "UnprocessableEntity",
        "A field is missing or invalid; `error.fields` says which and why.",
    ),
    429: ("TooManyRequests", "Rate limited; retry after `Retry-After` seconds."),
}


def error_responses() -> dict[str, Schema]:
    found = {}
    for status, (name, description) in ERRORS.items():
        response: Schema = {"description": description, "content": {JSON: {"schema": ref("Error")}}}
        if status == 429:
            response["headers"] = {
                "Retry-After": {"description": "seconds to wait", "schema": integer(1)}
            }
        found[name] = response
    return found


SECURITY_SCHEMES = {
    "bearerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <token>` with the token of "
        "`POST /api/v1/auth/login`. Needs no XSRF token.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The browser's signed session cookie, set by the `/login` "
        "page (named `__Host-session` behind HTTPS).",
    },
    "xsrfToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-XSRFToken",
        "description": "Cookie-authenticated writes must echo the `_xsrf` cookie in "
        "this header (or an `_xsrf` field of a form).",
    },
}
# Security requirements: each names schemes that together suffice, each with its scopes (none).
READ_AUTH: list[dict[str, list[str]]] = [{"bearerToken": []}, {"sessionCookie": []}]
WRITE_AUTH: list[dict[str, list[str]]] = [
    {"bearerToken": []},
    {"sessionCookie": [], "xsrfToken": []},
]
WRITES = ("post", "put", "patch", "delete")


# operations ----------------------------------------------------------------------------------
def json_body(schema: Schema, description: str | None = None) -> Schema:
    return describe({"required": True, "content": {JSON: {"schema": schema}}}, description)


def operation(
    method: str,
    operation_id: str,
    summary: str,
    *,
    tag: str,
    ok: tuple[int, Schema | None, str],
    errors: Iterable[int] = (),
    params: Iterable[Schema] = (),
    body: Schema | None = None,
    login: bool = False,
    description: str | None = None,
    media: Iterable[str] = (),
) -> tuple[str, Schema]:
    """(method, Operation object). `ok` is (status, JSON schema or None, what), and `media`
    the types of a success that is a file rather than JSON;
    `login` marks operations for logged-in callers only. Writes may also answer 403 (XSRF) and
    413; JSON bodies 400; logged-in operations 401; paths with parameters 404."""
    status, schema, what = ok
    responses: dict[str, Schema] = {str(status): {"description": what}}
    if schema is not None:
        responses[str(status)]["content"] = {JSON: {"schema": schema}}
    if media:
        responses[str(status)]["content"] = {
            kind: {"schema": {"type": "string", "contentMediaType": kind}} for kind in media
        }
    params = list(params)
    codes = set(errors)
    if method == "post" and status == 201:  # every create honours Idempotency-Key
        params.append(param("idempotencyKey"))
        codes |= {409, 422}
        responses[str(status)]["headers"] = {
            "Idempotent-Replayed": {
                "description": "`true` when this is the first answer to the key, given again",
                "schema": {"type": "string", "enum": ["true"]},
            }
        }
    if method in WRITES:
        codes |= {403, 413}
        if body is not None:  # not JSON, or not multipart/form-data
            codes.add(400)
    if login:
        codes.add(401)
    if any(
        p.get("$ref", "").rsplit("/", 1)[-1] in ("id", "slug", "username", "code") for p in params
    ):
        codes.add(404)
    for code in sorted(codes):
        responses[str(code)] = {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
    security = WRITE_AUTH if method in WRITES else READ_AUTH
    op: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": security if login else [*security, {}],
        "responses": responses,
    }
    if description:
        op["description"] = description
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = body
    return method, op


def also_ok(made: tuple[str, Schema], status: int, schema: Schema, what: str) -> tuple[str, Schema]:
    """An operation that may also succeed with `status` (a create that finds the thing there
    already answers it with 200)."""
    method, op = made
    op["responses"] = {
        str(status): {"description": what, "content": {JSON: {"schema": schema}}},
        **op["responses"],
    }
    return method, op


def item(*operations: tuple[str, Schema]) -> Schema:
    return dict(operations)


def wrapped(name: str, schema: Schema) -> Schema:
    return obj({name: schema})


LIST = [param("limit"), param("cursor")]
PRIVATE_USER = ref("PrivateUser")
POST = wrapped("post", ref("Post"))
UPDATED = (200, POST, "the post as it is now")
