"""Recall on the real PBX: a SIPp citizen gives up in the queue and becomes a recall task;
the controller rings the agent's softphone (baresip) and then the citizen through the
carrier trunk (a SIPp carrier in its own network namespace, as in test_trunk.py); the
attempt's outcome and its recording (per leg) are stored.

A private PBX with an ``ip`` trunk, its own Redis and an in-process controller.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
import pytest_asyncio

from hotline.ami.client import AMIClient
from hotline.center.config import load_center
from hotline.commands import bus
from hotline.commands.plan import Command, Verb
from hotline.core.records import EndReason
from hotline.host.settings import DEFAULT_CENTER as CENTER_FILE
from hotline.ivr.model import routes
from hotline.pbx import install
from hotline.recall.rules import RecallRules
from hotline.recall.tasks import Origin, Outcome, State
from hotline.recordings.leg import Leg
from hotline.stores import redis_server
from hotline.stores.recall import RecallStore
from tests.integration import bed, sip, waiting
from tests.integration.softphone import Softphone, speech
from tests.integration.test_controller import Running, controller_on
from tests.integration.test_trunk import (
    CALLER_ID,
    Carrier,
    carrier_pbx,
    clean_pbx,
    fill,
)
from tests.integration.waiting import rms
from tests.unit.recall.scene import call

pytestmark = pytest.mark.asyncio
# the checks read the history or a store: in a thread
until = partial(waiting.until, in_thread=True, every=0.3)
CITIZEN = "13800000001"


@pytest.fixture(scope="module")
def carrier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Carrier]:
    """A PBX with an ip trunk to a SIPp carrier, and a Redis of its own."""
    with carrier_pbx("ip", tmp_path_factory.mktemp("recall"), "rcl") as server:
        redis_server.start(server.settings)
        try:
            yield server
        finally:
            redis_server.stop(server.settings)


@pytest_asyncio.fixture
async def ami(carrier: Carrier) -> AsyncIterator[AMIClient]:
    """A clean PBX; no ERROR logged by Asterisk during the test."""
    async with clean_pbx(carrier.settings) as client:
        yield client


@pytest_asyncio.fixture
async def running(carrier: Carrier, ami: AMIClient, tmp_path: Path) -> AsyncIterator[Running]:
    async with controller_on(carrier.settings, redis_server.url(carrier.settings), tmp_path) as run:
        yield run


def rules(carrier: Carrier) -> RecallRules:
    return load_center(carrier.settings.center.read_text(encoding="utf-8")).recall


async def dial(run: Running, task: int, agent: str = "1001") -> bus.Reply:
    command = Command(id=uuid.uuid4().hex, verb=Verb.RECALL, agent=agent, actor="王芳",
                      task=str(task))  # fmt: skip
    return await bus.send(run.redis, command, timeout=10)


async def test_a_caller_who_gave_up_is_called_back_through_the_trunk_and_recorded(
    carrier: Carrier, ami: AMIClient, running: Running, tmp_path: Path
) -> None:
    settings = carrier.settings
    flow = install.read_flow(settings.flow)[0]
    route = next(r for r in routes(flow) if "".join(r.digits) == "122")
    assert route.queue is not None
    await bed.add_members(ami, [route.queue], paused=True)  # nobody answers: the caller waits
    # the citizen calls the DID, chooses the queue, waits ~15 s and hangs up
    scenario = sip.write_scenario(
        sip.Caller(CITIZEN, sip.DtmfMode.RFC4733), "122", tmp_path / "in", sip.Timing(hold=15000)
    )
    await carrier.sipp(scenario, service=carrier.did, timeout=60)
    missed = await until(
        lambda: [c for c in running.history.calls() if c.caller == CITIZEN and c.done],
        20, "stored call",
    )  # fmt: skip
    assert [c.end_reason for c in missed] == [EndReason.ABANDONED_IN_QUEUE]
    store = RecallStore.open(running.history_path)
    try:
        store.sync(running.history, rules(carrier), int(time.time() * 1000))
        (task,) = store.tasks(State.OPEN)
        assert (task.number, task.calls, task.queue) == (CITIZEN, (missed[0].call_id,), route.queue)

        # the agent answers the recall on a softphone and speaks; the citizen answers
        agent_audio = speech(
            tmp_path / "agent.wav", "您好，这里是一二三四五热线，给您回电话。", pad=3
        )
        uas = fill("trunk_uas.xml", tmp_path / "out", NUMBER=CITIZEN, CALLER_ID=CALLER_ID,
                   HOLD_MS="30000", CHALLENGE="", VERIFY="", VERIFY_TEST="")  # fmt: skip
        citizen = asyncio.create_task(carrier.sipp(uas, service="", timeout=45))
        with Softphone(settings, "1001", tmp_path / "baresip", agent_audio) as phone:
            await carrier.listening()
            reply = await dial(running, task.id)
            assert reply.ok, reply.message
            attempts = await until(lambda: store.attempts(task.id), 40, "attempt")
            why = phone.tail()
        run = await citizen
        assert run.returncode == 0, run.report()  # the number and the centre's caller ID
        (attempt,) = attempts
        assert (attempt.outcome, attempt.agent) == (Outcome.REACHED, "王芳"), why
        done = store.task(task.id)
        assert done is not None
        assert (done.state, done.outcome, done.attempts) == (State.DONE, Outcome.REACHED, 1)
        # recorded per leg under the agent channel's uniqueid; the agent's leg has speech
        legs = await until(lambda: running.history.recordings(attempt.call_id), 20, "legs")
        by_leg = {r.leg: r for r in legs}
        assert set(by_leg) == {Leg.CALLER, Leg.AGENT}, legs
        assert by_leg[Leg.AGENT].duration_ms > 2000, legs
        assert rms(by_leg[Leg.AGENT].path) > 0.01  # the agent's words
        assert rms(by_leg[Leg.CALLER].path) < rms(by_leg[Leg.AGENT].path)  # SIPp sent none
    finally:
        store.close()


@pytest.mark.parametrize(
    ("code", "reason", "outcome"),
    [(486, "Busy Here", Outcome.BUSY), (404, "Not Found", Outcome.INVALID)],
)
async def test_a_busy_or_invalid_number_is_stored_as_such(
    carrier: Carrier, running: Running, tmp_path: Path, code: int, reason: str,
    outcome: Outcome,
) -> None:  # fmt: skip
    number = "13900000002"
    record = call("busy-1", number, int(time.time() * 1000) - 120_000, 30_000,
                  EndReason.TIMEOUT)  # fmt: skip
    running.history.save_calls([replace(record, call_id=f"missed-{code}")])
    store = RecallStore.open(running.history_path)
    try:
        store.sync(running.history, rules(carrier), int(time.time() * 1000))
        (task,) = store.tasks(State.OPEN)
        silence = speech(tmp_path / "agent.wav", "喂", pad=8)
        refuse = fill("trunk_reject.xml", tmp_path, CODE=str(code), REASON=reason)
        carrier_run = asyncio.create_task(carrier.sipp(refuse, service="", timeout=30))
        with Softphone(carrier.settings, "1001", tmp_path / "baresip", silence):
            await carrier.listening()
            reply = await dial(running, task.id)
            assert reply.ok, reply.message
            (attempt,) = await until(lambda: store.attempts(task.id), 30, "attempt")
        await carrier_run
        assert attempt.outcome is outcome
        after = store.task(task.id)
        assert after is not None
        if outcome is Outcome.BUSY:  # tried again after the configured wait
            assert (after.state, after.attempts) == (State.OPEN, 1)
            assert after.t_next == attempt.t_end + rules(carrier).retry_ms[0]
        else:  # no such number: not tried again
            assert (after.state, after.outcome) == (State.EXPIRED, Outcome.INVALID)
    finally:
        store.close()


async def test_an_agent_whose_phone_is_not_registered_is_not_rung(
    carrier: Carrier, running: Running
) -> None:
    record = call("m-unreg", "13700000003", int(time.time() * 1000) - 120_000, 30_000,
                  EndReason.TIMEOUT)  # fmt: skip
    running.history.save_calls([record])
    store = RecallStore.open(running.history_path)
    try:
        store.sync(running.history, rules(carrier), int(time.time() * 1000))
        (task,) = store.tasks(State.OPEN)
        reply = await dial(running, task.id, agent="1002")  # no softphone registered
        assert not reply.ok
        assert reply.message.endswith("李娜's phone is not registered")
        assert store.attempts(task.id) == []
    finally:
        store.close()


async def test_a_callback_keeps_its_place_and_goes_to_the_next_free_agent(
    carrier: Carrier, ami: AMIClient, running: Running, tmp_path: Path
) -> None:
    """Virtual hold: nobody serves intake, so the citizen's request becomes a callback;
    when 王芳 logs in and is free, nobody waits ahead of it: the controller rings her and
    then the citizen, and reports the wait on hold the citizen was spared."""
    settings = carrier.settings
    scenario = sip.write_scenario(
        sip.Caller(CITIZEN, sip.DtmfMode.RFC4733), "14", tmp_path / "in", sip.Timing(hold=8000)
    )
    await carrier.sipp(scenario, service=carrier.did, timeout=60)
    asked = await until(
        lambda: [c for c in running.history.calls() if c.caller == CITIZEN and c.done],
        20, "stored call",
    )  # fmt: skip
    assert [c.end_reason for c in asked] == [EndReason.CALLBACK], asked
    recaller = running.controller.recaller
    assert (await recaller.sync_now())["new"] == 1
    (task,) = recaller.store.tasks(State.OPEN)
    assert (task.origin, task.queue, task.number) == (Origin.CALLBACK, "intake", CITIZEN)
    assert task.t_place == asked[0].visits[-1].t_enter
    agent_audio = speech(tmp_path / "agent.wav", "您好，您要的回电来了。", pad=3)
    uas = fill("trunk_uas.xml", tmp_path / "out", NUMBER=CITIZEN, CALLER_ID=CALLER_ID,
               HOLD_MS="30000", CHALLENGE="", VERIFY="", VERIFY_TEST="")  # fmt: skip
    citizen = asyncio.create_task(carrier.sipp(uas, service="", timeout=45))
    with Softphone(settings, "1001", tmp_path / "baresip", agent_audio):
        await carrier.listening()
        login = Command(id=uuid.uuid4().hex, verb=Verb.LOGIN, agent="1001", actor="王芳",
                        queue="intake")  # fmt: skip
        assert (await bus.send(running.redis, login, timeout=10)).ok
        (attempt,) = await until(lambda: recaller.store.attempts(task.id), 40, "attempt")
    run = await citizen
    assert run.returncode == 0, run.report()
    assert (attempt.outcome, attempt.agent) == (Outcome.REACHED, "王芳")
    done = recaller.store.task(task.id)
    assert done is not None
    assert (done.state, done.outcome) == (State.DONE, Outcome.REACHED)
    assert done.spared_ms is not None
    assert done.spared_ms == attempt.t_start - task.t_first
    assert done.spared_ms > 500  # from pressing for it to the agent's phone ringing


def closed_order(db: Path, phone: str) -> str:
    """An order taken from a citizen, handled by a department and closed: waiting for 回访."""
    from hotline.casework.desk import Desk
    from hotline.orders.machine import Step
    from hotline.orders.model import Action, Actor, OrderType, Side
    from hotline.stores.orders import OrderStore

    center = load_center(CENTER_FILE.read_text(encoding="utf-8"))
    store = OrderStore.open(db)
    desk = Desk(store, center.orders)
    centre, dept = Actor("banzhang01", Side.CENTRE), Actor("zhujian01", Side.DEPARTMENT, "housing")
    now = int(time.time() * 1000)
    try:
        order = desk.create(Actor("wangfang", Side.INTAKE), OrderType.HELP, "供水", "楼道漏水",
                            now=now, phone=phone).order  # fmt: skip
        desk.dispatch(centre, order.id, "housing", now=now + 1)
        desk.act(dept, order.id, Step(Action.SIGN, dept, now + 2))
        desk.act(dept, order.id, Step(Action.REPLY, dept, now + 3, text="已修复", contact="电话"))
        desk.act(dept, order.id, Step(Action.FINISH, dept, now + 4, text="维修单"))
        desk.review(centre, order.id, True, why="证据充分", now=now + 5)
        return order.id
    finally:
        store.close()


@pytest.mark.parametrize(
    ("keys", "resolved", "rating"), [("14", True, "满意"), ("22", False, "不满意")]
)
async def test_a_visit_call_asks_the_citizen_and_records_the_rating_on_the_order(
    carrier: Carrier, running: Running, tmp_path: Path, keys: str, resolved: bool, rating: str
) -> None:
    from hotline.stores.orders import OrderStore

    order_id = closed_order(running.history_path, CITIZEN)
    # a stream per key (its own SSRC): a second stream restarting its sequence numbers
    # under the first one's SSRC is dropped by Asterisk as old packets
    first, second = (
        str(sip.write_dtmf_pcap(tmp_path / f"key{n}.pcap", key, event_pt=101, ssrc=0x4B455900 + n))
        for n, key in enumerate(keys)
    )
    scenario = fill("trunk_uas_keys.xml", tmp_path, NUMBER=CITIZEN, CALLER_ID=CALLER_ID,
                    HOLD_MS="30000", FIRST=first, SECOND=second)  # fmt: skip
    citizen = asyncio.create_task(carrier.sipp(scenario, service="", timeout=45))
    await carrier.listening()
    command = Command(id=uuid.uuid4().hex, verb=Verb.VISIT, agent="", actor="banzhang01",
                      task=order_id)  # fmt: skip
    reply = await bus.send(running.redis, command, timeout=10)
    assert reply.ok, reply.message
    store = OrderStore.open(running.history_path)
    try:
        rated = await until(
            lambda: (o := store.order(order_id)).state.value == "评价" and o, 40, "评价"
        )
        run = await citizen
        assert run.returncode == 0, run.report()
        assert (rated.last_resolved, rated.last_rating.value) == (resolved, rating)  # type: ignore[union-attr]
        last = store.timeline(order_id)[-1]
        assert last.user == "ivr-visit"
        assert f"评分 {keys[1]}/5" in last.text
    finally:
        store.close()
    again = await bus.send(running.redis, command, timeout=10)
    assert not again.ok
    assert "回访 follows 办结" in again.message
