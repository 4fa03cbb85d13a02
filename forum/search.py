"""Chinese segmentation into search terms, shared by both stores so that both match alike.

A post's title and body, and a reader's query, go through the same steps: NFKC (full-width
letters and digits become plain ones), lower case, then jieba. For each text both jieba's search
mode (words, plus the shorter dictionary words inside long ones) and its full mode (every
dictionary word anywhere in the text, including ones that straddle two words of the search mode:
劳动合同 in 劳动|合同纠纷) are taken, so a word a reader types is a term of every text that
contains it. What is left is words: no whitespace, punctuation or symbols, no single Latin
letters or digits, no stop words, no repeats.

The terms are plain words, never query syntax: the stores quote them (SQLite) or compare them as
values (MongoDB). jieba is CPU work (milliseconds for a long body): callers on the event loop run
these functions in a thread, but for a query or a title whose parts were cut before but for a
few characters (`segmented`), which costs microseconds to a fraction of a millisecond.
"""

from __future__ import annotations

import itertools
import logging
import unicodedata
import warnings
from typing import Iterable, Iterator, NamedTuple

with warnings.catch_warnings():
    # jieba reads its dictionary through setuptools' pkg_resources when that is installed,
    # which warns on import; the warning would be an operator's first line on every start.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import jieba

DOCUMENT_TERMS_MAX = 2000
QUERY_TERMS_MAX = 20
# Longer runs of letters and digits (hashes, pasted blobs) are nothing anyone searches for.
TERM_LENGTH_MAX = 64

STOP_WORDS = frozenset(
    "的 了 是 在 和 与 及 或 吗 呢 吧 啊 我 你 他 她 它 们 这 那 有 也 都 就 而 被 把 "
    "对 从 为 以 之 其 中".split()
)

# Words that ask rather than say what a question is about: left out of the terms a draft title
# is compared by when looking for similar questions (two questions that share only 怎么 are not
# alike). Posts are still indexed with them, so a search for 可以 finds what it always did.
FUNCTION_WORDS = STOP_WORDS | frozenset(
    "怎么 怎么办 怎么样 怎样 如何 什么 什么样 请问 为什么 为何 哪里 哪些 哪个 多少 多久 可以 能否 "
    "是否 是不是 能不能 可不可以 吗 呢 吧 啊 的 了 是 我 你 他 我们 有 没有 要 能 会 该 应该 "
    "需要 这个 那个 这样 那样 一下 还 还是 就 都 又 如果 已经 现在 问题 情况 办法 咨询 求助 "
    "谢谢 您好 老师 律师 专家 不".split()
)


def content_words(text: str) -> list[str]:
    """What a short text (a draft title) is about: its words in jieba's precise mode, without
    function words, punctuation or repeats; at most 20."""
    parts = _parts(text)
    return _first_distinct((word for part in parts for word in part.content), QUERY_TERMS_MAX)


# Letters (L), numbers (N) and marks (M) make a word; a term of only other characters
# (punctuation P, symbols S, separators Z, controls and the like C) is dropped.
_WORD_CATEGORIES = ("L", "N", "M")


def warm_up() -> None:
    """Load jieba's dictionary now (about a second) rather than on the first search; the server
    calls this in a thread at start. jieba keeps it in its default tokenizer, a read-only cache
    for the life of the process."""
    # jieba announces its dictionary loading at DEBUG on its own handler: not server news.
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()


# A word in the title says more about a post than the same word in its body: the title's terms
# are given this many times, and both stores count repeats (SQLite's bm25 as term frequency,
# MongoDB's score as matching array elements).
TITLE_WEIGHT = 3


def terms_for(title: str, body: str) -> list[str]:
    """The search terms of a post: the title's, TITLE_WEIGHT times, then the body's (each part
    without repeats of its own); at most 2000."""
    title_terms = _terms((title,), DOCUMENT_TERMS_MAX // (TITLE_WEIGHT + 1))
    body_terms = _terms((body,), DOCUMENT_TERMS_MAX - TITLE_WEIGHT * len(title_terms))
    return title_terms * TITLE_WEIGHT + body_terms


def query_terms(q: str) -> list[str]:
    """The search terms of what a reader typed, segmented as posts are; at most 20. Whatever
    the text (quotes, operators, JSON), the result is words, or [] when none are left."""
    parts = _parts(q)
    return _first_distinct(
        itertools.chain(
            (term for part in parts for term in part.search),
            (term for part in parts for term in part.full),
        ),
        QUERY_TERMS_MAX,
    )


def segmented(text: str) -> bool:
    """Whether query_terms and content_words of `text` cost little enough to run on the event
    loop: each of its parts was cut before, or those that were not hold at most
    UNCUT_ON_LOOP_MAX characters in all (jieba takes some 20 µs a character)."""
    uncut = 0
    for part in _normal(text).split():
        if part not in _KEPT_PARTS:
            uncut += len(part)
            if uncut > UNCUT_ON_LOOP_MAX:
                return False
    return True


# A new word typed with known ones (a name, a number) is cut on the loop: under load the thread
# would hold the GIL for as long, and the hop to it costs more than a few characters' work.
UNCUT_ON_LOOP_MAX = 10


class _Part(NamedTuple):
    """The words of a part of a short text between whitespace: jieba never makes a word across
    whitespace, so a text's words are its parts' words in turn, in each mode."""

    search: tuple[str, ...]  # search mode, terms only
    full: tuple[str, ...]  # full mode, terms only
    content: tuple[str, ...]  # precise mode, terms but function words


# Queries are new combinations of words typed before: each part is segmented once. Emptied
# when full, which common words soon fill again.
_KEPT_PARTS: dict[str, _Part] = {}
KEPT_PARTS_MAX = 50_000


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _parts(text: str) -> list[_Part]:
    found = []
    for piece in _normal(text).split():
        part = _KEPT_PARTS.get(piece)
        if part is None:
            part = _Part(
                tuple(word for word in jieba.cut_for_search(piece) if _is_term(word)),
                tuple(word for word in jieba.cut(piece, cut_all=True) if _is_term(word)),
                tuple(
                    word
                    for word in jieba.cut(piece)
                    if _is_term(word) and word not in FUNCTION_WORDS
                ),
            )
            if len(_KEPT_PARTS) >= KEPT_PARTS_MAX:
                _KEPT_PARTS.clear()
            _KEPT_PARTS[piece] = part
        found.append(part)
    return found


def _first_distinct(words: Iterable[str], limit: int) -> list[str]:
    distinct: dict[str, None] = {}  # ordered, without repeats
    for word in words:
        distinct.setdefault(word)
        if len(distinct) >= limit:
            break
    return list(distinct)


def _terms(texts: Iterable[str], limit: int) -> list[str]:
    terms: dict[str, None] = {}  # ordered, without repeats
    for text in texts:
        for word in _words(unicodedata.normalize("NFKC", text or "").lower()):
            if _is_term(word):
                terms.setdefault(word)
                if len(terms) >= limit:
                    return list(terms)
    return list(terms)


def _words(text: str) -> Iterator[str]:
    if not text.strip():
        return
    yield from jieba.cut_for_search(text)
    yield from jieba.cut(text, cut_all=True)


def _is_term(word: str) -> bool:
    if not word or len(word) > TERM_LENGTH_MAX or word in STOP_WORDS:
        return False
    if len(word) == 1 and word.isascii() and word.isalnum():
        return False  # one Latin letter or digit: noise
    return any(unicodedata.category(char)[0] in _WORD_CATEGORIES for char in word)
