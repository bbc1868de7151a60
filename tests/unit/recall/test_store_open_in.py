"""RecallStore.open_in: the open tasks of some queues with their calls (the agent's page)."""

from __future__ import annotations

from pathlib import Path

from hotline.recall.rules import RecallRules
from hotline.recall.tasks import State
from hotline.stores.history import History
from hotline.stores.recall import RecallStore
from tests.unit.recall.scene import MORNING, T0, A, B


def test_only_open_tasks_of_the_queues_asked_with_their_calls(tmp_path: Path) -> None:
    history = History.open(tmp_path / "h.sqlite3")
    store = RecallStore.open(history.file)
    try:
        history.save_calls(MORNING[:3])  # A's two misses in intake (folded), B's in labour
        store.sync(history, RecallRules(), T0 + 3_600_000)
        every = store.tasks(State.OPEN)
        assert [(t.number, t.queue, t.calls) for t in every] == [
            (A, "intake", ("m1", "m2")), (B, "labour", ("m3",))]  # fmt: skip
        assert store.open_in(["labour", "property"]) == [every[1]]
        assert store.open_in(("intake", "labour")) == every
        assert store.open_in([]) == []
        store.close_by_hand(every[1].id, by="王芳", at=T0 + 3_600_000)
        assert store.open_in(["labour"]) == []
    finally:
        store.close()
        history.close()
