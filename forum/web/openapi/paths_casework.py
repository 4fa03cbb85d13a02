"""The paths of the casework steps on a case (services/casework.py): assigning an officer,
extensions and their decisions, urging, supervising, callbacks and merging; and the case's notes
and ratings. paths_cases.py places them among the cases' paths."""

from __future__ import annotations

from forum import workflow
from forum.services import forms
from forum.services.forms import Form
from forum.web.openapi.operations import (
    POST,
    item,
    json_body,
    operation,
    param,
)
from forum.web.openapi.schema import (
    TIME,
    Schema,
    array,
    body_of,
    boolean,
    nullable,
    obj,
    ref,
    string,
)


def paths() -> dict[str, Schema]:
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

    steps = dict(
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
    steps["/api/v1/posts/{id}/notes"] = item(
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
    steps["/api/v1/posts/{id}/ratings"] = item(
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
    return steps
