"""The controller's outbox: what the reducers and components produced, written in batches.

Everything the controller learns goes here first (a call's document, a journal entry, an
alert's new version, an escalation step); :meth:`Outbox.flush` writes it, SQLite (history)
first and Redis (live) after, so a call leaves the live store only once it is in the
history. What a flush could not write stays pending and goes out with the next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from hotline.core.records import AgentChange, CallRecord
from hotline.stores.live import Change

T = TypeVar("T")


class HistoryWrites(Protocol):
    """The history's writers a flush uses (:class:`hotline.stores.history.History`)."""

    def save_calls(self, records: Iterable[CallRecord]) -> int: ...
    def append_journal(self, changes: Iterable[AgentChange]) -> int: ...
    def save_alerts(self, alerts: Iterable[Mapping[str, Any]]) -> int: ...
    def save_escalations(self, steps: Iterable[Mapping[str, Any]]) -> int: ...


class LiveWrites(Protocol):
    """The live store's writer (:class:`hotline.stores.live.LiveStore`)."""

    async def apply(self, changes: Sequence[Change]) -> int: ...


class Publish(Protocol):
    """What a component may add to the next batch (the outbox's producing side)."""

    def put(self, change: Change) -> None: ...
    def journal(self, change: AgentChange) -> None: ...
    def store_alert(self, alert_id: str, doc: dict[str, Any]) -> None: ...
    def store_escalation(self, row: dict[str, Any]) -> None: ...


@dataclass
class Pending:
    """What the reducers produced since the last flush (the latest doc per key wins)."""

    live: dict[tuple[str, str], Change] = field(default_factory=dict)
    ended: dict[str, CallRecord] = field(default_factory=dict)
    journal: list[AgentChange] = field(default_factory=list)
    members_changed: set[str] = field(default_factory=set)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    escalations: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.live or self.ended or self.journal or self.members_changed or self.alerts
            or self.escalations
        )  # fmt: skip

    def merged_with(self, newer: Pending) -> Pending:
        """This (older, unwritten) batch followed by ``newer``."""
        return Pending(
            live={**self.live, **newer.live},
            ended={**self.ended, **newer.ended},
            journal=[*self.journal, *newer.journal],
            members_changed=self.members_changed | newer.members_changed,
            alerts={**self.alerts, **newer.alerts},
            escalations=[*self.escalations, *newer.escalations],
        )


async def _store(save: Callable[[list[T]], object], batch: dict[str, T] | list[T]) -> None:
    """Write one batch to the history in a worker thread, then empty it.

    Shielded: a cancelled flush must not leave a committed write pending again (the journal
    is append-only; writing it twice would double pauses).
    """
    if batch:
        rows = list(batch.values()) if isinstance(batch, dict) else list(batch)
        await asyncio.shield(asyncio.to_thread(save, rows))
        batch.clear()


class Outbox:
    """The pending batch and its flush: history first, then the live store.

    ``snapshot`` writes the whole model to the live store instead of the changes (after a
    resync, or when Redis may have come back empty: set ``snapshot_due``); ``remember``
    keeps the desired membership of the agents whose queues or pause changed.
    """

    def __init__(
        self,
        history: HistoryWrites,
        live: LiveWrites,
        *,
        snapshot: Callable[[], Awaitable[object]],
        remember: Callable[[set[str]], Awaitable[object]],
    ) -> None:
        self.history = history
        self.live = live
        self.snapshot = snapshot
        self.remember = remember
        self.pending = Pending()
        self.snapshot_due = False
        self._lock = asyncio.Lock()

    # -- producing -------------------------------------------------------------------------

    def put(self, change: Change) -> None:
        """A live document set or deleted (the latest per kind and id wins)."""
        self.pending.live[(change.kind, change.id)] = change

    def journal(self, change: AgentChange) -> None:
        self.pending.journal.append(change)

    def call_ended(self, record: CallRecord) -> None:
        """Into the history; off the live store."""
        self.put(Change("call", record.call_id, None))
        self.pending.ended[record.call_id] = record

    def store_alert(self, alert_id: str, doc: dict[str, Any]) -> None:
        """An alert's new version: live and in the history."""
        self.put(Change("alert", alert_id, doc))
        self.pending.alerts[alert_id] = doc

    def store_escalation(self, row: dict[str, Any]) -> None:
        self.pending.escalations.append(row)

    def members_changed(self, agent: str) -> None:
        self.pending.members_changed.add(agent)

    # -- writing ---------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write what is pending: SQLite (history) first, then Redis (live).

        One flush at a time (the flusher, the reconciler and the resync all flush): batches
        land in the order they were made. On a failure nothing is lost: what was not
        written is pending again.
        """
        async with self._lock:
            pending, self.pending = self.pending, Pending()
            try:
                await self._write(pending)
            except BaseException:
                self.pending = pending.merged_with(self.pending)
                raise

    async def _write(self, pending: Pending) -> None:
        history = self.history
        await _store(history.save_calls, pending.ended)
        await _store(history.append_journal, pending.journal)
        await _store(history.save_alerts, pending.alerts)
        await _store(history.save_escalations, pending.escalations)
        if self.snapshot_due:
            await self.snapshot()
            self.snapshot_due = False
            pending.live = {}
        if pending.live:
            await self.live.apply(list(pending.live.values()))
            pending.live = {}
        if pending.members_changed:
            await self.remember(pending.members_changed)
            pending.members_changed = set()
