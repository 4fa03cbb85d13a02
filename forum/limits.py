"""The lengths, ranges and patterns fields are checked against, each written once.

The field definitions the services check with (services/forms.py, from which the OpenAPI
document in web/openapi/ is made) and the templates' `maxlength`, `min` and `max` attributes all
read these, so what a form lets people type, what the API documents and what the service
accepts cannot drift apart. Rate limits are in services/throttle.py, lifecycle rules in
workflow.py.
"""

from __future__ import annotations

import re

from forum import security

TITLE_MAX = 120
BODY_MAX = 20_000
# Reasons and notes: rejecting, hiding, routing, returning, rating comments, flags, revoking.
REASON_MAX = 500
CONTACT_MAX = 100
REAL_NAME_MAX = 40
CASE_NUMBER_MAX = 40
DISPLAY_NAME_MAX = 40
EMAIL_MAX = 254  # RFC 5321's limit for a whole address
PASSWORD_MIN, PASSWORD_MAX = 8, 256
USERNAME_MIN, USERNAME_MAX = 3, 32
DUE_DAYS_MIN, DUE_DAYS_MAX = 1, 60  # working days a routed case may be given
EXTENSION_DAYS_MIN, EXTENSION_DAYS_MAX = 1, 15  # working days an extension may add
HELPERS_MAX = 3  # helper departments (协办) beside a case's lead
POST_ID_LENGTH = 24  # a post's id: 24 hexadecimal digits
LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 20, 100
QUERY_MAX = 100  # a search, or a draft title looking for similar questions
USER_SEARCH_MAX = 32  # the admin's search for users by name prefix
API_KEY_NAME_MAX = 60
DEPARTMENT_SLUG_MAX, DEPARTMENT_NAME_MAX = 32, 40
TRACKING_INPUT_MAX = 64  # a 查询码 as typed, with spaces and dashes
SUBSCRIPTION_TARGET_MAX = 64  # what one follows: post:<24 hex>, board:<slug>, department:<slug>
TEMPLATE_TITLE_MAX = 60  # a reply template's name, as staff pick it from a list
TEMPLATE_BODY_MAX = 5_000  # its text: a reply's start, which staff complete
TEMPLATES_PER_DEPARTMENT_MAX = 100  # listed whole on the desk and in the reply form
FAQ_QUESTION_MAX = 200  # a knowledge-base entry's question, edited from the post's
FAQ_ANSWER_MAX = 10_000  # its answer, Markdown

# Patterns without anchors, for re.fullmatch; `anchored()` gives the OpenAPI form.
# What one follows (关注): a post by its id, a board or a department by its slug.
SUBSCRIPTION_TARGET_PATTERN = r"post:[0-9a-fA-F]{24}|(board|department):[a-z0-9_-]{1,32}"
USERNAME_PATTERN = rf"[A-Za-z0-9_]{{{USERNAME_MIN},{USERNAME_MAX}}}"
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
_TRACKING_CHAR = f"[{security.TRACKING_ALPHABET}]"
# A 查询码 as handed out: groups of four joined by dashes.
TRACKING_PATTERN = (
    f"{_TRACKING_CHAR}{{{security.TRACKING_GROUP_CHARS}}}"
    f"(-{_TRACKING_CHAR}{{{security.TRACKING_GROUP_CHARS}}})"
    f"{{{security.TRACKING_CODE_CHARS // security.TRACKING_GROUP_CHARS - 1}}}"
)
# A 查询码 as typed, once spaces and dashes are taken out: the current length, or the old one.
TRACKING_KEY_PATTERN = (
    f"{_TRACKING_CHAR}{{{security.TRACKING_CODE_CHARS}}}"
    f"|{_TRACKING_CHAR}{{{security.OLD_TRACKING_CODE_CHARS}}}"
)

USERNAME = re.compile(USERNAME_PATTERN)
EMAIL = re.compile(EMAIL_PATTERN)
TRACKING_KEY = re.compile(TRACKING_KEY_PATTERN)


def anchored(pattern: str) -> str:
    """The pattern as JSON Schema writes it (matched anywhere unless anchored)."""
    return f"^(?:{pattern})$" if "|" in pattern else f"^{pattern}$"
