"""A PBX lost outright (no Hangup, no Shutdown): when it counts as lost, how its calls are
closed, and how a call it comes back with is reopened, not counted twice (issue 16)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hotline.agents import Agents, Phase
from hotline.agents.model import AgentView
from hotline.agents.state import PBX_BACK, PBX_LOST
from hotline.ami.message import Message
from hotline.calls.lost import LinkWatch, Lost
from hotline.calls.namespace import Namespace
from hotline.calls.state import (
    LOST_NOTE,
    REOPENED_NOTE,
    CallEnded,
    CallLost,
    CallResumed,
    Calls,
    Effect,
)
from hotline.core.records import AgentStatus, EndReason
from hotline.ivr.asterisk import ENTRY
from hotline.metrics.params import Params
from hotline.metrics.populations import Population, classify
from hotline.queues.state import Queues

from .events import T0, event, member

PBX2 = Namespace("pbx2", qualified=True)
PBX1 = Namespace("pbx1")
AGENT = "王芳"


def answered_on(ns: Namespace, uid: str, t0: int = T0) -> list[Message]:
    """A call up to its answer on the PBX of ``ns`` (ids qualified as the controller does)."""
    return [
        ns.event(e)
        for e in (
            event("UserEvent", t0, UserEvent="HotlineIvr", Uniqueid=uid, Menu="entry",
                  Line="12345", CallerIDNum="13800138000"),
            event("UserEvent", t0 + 2_000, UserEvent="HotlineQueue", Uniqueid=uid,
                  Tag="labour", Path="1"),
            event("QueueCallerJoin", t0 + 2_100, Uniqueid=uid, Queue="intake", Position="1"),
            event("AgentCalled", t0 + 2_200, Uniqueid=uid, Queue="intake", MemberName=AGENT),
            event("QueueCallerLeave", t0 + 6_150, Uniqueid=uid, Queue="intake"),
            event("AgentConnect", t0 + 6_160, Uniqueid=uid, Queue="intake", MemberName=AGENT),
        )
    ]  # fmt: skip


def waiting_on(ns: Namespace, uid: str, t0: int = T0) -> list[Message]:
    return [
        ns.event(event("QueueCallerJoin", t0, Uniqueid=uid, Queue="intake", Position="1")),
    ]


def channel(
    ns: Namespace, uid: str, *, bridged: bool = True, duration: str = "00:01:05"
) -> Message:
    """The call's caller channel as CoreShowChannels lists it when the PBX is back."""
    return ns.event(
        event(
            "CoreShowChannel", None, Channel="Local/12345@hotline-ivr-00000001;2", Uniqueid=uid,
            Linkedid=uid, Context=ENTRY, Application="Queue", ApplicationData="intake,,,,600",
            BridgeId="b-1" if bridged else "", CallerIDNum="13800138000", Duration=duration,
        )
    )  # fmt: skip


def feed(calls: Calls, events: list[Message]) -> list[Effect]:
    return [effect for e in events for effect in calls.apply(e)]


# -- when a PBX is lost -----------------------------------------------------------------------


def test_a_pbx_is_lost_once_its_link_has_been_down_long_enough() -> None:
    watch = LinkWatch(lost_ms=60_000)
    assert watch.observe("pbx2", True, heard_at=T0, down_at=0, now=T0) is None
    # the first look at the outage fixes when it was last heard and when the link dropped
    assert watch.observe("pbx2", False, heard_at=T0 + 1_000, down_at=T0 + 7_000,
                         now=T0 + 7_400) is None  # fmt: skip
    # later reconnect attempts change neither
    later = {"heard_at": T0 + 50_000, "down_at": T0 + 50_000}
    assert watch.observe("pbx2", False, **later, now=T0 + 66_999) is None
    lost = watch.observe("pbx2", False, **later, now=T0 + 67_000)
    assert lost == Lost("pbx2", T0 + 1_000, T0 + 7_000, T0 + 67_000)
    assert lost.silent_ms == 66_000
    assert watch.lost("pbx2")
    # once per outage
    assert watch.observe("pbx2", False, **later, now=T0 + 90_000) is None
    # back, then lost again: a second outage
    assert watch.observe("pbx2", True, heard_at=T0, down_at=0, now=T0 + 95_000) is None
    assert not watch.lost("pbx2")
    assert watch.observe("pbx2", False, heard_at=T0 + 99_000, down_at=T0 + 100_000,
                         now=T0 + 100_000) is None  # fmt: skip
    again = watch.observe("pbx2", False, heard_at=0, down_at=0, now=T0 + 160_000)
    assert again == Lost("pbx2", T0 + 99_000, T0 + 100_000, T0 + 160_000)


def test_a_pbx_never_seen_up_is_never_lost() -> None:
    """A controller started while a PBX is away follows none of its calls."""
    watch = LinkWatch(lost_ms=1_000)
    for now in (T0, T0 + 10_000, T0 + 100_000):
        assert watch.observe("pbx2", False, heard_at=0, down_at=0, now=now) is None


def test_times_from_the_edge_never_lie_in_the_future() -> None:
    watch = LinkWatch(lost_ms=1_000)
    watch.observe("pbx1", True, heard_at=0, down_at=0, now=T0)
    watch.observe("pbx1", False, heard_at=T0 + 9_000, down_at=T0 + 9_000, now=T0 + 5_000)
    lost = watch.observe("pbx1", False, heard_at=0, down_at=0, now=T0 + 6_000)
    assert lost == Lost("pbx1", T0 + 5_000, T0 + 5_000, T0 + 6_000)


def test_a_lost_time_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LinkWatch(lost_ms=0)


# -- closing the calls of a lost PBX -------------------------------------------------------------


def test_a_lost_pbx_s_calls_are_closed_at_the_moment_it_was_last_heard() -> None:
    calls = Calls()
    feed(calls, answered_on(PBX2, "1.1"))
    feed(calls, waiting_on(PBX2, "1.2", T0 + 7_000))
    feed(calls, answered_on(PBX1, "1.1"))  # the same Uniqueid on the default PBX: not lost
    heard = T0 + 20_000
    effects = calls.lost(PBX2.owns, at=heard, note="last heard 5000 ms before")
    assert all(isinstance(e, CallLost) for e in effects)
    by_id = {e.record.call_id: e.record for e in effects}
    assert set(by_id) == {"pbx2:1.1", "pbx2:1.2"}
    talk, wait = by_id["pbx2:1.1"], by_id["pbx2:1.2"]
    assert (talk.end_reason, talk.t_end, talk.agent, talk.t_answer) == (
        EndReason.PBX_LOST, heard, AGENT, T0 + 6_160,
    )  # fmt: skip
    assert talk.talk_end is None  # unknown: no AgentComplete came
    assert talk.notes[-2:] == (LOST_NOTE, "last heard 5000 ms before")
    assert (talk.ivr_path, talk.tag, talk.t_request) == ("1", "labour", T0 + 2_000)
    assert (wait.end_reason, wait.t_end) == (EndReason.PBX_LOST, heard)
    # gone from the calls in progress; the other PBX's call goes on
    assert [r.call_id for r in calls.records()] == ["1.1"]
    assert calls.is_lost("pbx2:1.1")
    assert "pbx2:1.1" in calls.unsettled
    assert "pbx2:1.1" not in calls
    assert "1.1" in calls.unsettled
    assert "nope" not in calls.unsettled
    # counted as a call cut by its PBX: answered (A, A15 by its wait) or lost by the system
    params = Params()
    assert {Population.R, Population.A} <= classify(talk, params).populations
    verdict = classify(wait, params)
    assert Population.L in verdict.populations
    assert verdict.lost_by == "pbx_lost"


def test_a_call_is_never_ended_before_what_it_saw() -> None:
    """The PBX's clock and ours may differ: the end is at least the call's last time."""
    calls = Calls()
    feed(calls, answered_on(PBX2, "1.1"))
    (lost,) = calls.lost(PBX2.owns, at=T0 + 1_000)
    assert lost.record.t_end == T0 + 6_160


def test_a_pbx_with_no_calls_closes_none() -> None:
    calls = Calls()
    feed(calls, answered_on(PBX1, "1.1"))
    assert calls.lost(PBX2.owns, at=T0 + 30_000) == []
    assert len(calls) == 1


# -- the PBX comes back -------------------------------------------------------------------------


def test_a_call_the_pbx_comes_back_with_is_reopened_and_ends_once_under_its_id() -> None:
    """The link was only cut: the call went on. At the resync its channel is there: the
    call is reopened as it was (not a second call seen first at the resync), and its end
    replaces the lost record, same id, with the true end."""
    calls = Calls()
    feed(calls, answered_on(PBX2, "1.1"))
    (lost,) = calls.lost(PBX2.owns, at=T0 + 20_000)
    effects = calls.resync([channel(PBX2, "1.1")], [], now=T0 + 95_000, owns=PBX2.owns)
    (resumed,) = effects
    assert isinstance(resumed, CallResumed)
    record = resumed.record
    assert record.call_id == "pbx2:1.1"
    assert record.end_reason is None
    # as AMI saw it, to the millisecond: nothing guessed at the resync
    expected = replace(lost.record, t_end=None, end_reason=None)
    assert replace(record, notes=()) == replace(expected, notes=())
    assert REOPENED_NOTE in record.notes
    assert not any("at resync" in note for note in record.notes)  # not "guessed"
    assert not calls.is_lost("pbx2:1.1")
    (ended,) = calls.apply(PBX2.event(event("Hangup", T0 + 100_000, Uniqueid="1.1")))
    assert isinstance(ended, CallEnded)
    final = ended.record
    assert (final.call_id, final.end_reason, final.t_end) == (
        "pbx2:1.1", EndReason.ANSWERED, T0 + 100_000,
    )  # fmt: skip
    assert (final.t_answer, final.agent, final.visits) == (
        lost.record.t_answer, AGENT, lost.record.visits,
    )  # fmt: skip
    assert len(calls) == 0


def test_an_event_of_a_lost_call_reopens_it() -> None:
    """The PBX is back and says something of the call before the resync's view."""
    calls = Calls()
    feed(calls, answered_on(PBX2, "1.1"))
    calls.lost(PBX2.owns, at=T0 + 20_000)
    complete = event("AgentComplete", T0 + 90_000, Uniqueid="1.1", Queue="intake",
                     MemberName=AGENT, Reason="caller")  # fmt: skip
    (resumed,) = calls.apply(PBX2.event(complete))
    assert isinstance(resumed, CallResumed)
    assert (resumed.record.talk_end, resumed.record.completed_by) == (T0 + 90_000, "caller")
    (ended,) = calls.apply(PBX2.event(event("Hangup", T0 + 90_010, Uniqueid="1.1")))
    assert isinstance(ended, CallEnded)
    assert ended.record.end_reason is EndReason.ANSWERED
    # the resync after it finds nothing: the call is not adopted a second time
    assert calls.resync([], [], now=T0 + 91_000, owns=PBX2.owns) == []


def test_a_call_the_pbx_no_longer_has_stays_as_it_was_closed() -> None:
    calls = Calls()
    feed(calls, answered_on(PBX2, "1.1"))
    calls.lost(PBX2.owns, at=T0 + 20_000)
    assert calls.resync([], [], now=T0 + 95_000, owns=PBX2.owns, pbx_restarted=True) == []
    assert not calls.is_lost("pbx2:1.1")
    assert "pbx2:1.1" not in calls.unsettled
    # an event of it after that (a duplicate, a stray) starts nothing
    assert calls.apply(PBX2.event(event("Hangup", T0 + 96_000, Uniqueid="1.1"))) == []


def test_another_pbx_s_resync_leaves_the_lost_calls_alone() -> None:
    calls = Calls()
    feed(calls, answered_on(PBX2, "1.1"))
    calls.lost(PBX2.owns, at=T0 + 20_000)
    assert calls.resync([], [], now=T0 + 30_000, owns=PBX1.owns) == []
    assert calls.is_lost("pbx2:1.1")


def test_a_waiting_caller_answered_while_the_link_was_cut_is_bridged_at_the_resync() -> None:
    calls = Calls()
    feed(calls, waiting_on(PBX2, "1.2"))
    calls.lost(PBX2.owns, at=T0 + 20_000)
    (resumed,) = calls.resync([channel(PBX2, "1.2")], [], now=T0 + 95_000, owns=PBX2.owns)
    assert isinstance(resumed, CallResumed)
    record = resumed.record
    assert record.t_answer == T0 + 95_000
    assert record.visits[0].outcome == "CONNECT"
    assert "bridged at resync: answer time unknown" in record.notes  # queue_log completes it


# -- agents and queues --------------------------------------------------------------------------


def agents_talking(call: str) -> Agents:
    agents = Agents()
    agents.apply(member("QueueMemberAdded", T0, agent=AGENT, queue="intake"))
    agents.apply(PBX2.event(event("AgentCalled", T0 + 2_200, Uniqueid="1.1",
                                  Queue="intake", MemberName=AGENT)))  # fmt: skip
    agents.apply(PBX2.event(event("AgentConnect", T0 + 6_160, Uniqueid="1.1",
                                  Queue="intake", MemberName=AGENT)))  # fmt: skip
    assert (phase(agents), view_of(agents).call_id) == (Phase.TALKING, call)
    return agents


def view_of(agents: Agents) -> AgentView:
    view = agents.view(AGENT)
    assert view is not None
    return view


def phase(agents: Agents) -> Phase:
    return view_of(agents).phase


def test_an_agent_talking_on_a_lost_pbx_is_no_longer_shown_talking() -> None:
    agents = agents_talking("pbx2:1.1")
    (change,) = agents.calls_lost(["pbx2:1.1", "pbx2:9.9"], now=T0 + 67_000)
    assert (change.kind, change.call_id, change.note) == ("complete", "pbx2:1.1", PBX_LOST)
    assert change.status is AgentStatus.READY
    assert (phase(agents), view_of(agents).wrap_up_until) == (Phase.IDLE, None)
    # the PBX came back with the call: she talks again
    (again,) = agents.resume(AGENT, "pbx2:1.1", now=T0 + 95_000)
    assert (again.kind, again.note, again.status) == ("connect", PBX_BACK, AgentStatus.TALKING)
    # and its AgentComplete ends the talk as usual
    complete = event("AgentComplete", T0 + 99_000, Uniqueid="1.1", Queue="intake",
                     MemberName=AGENT, Reason="caller")  # fmt: skip
    done = agents.apply(PBX2.event(complete))
    assert [c.kind for c in done] == ["complete"]


def test_a_ring_on_a_lost_pbx_ends() -> None:
    agents = Agents()
    agents.apply(member("QueueMemberAdded", T0, agent=AGENT, queue="intake"))
    agents.apply(PBX2.event(event("AgentCalled", T0 + 1_000, Uniqueid="1.3",
                                  Queue="intake", MemberName=AGENT)))  # fmt: skip
    (change,) = agents.calls_lost(["pbx2:1.3"], now=T0 + 67_000)
    assert (change.kind, change.reason) == ("ring_end", PBX_LOST)
    assert phase(agents) is Phase.IDLE


def test_she_is_not_made_to_talk_twice() -> None:
    agents = agents_talking("pbx2:1.1")
    agents.calls_lost(["pbx2:1.1"], now=T0 + 67_000)
    agents.apply(event("AgentConnect", T0 + 70_000, Uniqueid="7.7", Queue="intake",
                       MemberName=AGENT))  # fmt: skip
    assert agents.resume(AGENT, "pbx2:1.1", now=T0 + 95_000) == []
    assert agents.resume("nobody", "pbx2:1.1", now=T0 + 95_000) == []


def test_a_lost_pbx_s_callers_leave_the_queue_tiles() -> None:
    queues = Queues()
    queues.apply(event("QueueCallerJoin", T0, Uniqueid="w1", Queue="intake", Position="1"))
    queues.apply(event("QueueCallerJoin", T0, Uniqueid="w2", Queue="intake", Position="2"))
    queues.apply(event("AgentConnect", T0, Uniqueid="t1", Queue="labour", MemberName=AGENT))
    changed = queues.calls_gone(["w1", "t1", "unknown"])
    assert sorted(c.view.name for c in changed) == ["intake", "labour"]
    intake, labour = queues.view("intake"), queues.view("labour")
    assert intake is not None
    assert labour is not None
    assert ([w.uniqueid for w in intake.waiting], labour.talking) == (["w2"], ())
    assert queues.calls_gone(["w1"]) == []
