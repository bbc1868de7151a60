"""The mergeable sums behind a report group, and the registry's figures from them (pure).

    sums = Sums()
    sums.count(verdict.populations); sums.stat(Quantity.TALK, 61_500); sums.waits.add(17_208)
    total.merge(sums)                        # groups add up: counts, (n, Σ) and the waits
    group = sums.group("labour")             # Group(key, counts, figures)

A report from the call records (:func:`hotline.metrics.report.compute`) and one from the
rollup (:mod:`hotline.stores.rollup`) fill the same sums, so their figures are computed by
the same code and equal to the last bit. Means need only (n, Σ); the wait percentiles need
every wait, kept in a :class:`WaitSet` (the rollup passes one backed by arrays).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hotline.agents.timeline import Activity
from hotline.metrics.formulas import REGISTRY, Formula, Kind, Quantity
from hotline.metrics.populations import Population

__all__ = ["Figure", "Group", "Sums", "WaitSet", "rank"]


@dataclass(frozen=True, slots=True)
class Figure:
    """One formula's value for one group; ``value`` is None when the denominator is 0."""

    formula: str
    value: float | None
    numerator: int | None
    denominator: int | None
    unit: str


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    counts: Mapping[Population, int]
    figures: Mapping[str, Figure]


class WaitSet:
    """A multiset of waits (ms) that answers "the k-th smallest" (1-based)."""

    def __init__(self, values: Iterable[int] = ()) -> None:
        self._values = list(values)
        self._sorted = False

    def add(self, ms: int) -> None:
        self._values.append(ms)
        self._sorted = False

    def merge(self, other: WaitSet) -> None:
        self._values.extend(other.values())
        self._sorted = False

    def __len__(self) -> int:
        return len(self._values)

    def values(self) -> list[int]:
        if not self._sorted:
            self._values.sort()
            self._sorted = True
        return self._values

    def kth(self, k: int) -> int:
        return self.values()[k - 1]


def rank(f: Formula, n: int) -> int:
    """Nearest rank: the k-th smallest of n, k = ⌈p·n/100⌉ (the n-th for the maximum)."""
    return n if f.kind is Kind.MAX else max(1, -(-(f.percentile or 0) * n // 100))


@dataclass
class Sums:
    """What one group adds up to."""

    counts: Counter[Population] = field(default_factory=Counter)
    stats: dict[Quantity, list[int]] = field(default_factory=dict)  # quantity -> [n, Σ]
    waits: WaitSet = field(default_factory=WaitSet)  # answered: t_answer − t_q
    abandons: WaitSet = field(default_factory=WaitSet)  # abandoned: departure − t_q
    times: Counter[Activity] | None = None  # agent time; None: not attributable (by queue)
    quality: Counter[str] = field(default_factory=Counter)  # report.Quality's fields, by name

    def stat(self, q: Quantity, value: int, n: int = 1) -> None:
        s = self.stats.setdefault(q, [0, 0])
        s[0] += n
        s[1] += value

    def merge(self, other: Sums) -> None:
        self.counts.update(other.counts)
        for q, (n, total) in other.stats.items():
            self.stat(q, total, n)
        self.waits.merge(other.waits)
        self.abandons.merge(other.abandons)
        self.quality.update(other.quality)

    def group(self, key: str) -> Group:
        counts = {p: self.counts.get(p, 0) for p in Population}
        return Group(key, counts, {f.id: self.figure(f, counts) for f in REGISTRY})

    def figure(self, f: Formula, counts: Mapping[Population, int]) -> Figure:
        if f.kind is Kind.TIME_SHARE:
            if self.times is None:
                return Figure(f.id, None, None, None, f.unit)
            num = sum(self.times.get(a, 0) for a in f.time_num)
            den = sum(self.times.get(a, 0) for a in f.time_den)
            return Figure(f.id, num / den if den > 0 else None, num, den, f.unit)
        if f.kind is Kind.RATIO:
            num = sum(t.sign * counts[t.population] for t in f.numerator)
            den = sum(t.sign * counts[t.population] for t in f.denominator)
            return Figure(f.id, num / den if den > 0 else None, num, den, f.unit)
        scale = 1000 if f.unit == "s" else 1  # times are summed in ms, shown in s
        if f.kind in (Kind.PERCENTILE, Kind.MAX):
            n = len(self.waits)  # the registry's percentiles are of the wait to answer
            if not n:
                return Figure(f.id, None, 0, 0, f.unit)
            k = rank(f, n)
            return Figure(f.id, self.waits.kth(k) / scale, k, n, f.unit)
        assert f.quantity is not None
        n, total = self.stats.get(f.quantity, (0, 0))
        if f.kind is Kind.COUNT:
            return Figure(f.id, float(total), total, n, f.unit)
        return Figure(f.id, total / n / scale if n else None, total, n, f.unit)
