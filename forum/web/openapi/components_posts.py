"""The component schemas of boards and posts: a post with its case and bulletin fields, its
replies, events, revisions and attachments, the thread and pages of posts, flags, the
answerers' workspace, search results and knowledge-base entries."""

from __future__ import annotations

from forum import boards, limits, workflow
from forum.model import Kind, ReplyKind, Status
from forum.services import attachments, forms, searching
from forum.web.openapi.schema import (
    BULLETIN_BOARDS,
    CASE_BOARDS,
    DAY,
    ID,
    SLUGS,
    TIME,
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
    return {
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
        "Workspace": page_of(
            ref("Post"),
            boards=array(string(enum=SLUGS)),
            board=string(enum=SLUGS),
            category=nullable(string()),
            mine_only=boolean("only the answerer's specialties"),
            counts=map_of(integer(0), "open questions per category"),
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
