"""Cross-PBX holds from the events of two PBXs (agents.holds)."""

from __future__ import annotations

from hotline.agents.holds import Hold, Holds, Lift, hold_reason
from tests.unit.core.events import T0, event

IFACE = "PJSIP/1001"


def called(chan: str = "a1", t: int = T0) -> object:
    return event("AgentCalled", t, Uniqueid="c1", DestUniqueid=chan, Interface=IFACE,
                 MemberName="王芳", Queue="intake")  # fmt: skip


def pause(paused: bool, reason: str = "", wrap: str = "0") -> object:
    return event("QueueMemberPause", T0, Queue="intake", Interface=IFACE, MemberName="王芳",
                 Paused="1" if paused else "0", PausedReason=reason, Wrapuptime=wrap)  # fmt: skip


def test_a_ring_on_one_pbx_holds_the_agent_on_the_others_until_it_fails() -> None:
    holds = Holds(["pbx1", "pbx2", "pbx3"])
    effects = holds.apply("pbx1", called(), T0)  # type: ignore[arg-type]
    assert effects == [Hold("pbx2", IFACE, "王芳", "pbx1"), Hold("pbx3", IFACE, "王芳", "pbx1")]
    assert effects[0].reason == "hotline:held:pbx1"  # type: ignore[union-attr]
    assert holds.apply("pbx1", called(), T0) == []  # rung again: already held
    no_answer = event("AgentRingNoAnswer", T0 + 15_000, DestUniqueid="a1", Interface=IFACE)
    assert holds.apply("pbx1", no_answer, T0 + 15_000) == [
        Lift("pbx2", IFACE, "王芳", "pbx1"), Lift("pbx3", IFACE, "王芳", "pbx1"),
    ]  # fmt: skip
    assert holds.held() == []


def test_a_ring_the_caller_ended_lifts_on_the_agent_channels_hangup() -> None:
    holds = Holds(["pbx1", "pbx2"])
    holds.apply("pbx1", called(), T0)  # type: ignore[arg-type]
    assert holds.apply("pbx1", event("Hangup", T0 + 1, Uniqueid="c1"), T0 + 1) == []  # caller
    hangup = event("Hangup", T0 + 2, Uniqueid="a1")
    assert holds.apply("pbx1", hangup, T0 + 2) == [Lift("pbx2", IFACE, "王芳", "pbx1")]


def test_a_connected_call_holds_through_its_wrap_up() -> None:
    holds = Holds(["pbx1", "pbx2"])
    holds.apply("pbx1", pause(False, wrap="10"), T0)  # type: ignore[arg-type]
    holds.apply("pbx1", called(), T0)  # type: ignore[arg-type]
    assert holds.apply("pbx1", event("AgentConnect", T0 + 3000, DestUniqueid="a1"), T0) == []
    done = event("AgentComplete", T0 + 60_000, DestUniqueid="a1", Uniqueid="c1")
    assert holds.apply("pbx1", done, T0 + 60_000) == []
    assert holds.apply("pbx1", event("Hangup", T0, Uniqueid="a1"), T0 + 60_001) == []
    assert holds.tick(T0 + 69_999) == []
    assert holds.tick(T0 + 70_000) == [Lift("pbx2", IFACE, "王芳", "pbx1")]


def test_her_own_pause_is_never_held_over_nor_lifted() -> None:
    holds = Holds(["pbx1", "pbx2"])
    holds.apply("pbx2", pause(True, "toilet"), T0)  # type: ignore[arg-type]
    assert holds.apply("pbx1", called(), T0) == []  # type: ignore[arg-type]  # paused there
    # she comes back while pbx1 still rings her: now pbx2 must hold her
    assert holds.apply("pbx2", pause(False), T0 + 1) == [  # type: ignore[arg-type]
        Hold("pbx2", IFACE, "王芳", "pbx1")
    ]
    held = pause(True, hold_reason("pbx1"))
    assert holds.is_hold_event("pbx2", held)  # type: ignore[arg-type]
    holds.apply("pbx2", held, T0 + 2)  # type: ignore[arg-type]
    # she pauses herself during the hold (her pause goes to every PBX)
    mine = pause(True, "meal")
    assert not holds.is_hold_event("pbx2", mine)  # type: ignore[arg-type]
    holds.apply("pbx2", mine, T0 + 3)  # type: ignore[arg-type]
    no_answer = event("AgentRingNoAnswer", T0 + 4, DestUniqueid="a1")
    assert holds.apply("pbx1", no_answer, T0 + 4) == []  # her pause stays
    assert holds.held() == []


def test_the_lift_of_a_hold_is_a_hold_event_and_her_unpause_is_not() -> None:
    holds = Holds(["pbx1", "pbx2"])
    holds.apply("pbx1", called(), T0)  # type: ignore[arg-type]
    holds.apply("pbx2", pause(True, hold_reason("pbx1")), T0)  # type: ignore[arg-type]
    assert holds.is_hold_event("pbx2", pause(False))  # type: ignore[arg-type]
    holds.apply("pbx2", pause(False), T0)  # type: ignore[arg-type]
    assert not holds.is_hold_event("pbx2", pause(False))  # type: ignore[arg-type]
    assert not holds.is_hold_event("pbx2", called())  # type: ignore[arg-type]


def test_a_pbx_that_goes_down_takes_its_holds_and_engagements_with_it() -> None:
    holds = Holds(["pbx1", "pbx2"])
    holds.apply("pbx1", called("a1"), T0)  # type: ignore[arg-type]
    other = event("AgentCalled", T0, DestUniqueid="b1", Interface="PJSIP/1002", MemberName="李")
    assert holds.apply("pbx2", other, T0) == [Hold("pbx1", "PJSIP/1002", "李", "pbx2")]
    # pbx2 stops: 1002's hold on pbx1 is lifted; 1001's hold on pbx2 is gone with pbx2
    assert holds.link_down("pbx2", T0 + 1) == [Lift("pbx1", "PJSIP/1002", "李", "pbx2")]
    assert holds.held() == []
    assert holds.apply("pbx1", called("a2"), T0 + 2) == []  # nothing is sent to a dead PBX
    # back up: her engagement on pbx1 holds her there again
    assert holds.link_up("pbx2", [], T0 + 3) == [Hold("pbx2", IFACE, "王芳", "pbx1")]


def test_a_hold_found_at_a_resync_is_lifted_when_nothing_engages_her() -> None:
    holds = Holds(["pbx1", "pbx2"])
    found = event("QueueMember", None, Queue="intake", Location=IFACE, Name="王芳", Paused="1",
                  PausedReason=hold_reason("pbx1"))  # fmt: skip
    assert holds.link_up("pbx2", [found], T0) == [Lift("pbx2", IFACE, "", "pbx1")]


def test_a_call_found_at_a_resync_holds_her_until_the_member_is_free() -> None:
    holds = Holds(["pbx1", "pbx2"])
    talking = event("QueueMember", None, Queue="intake", Location=IFACE, Name="王芳", Paused="0",
                    InCall="1", Status="2")  # fmt: skip
    assert holds.link_up("pbx1", [talking], T0) == [Hold("pbx2", IFACE, "王芳", "pbx1")]
    still = event("QueueMemberStatus", T0 + 1, Queue="intake", Interface=IFACE, InCall="1",
                  Status="2", Paused="0")  # fmt: skip
    assert holds.apply("pbx1", still, T0 + 1) == []
    free = event("QueueMemberStatus", T0 + 2, Queue="intake", Interface=IFACE, InCall="0",
                 Status="1", Paused="0")  # fmt: skip
    assert holds.apply("pbx1", free, T0 + 2) == [Lift("pbx2", IFACE, "王芳", "pbx1")]
