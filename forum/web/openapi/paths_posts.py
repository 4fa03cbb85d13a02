"""The paths of the boards, their posts and replies, previews and flags."""

from __future__ import annotations

from forum.services import forms
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
    TRACKING_PATTERN,
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
        "/api/v1/boards": item(
            operation(
                "get",
                "listBoards",
                "The six boards",
                tag="Boards and posts",
                ok=(200, obj({"items": array(ref("Board"))}), "in their fixed order"),
            )
        ),
        "/api/v1/boards/{slug}/posts": item(
            operation(
                "get",
                "listPosts",
                "Posts of a board",
                tag="Boards and posts",
                params=[
                    param("slug"),
                    query_of(
                        "status", forms.POST_STATUS, "only this status (of the board's statuses)"
                    ),
                    query_of("category", forms.CATEGORY, "only this category of the board"),
                    *LIST,
                    query(
                        "before",
                        string(),
                        "the `prev_cursor` of a page: the page before it (not with `cursor`)",
                    ),
                ],
                ok=(
                    200,
                    ref("PostPage"),
                    "newest first, pinned first on the first page; only what the caller may see",
                ),
                errors=[422],
            ),
            operation(
                "post",
                "createPost",
                "Open a post, question, case or bulletin",
                tag="Boards and posts",
                params=[param("slug")],
                body=json_body(
                    body_of(
                        forms.NEW_POST,
                        {
                            "body": "Markdown",
                            "category": "one of the board's categories",
                            "anonymous": "lawyer, agri: show as 网友; tax: no name (the default "
                            "without an account)",
                            "public": "mayor: publish the letter once accepted",
                            "contact": "mayor: required (实名); tax: optional",
                            "real_name": "mayor: the writer's name (姓名), optional",
                            "case_number": "hotline: required",
                            "received_on": "hotline: the call's date, required",
                            "department": "hotline: the answering department's slug, required",
                            "letter_type": "mayor, hotline: the letter's type, required",
                            "area": "mayor, hotline: `city` or a county-level division, required",
                        },
                    )
                ),
                ok=(
                    201,
                    obj(
                        {
                            "post": ref("Post"),
                            "tracking_code": string(
                                34,
                                34,
                                pattern=TRACKING_PATTERN,
                                description="case boards only, shown this once",
                            ),
                        },
                        optional=["tracking_code"],
                    ),
                    "created",
                ),
                errors=[401, 422, 429],
                description="Who may write where follows the board (PRODUCT.md): tax "
                "reports need no account; hotline bulletins are for staff "
                "and moderators. Posts with sensitive words, or many links "
                "from a new account, wait for review (`pending`).",
            ),
        ),
        "/api/v1/posts/{id}": item(
            operation(
                "get",
                "getPost",
                "A post with its replies and events",
                tag="Boards and posts",
                params=[param("id")],
                ok=(200, ref("Thread"), "the thread"),
            ),
            operation(
                "patch",
                "editPost",
                "Edit a post",
                tag="Boards and posts",
                login=True,
                params=[param("id")],
                body=json_body(
                    body_of(
                        forms.EDIT_POST,
                        {"title": "not blank when given", "body": "not blank when given"},
                    )
                ),
                ok=UPDATED,
                errors=[422],
                description="The author within 30 minutes, or a moderator; the earlier "
                "text is kept as a revision.",
            ),
        ),
        "/api/v1/posts/{id}/replies": item(
            operation(
                "get",
                "listReplies",
                "Replies of a post",
                tag="Boards and posts",
                params=[param("id")],
                ok=(200, page_of(ref("Reply")), "oldest first, all on one page"),
            ),
            operation(
                "post",
                "reply",
                "Reply to a post",
                tag="Boards and posts",
                login=True,
                params=[param("id")],
                body=json_body(body_of(forms.REPLY)),
                ok=(201, wrapped("reply", ref("Reply")), "created"),
                errors=[409, 422, 429],
                description="The kind follows from the board and the role: `official` "
                "(staff of the routed department; the case becomes "
                "`replied`), `answer` (lawyer or expert), `follow_up` (the "
                "asker), `comment` (others in the forum). 409 when locked.",
            ),
        ),
        "/api/v1/preview": item(
            operation(
                "post",
                "preview",
                "Render Markdown as a saved post would",
                tag="Boards and posts",
                body=json_body(body_of(forms.PREVIEW)),
                ok=(200, obj({"html": string()}), "sanitised HTML"),
                errors=[422],
            )
        ),
        "/api/v1/posts/{id}/flag": item(
            operation(
                "post",
                "flagPost",
                "Report a post to the moderators",
                tag="Boards and posts",
                login=True,
                params=[param("id")],
                body=json_body(body_of(forms.FLAG)),
                ok=(201, wrapped("flag", ref("Flag")), "recorded"),
                errors=[409, 422],
                description="One open flag per reader and post (409 for a second); not on one's "
                "own post (403).",
            )
        ),
    }
