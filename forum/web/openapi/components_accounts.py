"""The component schemas of users and accounts: users, logins, authors and profiles, and
what reaches a user (notifications, subscriptions)."""

from __future__ import annotations

from forum import limits
from forum.services import following
from forum.web.openapi.schema import (
    ID,
    ROLES,
    TIME,
    USERNAME_PATTERN,
    Schema,
    array,
    boolean,
    integer,
    map_of,
    nullable,
    obj,
    page_of,
    ref,
    string,
)


def _user_properties() -> dict[str, Schema]:
    return {
        "id": ID,
        "username": string(pattern=USERNAME_PATTERN),
        "display_name": string(1, limits.DISPLAY_NAME_MAX),
        "roles": array(string(enum=ROLES)),
        "department": nullable(string(description="department slug")),
        "specialties": array(string()),
    }


def schemas() -> dict[str, Schema]:
    return {
        "User": obj(_user_properties()),
        "PrivateUser": obj(
            {
                **_user_properties(),
                "email": nullable(string()),
                "email_confirmed": boolean(),
                "created_at": TIME,
            },
            description="A user as the user themselves and admins see it.",
        ),
        "Login": obj(
            {
                "token": string(description="the bearer token"),
                "user": ref("PrivateUser"),
                "expires_at": TIME,
            }
        ),
        "Author": obj(
            {
                "username": string(),
                "display_name": string(),
                "badge": string(description="a verified answerer's badge (认证律师, 农业专家)"),
                "specialties": array(string(), description="with `badge` only"),
            },
            optional=["badge", "specialties"],
        ),
        "Profile": obj(
            {
                "user": ref("User"),
                "badges": array(string()),
                "answers": obj(
                    {"total": integer(0), "accepted": integer(0), "by_board": map_of(integer(0))}
                ),
                "recent": array(
                    obj(
                        {
                            "post_id": ID,
                            "post_title": string(),
                            "answered_at": TIME,
                            "accepted": boolean(),
                        }
                    )
                ),
            }
        ),
        "Notification": obj(
            {
                "id": ID,
                "kind": string(description="reply, answer, official, status, routed, overdue, ..."),
                "post_id": nullable(ID),
                "text": string(),
                "created_at": TIME,
                "read": boolean(),
            }
        ),
        "Inbox": page_of(ref("Notification"), unread=integer(0)),
        "Subscription": obj(
            {
                "id": ID,
                "target": string(
                    1,
                    limits.SUBSCRIPTION_TARGET_MAX,
                    pattern=limits.anchored(limits.SUBSCRIPTION_TARGET_PATTERN),
                    description="`post:<id>`, `board:<slug>` or `department:<slug>`",
                ),
                "kind": string(enum=list(following.TARGET_KINDS)),
                "key": string(description="the post's id, or the board's or department's slug"),
                "name": nullable(
                    string(
                        description="the post's title, or the board's or "
                        "department's name; null when the caller may "
                        "no longer see it"
                    )
                ),
                "url": nullable(
                    string(description="its page; null when the caller may no longer see it")
                ),
                "created_at": TIME,
            }
        ),
    }
