"""Turning model dataclasses into plain dicts and back, for both adapters.

Plain means: enums become their values, datetimes stay datetimes (UTC), lists stay lists. Each
adapter then maps plain values onto its own types (SQLite text and integers, BSON for MongoDB).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import types
import typing
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def to_plain(record: Any) -> dict[str, Any]:
    return {f.name: _plain_value(getattr(record, f.name)) for f in dataclasses.fields(record)}


def plain_changes(changes: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain_value(value) for name, value in changes.items()}


def _plain_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_plain_value(item) for item in value]
    return value


def from_plain(cls: type[T], data: dict[str, Any]) -> T:
    """Build `cls` from a plain dict, ignoring keys the dataclass does not have (later versions
    of the schema may add fields an older reader does not know)."""
    # Classes are hashable; mypy does not see it of type[T] (python/mypy#11470, #20409).
    names, converters = _converters(cls)  # type: ignore[arg-type]
    # Keyed by the fields' own names, not the data's equal strings: a keyword argument that is
    # the parameter's very name object is matched at once, another is compared with each
    # parameter's name in turn (a post has forty-odd).
    kwargs = {name: data[name] for name in names if name in data}
    # Only the fields that need it are converted: most are taken as they are.
    for name, convert in converters:
        value = kwargs.get(name)
        if value is not None:
            kwargs[name] = convert(value)
    return cls(**kwargs)


@functools.cache
def _converters(cls: type) -> tuple[tuple[str, ...], tuple[tuple[str, Callable[[Any], Any]], ...]]:
    """The fields' names, and the converter of each field that is not taken as it is. Worked
    out once per class: rows are read by the thousand, type hints need not be."""
    names = {f.name for f in dataclasses.fields(cls)}
    hints = {name: hint for name, hint in typing.get_type_hints(cls).items() if name in names}
    converters = ((name, _converter(hint)) for name, hint in hints.items())
    return tuple(hints), tuple((n, c) for n, c in converters if c is not _identity)


def _identity(value: Any) -> Any:
    return value


def _converter(hint: Any) -> Callable[[Any], Any]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _converter(inner[0]) if len(inner) == 1 else _identity
    if origin is list:
        (item_hint,) = typing.get_args(hint) or (Any,)
        item = _converter(item_hint)
        return _identity if item is _identity else (lambda values: [item(v) for v in values])
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return hint
        if hint is dt.datetime:
            return as_utc
        if hint is bool:
            return bool
    return _identity


def as_utc(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)
