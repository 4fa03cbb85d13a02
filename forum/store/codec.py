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
from typing import Any, TypeVar

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
    hints = _hints(cls)
    kwargs = {}
    for name, hint in hints.items():
        if name in data:
            kwargs[name] = _typed_value(hint, data[name])
    return cls(**kwargs)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {name: hint for name, hint in typing.get_type_hints(cls).items() if name in names}


def _typed_value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _typed_value(inner[0], value) if len(inner) == 1 else value
    if origin is list:
        (item_hint,) = typing.get_args(hint) or (Any,)
        return [_typed_value(item_hint, item) for item in value]
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return hint(value)
        if hint is dt.datetime:
            return as_utc(value)
        if hint is bool:
            return bool(value)
    return value


def as_utc(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)
