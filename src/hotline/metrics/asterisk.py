"""What Asterisk's own QueueParams counters say for the same calls (pure): the cross-check.

    ours = servicelevel_counts(records, 15, after=t_a, until=t_b)   # queue → counts
    assert snapshot_b["labour"] == snapshot_a["labour"] + ours["labour"]
    ours["labour"].shown()      # ("60.0", "60.0"): ServicelevelPerf, ServicelevelPerf2

app_queue (Asterisk 22) keeps, per queue and since it loaded, four counters that QueueStatus
reports as QueueParams Completed, Abandoned, ServicelevelPerf and ServicelevelPerf2:

- ``callscompleted``, ``callscompletedinsl``: update_queue(), when the *talk ends*
  (COMPLETEAGENT, COMPLETECALLER, a transfer), in SL when the hold time
  ``time(NULL) − qe->start`` at the connect is ≤ ``servicelevel`` (whole seconds);
- ``callsabandoned``, ``callsabandonedinsl``: record_abandoned(), for ABANDON,
  EXITWITHTIMEOUT *and* EXITEMPTY (not EXITWITHKEY), in SL when the wait is ≤ servicelevel;
- ServicelevelPerf = 100 · completedinsl / completed; ServicelevelPerf2 =
  100 · (completedinsl + abandonedinsl) / (completed + abandoned), printed ``%2.1f``.

So Asterisk's figures differ from the registry's ``sl_answered_only`` and ``sl2`` by
construction, and these counters reproduce Asterisk's, not ours: they count per queue
*visit* (an overflow is an abandon in the first queue and an answer, measured from its own
entry, in the second; ours is one call of the first queue); timeouts and leave-empty are
abandons (ours: system losses, L); whole seconds; a call counts when its talk ends, not
when it is answered; and the counters start at Asterisk's start, not at a report window.
For calls of one visit with no timeout the two agree: tests check both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.core.records import CallRecord

__all__ = ["ServiceLevelCounts", "servicelevel_counts"]

_ABANDONS = frozenset({"ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY"})


@dataclass(frozen=True, slots=True)
class ServiceLevelCounts:
    """app_queue's four counters for one queue."""

    completed: int = 0
    completed_in_sl: int = 0
    abandoned: int = 0
    abandoned_in_sl: int = 0

    def __add__(self, other: ServiceLevelCounts) -> ServiceLevelCounts:
        return ServiceLevelCounts(
            self.completed + other.completed,
            self.completed_in_sl + other.completed_in_sl,
            self.abandoned + other.abandoned,
            self.abandoned_in_sl + other.abandoned_in_sl,
        )

    def __sub__(self, other: ServiceLevelCounts) -> ServiceLevelCounts:
        return ServiceLevelCounts(
            self.completed - other.completed,
            self.completed_in_sl - other.completed_in_sl,
            self.abandoned - other.abandoned,
            self.abandoned_in_sl - other.abandoned_in_sl,
        )

    @property
    def perf(self) -> float:
        """ServicelevelPerf (0.0 when nothing completed, as app_queue prints it)."""
        if self.completed <= 0:
            return 0.0
        return 100 * self.completed_in_sl / self.completed

    @property
    def perf2(self) -> float:
        """ServicelevelPerf2."""
        both = self.completed + self.abandoned
        if both <= 0:
            return 0.0
        return 100 * (self.completed_in_sl + self.abandoned_in_sl) / both

    def shown(self) -> tuple[str, str]:
        """(ServicelevelPerf, ServicelevelPerf2) as QueueParams prints them."""
        return f"{self.perf:2.1f}", f"{self.perf2:2.1f}"


def _seconds_between(t0: int, t1: int) -> int:
    """app_queue's ``time(NULL) − qe->start``: whole seconds of the wall clock."""
    return t1 // 1000 - t0 // 1000


def servicelevel_counts(
    records: Iterable[CallRecord],
    servicelevel_s: int = 15,
    *,
    after: int | None = None,
    until: int | None = None,
) -> dict[str, ServiceLevelCounts]:
    """Per queue, the counters the visits of ``records`` add, counting each visit when app_queue
    would: a completed talk at its end, an abandon when it happens; only those in the window
    ``(after, until]`` (ms; None: open). A talk whose end is unknown is not completed."""
    lo = after if after is not None else -(2**62)
    hi = until if until is not None else 2**62
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for record in records:
        visits = record.visits
        for i, visit in enumerate(visits):
            if visit.t_leave is None:
                continue
            in_sl = _seconds_between(visit.t_enter, visit.t_leave) <= servicelevel_s
            if visit.outcome == "CONNECT":
                # the talk of this visit ends at the call's end of talk, or when the call
                # came back to a queue (a transfer into a queue)
                end = visits[i + 1].t_enter if i + 1 < len(visits) else record.talk_end
                if end is None or not lo < end <= hi:
                    continue
                counts = sums[visit.queue]
                counts[0] += 1
                counts[1] += in_sl
            elif visit.outcome in _ABANDONS and lo < visit.t_leave <= hi:
                counts = sums[visit.queue]
                counts[2] += 1
                counts[3] += in_sl
    return {queue: ServiceLevelCounts(*c) for queue, c in sorted(sums.items())}
