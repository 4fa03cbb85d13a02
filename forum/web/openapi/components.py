"""The document's component schemas: the shapes of the answers (forum/web/views.py)."""

from __future__ import annotations

from forum import boards, limits, workflow
from forum.model import Kind, ReplyKind, Status
from forum.services import attachments, following, forms, searching
from forum.web.openapi.schema import (
    BULLETIN_BOARDS,
    CASE_BOARDS,
    DAY,
    ID,
    ROLES,
    SLUGS,
    TIME,
    USERNAME_PATTERN,
    Schema,
    array,
    boolean,
    integer,
    map_of,
    nullable,
    number,
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
    case_fields = {
        "public": boolean("the letter is published once accepted"),
        "department": nullable(
            string(
                description="slug of the department the case is routed "
                "to; on bulletins, the answering department"
            )
        ),
        "due_at": nullable(TIME),
        "overdue": boolean(),
        "reopened": boolean(),
        "rating": nullable(string(enum=workflow.RATINGS)),
        "rating_comment": nullable(string()),
        "contact": nullable(
            string(
                description="only for the writer, moderators and the routed "
                "department; null for everyone else"
            )
        ),
        "status_note": nullable(string(description="why: a rejection's or a hiding's reason")),
        "accept_due_at": nullable(TIME),
        "accepted_at": nullable(TIME),
        "replied_at": nullable(TIME),
        "closed_at": nullable(TIME),
        "helpers": array(
            string(),
            max_items=limits.HELPERS_MAX,
            description="slugs of the helper departments (协办)",
        ),
        "extension": nullable(
            obj(
                {
                    "status": string(enum=["requested", "approved", "refused"]),
                    "days": integer(limits.EXTENSION_DAYS_MIN, limits.EXTENSION_DAYS_MAX),
                    "reason": nullable(string(max_length=limits.REASON_MAX)),
                },
                description="this routing's extension (延期); the reason is null for the public",
            )
        ),
        "extended": boolean("an extension was approved"),
        "supervised": boolean("a supervised case (督办件), until the official reply"),
        "merged_into": nullable(ID),
        "officer": nullable(
            ref(
                "Author",
                "the named officer (承办人); null for anyone but "
                "moderators and the lead and helper departments",
            )
        ),
        "real_name": nullable(
            string(
                max_length=limits.REAL_NAME_MAX,
                description="the writer's name (姓名); only for the "
                "writer and those who work the case",
            )
        ),
    }
    bulletin_fields = {
        "case_number": nullable(string(max_length=limits.CASE_NUMBER_MAX)),
        "received_on": nullable(DAY),
        # mayor letters and hotline replies
        "letter_type": nullable(string(enum=list(boards.LETTER_TYPES))),
        "area": nullable(string(enum=list(boards.AREAS))),
    }
    post = obj(
        {
            "id": ID,
            "board": string(enum=SLUGS),
            "title": string(1, limits.TITLE_MAX),
            "body": string(
                description="Markdown as written, or with personal data masked for the public"
            ),
            "html": string(description="sanitised HTML rendering"),
            "author": nullable(ref("Author", "null when anonymous or hidden")),
            "status": string(enum=[s.value for s in Status]),
            "category": nullable(string()),
            "created_at": TIME,
            "updated_at": TIME,
            "reply_count": integer(0),
            "accepted_reply_id": nullable(ID),
            "pinned": boolean(),
            "locked": boolean(),
            "anonymous": boolean(),
            "actions": ref("PostActions"),
            "steps": array(
                string(enum=sorted({action for _, action in workflow.TRANSITIONS})),
                description="the lifecycle actions the caller may take now, by their "
                "names in the lifecycle (accept, reject, route, return, "
                "official, rate_satisfied, flag, ...)",
            ),
            **case_fields,
            **bulletin_fields,
        },
        optional=[*case_fields, *bulletin_fields],
        description=(
            f"Case boards ({', '.join(CASE_BOARDS)}) add `{'`, `'.join(case_fields)}`; "
            f"the hotline bulletin board ({', '.join(BULLETIN_BOARDS)}) adds "
            "`case_number`, `received_on` and `department`."
        ),
    )
    # Which extras a post carries follows from its board; the titles name the branches in the
    # rendered reference.
    post.update(
        {
            "if": {
                "title": "case boards",
                "required": ["board"],
                "properties": {"board": {"enum": CASE_BOARDS}},
            },
            "then": {"required": list(case_fields)},
            "else": {
                "title": "other boards",
                "if": {
                    "title": "hotline bulletins",
                    "required": ["board"],
                    "properties": {"board": {"enum": BULLETIN_BOARDS}},
                },
                "then": {"required": [*bulletin_fields, "department"]},
                "else": {"title": "discussion and consultation boards"},
            },
        }
    )

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
        "Error": obj(
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
        ),
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
        "Board": obj(
            {
                "slug": string(enum=SLUGS),
                "name": string(),
                "kind": string(enum=[k.value for k in Kind]),
                "description": string(),
                "categories": array(string()),
                "open": boolean("takes new posts"),
                "may_post": boolean("the caller may open a post here"),
                "accept_days": integer(1, 30, description="case boards: working days to accept"),
                "reply_days": integer(1, 60, description="case boards: working days to reply"),
            },
            optional=["accept_days", "reply_days"],
        ),
        "PostActions": obj(
            {
                name: boolean()
                for name in ("edit", "reply", "accept", "flag", "rate", "moderate", "return")
            },
            optional=["rate", "moderate", "return"],
            description="What the caller may do with the post now; `rate`, "
            "`moderate` and `return` on case boards only.",
        ),
        "Post": post,
        "Reply": obj(
            {
                "id": ID,
                "post_id": ID,
                "body": string(),
                "html": string(),
                "author": nullable(ref("Author")),
                "kind": string(enum=[k.value for k in ReplyKind]),
                "accepted": boolean("the asker chose this answer"),
                "created_at": TIME,
            }
        ),
        "Event": obj(
            {
                "at": TIME,
                "actor": string(description="an office or role, not a name"),
                "action": string(),
                "from_status": nullable(string()),
                "to_status": nullable(string()),
                "note": string(),
            }
        ),
        "Revision": obj({"id": ID, "title": string(), "body": string(), "edited_at": TIME}),
        "Attachment": obj(
            {
                "id": ID,
                "filename": string(),
                "content_type": string(enum=["image/jpeg", "image/png", "application/pdf"]),
                "size": integer(0, attachments.MAX_FILE_BYTES),
                "url": string(description="`/api/v1/attachments/{id}`"),
                "created_at": TIME,
            }
        ),
        "Thread": obj(
            {
                "post": ref("Post"),
                "replies": array(ref("Reply")),
                "events": array(ref("Event"), description="for those who may follow the case"),
                "attachments": array(ref("Attachment"), description="for those who may download"),
                "edited": boolean(),
                "revisions": array(
                    ref("Revision"), description="earlier texts, for the author and moderators"
                ),
            }
        ),
        "PostPage": {
            **page_of(
                ref("Post"),
                prev_cursor=string(
                    description="Given on pages after the first: pass as `before` for the page "
                    "before this one."
                ),
            ),
            "required": ["items", "next_cursor"],
        },
        "Flag": obj(
            {"id": ID, "post_id": ID, "reason": string(), "created_at": TIME, "open": boolean()}
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
        "SearchResult": obj(
            {
                "post": ref("Post"),
                "snippet": string(
                    description="escaped HTML with `<mark>` around the query's words"
                ),
                "score": number(),
            }
        ),
        "SearchResults": page_of(
            ref("SearchResult"),
            query=string(),
            terms=array(string(), description="the query's words"),
            sort=string(enum=list(forms.SORTS), description="the order of the items"),
            total=integer(
                0,
                description=f"matching posts the caller may see, counted up to "
                f"{searching.COUNT_MAX}; the store ranks only about "
                f"the newest 500 posts of each word, so older matches "
                f"may be left out",
            ),
            total_capped=boolean(
                description=f"true: there are more than `total` "
                f"({searching.COUNT_MAX}) and the pages end there"
            ),
            faq=array(
                ref("Faq"),
                max_items=searching.FAQ_SHOWN,
                description="knowledge-base entries matching the query, to show before "
                "the posts; first page only",
            ),
        ),
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
        "Workspace": page_of(
            ref("Post"),
            boards=array(string(enum=SLUGS)),
            board=string(enum=SLUGS),
            category=nullable(string()),
            mine_only=boolean("only the answerer's specialties"),
            counts=map_of(integer(0), "open questions per category"),
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
        "Faq": obj(
            {
                "id": ID,
                "board": string(enum=SLUGS),
                "question": string(1, limits.FAQ_QUESTION_MAX),
                "answer": string(
                    1,
                    limits.FAQ_ANSWER_MAX,
                    description="Markdown as written, personal data masked",
                ),
                "answer_html": string(description="sanitised HTML rendering"),
                "post_id": ID,
                "created_at": TIME,
            },
            description="A knowledge-base entry (常见问题), made from an answered "
            "question or a closed public case.",
        ),
    }
