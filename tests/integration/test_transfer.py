"""Transfers on the real PBX, through the running controller (the bus, as ``hotline transfer``
sends them): a citizen's call answered by 王芳 (baresip 1001) goes blind to another queue
(李娜, baresip 1002, answers there), blind to a department's duty line through the trunk (a
SIPp carrier in its own namespace, as in test_trunk.py), attended to 李娜's extension, and
three-way with 李娜 (三方通话). Each kind is checked where it matters: one call in the
history with its queue visits, queue_log's transfer line, the legs on disk with audio in
them (sox), and the metrics counting the call once, answered by the first agent.

Each party speaks its own tone: the citizen 400 Hz, 王芳 1000 Hz, 李娜 1600 Hz.

One PBX with an ``ip`` trunk, its Redis and the two softphones for the whole module.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path

import pytest
import pytest_asyncio

from hotline.ami.client import AMIClient
from hotline.cli import transfer as cli
from hotline.cli.common import CLIError
from hotline.commands import bus
from hotline.commands.plan import Command, Verb
from hotline.core.records import CallRecord, EndReason
from hotline.metrics.populations import Population
from hotline.metrics.report import compute
from hotline.recordings.leg import Leg
from hotline.stores import redis_server
from hotline.web.accounts import Accounts
from hotline.web.roles import Role
from tests.integration import bed, waiting
from tests.integration.softphone import Softphone
from tests.integration.test_controller import Running, controller_on
from tests.integration.test_ivr_calls import dial
from tests.integration.test_supervise import AGENT_HZ, CITIZEN_HZ, HEARD, share, tone
from tests.integration.test_trunk import CALLER_ID, Carrier, carrier_pbx, clean_pbx, fill
from tests.integration.waiting import rms

pytestmark = pytest.mark.asyncio
# the checks read the history or a store: in a thread
until = partial(waiting.until, in_thread=True, every=0.3)
SECOND_HZ = 1600
DUTY = "01065550101"  # housing's duty line in the bundled center.yaml


@pytest.fixture(scope="module")
def carrier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Carrier]:
    with carrier_pbx("ip", tmp_path_factory.mktemp("transfer"), "tfr") as server:
        redis_server.start(server.settings)
        try:
            yield server
        finally:
            redis_server.stop(server.settings)


@pytest.fixture(scope="module")
def phones(
    carrier: Carrier, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Softphone, Softphone]]:
    home = tmp_path_factory.mktemp("phones")
    wang = tone(home / "wang.wav", AGENT_HZ, 280)
    li = tone(home / "li.wav", SECOND_HZ, 280)
    with (
        Softphone(carrier.settings, "1001", home / "1001", wang) as first,
        Softphone(carrier.settings, "1002", home / "1002", li) as second,
    ):
        yield first, second


@pytest_asyncio.fixture
async def ami(carrier: Carrier) -> AsyncIterator[AMIClient]:
    async with clean_pbx(carrier.settings) as client:
        yield client


@pytest_asyncio.fixture
async def running(
    carrier: Carrier, ami: AMIClient, phones: tuple[Softphone, Softphone], tmp_path: Path
) -> AsyncIterator[Running]:
    for queue, ext, name in (("intake", "1001", "王芳"), ("property", "1002", "李娜")):
        await ami.action(
            "QueueAdd",
            {"Queue": queue, "Interface": f"PJSIP/{ext}", "MemberName": name,
             "StateInterface": f"PJSIP/{ext}"},
        )  # fmt: skip
    async with controller_on(carrier.settings, redis_server.url(carrier.settings), tmp_path) as run:
        yield run


async def answered_by(ami: AMIClient, carrier: Carrier, talk: int) -> tuple[str, object]:
    """A citizen's call (speaking 400 Hz for ``talk`` s) answered by 王芳 in intake."""
    spool = carrier.settings.pbx_dir / "spool"
    tone(spool / "test-citizen-tone.wav", CITIZEN_HZ, talk)
    connects = ami.subscribe("AgentConnect")
    uid = await dial(
        ami, "1-0", SPEECH="/srv/hotline/spool/test-citizen-tone", WAIT_BRIDGE="1", TALK="1"
    )
    while (await connects.get(timeout=40)).get("MemberName") != "王芳":
        pass
    await asyncio.sleep(3)  # they talk a little first
    return uid, connects


async def transfer(run: Running, call: str, to: str, mode: str = "blind") -> bus.Reply:
    command = Command(
        id=uuid.uuid4().hex, verb=Verb.TRANSFER, agent="王芳", actor="banzhang01",
        supervisor=True, mode=mode, call=call, target=to,
    )  # fmt: skip
    return await bus.send(run.redis, command, timeout=15)


def ended(run: Running, call: str) -> CallRecord | None:
    return next((c for c in run.history.calls() if c.call_id == call and c.done), None)


def queue_log(carrier: Carrier, call: str) -> list[list[str]]:
    text = (carrier.settings.pbx_dir / "log" / "queue_log").read_text(errors="replace")
    return [line.split("|") for line in text.splitlines() if f"|{call}|" in line]


def counted_once(record: CallRecord) -> None:
    counts = compute([record]).total.counts
    assert (counts[Population.R], counts[Population.A]) == (1, 1), counts


async def legs(run: Running, call: str) -> dict[Leg, Path]:
    """The call's legs as catalogued (the recording follows the call: one pair)."""
    got = await until(lambda: len(run.history.recordings(call)) >= 2, 30, "catalogued legs")
    assert got
    recordings = run.history.recordings(call)
    assert sorted(r.leg.value for r in recordings) == ["rx", "tx"], recordings
    return {r.leg: Path(r.path) for r in recordings}


async def test_a_blind_transfer_to_another_queue_is_one_call_with_two_visits(
    carrier: Carrier, ami: AMIClient, running: Running
) -> None:
    uid, connects = await answered_by(ami, carrier, 20)
    reply = await transfer(running, uid, "property")
    assert reply.ok, reply.message
    while (await connects.get(timeout=40)).get("MemberName") != "李娜":  # type: ignore[attr-defined]
        pass
    record = await until(lambda: ended(running, uid), 60, "ended call")
    assert record.end_reason is EndReason.ANSWERED
    assert [(v.queue, v.outcome) for v in record.visits] == [("intake", "CONNECT"),
                                                             ("property", "CONNECT")]  # fmt: skip
    assert record.agent == "李娜"
    assert any(n.startswith("transfer blind to queue property by banzhang01") for n in record.notes)
    assert any(n == "transferred from 王芳 to 李娜" for n in record.notes)
    assert [ring.agent for ring in record.rings if ring.answered] == ["王芳", "李娜"]
    counted_once(record)
    kinds = [line[4] for line in queue_log(carrier, uid)]
    assert "BLINDTRANSFER" in kinds, kinds
    assert "COMPLETECALLER" not in kinds[: kinds.index("BLINDTRANSFER")], kinds
    assert kinds.count("CONNECT") == 2, kinds
    files = await legs(running, uid)
    tx = files[Leg.AGENT]  # what the citizen heard
    assert share(tx, AGENT_HZ) > HEARD, files
    assert share(tx, SECOND_HZ) > HEARD, files


async def test_a_blind_transfer_to_a_department_goes_out_through_the_trunk(
    carrier: Carrier, ami: AMIClient, running: Running, tmp_path: Path
) -> None:
    scenario = fill("trunk_uas.xml", tmp_path, NUMBER=DUTY, CALLER_ID=CALLER_ID,
                    HOLD_MS="30000", CHALLENGE="", VERIFY="", VERIFY_TEST="")  # fmt: skip
    uas = asyncio.create_task(carrier.sipp(scenario, service="", timeout=60))
    await carrier.listening()
    uid, _ = await answered_by(ami, carrier, 12)
    reply = await transfer(running, uid, "住建局")
    assert reply.ok, reply.message
    run = await uas
    assert run.returncode == 0, run.report()  # the duty number, the centre's caller ID
    record = await until(lambda: ended(running, uid), 60, "ended call")
    assert record.end_reason is EndReason.ANSWERED
    assert (record.agent, record.completed_by) == ("王芳", "transfer")
    assert [(v.queue, v.outcome) for v in record.visits] == [("intake", "CONNECT")]
    assert any("to department housing" in n for n in record.notes), record.notes
    assert record.t_end is not None
    assert record.talk_end is not None
    assert record.t_end - record.talk_end > 3_000  # the citizen talked on with the department
    counted_once(record)
    kinds = [line[4] for line in queue_log(carrier, uid)]
    print("department:", kinds)
    assert "BLINDTRANSFER" in kinds, kinds
    files = await legs(running, uid)
    assert rms(files[Leg.CALLER]) > 0.01, files  # the citizen's tone, through to the end
    assert share(files[Leg.AGENT], AGENT_HZ) > HEARD, files


async def test_an_attended_transfer_to_an_agent_is_completed_by_the_controller(
    carrier: Carrier, ami: AMIClient, running: Running
) -> None:
    uid, _ = await answered_by(ami, carrier, 25)
    reply = await transfer(running, uid, "1002", "attended")
    assert reply.ok, reply.message
    await asyncio.sleep(4)  # 李娜 answers (auto-answer) and they consult
    done = await transfer(running, uid, "", "complete")
    assert done.ok, done.message
    record = await until(lambda: ended(running, uid), 60, "ended call")
    assert record.end_reason is EndReason.ANSWERED
    assert [(v.queue, v.outcome) for v in record.visits] == [("intake", "CONNECT")]
    assert any("transfer attended to agent 1002" in n for n in record.notes), record.notes
    counted_once(record)
    kinds = [line[4] for line in queue_log(carrier, uid)]
    print("attended:", kinds, record.completed_by, record.talk_end, record.t_end)
    assert "ATTENDEDTRANSFER" in kinds, kinds
    files = await legs(running, uid)
    tx = files[Leg.AGENT]  # what the citizen heard
    assert share(tx, SECOND_HZ) > HEARD, files  # the citizen heard 李娜 after the transfer


async def test_a_conference_puts_the_citizen_and_both_agents_in_one_bridge(
    carrier: Carrier, ami: AMIClient, running: Running
) -> None:
    uid, _ = await answered_by(ami, carrier, 25)
    reply = await transfer(running, uid, "李娜", "conference")
    assert reply.ok, reply.message

    async def three() -> bool:
        chans = await bed.channels(ami)
        citizen = next((c for c in chans if c.get("Uniqueid") == uid), None)
        if citizen is None or not citizen.get("BridgeId"):
            return False
        return sum(c.get("BridgeId") == citizen.get("BridgeId") for c in chans) >= 3

    deadline = time.monotonic() + 30
    while not await three():
        assert time.monotonic() < deadline, "no three-way bridge"
        await asyncio.sleep(0.3)
    await asyncio.sleep(4)  # all three talk
    record = await until(lambda: ended(running, uid), 60, "ended call")
    assert record.end_reason is EndReason.ANSWERED
    assert [(v.queue, v.outcome) for v in record.visits] == [("intake", "CONNECT")]
    assert any("transfer conference to agent 1002" in n for n in record.notes), record.notes
    counted_once(record)
    print("conference:", [line[4] for line in queue_log(carrier, uid)], record.completed_by)
    files = await legs(running, uid)
    tx = files[Leg.AGENT]  # what the citizen heard
    assert share(tx, AGENT_HZ) > HEARD, files
    assert share(tx, SECOND_HZ) > HEARD, files


async def test_a_conference_with_a_department_through_the_trunk_keeps_the_agent_in(
    carrier: Carrier, ami: AMIClient, running: Running, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """三方通话 with 住建局's duty line, asked on the command line as the call's own agent."""
    accounts = Accounts.open(carrier.settings.db)
    for name, role, ext in (("wangfang", Role.AGENT, "1001"), ("lina", Role.AGENT, "1002")):
        if accounts.user(name) is None:
            accounts.add(name, "a long password", role, now=1, agent=ext)
    accounts.close()
    scenario = fill("trunk_uas.xml", tmp_path, NUMBER=DUTY, CALLER_ID=CALLER_ID,
                    HOLD_MS="40000", CHALLENGE="", VERIFY="", VERIFY_TEST="")  # fmt: skip
    uas = asyncio.create_task(carrier.sipp(scenario, service="", timeout=70))
    await carrier.listening()
    uid, _ = await answered_by(ami, carrier, 25)
    args = argparse.Namespace(call=uid, target="housing", mode="conference", user="lina")
    with pytest.raises(CLIError, match="only their own calls"):  # 李娜 is not on this call
        await asyncio.to_thread(cli.run, carrier.settings, args)
    args.user = "wangfang"
    assert await asyncio.to_thread(cli.run, carrier.settings, args) == 0
    assert "conference transfer" in capsys.readouterr().out

    async def bridge_of_three() -> list[str]:
        chans = await bed.channels(ami)
        citizen = next((c for c in chans if c.get("Uniqueid") == uid), None)
        bridge = citizen.get("BridgeId") if citizen is not None else ""
        return [c.get("Channel") or "" for c in chans if bridge and c.get("BridgeId") == bridge]

    deadline = time.monotonic() + 30
    while len(together := await bridge_of_three()) < 3:
        assert time.monotonic() < deadline, f"no three-way bridge: {together}"
        await asyncio.sleep(0.3)
    assert any(c.startswith("PJSIP/1001-") for c in together), together  # the agent stays
    assert any(DUTY in c for c in together), together  # the department, through the trunk
    record = await until(lambda: ended(running, uid), 60, "ended call")
    # the citizen has hung up; the agent and the department talk on until she hangs up
    wang = next(c for c in together if c.startswith("PJSIP/1001-"))
    await ami.action("Hangup", {"Channel": wang})
    run = await uas
    assert run.returncode == 0, run.report()  # the department got its BYE
    assert record.end_reason is EndReason.ANSWERED
    assert [(v.queue, v.outcome) for v in record.visits] == [("intake", "CONNECT")]
    assert any("transfer conference to department housing by wangfang" in n
               for n in record.notes), record.notes  # fmt: skip
    counted_once(record)
    files = await legs(running, uid)
    assert rms(files[Leg.CALLER]) > 0.01, files
    assert share(files[Leg.AGENT], AGENT_HZ) > HEARD, files  # 王芳 stayed in the call


async def test_an_attended_transfer_cancelled_gives_the_citizen_back_to_the_agent(
    carrier: Carrier, ami: AMIClient, running: Running
) -> None:
    uid, _ = await answered_by(ami, carrier, 20)
    reply = await transfer(running, uid, "李娜", "attended")
    assert reply.ok, reply.message
    await asyncio.sleep(3)  # 李娜 answers; the citizen waits

    async def with_wang() -> bool:
        chans = await bed.channels(ami)
        citizen = next((c for c in chans if c.get("Uniqueid") == uid), None)
        bridge = citizen.get("BridgeId") if citizen is not None else ""
        return any(
            c.get("BridgeId") == bridge and (c.get("Channel") or "").startswith("PJSIP/1001-")
            for c in chans
        ) if bridge else False  # fmt: skip

    assert not await with_wang()  # consulting: the citizen is not with 王芳
    cancelled = await transfer(running, uid, "", "cancel")
    assert cancelled.ok, cancelled.message
    deadline = time.monotonic() + 10
    while not await with_wang():
        assert time.monotonic() < deadline, "the citizen is not back with 王芳"
        await asyncio.sleep(0.3)
    record = await until(lambda: ended(running, uid), 60, "ended call")
    assert record.agent == "王芳"
    assert record.completed_by != "transfer", record
    kinds = [line[4] for line in queue_log(carrier, uid)]
    assert "ATTENDEDTRANSFER" not in kinds, kinds
    counted_once(record)
    journal = [c for c in running.history.journal("王芳") if c.kind == "transfer"]
    assert [c.reason for c in journal if c.call_id == uid] == ["attended:agent:1002", "cancel"]
