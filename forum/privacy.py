"""What the public sees of personal data in what people write: the one place that decides it.

Every free-text field of a post or reply is listed here with what a reader without the right to
the raw text is shown (`public_post`, `public_reply`), and the search index is built from the
same masked text (`index_texts`), so that searching cannot recover a number the pages hide.
Pages, the API, search results and snippets, similar questions, Atom feeds and Open311 all read
posts through forum.services.presenting, which calls these.

Masked: mobile and landline numbers with or without +86 and in any spacing
(phonenumbers decides what is a Chinese number, so dates, prices and case numbers are not),
18-character ID numbers with a valid check character, 15-digit ID numbers with a valid birth
date, bank card numbers of 16 to 19 digits that pass the Luhn check, and e-mail addresses.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Any, Callable

import phonenumbers

from forum.model import Post, Reply

REGION = "CN"
# Digits kept at the end of every masked number: enough for the writer to recognise their own,
# too few to call or use it.
TAIL = 4

# Everything masked has at least seven digits in a row, allowing single separators, or an "@":
# texts without either (most of them) are returned after one cheap search.
_MAYBE_PERSONAL = re.compile(r"\d(?:[ \-]?\d){6}|@")
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a decimal digit of any script but ASCII
# A local part first, so that 13812345678@qq.com loses its number with its address.
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# Not inside a longer run of digits; a letter before or after does not make it something else.
_ID_18 = re.compile(r"(?<!\d)([1-9]\d{5})((?:18|19|20)\d{2}[01]\d[0-3]\d)(\d{3}[0-9Xx])(?!\d)")
_ID_15 = re.compile(r"(?<!\d)([1-9]\d{5})(\d{2}[01]\d[0-3]\d)(\d{3})(?!\d)")
# A card written in one run, or in groups of four split by spaces or hyphens (6222 0212 3456 ...).
_CARD = re.compile(r"(?<!\d)(?:\d{16,19}|\d{4}(?:[ \-]\d{4}){3}(?:[ \-]\d{1,3})?)(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}(?!\d)")
# A landline with its area code (0877-2616904, 087120000000): the trunk 0, a 2-3 digit area code,
# a 7-8 digit local number.
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[ \-]?\d{7,8}(?!\d)")
_LATIN = re.compile(r"[A-Za-z]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _valid_date(yymmdd: str) -> bool:
    month, day = int(yymmdd[-4:-2]), int(yymmdd[-2:])
    return 1 <= month <= 12 and 1 <= day <= 31


def id_check_ok(number: str) -> bool:
    """An 18-character ID number's last character is the check of the first 17 (GB 11643)."""
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _is_digit(ch: str) -> bool:
    return unicodedata.decimal(ch, None) is not None


def _star_digits(raw: str, keep_head: int, keep_tail: int = TAIL) -> str:
    """`raw` with its digits from the keep_head-th to the last keep_tail replaced by '*';
    separators and the rest stay where they were."""
    total = sum(_is_digit(ch) for ch in raw)
    out, seen = [], 0
    for ch in raw:
        if _is_digit(ch):
            out.append(ch if seen < keep_head or seen >= total - keep_tail else "*")
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def _mask_id_18(m: re.Match[str]) -> str:
    if not (id_check_ok(m.group(0)) and _valid_date(m.group(2))):
        return m.group(0)
    return m.group(1) + "*" * 8 + m.group(3)


def _mask_id_15(m: re.Match[str]) -> str:
    if not _valid_date(m.group(2)):
        return m.group(0)
    return m.group(1) + "*" * 6 + m.group(3)


def _mask_card(m: re.Match[str]) -> str:
    raw = m.group(0)
    digits = "".join(ch for ch in raw if _is_digit(ch))
    if not 16 <= len(digits) <= 19 or not luhn_ok(digits):
        return raw
    return _star_digits(raw, 4)


def _masked_number(raw: str, number: phonenumbers.PhoneNumber) -> str:
    # What comes before the subscriber's own digits stays: the country code, the trunk 0, and
    # a mobile's network prefix (138) or a landline's area code (0877).
    if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
        prefix = 3
    else:
        prefix = phonenumbers.length_of_geographical_area_code(number)
    national = phonenumbers.national_significant_number(number)
    leading = sum(_is_digit(ch) for ch in raw) - len(national)
    return _star_digits(raw, max(leading, 0) + prefix)


def _mask_phones(value: str) -> str:
    pieces, last = [], 0
    # phonenumbers skips a number touching a Latin letter ("tel13812345678"); the letters are
    # blanked for the search only (same length, so the places found are the text's places).
    for match in phonenumbers.PhoneNumberMatcher(
        _LATIN.sub(" ", value), REGION, leniency=phonenumbers.Leniency.VALID
    ):
        pieces.append(value[last : match.start])
        pieces.append(_masked_number(value[match.start : match.end], match.number))
        last = match.end
    pieces.append(value[last:])
    # The matcher also gives up on a number in odd punctuation ("()13812345678", "()0877-
    # 2616904"): a mobile's and a landline's usual shapes are looked for once more and masked
    # when the numbering plan has them.
    found = _MOBILE.sub(_mask_shape, "".join(pieces))
    return _LANDLINE.sub(_mask_shape, found)


def _mask_shape(m: re.Match[str]) -> str:
    raw = m.group(0)
    try:
        number = phonenumbers.parse(raw, REGION)
    except phonenumbers.NumberParseException:
        return raw
    return _masked_number(raw, number) if phonenumbers.is_valid_number(number) else raw


def mask(value: str) -> str:
    """Personal data in `value` masked as the public sees it. Safe on rendered HTML as on plain
    text: what it replaces holds no markup characters, and it adds only '*'."""
    if not value or not _MAYBE_PERSONAL.search(value):
        return value
    # Digits of other scripts (full-width １３８, as Chinese input methods type them; Arabic-
    # Indic, ...) are read, and shown, as the ASCII digits they are, so no number hides in them.
    if not value.isascii():
        value = _OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group())), value)
    value = _EMAIL.sub(lambda m: m.group(1) + "***" + m.group(2), value)
    # ID numbers before cards (an 18-digit ID may pass Luhn by chance), both before phones (a
    # card or ID holds runs that look like a mobile number).
    value = _ID_18.sub(_mask_id_18, value)
    value = _ID_15.sub(_mask_id_15, value)
    value = _CARD.sub(_mask_card, value)
    return _mask_phones(value)


def _masked(value: str | None) -> str | None:
    """mask() of a field's value; a field without one (None) stays without."""
    return None if value is None else mask(value)


# Every free-text field of a post, and what the public is shown of it. A new text field must be
# added here: tests/test_privacy.py checks that every str field of Post and Reply is listed.
POST_FIELDS: dict[str, Callable[[str | None], str | None]] = {
    "title": _masked,
    "body": _masked,
    "html": _masked,
    "rating_comment": _masked,
    "status_note": _masked,  # a moderator's reason may quote the post
    "contact": lambda _: None,  # never public, masked or not
    "real_name": lambda _: None,  # the writer's 姓名: the offices' only
    "extension_reason": lambda _: None,  # between the department and the bureau
}
REPLY_FIELDS: dict[str, Callable[[str | None], str | None]] = {
    "body": _masked,
    "html": _masked,
}


def public_post(post: Post) -> Post:
    # Any: each value goes back to the field it came from, whose type the dict cannot name.
    shown: dict[str, Any] = {name: show(getattr(post, name)) for name, show in POST_FIELDS.items()}
    return dataclasses.replace(
        post,
        **shown,
        ratings=[{**entry, "comment": _masked(entry.get("comment"))} for entry in post.ratings],
    )


def public_reply(reply: Reply) -> Reply:
    shown: dict[str, Any] = {
        name: show(getattr(reply, name)) for name, show in REPLY_FIELDS.items()
    }
    return dataclasses.replace(reply, **shown)


def index_texts(title: str, body: str) -> tuple[str, str]:
    """The title and body the search index is built from: the public's, so a search for a
    number finds nothing a page would hide."""
    return mask(title), mask(body)
