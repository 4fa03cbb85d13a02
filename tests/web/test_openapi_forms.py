"""The OpenAPI document against the field definitions the services check with
(services/forms.py): every request body and query parameter made from a form carries each of
its fields' limits, patterns, choices and requiredness, and every form is documented. A limit
changed in a definition changes the document; one typed into the document by hand fails here."""

from __future__ import annotations

from typing import Any

import pytest

from forum import limits
from forum.services import forms
from forum.services.fields import (
    CHOICE_MAX,
    Choice,
    Day,
    Field,
    Fields,
    Flag,
    Identifier,
    Secret,
    Text,
    Whole,
)
from forum.web import openapi

# The operations whose JSON body is a form.
BODIES = {
    "register": forms.REGISTER,
    "login": forms.LOGIN,
    "changePassword": forms.CHANGE_PASSWORD,
    "requestPasswordReset": forms.RESET_REQUEST,
    "resetPassword": forms.RESET,
    "updateMe": forms.CHANGE_EMAIL,
    "createPost": forms.NEW_POST,
    "editPost": forms.EDIT_POST,
    "reply": forms.REPLY,
    "preview": forms.PREVIEW,
    "flagPost": forms.FLAG,
    "acceptAnswer": forms.ACCEPT,
    "routeCase": forms.ROUTE,
    "returnCase": forms.RETURN,
    "rateCase": forms.RATING,
    "assignOfficer": forms.ASSIGN,
    "requestExtension": forms.EXTENSION,
    "decideExtension": forms.EXTENSION_DECISION,
    "urgeCase": forms.URGE,
    "superviseCase": forms.SUPERVISE,
    "recordCallback": forms.CALLBACK,
    "mergeCase": forms.MERGE,
    "addNote": forms.NOTE,
    "moderate": forms.MODERATE,
    "addTemplate": forms.NEW_TEMPLATE,
    "addFaq": forms.NEW_FAQ,
    "updateUser": forms.USER_CHANGES,
    "addDepartment": forms.NEW_DEPARTMENT,
    "updateBoard": forms.BOARD_CHANGES,
    "issueApiKey": forms.NEW_API_KEY,
}
# Bodies that name only what they change: nothing in them is required.
CHANGES = {"updateUser", "updateBoard"}
# The operations whose query parameters are a form.
QUERIES = {
    "listPosts": forms.BOARD_POSTS,
    "workspace": forms.WORKSPACE,
    "departmentCases": forms.DESK,
    "search": forms.SEARCH,
    "similar": forms.SIMILAR,
    "listFaq": forms.FAQ_LIST,
    "findUsers": forms.USER_SEARCH,
    "auditLog": forms.AUDIT,
    "revokeApiKey": forms.REVOKE,
}
# A query parameter the service reports under another name (the page's `after`).
PARAMETER_NAMES = {("findUsers", "after"): "cursor"}
# Documented stricter than its definition: an id's pattern, where the service checks the text's
# length and then that it is an id.
NOT_FROM_THE_FORM = {("auditLog", "post_id")}
# Forms of another API: Open311 (/open311/v2) is documented by its own specification.
ELSEWHERE = {"OPEN311_REQUEST"}


@pytest.fixture(scope="module")
def operations() -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op
        for item in openapi.document()["paths"].values()
        for op in item.values()
    }


def all_forms() -> dict[str, forms.Form]:
    return {
        name: value
        for name, value in vars(forms).items()
        if name.isupper()
        and isinstance(value, dict)
        and value
        and all(isinstance(field, Field) for field in value.values())
    }


def carries(schema: dict[str, Any], field: Field) -> None:
    """The schema says what the definition checks."""
    kind = schema["type"][0] if isinstance(schema["type"], list) else schema["type"]
    if isinstance(field, Text):
        assert kind == "string" and schema["maxLength"] == field.max_len
        assert schema.get("minLength") == (field.min_len if field.required else None)
        assert schema.get("pattern") == (field.pattern and limits.anchored(field.pattern.pattern))
    elif isinstance(field, Secret):
        assert kind == "string"
        assert (schema["minLength"], schema["maxLength"]) == (field.min_len, field.max_len)
    elif isinstance(field, Whole):
        assert kind == "integer"
        assert (schema["minimum"], schema["maximum"]) == (field.least, field.most)
    elif isinstance(field, Choice):
        assert kind == "string"
        if field.choices:
            assert schema["enum"] == list(field.choices)
        else:
            assert schema["maxLength"] == CHOICE_MAX and "enum" not in schema
    elif isinstance(field, Flag):
        assert kind == "boolean"
    elif isinstance(field, Day):
        assert (kind, schema["format"], schema["maxLength"]) == ("string", "date", 10)
    else:
        assert isinstance(field, Identifier)
        assert (kind, schema["pattern"]) == ("string", "^[0-9a-f]{24}$")


def test_every_form_is_documented() -> None:
    documented = {id(form) for form in (*BODIES.values(), *QUERIES.values())}
    left_out = {name for name, form in all_forms().items() if id(form) not in documented}
    assert left_out == ELSEWHERE


@pytest.mark.parametrize("operation_id", sorted(BODIES))
def test_a_body_carries_its_forms_definitions(
    operations: dict[str, dict[str, Any]], operation_id: str
) -> None:
    form = BODIES[operation_id]
    body = operations[operation_id]["requestBody"]["content"]["application/json"]["schema"]
    for name, field in form.items():
        try:
            carries(body["properties"][name], field)
        except (AssertionError, KeyError) as error:
            raise AssertionError(
                f"{operation_id}: {name}: {body['properties'].get(name)}"
            ) from error
    wanted = set() if operation_id in CHANGES else {n for n, f in form.items() if f.required}
    assert set(body.get("required", [])) == wanted


@pytest.mark.parametrize("operation_id", sorted(QUERIES))
def test_a_query_carries_its_forms_definitions(
    operations: dict[str, dict[str, Any]], operation_id: str
) -> None:
    parameters = {p["name"]: p for p in operations[operation_id]["parameters"] if "name" in p}
    for name, field in QUERIES[operation_id].items():
        if (operation_id, name) in NOT_FROM_THE_FORM:
            continue
        parameter = parameters[PARAMETER_NAMES.get((operation_id, name), name)]
        assert parameter["in"] == "query" and parameter["required"] == field.required, name
        carries(parameter["schema"], field)


def test_the_documented_lengths_are_the_checked_ones() -> None:
    """What `maxLength` means for the services: the longest text a definition takes (a pattern
    aside), one character more refused."""
    for form in all_forms().values():
        for field in form.values():
            if not isinstance(field, Text) or field.pattern is not None:
                continue
            fields = Fields()
            assert fields.take(field, "f", "字" * field.max_len) == "字" * field.max_len
            assert fields.take(field, "g", "字" * (field.max_len + 1)) is None
            assert set(fields.errors) == {"g"}
