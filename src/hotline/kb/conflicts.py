"""Contradictory answers on one matter (the Hengshui case): two calls or orders of the same
citizen or the same work order, within a few days, answered on the same category with
different answers, or with versions of one answer whose text says something else (pure).

    find(uses, days=30)      # [Conflict, ...] oldest first, each with both uses as evidence

A :class:`Use` is one link of an answer version to a call or an order, with what the shell
knows about it: the caller's number and the work order (the matter) it belongs to. Two uses
are on one matter when they share a non-empty caller number or a work order; they conflict
when, in the same category and at most ``days`` apart, they used different answers, or two
versions of one answer whose texts differ materially (:func:`hotline.kb.model.material`: a
number, a negation, or much of the wording). Two answers linked to the same call or order
are not a conflict (one call may need two answers); the same version twice never is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.core.localtime import DAY_MS
from hotline.kb.model import material

__all__ = ["Conflict", "Use", "find"]


@dataclass(frozen=True, slots=True)
class Use:
    link: int  # the link's id
    answer: int
    version: int
    title: str
    category: str  # the version's category
    text: str  # the version's text
    kind: str  # "call" or "order"
    target: str  # the call's id or the order's id
    t: int  # when it was linked
    user: str  # who linked it
    caller: str = ""  # the citizen's number ("" unknown)
    matter: str = ""  # the work order the call or order is (an order: itself; "" none)


@dataclass(frozen=True, slots=True)
class Conflict:
    category: str
    first: Use
    second: Use
    why: tuple[str, ...]  # "same caller", "same order 20261207-0001"
    difference: str  # "different answers" or "version 1 → 2: numbers changed: 30 → 15"

    @property
    def days(self) -> float:
        return round((self.second.t - self.first.t) / DAY_MS, 2)


def _why(a: Use, b: Use) -> tuple[str, ...]:
    out = []
    if a.caller and a.caller == b.caller:
        out.append("same caller")
    if a.matter and a.matter == b.matter:
        out.append(f"same order {a.matter}")
    return tuple(out)


def _difference(a: Use, b: Use) -> str:
    if a.answer != b.answer:
        return f"different answers: {a.answer} “{a.title}” and {b.answer} “{b.title}”"
    if a.version == b.version:
        return ""
    why = material(a.text, b.text)
    return f"answer {a.answer} version {a.version} → {b.version}: {why}" if why else ""


def find(uses: Iterable[Use], *, days: int = 30) -> list[Conflict]:
    """Every pair of USES that contradict each other, by the time of the later one."""
    if days < 0:
        raise ValueError(f"days {days}: use 0 or more")
    by_category: dict[str, list[Use]] = defaultdict(list)
    for u in uses:
        by_category[u.category].append(u)
    found: list[Conflict] = []
    for category, group in by_category.items():
        group.sort(key=lambda u: (u.t, u.link))
        for j, b in enumerate(group):
            for a in group[:j]:
                if b.t - a.t > days * DAY_MS or (a.kind, a.target) == (b.kind, b.target):
                    continue
                why = _why(a, b)
                if not why:
                    continue
                difference = _difference(a, b)
                if difference:
                    found.append(Conflict(category, a, b, why, difference))
    found.sort(key=lambda c: (c.second.t, c.first.t, c.second.link, c.first.link))
    return found
