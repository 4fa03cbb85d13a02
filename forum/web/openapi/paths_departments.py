"""The paths of moderation (the letters-and-visits bureau's queue), departments, their reply
templates and records, and the statistics."""

from __future__ import annotations

from forum import limits
from forum.services import forms, stats_reports
from forum.web.openapi.operations import (
    LIST,
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
    Schema,
    array,
    body_of,
    obj,
    page_of,
    ref,
    string,
)


def paths() -> dict[str, Schema]:
    return {
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
    }
