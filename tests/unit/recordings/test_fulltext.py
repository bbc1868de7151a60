"""What a query means (the reference the index is tested against), and the grams."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.transcripts.fulltext import (
    MAX_QUERY_CHARS,
    Folded,
    Kind,
    Query,
    QueryError,
    _fold_char,
    _run_grams,
    fold,
    grams,
    parse_query,
)

# Chinese, Latin (with a combining accent and full-width forms), digits, spaces (full-width
# too), punctuation, and FTS5's own syntax characters
ALPHABET = "物业噪音小区的了一二3４aBcÉe\u0301ｘ -，。\u3000\"'*()^:+{}_"
texts = st.text(alphabet=ALPHABET, max_size=40)


def reference_fold(text: str) -> Folded:
    """The rules of the module docstring, character by character (slow and plain)."""
    tokens: list[tuple[Kind, str]] = []
    out: list[str] = []
    origin: list[int] = []
    current: list[str] = []  # the token being built
    kind: Kind | None = None  # its kind
    gap = False  # whitespace seen since it (a CJK run continues across whitespace)

    def close() -> None:
        nonlocal kind
        if kind is not None:
            tokens.append((kind, "".join(current)))
            current.clear()
            kind = None

    for i, raw in enumerate(text):
        for ch, k in _fold_char(raw):
            if k is Kind.SPACE:
                gap = True
                continue
            if k is Kind.OTHER:
                close()
                gap = False
                continue
            if k is not kind or (gap and k is Kind.WORD):
                close()
                if tokens:
                    out.append(" ")
                    origin.append(i)
                kind = k
            gap = False
            current.append(ch)
            out.append(ch)
            origin.append(i)
    close()
    return Folded("".join(out), tuple(origin), tuple(tokens))


def slow_grams(text: str) -> str:
    out: list[str] = []
    for kind, token in reference_fold(text).tokens:
        out.extend(_run_grams(token) if kind is Kind.CJK else [token])
    return " ".join(out)


@settings(max_examples=500)
@given(st.text(max_size=60) | texts)
def test_fold_and_grams_follow_the_rules_character_by_character(text: str) -> None:
    assert fold(text) == reference_fold(text)
    assert grams(text) == slow_grams(text)


def test_grams_of_chinese_words_and_english() -> None:
    assert grams("物业 噪音，problem 3号楼 Café") == "物业 业噪 噪音 音 problem 3 号楼 楼 café"
    assert grams("ＡＢ１２") == "ab12"  # NFKC then casefold


def test_spaces_between_chinese_words_are_ignored_punctuation_is_not() -> None:
    q = parse_query("业噪")
    assert q.matches("物业 噪音")  # as Vosk writes it
    assert q.matches("物业噪音")  # as Whisper writes it
    assert not q.matches("物业，噪音")
    assert q.spans("物业 噪音，业噪") == [(1, 4), (6, 8)]


def test_english_words_are_whole_and_case_insensitive() -> None:
    q = parse_query("Noise")
    assert q.matches("the NOISE at night")
    assert not q.matches("noises")
    assert q.spans("物业noise Noise") == [(2, 7), (8, 13)]


def test_a_term_mixing_digits_and_chinese_keeps_its_order() -> None:
    q = parse_query("3号楼")
    assert q.matches("住在3号楼二单元")
    assert not q.matches("3 楼号楼")
    assert not q.matches("13号楼")  # 13 is another word than 3
    assert parse_query("楼3").matches("号楼3单元")  # 楼 ends the run before 3


def test_every_term_must_match() -> None:
    q = parse_query("物业 noise")
    assert q.matches("物业的 noise")
    assert not q.matches("物业的噪音")


@pytest.mark.parametrize(
    ("raw", "fts"),
    [
        ('"物业"', '"物业"'),
        ("物业*", '"物业"'),
        ("-噪音", '"噪音"'),
        ("(噪音)", '"噪音"'),
        ("NEAR(物业 噪音)", '"near 物业" "噪音"'),
        ("a AND b OR c NOT d", '"a" "and" "b" "or" "c" "not" "d"'),
        ("grams:物业", '"grams 物业"'),
        ("{grams}: ^x", '"grams" "x"'),
        ("噪", '"噪" *'),
        ("3号", '"3 号" *'),
        ("物业 物业", '"物业"'),  # a repeated term once
    ],
)
def test_syntax_is_literal_text(raw: str, fts: str) -> None:
    assert parse_query(raw).fts() == fts


@pytest.mark.parametrize("raw", ["", "   ", "\u3000\t"])
def test_a_blank_query_asks_for_everything(raw: str) -> None:
    q = parse_query(raw)
    assert q.blank
    assert q.matches("anything")


@pytest.mark.parametrize("raw", ['"', "*", "-", "()", "！？", "\x00", '"" **'])
def test_punctuation_alone_matches_nothing(raw: str) -> None:
    q = parse_query(raw)
    assert q.matches_nothing
    assert not q.matches(raw + " 物业 " + raw)


def test_too_long_a_query_is_a_clear_error() -> None:
    assert parse_query("物" * MAX_QUERY_CHARS).terms
    with pytest.raises(QueryError, match="201 characters; at most 200"):
        parse_query("物" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(QueryError, match="17 terms; at most 16"):
        parse_query(" ".join(f"w{i}" for i in range(17)))


@settings(max_examples=300)
@given(texts, texts)
def test_spans_are_where_the_terms_match(text: str, raw: str) -> None:
    q = parse_query(raw)
    alone = [Query((term,)) for term in q.terms]
    for one in alone:
        assert bool(one.spans(text)) == one.matches(text)
    assert q.matches(text) == (q.blank or (bool(alone) and all(one.spans(text) for one in alone)))
    for start, end in q.spans(text):
        assert 0 <= start < end <= len(text)
        assert any(one.matches(text[start:end]) for one in alone)  # the span holds a match
