"""The component schemas of administration: the audit log, API keys and the calendar."""

from __future__ import annotations

from forum import limits
from forum.web.openapi.schema import (
    DAY,
    ID,
    ROLES,
    TIME,
    Schema,
    array,
    boolean,
    integer,
    nullable,
    obj,
    string,
)


def schemas() -> dict[str, Schema]:
    return {
        "AuditEntry": obj(
            {
                "at": TIME,
                "actor_id": ID,
                "actor": nullable(
                    obj(
                        {
                            "username": string(),
                            "display_name": string(),
                            "roles": array(string(enum=ROLES)),
                        },
                        description="who acted; null when the account is gone",
                    )
                ),
                "action": string(),
                "target": string(description="`user:NAME`, `post:ID`, `department:SLUG`, ..."),
                "reason": string(),
                "detail": string(),
            }
        ),
        "ApiKey": obj(
            {
                "id": ID,
                "name": string(1, limits.API_KEY_NAME_MAX),
                "created_by": ID,
                "created_at": TIME,
                "revoked_at": nullable(TIME),
                "active": boolean(),
            },
            description="A key issued to another system (Open311 clients); the key "
            "itself is shown only once, when issued.",
        ),
        "Calendar": obj(
            {
                "covered_years": array(
                    integer(),
                    description="the years the installed "
                    "`chinesecalendar` package has holidays and make-up working "
                    "days (调休) for, ascending",
                ),
                "holidays": array(DAY, description="the admins' days off, on top of the package's"),
                "workdays": array(
                    DAY,
                    description="the admins' working days, on top of the "
                    "package's; they win over its holidays",
                ),
                "warning": nullable(
                    string(
                        description="set while next year (China Standard Time) "
                        "is not covered: upgrade the package"
                    )
                ),
            },
            description="Working days are Monday to Friday, less the package's holidays, plus "
            "its make-up working weekends, for the years it covers; the admins' "
            "days win over it.",
        ),
    }
