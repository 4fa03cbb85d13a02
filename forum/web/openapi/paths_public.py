"""The paths of accounts, boards and posts, consultation, search, the knowledge base,
notifications and following."""

from __future__ import annotations

from forum import limits
from forum.services import forms, recovery, searching
from forum.web.openapi.operations import (
    LIST,
    POST,
    PRIVATE_USER,
    UPDATED,
    also_ok,
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
    ID,
    TIME,
    TRACKING_PATTERN,
    Schema,
    array,
    body_of,
    integer,
    nullable,
    obj,
    page_of,
    ref,
    string,
)

NOT_COMMON = "not a common password"


def paths() -> dict[str, Schema]:
    return {
        # accounts
        "/api/v1/auth/register": item(
            operation(
                "post",
                "register",
                "Create a citizen account",
                tag="Accounts",
                body=json_body(
                    body_of(
                        forms.REGISTER,
                        {
                            "password": NOT_COMMON,
                            "display_name": "any script, NFKC-normalised; the username when absent. No "
                            "control or format characters (422), no department name or "
                            "office title (市长, 书记, 信访局, 局长, 主任; 422)",
                            "email": "gets a confirmation link",
                        },
                    )
                ),
                ok=(201, wrapped("user", PRIVATE_USER), "created"),
                errors=[409, 422, 429],
                description="409 when the username is taken (compared case-insensitively).",
            )
        ),
        "/api/v1/auth/login": item(
            operation(
                "post",
                "login",
                "Log in for a bearer token",
                tag="Accounts",
                body=json_body(body_of(forms.LOGIN)),
                ok=(200, ref("Login"), "logged in"),
                errors=[401, 422, 429],
                description="401 alike for a wrong password, an unknown user and a disabled "
                "account; 429 after repeated failures.",
            )
        ),
        "/api/v1/auth/logout": item(
            operation(
                "post",
                "logout",
                "End this token or session",
                tag="Accounts",
                login=True,
                ok=(204, None, "logged out; the token or session no longer works"),
            )
        ),
        "/api/v1/auth/password": item(
            operation(
                "post",
                "changePassword",
                "Change the password",
                tag="Accounts",
                login=True,
                body=json_body(body_of(forms.CHANGE_PASSWORD, {"new_password": NOT_COMMON})),
                ok=(
                    200,
                    obj(
                        {
                            "token": string(
                                description="the new bearer token; only for bearer callers"
                            ),
                            "user": ref("PrivateUser"),
                            "expires_at": TIME,
                        },
                        optional=["token"],
                    ),
                    "changed; every other session and token of the account ends, and a fresh one "
                    "replaces the caller's: a bearer caller gets its token in `token`, a caller "
                    "with the session cookie gets a new cookie and no token in the body",
                ),
                errors=[422, 429],
                description="A wrong current password is a 422 on `current_password`; repeated "
                "failures are rate limited like logins.",
            )
        ),
        "/api/v1/auth/password-reset": item(
            operation(
                "post",
                "requestPasswordReset",
                "Ask for a password-reset link by e-mail",
                tag="Accounts",
                body=json_body(body_of(forms.RESET_REQUEST)),
                ok=(
                    202,
                    obj({"message": string()}),
                    "the same answer whether or not the account "
                    "exists: a link is mailed only to an existing "
                    "account's confirmed address",
                ),
                errors=[422, 429],
                description=f"The link holds a single-use token and works for "
                f"{recovery.RESET_MINUTES} minutes. Limited per address and per name "
                f"asked for.",
            )
        ),
        "/api/v1/auth/password-reset/confirm": item(
            operation(
                "post",
                "resetPassword",
                "Choose a new password with a reset link's token",
                tag="Accounts",
                body=json_body(
                    body_of(
                        forms.RESET,
                        {"token": "the last part of the mailed link", "new_password": NOT_COMMON},
                    )
                ),
                ok=(
                    204,
                    None,
                    "the password is changed and every session and token of the "
                    "account has ended; log in again",
                ),
                errors=[422, 429],
                description="A token works once: an unknown, used or expired token is a 422 on "
                "`token`. Repeated bad tokens are rate limited per address.",
            )
        ),
        "/api/v1/me": item(
            operation(
                "get",
                "getMe",
                "The caller's account",
                tag="Accounts",
                login=True,
                ok=(200, wrapped("user", PRIVATE_USER), "the account"),
            ),
            operation(
                "patch",
                "updateMe",
                "Change the e-mail address",
                tag="Accounts",
                login=True,
                body=json_body(
                    body_of(
                        forms.CHANGE_EMAIL,
                        {"current_password": "needed: the address receives password-reset links"},
                        or_null=["email"],
                    )
                ),
                ok=(
                    200,
                    wrapped("user", PRIVATE_USER),
                    "the account; a new address waits for its confirmation link",
                ),
                errors=[422, 429],
                description="A wrong current password is a 422 on `current_password`; "
                "repeated failures are rate limited.",
            ),
        ),
        "/api/v1/users/{username}": item(
            operation(
                "get",
                "getProfile",
                "A verified answerer's public record",
                tag="Consultation",
                params=[param("username")],
                ok=(200, ref("Profile"), "the record"),
                description="404 also for accounts that never answered: only answerers have a "
                "public record.",
            )
        ),
        # boards and posts
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
        # notifications
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
