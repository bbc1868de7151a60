"""queue_log entries → call records and the agent journal (pure; incremental or batch).

Usage, a whole file at once (tests, a day, the reconciliation window)::

    built = build(entries)  # any order; the same lines twice change nothing
    built.calls, built.agent_changes, built.other, built.repeats

A long file with bounded memory (a year is ~6 M lines)::

    for item in iter_build(entries, quiet=3600):
        store(item)  # a CallRecord (upsert by call_id) or an AgentChange

Live, beside a tail (the controller's reconciliation)::

    builder = Builder()
    changed = builder.feed(new_entries)  # call ids whose record changed
    for call_id in changed:
        compare(builder.record(call_id))
    builder.settle(before=now_s - 3600)  # forget calls quiet for an hour

Lines are told apart by content (time, callid, queue, agent, event, data), not by line
number: a line read again is a repeat and changes nothing. Call lines are kept per call
(see :mod:`hotline.queuelog.calls` for how a record is read from them); every other line
is kept only to recognise its repeats. Lines of neither kind (QUEUESTART, CONFIGRELOAD,
PENALTY, RINGINUSE, PAUSEALL, custom events, a call event with callid NONE) are counted
in ``other``.
"""

from __future__ import annotations

import heapq
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from hotline.core.records import AgentChange, CallRecord
from hotline.queuelog.agents import AGENT_EVENTS, NOT_A_CALL, agent_changes
from hotline.queuelog.calls import CALL_EVENTS, order_key, walk
from hotline.queuelog.parse import QueueLogEntry

__all__ = ["Builder", "Built", "build", "iter_build"]


@dataclass(frozen=True, slots=True)
class Built:
    """What a set of queue_log lines makes."""

    calls: tuple[CallRecord, ...]  # by first line, then call_id; open calls included
    agent_changes: tuple[AgentChange, ...]  # in time order
    other: dict[str, int] = field(default_factory=dict)  # lines of no call and no agent, by event
    repeats: int = 0  # lines seen before


class _Lines:
    __slots__ = ("entries", "first", "last")

    def __init__(self, t: int) -> None:
        self.entries: dict[QueueLogEntry, None] = {}  # a set that keeps arrival order
        self.first = t
        self.last = t


class Builder:
    """Feed entries in any order; read the calls and the journal they make."""

    def __init__(self) -> None:
        # calls in the order they were last touched, so settle() pops from the front
        self._calls: OrderedDict[str, _Lines] = OrderedDict()
        self._records: dict[str, CallRecord] = {}  # cache, dropped when a call changes
        self._seen: OrderedDict[QueueLogEntry, int] = OrderedDict()  # non-call lines → t
        # a heap of (t, arrival, change): settle() pops the old ones from the top
        self._changes: list[tuple[int, int, AgentChange]] = []
        self._arrival = 0
        self.other: Counter[str] = Counter()
        self.repeats = 0

    def add(self, entry: QueueLogEntry) -> str | None:
        """Take one entry; the call id whose record it changed, if any."""
        self._arrival += 1
        if entry.event in CALL_EVENTS and entry.callid not in NOT_A_CALL:
            call_id = entry.callid
            lines = self._calls.get(call_id)
            if lines is None:
                lines = self._calls[call_id] = _Lines(entry.t)
                lines.entries[entry] = None
            else:
                held = len(lines.entries)
                lines.entries[entry] = None  # one hash: a repeat leaves the size as it was
                if len(lines.entries) == held:
                    self.repeats += 1
                    return None
                self._calls.move_to_end(call_id)
                if entry.t < lines.first:
                    lines.first = entry.t
                elif entry.t > lines.last:
                    lines.last = entry.t
                self._records.pop(call_id, None)
            if entry.event in AGENT_EVENTS:
                self._journal(entry)
            return call_id
        held = len(self._seen)
        self._seen[entry] = entry.t
        if len(self._seen) == held:
            self.repeats += 1
            return None
        if entry.event in AGENT_EVENTS:
            self._journal(entry)
        else:
            self.other[entry.event] += 1
        return None

    def _journal(self, entry: QueueLogEntry) -> None:
        for change in agent_changes(entry):
            self._arrival += 1  # unique: the heap never compares two changes
            heapq.heappush(self._changes, (change.t, self._arrival, change))

    def feed(self, entries: Iterable[QueueLogEntry]) -> set[str]:
        """Take entries; the call ids whose records changed."""
        changed = set()
        for entry in entries:
            call_id = self.add(entry)
            if call_id is not None:
                changed.add(call_id)
        return changed

    def record(self, call_id: str) -> CallRecord:
        """The record of a call the builder holds (KeyError otherwise)."""
        record = self._records.get(call_id)
        if record is None:
            entries = self._calls[call_id].entries  # distinct already
            record = self._records[call_id] = walk(call_id, sorted(entries, key=order_key))
        return record

    def get(self, call_id: str) -> CallRecord | None:
        """The record of a call if the builder holds it (its lines not yet settled)."""
        return self.record(call_id) if call_id in self._calls else None

    def records(self) -> list[CallRecord]:
        """Every call held, by first line then call id."""
        order = sorted(self._calls.items(), key=lambda item: (item[1].first, item[0]))
        return [self.record(call_id) for call_id, _ in order]

    def agent_changes(self) -> list[AgentChange]:
        """The journal lines held, in time order (arrival order within a second)."""
        return [change for _, _, change in sorted(self._changes, key=lambda c: c[:2])]

    def settle(self, before: int) -> tuple[list[CallRecord], list[AgentChange]]:
        """Give out and forget what is older than epoch ``before`` (seconds).

        Calls whose last line is older (taken from the least recently touched on, so a
        call fed late out of order may wait for a later settle), and journal lines older.
        A forgotten line fed again is new again: keep ``before`` well behind the newest
        line (an hour: no queue call lasts that long between two of its lines).
        """
        quiet = []
        for call_id, lines in self._calls.items():
            if lines.last >= before:
                break
            quiet.append(call_id)
        calls = [self.record(call_id) for call_id in quiet]
        for call_id in quiet:
            del self._calls[call_id]
            self._records.pop(call_id, None)
        old = []
        for entry, t in self._seen.items():
            if t >= before:
                break
            old.append(entry)
        for entry in old:
            del self._seen[entry]
        ready = []
        while self._changes and self._changes[0][0] < before * 1000:
            ready.append(heapq.heappop(self._changes))
        calls.sort(key=lambda r: (r.t_q or r.t_end or 0, r.call_id))
        return calls, [change for _, _, change in ready]

    def __len__(self) -> int:
        """Calls held."""
        return len(self._calls)


def build(entries: Iterable[QueueLogEntry]) -> Built:
    """Everything ``entries`` make, at once."""
    builder = Builder()
    builder.feed(entries)
    return Built(
        tuple(builder.records()),
        tuple(builder.agent_changes()),
        dict(builder.other),
        builder.repeats,
    )


def iter_build(
    entries: Iterable[QueueLogEntry], *, quiet: int = 3600
) -> Iterator[CallRecord | AgentChange]:
    """Records and journal lines as they settle, holding only the last ``quiet`` seconds.

    A call comes out once ``quiet`` seconds of log time passed without a line of it (so an
    overflow or a survey still joins its call), a journal line once it is that old; at the
    end of the input everything left comes out, open calls as open records. The input
    must be roughly in time order, as a queue_log is: lines later than ``quiet`` behind
    the newest make a second record for their call (same call_id: upsert).
    """
    builder = Builder()
    newest = 0
    next_settle = 0
    step = max(quiet // 8, 1)  # settle every step seconds of log time, not on every line
    for entry in entries:
        builder.add(entry)
        if entry.t > newest:
            newest = entry.t
            if newest >= next_settle:
                calls, changes = builder.settle(newest - quiet)
                yield from calls
                yield from changes
                next_settle = newest + step
    yield from builder.records()
    yield from builder.agent_changes()
