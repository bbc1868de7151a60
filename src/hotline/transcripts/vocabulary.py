"""The centre's own words, given to the speech engine so it hears them (pure).

whisper base misreads what a 12345 hotline hears all day (居住证 → 李支柱, 群租 → 清楚,
冀州区 → 季州其). Given the centre's vocabulary as hotwords, it hears them far more often
(docs/benchmarks.md "Mandarin vocabulary"). The vocabulary is gathered from what the centre
already has, then what its ``stt.vocabulary`` section adds:

    terms = gather(config, departments=[...], categories=[...], queues=[...], kb_titles=[...])
    kept, dropped = fit(terms, engine.count_tokens, budget=engine.hotword_budget)
    hotwords(kept)                      # "冀州区 桃城区 居住证 ..." for the engine

Order is priority: what citizens say and the engine cannot guess comes first (places,
then the centre's own terms), then departments, order categories, queue labels and the
knowledge base's titles. The engine can take only so many tokens of hotwords (whisper:
223); :func:`fit` keeps the first that fit and says which were left out, so a centre sees
what its list costs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hotline.core.reader import Fail, Reader

SOURCES = ("place", "term", "department", "category", "queue", "kb")
"""Where a word comes from, in the order of priority."""
MAX_TERM = 24  # characters: a hotword is a name or a term, not a sentence
MAX_TERMS = 2000


@dataclass(frozen=True, slots=True)
class VocabularyConfig:
    """The centre file's ``stt.vocabulary`` section."""

    places: tuple[str, ...] = ()  # districts, streets, towns, communities: 桃城区, 河东街道
    terms: tuple[str, ...] = ()  # the centre's words: 居住证, 群租, 占道经营
    gather: bool = True  # also departments, categories, queue labels and KB titles


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    source: str  # one of SOURCES


def load_vocabulary(raw: object, fail: Fail) -> VocabularyConfig:
    """The ``stt.vocabulary`` mapping: ``places`` and ``terms`` (lists of words), ``gather``."""
    r = Reader(fail)
    section = r.section("stt.vocabulary", raw, {"places", "terms", "gather"})
    gather_too = r.get("stt.vocabulary", section, "gather", bool, True)
    lists: dict[str, tuple[str, ...]] = {}
    total = 0
    for key in ("places", "terms"):
        node = f"stt.vocabulary.{key}"
        words = []
        for i, word in enumerate(r.items(node, section.get(key))):
            if not isinstance(word, str) or not word.strip():
                r.fail(f"{node}.{i}", "write a word (text)")
            elif len(word.strip()) > MAX_TERM or any(c.isspace() for c in word.strip()):
                r.fail(
                    f"{node}.{i}", f"one word or name of at most {MAX_TERM} characters, no spaces"
                )
            else:
                words.append(word.strip())
        total += len(words)
        lists[key] = tuple(words)
    if total > MAX_TERMS:
        r.fail("stt.vocabulary", f"{total} words: at most {MAX_TERMS} (the engine keeps ~100)")
    return VocabularyConfig(lists["places"], lists["terms"], bool(gather_too))


def gather(
    config: VocabularyConfig,
    *,
    departments: Iterable[str] = (),
    categories: Iterable[str] = (),
    queues: Iterable[str] = (),
    kb_titles: Iterable[str] = (),
) -> tuple[Term, ...]:
    """The centre's words in order of priority, each once. A label is split at its
    punctuation (劳动保障（含欠薪） → 劳动保障, 含欠薪); a word inside a word already taken is
    left out (供水 after 供水公司): the longer one carries it."""
    given: list[tuple[str, Iterable[str]]] = [("place", config.places), ("term", config.terms)]
    if config.gather:
        given += [("department", departments), ("category", categories), ("queue", queues),
                  ("kb", kb_titles)]  # fmt: skip
    out: list[Term] = []
    seen: list[str] = []
    for source, words in given:
        for raw in words:
            for word in re.split(r"[\W_]+", raw):
                if not word or len(word) > MAX_TERM or any(word in s for s in seen):
                    continue
                seen.append(word)
                out.append(Term(word, source))
    return tuple(out)


def fit(
    terms: Iterable[Term], count_tokens: Callable[[str], int], budget: int
) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    """The terms that fit in BUDGET tokens (each as " word", as the engine reads them), in
    order, and those that did not."""
    kept: list[Term] = []
    dropped: list[Term] = []
    used = 0
    for term in terms:
        cost = count_tokens(" " + term.text)
        if used + cost <= budget:
            kept.append(term)
            used += cost
        else:
            dropped.append(term)
    return tuple(kept), tuple(dropped)


def hotwords(terms: Iterable[Term]) -> str:
    """The words as the engine takes them: one line, separated by spaces."""
    return " ".join(t.text for t in terms)


def as_rows(kept: Iterable[Term], dropped: Iterable[Term]) -> list[dict[str, Any]]:
    """Rows for ``hotline stt vocabulary``: each word, its source, whether it is used."""
    return [{"word": t.text, "source": t.source, "used": True} for t in kept] + [
        {"word": t.text, "source": t.source, "used": False} for t in dropped
    ]
