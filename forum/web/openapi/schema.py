"""The builders the document is written with: JSON Schema pieces, and the schemas of the fields
the services check, made from their definitions (services/forms.py) by `schema_of`."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from forum import boards, limits
from forum.model import Kind, Role
from forum.services.fields import (
    CHOICE_MAX,
    Choice,
    Day,
    Field,
    Flag,
    Identifier,
    Secret,
    Text,
    Whole,
)
from forum.services.forms import Form

Schema = dict[str, Any]
JSON = "application/json"


def ref(name: str, description: str | None = None) -> Schema:
    return describe({"$ref": f"#/components/schemas/{name}"}, description)


def describe(schema: Schema, description: str | None) -> Schema:
    return {**schema, "description": description} if description else schema


def _given(schema: Schema, **keywords: Any) -> Schema:
    """The schema with each keyword (named as JSON Schema names it) that has a value."""
    return {**schema, **{key: value for key, value in keywords.items() if value is not None}}


def string(
    min_length: int | None = None,
    max_length: int | None = None,
    *,
    pattern: str | None = None,
    enum: Iterable[str] | None = None,
    fmt: str | None = None,
    description: str | None = None,
) -> Schema:
    return describe(
        _given(
            {"type": "string"},
            minLength=min_length,
            maxLength=max_length,
            pattern=pattern,
            enum=None if enum is None else list(enum),
            format=fmt,
        ),
        description,
    )


def integer(
    minimum: int | None = None,
    maximum: int | None = None,
    *,
    description: str | None = None,
    default: int | None = None,
) -> Schema:
    return describe(
        _given({"type": "integer"}, minimum=minimum, maximum=maximum, default=default), description
    )


def number(
    minimum: float | None = None, maximum: float | None = None, *, description: str | None = None
) -> Schema:
    return describe(_given({"type": "number"}, minimum=minimum, maximum=maximum), description)


def boolean(description: str | None = None) -> Schema:
    return describe({"type": "boolean"}, description)


def array(items: Schema, *, max_items: int | None = None, description: str | None = None) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if max_items is not None:
        schema["maxItems"] = max_items
    return describe(schema, description)


def nullable(schema: Schema) -> Schema:
    """The schema or null (JSON Schema 2020-12: a type list, or anyOf around a reference)."""
    if "$ref" in schema or not isinstance(schema.get("type"), str):
        description = schema.get("description")
        inner = {k: v for k, v in schema.items() if k != "description"}
        return describe({"anyOf": [inner, {"type": "null"}]}, description)
    result = {**schema, "type": [schema["type"], "null"]}
    if "enum" in result:
        result["enum"] = [*result["enum"], None]
    return result


def obj(
    properties: dict[str, Schema],
    *,
    optional: Iterable[str] = (),
    closed: bool = False,
    description: str | None = None,
) -> Schema:
    """An object whose properties are all required except `optional`. Response objects stay
    open (API.md: responses may carry more fields); `closed` is for bodies the services check
    for unknown fields."""
    left_out = set(optional)
    schema: Schema = {"type": "object", "properties": properties}
    required = [name for name in properties if name not in left_out]
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return describe(schema, description)


def map_of(values: Schema, description: str | None = None) -> Schema:
    return describe({"type": "object", "additionalProperties": values}, description)


def page_of(item: Schema, **more: Schema) -> Schema:
    """A list page of API.md: items, the cursor of the next page (null on the last), and extras."""
    return obj(
        {
            **more,
            "items": array(item),
            "next_cursor": nullable(
                string(
                    description="Opaque; pass as `cursor` for the next page. Null on the last page."
                )
            ),
        }
    )


# common pieces -------------------------------------------------------------------------------
ID = string(pattern="^[0-9a-f]{24}$", description="24 hex digits")
TIME = string(fmt="date-time", description="ISO 8601 in UTC, e.g. `2026-11-28T09:30:00.000Z`")
DAY = string(fmt="date", description="`YYYY-MM-DD`")
SLUGS = list(boards.BOARD_ORDER)
CASE_BOARDS = [slug for slug in SLUGS if boards.POLICIES[slug].kind is Kind.CASE]
BULLETIN_BOARDS = [slug for slug in SLUGS if boards.POLICIES[slug].kind is Kind.BULLETIN]
ROLES = [role.value for role in Role]
USERNAME_PATTERN = limits.anchored(limits.USERNAME_PATTERN)
TRACKING_PATTERN = limits.anchored(limits.TRACKING_PATTERN)


# the fields the services check ---------------------------------------------------------------
def schema_of(definition: Field, description: str | None = None) -> Schema:
    """The JSON Schema of a field, from the definition the services check it with. A text's
    least length is given where it is required only: an optional text left blank counts as
    left out (clearing a board's description, say). The values of a choice known only at the
    request (a board's categories, the departments) are not listed; it is a text of at most
    CHOICE_MAX characters then."""
    schema: Schema
    least = 1 if definition.required else None
    if isinstance(definition, Text):
        pattern = definition.pattern
        schema = string(
            definition.min_len if definition.required else None,
            definition.max_len,
            pattern=None if pattern is None else limits.anchored(pattern.pattern),
        )
    elif isinstance(definition, Secret):
        schema = string(definition.min_len, definition.max_len)
    elif isinstance(definition, Whole):
        schema = integer(definition.least, definition.most)
    elif isinstance(definition, Choice):
        schema = (
            string(enum=definition.choices) if definition.choices else string(least, CHOICE_MAX)
        )
    elif isinstance(definition, Flag):
        schema = boolean()
    elif isinstance(definition, Day):
        schema = string(least, definition.max_len, fmt="date")
    else:
        assert isinstance(definition, Identifier)
        schema = ID
    return describe(schema, description)


def body_of(
    form: Form,
    notes: Mapping[str, str] | None = None,
    *,
    more: Mapping[str, Schema] | None = None,
    or_null: Iterable[str] = (),
    changes: bool = False,
    closed: bool = False,
) -> Schema:
    """The object a request sends: the form's fields, with `notes` as their descriptions,
    required as the form defines them (none in `changes`, which name only what they change),
    and `more` optional properties that have no definition (lists). `or_null`: fields that
    also take null, as leaving them out."""
    notes = notes or {}
    properties = {name: schema_of(definition, notes.get(name)) for name, definition in form.items()}
    for name in or_null:
        properties[name] = nullable(properties[name])
    optional = [name for name, definition in form.items() if changes or not definition.required]
    return obj({**properties, **(more or {})}, optional=[*optional, *(more or {})], closed=closed)
