"""A PBX lost outright, then back: its calls end, and nothing is counted twice (issue 16).

Two real Asterisks (the bed's and a second one, as in test_multipbx.py) under one
controller with ``HOTLINE_PBX_LOST_S=3``. A citizen talks to an agent on PBX 2; PBX 2's
Asterisk is then frozen with SIGSTOP: no Hangup, no Shutdown, nothing at all, and the
controller's AMI link drops on its Ping timeout. What must hold:

- about 3 s after the link dropped the call is in the history as ``pbx_lost``, ended when
  PBX 2 was last heard (within a Ping interval of the freeze), gone from the live store;
  the agent is no longer shown talking, and her hold on PBX 1 was lifted;
- after SIGCONT the call is still up on PBX 2 (the Local channels' timers ran on): the
  controller reopens it (the same call id, in the live store again, the agent talking),
  and when the citizen hangs up, its true end replaces the lost record: the history has
  the call once, answered, with its end after the thaw;
- the default PBX (the bed's) frozen the same way with a caller waiting: the caller leaves
  the queue tile and is stored as lost, is back on the tile after the thaw, and ends once,
  as the abandon it was.

A frozen PBX is always thawed (SIGCONT) in a ``finally``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from hotline.ami.client import AMIClient
from hotline.ami.message import EventList
from hotline.calls.state import REOPENED_NOTE
from hotline.commands.plan import Command, Verb
from hotline.controller.core import Controller
from hotline.core.records import AgentStatus, EndReason
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.pbx import process
from hotline.pbx import runner as pbx
from hotline.stores.live import LiveStore
from tests.integration import bed
from tests.integration.test_multipbx import (
    Centre,
    add,
    centre_env,
    dial_as,
    fresh_centre,
    member_pause,
    second_pbx,
)
from tests.integration.waiting import until

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

__all__ = ["second_pbx"]  # the module's PBX 2 (a fixture)

AGENT = bed.member("8001")
LOST_S = 3
# the controller's links: a frozen peer is found within ping_interval + ping_timeout (2 s)


@pytest_asyncio.fixture
async def centre(
    ami: AMIClient, env: dict[str, str], second_pbx: Settings, redis_url: str, tmp_path: Path
) -> AsyncIterator[Centre]:
    settings = Settings.from_env(centre_env(env, second_pbx) | {"HOTLINE_PBX_LOST_S": str(LOST_S)})
    assert settings.pbx_lost_s == LOST_S
    async with fresh_centre(settings, second_pbx, redis_url, tmp_path) as running:
        yield running


async def stored(centre: Centre, call_id: str, reason: EndReason, within: float) -> None:
    """Wait until the history holds ``call_id`` ended with ``reason``."""
    deadline = time.monotonic() + within
    while True:
        await centre.controller.flush()
        record = centre.history.call(call_id)
        if record is not None and record.end_reason is reason:
            return
        assert time.monotonic() < deadline, f"{call_id}: {record}"
        await asyncio.sleep(0.1)


def talking(controller: Controller, agent: str) -> bool:
    view = controller.agents.view(agent)
    return view is not None and view.status is AgentStatus.TALKING


async def test_a_frozen_pbx_s_call_is_closed_then_reopened_not_doubled(
    centre: Centre, ami: AMIClient, second_pbx: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    controller, history = centre.controller, centre.history
    live = LiveStore(centre.redis)
    two = AMIClient(pbx.endpoint(second_pbx))
    await two.connect()
    await bed.reset(two)
    for client in (ami, two):
        await add(client, AGENT, "agent8001")
    uid = f"lost-{time.time_ns() % 10**9}-i"
    call_id = f"pbx2:{uid}"
    started = wall_ms()
    await dial_as(two, uid, "1-4", TALK="90", __AGENT_TALK="90")
    await until(lambda: (c := controller.calls.get(call_id)) is not None and c.t_answer, 20,
                "pbx2 answers")  # fmt: skip
    await until(lambda: talking(controller, "agent8001"), 5, "agent8001 talking on pbx2")
    await controller.flush()
    assert call_id in await live.docs("call")
    await two.close()  # the test's own link would time out too
    deadline = time.monotonic() + 5
    while await member_pause(ami, AGENT) != ("1", "hotline:held:pbx2"):
        assert time.monotonic() < deadline, await member_pause(ami, AGENT)
        await asyncio.sleep(0.05)

    asterisk = process.asterisk_pid(second_pbx.pbx_dir)
    assert asterisk is not None
    frozen_at = wall_ms()
    os.kill(asterisk, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        await stored(centre, call_id, EndReason.PBX_LOST, within=LOST_S + 8)
        closed_after = time.monotonic() - t0
        record = history.call(call_id)
        assert record is not None
        assert (record.pbx, record.agent) == ("pbx2", "agent8001")
        assert record.t_answer is not None
        assert record.t_end is not None
        # ended when pbx2 was last heard: a Ping reply at most ping_interval before the freeze
        assert frozen_at - 1_500 <= record.t_end <= frozen_at + 200, (frozen_at, record.t_end)
        assert any("last heard" in note for note in record.notes), record.notes
        assert call_id not in controller.calls
        await controller.flush()
        assert call_id not in await live.docs("call")  # off the live store and the wallboard
        assert not talking(controller, "agent8001")
        assert not controller.pbx_links_up()["pbx2"]
        assert (await member_pause(ami, AGENT))[0] == "0"  # the hold went with the link
    finally:
        os.kill(asterisk, signal.SIGCONT)
    thawed_at = wall_ms()

    # back: the call went on (its Local channels' Wait ran on); the resync reopens it
    await until(lambda: call_id in controller.calls, 15, "the call reopened")
    reopened_after = (wall_ms() - thawed_at) / 1000
    reopened = controller.calls.get(call_id)
    assert reopened is not None
    assert REOPENED_NOTE in reopened.notes
    assert reopened.t_answer == record.t_answer  # as AMI saw it, not guessed at the resync
    await until(lambda: talking(controller, "agent8001"), 5, "agent8001 talking again")
    await controller.flush()
    assert call_id in await live.docs("call")

    # the citizen hangs up: the true end replaces the lost record, under the same id
    hung_up = wall_ms()
    await hang_up_citizen(second_pbx, uid)
    await stored(centre, call_id, EndReason.ANSWERED, within=10)
    final = history.call(call_id)
    assert final is not None
    assert final.t_end is not None
    assert final.t_end >= hung_up >= thawed_at
    assert (final.agent, final.t_answer, final.pbx) == ("agent8001", record.t_answer, "pbx2")
    assert REOPENED_NOTE in final.notes
    # once in the history: no second call for the same citizen
    ours = [r for r in history.calls(since=started - 60_000) if r.pbx == "pbx2"]
    assert [r.call_id for r in ours] == [call_id], [(r.call_id, r.end_reason) for r in ours]
    await until(lambda: not talking(controller, "agent8001"), 5, "agent8001's call ended")
    with capsys.disabled():
        print(
            f"\nfrozen {(thawed_at - frozen_at) / 1000:.1f} s; closed as lost "
            f"{closed_after:.1f} s after the freeze, ended {frozen_at - record.t_end} ms "
            f"before it; {record.notes[-1]}; reopened {reopened_after:.2f} s after the thaw"
        )


async def test_the_default_pbx_frozen_with_a_caller_waiting(
    centre: Centre, ami: AMIClient, pbx_running: Settings, second_pbx: Settings
) -> None:
    """The default PBX's link is watched like any other: a caller waiting there when it
    freezes leaves the queue tile and is stored as lost (L), then, thawed, is reopened and
    ends once, as the abandon it was. Meanwhile an agent's pause goes to pbx2, whose events
    are her state, and pbx1 gets it at its resync."""
    controller, history = centre.controller, centre.history
    live = LiveStore(centre.redis)
    paused = {"Paused": "true", "Reason": "test"}  # nobody answers: the caller waits
    await ami.action(
        "QueueAdd", {"Queue": "intake", "Interface": AGENT, "MemberName": "agent8001", **paused}
    )
    uid = f"wait-{time.time_ns() % 10**9}-i"
    await dial_as(ami, uid, "1-4", TALK="90")

    def waiting() -> bool:
        view = controller.centre_queues.view("intake")
        return view is not None and any(w.uniqueid == uid for w in view.waiting)

    await until(waiting, 20, "the caller waits in intake on pbx1")
    # 王芳 logged in to labour on both PBXs (not intake: she must not take the caller)
    login = Command("in", Verb.LOGIN, "1001", "1001", queue="labour")
    assert (await controller.agent_actions.carry_out(login)).ok
    asterisk = process.asterisk_pid(pbx_running.pbx_dir)
    assert asterisk is not None
    frozen_at = wall_ms()
    os.kill(asterisk, signal.SIGSTOP)
    try:
        await stored(centre, uid, EndReason.PBX_LOST, within=LOST_S + 8)
        record = history.call(uid)
        assert record is not None
        assert (record.pbx, record.t_answer) == ("pbx1", None)
        assert record.t_end is not None
        assert frozen_at - 1_500 <= record.t_end <= frozen_at + 200
        assert not waiting()
        await controller.flush()
        assert uid not in await live.docs("call")
        # with pbx1 away she still goes to lunch: pbx2 takes it, and its events are her state
        meal = Command("meal", Verb.PAUSE, "1001", "1001", reason="meal")
        reply = await controller.agent_actions.carry_out(meal)
        assert reply.ok, reply.message
        assert "pbx1: the controller is not connected" in reply.message
        await until(lambda: her_pause(controller) == (True, "meal"), 5, "paused in the model")
        assert await labour_pause(second_pbx) == ("1", "meal")
    finally:
        os.kill(asterisk, signal.SIGCONT)
    # pbx1 missed the pause: its resync sets it as she is
    await until(lambda: controller.client.connected, 15, "pbx1's link back")
    deadline = time.monotonic() + 10
    while await labour_pause(pbx_running) != ("1", "meal"):
        assert time.monotonic() < deadline, await labour_pause(pbx_running)
        await asyncio.sleep(0.3)
    assert her_pause(controller) == (True, "meal")
    logout = Command("out", Verb.LOGOUT, "1001", "1001")
    assert (await controller.agent_actions.carry_out(logout)).ok
    await until(lambda: uid in controller.calls, 15, "the waiting caller reopened")
    await until(waiting, 5, "back on the intake tile")
    await hang_up_citizen(pbx_running, uid)
    await stored(centre, uid, EndReason.ABANDONED_IN_QUEUE, within=10)
    final = history.call(uid)
    assert final is not None
    assert REOPENED_NOTE in final.notes
    assert final.visits[0].t_enter == record.visits[0].t_enter  # to the ms, as AMI saw it
    row = history.connection.execute("SELECT COUNT(*) FROM calls WHERE linkedid LIKE ?",
                                     (f"{uid[:-2]}%",)).fetchone()  # fmt: skip
    assert row[0] == 1


async def hang_up_citizen(settings: Settings, uid: str) -> None:
    """The citizen of the Local call ``uid`` hangs up (its ``;2`` half, ``<uid>c``)."""
    client = AMIClient(pbx.endpoint(settings))
    await client.connect()
    try:
        channels = await client.action("CoreShowChannels")
        assert isinstance(channels, EventList)
        citizen = [c for c in channels.events if c.get("Uniqueid") == f"{uid[:-1]}c"]
        assert citizen, [c.get("Channel") for c in channels.events]
        await client.action("Hangup", {"Channel": citizen[0].get("Channel") or "", "Cause": "16"})
    finally:
        await client.close()


def her_pause(controller: Controller) -> tuple[bool, str]:
    """王芳's pause in labour as the agents' model has it."""
    view = controller.agents.view("王芳")
    assert view is not None
    (labour,) = [m for m in view.memberships if m.queue == "labour"]
    return labour.paused, labour.reason


async def labour_pause(settings: Settings) -> tuple[str, str]:
    """(Paused, PausedReason) of PJSIP/1001 in labour on this PBX, as it says."""
    client = AMIClient(pbx.endpoint(settings))
    await client.connect()
    try:
        status = await client.action("QueueStatus", {"Queue": "labour"})
    finally:
        await client.close()
    assert isinstance(status, EventList)
    found = [m for m in status.events
             if m.name == "QueueMember" and m.get("Location") == "PJSIP/1001"]  # fmt: skip
    assert found, "PJSIP/1001 is not in labour"
    return found[0].get("Paused") or "", found[0].get("PausedReason") or ""
