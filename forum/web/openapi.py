"""The OpenAPI 3.1 document of /api/v1 (API.md), served at /api/openapi.json, and the reference
page at /api/docs that renders it with the vendored Redoc (static/vendor/redoc).

The document is plain data built by the small helpers below. Enumerations and field limits come
from the modules that enforce them (model, boards, workflow, services), so the document cannot
drift from the rules; the shapes follow forum/web/views.py. tests/web/test_openapi.py checks the
paths and methods against app.routes() in both directions, validates the document against the
OpenAPI 3.1 schema, and validates real responses against the schemas given here.
"""
from __future__ import annotations

import functools
import json
from typing import Any, Iterable

from forum import boards, limits, workflow
from forum.model import Kind, ReplyKind, Role, Status
from forum.services import (admin, attachments, following, forms, recovery,
                            searching, settings, stats)
from forum.web.base import CONTENT_SECURITY_POLICY, MAX_BODY_BYTES, ApiHandler
from forum.web.pages import PageHandler

Schema = dict[str, Any]
JSON = "application/json"


# schema helpers ------------------------------------------------------------------------------
def ref(name: str, description: str | None = None) -> Schema:
    return _describe({"$ref": f"#/components/schemas/{name}"}, description)


def _describe(schema: Schema, description: str | None) -> Schema:
    return {**schema, "description": description} if description else schema


def string(min_length: int | None = None, max_length: int | None = None, *,
           pattern: str | None = None, enum: Iterable[str] | None = None,
           fmt: str | None = None, description: str | None = None) -> Schema:
    schema: Schema = {"type": "string"}
    if min_length is not None:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    if pattern is not None:
        schema["pattern"] = pattern
    if enum is not None:
        schema["enum"] = list(enum)
    if fmt is not None:
        schema["format"] = fmt
    return _describe(schema, description)


def integer(minimum: int | None = None, maximum: int | None = None, *,
            description: str | None = None, default: int | None = None) -> Schema:
    schema: Schema = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if default is not None:
        schema["default"] = default
    return _describe(schema, description)


def number(minimum: float | None = None, maximum: float | None = None, *,
           description: str | None = None) -> Schema:
    schema: Schema = {"type": "number"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return _describe(schema, description)


def boolean(description: str | None = None) -> Schema:
    return _describe({"type": "boolean"}, description)


def array(items: Schema, *, max_items: int | None = None, description: str | None = None
          ) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if max_items is not None:
        schema["maxItems"] = max_items
    return _describe(schema, description)


def nullable(schema: Schema) -> Schema:
    """The schema or null (JSON Schema 2020-12: a type list, or anyOf around a reference)."""
    if "$ref" in schema or not isinstance(schema.get("type"), str):
        description = schema.get("description")
        inner = {k: v for k, v in schema.items() if k != "description"}
        return _describe({"anyOf": [inner, {"type": "null"}]}, description)
    result = {**schema, "type": [schema["type"], "null"]}
    if "enum" in result:
        result["enum"] = [*result["enum"], None]
    return result


def obj(properties: dict[str, Schema], *, optional: Iterable[str] = (), closed: bool = False,
        description: str | None = None) -> Schema:
    """An object whose properties are all required except `optional`. Response objects stay
    open (API.md: responses may carry more fields); `closed` is for bodies the services check
    for unknown fields."""
    left_out = set(optional)
    schema: Schema = {"type": "object", "properties": properties}
    required = [name for name in properties if name not in left_out]
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return _describe(schema, description)


def map_of(values: Schema, description: str | None = None) -> Schema:
    return _describe({"type": "object", "additionalProperties": values}, description)


def page_of(item: Schema, **more: Schema) -> Schema:
    """A list page of API.md: items, the cursor of the next page (null on the last), and extras."""
    return obj({**more, "items": array(item),
                "next_cursor": nullable(string(description="Opaque; pass as `cursor` for the "
                                                           "next page. Null on the last page."))})


# common pieces -------------------------------------------------------------------------------
ID = string(pattern="^[0-9a-f]{24}$", description="24 hex digits")
TIME = string(fmt="date-time", description="ISO 8601 in UTC, e.g. `2026-11-28T09:30:00.000Z`")
DAY = string(fmt="date", description="`YYYY-MM-DD`")
SLUGS = list(boards.BOARD_ORDER)
CASE_BOARDS = [slug for slug in SLUGS if boards.POLICIES[slug].kind is Kind.CASE]
BULLETIN_BOARDS = [slug for slug in SLUGS if boards.POLICIES[slug].kind is Kind.BULLETIN]
ROLES = [role.value for role in Role]
USERNAME_PATTERN = limits.anchored(limits.USERNAME_PATTERN)
EMAIL_PATTERN = limits.anchored(limits.EMAIL_PATTERN)
REASON = string(1, limits.REASON_MAX)
TRACKING_PATTERN = limits.anchored(limits.TRACKING_PATTERN)


def _user_properties() -> dict[str, Schema]:
    return {"id": ID, "username": string(pattern=USERNAME_PATTERN),
            "display_name": string(1, limits.DISPLAY_NAME_MAX),
            "roles": array(string(enum=ROLES)),
            "department": nullable(string(description="department slug")),
            "specialties": array(string())}


def _schemas() -> dict[str, Schema]:
    case_fields = {
        "public": boolean("the letter is published once accepted"),
        "department": nullable(string(description="slug of the department the case is routed "
                                                  "to; on bulletins, the answering department")),
        "due_at": nullable(TIME), "overdue": boolean(), "reopened": boolean(),
        "rating": nullable(string(enum=workflow.RATINGS)),
        "rating_comment": nullable(string()),
        "contact": nullable(string(description="only for the writer, moderators and the routed "
                                               "department; null for everyone else")),
        "status_note": nullable(string(description="why: a rejection's or a hiding's reason")),
        "accept_due_at": nullable(TIME), "accepted_at": nullable(TIME),
        "replied_at": nullable(TIME), "closed_at": nullable(TIME),
        "helpers": array(string(), max_items=limits.HELPERS_MAX,
                         description="slugs of the helper departments (协办)"),
        "extension": nullable(obj({
            "status": string(enum=["requested", "approved", "refused"]),
            "days": integer(limits.EXTENSION_DAYS_MIN, limits.EXTENSION_DAYS_MAX),
            "reason": nullable(string(max_length=limits.REASON_MAX))},
            description="this routing's extension (延期); the reason is null for the public")),
        "extended": boolean("an extension was approved"),
        "supervised": boolean("a supervised case (督办件), until the official reply"),
        "merged_into": nullable(ID),
        "officer": nullable(ref("Author", "the named officer (承办人); null for anyone but "
                                          "moderators and the lead and helper departments")),
        "real_name": nullable(string(max_length=limits.REAL_NAME_MAX,
                                     description="the writer's name (姓名); only for the "
                                                 "writer and those who work the case")),
    }
    bulletin_fields = {"case_number": nullable(string(max_length=limits.CASE_NUMBER_MAX)),
                       "received_on": nullable(DAY),
                       # mayor letters and hotline replies
                       "letter_type": nullable(string(enum=list(boards.LETTER_TYPES))),
                       "area": nullable(string(enum=list(boards.AREAS)))}
    post = obj({
        "id": ID, "board": string(enum=SLUGS), "title": string(1, limits.TITLE_MAX),
        "body": string(description="Markdown as written, or with personal data masked for the "
                                   "public"),
        "html": string(description="sanitised HTML rendering"),
        "author": nullable(ref("Author", "null when anonymous or hidden")),
        "status": string(enum=[s.value for s in Status]),
        "category": nullable(string()), "created_at": TIME, "updated_at": TIME,
        "reply_count": integer(0), "accepted_reply_id": nullable(ID), "pinned": boolean(),
        "locked": boolean(), "anonymous": boolean(), "actions": ref("PostActions"),
        "steps": array(string(enum=sorted({action for _, action in workflow.TRANSITIONS})),
                       description="the lifecycle actions the caller may take now, by their "
                                   "names in the lifecycle (accept, reject, route, return, "
                                   "official, rate_satisfied, flag, ...)"),
        **case_fields, **bulletin_fields,
    }, optional=[*case_fields, *bulletin_fields],
        description=(f"Case boards ({', '.join(CASE_BOARDS)}) add `{'`, `'.join(case_fields)}`; "
                     f"the hotline bulletin board ({', '.join(BULLETIN_BOARDS)}) adds "
                     "`case_number`, `received_on` and `department`."))
    # Which extras a post carries follows from its board; the titles name the branches in the
    # rendered reference.
    post.update({
        "if": {"title": "case boards", "required": ["board"],
               "properties": {"board": {"enum": CASE_BOARDS}}},
        "then": {"required": list(case_fields)},
        "else": {"title": "other boards",
                 "if": {"title": "hotline bulletins", "required": ["board"],
                        "properties": {"board": {"enum": BULLETIN_BOARDS}}},
                 "then": {"required": [*bulletin_fields, "department"]},
                 "else": {"title": "discussion and consultation boards"}},
    })

    def count(description: str | None = None) -> Schema:
        # null: withheld by the small-cell rule (see `withheld`)
        return nullable(integer(0, description=description))

    figures = obj({
        "received": count(), "accepted": count(), "replied": count(),
        "closed": count(),
        "reply_rate": nullable(number(0, 1, description="replied / accepted")),
        "completion_rate": nullable(number(0, 1, description="closed / accepted (办结率)")),
        "on_time_rate": nullable(number(0, 1, description="replied in time / replied")),
        "median_first_reply_hours": nullable(number(0)), "overdue": count(),
        "satisfaction": obj({score: count() for score in workflow.RATINGS},
                            description="every rating and scored callback of the cases; a "
                                        "department's counts those judging its replies"),
        "extended": count("cases with an approved extension (延期)"),
        "supervised": count("cases ever supervised (督办)"),
        "unrated": count("closed without a rating (未评价); among `closed`, never satisfied"),
        "merged": count("merged into an earlier case (重复件); not in received, accepted, "
                        "replied or closed"),
        "withheld": array(string(), description="the figures withheld (null here), "
                          "`satisfaction.<score>` for a score: in a group counting any "
                          "confidential report (the tax board), counts of 1 to 4, and the "
                          "rates and median hours of a group of fewer than 5 cases; pages "
                          "and CSV show `<5`"),
        "not_yet_due": count("accepted, unanswered and still within their time; rates say "
                             "nothing while this equals `accepted`"),
    }, description="The figures of cases received in the period, counted for the lead "
                   "department; rates are null when nothing was accepted or replied.")
    return {
        "Error": obj({"error": obj({
            "code": string(description="a word: `malformed`, `not_logged_in`, "
                                       "`bad_credentials`, `forbidden`, `not_found`, "
                                       "`conflict`, `invalid_transition`, `locked`, "
                                       "`too_large`, `invalid`, `rate_limited`, ..."),
            "message": string(description="human text (Chinese)"),
            "fields": map_of(string(), "each invalid field's name and why, on 422"),
            "state": obj({"status": string(enum=[s.value for s in Status]),
                          "department": nullable(string()), "updated_at": TIME},
                         optional=["department", "updated_at"],
                         description="409 on a post only: what the post is now, so the loser "
                                     "of a race can decide again"),
        }, optional=["fields", "state"])}),
        "User": obj(_user_properties()),
        "PrivateUser": obj({**_user_properties(), "email": nullable(string()),
                            "email_confirmed": boolean(), "created_at": TIME},
                           description="A user as the user themselves and admins see it."),
        "Login": obj({"token": string(description="the bearer token"),
                      "user": ref("PrivateUser"), "expires_at": TIME}),
        "Author": obj({"username": string(), "display_name": string(),
                       "badge": string(description="a verified answerer's badge (认证律师, "
                                                   "农业专家)"),
                       "specialties": array(string(), description="with `badge` only")},
                      optional=["badge", "specialties"]),
        "Board": obj({"slug": string(enum=SLUGS), "name": string(),
                      "kind": string(enum=[k.value for k in Kind]), "description": string(),
                      "categories": array(string()), "open": boolean("takes new posts"),
                      "may_post": boolean("the caller may open a post here"),
                      "accept_days": integer(1, 30, description="case boards: working days to "
                                                                "accept"),
                      "reply_days": integer(1, 60, description="case boards: working days to "
                                                               "reply")},
                     optional=["accept_days", "reply_days"]),
        "PostActions": obj({name: boolean() for name in
                            ("edit", "reply", "accept", "flag", "rate", "moderate", "return")},
                           optional=["rate", "moderate", "return"],
                           description="What the caller may do with the post now; `rate`, "
                                       "`moderate` and `return` on case boards only."),
        "Post": post,
        "Reply": obj({"id": ID, "post_id": ID, "body": string(), "html": string(),
                      "author": nullable(ref("Author")),
                      "kind": string(enum=[k.value for k in ReplyKind]),
                      "accepted": boolean("the asker chose this answer"), "created_at": TIME}),
        "Event": obj({"at": TIME, "actor": string(description="an office or role, not a name"),
                      "action": string(), "from_status": nullable(string()),
                      "to_status": nullable(string()), "note": string()}),
        "Revision": obj({"id": ID, "title": string(), "body": string(), "edited_at": TIME}),
        "Attachment": obj({"id": ID, "filename": string(),
                           "content_type": string(enum=["image/jpeg", "image/png",
                                                        "application/pdf"]),
                           "size": integer(0, attachments.MAX_FILE_BYTES),
                           "url": string(description="`/api/v1/attachments/{id}`"),
                           "created_at": TIME}),
        "Thread": obj({"post": ref("Post"), "replies": array(ref("Reply")),
                       "events": array(ref("Event"), description="for those who may follow "
                                                                 "the case"),
                       "attachments": array(ref("Attachment"), description="for those who "
                                                                           "may download"),
                       "edited": boolean(),
                       "revisions": array(ref("Revision"), description="earlier texts, for the "
                                                                       "author and moderators")}),
        "PostPage": {**page_of(ref("Post"), prev_cursor=string(
            description="Given on pages after the first: pass as `before` for the page "
                        "before this one.")), "required": ["items", "next_cursor"]},
        "Flag": obj({"id": ID, "post_id": ID, "reason": string(), "created_at": TIME,
                     "open": boolean()}),
        "Notification": obj({"id": ID, "kind": string(description="reply, answer, official, "
                                                                  "status, routed, overdue, ..."),
                             "post_id": nullable(ID), "text": string(), "created_at": TIME,
                             "read": boolean()}),
        "Inbox": page_of(ref("Notification"), unread=integer(0)),
        "Subscription": obj({
            "id": ID,
            "target": string(1, limits.SUBSCRIPTION_TARGET_MAX,
                             pattern=limits.anchored(limits.SUBSCRIPTION_TARGET_PATTERN),
                             description="`post:<id>`, `board:<slug>` or `department:<slug>`"),
            "kind": string(enum=list(following.TARGET_KINDS)),
            "key": string(description="the post's id, or the board's or department's slug"),
            "name": nullable(string(description="the post's title, or the board's or "
                                                "department's name; null when the caller may "
                                                "no longer see it")),
            "url": nullable(string(description="its page; null when the caller may no longer "
                                               "see it")),
            "created_at": TIME}),
        "SearchResult": obj({"post": ref("Post"),
                             "snippet": string(description="escaped HTML with `<mark>` around "
                                                           "the query's words"),
                             "score": number()}),
        "SearchResults": page_of(
            ref("SearchResult"), query=string(),
            terms=array(string(), description="the query's words"),
            sort=string(enum=list(forms.SORTS), description="the order of the items"),
            total=integer(0, description=f"matching posts the caller may see, counted up to "
                                         f"{searching.COUNT_MAX}; the store ranks only about "
                                         f"the newest 500 posts of each word, so older matches "
                                         f"may be left out"),
            total_capped=boolean(description=f"true: there are more than `total` "
                                             f"({searching.COUNT_MAX}) and the pages end there"),
            faq=array(ref("Faq"), max_items=searching.FAQ_SHOWN,
                      description="knowledge-base entries matching the query, to show before "
                                  "the posts; first page only")),
        "Figures": figures,
        "Stats": obj({"from": nullable(TIME), "to": nullable(TIME), "computed_at": TIME,
                      "boards": map_of(ref("Figures"), "by board slug"),
                      "departments": map_of(ref("Figures"), "by department slug"),
                      "months": map_of(ref("Figures"), "by month, `YYYY-MM`"),
                      "areas": map_of(ref("Figures"), "by area (`city` or a county-level "
                                                      "division)"),
                      "types": map_of(ref("Figures"), "by letter type"),
                      "levels": map_of(ref("Figures"), "by the lead department's kind, "
                                                       "`bureau` or `county`"),
                      "department_levels": map_of(string(enum=["bureau", "county"]),
                                                  "each department's kind")}),
        "DepartmentRecord": obj({
            "department": ref("Department"),
            "since": string(fmt="date", description="the first day of this year (China time)"),
            "stats": ref("Figures"),
            "recent": array(ref("Post"), description="its latest closed public letters")}),
        "QueueItem": obj({"kind": string(enum=["submitted", "reopened", "to_route", "pending",
                                               "flagged", "overdue", "supervised",
                                               "extension_request", "callback_due"]),
                          "post": ref("Post"), "reason": string(), "since": nullable(TIME)}),
        "Queue": page_of(
            ref("QueueItem"),
            counts=map_of(integer(0), "items per kind of `items`, and per casework section: "
                                      "`supervised`, `extension_requests`, `callbacks_due`"),
            supervised=array(ref("QueueItem"), description="supervised cases (督办件), which "
                             "head the queue; oldest first"),
            extension_requests=array(obj({
                "kind": string(enum=["extension_request"]), "post": ref("Post"),
                "reason": string(), "since": nullable(TIME),
                "extension": obj({
                    "status": string(enum=["requested"]),
                    "days": integer(limits.EXTENSION_DAYS_MIN, limits.EXTENSION_DAYS_MAX),
                    "reason": nullable(string(max_length=limits.REASON_MAX))})}),
                description="extensions the lead departments asked for (延期申请), to approve "
                            "or refuse with `POST /posts/{id}/extension/decision`"),
            callbacks_due=array(ref("QueueItem"), description="cases replied or closed in the "
                                "last 30 days with no callback yet (待回访), unsatisfied ones "
                                "first")),
        "Department": obj({"slug": string(1, 32), "name": string(1, 40),
                           "kind": string(enum=["bureau", "county"],
                                          description="`county`: a county-level government "
                                                      "(`gov-<area>`), routed to for local "
                                                      "matters; in lists of "
                                                      "departments")}, optional=["kind"]),
        "DepartmentCases": page_of(ref("Post"), department=ref("Department"),
                                   role=string(enum=["lead", "helper"],
                                               description="`helper`: the cases it helps with "
                                                           "(协办), led by `post.department`"),
                                   officer=nullable(string(enum=["me"], description="`me`: only "
                                                    "the caller's own cases (我的承办)")),
                                   overdue=array(ref("Post"), description="first page only: "
                                                 "routed cases past their due time")),
        "AuditEntry": obj({"at": TIME, "actor_id": ID,
                           "actor": nullable(obj({"username": string(),
                                                  "display_name": string(),
                                                  "roles": array(string(enum=ROLES))},
                                                 description="who acted; null when the "
                                                             "account is gone")),
                           "action": string(),
                           "target": string(description="`user:NAME`, `post:ID`, "
                                                        "`department:SLUG`, ..."),
                           "reason": string(), "detail": string()}),
        "Workspace": page_of(ref("Post"), boards=array(string(enum=SLUGS)),
                             board=string(enum=SLUGS), category=nullable(string()),
                             mine_only=boolean("only the answerer's specialties"),
                             counts=map_of(integer(0), "open questions per category")),
        "Profile": obj({"user": ref("User"), "badges": array(string()),
                        "answers": obj({"total": integer(0), "accepted": integer(0),
                                        "by_board": map_of(integer(0))}),
                        "recent": array(obj({"post_id": ID, "post_title": string(),
                                             "answered_at": TIME, "accepted": boolean()}))}),
        "ApiKey": obj({"id": ID, "name": string(1, limits.API_KEY_NAME_MAX),
                       "created_by": ID, "created_at": TIME, "revoked_at": nullable(TIME),
                       "active": boolean()},
                      description="A key issued to another system (Open311 clients); the key "
                                  "itself is shown only once, when issued."),
        "Calendar": obj({
            "covered_years": array(integer(), description="the years the installed "
                                   "`chinesecalendar` package has holidays and make-up working "
                                   "days (调休) for, ascending"),
            "holidays": array(DAY, description="the admins' days off, on top of the package's"),
            "workdays": array(DAY, description="the admins' working days, on top of the "
                                               "package's; they win over its holidays"),
            "warning": nullable(string(description="set while next year (China Standard Time) "
                                                   "is not covered: upgrade the package"))},
            description="Working days are Monday to Friday, less the package's holidays, plus "
                        "its make-up working weekends, for the years it covers; the admins' "
                        "days win over it."),
        "Template": obj({"id": ID, "department": string(1, 32),
                         "title": string(1, limits.TEMPLATE_TITLE_MAX),
                         "body": string(1, limits.TEMPLATE_BODY_MAX,
                                        description="Markdown, as a reply is written"),
                         "created_at": TIME},
                        description="A department's reply template (答复模板)."),
        "Faq": obj({"id": ID, "board": string(enum=SLUGS),
                    "question": string(1, limits.FAQ_QUESTION_MAX),
                    "answer": string(1, limits.FAQ_ANSWER_MAX,
                                     description="Markdown as written, personal data masked"),
                    "answer_html": string(description="sanitised HTML rendering"),
                    "post_id": ID, "created_at": TIME},
                   description="A knowledge-base entry (常见问题), made from an answered "
                               "question or a closed public case."),
    }


# parameters, responses, security -------------------------------------------------------------
def parameter(where: str, name: str, schema: Schema, description: str, *,
              required: bool = False) -> Schema:
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema}


def param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


def query(name: str, schema: Schema, description: str, *, required: bool = False) -> Schema:
    return parameter("query", name, schema, description, required=required)


PARAMETERS = {
    "id": parameter("path", "id", string(pattern="^[0-9a-fA-F]{24}$"),
                    "the id of the post (attachment, API key) the path names"),
    "slug": parameter("path", "slug", string(1, 32, pattern="^[a-z0-9_-]{1,32}$"),
                      "a board's or a department's slug"),
    "username": parameter("path", "username", string(1, 32, pattern="^[A-Za-z0-9_]{1,32}$"),
                          "a username"),
    "code": parameter("path", "code", string(1, 64),
                      "the tracking code shown once when the case was submitted: 28 characters "
                      "of `A-HJ-NP-Z2-9` in groups of 4 joined by `-` (140 bits), read in any "
                      "case with or without the dashes; codes of 16 characters handed out "
                      "before stay valid. Any other code answers 404"),
    "idempotencyKey": parameter(
        "header", "Idempotency-Key", string(1, 64, pattern="^[\\x21-\\x7e]{1,64}$"),
        "makes the create safe to retry: the same key from the same caller (the account, or "
        "the address for visitors) within 24 hours answers the first result again, with "
        "`Idempotent-Replayed: true`, and creates nothing; the same key with a different body "
        "is a 422, and a malformed key (empty, over 64, not visible ASCII) too. A retry that "
        "arrives while the first is still running waits for it briefly, then answers 409. "
        "Only successful creates are remembered: a refused one leaves the key free"),
    "limit": query("limit", integer(1, 100, default=20), "items per page, 1 to 100"),
    "cursor": query("cursor", string(), "opaque: `next_cursor` of the previous page"),
}

ERRORS = {
    400: ("BadRequest", "Malformed: the body is not a JSON object (or, for uploads, not "
                        "multipart/form-data); or a value of none of the shapes a field takes "
                        "(a follow's `target`), named in `error.fields`."),
    401: ("Unauthorized", "Not logged in (or, for login, wrong username or password)."),
    403: ("Forbidden", "Logged in but not allowed; or a cookie-authenticated write without "
                       "the XSRF token."),
    404: ("NotFound", "Absent, or present but not visible to the caller (confidential content "
                      "never answers 403)."),
    409: ("Conflict", "Conflicts with the current state (a taken name, a transition the "
                      "lifecycle does not allow, a locked post, ...)."),
    413: ("PayloadTooLarge", f"The body is over the limit ({MAX_BODY_BYTES // (1 << 20)} MiB; "
                             "uploads 10 MB a file)."),
    422: ("UnprocessableEntity", "A field is missing or invalid; `error.fields` says which "
                                 "and why."),
    429: ("TooManyRequests", "Rate limited; retry after `Retry-After` seconds."),
}


def _error_responses() -> dict[str, Schema]:
    found = {}
    for status, (name, description) in ERRORS.items():
        response: Schema = {"description": description,
                            "content": {JSON: {"schema": ref("Error")}}}
        if status == 429:
            response["headers"] = {"Retry-After": {"description": "seconds to wait",
                                                   "schema": integer(1)}}
        found[name] = response
    return found


SECURITY_SCHEMES = {
    "bearerToken": {"type": "http", "scheme": "bearer",
                    "description": "`Authorization: Bearer <token>` with the token of "
                                   "`POST /api/v1/auth/login`. Needs no XSRF token."},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                      "description": "The browser's signed session cookie, set by the `/login` "
                                     "page (named `__Host-session` behind HTTPS)."},
    "xsrfToken": {"type": "apiKey", "in": "header", "name": "X-XSRFToken",
                  "description": "Cookie-authenticated writes must echo the `_xsrf` cookie in "
                                 "this header (or an `_xsrf` field of a form)."},
}
# Security requirements: each names schemes that together suffice, each with its scopes (none).
READ_AUTH: list[dict[str, list[str]]] = [{"bearerToken": []}, {"sessionCookie": []}]
WRITE_AUTH: list[dict[str, list[str]]] = [{"bearerToken": []},
                                          {"sessionCookie": [], "xsrfToken": []}]
WRITES = ("post", "put", "patch", "delete")


# operations ----------------------------------------------------------------------------------
def json_body(schema: Schema, description: str | None = None) -> Schema:
    return _describe({"required": True, "content": {JSON: {"schema": schema}}}, description)


def operation(method: str, operation_id: str, summary: str, *, tag: str,
              ok: tuple[int, Schema | None, str], errors: Iterable[int] = (),
              params: Iterable[Schema] = (), body: Schema | None = None, login: bool = False,
              description: str | None = None, media: Iterable[str] = ()
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
            kind: {"schema": {"type": "string", "contentMediaType": kind}} for kind in media}
    params = list(params)
    codes = set(errors)
    if method == "post" and status == 201:  # every create honours Idempotency-Key
        params.append(param("idempotencyKey"))
        codes |= {409, 422}
        responses[str(status)]["headers"] = {"Idempotent-Replayed": {
            "description": "`true` when this is the first answer to the key, given again",
            "schema": {"type": "string", "enum": ["true"]}}}
    if method in WRITES:
        codes |= {403, 413}
        if body is not None:  # not JSON, or not multipart/form-data
            codes.add(400)
    if login:
        codes.add(401)
    if any(p.get("$ref", "").rsplit("/", 1)[-1] in ("id", "slug", "username", "code")
           for p in params):
        codes.add(404)
    for code in sorted(codes):
        responses[str(code)] = {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
    security = WRITE_AUTH if method in WRITES else READ_AUTH
    op: Schema = {"operationId": operation_id, "summary": summary, "tags": [tag],
                  "security": security if login else [*security, {}],
                  "responses": responses}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = body
    return method, op


def _also_ok(made: tuple[str, Schema], status: int, schema: Schema, what: str
             ) -> tuple[str, Schema]:
    """An operation that may also succeed with `status` (a create that finds the thing there
    already answers it with 200)."""
    method, op = made
    op["responses"] = {str(status): {"description": what,
                                     "content": {JSON: {"schema": schema}}},
                       **op["responses"]}
    return method, op


def item(*operations: tuple[str, Schema]) -> Schema:
    return dict(operations)


def wrapped(name: str, schema: Schema) -> Schema:
    return obj({name: schema})


LIST = [param("limit"), param("cursor")]


def _casework_paths(post: Schema) -> dict[str, Schema]:
    """The second release's casework (services/casework.py)."""
    def step(path: str, operation_id: str, summary: str, who: str, body: Schema,
             status: int = 200, what: str = "the case") -> tuple[str, Schema]:
        return f"/api/v1/posts/{{id}}/{path}", item(operation(
            "post", operation_id, summary, tag="Cases", login=True, params=[param("id")],
            body=json_body(body), ok=(status, post, what),
            errors=[409, 422], description=who))
    text = string(1, limits.REASON_MAX)
    paths = dict([
        step("assign", "assignOfficer", "Name the case's officer (承办人)",
             "Staff of the lead department; `username` of a member of it (422 otherwise).",
             obj({"username": string(1, 64)})),
        step("extension", "requestExtension", "Ask for more working days (延期)",
             "Staff of the lead department, once per routing (409 while one is pending or "
             "after one was approved). The answer also carries `extension` as asked.",
             obj({"days": integer(limits.EXTENSION_DAYS_MIN, limits.EXTENSION_DAYS_MAX),
                  "reason": text}), 201, "the case"),
        step("extension/decision", "decideExtension", "Approve or refuse an extension",
             "Moderators; approval moves `due_at` by the days asked and sets `extended`.",
             obj({"approve": boolean(), "reason": text}, optional=["reason"])),
        step("urge", "urgeCase", "Urge the lead department (催办)",
             "Moderators; the lead department's staff are notified.",
             obj({"note": text}, optional=["note"]), 201),
        step("supervise", "superviseCase", "Supervise a case (督办)",
             "Moderators; the mark lasts until the official reply.", obj({"reason": text})),
        step("callback", "recordCallback", "Record a callback (回访)",
             "Moderators, on a replied or closed case; `unsatisfied` reopens it once per case "
             "(shared with ratings), satisfaction closes a replied case.",
             obj({"reached": boolean(), "score": string(enum=workflow.RATINGS),
                  "note": text}, optional=["score", "note"]), 201),
        step("merge", "mergeCase", "Merge a duplicate into an earlier case (重复件)",
             "Moderators; `into` is an earlier case of the same board.",
             obj({"into": ID, "reason": text}), 200, "the case, now `merged`"),
    ])
    paths["/api/v1/posts/{id}/notes"] = item(operation(
        "post", "addNote", "Add an internal note (协办意见)", tag="Cases", login=True,
        params=[param("id")], body=json_body(obj({"body": string(1, limits.BODY_MAX)})),
        ok=(201, obj({"reply": ref("Reply")}), "a reply of kind `internal`"),
        errors=[409, 422],
        description="Staff of the lead and helper departments, moderators. Never shown to the "
                    "writer, the public or a tracking code."))
    paths["/api/v1/posts/{id}/ratings"] = item(operation(
        "get", "listRatings", "A case's ratings and callbacks", tag="Cases",
        params=[param("id")],
        ok=(200, obj({"items": array(obj({
            "at": TIME, "source": string(enum=["rating", "callback"]),
            "score": nullable(string(enum=workflow.RATINGS)), "comment": nullable(string()),
            "department": nullable(string(description="the department whose reply it judged")),
            "reached": nullable(boolean())}))}), "oldest first"),
        description="Those who may see the case; comments masked for the public."))
    return paths


def _paths() -> dict[str, Schema]:
    user, post = ref("PrivateUser"), wrapped("post", ref("Post"))
    updated = (200, post, "the post as it is now")
    reason = obj({"reason": REASON})
    return {
        # accounts
        "/api/v1/auth/register": item(operation(
            "post", "register", "Create a citizen account", tag="Accounts",
            body=json_body(obj({
                "username": string(3, 32, pattern=USERNAME_PATTERN),
                "password": string(limits.PASSWORD_MIN, limits.PASSWORD_MAX,
                                   description="not a common password"),
                "display_name": string(1, limits.DISPLAY_NAME_MAX,
                                       description="any script, NFKC-normalised; the username "
                                       "when absent. No control or format characters (422), no "
                                       "department name or office title (市长, 书记, 信访局, 局长, "
                                       "主任; 422)"),
                "email": string(max_length=254, pattern=EMAIL_PATTERN,
                                description="gets a confirmation link"),
            }, optional=["display_name", "email"])),
            ok=(201, wrapped("user", user), "created"), errors=[409, 422, 429],
            description="409 when the username is taken (compared case-insensitively).")),
        "/api/v1/auth/login": item(operation(
            "post", "login", "Log in for a bearer token", tag="Accounts",
            body=json_body(obj({"username": string(1, 256),
                                "password": string(1, limits.PASSWORD_MAX)})),
            ok=(200, ref("Login"), "logged in"), errors=[401, 422, 429],
            description="401 alike for a wrong password, an unknown user and a disabled "
                        "account; 429 after repeated failures.")),
        "/api/v1/auth/logout": item(operation(
            "post", "logout", "End this token or session", tag="Accounts", login=True,
            ok=(204, None, "logged out; the token or session no longer works"))),
        "/api/v1/auth/password": item(operation(
            "post", "changePassword", "Change the password", tag="Accounts", login=True,
            body=json_body(obj({"current_password": string(1, limits.PASSWORD_MAX),
                                "new_password": string(limits.PASSWORD_MIN,
                                                       limits.PASSWORD_MAX,
                                                       description="not a common password")})),
            ok=(200, obj({"token": string(description="the new bearer token; only for "
                                                      "bearer callers"),
                          "user": ref("PrivateUser"), "expires_at": TIME}, optional=["token"]),
                "changed; every other session and token of the account ends, and a fresh one "
                "replaces the caller's: a bearer caller gets its token in `token`, a caller "
                "with the session cookie gets a new cookie and no token in the body"),
            errors=[422, 429],
            description="A wrong current password is a 422 on `current_password`; repeated "
                        "failures are rate limited like logins.")),
        "/api/v1/auth/password-reset": item(operation(
            "post", "requestPasswordReset", "Ask for a password-reset link by e-mail",
            tag="Accounts",
            body=json_body(obj({"username": string(1, forms.NAME_MAX_TYPED)})),
            ok=(202, obj({"message": string()}), "the same answer whether or not the account "
                                                 "exists: a link is mailed only to an existing "
                                                 "account's confirmed address"),
            errors=[422, 429],
            description=f"The link holds a single-use token and works for "
                        f"{recovery.RESET_MINUTES} minutes. Limited per address and per name "
                        f"asked for.")),
        "/api/v1/auth/password-reset/confirm": item(operation(
            "post", "resetPassword", "Choose a new password with a reset link's token",
            tag="Accounts",
            body=json_body(obj({"token": string(20, 100, pattern="^[A-Za-z0-9_-]{20,100}$",
                                                description="the last part of the mailed link"),
                                "new_password": string(limits.PASSWORD_MIN,
                                                       limits.PASSWORD_MAX,
                                                       description="not a common password")})),
            ok=(204, None, "the password is changed and every session and token of the "
                           "account has ended; log in again"),
            errors=[422, 429],
            description="A token works once: an unknown, used or expired token is a 422 on "
                        "`token`. Repeated bad tokens are rate limited per address.")),
        "/api/v1/me": item(
            operation("get", "getMe", "The caller's account", tag="Accounts", login=True,
                      ok=(200, wrapped("user", user), "the account")),
            operation("patch", "updateMe", "Change the e-mail address", tag="Accounts",
                      login=True,
                      body=json_body(obj({"email": nullable(string(max_length=254,
                                                                   pattern=EMAIL_PATTERN)),
                                          "current_password": string(
                                              1, limits.PASSWORD_MAX,
                                              description="needed: the address receives "
                                                          "password-reset links")},
                                         optional=["email"])),
                      ok=(200, wrapped("user", user), "the account; a new address waits for "
                                                      "its confirmation link"),
                      errors=[422, 429],
                      description="A wrong current password is a 422 on `current_password`; "
                                  "repeated failures are rate limited.")),
        "/api/v1/users/{username}": item(operation(
            "get", "getProfile", "A verified answerer's public record", tag="Consultation",
            params=[param("username")], ok=(200, ref("Profile"), "the record"),
            description="404 also for accounts that never answered: only answerers have a "
                        "public record.")),
        # boards and posts
        "/api/v1/boards": item(operation(
            "get", "listBoards", "The six boards", tag="Boards and posts",
            ok=(200, obj({"items": array(ref("Board"))}), "in their fixed order"))),
        "/api/v1/boards/{slug}/posts": item(
            operation("get", "listPosts", "Posts of a board", tag="Boards and posts",
                      params=[param("slug"),
                              query("status", string(enum=[s.value for s in Status]),
                                    "only this status (of the board's statuses)"),
                              query("category", string(), "only this category of the board"),
                              *LIST,
                              query("before", string(),
                                    "the `prev_cursor` of a page: the page before it (not "
                                    "with `cursor`)")],
                      ok=(200, ref("PostPage"), "newest first, pinned first on the first "
                                                "page; only what the caller may see"),
                      errors=[422]),
            operation("post", "createPost", "Open a post, question, case or bulletin",
                      tag="Boards and posts", params=[param("slug")],
                      body=json_body(obj({
                          "title": string(1, limits.TITLE_MAX),
                          "body": string(1, limits.BODY_MAX, description="Markdown"),
                          "category": string(description="one of the board's categories"),
                          "anonymous": boolean("lawyer, agri: show as 网友; tax: no name (the "
                                               "default without an account)"),
                          "public": boolean("mayor: publish the letter once accepted"),
                          "contact": string(1, limits.CONTACT_MAX,
                                            description="mayor: required (实名); tax: optional"),
                          "case_number": string(1, limits.CASE_NUMBER_MAX,
                                                description="hotline: required"),
                          "received_on": string(10, 10, fmt="date",
                                                description="hotline: the call's date, required"),
                          "department": string(description="hotline: the answering "
                                                           "department's slug, required"),
                      }, optional=["category", "anonymous", "public", "contact", "case_number",
                                   "received_on", "department"])),
                      ok=(201, obj({"post": ref("Post"),
                                    "tracking_code": string(34, 34, pattern=TRACKING_PATTERN,
                                                            description="case boards "
                                                            "only, shown this once")},
                                   optional=["tracking_code"]), "created"),
                      errors=[401, 422, 429],
                      description="Who may write where follows the board (PRODUCT.md): tax "
                                  "reports need no account; hotline bulletins are for staff "
                                  "and moderators. Posts with sensitive words, or many links "
                                  "from a new account, wait for review (`pending`).")),
        "/api/v1/posts/{id}": item(
            operation("get", "getPost", "A post with its replies and events",
                      tag="Boards and posts", params=[param("id")],
                      ok=(200, ref("Thread"), "the thread")),
            operation("patch", "editPost", "Edit a post", tag="Boards and posts",
                      login=True, params=[param("id")],
                      body=json_body(obj({"title": string(1, limits.TITLE_MAX),
                                          "body": string(1, limits.BODY_MAX)},
                                         optional=["title", "body"])),
                      ok=updated, errors=[422],
                      description="The author within 30 minutes, or a moderator; the earlier "
                                  "text is kept as a revision.")),
        "/api/v1/posts/{id}/replies": item(
            operation("get", "listReplies", "Replies of a post", tag="Boards and posts",
                      params=[param("id")],
                      ok=(200, page_of(ref("Reply")), "oldest first, all on one page")),
            operation("post", "reply", "Reply to a post", tag="Boards and posts", login=True,
                      params=[param("id")],
                      body=json_body(obj({"body": string(1, limits.BODY_MAX)})),
                      ok=(201, wrapped("reply", ref("Reply")), "created"),
                      errors=[409, 422, 429],
                      description="The kind follows from the board and the role: `official` "
                                  "(staff of the routed department; the case becomes "
                                  "`replied`), `answer` (lawyer or expert), `follow_up` (the "
                                  "asker), `comment` (others in the forum). 409 when locked.")),
        "/api/v1/preview": item(operation(
            "post", "preview", "Render Markdown as a saved post would", tag="Boards and posts",
            body=json_body(obj({"body": string(max_length=limits.BODY_MAX)},
                               optional=["body"])),
            ok=(200, obj({"html": string()}), "sanitised HTML"), errors=[422])),
        "/api/v1/posts/{id}/flag": item(operation(
            "post", "flagPost", "Report a post to the moderators", tag="Boards and posts",
            login=True, params=[param("id")],
            body=json_body(obj({"reason": string(1, limits.REASON_MAX)})),
            ok=(201, wrapped("flag", ref("Flag")), "recorded"), errors=[409, 422],
            description="One open flag per reader and post (409 for a second); not on one's "
                        "own post (403).")),
        # consultation
        "/api/v1/posts/{id}/accept": item(operation(
            "post", "acceptAnswer", "Accept the best answer", tag="Consultation", login=True,
            params=[param("id")], body=json_body(obj({"reply_id": ID})),
            ok=(200, post, "the question, now `resolved`"), errors=[422],
            description="The asker, choosing an `answer` of a lawyer or expert.")),
        "/api/v1/workspace": item(operation(
            "get", "workspace", "Open questions for a verified answerer", tag="Consultation",
            login=True,
            params=[query("board", string(enum=[s for s in SLUGS if boards.POLICIES[s].kind
                                                 is Kind.CONSULTATION]),
                          "one of the caller's boards"),
                    query("category", string(), "one category of that board"),
                    query("all", string(enum=["1", "true", "0", "false"]),
                          "`1` or `true`: every category, not only the caller's specialties"),
                    *LIST],
            ok=(200, ref("Workspace"), "oldest open questions first"), errors=[403, 422])),
        # cases
        "/api/v1/track/{code}": item(operation(
            "get", "track", "Follow a case by its tracking code", tag="Cases",
            params=[param("code")], ok=(200, ref("Thread"), "that case only"), errors=[429],
            description="Rate limited per address.")),
        "/api/v1/posts/{id}/route": item(operation(
            "post", "routeCase", "Route a case to a department", tag="Cases", login=True,
            params=[param("id")],
            body=json_body(obj({"department": string(1, 64, description="department slug"),
                                "due_days": integer(1, limits.DUE_DAYS_MAX,
                                                    description="working days; the board's "
                                                                "reply days when absent"),
                                "note": string(max_length=limits.REASON_MAX),
                                "helpers": array(string(1, 64), max_items=limits.HELPERS_MAX,
                                                 description="helper departments (协办), "
                                                             "not the lead")},
                               optional=["due_days", "note", "helpers"])),
            ok=(200, post, "the case, now `routed`"), errors=[409, 422],
            description="Moderators.")),
        "/api/v1/posts/{id}/return": item(operation(
            "post", "returnCase", "Send a misrouted case back", tag="Cases", login=True,
            params=[param("id")], body=json_body(reason),
            ok=(200, post, "the case, `accepted` again and back in the queue"),
            errors=[409, 422], description="Staff of the routed department.")),
        "/api/v1/posts/{id}/rating": item(operation(
            "post", "rateCase", "Rate the official reply", tag="Cases", login=True,
            params=[param("id")],
            body=json_body(obj({"score": string(enum=workflow.RATINGS),
                                "comment": string(max_length=limits.REASON_MAX)},
                               optional=["comment"])),
            ok=updated, errors=[409, 422],
            description="The writer, after an official reply, once. `satisfied` and "
                        "`basically_satisfied` close the case; the first `unsatisfied` reopens "
                        "it.")),
        **_casework_paths(post),
        "/api/v1/posts/{id}/attachments": item(operation(
            "post", "attachFiles", "Attach evidence to a case", tag="Cases", login=True,
            params=[param("id")],
            body={"required": True, "content": {"multipart/form-data": {"schema": obj({
                "files": array(string(fmt="binary", description="JPEG, PNG or PDF, at most "
                                                                "10 MB"),
                               max_items=attachments.MAX_FILES_PER_CASE)})}}},
            ok=(201, obj({"items": array(ref("Attachment"))}), "stored; images re-encoded "
                                                                 "without EXIF"),
            errors=[409, 422],
            description=f"The writer, while the case is open; at most "
                        f"{attachments.MAX_FILES_PER_CASE} files a case.")),
        "/api/v1/attachments/{id}": item(operation(
            "get", "downloadAttachment", "Download an attachment", tag="Cases",
            params=[param("id")],
            ok=(200, None, "the file, as a download (`Content-Disposition: attachment`)"),
            media=["image/jpeg", "image/png", "application/pdf"],
            description="The writer, moderators and the routed department; 404 for everyone "
                        "else.")),
        # moderation
        "/api/v1/moderation/queue": item(operation(
            "get", "moderationQueue", "What needs a moderator", tag="Moderation", login=True,
            ok=(200, ref("Queue"), "oldest first within each kind"), errors=[403])),
        "/api/v1/posts/{id}/moderate": item(operation(
            "post", "moderate", "A moderator's action on a post", tag="Moderation", login=True,
            params=[param("id")],
            body=json_body(obj({"action": string(enum=forms.MODERATOR_ACTIONS),
                                "reason": string(max_length=limits.REASON_MAX,
                                                 description="required for reject and hide")},
                               optional=["reason"])),
            ok=updated, errors=[409, 422],
            description="409 for a transition the lifecycle does not allow.")),
        # departments and statistics
        "/api/v1/departments": item(operation(
            "get", "listDepartments", "The city's departments", tag="Departments and statistics",
            ok=(200, obj({"items": array(ref("Department"))}), "all of them"))),
        "/api/v1/departments/{slug}/cases": item(operation(
            "get", "departmentCases", "Cases routed to a department",
            tag="Departments and statistics", login=True,
            params=[param("slug"), query("status", string(enum=[Status.ROUTED.value,
                                                                Status.REPLIED.value,
                                                                Status.CLOSED.value]),
                                         "only this status (`closed`: the archive)"),
                    query("role", string(enum=["lead", "helper"]),
                          "`lead` (default): the cases it leads (主办); `helper`: those it "
                          "helps with (协办)"),
                    query("officer", string(enum=["me"]),
                          "`me`: only the cases assigned to the caller (我的承办)"), *LIST],
            ok=(200, ref("DepartmentCases"), "its cases"), errors=[403, 422],
            description="Its staff, moderators and admins.")),
        "/api/v1/departments/{slug}/templates": item(
            operation("get", "listTemplates", "A department's reply templates",
                      tag="Departments and statistics", login=True, params=[param("slug")],
                      ok=(200, page_of(ref("Template")), "newest first, all of them"),
                      errors=[403],
                      description="Its staff, moderators and admins."),
            operation("post", "addTemplate", "Keep a reply template",
                      tag="Departments and statistics", login=True, params=[param("slug")],
                      body=json_body(obj({"title": string(1, limits.TEMPLATE_TITLE_MAX),
                                          "body": string(1, limits.TEMPLATE_BODY_MAX)})),
                      ok=(201, wrapped("template", ref("Template")), "the template"),
                      errors=[403, 409, 422],
                      description=f"Its staff and admins; at most "
                                  f"{limits.TEMPLATES_PER_DEPARTMENT_MAX} a department (409 "
                                  f"beyond). Audited.")),
        "/api/v1/departments/{slug}/templates/{id}": item(operation(
            "delete", "deleteTemplate", "Remove a reply template",
            tag="Departments and statistics", login=True, params=[param("slug"), param("id")],
            ok=(204, None, "removed"), errors=[403],
            description="Its staff and admins; a template of another department is 404. "
                        "Audited.")),
        "/api/v1/stats": item(operation(
            "get", "stats", "Case statistics", tag="Departments and statistics",
            params=[query("from", string(fmt="date"), "first day, `YYYY-MM-DD` (China time)"),
                    query("to", string(fmt="date"), "last day, `YYYY-MM-DD`")],
            ok=(200, ref("Stats"), "per board, department, level, area, type and month; "
                                   "cached five minutes"),
            errors=[422])),
        "/api/v1/stats.csv": item(operation(
            "get", "statsCsv", "Case statistics as a CSV table",
            tag="Departments and statistics",
            params=[query("by", string(enum=list(stats.GROUPINGS)), "one row per group of this",
                          required=True),
                    query("from", string(fmt="date"), "first day, `YYYY-MM-DD` (China time)"),
                    query("to", string(fmt="date"), "last day, `YYYY-MM-DD`")],
            ok=(200, None, "UTF-8 with a byte-order mark; a header row with the columns of "
                           "the figures, one row per group; departments add their `level`; "
                           "a cell starting with = + - @ is prefixed with '"),
            media=["text/csv"], errors=[422],
            description="422 names `by`, `from` or `to`.")),
        "/api/v1/departments/{slug}/record": item(operation(
            "get", "departmentRecord", "A department's figures this year and recent cases",
            tag="Departments and statistics", params=[param("slug")],
            ok=(200, ref("DepartmentRecord"), "anyone"))),
        # search
        "/api/v1/search": item(operation(
            "get", "search", "Search posts", tag="Search",
            params=[query("q", string(1, limits.QUERY_MAX), "words; never query syntax",
                          required=True),
                    query("board", string(enum=SLUGS), "only this board"),
                    query("sort", string(enum=list(forms.SORTS)),
                          f"`relevance` (default): best first; `newest`: the best "
                          f"{searching.COUNT_MAX} matches, newest first by `created_at`"),
                    query("from", DAY, "only posts created on or after this day (Beijing time)"),
                    query("to", DAY, "only posts created before this day (Beijing time; the "
                                     "day itself is not included); must be after `from`"),
                    *LIST],
            ok=(200, ref("SearchResults"), "best first, or newest first with `sort=newest`; "
                                           "only what the caller may see"),
            errors=[422, 429],
            description="Without a login, 60 searches a minute per address (429 with Retry-After "
                        "after that).")),
        "/api/v1/search/similar": item(operation(
            "get", "similar", "Answered questions like a title", tag="Search",
            params=[query("title", string(1, limits.QUERY_MAX), "the draft's title",
                          required=True),
                    query("board", string(enum=searching.consultation_boards()),
                          "only this consultation board (absent: every one)")],
            ok=(200, obj({"items": array(ref("Post"), max_items=searching.SIMILAR_MAX),
                          "faq": array(ref("Faq"), max_items=searching.FAQ_SHOWN,
                                       description="knowledge-base entries as close, to show "
                                                   "first")}),
                f"up to {searching.SIMILAR_MAX} answered public questions sharing real words "
                "with the title; empty when none is close"),
            errors=[422])),
        # the knowledge base
        "/api/v1/faq": item(
            operation("get", "listFaq", "Knowledge-base entries", tag="Knowledge base",
                      params=[query("board", string(enum=SLUGS), "only this board"), *LIST],
                      ok=(200, page_of(ref("Faq")), "newest first; none for confidential "
                                                    "boards"),
                      errors=[422]),
            operation("post", "addFaq", "Make a knowledge-base entry", tag="Knowledge base",
                      login=True,
                      body=json_body(obj({
                          "post_id": ID,
                          "question": string(1, limits.FAQ_QUESTION_MAX),
                          "answer": string(1, limits.FAQ_ANSWER_MAX,
                                           description="Markdown; rendered and sanitised as "
                                                       "post bodies")})),
                      ok=(201, wrapped("faq", ref("Faq")), "the entry"),
                      errors=[404, 422],
                      description="Moderators on any board, verified lawyers on `lawyer`, "
                                  "experts on `agri` (403 otherwise). The post must be an "
                                  "answered question or a closed public case (422 naming "
                                  "`post_id`); a post the caller may not see is 404. "
                                  "Audited.")),
        "/api/v1/faq/{id}": item(operation(
            "delete", "deleteFaq", "Remove a knowledge-base entry", tag="Knowledge base",
            login=True, params=[param("id")], ok=(204, None, "removed"), errors=[403],
            description="Moderators. Audited.")),
        # notifications
        "/api/v1/notifications": item(operation(
            "get", "notifications", "The caller's notifications", tag="Notifications",
            login=True, params=LIST, ok=(200, ref("Inbox"), "newest first"), errors=[422])),
        "/api/v1/notifications/read": item(operation(
            "post", "markRead", "Mark notifications read", tag="Notifications", login=True,
            body=json_body(obj({"ids": nullable(array(ID, max_items=100,
                                                      description="absent or null: all"))},
                               optional=["ids"])),
            ok=(200, obj({"marked": integer(0), "unread": integer(0)}), "how many changed "
                                                                         "and how many remain"),
            errors=[422])),
        # following (关注)
        "/api/v1/subscriptions": item(
            operation("get", "subscriptions", "What the caller follows", tag="Notifications",
                      login=True, params=LIST, ok=(200, page_of(ref("Subscription")),
                                                   "newest first"), errors=[422]),
            _also_ok(operation(
                "post", "follow", "Follow a post, a board or a department (关注)",
                tag="Notifications", login=True,
                body=json_body(obj({"target": string(
                    1, limits.SUBSCRIPTION_TARGET_MAX,
                    pattern=limits.anchored(limits.SUBSCRIPTION_TARGET_PATTERN),
                    description="`post:<id>`, `board:<slug>` or `department:<slug>`")})),
                ok=(201, wrapped("subscription", ref("Subscription")), "now followed"),
                errors=[404, 422],
                description="The caller is told (in the site, and by e-mail to a confirmed "
                            "address) of a post's replies, answers, official replies and "
                            "status changes; of a board's new posts once public; of a "
                            "department's official replies on public cases. A target the "
                            "caller may not see is 404, as reading it is; a missing or "
                            "malformed one 422 with `error.fields.target`."),
                200, wrapped("subscription", ref("Subscription")),
                "followed already: the subscription there is")),
        "/api/v1/subscriptions/{id}": item(operation(
            "delete", "unfollow", "Stop following", tag="Notifications", login=True,
            params=[param("id")], ok=(204, None, "no longer followed"),
            description="Another user's subscription is 404.")),
        # administration
        "/api/v1/admin/users": item(operation(
            "get", "findUsers", "Find accounts", tag="Administration", login=True,
            params=[query("q", string(max_length=limits.USER_SEARCH_MAX), "username prefix"),
                    param("limit"),
                    query("cursor", string(max_length=limits.USER_SEARCH_MAX),
                          "`next_cursor` of the previous page")],
            ok=(200, page_of(ref("PrivateUser")), "by username"), errors=[403, 422])),
        "/api/v1/admin/users/{username}": item(operation(
            "put", "updateUser",
            "Change an account's roles, department, specialties, display name or state",
            tag="Administration", login=True, params=[param("username")],
            body=json_body(obj({
                "roles": array(string(enum=ROLES), description="citizen is always kept"),
                "department": nullable(string(description="department slug; staff need one")),
                "specialties": array(string(enum=admin.known_specialties()),
                                     max_items=admin.SPECIALTIES_MAX),
                "disabled": boolean("disabling ends the account's sessions"),
                "display_name": string(1, limits.DISPLAY_NAME_MAX, description=(
                    "a department's name or an office title (市长, 书记, 信访局, 局长, 主任) "
                    "only for staff, moderators and administrators")),
            }, optional=sorted(admin.CHANGEABLE), closed=True)),
            ok=(200, wrapped("user", user), "the account"), errors=[403, 422],
            description="Audited. Unknown fields answer 422.")),
        "/api/v1/admin/departments": item(operation(
            "post", "addDepartment", "Add a department", tag="Administration", login=True,
            body=json_body(obj({"slug": string(2, 32, pattern="^[a-z][a-z0-9_-]{1,31}$"),
                                "name": string(1, 40)})),
            ok=(201, wrapped("department", ref("Department")), "created"),
            errors=[409, 422], description="409 when the slug is taken.")),
        "/api/v1/admin/boards/{slug}": item(operation(
            "put", "updateBoard", "Change a board's settings", tag="Administration",
            login=True, params=[param("slug")],
            body=json_body(obj({
                "name": string(1, 40), "description": string(max_length=500),
                "categories": array(string(1, 20), max_items=admin.CATEGORIES_MAX),
                "is_open": boolean("takes new posts"),
                "accept_days": integer(1, 30, description="case boards, working days"),
                "reply_days": integer(1, 60, description="case boards, working days"),
            }, optional=sorted(admin.BOARD_FIELDS), closed=True)),
            ok=(200, wrapped("board", ref("Board")), "the board"), errors=[403, 422])),
        "/api/v1/admin/api-keys": item(
            operation("get", "listApiKeys", "Issued API keys", tag="Administration",
                      login=True, ok=(200, obj({"items": array(ref("ApiKey"))}),
                                      "every key, revoked ones included, newest first"),
                      errors=[403]),
            operation("post", "issueApiKey", "Issue an API key for Open311 clients",
                      tag="Administration", login=True,
                      body=json_body(obj({"name": string(1, limits.API_KEY_NAME_MAX,
                                                         description="the client system")})),
                      ok=(201, obj({"key": string(description="the key: shown this once, "
                                                              "only its hash is kept"),
                                    "api_key": ref("ApiKey")}), "issued"),
                      errors=[403, 422], description="Audited.")),
        "/api/v1/admin/api-keys/{id}": item(operation(
            "delete", "revokeApiKey", "Revoke an API key", tag="Administration", login=True,
            params=[param("id"), query("reason", string(max_length=limits.REASON_MAX),
                                       "why, for the audit log")],
            ok=(200, wrapped("api_key", ref("ApiKey")), "revoked (again: unchanged)"),
            errors=[403, 422], description="The key stops working at once. Audited.")),
        "/api/v1/admin/audit": item(operation(
            "get", "auditLog", "The audit log", tag="Administration", login=True,
            params=[query("actor", string(max_length=32), "the acting username"),
                    query("post_id", ID, "actions on this post"), *LIST],
            ok=(200, page_of(ref("AuditEntry")), "newest first"), errors=[403, 422])),
        "/api/v1/admin/sensitive-words": item(
            operation("get", "sensitiveWords", "The sensitive-word list", tag="Administration",
                      login=True, ok=(200, obj({"words": array(string())}), "the list"),
                      errors=[403]),
            operation("put", "saveSensitiveWords", "Replace the sensitive-word list",
                      tag="Administration", login=True,
                      body=json_body(obj({"words": array(
                          string(max_length=settings.WORD_MAX_CHARS),
                          max_items=settings.WORDS_MAX)})),
                      ok=(200, obj({"words": array(string())}), "the list as saved"),
                      errors=[403, 422],
                      description="Posts matching a word wait for review; never dropped.")),
        "/api/v1/admin/calendar": item(
            operation("get", "calendar", "Holidays and working days added to chinesecalendar's",
                      tag="Administration", login=True,
                      ok=(200, ref("Calendar"), "the admins' lists and the covered years"),
                      errors=[403]),
            operation("put", "saveCalendar", "Replace the holidays and working days added to "
                      "chinesecalendar's",
                      tag="Administration", login=True,
                      body=json_body(obj({
                          "holidays": array(string(fmt="date"), max_items=settings.DAYS_MAX,
                                            description="days off the package does not have"),
                          "workdays": array(string(fmt="date"), max_items=settings.DAYS_MAX,
                                            description="days worked that the package has off "
                                                        "or does not cover (调休)")})),
                      ok=(200, ref("Calendar"), "the lists as saved"), errors=[403, 422],
                      description="Due times count working days by the package's calendar with "
                                  "these days on top; a day may not be in both lists.")),
    }


TAGS = [
    ("Accounts", "Registration, login (bearer tokens), logout and the caller's account."),
    ("Boards and posts", "The six boards, their posts and replies."),
    ("Consultation", "The lawyer and agricultural boards: accepted answers, the answerers' "
                     "workspace and public records."),
    ("Cases", "Mayor letters and tax reports: routing, returns, ratings, tracking codes and "
              "attachments."),
    ("Moderation", "The letters-and-visits bureau's queue and actions."),
    ("Departments and statistics", "Departments, their cases and the published figures."),
    ("Search", "Full-text search over what the caller may see."),
    ("Knowledge base", "常见问题: answered questions and closed public cases, edited into "
                       "entries each board shows."),
    ("Notifications", "What reached the caller."),
    ("Administration", "Accounts, departments, boards, word list, calendar and the audit log; "
                       "admins only, every change audited."),
]

DESCRIPTION = """\
The JSON API of the 玉溪网 interactive boards: everything the pages do, a client can do here.

* Bodies are JSON in UTF-8; times are ISO 8601 in UTC; ids are 24 hex digits.
* Authenticate with `Authorization: Bearer <token>` (from `POST /api/v1/auth/login`), or the
  browser's session cookie; cookie-authenticated writes must carry the XSRF token
  (`X-XSRFToken` header). Operations that list an empty security requirement also work
  without logging in, and may show a visitor less.
* Errors are `{"error": {"code", "message", "fields"?}}` with status 400, 401, 403, 404, 409,
  413, 422 or 429.
* Lists take `limit` (1 to 100, default 20) and `cursor`, and answer
  `{"items": [...], "next_cursor": "..." | null}`, newest first unless stated.
"""


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, freshly built."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "玉溪网互动交流 JSON API", "version": "1",
                 "description": DESCRIPTION},
        "servers": [{"url": "/", "description": "this server"}],
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "parameters": PARAMETERS,
            "responses": _error_responses(),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


@functools.cache
def document_json() -> bytes:
    """The document as served; it depends on code only, so it is built once per process."""
    return json.dumps(document(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# handlers ------------------------------------------------------------------------------------
class OpenApiHandler(ApiHandler):
    async def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")  # revalidated by ETag
        self.finish(document_json())


class ApiDocsPage(PageHandler):
    """The API reference, rendered in the browser by Redoc from /api/openapi.json."""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        # Redoc styles its components with styled-components, which writes <style> elements
        # at run time; that needs 'unsafe-inline' for styles, on this page only. Scripts stay
        # 'self' only: no inline script, no eval (the bootstrap is static/api-docs.js). Redoc
        # also carries a small icon font as a data: URL, which it loads when the schemas it
        # draws need it; fonts run no code.
        self.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'; font-src 'self' data:"))

    async def get(self) -> None:
        self.render("api_docs.html")
