"""The component schemas of moderation, departments and statistics: the bureau's queue,
departments with their cases, records and reply templates, and the published figures."""

from __future__ import annotations

from forum import limits, workflow
from forum.web.openapi.schema import (
    ID,
    TIME,
    Schema,
    array,
    integer,
    map_of,
    nullable,
    number,
    obj,
    page_of,
    ref,
    string,
)


def schemas() -> dict[str, Schema]:
    def count(description: str | None = None) -> Schema:
        # null: withheld by the small-cell rule (see `withheld`)
        return nullable(integer(0, description=description))

    figures = obj(
        {
            "received": count(),
            "accepted": count(),
            "replied": count(),
            "closed": count(),
            "reply_rate": nullable(number(0, 1, description="replied / accepted")),
            "completion_rate": nullable(number(0, 1, description="closed / accepted (办结率)")),
            "on_time_rate": nullable(number(0, 1, description="replied in time / replied")),
            "median_first_reply_hours": nullable(number(0)),
            "overdue": count(),
            "satisfaction": obj(
                {score: count() for score in workflow.RATINGS},
                description="every rating and scored callback of the cases; a "
                "department's counts those judging its replies",
            ),
            "extended": count("cases with an approved extension (延期)"),
            "supervised": count("cases ever supervised (督办)"),
            "unrated": count("closed without a rating (未评价); among `closed`, never satisfied"),
            "merged": count(
                "merged into an earlier case (重复件); not in received, accepted, replied or closed"
            ),
            "withheld": array(
                string(),
                description="the figures withheld (null here), "
                "`satisfaction.<score>` for a score: in a group counting any "
                "confidential report (the tax board), counts of 1 to 4, and the "
                "rates and median hours of a group of fewer than 5 cases; pages "
                "and CSV show `<5`",
            ),
            "not_yet_due": count(
                "accepted, unanswered and still within their time; rates say "
                "nothing while this equals `accepted`"
            ),
        },
        description="The figures of cases received in the period, counted for the lead "
        "department; rates are null when nothing was accepted or replied.",
    )
    return {
        "Figures": figures,
        "Stats": obj(
            {
                "from": nullable(TIME),
                "to": nullable(TIME),
                "computed_at": TIME,
                "boards": map_of(ref("Figures"), "by board slug"),
                "departments": map_of(ref("Figures"), "by department slug"),
                "months": map_of(ref("Figures"), "by month, `YYYY-MM`"),
                "areas": map_of(ref("Figures"), "by area (`city` or a county-level division)"),
                "types": map_of(ref("Figures"), "by letter type"),
                "levels": map_of(
                    ref("Figures"), "by the lead department's kind, `bureau` or `county`"
                ),
                "department_levels": map_of(
                    string(enum=["bureau", "county"]), "each department's kind"
                ),
            }
        ),
        "DepartmentRecord": obj(
            {
                "department": ref("Department"),
                "since": string(fmt="date", description="the first day of this year (China time)"),
                "stats": ref("Figures"),
                "recent": array(ref("Post"), description="its latest closed public letters"),
            }
        ),
        "QueueItem": obj(
            {
                "kind": string(
                    enum=[
                        "submitted",
                        "reopened",
                        "to_route",
                        "pending",
                        "flagged",
                        "overdue",
                        "supervised",
                        "extension_request",
                        "callback_due",
                    ]
                ),
                "post": ref("Post"),
                "reason": string(),
                "since": nullable(TIME),
            }
        ),
        "Queue": page_of(
            ref("QueueItem"),
            counts=map_of(
                integer(0),
                "items per kind of `items`, and per casework section: "
                "`supervised`, `extension_requests`, `callbacks_due`",
            ),
            supervised=array(
                ref("QueueItem"),
                description="supervised cases (督办件), which head the queue; oldest first",
            ),
            extension_requests=array(
                obj(
                    {
                        "kind": string(enum=["extension_request"]),
                        "post": ref("Post"),
                        "reason": string(),
                        "since": nullable(TIME),
                        "extension": obj(
                            {
                                "status": string(enum=["requested"]),
                                "days": integer(
                                    limits.EXTENSION_DAYS_MIN, limits.EXTENSION_DAYS_MAX
                                ),
                                "reason": nullable(string(max_length=limits.REASON_MAX)),
                            }
                        ),
                    }
                ),
                description="extensions the lead departments asked for (延期申请), to approve "
                "or refuse with `POST /posts/{id}/extension/decision`",
            ),
            callbacks_due=array(
                ref("QueueItem"),
                description="cases replied or closed in the "
                "last 30 days with no callback yet (待回访), unsatisfied ones "
                "first",
            ),
        ),
        "Department": obj(
            {
                "slug": string(1, 32),
                "name": string(1, 40),
                "kind": string(
                    enum=["bureau", "county"],
                    description="`county`: a county-level government "
                    "(`gov-<area>`), routed to for local "
                    "matters; in lists of "
                    "departments",
                ),
            },
            optional=["kind"],
        ),
        "DepartmentCases": page_of(
            ref("Post"),
            department=ref("Department"),
            role=string(
                enum=["lead", "helper"],
                description="`helper`: the cases it helps with (协办), led by `post.department`",
            ),
            officer=nullable(
                string(enum=["me"], description="`me`: only the caller's own cases (我的承办)")
            ),
            overdue=array(
                ref("Post"), description="first page only: routed cases past their due time"
            ),
        ),
        "Template": obj(
            {
                "id": ID,
                "department": string(1, 32),
                "title": string(1, limits.TEMPLATE_TITLE_MAX),
                "body": string(
                    1, limits.TEMPLATE_BODY_MAX, description="Markdown, as a reply is written"
                ),
                "created_at": TIME,
            },
            description="A department's reply template (答复模板).",
        ),
    }
