"""Complete the history from Asterisk's queue_log.

Calls that began or ended while the controller was away are known to queue_log only (whole
seconds): they are stored from it, marked as such. A call the controller closed as VANISHED
at a resync gets its end from queue_log, keeping what AMI told (arrival, IVR path, ms).
The file offset is kept in Redis, so a restart continues where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.queuelog.build import Builder
from hotline.queuelog.parse import QueueLogEntry, parse_lines
from hotline.queuelog.tail import QueueLogTail
from hotline.records import CallRecord, EndReason, Precision
from hotline.stores.keys import KEYS

if TYPE_CHECKING:
    from hotline.controller.core import Controller

log = logging.getLogger(__name__)
QUIET_S = 600  # a call quiet this long in queue_log is settled


RESYNC_MARK = "at resync"  # the calls reducer's notes on what it had to guess at a resync


def merge(ours: CallRecord | None, theirs: CallRecord) -> CallRecord | None:
    """The record to store for a call queue_log completed, or None to keep ours.

    Ours wins where AMI saw the call (milliseconds); queue_log fills what a disconnect hid:
    the whole call, the end of a call closed as VANISHED, or the queue part of a call first
    seen at a resync (its answer time and agent were guessed).
    """
    if ours is None:
        return replace(theirs, notes=(*theirs.notes, "from queue_log: the controller was away"))
    guessed = any(RESYNC_MARK in note for note in ours.notes)
    if ours.end_reason is not EndReason.VANISHED and not guessed:
        return None
    if theirs.end_reason is None and ours.end_reason is EndReason.VANISHED:
        return None
    queue_part = {
        "visits": theirs.visits,
        "rings": theirs.rings,
        "t_answer": theirs.t_answer,
        "agent": theirs.agent,
        "talk_end": theirs.talk_end or ours.talk_end,
        "completed_by": theirs.completed_by or ours.completed_by,
    }
    end = (
        {"end_reason": theirs.end_reason, "t_end": theirs.t_end}
        if ours.end_reason is EndReason.VANISHED
        else {}
    )
    return replace(
        ours,
        **queue_part,  # type: ignore[arg-type]
        **end,  # type: ignore[arg-type]
        precision=Precision.SECOND,
        notes=(*ours.notes, "queue part from queue_log (seconds)"),
    )


class Reconciler:
    def __init__(self, controller: Controller, path: Path, interval: float = 1.0) -> None:
        self.controller = controller
        self.path = path
        self.interval = interval
        self.builder = Builder()
        self.stored = 0
        self.problems = 0
        self.deferred: dict[str, CallRecord] = {}

    async def _saved_position(self) -> tuple[int, tuple[int, int] | None]:
        raw = await self.controller.redis.get(f"{KEYS.prefix}:queuelog:position")
        if raw is None:
            return 0, None
        data = json.loads(raw)
        identity = (
            (int(data["identity"][0]), int(data["identity"][1])) if data.get("identity") else None
        )
        return int(data["offset"]), identity

    async def run(self) -> None:
        offset, identity = await self._saved_position()
        tail = QueueLogTail(self.path, offset, identity=identity)
        try:
            while True:
                lines, offset = tail.read_new()
                if lines:
                    entries = []
                    for item in parse_lines(lines, start=tail.lineno):
                        if isinstance(item, QueueLogEntry):
                            entries.append(item)
                        else:
                            self.problems += 1
                    await self.absorb(entries)
                    await self.controller.redis.set(
                        f"{KEYS.prefix}:queuelog:position",
                        json.dumps({"offset": offset, "identity": tail.identity}),
                    )
                    continue
                if self.deferred:
                    await self.absorb([])
                await asyncio.sleep(self.interval)
        finally:
            tail.close()

    async def absorb(self, entries: list[QueueLogEntry]) -> None:
        """Store the calls these lines complete that the controller did not follow.

        A call queue_log has finished while AMI still follows it waits in ``deferred`` (with
        its queue_log record, which the builder may forget) until it has ended live. An id
        leaves ``deferred`` only once handled, so a failure part way loses nothing.
        """
        controller = self.controller
        for call_id in self.builder.feed(entries):
            self.deferred[call_id] = self.builder.record(call_id)
        for call_id, theirs in list(self.deferred.items()):
            if theirs.end_reason is None:
                del self.deferred[call_id]  # still going: its last line reports it again
                continue
            if call_id in controller.calls:
                continue  # followed live: look again once it has ended
            await controller.flush()  # what AMI said about it is in the history first
            ours = await asyncio.to_thread(controller.history.call, call_id)
            record = merge(ours, theirs)
            if record is not None:
                await asyncio.to_thread(controller.history.save_calls, [record])
                self.stored += 1
                log.info("queue_log completed call %s (%s)", call_id, record.end_reason)
            del self.deferred[call_id]
        if entries:
            self.builder.settle(before=entries[-1].t - QUIET_S)
