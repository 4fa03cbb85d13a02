"""Checking submitted fields. Services receive values as clients sent them (JSON of any type, or
form strings) and check them here, so every face of the portal gets the same answers.

A `Fields` collects every problem of one submission and raises them together as Invalid, so a
form can mark all wrong fields at once. A field's rules are written once, as a definition (`Text`,
`Secret`, `Whole`, `Choice`, `Flag`, `Day`, `Identifier`); services/forms.py names the definitions
of each request, the services check with them (`fields.take(TITLE, "title", value)`) and the
OpenAPI document (web/openapi/) is made from them, so what is documented is what is checked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol, TypeVar

from forum.errors import Invalid
from forum.limits import LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX
from forum.messages import msg
from forum.model import is_id
from forum.text import (
    has_control_chars,
    has_hidden_chars,
    normalize_block,
    normalize_line,
    normalize_name,
)

MISSING = "必填"
WRONG_TYPE = "类型错误"
HIDDEN_CHARS = "不能包含控制字符或不可见的格式字符（如零宽空格、文字方向控制符）"

CHOICE_MAX = 64  # a choice is read as a text of at most this many characters first

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


def _has_lone_surrogate(value: str) -> bool:
    # JSON may carry "\ud800"; such a string cannot be stored as UTF-8 (the "invalid UTF-8" case).
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _out_of_range(least: int, most: int) -> str:
    return msg("应在 {least} 到 {most} 之间", least=least, most=most)


class Fields:
    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(
        self,
        name: str,
        value: Any,
        *,
        max_len: int,
        min_len: int = 1,
        multiline: bool = False,
        required: bool = True,
        naming: bool = False,
        pattern: re.Pattern[str] | None = None,
        pattern_hint: str = "",
    ) -> str | None:
        """A string field, normalised; None when optional and absent or blank. `naming`: the
        field names a person or a post (a display name, a title), so it is NFKC-normalised and
        refused with invisible format characters in it."""
        if value is None:
            if required:
                self.fail(name, MISSING)
            return None
        if not isinstance(value, str):
            self.fail(name, WRONG_TYPE + "：应为文本")
            return None
        if _has_lone_surrogate(value) or has_control_chars(value.replace("\t", " ")):
            self.fail(name, "包含无效字符")
            return None
        if naming and has_hidden_chars(value):
            self.fail(name, HIDDEN_CHARS)
            return None
        if naming:
            cleaned = normalize_name(value)
        else:
            cleaned = normalize_block(value) if multiline else normalize_line(value)
        if not cleaned:
            if required:
                self.fail(name, MISSING)
            return None
        if len(cleaned) < min_len:
            self.fail(name, msg("至少 {count} 个字符", count=min_len))
        elif len(cleaned) > max_len:
            self.fail(name, msg("最多 {count} 个字符", count=max_len))
        elif pattern is not None and not pattern.fullmatch(cleaned):
            self.fail(name, pattern_hint or "格式不正确")
        else:
            return cleaned
        return None

    def secret(self, name: str, value: Any, *, min_len: int, max_len: int) -> str | None:
        """A password: kept exactly as typed (no trimming, no truncation)."""
        if value is None or value == "":
            self.fail(name, MISSING)
            return None
        if not isinstance(value, str):
            self.fail(name, WRONG_TYPE + "：应为文本")
            return None
        if _has_lone_surrogate(value) or "\x00" in value:
            self.fail(name, "包含无效字符")
            return None
        if not min_len <= len(value) <= max_len:
            self.fail(name, msg("长度应为 {least} 到 {most} 个字符", least=min_len, most=max_len))
            return None
        return value

    def flag(self, name: str, value: Any, *, default: bool = False) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, WRONG_TYPE + "：应为 true 或 false")
            return default
        return value

    def choice(
        self, name: str, value: Any, choices: Iterable[str], *, required: bool = False
    ) -> str | None:
        text = self.text(name, value, max_len=CHOICE_MAX, required=required)
        if text is None:
            return None
        allowed = list(choices)
        if text not in allowed:
            self.fail(name, msg("可选值：{choices}", choices=allowed))
            return None
        return text

    def whole(
        self,
        name: str,
        value: Any,
        *,
        least: int,
        most: int,
        out_of_range: Callable[[int, int], str] | None = None,
    ) -> int | None:
        """A whole number from JSON (an integer) or a form (its digits); None when absent or
        blank. Booleans, fractions and words are refused, and so is anything out of range
        (`out_of_range(least, most)` words the message)."""
        if value is None or value == "":
            return None
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            number = int(value.strip())
        if number is None:
            self.fail(name, "应为整数")
        elif not least <= number <= most:
            self.fail(name, (out_of_range or _out_of_range)(least, most))
        else:
            return number
        return None

    def identifier(self, name: str, value: Any) -> str | None:
        if value is None:
            self.fail(name, MISSING)
        elif not is_id(value):
            self.fail(name, "不是有效的编号")
        else:
            return value
        return None

    def take(self, definition: Definition[T], name: str, value: Any) -> T:
        """The field `name` checked against its definition."""
        return definition.check(self, name, value)

    def done(self) -> None:
        if self.errors:
            raise Invalid(self.errors)


class Definition(Protocol[T_co]):
    """What a field's definition does: check a value of it into `fields`."""

    def check(self, fields: Fields, name: str, value: Any) -> T_co: ...


# The definitions. Each holds what its check needs and nothing else; `required` is whether the
# field must be there (an optional field left out or blank is None, or a flag's default).
@dataclass(frozen=True)
class Text:
    """A string, normalised (see Fields.text)."""

    max_len: int
    min_len: int = 1
    multiline: bool = False
    required: bool = True
    naming: bool = False
    pattern: re.Pattern[str] | None = None
    pattern_hint: str = ""

    def check(self, fields: Fields, name: str, value: Any) -> str | None:
        return fields.text(
            name,
            value,
            max_len=self.max_len,
            min_len=self.min_len,
            multiline=self.multiline,
            required=self.required,
            naming=self.naming,
            pattern=self.pattern,
            pattern_hint=self.pattern_hint,
        )


@dataclass(frozen=True)
class Secret:
    """A password, kept exactly as typed; always required."""

    min_len: int
    max_len: int
    required = True

    def check(self, fields: Fields, name: str, value: Any) -> str | None:
        return fields.secret(name, value, min_len=self.min_len, max_len=self.max_len)


@dataclass(frozen=True)
class Whole:
    """A whole number from `least` to `most`; `out_of_range(least, most)` words the refusal of
    one outside them."""

    least: int
    most: int
    required: bool = False
    out_of_range: Callable[[int, int], str] | None = None

    def check(self, fields: Fields, name: str, value: Any) -> int | None:
        number = fields.whole(
            name, value, least=self.least, most=self.most, out_of_range=self.out_of_range
        )
        if self.required and (value is None or value == ""):
            fields.fail(name, MISSING)
        return number


@dataclass(frozen=True)
class Choice:
    """One of `choices`. A field whose choices are known only at the request (a board's
    categories, the departments) is defined without them and given them by `among`."""

    choices: tuple[str, ...] = ()
    required: bool = False

    def among(self, choices: Iterable[str]) -> Choice:
        return dataclasses.replace(self, choices=tuple(choices))

    def check(self, fields: Fields, name: str, value: Any) -> str | None:
        return fields.choice(name, value, self.choices, required=self.required)


@dataclass(frozen=True)
class Flag:
    """true or false; `default` when absent (a required flag is refused when absent)."""

    default: bool = False
    required: bool = False

    def check(self, fields: Fields, name: str, value: Any) -> bool:
        if self.required and value is None:
            fields.fail(name, MISSING)
        return fields.flag(name, value, default=self.default)


@dataclass(frozen=True)
class Day:
    """A calendar day, `YYYY-MM-DD`."""

    required: bool = True
    max_len = 10

    def check(self, fields: Fields, name: str, value: Any) -> str | None:
        text = fields.text(name, value, max_len=self.max_len, required=self.required)
        if text is None:
            return None
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            fields.fail(name, "日期格式应为 YYYY-MM-DD")
            return None


@dataclass(frozen=True)
class Identifier:
    """A record's id (24 hexadecimal digits); always required."""

    required = True

    def check(self, fields: Fields, name: str, value: Any) -> str | None:
        return fields.identifier(name, value)


# Every kind of definition, for those that read them (the OpenAPI document).
Field = Text | Secret | Whole | Choice | Flag | Day | Identifier


def required(value: T | None) -> T:
    """The value of a field checked as required, once `Fields.done()` has passed. A check answers
    None only for a field it has failed (or an optional one left out), and done() raises Invalid
    for every failed field, so a required field is there. Raises AssertionError when it is not:
    a slip in the caller (a field checked as optional, then used as required)."""
    if value is None:
        raise AssertionError("a field used as required was checked as optional")
    return value


def check_limit(
    value: Any, *, default: int = LIST_LIMIT_DEFAULT, maximum: int = LIST_LIMIT_MAX
) -> int:
    """The `limit` of a list request: 1 to 100, default 20."""
    fields = Fields()
    number = fields.whole("limit", value, least=1, most=maximum)
    fields.done()
    return default if number is None else number
