"""The paths of administration: accounts, departments, boards, API keys, the audit log, the
word list and the calendar; admins only."""

from __future__ import annotations

from forum.services import admin, forms, settings
from forum.web.openapi.operations import (
    LIST,
    PRIVATE_USER,
    item,
    json_body,
    operation,
    param,
    query,
    query_of,
    wrapped,
)
from forum.web.openapi.schema import (
    ID,
    ROLES,
    Schema,
    array,
    body_of,
    integer,
    nullable,
    obj,
    page_of,
    ref,
    string,
)


def paths() -> dict[str, Schema]:
    return {
        "/api/v1/admin/users": item(
            operation(
                "get",
                "findUsers",
                "Find accounts",
                tag="Administration",
                login=True,
                params=[
                    query_of("q", forms.USER_PREFIX, "username prefix"),
                    param("limit"),
                    query_of("cursor", forms.USER_PREFIX, "`next_cursor` of the previous page"),
                ],
                ok=(200, page_of(ref("PrivateUser")), "by username"),
                errors=[403, 422],
            )
        ),
        "/api/v1/admin/users/{username}": item(
            operation(
                "put",
                "updateUser",
                "Change an account's roles, department, specialties, display name or state",
                tag="Administration",
                login=True,
                params=[param("username")],
                body=json_body(
                    body_of(
                        forms.USER_CHANGES,
                        {
                            "disabled": "disabling ends the account's sessions",
                            "display_name": "a department's name or an office title (市长, 书记, 信访局, 局长, "
                            "主任) only for staff, moderators and administrators",
                        },
                        more={
                            "roles": array(
                                string(enum=ROLES), description="citizen is always kept"
                            ),
                            "department": nullable(
                                string(description="department slug; staff need one")
                            ),
                            "specialties": array(
                                string(enum=admin.known_specialties()),
                                max_items=admin.SPECIALTIES_MAX,
                            ),
                        },
                        changes=True,
                        closed=True,
                    )
                ),
                ok=(200, wrapped("user", PRIVATE_USER), "the account"),
                errors=[403, 422],
                description="Audited. Unknown fields answer 422.",
            )
        ),
        "/api/v1/admin/departments": item(
            operation(
                "post",
                "addDepartment",
                "Add a department",
                tag="Administration",
                login=True,
                body=json_body(body_of(forms.NEW_DEPARTMENT)),
                ok=(201, wrapped("department", ref("Department")), "created"),
                errors=[409, 422],
                description="409 when the slug is taken.",
            )
        ),
        "/api/v1/admin/boards/{slug}": item(
            operation(
                "put",
                "updateBoard",
                "Change a board's settings",
                tag="Administration",
                login=True,
                params=[param("slug")],
                body=json_body(
                    body_of(
                        forms.BOARD_CHANGES,
                        {"is_open": "takes new posts"},
                        more={
                            "categories": array(string(1, 20), max_items=admin.CATEGORIES_MAX),
                            "accept_days": integer(1, 30, description="case boards, working days"),
                            "reply_days": integer(1, 60, description="case boards, working days"),
                        },
                        changes=True,
                        closed=True,
                    )
                ),
                ok=(200, wrapped("board", ref("Board")), "the board"),
                errors=[403, 422],
            )
        ),
        "/api/v1/admin/api-keys": item(
            operation(
                "get",
                "listApiKeys",
                "Issued API keys",
                tag="Administration",
                login=True,
                ok=(
                    200,
                    obj({"items": array(ref("ApiKey"))}),
                    "every key, revoked ones included, newest first",
                ),
                errors=[403],
            ),
            operation(
                "post",
                "issueApiKey",
                "Issue an API key for Open311 clients",
                tag="Administration",
                login=True,
                body=json_body(body_of(forms.NEW_API_KEY, {"name": "the client system"})),
                ok=(
                    201,
                    obj(
                        {
                            "key": string(
                                description="the key: shown this once, only its hash is kept"
                            ),
                            "api_key": ref("ApiKey"),
                        }
                    ),
                    "issued",
                ),
                errors=[403, 422],
                description="Audited.",
            ),
        ),
        "/api/v1/admin/api-keys/{id}": item(
            operation(
                "delete",
                "revokeApiKey",
                "Revoke an API key",
                tag="Administration",
                login=True,
                params=[
                    param("id"),
                    query_of("reason", forms.OPTIONAL_REASON, "why, for the audit log"),
                ],
                ok=(200, wrapped("api_key", ref("ApiKey")), "revoked (again: unchanged)"),
                errors=[403, 422],
                description="The key stops working at once. Audited.",
            )
        ),
        "/api/v1/admin/audit": item(
            operation(
                "get",
                "auditLog",
                "The audit log",
                tag="Administration",
                login=True,
                params=[
                    query_of("actor", forms.ACTOR, "the acting username"),
                    # an id's pattern: the service checks the text's length, then that it is one
                    query("post_id", ID, "actions on this post"),
                    *LIST,
                ],
                ok=(200, page_of(ref("AuditEntry")), "newest first"),
                errors=[403, 422],
            )
        ),
        "/api/v1/admin/sensitive-words": item(
            operation(
                "get",
                "sensitiveWords",
                "The sensitive-word list",
                tag="Administration",
                login=True,
                ok=(200, obj({"words": array(string())}), "the list"),
                errors=[403],
            ),
            operation(
                "put",
                "saveSensitiveWords",
                "Replace the sensitive-word list",
                tag="Administration",
                login=True,
                body=json_body(
                    obj(
                        {
                            "words": array(
                                string(max_length=settings.WORD_MAX_CHARS),
                                max_items=settings.WORDS_MAX,
                            )
                        }
                    )
                ),
                ok=(200, obj({"words": array(string())}), "the list as saved"),
                errors=[403, 422],
                description="Posts matching a word wait for review; never dropped.",
            ),
        ),
        "/api/v1/admin/calendar": item(
            operation(
                "get",
                "calendar",
                "Holidays and working days added to chinesecalendar's",
                tag="Administration",
                login=True,
                ok=(200, ref("Calendar"), "the admins' lists and the covered years"),
                errors=[403],
            ),
            operation(
                "put",
                "saveCalendar",
                "Replace the holidays and working days added to chinesecalendar's",
                tag="Administration",
                login=True,
                body=json_body(
                    obj(
                        {
                            "holidays": array(
                                string(fmt="date"),
                                max_items=settings.DAYS_MAX,
                                description="days off the package does not have",
                            ),
                            "workdays": array(
                                string(fmt="date"),
                                max_items=settings.DAYS_MAX,
                                description="days worked that the package has off "
                                "or does not cover (调休)",
                            ),
                        }
                    )
                ),
                ok=(200, ref("Calendar"), "the lists as saved"),
                errors=[403, 422],
                description="Due times count working days by the package's calendar with "
                "these days on top; a day may not be in both lists.",
            ),
        ),
    }
