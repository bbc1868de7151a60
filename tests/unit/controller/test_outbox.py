"""The outbox: what a flush writes where, in which order, and what a failure leaves."""

from __future__ import annotations

import asyncio

import pytest

from hotline.core.records import AgentChange, CallRecord, EndReason
from hotline.stores.docs import alert_doc
from hotline.stores.history import History
from hotline.stores.live import Change, MemoryLive

from .parts import long_pause, outbox_on, watchdog

T = 1_795_563_000_000


def test_a_flush_writes_the_history_and_the_live_store(history: History, live: MemoryLive) -> None:
    outbox, remembered = outbox_on(history, live)
    live.hashes["call"] = {"c1": {"caller": "13800138000"}}
    alert = long_pause(watchdog())
    outbox.call_ended(CallRecord(call_id="c1", t_end=T, end_reason=EndReason.ANSWERED))
    outbox.journal(AgentChange(T, "王芳", "pause", "intake", "busy"))
    outbox.store_alert(alert.id, alert_doc(alert))
    outbox.store_escalation(
        {"step_id": "s1", "alert": alert.id, "action": "note_agent", "target": "王芳",
         "agent": "王芳", "t_due": T, "t_done": T, "result": "note to 王芳"}
    )  # fmt: skip
    outbox.put(Change("queue", "intake", {"waiting": 1}))
    outbox.members_changed("王芳")
    asyncio.run(outbox.flush())

    stored = history.call("c1")
    assert stored is not None
    assert stored.end_reason is EndReason.ANSWERED
    assert [(c.agent, c.kind, c.reason) for c in history.journal()] == [("王芳", "pause", "busy")]
    assert history.alert(alert.id) == alert_doc(alert)
    assert [r["step_id"] for r in history.escalations()] == ["s1"]
    assert live.hashes["call"] == {}  # the ended call left the live store
    assert live.hashes["alert"] == {alert.id: alert_doc(alert)}
    assert live.hashes["queue"] == {"intake": {"waiting": 1}}
    assert remembered == [{"王芳"}]
    assert not outbox.pending


def test_the_latest_document_per_key_wins(history: History, live: MemoryLive) -> None:
    outbox, _ = outbox_on(history, live)
    outbox.put(Change("agent", "王芳", {"status": "busy"}))
    outbox.put(Change("agent", "王芳", {"status": "ready"}))
    asyncio.run(outbox.flush())
    assert live.seq == 1  # one change written, not two
    assert live.hashes["agent"] == {"王芳": {"status": "ready"}}


def test_a_due_snapshot_replaces_the_changes(history: History, live: MemoryLive) -> None:
    outbox, _ = outbox_on(history, live)
    outbox.snapshot_due = True
    outbox.put(Change("agent", "王芳", {"status": "busy"}))
    asyncio.run(outbox.flush())
    assert live.replaced == 1
    assert "王芳" not in live.hashes["agent"]  # the snapshot has the model, not the change
    assert not outbox.snapshot_due
    asyncio.run(outbox.flush())
    assert live.replaced == 1


def test_a_failed_flush_writes_nothing_twice_and_keeps_the_rest(
    history: History, live: MemoryLive
) -> None:
    outbox, _ = outbox_on(history, live)
    failing = True

    async def remember(agents: set[str]) -> None:
        if failing:
            raise OSError("Redis went away")

    outbox.remember = remember
    outbox.journal(AgentChange(T, "王芳", "login", "intake"))
    outbox.members_changed("王芳")
    with pytest.raises(OSError, match="Redis went away"):
        asyncio.run(outbox.flush())
    assert outbox.pending.members_changed == {"王芳"}  # pending again
    assert outbox.pending.journal == []  # written already: the journal is append-only
    outbox.journal(AgentChange(T + 1, "王芳", "pause", "intake", "busy"))
    failing = False
    asyncio.run(outbox.flush())
    assert [c.kind for c in history.journal()] == ["login", "pause"]
    assert not outbox.pending
