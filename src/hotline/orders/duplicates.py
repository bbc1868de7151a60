"""Possible duplicates of a new order, proposed for merging (pure).

Two orders may be about the same matter when they came from the same number, or name the
same place and category, within ``days`` of each other, and their texts are alike: the
Jaccard index of their character bigrams (fine for Chinese, which has no spaces) is at least
``similarity``. Each proposal says which of these held, so the agent can judge.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.core.localtime import DAY_MS
from hotline.orders.model import Order

__all__ = ["Proposal", "bigrams", "propose", "similarity"]


def bigrams(text: str) -> frozenset[str]:
    """The text's character pairs, punctuation and spaces left out (one character: itself)."""
    chars = [c for c in text.lower() if c.isalnum()]
    if len(chars) == 1:
        return frozenset(chars)
    return frozenset(a + b for a, b in itertools.pairwise(chars))


def similarity(a: str, b: str) -> float:
    """Jaccard index of the bigrams of A and B: 0 (nothing shared) to 1 (the same)."""
    x, y = bigrams(a), bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


@dataclass(frozen=True, slots=True)
class Proposal:
    order: str
    same_number: bool
    same_place: bool  # and the same category
    similarity: float

    def why(self) -> str:
        keys = [k for k, v in (("same number", self.same_number),
                               ("same place and category", self.same_place)) if v]  # fmt: skip
        return f"{' and '.join(keys)}, text {self.similarity:.0%} alike"


def propose(
    new: Order,
    others: Iterable[Order],
    *,
    days: int = 30,
    min_similarity: float = 0.3,
) -> list[Proposal]:
    """Orders of OTHERS that may be the same matter as NEW, most alike first."""
    found = []
    phones = {c.phone for c in new.callers if c.phone}
    for o in others:
        if o.id == new.id or o.merged_into or abs(new.t_created - o.t_created) > days * DAY_MS:
            continue
        same_number = bool(phones & {c.phone for c in o.callers if c.phone})
        same_place = bool(new.place) and o.place == new.place and o.category == new.category
        alike = similarity(new.content, o.content)
        if (same_number or same_place) and alike >= min_similarity:
            found.append(Proposal(o.id, same_number, same_place, round(alike, 3)))
    return sorted(found, key=lambda p: (-p.similarity, p.order))
