"""Transcript search on PostgreSQL 15 without extensions: grams in a ``text[]`` with GIN,
and a ``LIKE`` over the folded text where grams alone are not exact.

Debian's PostgreSQL ships neither pg_bigm nor PGroonga; pg_trgm drops Chinese under the C
locale and finds nothing to index in a 1–2 character query, and the default text search
parser takes a run of Chinese as one word. So each transcript row carries, written by
the store with the same rules as SQLite's index (:mod:`hotline.transcripts.fulltext`):

* ``grams``: the set of its words, and of every Chinese character and every bigram of
  its Chinese runs (``物业噪音`` → 物 业 噪 音 物业 业噪 噪音), under a GIN index;
* ``folded``: ``" " + fold(text).text + " "`` (Chinese runs without the spaces between
  words, each token apart by one space).

A term asks the GIN index for its grams (``grams @> ?``): a word, a character, or the
bigrams of a run of two or more. A term of one word, or of one Chinese run of one or two
characters, is exact by its grams alone; any other (3+ characters, words and Chinese
mixed) is then checked by ``folded LIKE '%pattern%'`` with the term's
:attr:`~hotline.transcripts.fulltext.Term.pattern`, which is the definition of a match
(:meth:`~hotline.transcripts.fulltext.Query.matches`): the index finds candidates, the
LIKE decides. PostgreSQL's planner picks the side a filtered search starts from.
"""

from __future__ import annotations

import itertools

from hotline.transcripts.fulltext import Kind, Query, Term, fold

__all__ = ["exact", "folded", "gram_set", "term_grams", "text_where"]


def _bigrams(run: str) -> list[str]:
    return [a + b for a, b in itertools.pairwise(run)]


def gram_set(text: str) -> list[str]:
    """What the ``grams`` column holds for TEXT, sorted (each gram once)."""
    out: set[str] = set()
    for kind, token in fold(text).tokens:
        if kind is Kind.CJK:
            out.update(token)
            out.update(_bigrams(token))
        else:
            out.add(token)
    return sorted(out)


def folded(text: str) -> str:
    """What the ``folded`` column holds for TEXT: where a term's pattern is searched."""
    return " " + fold(text).text + " "


def term_grams(term: Term) -> list[str]:
    """The grams every transcript matching TERM has."""
    out: list[str] = []
    for kind, token in term.tokens:
        if kind is Kind.WORD or len(token) == 1:
            out.append(token)
        else:
            out.extend(_bigrams(token))
    return out


def exact(term: Term) -> bool:
    """Whether TERM's grams alone decide a match (no LIKE needed)."""
    if len(term.tokens) != 1:
        return False
    kind, token = term.tokens[0]
    return kind is Kind.WORD or len(token) <= 2


def _like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + escaped + "%"


def text_where(q: Query, table: str = "t") -> tuple[list[str], list[object]]:
    """The conditions (on TABLE's row) that find Q's matches, and their arguments."""
    if q.blank:
        return [], []
    grams = sorted({g for term in q.terms for g in term_grams(term)})
    where = [f"{table}.grams @> ?::text[]"]
    args: list[object] = [grams]
    for term in q.terms:
        if not exact(term):
            where.append(f"{table}.folded LIKE ?")
            args.append(_like(term.pattern))
    return where, args
