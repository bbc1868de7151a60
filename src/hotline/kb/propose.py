"""Answers proposed for a call: from what the caller chose in the IVR and the words said.

    propose(answers, ivr_path="main:2>labour", tag="unpaid-wages",
            words="我在工地干了三个月老板一直拖欠工资", now=now)   # [Proposal, ...] best first

Ranking, in order:

1. **what the IVR says** (``level``): 2 when the answer serves the call's IVR tag or a
   prefix of its IVR path (``main:2`` serves ``main:2>labour``); 1 when the call's tag is
   the answer's category or one of its tags; 0 otherwise. A deeper path match ranks first
   within a level when the words do not decide.
2. **the words** (``score``): the grams shared by the call's words and the answer (Chinese
   as character pairs, other scripts as whole words: the same folding as the transcript
   search, :func:`hotline.transcripts.fulltext.fold`), each weighted by how rare it is among
   the answers (a pair every answer has, 您好, counts for little) and the title, tags and
   category counted twice; divided by the square root of the answer's size, so a long
   answer does not win by length alone.

An answer outside its validity period is never proposed; one with neither an IVR match nor
a shared gram neither.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.kb.model import Answer, Content
from hotline.transcripts.fulltext import Kind, fold

__all__ = ["Proposal", "grams", "propose"]

SHOWN = 8  # shared grams kept as the proposal's evidence


def grams(text: str) -> set[str]:
    """TEXT's grams: each run of Chinese as its character pairs (one character: itself),
    each word of other scripts whole, case and width folded."""
    out: set[str] = set()
    for kind, token in fold(text).tokens:
        if kind is Kind.CJK and len(token) > 1:
            out.update(a + b for a, b in itertools.pairwise(token))
        else:
            out.add(token)
    return out


@dataclass(frozen=True, slots=True)
class Proposal:
    answer: int
    version: int
    title: str
    category: str
    level: int  # 2 the IVR tag or path is served, 1 the tag is the category or a tag, 0 none
    match: str  # what the IVR matched ("tag unpaid-wages", "path main:2") or ""
    score: float  # the words' weight (0: no word shared)
    shared: tuple[str, ...]  # the shared grams, rarest first (at most SHOWN)


def _ivr(c: Content, ivr_path: str, tag: str) -> tuple[int, int, str]:
    """(level, depth of the path matched, what matched)."""
    best: tuple[int, int, str] = (0, 0, "")
    steps = ivr_path.split(">") if ivr_path else []
    for s in c.serves:
        if tag and s == tag:
            best = max(best, (2, 0, f"tag {tag}"))
        want = s.split(">")
        if steps and steps[: len(want)] == want:
            best = max(best, (2, len(want), f"path {s}"))
    if best[0] == 0 and tag and (tag == c.category or tag in c.tags):
        best = (1, 0, f"tag {tag}")
    return best


def _weighted(c: Content) -> Counter[str]:
    w: Counter[str] = Counter()
    for g in grams(c.text):
        w[g] = 1
    for g in grams(" | ".join([c.category, c.title, *c.tags])):
        w[g] = 2
    return w


def propose(
    answers: Iterable[Answer],
    *,
    ivr_path: str = "",
    tag: str = "",
    words: str = "",
    now: int,
    limit: int = 5,
) -> list[Proposal]:
    """The answers for a call with IVR_PATH, TAG and WORDS (its transcript so far), best
    first, at most LIMIT; only those valid at NOW."""
    live = [a for a in answers if a.content.valid_at(now)]
    weights = {a.id: _weighted(a.content) for a in live}
    df: Counter[str] = Counter()
    for w in weights.values():
        df.update(w.keys())
    n = len(live)
    said = grams(words) if words else set()
    found: list[tuple[tuple[int, float, int, int], Proposal]] = []
    for a in live:
        level, depth, match = _ivr(a.content, ivr_path, tag)
        w = weights[a.id]
        shared = said & w.keys()
        idf = {g: math.log(1 + n / df[g]) for g in shared}
        score = sum(w[g] * idf[g] for g in shared) / math.sqrt(max(sum(w.values()), 1))
        if level == 0 and not shared:
            continue
        rarest = tuple(sorted(shared, key=lambda g: (-idf[g], g))[:SHOWN])
        p = Proposal(a.id, a.current.n, a.content.title, a.content.category, level, match,
                     round(score, 4), rarest)  # fmt: skip
        found.append(((-level, -p.score, -depth, a.id), p))
    found.sort(key=lambda kp: kp[0])
    return [p for _, p in found[:limit]]
