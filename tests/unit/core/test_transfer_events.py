"""A transferred call stays one call: the events of an agent's blind transfer to another
queue, as Asterisk 22 sent them (BlindTransfer on the agent's channel: AgentComplete with
Reason transfer, then the caller joins the next queue and another agent answers)."""

from __future__ import annotations

from hotline.calls.state import CallEnded, Calls
from hotline.core.records import EndReason

from .events import T0, agent_event, event


def test_a_blind_transfer_to_another_queue_is_one_call_with_two_visits() -> None:
    calls = Calls()
    for e in (
        event("UserEvent", T0, UserEvent="HotlineIvr", Uniqueid="c1", Menu="entry"),
        event("QueueCallerJoin", T0 + 1_000, Uniqueid="c1", Queue="intake", Position="1"),
        agent_event("AgentCalled", T0 + 1_100, queue="intake"),
        event("QueueCallerLeave", T0 + 3_000, Uniqueid="c1", Queue="intake"),
        agent_event("AgentConnect", T0 + 3_010, queue="intake"),
        event("BlindTransfer", T0 + 60_000, TransfereeUniqueid="c1"),
        agent_event("AgentComplete", T0 + 60_001, queue="intake", Reason="transfer"),
        event("QueueCallerJoin", T0 + 60_010, Uniqueid="c1", Queue="labour", Position="1"),
    ):
        calls.apply(e)
    talking = calls.get("c1")
    assert talking is not None
    assert (talking.completed_by, talking.talk_end) == ("transfer", T0 + 60_001)
    for e in (
        agent_event("AgentCalled", T0 + 60_020, queue="labour", agent="李娜"),
        event("QueueCallerLeave", T0 + 65_000, Uniqueid="c1", Queue="labour"),
        agent_event("AgentConnect", T0 + 65_010, queue="labour", agent="李娜"),
    ):
        calls.apply(e)
    again = calls.get("c1")
    assert again is not None
    assert (again.agent, again.talk_end, again.completed_by) == ("李娜", None, "")  # talking
    calls.apply(agent_event("AgentComplete", T0 + 125_000, queue="labour", agent="李娜",
                            Reason="agent"))  # fmt: skip
    [ended] = calls.apply(event("Hangup", T0 + 130_000, Uniqueid="c1"))
    assert isinstance(ended, CallEnded)
    r = ended.record
    assert [(v.queue, v.outcome) for v in r.visits] == [("intake", "CONNECT"),
                                                        ("labour", "CONNECT")]  # fmt: skip
    assert r.t_answer == T0 + 3_010  # answered once: by the first agent, for the 15 s rate
    assert (r.agent, r.talk_end, r.completed_by) == ("李娜", T0 + 125_000, "agent")
    assert [(ring.agent, ring.answered) for ring in r.rings] == [("王芳", True), ("李娜", True)]
    assert r.end_reason is EndReason.ANSWERED
    assert "transferred from 王芳 to 李娜" in r.notes


def test_a_completion_that_is_not_a_transfer_is_kept_against_a_stale_one() -> None:
    calls = Calls()
    for e in (
        event("UserEvent", T0, UserEvent="HotlineIvr", Uniqueid="c1", Menu="entry"),
        event("QueueCallerJoin", T0 + 1_000, Uniqueid="c1", Queue="intake", Position="1"),
        agent_event("AgentConnect", T0 + 3_010, queue="intake"),
        agent_event("AgentComplete", T0 + 20_000, queue="intake", Reason="agent"),
        agent_event("AgentComplete", T0 + 40_000, queue="intake", Reason="caller"),
    ):
        calls.apply(e)
    r = calls.get("c1")
    assert r is not None
    assert (r.talk_end, r.completed_by) == (T0 + 20_000, "agent")
