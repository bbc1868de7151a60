"""The records the controller stores when AMI and queue_log each saw part of a call: a
controller killed under load, Asterisk restarted under it, events late under saturation
(issue 17, found by bench/load.py with SIPp citizens and SIP agents).

The controller here is the real one (reducers, outbox, reconciler, history on SQLite);
only the AMI link and Redis are stand-ins: events are applied as the event loop applies
them, queue_log lines are handed to the reconciler as its tail hands them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aredis

from hotline.ami.client import AMIClient, Endpoint
from hotline.ami.message import Message
from hotline.calls.state import SOFTHANGUP_SHUTDOWN
from hotline.controller.core import Controller
from hotline.core.records import CallRecord, EndReason, Precision
from hotline.host.settings import Settings
from hotline.ivr.asterisk import SURVEY
from hotline.queuelog.parse import QueueLogEntry, parse_lines
from hotline.stores.history import History
from hotline.stores.live import MemoryLive
from tests.unit.controller.parts import CENTER, Clock
from tests.unit.core.events import event

UID = "1796619249.2557"  # a SIP caller's channel: the call id
AGENT = "agent2096"
T = 1_796_619_240  # the call's first queue_log second


def ms(second: int, extra: int = 0) -> int:
    return second * 1000 + extra


def lines(*texts: str) -> list[QueueLogEntry]:
    return [e for e in parse_lines(texts) if isinstance(e, QueueLogEntry)]


ENTERQUEUE = f"{T}|{UID}|intake|NONE|ENTERQUEUE||13800138000|1"
CONNECT = f"{T + 3}|{UID}|intake|{AGENT}|CONNECT|3|{T + 3}.2|0"


def completed(by: str, at: int) -> str:
    event_name = "COMPLETEAGENT" if by == "agent" else "COMPLETECALLER"
    return f"{at}|{UID}|intake|{AGENT}|{event_name}|3|{at - T - 3}|1"


def ivr(t: int) -> Message:
    return event(
        "UserEvent", t, UserEvent="HotlineIvr", Uniqueid=UID, Menu="entry", Line="12345",
        CallerIDNum="13800138000",
    )  # fmt: skip


def answered(t0: int) -> list[Message]:
    """The call up to its answer: IVR, queue, ring, connect (ms times from ``t0``)."""
    return [
        ivr(t0),
        event("QueueCallerJoin", t0 + 100, Uniqueid=UID, Queue="intake", Position="1"),
        event("AgentCalled", t0 + 200, Uniqueid=UID, Queue="intake", MemberName=AGENT),
        event("QueueCallerLeave", t0 + 3_150, Uniqueid=UID, Queue="intake"),
        event("AgentConnect", t0 + 3_160, Uniqueid=UID, Queue="intake", MemberName=AGENT),
    ]


def agent_complete(t: int, reason: str) -> Message:
    return event("AgentComplete", t, Uniqueid=UID, Queue="intake", MemberName=AGENT, Reason=reason)


def hangup(t: int) -> Message:
    return event("Hangup", t, Uniqueid=UID, Cause="16")


class Bed:
    """The controller on a history file; Redis never reached (the live store in memory)."""

    def __init__(self, tmp_path: Path, history: History) -> None:
        settings = Settings.from_env({"HOTLINE_RUN_DIR": str(tmp_path / "run")})
        self.history = history
        self.controller = Controller(
            settings, CENTER, client=AMIClient(Endpoint("127.0.0.1", 1, "u", "p")),
            redis=aredis.Redis.from_url("redis://127.0.0.1:1"), history=history,
            clock=Clock(ms(T + 60)),
        )  # fmt: skip
        self.controller.outbox.live = MemoryLive()

    def events(self, *events: Message) -> None:
        for e in events:
            self.controller.apply(e)

    def resync(self, channels: list[Message], now: int) -> None:
        """What Controller.resync does with CoreShowChannels (a controller just started)."""
        self.controller._calls(self.controller.calls.resync(channels, [], now=now))

    async def queue_log(self, *texts: str) -> None:
        await self.controller.reconciler.absorb(lines(*texts))

    async def stored(self) -> CallRecord:
        await self.controller.flush()
        await self.controller.reconciler.absorb([])  # its next pass (once a second)
        record = self.history.call(UID)
        assert record is not None
        return record


@pytest.fixture
def bed(tmp_path: Path, history: History) -> Bed:
    return Bed(tmp_path, history)


def in_the_survey(duration: str) -> Message:
    return event(
        "CoreShowChannel", None, Channel="PJSIP/sipp-00000a1b", Uniqueid=UID, Linkedid=UID,
        Context=SURVEY, Extension="s", Application="Read", ApplicationData="score",
        CallerIDNum="13800138000", Duration=duration,
    )  # fmt: skip


def test_a_caller_in_the_survey_after_a_restart_keeps_what_queue_log_proved(bed: Bed) -> None:
    """kill -9 of the controller mid-call, restarted 10 s later: it first reads the queue_log
    lines written meanwhile (ENTERQUEUE, CONNECT, COMPLETEAGENT: answered), then its first
    resync finds the caller still on the line, in the survey, and adopts the call with no
    queue part. The caller's hang-up must not replace the answered record with IVR_ONLY."""

    async def run() -> None:
        await bed.queue_log(ENTERQUEUE, CONNECT, completed("agent", T + 20))
        first = bed.history.call(UID)
        assert first is not None
        assert first.end_reason is EndReason.ANSWERED
        bed.resync([in_the_survey("00:00:35")], now=ms(T + 25, 613))
        assert UID in bed.controller.calls
        bed.events(hangup(ms(T + 31, 250)))
        record = await bed.stored()
        assert (record.end_reason, record.agent, record.t_answer, record.completed_by) == (
            EndReason.ANSWERED, AGENT, ms(T + 3), "agent")  # fmt: skip
        assert record.talk_end == ms(T + 20)
        assert record.t_end == ms(T + 31, 250)  # AMI saw the hang-up
        assert record.precision is Precision.SECOND

    asyncio.run(run())


def test_a_caller_adopted_at_resync_before_queue_log_is_read_gets_its_queue_part(
    bed: Bed,
) -> None:
    """The other order: the resync adopts the caller, the hang-up comes, then queue_log."""

    async def run() -> None:
        bed.resync([in_the_survey("00:00:35")], now=ms(T + 25, 613))
        bed.events(hangup(ms(T + 31, 250)))
        await bed.queue_log(ENTERQUEUE, CONNECT, completed("agent", T + 20))
        record = await bed.stored()
        assert (record.end_reason, record.agent, record.completed_by) == (
            EndReason.ANSWERED, AGENT, "agent")  # fmt: skip
        assert record.t_end == ms(T + 31, 250)

    asyncio.run(run())


@pytest.mark.parametrize("queue_log_first", [False, True])
def test_a_call_the_pbx_cut_off_gets_its_completion_from_queue_log(
    bed: Bed, queue_log_first: bool
) -> None:
    """Asterisk stopped under calls: the caller's channel is hung up by the shutdown
    (SoftHangupRequest Cause 4) and its Hangup reaches AMI, its AgentComplete does not
    (or after the Hangup); queue_log has COMPLETEAGENT at the shutdown second. The call is
    PBX_DOWN, with queue_log's completion and talk end (to the second)."""
    t0 = ms(T, 40)
    cut = ms(T + 12, 880)

    async def run() -> None:
        bed.events(*answered(t0))
        if queue_log_first:
            await bed.queue_log(ENTERQUEUE, CONNECT, completed("agent", T + 12))
        bed.events(
            event("SoftHangupRequest", cut, Uniqueid=UID, Cause=SOFTHANGUP_SHUTDOWN),
            hangup(cut + 5),
        )
        if not queue_log_first:
            await bed.queue_log(ENTERQUEUE, CONNECT, completed("agent", T + 12))
        record = await bed.stored()
        assert record.end_reason is EndReason.PBX_DOWN
        assert (record.completed_by, record.talk_end) == ("agent", ms(T + 12))
        assert (record.t_answer, record.t_end) == (t0 + 3_160, cut + 5)  # AMI's, to the ms
        assert record.precision is Precision.SECOND
        assert any("talk end from queue_log" in note for note in record.notes)

    asyncio.run(run())


def test_an_agent_complete_after_the_caller_s_hangup_completes_the_record(bed: Bed) -> None:
    """At 200 calls the caller's Hangup can reach AMI before app_queue's AgentComplete
    (published from its own stasis subscription); the late event completes the record, to
    the millisecond, whatever queue_log says after."""
    t0 = ms(T, 40)
    gone = ms(T + 15, 300)

    async def run() -> None:
        bed.events(*answered(t0))
        bed.events(event("HangupRequest", gone, Uniqueid=UID), hangup(gone + 2))
        bed.events(agent_complete(gone + 40, "caller"))
        await bed.queue_log(ENTERQUEUE, CONNECT, completed("caller", T + 15))
        record = await bed.stored()
        assert (record.end_reason, record.completed_by) == (EndReason.ANSWERED, "caller")
        assert record.talk_end == gone + 2  # not after the hang-up
        assert record.precision is Precision.MILLISECOND

    asyncio.run(run())


def test_an_agent_complete_that_never_came_is_taken_from_queue_log(bed: Bed) -> None:
    t0 = ms(T, 40)
    gone = ms(T + 15, 300)

    async def run() -> None:
        bed.events(*answered(t0))
        bed.events(event("HangupRequest", gone, Uniqueid=UID), hangup(gone + 2))
        await bed.queue_log(ENTERQUEUE, CONNECT, completed("caller", T + 15))
        record = await bed.stored()
        assert (record.end_reason, record.completed_by) == (EndReason.ANSWERED, "caller")
        assert record.talk_end == ms(T + 15)
        assert record.precision is Precision.SECOND

    asyncio.run(run())
