"""The document's component schemas: the shapes of the answers (forum/web/views.py), one module
per family of records (components_accounts.py, components_posts.py, components_departments.py,
components_admin.py); the shape of an error is here."""

from __future__ import annotations

from forum.model import Status
from forum.web.openapi import (
    components_accounts,
    components_admin,
    components_departments,
    components_posts,
)
from forum.web.openapi.schema import (
    TIME,
    Schema,
    map_of,
    nullable,
    obj,
    string,
)

# The order the document lists the schemas in, as it did before they were split by family; a
# schema not named here comes after these.
ORDER = (
    "Error",
    "User",
    "PrivateUser",
    "Login",
    "Author",
    "Board",
    "PostActions",
    "Post",
    "Reply",
    "Event",
    "Revision",
    "Attachment",
    "Thread",
    "PostPage",
    "Flag",
    "Notification",
    "Inbox",
    "Subscription",
    "SearchResult",
    "SearchResults",
    "Figures",
    "Stats",
    "DepartmentRecord",
    "QueueItem",
    "Queue",
    "Department",
    "DepartmentCases",
    "AuditEntry",
    "Workspace",
    "Profile",
    "ApiKey",
    "Calendar",
    "Template",
    "Faq",
)


def _error() -> Schema:
    return obj(
        {
            "error": obj(
                {
                    "code": string(
                        description="a word: `malformed`, `not_logged_in`, "
                        "`bad_credentials`, `forbidden`, `not_found`, "
                        "`conflict`, `invalid_transition`, `locked`, "
                        "`too_large`, `invalid`, `rate_limited`, ..."
                    ),
                    "message": string(description="human text (Chinese)"),
                    "fields": map_of(string(), "each invalid field's name and why, on 422"),
                    "state": obj(
                        {
                            "status": string(enum=[s.value for s in Status]),
                            "department": nullable(string()),
                            "updated_at": TIME,
                        },
                        optional=["department", "updated_at"],
                        description="409 on a post only: what the post is now, so the loser "
                        "of a race can decide again",
                    ),
                },
                optional=["fields", "state"],
            )
        }
    )


def schemas() -> dict[str, Schema]:
    """Every component schema, in ORDER."""
    found = {
        "Error": _error(),
        **components_accounts.schemas(),
        **components_posts.schemas(),
        **components_departments.schemas(),
        **components_admin.schemas(),
    }
    return {**{name: found.pop(name) for name in ORDER}, **found}
