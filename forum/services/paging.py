"""Opaque cursors for lists ordered by (time, id): what the last item of a page was."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from forum.errors import Invalid
from forum.model import is_id

Key = tuple[dt.datetime, str]


def encode_cursor(key: Key) -> str:
    raw = f"{key[0].isoformat()}|{key[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: Any, *, name: str = "cursor") -> Key | None:
    """The list key a cursor names; None for none. Raises Invalid naming the field `name`."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, post_id = raw.split("|")
        key = (dt.datetime.fromisoformat(stamp), post_id)
    except (TypeError, ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid({name: "无效的翻页标记"}) from None
    if key[0].tzinfo is None or not is_id(post_id):
        raise Invalid({name: "无效的翻页标记"})
    return key
