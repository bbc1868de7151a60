"""The controller with a PBX lost outright: its calls are closed in the history and leave
the live store, its agents stop talking, its callers leave the tiles; a call it comes
back with is reopened and stored once, under its id, with its true end (issue 16).

The controller is the real one (reducers, outbox, reconciler, history on SQLite, the
live store in memory); the AMI links are stand-ins whose state the test sets (up, how
long quiet, how long down), as the controller's ticker reads them once a second.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aredis

from hotline.agents.state import PBX_BACK, PBX_LOST
from hotline.ami.client import AMIClient, Endpoint
from hotline.ami.message import Message
from hotline.calls.namespace import Namespace
from hotline.controller.core import Controller
from hotline.core.records import AgentStatus, CallRecord, EndReason
from hotline.host.settings import Settings
from hotline.ivr.asterisk import ENTRY
from hotline.stores.history import History
from hotline.stores.live import MemoryLive
from tests.unit.controller.parts import CENTER, Clock
from tests.unit.core.events import T0, event, member

AGENT = "王芳"
LOST_S = 3
PBX2 = Namespace("pbx2", qualified=True)
ENV = {
    "HOTLINE_PBXS": "pbx2",
    "HOTLINE_PBX_PBX2_AMI_HOST": "127.0.0.1",
    "HOTLINE_PBX_PBX2_AMI_SECRET": "x",
    "HOTLINE_PBX_PBX2_QUEUE_LOG": "/nonexistent/queue_log",
    "HOTLINE_PBX_PBX2_RECORDINGS": "/nonexistent/recordings",
    "HOTLINE_PBX_LOST_S": str(LOST_S),
}


class Link:
    """A PBX's AMI link as the lost-PBX watch reads it."""

    def __init__(self) -> None:
        self.connected = True
        self.quiet = 0.2
        self.down = 0.0

    def quiet_s(self) -> float:
        return self.quiet

    def down_s(self) -> float:
        return self.down


class Bed:
    def __init__(self, tmp_path: Path, history: History) -> None:
        settings = Settings.from_env({"HOTLINE_RUN_DIR": str(tmp_path / "run"), **ENV})
        self.history = history
        self.clock = Clock(T0)
        nowhere = Endpoint("127.0.0.1", 1, "u", "p")
        self.controller = Controller(
            settings, CENTER, client=AMIClient(nowhere), others={"pbx2": AMIClient(nowhere)},
            redis=aredis.Redis.from_url("redis://127.0.0.1:1"), history=history,
            clock=self.clock,
        )  # fmt: skip
        self.live = MemoryLive()
        self.controller.outbox.live = self.live

        async def remember(agents: set[str]) -> None:  # her queues, kept in Redis: not here
            return None

        self.controller.outbox.remember = remember
        self.links = {"pbx1": Link(), "pbx2": Link()}
        self.controller.lost.links = dict(self.links)

    def events(self, pbx: str, *events: Message) -> None:
        for e in events:
            self.controller.apply_from(pbx, e)

    def tick(self, at: int) -> None:
        """The ticker's look at the links, at ``at`` ms."""
        self.clock.now = at
        self.controller._close_lost(at)

    def drop(self, pbx: str, *, heard_ago_s: float) -> None:
        """The link of ``pbx`` dropped just now; the PBX was last heard that long ago."""
        link = self.links[pbx]
        link.connected, link.quiet, link.down = False, heard_ago_s, 0.0

    def stored(self, call_id: str) -> CallRecord:
        asyncio.run(self.controller.flush())
        record = self.history.call(call_id)
        assert record is not None, call_id
        return record

    def rows(self, call_id: str) -> int:
        row = self.history.connection.execute(
            "SELECT COUNT(*) FROM calls WHERE call_id = ?", (call_id,)
        ).fetchone()
        return int(row[0])

    def status(self) -> AgentStatus:
        view = self.controller.agents.view(AGENT)
        assert view is not None
        return view.status

    def live_calls(self) -> set[str]:
        return set(asyncio.run(self.live.docs("call")))


@pytest.fixture
def bed(tmp_path: Path, history: History) -> Bed:
    return Bed(tmp_path, history)


def a_call(uid: str, t0: int, *, answer: bool = True) -> list[Message]:
    out = [
        event("UserEvent", t0, UserEvent="HotlineIvr", Uniqueid=uid, Menu="entry", Line="12345",
              CallerIDNum="13800138000"),
        event("UserEvent", t0 + 100, UserEvent="HotlineRecording", Uniqueid=uid,
              File=f"/srv/hotline/spool/recordings/2026/12/07/{uid}"),
        event("UserEvent", t0 + 2_000, UserEvent="HotlineQueue", Uniqueid=uid, Tag="labour",
              Path="1"),
        event("QueueCallerJoin", t0 + 2_100, Uniqueid=uid, Queue="intake", Position="1"),
    ]  # fmt: skip
    if answer:
        out += [
            event("AgentCalled", t0 + 2_200, Uniqueid=uid, Queue="intake", MemberName=AGENT),
            event("QueueCallerLeave", t0 + 6_150, Uniqueid=uid, Queue="intake"),
            event("AgentConnect", t0 + 6_160, Uniqueid=uid, Queue="intake", MemberName=AGENT),
        ]  # fmt: skip
    return out


def bridged(uid: str) -> Message:
    return event(
        "CoreShowChannel", None, Channel="Local/12345@hotline-ivr-00000001;2", Uniqueid=uid,
        Linkedid=uid, Context=ENTRY, Application="Queue", ApplicationData="intake,,,,600",
        BridgeId="b-1", CallerIDNum="13800138000", Duration="00:01:40",
    )  # fmt: skip


@pytest.mark.parametrize("pbx", ["pbx2", "pbx1"])
def test_a_lost_pbx_s_calls_end_and_one_it_comes_back_with_is_stored_once(
    bed: Bed, pbx: str
) -> None:
    """pbx2, and the default PBX too: the same rule for every link."""
    ns = PBX2 if pbx == "pbx2" else bed.controller.namespace
    talk, wait = ns.call_id("7.1"), ns.call_id("7.2")
    bed.events("pbx1", member("QueueMemberAdded", T0 - 1_000, agent=AGENT, queue="intake"))
    bed.events(pbx, *a_call("7.1", T0), *a_call("7.2", T0 + 1_000, answer=False))
    bed.tick(T0 + 10_000)  # both links up
    asyncio.run(bed.controller.flush())
    assert {talk, wait} <= bed.live_calls()
    assert bed.status() is AgentStatus.TALKING

    # frozen: the Ping goes unanswered; the link drops 6.5 s after the PBX was last heard
    bed.drop(pbx, heard_ago_s=6.5)
    bed.tick(T0 + 20_000)
    bed.links[pbx].down, bed.links[pbx].quiet = 2.9, 9.4
    bed.tick(T0 + 22_900)  # 2.9 s down: not yet lost
    assert bed.history.call(talk) is None
    bed.links[pbx].down, bed.links[pbx].quiet = LOST_S, 9.5
    bed.tick(T0 + 23_000)
    heard = T0 + 20_000 - 6_500
    record = bed.stored(talk)
    assert (record.pbx, record.end_reason, record.t_end) == (pbx, EndReason.PBX_LOST, heard)
    assert (record.agent, record.t_answer, record.talk_end) == (AGENT, T0 + 6_160, None)
    assert any("last heard 6500 ms before its link dropped" in n for n in record.notes)
    waited = bed.stored(wait)
    assert (waited.end_reason, waited.t_end, waited.t_answer) == (EndReason.PBX_LOST, heard, None)
    assert not {talk, wait} & bed.live_calls()  # off the live store and the wallboard
    tile = bed.controller.centre_queues.view("intake")
    assert tile is None or not any(w.uniqueid == wait for w in tile.waiting)
    assert bed.status() is not AgentStatus.TALKING
    assert any(c.note == PBX_LOST and c.call_id == talk for c in bed.history.journal())
    # its legs are left for its true end: the PBX may still be writing them
    recorder = bed.controller._side_of(talk)[2]
    assert not recorder.in_hand(talk)
    assert talk in bed.controller.calls.unsettled  # and the sweep keeps off them
    bed.tick(T0 + 30_000)  # lost once: nothing more
    assert bed.controller.lost.closed == 2

    # back: the resync finds the answered call still up, the waiting caller gone
    bed.links[pbx].connected = True
    bed.tick(T0 + 100_000)
    channels = [ns.event(bridged("7.1"))]
    bed.controller._calls(bed.controller.calls.resync(channels, [], now=T0 + 100_000, owns=ns.owns))
    asyncio.run(bed.controller.flush())
    assert talk in bed.live_calls()
    assert wait not in bed.live_calls()
    assert bed.status() is AgentStatus.TALKING
    assert any(c.note == PBX_BACK and c.call_id == talk for c in bed.history.journal())
    still_lost = bed.stored(talk)  # the history keeps the presumed end until the true one
    assert still_lost.end_reason is EndReason.PBX_LOST
    bed.events(
        pbx,
        event("AgentComplete", T0 + 130_000, Uniqueid="7.1", Queue="intake", MemberName=AGENT,
              Reason="caller"),
        event("Hangup", T0 + 130_010, Uniqueid="7.1", Cause="16"),
    )  # fmt: skip
    final = bed.stored(talk)
    assert (final.end_reason, final.t_end, final.talk_end) == (
        EndReason.ANSWERED, T0 + 130_010, T0 + 130_000,
    )  # fmt: skip
    assert (final.t_arrival, final.t_answer, final.ivr_path) == (T0, T0 + 6_160, "1")
    assert (bed.rows(talk), bed.rows(wait)) == (1, 1)  # once each: not a second call
    assert talk not in bed.live_calls()
    assert recorder.in_hand(talk)  # now its legs are closed: catalogued
    assert bed.status() is not AgentStatus.TALKING
    stayed = bed.stored(wait)
    assert (stayed.end_reason, stayed.t_end) == (EndReason.PBX_LOST, heard)


def test_a_link_back_before_the_lost_time_closes_nothing(bed: Bed) -> None:
    bed.events("pbx2", *a_call("8.1", T0))
    bed.tick(T0 + 10_000)
    bed.drop("pbx2", heard_ago_s=6.0)
    bed.tick(T0 + 11_000)
    bed.links["pbx2"].connected = True
    bed.tick(T0 + 12_000)
    bed.drop("pbx2", heard_ago_s=6.0)
    bed.tick(T0 + 13_000)
    bed.links["pbx2"].down = 2.0
    bed.tick(T0 + 15_000)  # 4 s after the first drop, 2 s after the second
    assert "pbx2:8.1" in bed.controller.calls
    assert bed.controller.lost.closed == 0
