"""Events that reach AMI after the call's Hangup (seen under load with SIP callers)."""

from __future__ import annotations

from hotline.calls.state import LATE_COMPLETE, CallAmended, CallEnded, Calls
from hotline.core.records import EndReason

from .events import T0, agent_event, event


def answered(calls: Calls) -> None:
    for e in (
        event("UserEvent", T0, UserEvent="HotlineIvr", Uniqueid="c1", Menu="entry"),
        event("QueueCallerJoin", T0 + 1_000, Uniqueid="c1", Queue="property", Position="1"),
        agent_event("AgentCalled", T0 + 1_100),
        event("QueueCallerLeave", T0 + 4_000, Uniqueid="c1", Queue="property"),
        agent_event("AgentConnect", T0 + 4_010),
    ):
        calls.apply(e)


def test_an_agent_complete_after_the_hangup_completes_the_ended_record() -> None:
    calls = Calls()
    answered(calls)
    calls.apply(event("HangupRequest", T0 + 30_000, Uniqueid="c1"))
    [ended] = calls.apply(event("Hangup", T0 + 30_002, Uniqueid="c1"))
    assert isinstance(ended, CallEnded)
    assert (ended.record.talk_end, ended.record.completed_by) == (None, "")
    [amended] = calls.apply(agent_event("AgentComplete", T0 + 30_050, Reason="caller"))
    assert isinstance(amended, CallAmended)
    record = amended.record
    assert (record.end_reason, record.completed_by) == (EndReason.ANSWERED, "caller")
    assert record.talk_end == T0 + 30_002  # the talk cannot outlast the caller's channel
    assert LATE_COMPLETE in record.notes
    # a repeat, or any other late event, changes nothing
    assert calls.apply(agent_event("AgentComplete", T0 + 30_060, Reason="caller")) == []
    assert calls.apply(event("HangupRequest", T0 + 30_070, Uniqueid="c1")) == []


def test_a_complete_call_ignores_a_repeated_agent_complete_after_its_hangup() -> None:
    calls = Calls()
    answered(calls)
    calls.apply(agent_event("AgentComplete", T0 + 20_000, Reason="agent"))
    [ended] = calls.apply(event("Hangup", T0 + 40_000, Uniqueid="c1"))
    assert isinstance(ended, CallEnded)
    assert ended.record.completed_by == "agent"
    assert calls.apply(agent_event("AgentComplete", T0 + 40_050, Reason="caller")) == []


def test_unanswered_calls_are_not_kept_for_a_late_complete() -> None:
    calls = Calls(keep_ended=2)
    for n in range(5):
        uid = f"u{n}"
        calls.apply(event("QueueCallerJoin", T0, Uniqueid=uid, Queue="property", Position="1"))
        calls.apply(event("Hangup", T0 + 1, Uniqueid=uid))
    assert calls._unfinished == {}
