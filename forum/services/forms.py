"""The fields of each request, by the names the services read them under: one definition a field
(services/fields.py), with its limits from forum/limits.py.

The services check every submitted field with these definitions (`fields.take(TITLE, "title",
value)`), and the OpenAPI document (web/openapi/) builds its request bodies and query parameters
from the forms below, so the two cannot drift apart (tests/web/test_openapi.py holds them
together). A field some boards require and others do not take is optional in its form; the
service requires it where the board does.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Mapping, TypeVar

from forum import boards, limits, workflow
from forum.messages import msg
from forum.model import Kind, Status
from forum.services.fields import Choice, Day, Field, Flag, Identifier, Secret, Text, Whole

Form = Mapping[str, Field]

_Optional = TypeVar("_Optional", Text, Choice, Day)


def optional(definition: _Optional) -> _Optional:
    """The field as a form lists it that not every board (or action) requires."""
    return dataclasses.replace(definition, required=False)


def _working_days(least: int, most: int) -> str:
    return msg("应在 {least} 到 {most} 个工作日之间", least=least, most=most)


# words, patterns and choices of the checks below ---------------------------------------------
USERNAME_HINT = "3 到 32 个字母、数字或下划线"
EMAIL_HINT = "不是有效的电子邮箱地址"
NAME_MAX_TYPED = 256  # as at login: the name is checked, not its pattern
RESET_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,100}")
RESET_TOKEN_HINT = "链接无效或已过期"
DEPARTMENT_SLUG = re.compile(r"[a-z][a-z0-9_-]{1,31}")
BOARD_DESCRIPTION_MAX = 500
MODERATOR_ACTIONS = (
    "accept",
    "reject",
    "hide",
    "restore",
    "lock",
    "unlock",
    "pin",
    "unpin",
    "dismiss_flags",
)
SORTS = ("relevance", "newest")
# closed: the desk's archive, the cases it answered that are done
DESK_STATUSES = (Status.ROUTED.value, Status.REPLIED.value, Status.CLOSED.value)
DESK_ROLES = ("lead", "helper")  # the cases it leads (主办), the cases it helps with (协办)
DESK_OFFICERS = ("me",)  # only the cases assigned to the viewer (我的承办)
CONSULTATION_BOARDS = tuple(
    slug for slug, policy in boards.POLICIES.items() if policy.kind is Kind.CONSULTATION
)
# Open311 (services/open311.py): the specification's limit for a description, and ours.
OPEN311_DESCRIPTION_MAX = 4000
OPEN311_NAME_MAX = 20
OPEN311_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{4,23}")
OPEN311_ADDRESS_MAX = 200

# the definitions -----------------------------------------------------------------------------
USERNAME = Text(
    max_len=limits.USERNAME_MAX,
    min_len=limits.USERNAME_MIN,
    pattern=limits.USERNAME,
    pattern_hint=USERNAME_HINT,
)
TYPED_USERNAME = Text(max_len=NAME_MAX_TYPED)
NEW_PASSWORD = Secret(min_len=limits.PASSWORD_MIN, max_len=limits.PASSWORD_MAX)
PASSWORD = Secret(min_len=1, max_len=limits.PASSWORD_MAX)  # as typed: any the account has
DISPLAY_NAME = Text(max_len=limits.DISPLAY_NAME_MAX, required=False, naming=True)
EMAIL = Text(
    max_len=limits.EMAIL_MAX, required=False, pattern=limits.EMAIL, pattern_hint=EMAIL_HINT
)
RESET_TOKEN = Text(max_len=100, pattern=RESET_TOKEN_PATTERN, pattern_hint=RESET_TOKEN_HINT)

TITLE = Text(max_len=limits.TITLE_MAX, naming=True)
BODY = Text(max_len=limits.BODY_MAX, multiline=True)
OPTIONAL_TITLE, OPTIONAL_BODY = optional(TITLE), optional(BODY)  # an edit's, a preview's
REASON = Text(max_len=limits.REASON_MAX, multiline=True)
OPTIONAL_REASON = optional(REASON)  # a note, a comment, a reason some actions need
CATEGORY = Choice()  # among the board's categories
POST_STATUS = Choice(tuple(s.value for s in Status))  # among the board's statuses
ANONYMOUS = Flag()  # a visitor's post is anonymous unless told
PUBLIC = Flag()
CONTACT = Text(max_len=limits.CONTACT_MAX)  # required on the boards that want a real name
REAL_NAME = Text(max_len=limits.REAL_NAME_MAX, required=False, naming=True)
CASE_NUMBER = Text(max_len=limits.CASE_NUMBER_MAX)
RECEIVED_ON = Day()
DEPARTMENT = Choice(required=True)  # among the departments
LETTER_TYPE = Choice(tuple(boards.LETTER_TYPES), required=True)
AREA = Choice(tuple(boards.AREAS), required=True)
REPLY_ID = Identifier()
CONSULTATION_BOARD = Choice(CONSULTATION_BOARDS)  # among the caller's

DUE_DAYS = Whole(limits.DUE_DAYS_MIN, limits.DUE_DAYS_MAX, out_of_range=_working_days)
RATING_SCORE = Choice(workflow.RATINGS, required=True)
CALLBACK_SCORE = optional(RATING_SCORE)  # a callback that reached nobody has none
OFFICER_NAME = Text(max_len=64)
EXTENSION_DAYS = Whole(limits.EXTENSION_DAYS_MIN, limits.EXTENSION_DAYS_MAX, required=True)
APPROVE = Flag(required=True)
REACHED = Flag(required=True)
INTO = Identifier()
ACTION = Choice(MODERATOR_ACTIONS, required=True)
DESK_STATUS = Choice(DESK_STATUSES)
DESK_ROLE = Choice(DESK_ROLES)
DESK_OFFICER = Choice(DESK_OFFICERS)

QUERY = Text(max_len=limits.QUERY_MAX)
BOARD = Choice(boards.BOARD_ORDER)
SORT = Choice(SORTS)
FAQ_POST = Identifier()
FAQ_QUESTION = Text(max_len=limits.FAQ_QUESTION_MAX, naming=True)
FAQ_ANSWER = Text(max_len=limits.FAQ_ANSWER_MAX, multiline=True)
TEMPLATE_TITLE = Text(max_len=limits.TEMPLATE_TITLE_MAX, naming=True)
TEMPLATE_BODY = Text(max_len=limits.TEMPLATE_BODY_MAX, multiline=True)

USER_PREFIX = Text(max_len=limits.USER_SEARCH_MAX, required=False)
DISABLED = Flag()
DEPARTMENT_SLUG_FIELD = Text(
    max_len=limits.DEPARTMENT_SLUG_MAX,
    pattern=DEPARTMENT_SLUG,
    pattern_hint="2 到 32 个小写字母、数字、- 或 _，以字母开头",
)
DEPARTMENT_NAME = Text(max_len=limits.DEPARTMENT_NAME_MAX)
BOARD_NAME = Text(max_len=limits.DEPARTMENT_NAME_MAX)
BOARD_DESCRIPTION = Text(max_len=BOARD_DESCRIPTION_MAX, multiline=True, required=False)
IS_OPEN = Flag()
ACTOR = Text(max_len=limits.USERNAME_MAX, required=False)
AUDITED_POST = Text(max_len=limits.POST_ID_LENGTH, required=False)
API_KEY_NAME = Text(max_len=limits.API_KEY_NAME_MAX)

OPEN311_DESCRIPTION = Text(max_len=OPEN311_DESCRIPTION_MAX, multiline=True)
OPEN311_NAME = Text(max_len=OPEN311_NAME_MAX, required=False)
OPEN311_PHONE_FIELD = Text(
    max_len=24, required=False, pattern=OPEN311_PHONE, pattern_hint="不是有效的电话号码"
)
OPEN311_ADDRESS = Text(max_len=OPEN311_ADDRESS_MAX, required=False)

# the forms: request bodies -------------------------------------------------------------------
REGISTER: Form = {
    "username": USERNAME,
    "password": NEW_PASSWORD,
    "display_name": DISPLAY_NAME,
    "email": EMAIL,
}
LOGIN: Form = {"username": TYPED_USERNAME, "password": PASSWORD}
CHANGE_PASSWORD: Form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
RESET_REQUEST: Form = {"username": TYPED_USERNAME}
RESET: Form = {"token": RESET_TOKEN, "new_password": NEW_PASSWORD}
CHANGE_EMAIL: Form = {"email": EMAIL, "current_password": PASSWORD}

NEW_POST: Form = {
    "title": TITLE,
    "body": BODY,
    "category": CATEGORY,
    "anonymous": ANONYMOUS,
    "public": PUBLIC,
    "contact": optional(CONTACT),
    "real_name": REAL_NAME,
    "case_number": optional(CASE_NUMBER),
    "received_on": optional(RECEIVED_ON),
    "department": optional(DEPARTMENT),
    "letter_type": optional(LETTER_TYPE),
    "area": optional(AREA),
}
EDIT_POST: Form = {"title": OPTIONAL_TITLE, "body": OPTIONAL_BODY}
REPLY: Form = {"body": BODY}
PREVIEW: Form = {"body": OPTIONAL_BODY}
FLAG: Form = {"reason": REASON}
ACCEPT: Form = {"reply_id": REPLY_ID}

ROUTE: Form = {"department": DEPARTMENT, "due_days": DUE_DAYS, "note": OPTIONAL_REASON}
RETURN: Form = {"reason": REASON}
RATING: Form = {"score": RATING_SCORE, "comment": OPTIONAL_REASON}
ASSIGN: Form = {"username": OFFICER_NAME}
EXTENSION: Form = {"days": EXTENSION_DAYS, "reason": REASON}
EXTENSION_DECISION: Form = {"approve": APPROVE, "reason": OPTIONAL_REASON}
URGE: Form = {"note": OPTIONAL_REASON}
SUPERVISE: Form = {"reason": REASON}
CALLBACK: Form = {"reached": REACHED, "score": CALLBACK_SCORE, "note": OPTIONAL_REASON}
MERGE: Form = {"into": INTO, "reason": REASON}
NOTE: Form = {"body": BODY}
MODERATE: Form = {"action": ACTION, "reason": OPTIONAL_REASON}  # required to reject or hide

NEW_TEMPLATE: Form = {"title": TEMPLATE_TITLE, "body": TEMPLATE_BODY}
NEW_FAQ: Form = {"post_id": FAQ_POST, "question": FAQ_QUESTION, "answer": FAQ_ANSWER}

# Changes name only what they change: every field is optional there.
USER_CHANGES: Form = {"disabled": DISABLED, "display_name": DISPLAY_NAME}
NEW_DEPARTMENT: Form = {"slug": DEPARTMENT_SLUG_FIELD, "name": DEPARTMENT_NAME}
BOARD_CHANGES: Form = {"name": BOARD_NAME, "description": BOARD_DESCRIPTION, "is_open": IS_OPEN}
NEW_API_KEY: Form = {"name": API_KEY_NAME}

OPEN311_REQUEST: Form = {
    "description": OPEN311_DESCRIPTION,
    "first_name": OPEN311_NAME,
    "last_name": OPEN311_NAME,
    "phone": OPEN311_PHONE_FIELD,
    "email": EMAIL,
    "address_string": OPEN311_ADDRESS,
}

# the forms: query parameters -----------------------------------------------------------------
BOARD_POSTS: Form = {"status": POST_STATUS, "category": CATEGORY}
WORKSPACE: Form = {"board": CONSULTATION_BOARD, "category": CATEGORY}
DESK: Form = {"status": DESK_STATUS, "role": DESK_ROLE, "officer": DESK_OFFICER}
SEARCH: Form = {"q": QUERY, "board": BOARD, "sort": SORT}
SIMILAR: Form = {"title": QUERY, "board": CONSULTATION_BOARD}
FAQ_LIST: Form = {"board": BOARD}
USER_SEARCH: Form = {"q": USER_PREFIX, "after": USER_PREFIX}
AUDIT: Form = {"actor": ACTOR, "post_id": AUDITED_POST}
REVOKE: Form = {"reason": OPTIONAL_REASON}
