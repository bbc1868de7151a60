"""Complete the history from Asterisk's queue_log.

Calls that began or ended while the controller was away are known to queue_log only (whole
seconds): they are stored from it, marked as such. A call the controller closed as VANISHED
at a resync, or as PBX_LOST with its lost PBX, gets its end from queue_log, keeping what AMI
told (arrival, IVR path, ms).
The file position is kept in Redis (:mod:`hotline.stores.queuelog_position`): not where
reading stopped but the first line of the oldest call queue_log has not finished with
(:class:`ReplayMark`), so a controller killed mid-call reads those calls' earlier lines
(ENTERQUEUE, CONNECT) again after its restart instead of rebuilding them from their last
lines alone. Lines read twice change nothing: a
call already stored as AMI saw it is kept (:func:`merge`).

**The rule**: the stored record of a call is ``merge(AMI's record, queue_log's record)``,
whichever of the two comes last. The reconciler merges what it reads with the stored
record (:meth:`Reconciler.absorb`); the controller merges the record AMI ends with what
queue_log has already proved (:meth:`Reconciler.completed`). Without the second half, a
controller restarted under load stored a call from queue_log (answered, read before its
first resync), then adopted the caller still in the survey at that resync, and the
caller's hang-up replaced the answered record with one that had no queue part
(``ivr_only``; 46 of 50 calls in bench/load.py's controller kill).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from hotline.calls.namespace import Namespace
from hotline.calls.state import GONE_AT_RESYNC
from hotline.core.records import CallRecord, EndReason, Precision
from hotline.queuelog.build import Builder
from hotline.queuelog.parse import QueueLogEntry, parse_lines
from hotline.queuelog.tail import QueueLogTail
from hotline.stores.queuelog_position import Position

log = logging.getLogger(__name__)
QUIET_S = 600  # a call quiet this long in queue_log is settled


RESYNC_MARK = "at resync"  # the calls reducer's notes on what it had to guess at a resync
QUEUE_PART_NOTE = "queue part from queue_log (seconds)"
TALK_END_NOTE = "talk end from queue_log (seconds)"

# what AMI saw and queue_log cannot know better: kept when queue_log fills the queue part
_OURS_TO_KEEP = frozenset(
    {EndReason.CLOSED, EndReason.CALLBACK, EndReason.PBX_DOWN, EndReason.FAILED}
)


def merge(ours: CallRecord | None, theirs: CallRecord) -> CallRecord | None:
    """The record to store for a call queue_log completed, or None to keep ours.

    Ours wins where AMI saw the call (milliseconds); queue_log fills what a disconnect hid:
    the whole call, the end of a call closed at a resync, or the queue part of a call first
    seen at a resync (its answer time and agent were guessed). A call adopted at a resync
    while it was past the queue (in the survey, say) looked to AMI as if it never asked for
    a human: its end reason comes from queue_log too, unless AMI saw something queue_log
    cannot (out of hours, a callback, the PBX going down). An answered call whose
    completion AMI never saw gets queue_log's (:func:`fill_completion`).
    """
    if ours is None:
        return replace(theirs, notes=(*theirs.notes, "from queue_log: the controller was away"))
    guessed = any(RESYNC_MARK in note for note in ours.notes)
    # VANISHED: the controller lost sight of the call; PBX_LOST: of its PBX, and the end is
    # only presumed. Either way what queue_log proves of the end wins.
    vanished = ours.end_reason in (EndReason.VANISHED, EndReason.PBX_LOST)
    if not vanished and not guessed:
        return fill_completion(ours, theirs)
    if theirs.end_reason is None and vanished:
        return None
    queue_part = {
        "visits": theirs.visits,
        "rings": theirs.rings,
        "t_answer": theirs.t_answer,
        "agent": theirs.agent,
        "talk_end": theirs.talk_end or ours.talk_end,
        "completed_by": theirs.completed_by or ours.completed_by,
        "survey_score": ours.survey_score if ours.survey_score is not None else theirs.survey_score,
    }
    end: dict[str, object] = {}
    if vanished:
        end = {"end_reason": theirs.end_reason, "t_end": theirs.t_end}
    elif theirs.end_reason is not None and ours.end_reason not in _OURS_TO_KEEP:
        end = {"end_reason": theirs.end_reason}
    if GONE_AT_RESYNC in ours.notes and theirs.t_end is not None:
        end["t_end"] = theirs.t_end  # ours is the resync's clock: queue_log saw the end
    notes = ours.notes if QUEUE_PART_NOTE in ours.notes else (*ours.notes, QUEUE_PART_NOTE)
    merged = replace(
        ours,
        **queue_part,  # type: ignore[arg-type]
        **end,  # type: ignore[arg-type]
        precision=Precision.SECOND,
        notes=notes,
    )
    return None if merged == ours else merged


def fill_completion(ours: CallRecord, theirs: CallRecord) -> CallRecord | None:
    """AMI saw the answer but not its end; queue_log's COMPLETE* line gives it, or None.

    The caller's Hangup can reach AMI before the AgentComplete (at 200 calls; the late one
    completes the record, :class:`hotline.calls.state.CallAmended`), and none may come at
    all when the PBX stops or the link drops first (Asterisk restarted under 50 calls: 14
    records had no ``completed_by``). The end reason stays AMI's (``pbx_down`` included);
    the talk end is queue_log's whole second, bounded by the answer and AMI's hang-up,
    and the record says its precision is the second.
    """
    if ours.t_answer is None or ours.talk_end is not None or theirs.talk_end is None:
        return None
    talk_end = theirs.talk_end if ours.t_end is None else min(theirs.talk_end, ours.t_end)
    notes = ours.notes if TALK_END_NOTE in ours.notes else (*ours.notes, TALK_END_NOTE)
    return replace(
        ours,
        talk_end=max(talk_end, ours.t_answer),
        completed_by=theirs.completed_by or ours.completed_by,
        precision=Precision.SECOND,
        notes=notes,
    )


class ReplayMark:
    """Where to start reading queue_log after a restart (pure).

    Each call is remembered with the offset of the batch its first line came in, until the
    controller is done with it (stored, or forgotten as settled); the mark is the smallest
    of those, or the read offset when no call is open. Saving the mark instead of the read
    offset costs a few lines read twice after a restart; saving the read offset lost the
    ENTERQUEUE and CONNECT of the calls in progress when the controller was killed.
    """

    def __init__(self) -> None:
        self.first: dict[str, int] = {}

    def seen(self, call_ids: Iterable[str], at: int) -> None:
        for call_id in call_ids:
            self.first.setdefault(call_id, at)

    def done(self, call_id: str) -> None:
        self.first.pop(call_id, None)

    def rebase(self) -> None:
        """The file was rotated or truncated: what is open is read again from its start."""
        for call_id in self.first:
            self.first[call_id] = 0

    def position(self, offset: int) -> int:
        return min(self.first.values(), default=offset)


class Positions(Protocol):
    """Where the queue_log position is kept (:class:`hotline.stores.queuelog_position.
    QueueLogPosition`)."""

    async def load(self) -> Position: ...
    async def save(self, position: Position) -> None: ...


class InProgress(Protocol):
    """The calls AMI follows (:class:`hotline.calls.state.Calls`)."""

    def __contains__(self, call_id: object) -> bool: ...


class CallHistory(Protocol):
    """The stored calls (:class:`hotline.stores.history.History`)."""

    def call(self, call_id: str) -> CallRecord | None: ...
    def save_calls(self, records: Iterable[CallRecord]) -> int: ...


class Reconciler:
    """Follows queue_log at ``path`` and stores the calls it completes.

    ``positions`` keeps where to read from after a restart; ``calls``: the calls AMI
    follows (left to it until they end); ``flush`` writes what AMI said about a call before
    the history is read; ``history``: the stored calls; ``interval``: seconds between
    reads once the file has nothing new; ``namespace``: the PBX whose queue_log this is
    (its callids qualified, its records stamped with it).
    """

    def __init__(
        self,
        path: Path,
        *,
        positions: Positions,
        calls: InProgress,
        flush: Callable[[], Awaitable[object]],
        history: CallHistory,
        interval: float = 1.0,
        namespace: Namespace | None = None,
    ) -> None:
        self.path = path
        self.namespace = namespace or Namespace("")
        self.positions = positions
        self.calls = calls
        self.flush = flush
        self.history = history
        self.interval = interval
        self.builder = Builder()
        self.stored = 0
        self.problems = 0
        self.deferred: dict[str, CallRecord] = {}
        self.mark = ReplayMark()

    async def run(self) -> None:
        saved = await self.positions.load()
        tail = QueueLogTail(self.path, saved.offset, identity=saved.identity)
        try:
            while True:
                start = tail.offset
                lines, offset = tail.read_new()
                if tail.reset is not None:
                    start = 0
                    self.mark.rebase()
                if lines:
                    entries = []
                    for item in parse_lines(lines, start=tail.lineno):
                        if isinstance(item, QueueLogEntry):
                            entries.append(self.namespace.entry(item))
                        else:
                            self.problems += 1
                    await self.absorb(entries, at=start)
                    await self._save_position(offset, tail.identity)
                    continue
                if self.deferred:
                    await self.absorb([])
                    await self._save_position(offset, tail.identity)
                await asyncio.sleep(self.interval)
        finally:
            tail.close()

    async def _save_position(self, offset: int, identity: tuple[int, int] | None) -> None:
        await self.positions.save(Position(self.mark.position(offset), identity))

    def completed(self, record: CallRecord) -> CallRecord:
        """The record AMI ended (or amended) with what queue_log has proved of the call.

        The other half of the rule in the module's docstring: queue_log's lines may have
        been read (and the call stored from them) before AMI ended the call, e.g. at a
        restart, before the resync adopted the caller. The builder still holds those lines
        (it forgets a call after :data:`QUIET_S` of quiet); lines not read yet are merged
        by :meth:`absorb` when they come.
        """
        theirs = self.builder.get(record.call_id)
        if theirs is None:
            return record
        return merge(record, theirs) or record

    async def absorb(self, entries: list[QueueLogEntry], at: int = 0) -> None:
        """Store the calls these lines complete that the controller did not follow.

        A call queue_log has finished while AMI still follows it waits in ``deferred`` (with
        its queue_log record, which the builder may forget) until it has ended live. An id
        leaves ``deferred`` only once handled, so a failure part way loses nothing.
        """
        changed = self.builder.feed(entries)
        self.mark.seen(changed, at)
        for call_id in changed:
            self.deferred[call_id] = self.builder.record(call_id)
        for call_id, theirs in list(self.deferred.items()):
            if theirs.end_reason is None:
                del self.deferred[call_id]  # still going: its last line reports it again
                continue
            if call_id in self.calls:
                continue  # followed live: look again once it has ended
            await self.flush()  # what AMI said about it is in the history first
            ours = await asyncio.to_thread(self.history.call, call_id)
            record = merge(ours, theirs)
            if record is not None:
                if self.namespace.pbx:
                    record = self.namespace.record(record)
                await asyncio.to_thread(self.history.save_calls, [record])
                self.stored += 1
                log.info("queue_log completed call %s (%s)", call_id, record.end_reason)
            del self.deferred[call_id]
            self.mark.done(call_id)
        if entries:
            quiet, _ = self.builder.settle(before=entries[-1].t - QUIET_S)
            for record in quiet:
                if record.call_id not in self.deferred:
                    self.mark.done(record.call_id)
