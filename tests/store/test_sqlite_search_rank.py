"""SQLite's ranking of a query's candidates (forum/store/sqlite/search._ranked), merged and
sorted in NumPy, against the rule written out plainly: most of the query's terms first, then most
times, then the newest (highest) number."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from forum.store.sqlite.search import MATCHED, Candidates, _ranked

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
        scores = {doc: MATCHED + weight for doc, weight in first.items()}
        scores.update((doc, extra) for doc, extra in marked_only.items() if doc not in first)
        docs = sorted(scores)
        candidates.append(
            Candidates(
                np.array(docs, np.int64),
                np.array([scores[doc] for doc in docs], np.int64),
                len(first),
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

    kept = [(term.docs.tolist(), term.scores.tolist()) for term in candidates]
    ranked = _ranked(candidates)

    # The candidates are kept between searches: ranking must not change them.
    assert [(term.docs.tolist(), term.scores.tolist()) for term in candidates] == kept

    assert ranked.docs.tolist() == expected
    assert [divmod(score, MATCHED) for score in ranked.scores.tolist()] == [
        (matched_by_hand[doc], weight_by_hand[doc]) for doc in expected
    ]
