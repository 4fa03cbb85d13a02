"""The paths of cases and their casework, moderation, departments and statistics, and
administration."""

from __future__ import annotations

from forum import limits, workflow
from forum.services import admin, attachments, forms, settings, stats_reports
from forum.services.fields import CHOICE_MAX
from forum.services.forms import Form
from forum.web.openapi.operations import (
    LIST,
    POST,
    PRIVATE_USER,
    UPDATED,
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
    TIME,
    Schema,
    array,
    body_of,
    boolean,
    integer,
    nullable,
    obj,
    page_of,
    ref,
    string,
)


def _casework_paths() -> dict[str, Schema]:
    """The second release's casework (services/casework.py)."""

    def step(
        path: str,
        operation_id: str,
        summary: str,
        who: str,
        form: Form,
        status: int = 200,
        what: str = "the case",
    ) -> tuple[str, Schema]:
        return f"/api/v1/posts/{{id}}/{path}", item(
            operation(
                "post",
                operation_id,
                summary,
                tag="Cases",
                login=True,
                params=[param("id")],
                body=json_body(body_of(form)),
                ok=(status, POST, what),
                errors=[409, 422],
                description=who,
            )
        )

    paths = dict(
        [
            step(
                "assign",
                "assignOfficer",
                "Name the case's officer (承办人)",
                "Staff of the lead department; `username` of a member of it (422 otherwise).",
                forms.ASSIGN,
            ),
            step(
                "extension",
                "requestExtension",
                "Ask for more working days (延期)",
                "Staff of the lead department, once per routing (409 while one is pending or "
                "after one was approved). The answer also carries `extension` as asked.",
                forms.EXTENSION,
                201,
                "the case",
            ),
            step(
                "extension/decision",
                "decideExtension",
                "Approve or refuse an extension",
                "Moderators; approval moves `due_at` by the days asked and sets `extended`.",
                forms.EXTENSION_DECISION,
            ),
            step(
                "urge",
                "urgeCase",
                "Urge the lead department (催办)",
                "Moderators; the lead department's staff are notified.",
                forms.URGE,
                201,
            ),
            step(
                "supervise",
                "superviseCase",
                "Supervise a case (督办)",
                "Moderators; the mark lasts until the official reply.",
                forms.SUPERVISE,
            ),
            step(
                "callback",
                "recordCallback",
                "Record a callback (回访)",
                "Moderators, on a replied or closed case; `unsatisfied` reopens it once per case "
                "(shared with ratings), satisfaction closes a replied case.",
                forms.CALLBACK,
                201,
            ),
            step(
                "merge",
                "mergeCase",
                "Merge a duplicate into an earlier case (重复件)",
                "Moderators; `into` is an earlier case of the same board.",
                forms.MERGE,
                200,
                "the case, now `merged`",
            ),
        ]
    )
    paths["/api/v1/posts/{id}/notes"] = item(
        operation(
            "post",
            "addNote",
            "Add an internal note (协办意见)",
            tag="Cases",
            login=True,
            params=[param("id")],
            body=json_body(body_of(forms.NOTE)),
            ok=(201, obj({"reply": ref("Reply")}), "a reply of kind `internal`"),
            errors=[409, 422],
            description="Staff of the lead and helper departments, moderators. Never shown to the "
            "writer, the public or a tracking code.",
        )
    )
    paths["/api/v1/posts/{id}/ratings"] = item(
        operation(
            "get",
            "listRatings",
            "A case's ratings and callbacks",
            tag="Cases",
            params=[param("id")],
            ok=(
                200,
                obj(
                    {
                        "items": array(
                            obj(
                                {
                                    "at": TIME,
                                    "source": string(enum=["rating", "callback"]),
                                    "score": nullable(string(enum=workflow.RATINGS)),
                                    "comment": nullable(string()),
                                    "department": nullable(
                                        string(description="the department whose reply it judged")
                                    ),
                                    "reached": nullable(boolean()),
                                }
                            )
                        )
                    }
                ),
                "oldest first",
            ),
            description="Those who may see the case; comments masked for the public.",
        )
    )
    return paths


def paths() -> dict[str, Schema]:
    return {
        # cases
        "/api/v1/track/{code}": item(
            operation(
                "get",
                "track",
                "Follow a case by its tracking code",
                tag="Cases",
                params=[param("code")],
                ok=(200, ref("Thread"), "that case only"),
                errors=[429],
                description="Rate limited per address.",
            )
        ),
        "/api/v1/posts/{id}/route": item(
            operation(
                "post",
                "routeCase",
                "Route a case to a department",
                tag="Cases",
                login=True,
                params=[param("id")],
                body=json_body(
                    body_of(
                        forms.ROUTE,
                        {
                            "department": "department slug",
                            "due_days": "working days; the board's reply days when absent",
                        },
                        more={
                            "helpers": array(
                                string(1, CHOICE_MAX),
                                max_items=limits.HELPERS_MAX,
                                description="helper departments (协办), not the lead",
                            )
                        },
                    )
                ),
                ok=(200, POST, "the case, now `routed`"),
                errors=[409, 422],
                description="Moderators.",
            )
        ),
        "/api/v1/posts/{id}/return": item(
            operation(
                "post",
                "returnCase",
                "Send a misrouted case back",
                tag="Cases",
                login=True,
                params=[param("id")],
                body=json_body(body_of(forms.RETURN)),
                ok=(200, POST, "the case, `accepted` again and back in the queue"),
                errors=[409, 422],
                description="Staff of the routed department.",
            )
        ),
        "/api/v1/posts/{id}/rating": item(
            operation(
                "post",
                "rateCase",
                "Rate the official reply",
                tag="Cases",
                login=True,
                params=[param("id")],
                body=json_body(body_of(forms.RATING)),
                ok=UPDATED,
                errors=[409, 422],
                description="The writer, after an official reply, once. `satisfied` and "
                "`basically_satisfied` close the case; the first `unsatisfied` reopens "
                "it.",
            )
        ),
        **_casework_paths(),
        "/api/v1/posts/{id}/attachments": item(
            operation(
                "post",
                "attachFiles",
                "Attach evidence to a case",
                tag="Cases",
                login=True,
                params=[param("id")],
                body={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": obj(
                                {
                                    "files": array(
                                        string(
                                            fmt="binary",
                                            description="JPEG, PNG or PDF, at most 10 MB",
                                        ),
                                        max_items=attachments.MAX_FILES_PER_CASE,
                                    )
                                }
                            )
                        }
                    },
                },
                ok=(
                    201,
                    obj({"items": array(ref("Attachment"))}),
                    "stored; images re-encoded without EXIF",
                ),
                errors=[409, 422],
                description=f"The writer, while the case is open; at most "
                f"{attachments.MAX_FILES_PER_CASE} files a case.",
            )
        ),
        "/api/v1/attachments/{id}": item(
            operation(
                "get",
                "downloadAttachment",
                "Download an attachment",
                tag="Cases",
                params=[param("id")],
                ok=(200, None, "the file, as a download (`Content-Disposition: attachment`)"),
                media=["image/jpeg", "image/png", "application/pdf"],
                description="The writer, moderators and the routed department; 404 for everyone "
                "else.",
            )
        ),
        # moderation
        "/api/v1/moderation/queue": item(
            operation(
                "get",
                "moderationQueue",
                "What needs a moderator",
                tag="Moderation",
                login=True,
                ok=(200, ref("Queue"), "oldest first within each kind"),
                errors=[403],
            )
        ),
        "/api/v1/posts/{id}/moderate": item(
            operation(
                "post",
                "moderate",
                "A moderator's action on a post",
                tag="Moderation",
                login=True,
                params=[param("id")],
                body=json_body(body_of(forms.MODERATE, {"reason": "required for reject and hide"})),
                ok=UPDATED,
                errors=[409, 422],
                description="409 for a transition the lifecycle does not allow.",
            )
        ),
        # departments and statistics
        "/api/v1/departments": item(
            operation(
                "get",
                "listDepartments",
                "The city's departments",
                tag="Departments and statistics",
                ok=(200, obj({"items": array(ref("Department"))}), "all of them"),
            )
        ),
        "/api/v1/departments/{slug}/cases": item(
            operation(
                "get",
                "departmentCases",
                "Cases routed to a department",
                tag="Departments and statistics",
                login=True,
                params=[
                    param("slug"),
                    query_of(
                        "status", forms.DESK_STATUS, "only this status (`closed`: the archive)"
                    ),
                    query_of(
                        "role",
                        forms.DESK_ROLE,
                        "`lead` (default): the cases it leads (主办); `helper`: those it "
                        "helps with (协办)",
                    ),
                    query_of(
                        "officer",
                        forms.DESK_OFFICER,
                        "`me`: only the cases assigned to the caller (我的承办)",
                    ),
                    *LIST,
                ],
                ok=(200, ref("DepartmentCases"), "its cases"),
                errors=[403, 422],
                description="Its staff, moderators and admins.",
            )
        ),
        "/api/v1/departments/{slug}/templates": item(
            operation(
                "get",
                "listTemplates",
                "A department's reply templates",
                tag="Departments and statistics",
                login=True,
                params=[param("slug")],
                ok=(200, page_of(ref("Template")), "newest first, all of them"),
                errors=[403],
                description="Its staff, moderators and admins.",
            ),
            operation(
                "post",
                "addTemplate",
                "Keep a reply template",
                tag="Departments and statistics",
                login=True,
                params=[param("slug")],
                body=json_body(body_of(forms.NEW_TEMPLATE)),
                ok=(201, wrapped("template", ref("Template")), "the template"),
                errors=[403, 409, 422],
                description=f"Its staff and admins; at most "
                f"{limits.TEMPLATES_PER_DEPARTMENT_MAX} a department (409 "
                f"beyond). Audited.",
            ),
        ),
        "/api/v1/departments/{slug}/templates/{id}": item(
            operation(
                "delete",
                "deleteTemplate",
                "Remove a reply template",
                tag="Departments and statistics",
                login=True,
                params=[param("slug"), param("id")],
                ok=(204, None, "removed"),
                errors=[403],
                description="Its staff and admins; a template of another department is 404. "
                "Audited.",
            )
        ),
        "/api/v1/stats": item(
            operation(
                "get",
                "stats",
                "Case statistics",
                tag="Departments and statistics",
                params=[
                    query("from", string(fmt="date"), "first day, `YYYY-MM-DD` (China time)"),
                    query("to", string(fmt="date"), "last day, `YYYY-MM-DD`"),
                ],
                ok=(
                    200,
                    ref("Stats"),
                    "per board, department, level, area, type and month; cached five minutes",
                ),
                errors=[422],
            )
        ),
        "/api/v1/stats.csv": item(
            operation(
                "get",
                "statsCsv",
                "Case statistics as a CSV table",
                tag="Departments and statistics",
                params=[
                    query(
                        "by",
                        string(enum=list(stats_reports.GROUPINGS)),
                        "one row per group of this",
                        required=True,
                    ),
                    query("from", string(fmt="date"), "first day, `YYYY-MM-DD` (China time)"),
                    query("to", string(fmt="date"), "last day, `YYYY-MM-DD`"),
                ],
                ok=(
                    200,
                    None,
                    "UTF-8 with a byte-order mark; a header row with the columns of "
                    "the figures, one row per group; departments add their `level`; "
                    "a cell starting with = + - @ is prefixed with '",
                ),
                media=["text/csv"],
                errors=[422],
                description="422 names `by`, `from` or `to`.",
            )
        ),
        "/api/v1/departments/{slug}/record": item(
            operation(
                "get",
                "departmentRecord",
                "A department's figures this year and recent cases",
                tag="Departments and statistics",
                params=[param("slug")],
                ok=(200, ref("DepartmentRecord"), "anyone"),
            )
        ),
        # administration
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
