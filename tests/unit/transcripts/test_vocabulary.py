"""The centre's vocabulary for the speech engine: read, gathered in priority order, fitted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.center.config import CenterError, load_center
from hotline.host.settings import DEFAULT_CENTER
from hotline.transcripts.vocabulary import (
    Term,
    VocabularyConfig,
    as_rows,
    fit,
    gather,
    hotwords,
    load_vocabulary,
)

TEXT = DEFAULT_CENTER.read_text(encoding="utf-8")


def chars(text: str) -> int:
    """A stand-in tokenizer: one token per character (the leading space included)."""
    return len(text)


def test_the_shipped_centre_names_its_places_first() -> None:
    config = load_center(TEXT).vocabulary
    assert config.places[:2] == ("桃城区", "冀州区")
    assert "居住证" in config.terms
    assert config.gather


def test_gather_keeps_priority_splits_labels_and_skips_what_a_longer_word_carries() -> None:
    config = VocabularyConfig(places=("桃城区", "河东街道"), terms=("供水公司", "居住证"))
    words = gather(
        config,
        departments=["住建局", "供水"],  # 供水 is inside 供水公司, taken before
        categories=["供水", "燃气"],
        queues=["劳动保障（含欠薪）", "住房和物业"],
        kb_titles=["居住证", "办理 居住证需要哪些材料"],
    )
    assert [(t.text, t.source) for t in words] == [
        ("桃城区", "place"), ("河东街道", "place"), ("供水公司", "term"), ("居住证", "term"),
        ("住建局", "department"), ("燃气", "category"), ("劳动保障", "queue"),
        ("含欠薪", "queue"), ("住房和物业", "queue"), ("办理", "kb"), ("居住证需要哪些材料", "kb"),
    ]  # fmt: skip


def test_gather_false_keeps_only_the_centres_own_lists() -> None:
    config = VocabularyConfig(places=("景县",), terms=("群租",), gather=False)
    words = gather(config, departments=["住建局"], queues=["综合受理"], kb_titles=["落户"])
    assert [t.text for t in words] == ["景县", "群租"]


def test_fit_keeps_the_first_words_within_the_budget_and_names_the_rest() -> None:
    words = [Term("桃城区", "place"), Term("不动产权证", "term"), Term("群租", "term")]
    kept, dropped = fit(words, chars, budget=8)  # " 桃城区" 4 + " 不动产权证" 6 > 8; " 群租" 3
    assert [t.text for t in kept] == ["桃城区", "群租"]
    assert [t.text for t in dropped] == ["不动产权证"]
    assert hotwords(kept) == "桃城区 群租"
    rows = as_rows(kept, dropped)
    assert [(r["word"], r["used"]) for r in rows] == [
        ("桃城区", True), ("群租", True), ("不动产权证", False)
    ]  # fmt: skip


@given(st.lists(st.text(alphabet="区县街道居住证公积金群租", min_size=1, max_size=6), max_size=40),
       st.integers(min_value=0, max_value=60))  # fmt: skip
def test_fit_never_goes_over_the_budget_and_loses_no_word(raw: list[str], budget: int) -> None:
    words = gather(VocabularyConfig(terms=tuple(raw)))
    kept, dropped = fit(words, chars, budget)
    assert sum(chars(" " + t.text) for t in kept) <= budget
    assert sorted(kept + dropped, key=words.index) == list(words)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("stt: {vocabulary: {places: 桃城区}}", "stt.vocabulary.places: expected a list, got str"),
        ("stt: {vocabulary: {terms: [居住证, 3]}}", "stt.vocabulary.terms.1: write a word"),
        ("stt: {vocabulary: {terms: ['居住 证']}}", "stt.vocabulary.terms.0: one word or name"),
        ("stt: {vocabulary: {terms: [" + "长" * 30 + "]}}", "stt.vocabulary.terms.0: one word"),
        ("stt: {vocabulary: {word: [居住证]}}", "stt.vocabulary.word: unknown key"),
        ("stt: {vocab: {}}", "stt.vocab: unknown key"),
        ("stt: {vocabulary: {gather: maybe}}", "stt.vocabulary.gather: expected bool"),
    ],
)
def test_a_broken_vocabulary_names_its_node(section: str, expected: str) -> None:
    start = TEXT.index("\nstt:")
    text = TEXT[:start] + "\n" + section + "\n"
    with pytest.raises(CenterError) as caught:
        load_center(text)
    assert any(str(p).startswith(expected) for p in caught.value.problems), caught.value.problems


def test_too_many_words_are_refused() -> None:
    problems: list[tuple[str, str]] = []
    load_vocabulary(
        {"terms": [f"词{i}" for i in range(2001)]}, lambda n, m: problems.append((n, m))
    )
    assert problems == [("stt.vocabulary", "2001 words: at most 2000 (the engine keeps ~100)")]
