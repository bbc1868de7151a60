"""Per-queue counts of how visits ended (pure), for reconciling two sets of call records.

Usage::

    ours = counts(controller_records)  # built from AMI
    theirs = counts(build(entries).calls)  # built from queue_log
    assert ours == theirs

The counts are per *visit*, by the visit's ``outcome`` (Asterisk's spelling), because
queue_log is: a call that overflows from A to B counts one timeout in A and one answer in
B, and is still one call (one record). They work on records from either source. Figures
per call (the populations R, A, Ab, L) are the metrics' business, from ``end_reason``.

=================  ===================================================================
``visits``         visits to the queue (an inferred visit counts: its line is there)
``answered``       CONNECT
``abandoned``      ABANDON (in queue or while ringing)
``abandoned_ringing``  of those, the calls whose end reason is abandoned_ringing
``timeout``        EXITWITHTIMEOUT
``leave_empty``    EXITEMPTY
``left_with_key``  EXITWITHKEY
``withdrawn``      WITHDRAW
``failed``         SYSCOMPAT
``callback``       CALLBACK without a wait in that queue (offer before it, no agent)
``refused``        JOINEMPTY, JOINUNAVAIL, FULL (from AMI: stock queue_log has no such line)
``waiting``        not closed (still in the queue at the end of the input)
``other``          any other outcome
=================  ===================================================================

A callback requested after a timeout counts under ``timeout`` (the visit's outcome); the
call's end reason says callback. Asterisk's own "abandoned" counter (QueueParams) adds
timeouts and leave-empty to abandons; these counts keep them apart, as queue_log does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields

from hotline.core.records import CallRecord, EndReason

__all__ = ["QueueCounts", "counts"]


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """How the visits to one queue ended (see the module docstring)."""

    queue: str
    visits: int = 0
    answered: int = 0
    abandoned: int = 0
    abandoned_ringing: int = 0
    timeout: int = 0
    leave_empty: int = 0
    left_with_key: int = 0
    withdrawn: int = 0
    failed: int = 0
    callback: int = 0
    refused: int = 0
    waiting: int = 0
    other: int = 0


_COLUMN = {
    "CONNECT": "answered",
    "ABANDON": "abandoned",
    "EXITWITHTIMEOUT": "timeout",
    "EXITEMPTY": "leave_empty",
    "EXITWITHKEY": "left_with_key",
    "WITHDRAW": "withdrawn",
    "SYSCOMPAT": "failed",
    "CALLBACK": "callback",
    "JOINEMPTY": "refused",
    "JOINUNAVAIL": "refused",
    "FULL": "refused",
}
_COLUMNS = frozenset(f.name for f in fields(QueueCounts)) - {"queue"}


def counts(records: Iterable[CallRecord]) -> dict[str, QueueCounts]:
    """Counts per queue name, over the visits of ``records`` (queues in name order)."""
    tally: dict[str, Counter[str]] = {}
    for record in records:
        for visit in record.visits:
            row = tally.setdefault(visit.queue, Counter())
            row["visits"] += 1
            if visit.t_leave is None:
                row["waiting"] += 1
            else:
                row[_COLUMN.get(visit.outcome, "other")] += 1
        if record.end_reason is EndReason.ABANDONED_RINGING and record.visits:
            tally[record.visits[-1].queue]["abandoned_ringing"] += 1
    return {
        queue: QueueCounts(queue, **{k: v for k, v in row.items() if k in _COLUMNS})
        for queue, row in sorted(tally.items())
    }
