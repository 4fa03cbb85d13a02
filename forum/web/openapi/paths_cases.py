"""The paths of cases: tracking codes, routing, returns, ratings and attachments; the
casework steps between them are paths_casework.py's."""

from __future__ import annotations

from forum import limits
from forum.services import attachments, forms
from forum.services.fields import CHOICE_MAX
from forum.web.openapi import paths_casework
from forum.web.openapi.operations import (
    POST,
    UPDATED,
    item,
    json_body,
    operation,
    param,
)
from forum.web.openapi.schema import (
    Schema,
    array,
    body_of,
    obj,
    ref,
    string,
)


def paths() -> dict[str, Schema]:
    return {
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
        **paths_casework.paths(),
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
    }
