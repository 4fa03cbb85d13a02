"""Reading a request body as a JSON object, refusing one that nests too deep before it is
parsed."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import tornado.web

MAX_JSON_DEPTH = 32  # objects and arrays within each other; deeper is a 400, before parsing


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# A JSON string (escapes included), and everything but the four brackets.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def json_depth(raw: bytes) -> int:
    """How deeply `raw`'s objects and arrays nest, counting brackets outside strings; for
    text that is not JSON, a figure that may be off (json.loads refuses it anyway)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # too few brackets to nest too deep, whatever the strings hold
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    steps = (1 if step == 1 else -1 for step in brackets.translate(_DEPTH_STEP))
    return max(itertools.accumulate(steps, initial=0))


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object; 400 when it is none, or nests deeper than
    MAX_JSON_DEPTH (checked before parsing, so a deep one never reaches the recursive parser)."""
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise tornado.web.HTTPError(400, "JSON nested deeper than %d", MAX_JSON_DEPTH)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise tornado.web.HTTPError(400) from None
    if not isinstance(data, dict):
        raise tornado.web.HTTPError(400)
    return data
