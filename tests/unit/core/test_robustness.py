"""Whatever arrives, the reducers do not crash and stay consistent: unknown and malformed
events, duplicates, missing or garbage Timestamps, any order (Hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.agents import Agents, Phase
from hotline.ami.message import Message, MessageKind
from hotline.ami.timestamps import parse_ms
from hotline.calls.state import CallAmended, CallEnded, Calls
from hotline.core.records import EndReason
from hotline.queues.state import Queues

from .events import T0, agent_event, event
from .replay import NAMES, Run, apply, load, replay

HANDLED = {
    "UserEvent", "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentCalled",
    "AgentRingNoAnswer", "AgentConnect", "AgentComplete", "HangupRequest", "SoftHangupRequest",
    "Hangup", "QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberStatus",
    "QueueParams",
}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        ("1795463384.123456", 1795463384123),
        ("1795463384.9", 1795463384900),
        ("1795463384", 1795463384000),
        ("1795463384.", 1795463384000),
        (None, None),
        ("", None),
        ("garbage", None),
        ("-1.5", None),
        ("1e9", None),
        ("１２.３", None),  # full-width digits: int() would take them
        ("12.3x", None),
    ],
)
def test_parse_ms(value: str | None, ms: int | None) -> None:
    assert parse_ms(value) == ms


def fresh() -> Run:
    return Run(Calls(), Queues(), Agents())


def test_unknown_events_are_ignored() -> None:
    run = fresh()
    for e in (
        event("FullyBooted", None, Status="Fully Booted"),
        event("Newchannel", Uniqueid="x"),
        event("UserEvent", UserEvent="SomethingElse", Uniqueid="x"),
        event("UserEvent", Uniqueid="x"),
        event("Hangup", Uniqueid="not-a-call"),
        event("HangupRequest", Uniqueid="not-a-call"),
        Message(MessageKind.EVENT, ()),  # no headers at all
    ):
        assert run.calls.apply(e) == []
        assert run.queues.apply(e) == []
        assert run.agents.apply(e) == []
    assert (len(run.calls), run.queues.views(), run.agents.views()) == (0, {}, {})
    assert run.calls.now == T0


@pytest.mark.parametrize(
    "bad",
    [
        event("QueueCallerJoin", Queue="q", Position="1"),  # no Uniqueid
        event("QueueCallerJoin", Uniqueid="u", Position="first"),  # no Queue, bad Position
        event("AgentConnect", Uniqueid="u"),  # no MemberName, no Queue
        event("AgentComplete", None, Uniqueid="u", MemberName="m", Queue="q"),
        event("QueueCallerAbandon", Uniqueid="u"),
        event("UserEvent", UserEvent="HotlineSurvey", Uniqueid="u", Score="five"),
        event("UserEvent", UserEvent="HotlineQueueExit", Uniqueid="u", Status="WHATEVER"),
        event("UserEvent", UserEvent="HotlineIvr", Uniqueid="u"),
        event("QueueMemberPause", MemberName="m"),  # no Queue
        event("QueueMemberStatus", MemberName="m", Queue="q", Status="busy?", Paused="maybe"),
        event("QueueMemberRemoved", MemberName="nobody", Queue="q"),
        event("AgentRingNoAnswer", Uniqueid="u", MemberName="m", Queue="q", RingTime="x"),
        event("QueueParams", Queue="q", ServicelevelPerf="NaN?", Max="∞"),
        event("Hangup", None, Uniqueid="u"),
    ],
)
def test_malformed_events_do_not_crash(bad: Message) -> None:
    run = fresh()
    apply(run, event("QueueCallerJoin", T0, Uniqueid="u", Queue="q", Position="1"))
    apply(run, bad)
    apply(run, event("Hangup", T0 + 10, Uniqueid="u"))
    assert len(run.calls) == 0
    consistent(run)


def test_a_garbage_timestamp_takes_the_last_good_time() -> None:
    calls = Calls()
    calls.apply(event("QueueCallerJoin", T0, Uniqueid="u", Queue="q", Position="1"))
    bad = Message(
        MessageKind.EVENT,
        (("Event", "AgentConnect"), ("Timestamp", "soon"), ("Uniqueid", "u"),
         ("MemberName", "m"), ("Queue", "q")),
    )  # fmt: skip
    calls.apply(bad)
    (ended,) = calls.apply(event("Hangup", None, Uniqueid="u"))
    assert isinstance(ended, CallEnded)
    assert (ended.record.t_answer, ended.record.t_end) == (T0, T0)
    assert calls.now == T0


def test_events_of_an_unknown_call_start_one_with_a_note() -> None:
    calls = Calls()
    calls.apply(agent_event("AgentConnect", T0, call="mid"))
    (ended,) = calls.apply(event("Hangup", T0 + 5, Uniqueid="mid"))
    assert isinstance(ended, CallEnded)
    assert ended.record.end_reason is EndReason.ANSWERED
    assert ended.record.notes == ("first seen in AgentConnect",)
    # late: completes the ended record once (test_late_events.py), then ignored
    (late,) = calls.apply(agent_event("AgentComplete", T0 + 6, call="mid"))
    assert isinstance(late, CallAmended)
    assert late.record.talk_end == T0 + 5
    assert calls.apply(agent_event("AgentComplete", T0 + 7, call="mid")) == []


@pytest.mark.parametrize("name", NAMES)
def test_every_event_twice_gives_the_same_records_and_journal(name: str) -> None:
    scenario = load(name)
    once = replay(scenario)
    twice = fresh()
    twice.agents = Agents(policy=once.agents.policy)
    for e in scenario.events:
        apply(twice, e)
        apply(twice, e)
    assert twice.ended == once.ended
    assert twice.journal == once.journal
    assert twice.queues.views() == once.queues.views()


def test_resync_closes_vanished_calls_and_adopts_unknown_ones() -> None:
    calls = Calls()
    calls.apply(event("QueueCallerJoin", T0, Uniqueid="gone", Queue="q", Position="1"))
    channel = event(
        "CoreShowChannel", None, Uniqueid="new", Context="hotline-queue-intake",
        Application="Queue", ApplicationData="intake,c,,,900", Duration="00:01:05",
        CallerIDNum="139", BridgeId="",
    )  # fmt: skip
    agent_leg = event(
        "CoreShowChannel", None, Uniqueid="leg", Context="agents", Application="AppQueue"
    )
    entry = event("QueueEntry", None, Uniqueid="new", Queue="intake", Wait="20")
    effects = calls.resync([channel, agent_leg], [entry], now=T0 + 100_000)
    ended, adopted = effects
    assert isinstance(ended, CallEnded)
    assert ended.record.end_reason is EndReason.VANISHED
    assert ended.record.notes == ("channel gone at resync",)
    record = adopted.record
    assert (record.call_id, record.caller, record.t_arrival) == ("new", "139", T0 + 35_000)
    assert [(v.queue, v.t_enter) for v in record.visits] == [("intake", T0 + 80_000)]
    assert calls.resync([channel], [entry], now=T0 + 101_000) == []  # known now


def test_resync_gives_a_known_call_the_queue_entry_and_answer_it_missed() -> None:
    calls = Calls()
    calls.apply(event("UserEvent", T0, UserEvent="HotlineIvr", Menu="entry", Uniqueid="u"))
    in_queue = event(
        "CoreShowChannel", None, Uniqueid="u", Context="hotline-queue-labour",
        Application="Queue", ApplicationData="labour,c,,,120", BridgeId="",
    )  # fmt: skip
    entry = event("QueueEntry", None, Uniqueid="u", Queue="labour", Wait="3")
    (updated,) = calls.resync([in_queue], [entry], now=T0 + 10_000)
    assert [(v.queue, v.t_enter, v.t_leave) for v in updated.record.visits] == [
        ("labour", T0 + 7000, None)
    ]
    assert calls.resync([in_queue], [entry], now=T0 + 10_500) == []  # idempotent
    bridged = event(
        "CoreShowChannel", None, Uniqueid="u", Context="hotline-queue-labour",
        Application="Queue", ApplicationData="labour,c,,,120", BridgeId="b-1",
    )  # fmt: skip
    (updated,) = calls.resync([bridged], [], now=T0 + 20_000)
    record = updated.record
    assert (record.t_answer, record.visits[0].outcome) == (T0 + 20_000, "CONNECT")
    assert record.notes[-1] == "bridged at resync: answer time unknown"


# -- Hypothesis: any order, any repetition ------------------------------------------------------


def relevant(name: str) -> list[Message]:
    return [e for e in load(name).events if e.name in HANDLED]


POOLS = {
    name: relevant(name)
    for name in (
        "concurrent",
        "ring_no_answer_then_answered",
        "refused_no_agent",
        "agent_pause_membership",
    )
}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(POOLS)),
    picks=st.lists(st.integers(min_value=0, max_value=10_000), max_size=150),
    wrap=st.sampled_from([0, 2000]),
)
def test_any_interleaving_never_raises(name: str, picks: list[int], wrap: int) -> None:
    pool = POOLS[name]
    run = Run(Calls(keep_ended=3), Queues(), Agents(wrapup_ms={"property": wrap, "labour": wrap}))
    for i in picks:
        apply(run, pool[i % len(pool)])
    run.calls.resync([], [], now=run.calls.now)
    run.agents.resync([], now=run.agents.now, calls=[])
    assert len(run.calls) == 0
    phases = {v.phase for v in run.agents.views().values()}
    assert phases <= {Phase.IDLE, Phase.WRAP_UP}
    consistent(run)


def consistent(run: Run) -> None:
    """Invariants the reducers keep whatever they were fed."""
    for record in run.ended.values():
        assert record.end_reason is not None
        assert record.t_end is not None
        assert all(v.t_leave is not None for v in record.visits)
        assert all(r.t_end is not None for r in record.rings)
    assert not set(run.ended) & {r.call_id for r in run.calls.records()}
    agents = run.agents  # its private index of calls must match each agent's phase
    for name, a in agents._agents.items():
        for call in [*a.ringing, *([a.talking] if a.talking else [])]:
            assert name in agents._calls[call]
    for call, names in agents._calls.items():
        assert names, call
        for n in names:
            a = agents._agents[n]
            assert call in a.ringing or a.talking == call
    for view in run.queues.views().values():
        uids = [w.uniqueid for w in view.waiting]
        assert len(uids) == len(set(uids))


def test_a_call_hung_up_by_asterisk_shutting_down_ends_pbx_down() -> None:
    """As a SIGTERM'd Asterisk 22 sent it: SoftHangupRequest Cause 4 on every channel, then
    the usual AgentComplete (Reason caller) and Hangup."""
    calls = Calls()
    calls.apply(event("QueueCallerJoin", T0, Uniqueid="u", Queue="intake", Position="1"))
    calls.apply(event("AgentConnect", T0 + 5_000, Uniqueid="u", Queue="intake",
                      MemberName="朱英8001", HoldTime="5"))  # fmt: skip
    calls.apply(event("QueueCallerLeave", T0 + 5_001, Uniqueid="u", Queue="intake"))
    calls.apply(event("SoftHangupRequest", T0 + 9_000, Uniqueid="u", Cause="4"))
    calls.apply(event("SoftHangupRequest", T0 + 9_001, Uniqueid="u", Cause="16"))
    calls.apply(event("AgentComplete", T0 + 9_002, Uniqueid="u", Queue="intake",
                      MemberName="朱英8001", Reason="caller"))  # fmt: skip
    (ended,) = calls.apply(event("Hangup", T0 + 9_003, Uniqueid="u", Cause="16"))
    assert isinstance(ended, CallEnded)
    record = ended.record
    assert record.end_reason is EndReason.PBX_DOWN
    assert (record.t_answer, record.agent, record.talk_end) == (T0 + 5_000, "朱英8001", T0 + 9_002)
    assert record.notes.count("hung up by the PBX shutting down") == 1


def test_an_ordinary_soft_hangup_is_not_a_shutdown() -> None:
    calls = Calls()
    calls.apply(event("QueueCallerJoin", T0, Uniqueid="u", Queue="intake", Position="1"))
    calls.apply(event("SoftHangupRequest", T0 + 1_000, Uniqueid="u", Cause="16"))
    (ended,) = calls.apply(event("Hangup", T0 + 1_001, Uniqueid="u", Cause="16"))
    assert isinstance(ended, CallEnded)
    assert ended.record.end_reason is EndReason.ABANDONED_IN_QUEUE


def test_resync_after_a_pbx_restart_closes_the_calls_as_cut_off() -> None:
    calls = Calls()
    calls.apply(event("QueueCallerJoin", T0, Uniqueid="gone", Queue="q", Position="1"))
    (ended,) = calls.resync([], [], now=T0 + 30_000, pbx_restarted=True)
    assert isinstance(ended, CallEnded)
    assert ended.record.end_reason is EndReason.PBX_DOWN
    assert ended.record.notes == ("channel gone at resync", "the PBX restarted meanwhile")
