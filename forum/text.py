"""User text: Markdown to sanitised HTML, and the cleaning of plain-text fields.

`render` is the only function that produces HTML from user input. It runs once, on write; pages
print its result and escape everything else.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from typing import Iterator

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "em",
        "strong",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Raw HTML off: a `<script>` in Markdown stays visible text, and nh3 is the second wall.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)

# Headings in a post sit under the page's own h1 (the post title) and h2 sections, so a body's
# "# x" becomes h3, and deeper levels follow, capped at h6.
HEADING_SHIFT = 2


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_SHIFT, 6)}"


_MARKDOWN.core.ruler.push("shift_headings", _shift_headings)

# C0/C1 control characters other than tab, newline and carriage return: never meaningful in a post,
# and NUL in particular breaks tools downstream.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def render(markdown: str) -> str:
    """Markdown (CommonMark with tables) to HTML that is safe to print as is."""
    return sanitize(_MARKDOWN.render(markdown))


# Each built once: nh3.clean builds its sanitiser from the options on every call, which was
# two thirds of cleaning a post's body (5.9 µs against 2.2).
_SANITIZER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(ALLOWED_URL_SCHEMES),
    link_rel=LINK_REL,
    strip_comments=True,
)
_TAGS_DROPPED = nh3.Cleaner(tags=set())


def sanitize(html: str) -> str:
    """HTML cut down to the allowlist: no scripts, styles, handlers, frames or images."""
    return _SANITIZER.clean(html)


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))


def normalize_line(value: str) -> str:
    """A one-line plain-text field: NFC, whitespace runs collapsed, trimmed."""
    return " ".join(unicodedata.normalize("NFC", value).split())


# Full-width punctuation is how Chinese is written (，？（）): NFKC would make it ASCII, so it
# is kept; full-width letters and digits, and every other compatibility form, are folded.
_CJK_PUNCTUATION = re.compile(r"([\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff60])")


def normalize_name(value: str) -> str:
    """What names a person or a post (a display name, a title): NFKC, so that look-alike forms
    (ＡＢＣ, ① and the like) read as the characters they show, except Chinese punctuation;
    whitespace runs collapsed."""
    folded = "".join(
        piece if _CJK_PUNCTUATION.fullmatch(piece) else unicodedata.normalize("NFKC", piece)
        for piece in _CJK_PUNCTUATION.split(value)
    )
    return " ".join(folded.split())


def has_hidden_chars(value: str) -> bool:
    """Control (Cc) or format (Cf) characters other than tab and line ends, which a one-line
    field collapses: a bidi override (U+202E) shows a name backwards, a zero-width space
    (U+200B) makes a word look like another. Never needed in a name or a title."""
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value if ch not in "\t\n\r")


def normalize_block(value: str) -> str:
    """A multi-line text (a body): NFC, Windows line ends made plain, outer blank space trimmed."""
    return unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n").strip()


def count_links(html: str) -> int:
    return html.count("<a ")


SNIPPET_WIDTH = 90  # characters of a snippet


def highlight(
    value: str, terms: list[str], width: int = SNIPPET_WIDTH, first: int | None = None
) -> str:
    """A snippet of plain `value` around the first query term, HTML-escaped, with every term
    wrapped in <mark>. Safe to print as is. `first`: first_index(value.casefold(), terms), when
    the caller knows it."""
    wanted, _ = _query_terms(tuple(terms))
    if first is None:
        first = first_index(value.casefold(), terms)
    start, window, present = _cut(value, wanted, first, width)
    return _marked(value, start, window, present, wanted, width)


def _cut(value: str, wanted: list[str], first: int, width: int) -> tuple[int, str, list[str]]:
    """Where the snippet starts, its text, and which of the `wanted` terms are in it (the rest
    cannot change it)."""
    start = max(0, first - width // 3)
    window = value[start : start + width]
    # IGNORECASE matches more than any one folding (i with İ and ı, k with the Kelvin sign): a
    # term with case (Latin letters) is looked for with its own pattern, one without (Chinese,
    # digits) by a plain search.
    present = [
        t
        for t in wanted
        if t in window or (t.lower() != t.upper() and _term_pattern(t).search(window))
    ]
    return start, window, present


def _marked(
    value: str, start: int, window: str, present: list[str], wanted: list[str], width: int
) -> str:
    # Most windows hold nothing to escape: then neither do their pieces.
    escape = html.escape if _TO_ESCAPE.search(window) else str
    if not wanted:
        return escape(window)
    pieces, last = [], 0
    for match in _leftmost_matches(window, present):
        pieces.append(escape(window[last : match.start()]))
        pieces.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    pieces.append(escape(window[last:]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(value) else ""
    return prefix + "".join(pieces) + suffix


_TO_ESCAPE = re.compile("[&<>\"']")  # what html.escape changes


def first_index(folded: str, terms: list[str]) -> int:
    """Where in `folded` (a text casefolded) the first of the query's terms is; 0 when none is
    (a snippet then starts at the start)."""
    _, folded_terms = _query_terms(tuple(terms))
    return min((i for i in map(folded.find, folded_terms) if i >= 0), default=0)


SEARCHABLE_TERMS_MAX = 256  # terms whose place a Searchable keeps; it starts again when full
SEARCHABLE_SNIPPETS_MAX = 8  # snippets a Searchable keeps; it starts again when full


class Searchable:
    """A text that snippets are cut from again and again (a post's body): casefolded once, and
    where each term was found in it kept, as the same words come back query after query; so
    are its last snippets, by the place they start from and the terms they mark (about half of
    a search's snippets were cut before, for another query with the same words in them)."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.folded = value.casefold()
        self._found: dict[str, int] = {}  # per folded term, its first index, or -1
        self._snippets: dict[tuple[int, tuple[str, ...]], str] = {}

    def first_index(self, terms: list[str]) -> int | None:
        """As first_index(self.folded, terms), but None when no term is in the text."""
        found = self._found
        first = None
        for term in _query_terms(tuple(terms))[1]:
            at = found.get(term)
            if at is None:
                if len(found) >= SEARCHABLE_TERMS_MAX:  # a text met by many queries
                    found.clear()
                at = found[term] = self.folded.find(term)
            if at >= 0 and (first is None or at < first):
                first = at
        return first

    def highlight(self, terms: list[str]) -> str | None:
        """highlight(self.value, terms), or None when no term is in the text."""
        first = self.first_index(terms)
        if first is None:
            return None
        wanted, _ = _query_terms(tuple(terms))
        start, window, present = _cut(self.value, wanted, first, SNIPPET_WIDTH)
        key = (first, tuple(present))
        made = self._snippets.get(key)
        if made is None:
            if len(self._snippets) >= SEARCHABLE_SNIPPETS_MAX:
                self._snippets.clear()
            made = _marked(self.value, start, window, present, wanted, SNIPPET_WIDTH)
            self._snippets[key] = made
        return made


@functools.lru_cache(maxsize=1024)
def _query_terms(terms: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """A query's distinct terms, longest first (the longest wins where two start together),
    and the same casefolded: once per query, not per snippet."""
    wanted = sorted({t for t in terms if t}, key=len, reverse=True)
    return wanted, [t.casefold() for t in wanted]


@functools.lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(re.escape(term), re.IGNORECASE)


def _leftmost_matches(window: str, terms: list[str]) -> Iterator[re.Match[str]]:
    """The matches of one pattern of the `terms` joined by "|" (the leftmost, and there the
    first of `terms` that matches, then on from its end), found with each term's own pattern:
    the same words recur from query to query, their combinations do not, and compiling a
    pattern per combination (a tenth of a millisecond or more) was most of a new query's
    snippets."""
    upcoming = {term: _term_pattern(term).search(window) for term in terms}
    position = 0
    while True:
        best: re.Match[str] | None = None
        for term in terms:
            match = upcoming[term]
            if match is not None and match.start() < position:
                match = upcoming[term] = _term_pattern(term).search(window, position)
            if match is not None and (best is None or match.start() < best.start()):
                best = match
        if best is None:
            return
        yield best
        position = best.end()


def plain_text(rendered_html: str) -> str:
    """The words of sanitised HTML, for snippets: tags dropped, entities read, spaces joined."""
    return " ".join(html.unescape(_TAGS_DROPPED.clean(rendered_html)).split())
