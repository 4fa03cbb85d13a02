"""The whole document: its description, tags, paths and components."""

from __future__ import annotations

import functools
import json
from typing import Any

from forum.web.openapi import (
    components,
    paths_accounts,
    paths_admin,
    paths_cases,
    paths_consultation,
    paths_departments,
    paths_notifications,
    paths_posts,
)
from forum.web.openapi.operations import PARAMETERS, SECURITY_SCHEMES, error_responses

TAGS = [
    ("Accounts", "Registration, login (bearer tokens), logout and the caller's account."),
    ("Boards and posts", "The six boards, their posts and replies."),
    (
        "Consultation",
        "The lawyer and agricultural boards: accepted answers, the answerers' "
        "workspace and public records.",
    ),
    (
        "Cases",
        "Mayor letters and tax reports: routing, returns, ratings, tracking codes and attachments.",
    ),
    ("Moderation", "The letters-and-visits bureau's queue and actions."),
    ("Departments and statistics", "Departments, their cases and the published figures."),
    ("Search", "Full-text search over what the caller may see."),
    (
        "Knowledge base",
        "常见问题: answered questions and closed public cases, edited into "
        "entries each board shows.",
    ),
    ("Notifications", "What reached the caller."),
    (
        "Administration",
        "Accounts, departments, boards, word list, calendar and the audit log; "
        "admins only, every change audited.",
    ),
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
        "info": {"title": "玉溪网互动交流 JSON API", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": "/", "description": "this server"}],
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "paths": {
            **paths_accounts.paths(),
            **paths_posts.paths(),
            **paths_consultation.paths(),
            **paths_notifications.paths(),
            **paths_cases.paths(),
            **paths_departments.paths(),
            **paths_admin.paths(),
        },
        "components": {
            "schemas": components.schemas(),
            "parameters": PARAMETERS,
            "responses": error_responses(),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


@functools.cache
def document_json() -> bytes:
    """The document as served; it depends on code only, so it is built once per process."""
    return json.dumps(document(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
