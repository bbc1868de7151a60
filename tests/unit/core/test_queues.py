"""The queues reducer: waiting callers in position order, talking callers, resync and diff."""

from __future__ import annotations

from hotline.ami import EventList
from hotline.queues.state import (
    CentreQueues,
    QueueChanged,
    QueueParams,
    Queues,
    QueueView,
    Waiting,
    diff,
    merged,
)

from .events import T0, agent_event, event
from .replay import load


def join(uid: str, position: int, t: int = T0, queue: str = "property") -> list[QueueChanged]:
    return QUEUES.apply(
        event(
            "QueueCallerJoin",
            t,
            Uniqueid=uid,
            Queue=queue,
            Position=str(position),
            CallerIDNum=f"138{uid}",
        )
    )


QUEUES = Queues()


def waiting(queues: Queues, name: str = "property") -> list[str]:
    view = queues.view(name)
    return [w.uniqueid for w in view.waiting] if view else []


def test_positions_follow_asterisk() -> None:
    global QUEUES
    QUEUES = Queues()
    join("a", 1)
    join("b", 2, T0 + 10)
    (changed,) = join("c", 3, T0 + 20)
    assert [w.uniqueid for w in changed.view.waiting] == ["a", "b", "c"]
    QUEUES.apply(event("QueueCallerLeave", T0 + 30, Uniqueid="b", Queue="property"))
    assert waiting(QUEUES) == ["a", "c"]  # Asterisk renumbers: c is now 2nd
    join("d", 1, T0 + 40)  # a higher priority caller goes ahead
    assert waiting(QUEUES) == ["d", "a", "c"]
    view = QUEUES.view("property")
    assert view is not None
    assert view.waiting[1].since == T0
    assert view.waiting[1].caller == "138a"
    assert view.longest_wait(T0 + 1000) == 960


def test_connect_moves_a_caller_to_talking_until_complete() -> None:
    queues = Queues()
    queues.apply(event("QueueCallerJoin", T0, Uniqueid="a", Queue="intake", Position="1"))
    queues.apply(event("QueueCallerLeave", T0 + 5, Uniqueid="a", Queue="intake"))
    (changed,) = queues.apply(agent_event("AgentConnect", T0 + 6, call="a", queue="intake"))
    assert (changed.view.waiting, changed.view.talking) == ((), ("a",))
    queues.apply(agent_event("AgentComplete", T0 + 9, call="a", queue="intake"))
    assert queues.view("intake").talking == ()  # type: ignore[union-attr]


def test_a_missed_leave_or_complete_is_cleaned_up() -> None:
    queues = Queues()
    queues.apply(event("QueueCallerJoin", T0, Uniqueid="a", Queue="intake", Position="1"))
    queues.apply(agent_event("AgentConnect", T0 + 6, call="a", queue="intake"))
    assert waiting(queues, "intake") == []
    queues.apply(event("Hangup", T0 + 9, Uniqueid="a"))
    assert queues.view("intake").talking == ()  # type: ignore[union-attr]


def test_replay_ends_with_empty_queues() -> None:
    for name in ("concurrent", "timeout_overflow", "abandoned_ringing", "callback_at_offer"):
        queues = Queues()
        for e in load(name).events:
            queues.apply(e)
        assert all(not v.waiting and not v.talking for v in queues.views().values()), name


def snapshot(name: str) -> tuple[EventList, EventList]:
    lists = [i for i in load(name).items if isinstance(i, EventList)]
    return lists[0], lists[1]


def test_from_status_reads_asterisks_view() -> None:
    status, channels = snapshot("concurrent")
    queues = Queues.from_status(status.events, channels.events, now=T0)
    prop = queues.view("property")
    assert prop is not None
    assert prop.params is not None
    assert (prop.params.strategy, prop.params.service_level) == ("rrmemory", 15)
    assert len(prop.talking) == 2
    (third,) = prop.waiting  # the third caller, for an agent to finish
    assert third.caller in {"13800000001", "13800000002", "13800000003"}
    assert third.uniqueid not in prop.talking
    assert 0 < T0 - third.since < 10_000  # now - Wait (whole seconds)
    assert [w.caller for w in queues.view("intake").waiting] == ["13800000004"]  # type: ignore[union-attr]
    assert set(queues.views()) == {"property", "labour", "environment", "intake", "hotline-test"}


def test_resync_replaces_the_model_and_reports_changed_queues() -> None:
    status, channels = snapshot("concurrent")
    queues = Queues()
    queues.apply(event("QueueCallerJoin", T0, Uniqueid="ghost", Queue="intake", Position="1"))
    changed = queues.resync(status.events, channels.events, now=T0)
    assert {c.view.name for c in changed} == set(queues.views())  # params are news everywhere
    assert [w.caller for w in queues.view("intake").waiting] == ["13800000004"]  # type: ignore[union-attr]
    assert queues.resync(status.events, channels.events, now=T0) == []  # nothing new


def test_diff() -> None:
    status, channels = snapshot("concurrent")
    theirs = Queues.from_status(status.events, channels.events, now=T0)
    ours = Queues.from_status(status.events, channels.events, now=T0 + 5000)
    assert diff(ours, theirs) == []  # since and counters do not count
    ours.apply(event("QueueCallerJoin", T0, Uniqueid="ghost", Queue="labour", Position="1"))
    ours.apply(agent_event("AgentComplete", T0, call=theirs.view("property").talking[0]))  # type: ignore[union-attr]
    assert diff(ours, theirs) == [
        "labour: waiting ['ghost'] != []",
        f"property: talking {sorted(ours.view('property').talking)} != "  # type: ignore[union-attr]
        f"{sorted(theirs.view('property').talking)}",  # type: ignore[union-attr]
    ]


def test_queue_params_tolerate_garbage() -> None:
    params = QueueParams.from_event(
        event("QueueParams", None, Queue="x", Max="-", ServiceLevel="15", ServicelevelPerf="n/a")
    )
    assert (params.max, params.service_level, params.servicelevel_perf) == (0, 15, 0.0)


def test_a_queue_over_several_pbxs_is_one_queue_in_order_of_arrival() -> None:
    one = QueueView("intake", (Waiting("a", 300), Waiting("b", 900)), ("t1",))
    two = QueueView("intake", (Waiting("pbx2:a", 100),), ("pbx2:t",))
    view = merged([one, two])
    assert [w.uniqueid for w in view.waiting] == ["pbx2:a", "a", "b"]
    assert view.talking == ("t1", "pbx2:t")
    assert view.longest_wait(1000) == 900
    assert CentreQueues(lambda: [Queues(), Queues()]).views() == {}  # nothing seen yet
