"""Full-text search over transcripts, the pure half: what is indexed, what a query means,
where it matched (pure: strings in, strings and offsets out).

    grams("物业 噪音 problem")         # '物业 业噪 噪音 音 problem'  (what the index stores)
    q = parse_query('物业 "Noise"')     # two terms, both must match
    q.fts()                            # '"物业" "noise"'  (an FTS5 MATCH expression)
    q.spans("楼上物业的noise")           # [(2, 4), (5, 10)]  (offsets into the text)

What matches (the same rule for the index, the brute-force check and the highlighter):

* Text is folded per character: NFKC (full-width ``ＡＢ１`` is ``AB1``) and casefold, so
  English matches case-insensitively.
* Chinese (Han, also kana and Hangul) is searched as a substring of any length, 1
  character too. Whitespace between two such characters is ignored: Vosk writes
  ``物业 噪音`` with spaces between words, Whisper ``物业噪音``; both match ``业噪``.
  Punctuation breaks a run (``物业，噪音`` does not match ``业噪``).
* Letters and digits of other scripts form words, matched whole (``noise`` does not
  match ``noises``), in the order written when a term mixes them (``3号楼``).
* A query is literal text: whitespace separates terms, and every term must match;
  quotes, ``*``, ``-``, parentheses, ``NEAR``, ``AND``, ``OR`` are not operators
  (punctuation is ignored like in the text, the words are searched as words).

The index (an FTS5 table with the ``ascii`` tokenizer, which keeps every non-ASCII
character inside tokens) stores each run of Chinese as its overlapping bigrams plus its last
character, and each word as itself. A term of n ≥ 2 Chinese characters is the phrase of
its n−1 bigrams; one character is a prefix query (every character of a run starts a token:
a bigram, or the run's last character); a piece followed by more of the term ends with the
run's last character, so it must end where the run ends. See docs/search.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "Folded",
    "Kind",
    "Query",
    "QueryError",
    "Term",
    "fold",
    "grams",
    "is_cjk",
    "parse_query",
]

MAX_QUERY_CHARS = 200
MAX_TERMS = 16


class QueryError(ValueError):
    """The query cannot be searched (too long, too many terms); the text says why."""


class Kind(Enum):
    CJK = "cjk"  # searched as a substring
    WORD = "word"  # searched whole
    SPACE = "space"
    OTHER = "other"  # punctuation, symbols: a boundary


_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3007, 0x3007),  # 〇, a Chinese numeral zero
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x3134F),  # Extensions B-G
)


def is_cjk(ch: str) -> bool:
    """Whether CH is written without spaces between words (Han, kana, Hangul)."""
    o = ord(ch)
    return any(lo <= o <= hi for lo, hi in _RANGES)


def _kind_of(ch: str) -> Kind:
    if is_cjk(ch):
        return Kind.CJK
    if ch.isspace():
        return Kind.SPACE
    if ch.isalnum() or unicodedata.category(ch).startswith("M"):
        return Kind.WORD
    return Kind.OTHER


@cache
def _fold_char(ch: str) -> tuple[tuple[str, Kind], ...]:
    """One original character, folded: its characters with their kinds (often one)."""
    return tuple((c, _kind_of(c)) for c in unicodedata.normalize("NFKC", ch).casefold())


@dataclass(frozen=True, slots=True)
class Folded:
    """The searchable form of a text: its tokens (Chinese runs and words) joined by one
    space, with ``origin[i]`` the index in the original text of ``text[i]``."""

    text: str
    origin: tuple[int, ...]
    tokens: tuple[tuple[Kind, str], ...]


def _run_grams(run: str) -> list[str]:
    return [*map(str.__add__, run, run[1:]), run[-1]]


class _Table(dict[int, str]):
    """A ``str.translate`` table filled on first use of each character."""

    def __init__(self, fn: Callable[[str], str]) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, code: int) -> str:
        value = self[code] = self.fn(chr(code))
        return value


_FOLD = _Table(lambda ch: "".join(c for c, _ in _fold_char(ch)))
_KIND = _Table(lambda ch: {Kind.CJK: "c", Kind.WORD: "w", Kind.SPACE: "s"}.get(_kind_of(ch), "o"))
_RUN = re.compile(r"c(?:s*c)*|w+")


def fold(text: str) -> Folded:
    """The searchable form of TEXT (see the module docstring for the rules)."""
    folded = text.translate(_FOLD)
    if len(folded) == len(text):
        where: Sequence[int] = range(len(text))  # each character folded to one (the usual)
    else:
        where = [i for i, ch in enumerate(text) for _ in _FOLD[ord(ch)]]
    kinds = folded.translate(_KIND)
    tokens: list[tuple[Kind, str]] = []
    out: list[str] = []
    origin: list[int] = []
    for m in _RUN.finditer(kinds):
        a, b = m.span()
        if kinds[a] == "c" and "s" in kinds[a:b]:  # Chinese words with spaces between
            at: Sequence[int] = [i for i in range(a, b) if kinds[i] == "c"]
            token = "".join(folded[i] for i in at)
        else:
            at, token = range(a, b), folded[a:b]
        if tokens:
            out.append(" ")
            origin.append(where[at[0]])
        tokens.append((Kind.CJK if kinds[a] == "c" else Kind.WORD, token))
        out.append(token)
        origin.extend(where[i] for i in at)
    return Folded("".join(out), tuple(origin), tuple(tokens))


def grams(text: str) -> str:
    """What the FTS5 index stores for TEXT: the tokens of :func:`fold`, Chinese runs as
    bigrams and their last character, separated by spaces."""
    folded = text.translate(_FOLD)
    kinds = folded.translate(_KIND)
    out: list[str] = []
    for m in _RUN.finditer(kinds):
        token = folded[m.start() : m.end()]
        if kinds[m.start()] == "c":
            out.extend(_run_grams("".join(token.split())))
        else:
            out.append(token)
    return " ".join(out)


@dataclass(frozen=True, slots=True)
class Term:
    """One whitespace-separated part of a query: its tokens in order."""

    tokens: tuple[tuple[Kind, str], ...]

    @property
    def pattern(self) -> str:
        """What to find in ``" " + fold(text).text + " "``: a word must be whole."""
        inner = " ".join(t for _, t in self.tokens)
        head = " " if self.tokens[0][0] is Kind.WORD else ""
        tail = " " if self.tokens[-1][0] is Kind.WORD else ""
        return head + inner + tail

    def fts(self) -> str:
        """This term as an FTS5 phrase over the index's grams."""
        parts: list[str] = []
        prefix = False
        last = len(self.tokens) - 1
        for n, (kind, token) in enumerate(self.tokens):
            if kind is Kind.WORD:
                parts.append(token)
            elif n < last:
                parts.extend(_run_grams(token))  # then something else: the run ends here
            elif len(token) == 1:
                parts.append(token)
                prefix = True  # any token starting with it (a bigram or a run's end)
            else:
                parts.extend(_run_grams(token)[:-1])
        # tokens are letters, digits and CJK only (fold dropped the rest): no quote inside
        return '"' + " ".join(parts) + '"' + (" *" if prefix else "")


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query. ``blank``: nothing was asked (list everything the filters allow);
    no ``terms`` but not blank: only punctuation was asked, which matches nothing."""

    terms: tuple[Term, ...]
    blank: bool = False

    @property
    def matches_nothing(self) -> bool:
        return not self.blank and not self.terms

    def fts(self) -> str:
        """The FTS5 MATCH expression: every term's phrase (FTS5 ANDs them)."""
        return " ".join(t.fts() for t in self.terms)

    def matches(self, text: str) -> bool:
        """Whether TEXT matches (the reference the index is tested against)."""
        if self.blank:
            return True
        padded = " " + fold(text).text + " "
        return bool(self.terms) and all(t.pattern in padded for t in self.terms)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the terms occur in TEXT: sorted, overlapping spans merged, offsets into
        TEXT (a span may include the whitespace between Chinese words)."""
        folded = fold(text)
        padded = " " + folded.text + " "
        found: list[tuple[int, int]] = []
        for term in self.terms:
            pattern = term.pattern
            lead = len(pattern) - len(pattern.lstrip(" "))
            core = len(pattern.strip(" "))
            at = padded.find(pattern)
            while at >= 0:
                first = at + lead - 1  # index into folded.text
                last = first + core - 1
                found.append((folded.origin[first], folded.origin[last] + 1))
                at = padded.find(pattern, at + 1)
        return _merge(found)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def parse_query(raw: str) -> Query:
    """Parse user input as literal text; :class:`QueryError` if it is too long."""
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query has {len(raw)} characters; at most {MAX_QUERY_CHARS} can be searched"
        )
    parts = raw.split()
    if not parts:
        return Query((), blank=True)
    terms: list[Term] = []
    for part in parts:
        tokens = fold(part).tokens
        if tokens and Term(tokens) not in terms:
            terms.append(Term(tokens))
    if len(terms) > MAX_TERMS:
        raise QueryError(f"the query has {len(terms)} terms; at most {MAX_TERMS} can be searched")
    return Query(tuple(terms))
