"""Which recall task the agent's page offers (hotline.web.offer): only to a ready agent,
only tasks of the agent's queues, none while a caller waits past the service level."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hotline.recall.tasks import Origin, State, Task
from hotline.web.offer import DEFAULT_SL_MS, offer, worst_wait

NOW = 1_796_000_000_000
READY = {"name": "王芳", "status": "ready"}
MINE = ("intake", "labour")


def task(id: int, queue: str, deadline: int, **changes: Any) -> Task:
    t = Task(id, f"1380000000{id}", Origin.MISSED, queue, NOW - 600_000, deadline, (f"c{id}",))
    return replace(t, **changes)


TASKS = [
    task(1, "labour", NOW + 900_000),
    task(2, "property", NOW + 60_000),  # 李娜's and 刘洋's queue, not hers: sooner, never shown
    task(3, "intake", NOW + 300_000),
    task(4, "intake", NOW + 100_000, state=State.DONE),
    task(5, "labour", NOW + 200_000, t_next=NOW + 1),  # its retry wait has not passed
    task(6, "", NOW),  # refused before any queue: nobody's
]


def waiting(*since: int, sl_s: int = 0) -> dict[str, Any]:
    return {"waiting": [{"uniqueid": f"u{s}", "since": s} for s in since],
            "params": {"service_level": sl_s} if sl_s else None}  # fmt: skip


def test_a_ready_agent_gets_the_task_of_her_queues_due_soonest() -> None:
    shown = offer(TASKS, MINE, READY, {}, now=NOW, service_levels={})
    assert shown.task is not None
    assert shown.task.id == 3
    assert shown.why == ""


def test_nothing_while_on_a_call_or_not_there() -> None:
    for doc in (None, {}, {**READY, "status": "talking"}, {**READY, "status": "busy"}):
        assert offer(TASKS, MINE, doc, {}, now=NOW, service_levels={}).why == "not_ready"


def test_nothing_while_a_caller_in_her_queues_waits_past_the_service_level() -> None:
    queues = {"labour": waiting(NOW - 16_000)}
    held = offer(TASKS, MINE, READY, queues, now=NOW, service_levels={"labour": 15_000})
    assert (held.task, held.why) == (None, "callers_waiting")
    # within it, or in a queue that is not hers: the offer stands
    for docs in ({"labour": waiting(NOW - 15_000)}, {"property": waiting(NOW - 600_000)}):
        shown = offer(TASKS, MINE, READY, docs, now=NOW, service_levels={"labour": 15_000})
        assert shown.task is not None
    assert shown.task.id == 3


def test_the_live_queue_s_service_level_wins_over_the_flow_s() -> None:
    docs = {"intake": waiting(NOW - 20_000, sl_s=30)}
    shown = offer(TASKS, MINE, READY, docs, now=NOW, service_levels={"intake": 15_000})
    assert shown.task is not None
    assert worst_wait(MINE, docs, {}, NOW) == (20_000, 30_000)


def test_the_worst_queue_decides_and_nobody_waiting_is_no_wait() -> None:
    docs = {"intake": waiting(NOW - 10_000), "labour": waiting(NOW - 40_000, NOW - 5_000)}
    assert worst_wait(MINE, docs, {"intake": 5_000, "labour": 60_000}, NOW) == (10_000, 5_000)
    assert worst_wait(MINE, {}, {}, NOW) == (0, DEFAULT_SL_MS)


def test_none_due_when_her_queues_have_no_open_task() -> None:
    shown = offer(TASKS, ("environment",), READY, {}, now=NOW, service_levels={})
    assert (shown.task, shown.why) == (None, "none_due")
