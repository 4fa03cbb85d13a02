"""Property-based fuzzing of the functions every piece of user input goes through: whatever
the input, they answer with a clean value or a named 4xx error, never a crash, and never
active HTML or query syntax."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum import search, text
from forum.errors import Invalid
from forum.services.fields import Fields, check_limit
from forum.services.paging import decode_cursor
from tests.security.test_xss import ActiveParts

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that likes to be markup: angle brackets, quotes, entities, schemes, Markdown marks.
markupish = st.lists(
    st.sampled_from(
        list("<>\"'&;:/=()[]!#*`_-\\ \t\n\x00")
        + [
            "script",
            "onerror",
            "javascript",
            "svg",
            "img",
            "style",
            "&#x09;",
            "data:",
            "劳动",
            "合同",
        ]
    ),
    max_size=60,
).map("".join)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(),
    markupish,
    st.lists(st.text(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


@FUZZ
@given(st.one_of(st.text(), markupish))
def test_rendered_markdown_is_never_active(source):
    assert ActiveParts(text.render(source)).problems == []


@FUZZ
@given(st.one_of(st.text(), markupish), st.lists(st.text(max_size=8), max_size=4))
def test_snippets_are_escaped(value, terms):
    snippet = text.highlight(value, terms)
    assert ActiveParts(snippet).problems == []
    assert "<" not in snippet.replace("<mark>", "").replace("</mark>", "")


@FUZZ
@given(anything)
def test_fields_answer_a_value_or_a_named_error(value):
    fields = Fields()
    result = fields.text("title", value, max_len=120)
    if result is None:
        assert value is None or "title" in fields.errors
    else:
        assert isinstance(result, str) and 1 <= len(result) <= 120
        assert not text.has_control_chars(result.replace("\t", " "))
        result.encode("utf-8")  # never a lone surrogate


@FUZZ
@given(anything)
def test_limits_and_cursors_answer_a_value_or_invalid(value):
    for parse in (check_limit, decode_cursor):
        try:
            parse(value)
        except Invalid as error:
            assert set(error.fields) <= {"limit", "cursor"}


@FUZZ
@given(st.one_of(st.text(), markupish))
def test_query_terms_are_plain_words(query):
    terms = search.query_terms(query)
    assert len(terms) <= search.QUERY_TERMS_MAX
    for term in terms:
        # Terms may hold punctuation (the stores quote them or compare them as values; the
        # contract suite checks that), but never whitespace: a term is one word.
        assert term and not any(ch.isspace() for ch in term)


@pytest.mark.parametrize("value", ["\ud800", "a\x00b", "\x1b[31mred", "x" * 121])
def test_known_nasties_are_refused(value):
    fields = Fields()
    assert fields.text("title", value, max_len=120) is None and "title" in fields.errors
