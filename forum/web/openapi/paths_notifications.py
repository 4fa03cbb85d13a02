"""The paths of notifications and following (关注)."""

from __future__ import annotations

from forum import limits
from forum.web.openapi.operations import (
    LIST,
    also_ok,
    item,
    json_body,
    operation,
    param,
    wrapped,
)
from forum.web.openapi.schema import (
    ID,
    Schema,
    array,
    integer,
    nullable,
    obj,
    page_of,
    ref,
    string,
)


def paths() -> dict[str, Schema]:
    return {
        "/api/v1/notifications": item(
            operation(
                "get",
                "notifications",
                "The caller's notifications",
                tag="Notifications",
                login=True,
                params=LIST,
                ok=(200, ref("Inbox"), "newest first"),
                errors=[422],
            )
        ),
        "/api/v1/notifications/read": item(
            operation(
                "post",
                "markRead",
                "Mark notifications read",
                tag="Notifications",
                login=True,
                body=json_body(
                    obj(
                        {
                            "ids": nullable(
                                array(ID, max_items=100, description="absent or null: all")
                            )
                        },
                        optional=["ids"],
                    )
                ),
                ok=(
                    200,
                    obj({"marked": integer(0), "unread": integer(0)}),
                    "how many changed and how many remain",
                ),
                errors=[422],
            )
        ),
        # following (关注)
        "/api/v1/subscriptions": item(
            operation(
                "get",
                "subscriptions",
                "What the caller follows",
                tag="Notifications",
                login=True,
                params=LIST,
                ok=(200, page_of(ref("Subscription")), "newest first"),
                errors=[422],
            ),
            also_ok(
                operation(
                    "post",
                    "follow",
                    "Follow a post, a board or a department (关注)",
                    tag="Notifications",
                    login=True,
                    body=json_body(
                        obj(
                            {
                                "target": string(
                                    1,
                                    limits.SUBSCRIPTION_TARGET_MAX,
                                    pattern=limits.anchored(limits.SUBSCRIPTION_TARGET_PATTERN),
                                    description="`post:<id>`, `board:<slug>` or `department:<slug>`",
                                )
                            }
                        )
                    ),
                    ok=(201, wrapped("subscription", ref("Subscription")), "now followed"),
                    errors=[404, 422],
                    description="The caller is told (in the site, and by e-mail to a confirmed "
                    "address) of a post's replies, answers, official replies and "
                    "status changes; of a board's new posts once public; of a "
                    "department's official replies on public cases. A target the "
                    "caller may not see is 404, as reading it is; a missing or "
                    "malformed one 422 with `error.fields.target`.",
                ),
                200,
                wrapped("subscription", ref("Subscription")),
                "followed already: the subscription there is",
            ),
        ),
        "/api/v1/subscriptions/{id}": item(
            operation(
                "delete",
                "unfollow",
                "Stop following",
                tag="Notifications",
                login=True,
                params=[param("id")],
                ok=(204, None, "no longer followed"),
                description="Another user's subscription is 404.",
            )
        ),
    }
