"""SQLite's ranking of a query's candidates (forum/store/sqlite/search._ranked), counted and
sorted in C, against the rule written out plainly: most of the query's terms first, then most
times, then the newest (highest) number."""

from __future__ import annotations

import array

from hypothesis import given, settings
from hypothesis import strategies as st

from forum.store.sqlite.search import MATCHED, _ranked

# A term's candidates: distinct post numbers, each with how much it weighs (1, plus n - 1 for a
# repeat mark for n); and posts only a mark brought (older than the term's newest), with weight.
term = st.tuples(
    st.dictionaries(st.integers(0, 60), st.integers(1, 4), max_size=25),
    st.dictionaries(st.integers(0, 60), st.integers(1, 3), max_size=5),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(term, min_size=1, max_size=5))
def test_ranked_is_terms_matched_then_times_then_newest(terms):
    candidates = []
    for first, marked_only in terms:
        marked = {doc: extra for doc, extra in marked_only.items() if doc not in first}
        candidates.append(
            (
                {doc: MATCHED + weight for doc, weight in first.items()},
                array.array("q", marked),
                array.array("q", marked.values()),
            )
        )
    matched_by_hand: dict[int, int] = {}
    weight_by_hand: dict[int, int] = {}
    for first, marked_only in terms:
        for doc, weight in first.items():
            matched_by_hand[doc] = matched_by_hand.get(doc, 0) + 1
            weight_by_hand[doc] = weight_by_hand.get(doc, 0) + weight
        for doc, extra in marked_only.items():
            if doc not in first:
                weight_by_hand[doc] = weight_by_hand.get(doc, 0) + extra
    expected = sorted(
        matched_by_hand, key=lambda doc: (matched_by_hand[doc], weight_by_hand[doc], doc)
    )[::-1]

    kept = [(dict(first), list(marked), list(weighs)) for first, marked, weighs in candidates]
    ranked, scores = _ranked(candidates)

    # The candidates are kept between searches: ranking must not change them.
    assert [(first, list(marked), list(weighs)) for first, marked, weighs in candidates] == kept

    assert ranked == expected
    assert {doc: divmod(scores[doc], MATCHED) for doc in ranked} == {
        doc: (matched_by_hand[doc], weight_by_hand[doc]) for doc in ranked
    }
