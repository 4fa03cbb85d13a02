"""The paths of consultation (accepted answers, the answerers' workspace), search and the
knowledge base."""

from __future__ import annotations

from forum.services import forms, searching
from forum.web.openapi.operations import (
    LIST,
    POST,
    item,
    json_body,
    operation,
    param,
    query,
    query_of,
    wrapped,
)
from forum.web.openapi.schema import (
    DAY,
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
        # consultation
        "/api/v1/posts/{id}/accept": item(
            operation(
                "post",
                "acceptAnswer",
                "Accept the best answer",
                tag="Consultation",
                login=True,
                params=[param("id")],
                body=json_body(body_of(forms.ACCEPT)),
                ok=(200, POST, "the question, now `resolved`"),
                errors=[422],
                description="The asker, choosing an `answer` of a lawyer or expert.",
            )
        ),
        "/api/v1/workspace": item(
            operation(
                "get",
                "workspace",
                "Open questions for a verified answerer",
                tag="Consultation",
                login=True,
                params=[
                    query_of("board", forms.CONSULTATION_BOARD, "one of the caller's boards"),
                    query_of("category", forms.CATEGORY, "one category of that board"),
                    query(
                        "all",
                        string(enum=["1", "true", "0", "false"]),
                        "`1` or `true`: every category, not only the caller's specialties",
                    ),
                    *LIST,
                ],
                ok=(200, ref("Workspace"), "oldest open questions first"),
                errors=[403, 422],
            )
        ),
        # search
        "/api/v1/search": item(
            operation(
                "get",
                "search",
                "Search posts",
                tag="Search",
                params=[
                    query_of("q", forms.QUERY, "words; never query syntax"),
                    query_of("board", forms.BOARD, "only this board"),
                    query_of(
                        "sort",
                        forms.SORT,
                        f"`relevance` (default): best first; `newest`: the best "
                        f"{searching.COUNT_MAX} matches, newest first by `created_at`",
                    ),
                    query("from", DAY, "only posts created on or after this day (Beijing time)"),
                    query(
                        "to",
                        DAY,
                        "only posts created before this day (Beijing time; the "
                        "day itself is not included); must be after `from`",
                    ),
                    *LIST,
                ],
                ok=(
                    200,
                    ref("SearchResults"),
                    "best first, or newest first with `sort=newest`; only what the caller may see",
                ),
                errors=[422, 429],
                description="Without a login, 60 searches a minute per address (429 with Retry-After "
                "after that).",
            )
        ),
        "/api/v1/search/similar": item(
            operation(
                "get",
                "similar",
                "Answered questions like a title",
                tag="Search",
                params=[
                    query_of("title", forms.QUERY, "the draft's title"),
                    query_of(
                        "board",
                        forms.CONSULTATION_BOARD,
                        "only this consultation board (absent: every one)",
                    ),
                ],
                ok=(
                    200,
                    obj(
                        {
                            "items": array(ref("Post"), max_items=searching.SIMILAR_MAX),
                            "faq": array(
                                ref("Faq"),
                                max_items=searching.FAQ_SHOWN,
                                description="knowledge-base entries as close, to show first",
                            ),
                        }
                    ),
                    f"up to {searching.SIMILAR_MAX} answered public questions sharing real words "
                    "with the title; empty when none is close",
                ),
                errors=[422],
            )
        ),
        # the knowledge base
        "/api/v1/faq": item(
            operation(
                "get",
                "listFaq",
                "Knowledge-base entries",
                tag="Knowledge base",
                params=[query_of("board", forms.BOARD, "only this board"), *LIST],
                ok=(200, page_of(ref("Faq")), "newest first; none for confidential boards"),
                errors=[422],
            ),
            operation(
                "post",
                "addFaq",
                "Make a knowledge-base entry",
                tag="Knowledge base",
                login=True,
                body=json_body(
                    body_of(
                        forms.NEW_FAQ, {"answer": "Markdown; rendered and sanitised as post bodies"}
                    )
                ),
                ok=(201, wrapped("faq", ref("Faq")), "the entry"),
                errors=[404, 422],
                description="Moderators on any board, verified lawyers on `lawyer`, "
                "experts on `agri` (403 otherwise). The post must be an "
                "answered question or a closed public case (422 naming "
                "`post_id`); a post the caller may not see is 404. "
                "Audited.",
            ),
        ),
        "/api/v1/faq/{id}": item(
            operation(
                "delete",
                "deleteFaq",
                "Remove a knowledge-base entry",
                tag="Knowledge base",
                login=True,
                params=[param("id")],
                ok=(204, None, "removed"),
                errors=[403],
                description="Moderators. Audited.",
            )
        ),
    }
