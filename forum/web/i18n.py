"""Languages of the pages: Simplified Chinese (the default, and the language the templates and
services are written in) and English (translations/en_US.csv). Which one a request gets, how
messages from services are translated, and dates and numbers as each language writes them."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import tornado.locale

from forum.messages import Message

DEFAULT_LOCALE = "zh_CN"
SUPPORTED_LOCALES = ("zh_CN", "en_US")
TRANSLATIONS_PATH = str(Path(__file__).resolve().parent.parent.parent / "translations")

LANG_COOKIE = "lang"
CARE_COOKIE = "care"
PREFERENCE_COOKIE_DAYS = 365

# Accept-Language is read up to this many bytes and entries: enough for any browser.
ACCEPT_LANGUAGE_MAX_CHARS = 512
ACCEPT_LANGUAGE_MAX_ENTRIES = 20
_LANGUAGE_RANGE = re.compile(
    r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]{1,5}))?\s*"
)


def load_translations(directory: str = TRANSLATIONS_PATH) -> None:
    """Reads the CSV translations once at start. Tornado keeps them process-wide; they are
    fixed data read from the checkout, the same for every application."""
    tornado.locale.load_translations(directory, encoding="utf-8")
    tornado.locale.set_default_locale(DEFAULT_LOCALE)
    # Locale objects made before the translations were read would keep none.
    tornado.locale.Locale._cache.clear()
    # Tornado strips every cell; a translation that begins or ends with a space (", " for 、)
    # is put back as written.
    for path in Path(directory).glob("*.csv"):
        locale = tornado.locale.get(path.stem)
        # A CSVLocale, once tornado has read the CSV files: the others have no translations.
        if locale.code != path.stem or not isinstance(locale, tornado.locale.CSVLocale):
            continue
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                if len(row) >= 2 and row[1] != row[1].strip():
                    plural = row[2].strip() if len(row) > 2 and row[2].strip() else "unknown"
                    locale.translations.setdefault(plural, {})[row[0].strip()] = row[1]


def locale_from_cookie(value: str | None) -> str | None:
    """The `lang` cookie's locale when it names a supported one exactly; anything else is
    ignored, as if there were no cookie."""
    return value if value in SUPPORTED_LOCALES else None


def locale_from_accept_language(header: str | None) -> str | None:
    """The supported locale the Accept-Language header likes best: any zh-* is zh_CN (the
    Simplified pages are still the nearest for zh-TW readers), any en-* is en_US; None when it
    names neither."""
    if not header:
        return None
    best, best_q = None, 0.0
    for order, part in enumerate(
        header[:ACCEPT_LANGUAGE_MAX_CHARS].split(",")[:ACCEPT_LANGUAGE_MAX_ENTRIES]
    ):
        match = _LANGUAGE_RANGE.fullmatch(part)
        if match is None:
            continue
        tag, quality = match.group(1).lower(), match.group(2)
        try:
            q = 1.0 if quality is None else float(quality)
        except ValueError:
            continue
        if not 0.0 < q <= 1.0:
            continue
        primary = tag.split("-", 1)[0]
        code = {"zh": "zh_CN", "en": "en_US"}.get(primary)
        if code is not None and q > best_q:  # ties keep the earlier entry
            best, best_q = code, q
    return best


def choose_locale(cookie: str | None, accept_language: str | None) -> str:
    """The `lang` cookie first, then Accept-Language, else Simplified Chinese."""
    return (
        locale_from_cookie(cookie) or locale_from_accept_language(accept_language) or DEFAULT_LOCALE
    )


def get_locale(code: str) -> tornado.locale.Locale:
    """The Locale of a supported code (else the default's); reads the translations first when
    no application has yet."""
    if DEFAULT_LOCALE not in tornado.locale.get_supported_locales():
        load_translations()
    return tornado.locale.get(code if code in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def translate_message(locale: tornado.locale.Locale, message: Any) -> Any:
    """A message from a service in the reader's language: a plain string is its own key; a
    Message has its template translated and filled in again, its Message arguments translated
    too. Anything else (None) is returned as it is."""
    if isinstance(message, Message):
        if not message.args:
            if message.context:
                return translate_in(locale, message.context, message.template)
            return locale.translate(message.template)
        args = {name: _translated_arg(locale, value) for name, value in message.args.items()}
        try:
            return locale.translate(message.template).format(**args)
        except (KeyError, IndexError, ValueError):  # a translation that names other parameters
            return message.template.format(**args)
    if isinstance(message, str):
        return locale.translate(message)
    return message


def translate_in(locale: tornado.locale.Locale, context: str, text: str) -> str:
    """`text` as used in `context`: Chinese writes some words alike that English does not
    (受理 is "Accept" on a button, "Accepted" in a case's history). The key "context|text" is
    looked up first, then the text alone; Chinese, with no translations, shows the text."""
    key = f"{context}|{text}"
    found = locale.translate(key)
    return locale.translate(text) if found == key else found


def _translated_arg(locale: tornado.locale.Locale, value: Any) -> Any:
    if isinstance(value, Message):
        return translate_message(locale, value)
    if isinstance(value, (list, tuple)):
        return locale.translate("、").join(str(_translated_arg(locale, item)) for item in value)
    return value


def translate_fields(locale: tornado.locale.Locale, fields: dict[str, Any]) -> dict[str, Any]:
    """A field -> message map (Invalid.fields) with each message translated; names unchanged."""
    return {name: translate_message(locale, why) for name, why in fields.items()}


# Dates and numbers ----------------------------------------------------------------------------
CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _english(code: str) -> bool:
    return code.startswith("en")


def format_time(stamp: dt.datetime, code: str = DEFAULT_LOCALE) -> str:
    """A moment in China Standard Time, the portal's readers' clock: 2026-11-28 14:05 in
    Chinese, Nov 28, 2026, 14:05 in English."""
    local = stamp.astimezone(CHINA_STANDARD_TIME)
    if _english(code):
        return f"{MONTHS_EN[local.month - 1]} {local.day}, {local.year}, {local:%H:%M}"
    return f"{local.year}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"


def format_day(day: dt.date, code: str = DEFAULT_LOCALE, *, hours: str | None = None) -> str:
    """A calendar day: 2026年11月28日 in Chinese, Nov 28, 2026 in English; `hours` appended."""
    if _english(code):
        text = f"{MONTHS_EN[day.month - 1]} {day.day}, {day.year}"
        return f"{text}, {hours}" if hours else text
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text} {hours}" if hours else text


def format_due(stamp: dt.datetime, code: str = DEFAULT_LOCALE) -> str:
    """A due time. Due times fall at local midnight, the end of the last working day, shown as
    that day's 24:00 rather than the next day's 00:00."""
    local = stamp.astimezone(CHINA_STANDARD_TIME)
    if local.time() == dt.time():
        day = local.date() - dt.timedelta(days=1)
        if _english(code):
            return format_day(day, code, hours="24:00")
        return day.isoformat() + " 24:00"
    return format_time(stamp, code)


def format_month(month: str, code: str = DEFAULT_LOCALE) -> str:
    """YYYY-MM as 2025年3月, or Mar 2025."""
    year, number = int(month[:4]), int(month[5:7])
    if _english(code):
        return f"{MONTHS_EN[number - 1]} {year}"
    return f"{year}年{number}月"


def format_number(value: Any, code: str = DEFAULT_LOCALE) -> str:
    """A count: 12,345 in English, 12345 in Chinese (as Chinese government pages print them);
    None as —."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if _english(code):
        return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    return str(value) if isinstance(value, int) else f"{value:.1f}"
