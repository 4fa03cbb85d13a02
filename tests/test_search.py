"""Segmentation into search terms (forum/search.py), the same for posts and for queries."""

from __future__ import annotations

import threading
import time
import unicodedata

import jieba
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forum import search


def test_a_title_gives_its_words_and_the_words_inside_them(segmenter):
    terms = segmenter.terms_for("劳动合同纠纷怎么处理", "")
    assert {"劳动", "合同", "劳动合同", "纠纷", "合同纠纷", "处理"} <= set(terms)
    assert len(terms) == segmenter.TITLE_WEIGHT * len(set(terms))


def test_a_query_matches_the_post_that_contains_its_words(segmenter):
    post = set(segmenter.terms_for("劳动合同纠纷怎么处理", "公司拖欠工资三个月，怎么办？"))
    for query in ("劳动合同", "合同", "工资"):
        terms = segmenter.query_terms(query)
        assert terms and set(terms) <= post, query
    assert set(segmenter.query_terms("劳动合同")) == {"劳动", "合同", "劳动合同"}


def test_text_is_normalised_and_noise_dropped(segmenter):
    terms = segmenter.terms_for(
        "ＡＢＣ１２３ 的 C++ 与 a 1 ，。！？", "了 是 在\t\n 工资\u3000拖欠"
    )
    assert terms == ["abc123", "c++"] * segmenter.TITLE_WEIGHT + ["工资", "拖欠"]


def test_title_terms_come_first_and_weigh_more(segmenter):
    terms = segmenter.terms_for("道路维修", "道路维修 道路维修 公交")
    assert terms[:2] == ["道路", "维修"] and "公交" in terms
    # Each part once, the title's weighted: the body's repeats add nothing.
    assert terms.count("道路") == segmenter.TITLE_WEIGHT + 1 and terms.count("公交") == 1


@pytest.mark.parametrize(
    "hostile, expected",
    [
        ('"NEAR(*', ["near"]),
        ("'; DROP", ["drop"]),
        ('{"$ne":null}', ["ne", "null"]),
        ("%00", ["00"]),
        ("* AND ( OR ) - ^ :", ["and", "or"]),
        ("\x00\x1f\u200b", []),
    ],
)
def test_hostile_queries_are_just_words(segmenter, hostile, expected):
    assert segmenter.query_terms(hostile) == expected


@pytest.mark.parametrize("empty", ["", " ", "\t\n ", "\u3000", "，。、", "的了是"])
def test_an_empty_query_has_no_terms(segmenter, empty):
    assert segmenter.query_terms(empty) == []


def test_term_counts_are_capped(segmenter):
    many = "".join(f"词语{n} " for n in range(5000))
    assert len(segmenter.terms_for(many, many)) == search.DOCUMENT_TERMS_MAX
    assert len(segmenter.query_terms(many)) == search.QUERY_TERMS_MAX
    assert segmenter.query_terms("x" * 65 + " 工资") == ["工资"]


def test_segmentation_is_safe_from_several_threads(segmenter):
    expected = segmenter.terms_for("劳动合同纠纷怎么处理", "公司拖欠工资")
    results = []

    def work():
        results.extend(
            tuple(segmenter.terms_for("劳动合同纠纷怎么处理", "公司拖欠工资")) for _ in range(50)
        )

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) == {tuple(expected)}


def test_warm_up_is_paid_once(segmenter):
    started = time.perf_counter()
    segmenter.warm_up()
    segmenter.query_terms("劳动合同")
    assert time.perf_counter() - started < 0.1


# Pieces of queries: words jieba knows and does not, in both scripts, the separators jieba and
# str.split know (full-width space, tab, NBSP, new line), punctuation and full-width letters.
QUERY_PIECES = [
    "劳动合同",
    "纠纷",
    "停车场",
    "东风北路",
    "玉溪",
    "怎么办",
    "的",
    "峨",
    "乐乐呵",
    "Park",
    "ＡＢＣ",
    "12",
    "c++",
    "a.b",
    " ",
    "\u3000",
    "\t",
    "\xa0",
    "\n",
    "，",
    "？",
    '"',
    "-",
]


def _whole_text_terms(q: str) -> list[str]:
    """query_terms as jieba cuts the whole text, not part by part."""
    return search._terms((q,), search.QUERY_TERMS_MAX)


def _whole_text_content_words(text: str) -> list[str]:
    words: dict[str, None] = {}
    normal = unicodedata.normalize("NFKC", text).lower()
    for word in jieba.cut(normal) if normal.strip() else []:
        if search._is_term(word) and word not in search.FUNCTION_WORDS:
            words.setdefault(word)
            if len(words) >= search.QUERY_TERMS_MAX:
                break
    return list(words)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(QUERY_PIECES), max_size=30).map("".join))
def test_a_query_cut_part_by_part_has_the_terms_of_the_whole(segmenter, q):
    assert search.query_terms(q) == _whole_text_terms(q)
    assert search.content_words(q) == _whole_text_content_words(q)
    # Asked again, from the parts kept: the same, and known without jieba.
    assert search.segmented(q)
    assert search.query_terms(q) == _whole_text_terms(q)


def test_a_query_is_segmented_on_the_loop_when_little_of_it_is_new(segmenter, monkeypatch):
    monkeypatch.setattr(search, "_KEPT_PARTS", {})
    limit = search.UNCUT_ON_LOOP_MAX
    new = "从未见过的词语组合甲乙丙丁戊己庚辛壬癸"[: limit + 1]
    assert not search.segmented(new)
    assert search.segmented(new[:limit]) and search.segmented(f"{new[:4]} {new[4:limit]}")
    search.query_terms(new)
    assert search.segmented(new)
    # Parts cut before, and a new word short enough: known at once; two such words are not.
    assert search.segmented(f"{new} 12345号")
    assert not search.segmented(f"{new} 12345号 {new[::-1]}")
