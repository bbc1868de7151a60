"""The calls the watchdog knows, and the evidence and cost of an alert from them (pure).

    calls = CallStore()
    touched = calls.put(record)                  # upsert by call_id: the queues it touched
    calls.waiting["intake"]                       # visits not yet left, by (call_id, n)
    waiting(calls, queues, periods)               # Waiting(count, longest_ms, still_waiting)
    cost(calls, queues, periods, answer_ms=15_000)
    tally = Tally(15_000); tally.update(calls, queues, periods); tally.call(record)

A record may be complete (a queue_log import, the history) or in progress (the live calls
reducer's CallUpdated): both give the same figures once the calls have ended, and neither
depends on when they are computed (open visits are counted apart, open calls not costed).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence, Set

from hotline.core.records import CallRecord, EndReason
from hotline.watchdog.alerts import Cost, Waiting

__all__ = ["MAX_WAIT_MS", "CallStore", "Period", "Tally", "cost", "waiting"]

Period = tuple[int, int | None]  # [start, end]; end None: goes on
MAX_WAIT_MS = 3600_000
"""No caller waits in one queue longer than this (queues time out well before): how far
before a period a visit that may still be waiting in it is looked for."""
_ABANDONED = frozenset({EndReason.ABANDONED_IN_QUEUE, EndReason.ABANDONED_RINGING})
_FOREVER = 1 << 62


class CallStore:
    """Calls by id, their visits indexed by queue and entry time."""

    def __init__(self) -> None:
        self.calls: dict[str, CallRecord] = {}
        self.by_queue: dict[str, list[tuple[int, str]]] = {}  # queue -> sorted (t_enter, id)
        self.waiting: dict[str, dict[tuple[str, int], tuple[int, int | None]]] = {}
        """Per queue, visits that may still make someone wait: (call_id, n) → (in, out)."""
        self._indexed: set[tuple[str, int, str]] = set()

    def put(self, record: CallRecord) -> set[str]:
        """Take (or replace) a call; the queues its visits are in."""
        self.calls[record.call_id] = record
        queues = set()
        for n, visit in enumerate(record.visits):
            queues.add(visit.queue)
            key = (visit.queue, visit.t_enter, record.call_id)
            if key not in self._indexed:
                self._indexed.add(key)
                bisect.insort(self.by_queue.setdefault(visit.queue, []), key[1:])
            out = visit.t_leave
            if out is None and record.done:  # ended without saying when it left
                out = record.t_end if record.t_end is not None else visit.t_enter
            self.waiting.setdefault(visit.queue, {})[(record.call_id, n)] = (visit.t_enter, out)
        return queues

    def prune(self, before: int) -> None:
        """Forget calls whose every visit began before ``before`` and who have left."""
        old = {
            cid
            for cid, r in self.calls.items()
            if r.visits
            and all(v.t_enter < before for v in r.visits)
            and (r.done or all(v.t_leave is not None for v in r.visits))
        }
        old |= {cid for cid, r in self.calls.items() if not r.visits and (r.t_end or 0) < before}
        for cid in old:
            del self.calls[cid]
        for queue, index in self.by_queue.items():
            keep = [(t, cid) for t, cid in index if cid not in old]
            if len(keep) != len(index):
                self.by_queue[queue] = keep
        self._indexed = {k for k in self._indexed if k[2] not in old}
        for queue, visits in self.waiting.items():
            self.waiting[queue] = {
                k: v for k, v in visits.items() if k[0] not in old and (v[1] or _FOREVER) >= before
            }

    def settle(self, now: int) -> None:
        """Drop visits that ended before ``now`` from ``waiting`` (they make no one wait)."""
        for queue, visits in self.waiting.items():
            if any(v[1] is not None and v[1] < now for v in visits.values()):
                self.waiting[queue] = {
                    k: v for k, v in visits.items() if v[1] is None or v[1] >= now
                }

    def visits(
        self, queues: Iterable[str], lo: int, hi: int
    ) -> Iterable[tuple[str, int, int | None, CallRecord]]:
        """(queue, t_enter, t_leave, record) of visits to ``queues`` entered in [lo, hi]."""
        for queue in sorted(set(queues)):
            index = self.by_queue.get(queue, [])
            i = bisect.bisect_left(index, (lo, ""))
            while i < len(index) and index[i][0] <= hi:
                t_enter, cid = index[i]
                i += 1
                record = self.calls.get(cid)
                if record is None:
                    continue
                for visit in record.visits:
                    if visit.queue == queue and visit.t_enter == t_enter:
                        out = visit.t_leave
                        if out is None and record.done:
                            out = record.t_end
                        yield queue, t_enter, out, record
                        break


_MISSING = -1  # a call with no visit in the period: counted in neither


def _wait_in(record: CallRecord, queues: Set[str], period: Period) -> int | None:
    """The call's longest finished wait in ``queues`` overlapping ``period``; None while
    still waiting; ``_MISSING`` if no visit of it overlaps the period."""
    a, b = period
    hi = _FOREVER if b is None else b
    found: int | None = _MISSING
    for visit in record.visits:
        if visit.queue not in queues or not a - MAX_WAIT_MS <= visit.t_enter <= hi:
            continue
        out = visit.t_leave
        if out is None and record.done:
            out = record.t_end
        if out is not None and out < a:
            continue
        found = None if out is None or found is None else max(found, out - visit.t_enter)
    return found


def _cost_in(record: CallRecord, queues: Set[str], period: Period, answer_ms: int) -> str:
    """How the call failed, if its t_q fell in ``period`` and it entered one of ``queues``
    then ("" if not, or if it was answered in time)."""
    a, b = period
    hi = _FOREVER if b is None else b
    t_q = record.t_q
    if t_q is None or not a <= t_q <= hi:
        return ""
    if not any(v.queue in queues and a <= v.t_enter <= hi for v in record.visits):
        return ""  # it waited elsewhere then (an overflow into the queue later is not hers)
    if record.t_answer is not None:
        return "late" if record.t_answer - t_q > answer_ms else ""
    if not record.done:
        return ""
    return "abandoned" if record.end_reason in _ABANDONED else "lost"


class Tally:
    """The waiting and the cost of one alert, kept per period so that a new period or a
    changed call is counted alone (an alert over a shift gains a period per pause)."""

    def __init__(self, answer_ms: int) -> None:
        self.answer_ms = answer_ms
        self.queues: frozenset[str] = frozenset()
        # period -> (call -> wait contribution, call -> (t_q, how it failed))
        self.periods: dict[Period, tuple[dict[str, int | None], dict[str, tuple[int, str]]]] = {}

    def update(self, store: CallStore, queues: Iterable[str], periods: Sequence[Period]) -> None:
        """Count the periods not counted yet (one pass over their calls); forget those gone."""
        wanted = frozenset(queues)
        if wanted != self.queues:
            self.queues, self.periods = wanted, {}
        keep = set(periods)
        for period in [p for p in self.periods if p not in keep]:
            del self.periods[period]
        new = sorted(keep - self.periods.keys(), key=lambda p: p[0])
        if not new:
            return
        fresh: dict[Period, tuple[dict[str, int | None], dict[str, tuple[int, str]]]] = {
            p: ({}, {}) for p in new
        }
        starts = [a for a, _ in new]
        reach = list(itertools.accumulate((_FOREVER if b is None else b for _, b in new), max))
        seen: set[str] = set()
        for _, _, _, record in store.visits(wanted, starts[0] - MAX_WAIT_MS, reach[-1]):
            if record.call_id in seen:
                continue
            seen.add(record.call_id)
            spans = self._spans(record)
            times = [t for span in spans for t in span] + [record.t_q]
            first = min(t for t in times if t is not None)
            last = (
                _FOREVER
                if any(out is None for _, out in spans)
                else max(t for t in times if t is not None)
            )
            # the periods that may overlap [first, last]: begun by last, not all over by first
            i = bisect.bisect_right(starts, last) - 1
            while i >= 0 and reach[i] >= first:
                if self._near(record, spans, new[i]):
                    self._count(record, new[i], *fresh[new[i]])
                i -= 1
        self.periods.update(fresh)

    def _spans(self, record: CallRecord) -> list[tuple[int, int | None]]:
        """The call's stays in the tally's queues: (in, out), out None while waiting."""
        return [
            (v.t_enter, v.t_leave if v.t_leave is not None or not record.done else record.t_end)
            for v in record.visits
            if v.queue in self.queues
        ]

    @staticmethod
    def _near(record: CallRecord, spans: list[tuple[int, int | None]], period: Period) -> bool:
        """Whether the call may count in ``period`` (a quick test before the real one)."""
        a, b = period
        hi = _FOREVER if b is None else b
        t_q = record.t_q
        return (t_q is not None and a <= t_q <= hi) or any(
            t_in <= hi and (t_out is None or t_out >= a) for t_in, t_out in spans
        )

    def _count(
        self,
        record: CallRecord,
        period: Period,
        waits: dict[str, int | None],
        costs: dict[str, tuple[int, str]],
    ) -> bool:
        """Count the call in one period; whether that changed anything."""
        cid = record.call_id
        before = (waits.get(cid, _MISSING), costs.get(cid))
        wait = _wait_in(record, self.queues, period)
        if wait == _MISSING:
            waits.pop(cid, None)
        else:
            waits[cid] = wait
        how = _cost_in(record, self.queues, period, self.answer_ms)
        if how:
            costs[cid] = (record.t_q or 0, how)
        else:
            costs.pop(cid, None)
        return before != (waits.get(cid, _MISSING), costs.get(cid))

    def call(self, record: CallRecord) -> bool:
        """Recount one call (new or changed) in every period; whether anything changed."""
        if not self.periods:
            return False  # nothing counted yet: the first update will find it
        spans = self._spans(record)
        cid = record.call_id
        changed = False
        for period, (waits, costs) in self.periods.items():
            if cid in waits or cid in costs or self._near(record, spans, period):
                changed |= self._count(record, period, waits, costs)
        return changed

    def waiting(self) -> Waiting:
        seen: dict[str, int | None] = {}
        for waits, _ in self.periods.values():
            for cid, wait in waits.items():
                before = seen.get(cid, 0)
                seen[cid] = None if wait is None or before is None else max(before, wait)
        finished = [w for w in seen.values() if w is not None]
        return Waiting(len(seen), max(finished, default=0), len(seen) - len(finished))

    def cost(self) -> Cost:
        picked: dict[str, tuple[int, str]] = {}
        for _, costs in self.periods.values():
            picked.update(costs)
        order = sorted(picked.items(), key=lambda kv: (kv[1][0], kv[0]))
        hows = [how for _, (_, how) in order]
        return Cost(
            tuple(cid for cid, _ in order),
            hows.count("late"),
            hows.count("abandoned"),
            hows.count("lost"),
        )


def waiting(store: CallStore, queues: Iterable[str], periods: Sequence[Period]) -> Waiting:
    """Callers who waited in ``queues`` at some time in ``periods``."""
    tally = Tally(0)
    tally.update(store, queues, periods)
    return tally.waiting()


def cost(
    store: CallStore, queues: Iterable[str], periods: Sequence[Period], *, answer_ms: int
) -> Cost:
    """Calls of ``queues`` whose t_q fell in ``periods`` and missed ``answer_ms`` or were lost."""
    tally = Tally(answer_ms)
    tally.update(store, queues, periods)
    return tally.cost()
