"""Markdown rendering and sanitising (forum/text.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forum import text


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def dangers(html: str) -> list[str]:
    problems = []
    for tag, attrs in _Elements(html).found:
        if tag not in text.ALLOWED_TAGS:
            problems.append(f"<{tag}>")
        for name in attrs:
            if name.startswith("on") or name == "style":
                problems.append(f"{tag}@{name}")
        href = attrs.get("href", "")
        if href and href.split(":", 1)[0].lower().strip() not in ("http", "https", "mailto"):
            problems.append(f"href={href}")
    return problems


def test_markdown_renders_common_forms():
    html = text.render(
        "# 标题\n\n**粗体** *斜体* `代码`\n\n- 一\n- 二\n\n> 引用\n\n"
        "| 甲 | 乙 |\n|---|---|\n| 1 | 2 |\n"
    )
    for tag in ("<h3>", "<strong>", "<em>", "<code>", "<ul>", "<blockquote>", "<table>", "<td>"):
        assert tag in html


def test_headings_sit_below_the_page_title():
    html = text.render("# 一\n\n## 二\n\n###### 六")
    assert "<h1>" not in html and "<h2>" not in html
    assert "<h3>一</h3>" in html and "<h4>二</h4>" in html and "<h6>六</h6>" in html


def test_links_get_rel_and_only_safe_schemes():
    html = text.render(
        "[政府](https://www.yuxi.gov.cn) [邮件](mailto:a@b.cn) [坏](javascript:alert(1))"
    )
    assert 'href="https://www.yuxi.gov.cn"' in html
    assert 'rel="nofollow ugc noopener"' in html
    assert 'href="mailto:a@b.cn"' in html
    assert dangers(html) == []


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil/x.js></SCRIPT>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](https://evil.example/track.png)",
        '<iframe src="https://evil.example"></iframe>',
        "<style>body{display:none}</style>",
        '<svg onload="alert(1)">',
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<!--><script>alert(1)</script>-->",
    ],
)
def test_hostile_input_leaves_nothing_active(payload):
    html = text.render(payload)
    assert dangers(html) == [], html
    # Raw HTML is off in Markdown, and what nh3 sees must be inert too.
    assert dangers(text.render(f"[ok](https://ok.example) {payload}")) == []


@pytest.mark.parametrize(
    "html_payload",
    [
        '<a href="javascript:alert(1)" onclick="x()">x</a>',
        "<img src=x onerror=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    ],
)
def test_sanitiser_alone_strips_active_html(html_payload):
    # The second wall: even if Markdown let raw HTML through, nh3 would clean it.
    cleaned = text.sanitize(html_payload)
    assert dangers(cleaned) == [], cleaned


def test_raw_html_is_shown_as_text_not_dropped():
    # A curious citizen's <script> stays readable as text, so nothing they typed silently vanishes.
    assert "&lt;script&gt;" in text.render("看看 <script>alert(1)</script>")


def test_normalizers_and_control_characters():
    assert text.normalize_line("  a \t b\n c ") == "a b c"
    assert text.normalize_block("\r\n一\r\n二\r\n") == "一\n二"
    assert text.has_control_chars("a\x00b")
    assert not text.has_control_chars("a\tb\nc")


def test_names_are_nfkc_with_chinese_punctuation_kept_and_hidden_characters_found():
    assert text.normalize_name("ＡＢＣ①　小区，路灯？（坏了）") == "ABC1 小区，路灯？（坏了）"
    for hidden in ("\u200b", "\u202e", "\u2066", "\ufeff", "\u00ad", "\x07"):
        assert text.has_hidden_chars(f"市{hidden}长")
    assert not text.has_hidden_chars("张敏\t（市信访局）\n")


# What each term's own pattern must find: the matches of one pattern of every term joined by
# "|", longest first, ignoring case, as the snippets were marked before (one compile a query).
def _joined_matches(window: str, terms: list[str]) -> list[tuple[int, int]]:
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    return [match.span() for match in pattern.finditer(window)]


# Words that overlap, nest and differ only in case, in Chinese and in Latin letters with their
# odd foldings (İ, ı, the Kelvin sign), and the characters HTML and regular expressions treat
# specially.
SNIPPET_PIECES = [
    "停车",
    "停车场",
    "车场",
    "场",
    "Park",
    "park",
    "PARKING",
    "k",
    "K",
    "İ",
    "ı",
    "i",
    "<b>",
    "&",
    ".*",
    "(",
    "|",
    " ",
    "，",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(SNIPPET_PIECES), max_size=12).map("".join),
    st.lists(st.sampled_from(SNIPPET_PIECES), min_size=1, max_size=4, unique=True),
)
def test_each_terms_pattern_finds_what_the_joined_pattern_found(window, terms):
    terms = sorted(terms, key=len, reverse=True)
    found = [match.span() for match in text._leftmost_matches(window, terms)]
    assert found == _joined_matches(window, terms)


def _marked_by_one_pattern(value: str, terms: list[str], width: int = 90) -> str:
    """highlight as one pattern of every term would mark it: what the checks of which terms
    are in the window, and each term's own pattern, must not change."""
    import html

    folded = value.casefold()
    wanted = sorted({t for t in terms if t}, key=len, reverse=True)
    first = min((i for i in (folded.find(t.casefold()) for t in wanted) if i >= 0), default=0)
    start = max(0, first - width // 3)
    window = value[start : start + width]
    pieces, last = [], 0
    for begin, end in _joined_matches(window, wanted):
        pieces += [
            html.escape(window[last:begin]),
            f"<mark>{html.escape(window[begin:end])}</mark>",
        ]
        last = end
    pieces.append(html.escape(window[last:]))
    return (
        ("…" if start > 0 else "") + "".join(pieces) + ("…" if start + width < len(value) else "")
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(SNIPPET_PIECES), max_size=60).map("".join),
    st.lists(st.sampled_from(SNIPPET_PIECES), min_size=1, max_size=4, unique=True),
)
def test_a_snippet_marks_what_one_pattern_of_every_term_marks(value, terms):
    expected = _marked_by_one_pattern(value, terms)
    assert text.highlight(value, terms) == expected
    # Where the first term is, from a text that keeps it (searching keeps each body's): the
    # same snippet, and the same answer again from what it kept.
    searchable = text.Searchable(value)
    first = searchable.first_index(terms)
    assert (first is None) == all(term.casefold() not in value.casefold() for term in terms)
    assert text.highlight(value, terms, first=first or 0) == expected
    assert searchable.first_index(terms) == first


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(SNIPPET_PIECES), max_size=60).map("".join),
    st.lists(
        st.lists(st.sampled_from(SNIPPET_PIECES), min_size=1, max_size=4, unique=True),
        min_size=1,
        max_size=12,
    ),
)
def test_the_snippets_a_searchable_text_keeps_are_each_querys_own(value, queries):
    """Query after query over one text (a post found again and again), and each query once
    more: every snippet is the one cut afresh, whatever the text kept for the others."""
    searchable = text.Searchable(value)
    for terms in queries + queries[::-1]:
        snippet = searchable.highlight(terms)
        if searchable.first_index(terms) is None:
            assert snippet is None
        else:
            assert snippet == _marked_by_one_pattern(value, terms)
        assert len(searchable._snippets) <= text.SEARCHABLE_SNIPPETS_MAX


def test_a_searchable_text_keeps_the_places_of_a_bounded_number_of_terms():
    searchable = text.Searchable("停车场在东风北路")
    for n in range(text.SEARCHABLE_TERMS_MAX * 2):
        assert searchable.first_index([f"词{n}"]) is None
        assert len(searchable._found) <= text.SEARCHABLE_TERMS_MAX
    assert searchable.first_index(["东风", "停车"]) == 0
    assert searchable.first_index(["东风"]) == 4
