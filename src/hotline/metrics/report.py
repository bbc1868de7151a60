"""Reports: every registry figure per queue, agent or interval, re-derivable (pure).

    report = compute(records, Params(), by=GroupBy.HOUR, since=t0, until=t1)
    report.total.figures["sl_strict"]       # Figure(value, numerator, denominator, ...)
    report.total.counts[Population.R]
    report.groups                           # one Group per key, sorted by key
    report.quality                          # calls left out, and why; precision; notes
    report.version                          # FormulaVersion: registry hash + params

A call counts in the window and the interval of its ``t_q`` (local time, ``Params.tz``);
``records`` may hold calls from before ``since``: they are read only to find repeat callers
(pass the N days before the window). Groups: by queue, the call's first queue; by agent,
the answering agent ("(none)" holds every call not answered, so the groups still add up to
the total); by interval, the local 15 min, hour, day or month of ``t_q``.

Each figure carries its numerator and denominator: for a rate, sums of population counts;
for a mean, the sum (ms for times) and n; for a percentile, the rank k of n (nearest rank:
the k-th smallest wait, k = ⌈p·n/100⌉); for a count, the count and |over|.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hotline.metrics.formulas import REGISTRY, Formula, FormulaVersion, Kind, Quantity, version
from hotline.metrics.params import Params
from hotline.metrics.populations import Exclusion, Population, Verdict, classify
from hotline.metrics.timefmt import GroupBy, interval_key
from hotline.records import CallRecord, Precision, Source

__all__ = ["NO_AGENT", "Figure", "Group", "Quality", "Report", "compute"]

NO_AGENT = "(none)"
_DAY_MS = 86_400_000


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


@dataclass(frozen=True, slots=True)
class Quality:
    """What the figures leave out or know less precisely, over the window."""

    calls: int  # records in the window (by t_q, or arrival/end for calls without one)
    counted: int  # in R
    excluded: Mapping[Exclusion, int]
    to_the_second: int  # counted calls whose times are whole seconds
    from_queue_log: int  # counted calls built from queue_log alone (refusals invisible)
    no_arrival: int  # counted calls without t_arrival: outside the nav.* figures
    no_talk_end: int  # answered calls whose end of talk is unknown: outside AHT
    no_number: int  # counted calls without a caller number: outside the repeat figure


@dataclass(frozen=True, slots=True)
class Report:
    version: FormulaVersion
    by: GroupBy
    since: int | None
    until: int | None
    total: Group
    groups: tuple[Group, ...]
    quality: Quality
    notes: tuple[str, ...] = ()

    @property
    def params(self) -> Params:
        return self.version.params


@dataclass
class _Acc:
    """The sums of one group."""

    counts: Counter[Population] = field(default_factory=Counter)
    values: dict[Quantity, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, v: Verdict, record: CallRecord, repeat: int | None) -> None:
        self.counts.update(v.populations)
        if Population.A in v.populations and v.wait_ms is not None:
            self.values[Quantity.WAIT].append(v.wait_ms)
            if v.talk_ms is not None:
                self.values[Quantity.TALK].append(v.talk_ms)
        score = record.survey_score
        if score is not None:
            self.values[Quantity.SURVEY].append(score)
            self.values[Quantity.SATISFIED].append(int(score >= 4))
        self.values[Quantity.CALLBACK].append(int(bool(record.callback_number)))
        if repeat is not None:
            self.values[Quantity.REPEAT].append(repeat)

    def _values(self, f: Formula) -> list[int]:
        return self.values.get(f.quantity, []) if f.quantity is not None else []

    def group(self, key: str) -> Group:
        counts = {p: self.counts.get(p, 0) for p in Population}
        figures = {f.id: _figure(f, counts, self._values(f)) for f in REGISTRY}
        return Group(key, counts, figures)


def _figure(f: Formula, counts: Mapping[Population, int], values: list[int]) -> Figure:
    if f.kind is Kind.RATIO:
        num = sum(t.sign * counts[t.population] for t in f.numerator)
        den = sum(t.sign * counts[t.population] for t in f.denominator)
        return Figure(f.id, num / den if den > 0 else None, num, den, f.unit)
    n = len(values)
    scale = 1000 if f.unit == "s" else 1  # times are summed in ms, shown in s
    if f.kind is Kind.COUNT:
        count = sum(values)
        return Figure(f.id, float(count), count, n, f.unit)
    if f.kind is Kind.MEAN:
        total = sum(values)
        return Figure(f.id, total / n / scale if n else None, total, n, f.unit)
    if not n:
        return Figure(f.id, None, 0, 0, f.unit)
    k = n if f.kind is Kind.MAX else max(1, -(-(f.percentile or 0) * n // 100))
    return Figure(f.id, sorted(values)[k - 1] / scale, k, n, f.unit)


def _repeats(verdicts: list[tuple[CallRecord, Verdict]], days: int) -> dict[str, int]:
    """call_id → 1 if its number asked for a human within ``days`` before it, else 0."""
    by_number: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for record, v in verdicts:
        if Population.R in v.populations and record.caller and v.t_interval is not None:
            by_number[record.caller].append((v.t_interval, record.call_id))
    window = days * _DAY_MS
    out: dict[str, int] = {}
    for calls in by_number.values():
        calls.sort()
        times = [t for t, _ in calls]
        for i, (t, call_id) in enumerate(calls):
            first = bisect.bisect_left(times, t - window, 0, i)
            out[call_id] = int(first < i)
    return out


def _key(v: Verdict, by: GroupBy, tz: str) -> str:
    if by is GroupBy.QUEUE:
        return v.queue
    if by is GroupBy.AGENT:
        return v.agent or NO_AGENT
    assert v.t_interval is not None  # every counted call has one
    return interval_key(v.t_interval, by, tz)


def compute(
    records: Iterable[CallRecord],
    params: Params | None = None,
    *,
    by: GroupBy = GroupBy.QUEUE,
    since: int | None = None,
    until: int | None = None,
) -> Report:
    """The report over the calls whose ``t_q`` is in [since, until) (ms; None: open)."""
    params = params or Params()
    lo = since if since is not None else -(2**62)
    hi = until if until is not None else 2**62
    verdicts = [(r, classify(r, params)) for r in records]
    repeats = _repeats(verdicts, params.repeat_days)
    total = _Acc()
    groups: defaultdict[str, _Acc] = defaultdict(_Acc)
    excluded: Counter[Exclusion] = Counter()
    calls = counted = second = queue_log = no_arrival = no_talk = no_number = 0
    for record, v in verdicts:
        t = v.t_interval
        if t is None:
            t = record.t_arrival if record.t_arrival is not None else record.t_end
        if t is None or not lo <= t < hi:
            continue
        calls += 1
        if v.excluded is not None:
            excluded[v.excluded] += 1
            continue
        counted += 1
        second += record.precision is Precision.SECOND
        queue_log += record.source is Source.QUEUE_LOG
        no_arrival += record.t_arrival is None
        no_talk += Population.A in v.populations and v.talk_ms is None
        no_number += not record.caller
        repeat = repeats.get(record.call_id) if record.caller else None
        total.add(v, record, repeat)
        groups[_key(v, by, params.tz)].add(v, record, repeat)
    quality = Quality(
        calls, counted, dict(excluded), second, queue_log, no_arrival, no_talk, no_number
    )
    return Report(
        version(params),
        by,
        since,
        until,
        total.group("total"),
        tuple(groups[k].group(k) for k in sorted(groups)),
        quality,
        _notes(params, quality, total.counts),
    )


def _notes(params: Params, q: Quality, counts: Mapping[Population, int]) -> tuple[str, ...]:
    notes = []
    if q.from_queue_log:
        notes.append(
            f"{q.from_queue_log} calls were built from queue_log alone: it has no line for a "
            "caller refused at the door (JOINEMPTY, FULL), so R and L are undercounted for "
            "them, and it has no arrival time (outside the 含导航语音 figures)"
        )
    if q.to_the_second:
        notes.append(f"{q.to_the_second} calls have times to the second only")
    if params.short_abandon_ms:
        notes.append(
            f"S = {params.short_abandon_s} s: {counts.get(Population.ABS, 0)} short abandons "
            "(Ab≤S) are left out of the strict denominators"
        )
    notes.append("AHT is talk time only: after-call work is not recorded per call")
    for why, n in sorted(q.excluded.items(), key=lambda item: item[0].value):
        notes.append(f"{n} calls excluded: {why.value}")
    return tuple(notes)
