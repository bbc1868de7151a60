"""One controller following two real Asterisks (issue 16, "Several PBXs").

PBX 1 is the bed's bundled instance; PBX 2 a second one from the same rootfs with its own
run directory, AMI, SIP and RTP ports. Callers and agents are Local channels (the agent
``Local/<ext>@hotline-test-agent/n`` is a member of ``intake`` on both PBXs, as an agent
is a member on every PBX of a centre). Both PBXs hand out the same Uniqueids here: the
test gives both calls the same ``ChannelId``. What must hold:

- the history has both PBXs' calls, each with its PBX, none lost to a collision;
- an agent connected on PBX 1 is held (``hotline:held:pbx1``) on PBX 2 and the hold is
  lifted after the call, never entering her journal as a pause;
- stopping PBX 2 records its call in progress as cut by the PBX, lifts its holds on
  PBX 1, shows it down on the wallboard's live setting, and PBX 1 goes on;
- ``metrics report --by pbx`` adds up to the centre's total.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio as aredis

from hotline.ami.client import AMIClient, ClientOptions, Endpoint
from hotline.ami.errors import AMIError
from hotline.ami.message import EventList, Message
from hotline.ami.timestamps import event_ms
from hotline.center.config import Center, load_center
from hotline.cli.main import main
from hotline.commands.plan import Command, Verb
from hotline.controller import sweep
from hotline.controller.core import Controller
from hotline.core.records import AgentStatus, CallRecord, EndReason
from hotline.host.settings import Settings
from hotline.ivr.asterisk import NOTICE_VARIABLE
from hotline.pbx import install
from hotline.pbx import runner as pbx
from hotline.stores.access import Logged
from hotline.stores.history import History
from hotline.stores.live import LiveStore
from tests.conftest import bed_env
from tests.integration import bed
from tests.integration.softphone import Softphone
from tests.integration.test_supervise import tone
from tests.integration.waiting import until

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

AGENT = bed.member("8001")
OTHER = bed.member("8002")
OPTIONS = ClientOptions(backoff_initial=0.1, backoff_max=0.5, ping_interval=1.0, ping_timeout=1.0)


@pytest.fixture(scope="module")
def second_pbx(
    settings: Settings, pbx_running: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """PBX 2: its own run directory and ports (RTP: the other half of the bed's range)."""
    env = bed_env(tmp_path_factory.mktemp("pbx2"))
    lo = settings.rtp_ports[0]
    base = 20000 + (os.getpid() % 100) * 400
    start = base + 200 if lo == base else base
    env["HOTLINE_RTP_PORTS"] = f"{start}-{start + 199}"
    two = Settings.from_env(env)
    pbx.stop(two)
    install.install(two, two.flow)
    pbx.start(two)
    yield two
    pbx.stop(two)


def centre_env(env: dict[str, str], two: Settings) -> dict[str, str]:
    """The bed's environment plus PBX 2 (HOTLINE_PBXS)."""
    assert two.ami_secret is not None
    return env | {
        "HOTLINE_PBXS": "pbx2",
        "HOTLINE_PBX_PBX2_AMI_HOST": two.ami_host,
        "HOTLINE_PBX_PBX2_AMI_PORT": str(two.ami_port),
        "HOTLINE_PBX_PBX2_AMI_SECRET": two.ami_secret,
        "HOTLINE_PBX_PBX2_QUEUE_LOG": str(two.pbx_dir / "log" / "queue_log"),
        "HOTLINE_PBX_PBX2_RECORDINGS": str(two.pbx_dir / "spool" / "recordings"),
    }


class Centre:
    def __init__(
        self, settings: Settings, history: History, redis: aredis.Redis,
        center: Center | None = None,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.history = history
        self.redis = redis
        self.one = AMIClient(pbx.endpoint(settings), OPTIONS)
        (link,) = settings.other_pbxs
        assert link.ami_secret is not None
        two = Endpoint(link.ami_host, link.ami_port, link.ami_user, link.ami_secret)
        self.two = AMIClient(two, OPTIONS)
        center = center or load_center(settings.center.read_text(encoding="utf-8"))
        self.controller = Controller(
            settings, center, client=self.one, redis=redis, history=history,
            others={"pbx2": self.two},
        )  # fmt: skip


async def from_here(redis: aredis.Redis, settings: Settings, second_pbx: Settings) -> None:
    """Each queue_log read from where it ends now: earlier tests' calls are not ours."""
    await bed.queue_logs_from_here(redis, (
        ("hotline:queuelog:position", settings.pbx_dir / "log" / "queue_log"),
        ("hotline:pbx:pbx2:queuelog:position", second_pbx.pbx_dir / "log" / "queue_log"),
    ))  # fmt: skip


@contextlib.asynccontextmanager
async def running_centre(
    settings: Settings, history: History, redis: aredis.Redis, center: Center | None = None
) -> AsyncIterator[Centre]:
    """The controller over both PBXs, once it has resynced with each."""
    running = Centre(settings, history, redis, center)
    task = asyncio.create_task(running.controller.run())
    try:
        await asyncio.wait_for(running.controller.ready.wait(), 15)
        await until(lambda: running.controller.others["pbx2"].resyncs >= 1, 15, "pbx2 resync")
        yield running
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=15)


@pytest_asyncio.fixture
async def centre(
    ami: AMIClient, env: dict[str, str], second_pbx: Settings, redis_url: str, tmp_path: Path
) -> AsyncIterator[Centre]:
    settings = Settings.from_env(centre_env(env, second_pbx))
    async with fresh_centre(settings, second_pbx, redis_url, tmp_path) as running:
        yield running


@contextlib.asynccontextmanager
async def fresh_centre(
    settings: Settings, second_pbx: Settings, redis_url: str, tmp_path: Path
) -> AsyncIterator[Centre]:
    """A controller over both PBXs on an empty Redis and a new history, each queue_log
    read from where it ends now."""
    redis = aredis.Redis.from_url(redis_url, socket_timeout=30)
    await redis.flushdb()
    await from_here(redis, settings, second_pbx)
    history = History.open(tmp_path / "history.sqlite3")
    try:
        async with running_centre(settings, history, redis) as running:
            yield running
    finally:
        history.close()
        await redis.aclose()


async def dial_as(client: AMIClient, uid: str, digits: str, **variables: str) -> None:
    """A citizen calls 12345 on this PBX; its IVR side gets the Uniqueid ``uid``."""
    headers: list[tuple[str, str]] = [
        ("Channel", "Local/12345@hotline-ivr"),
        ("Context", "hotline-test-dialer"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("CallerID", '"市民" <13800138000>'),
        ("ChannelId", f"{uid[:-1]}c"),  # not a prefix of the other id (see test_ivr_calls)
        ("OtherChannelId", uid),
        ("Variable", f"DIGITS={digits}"),
        *((("Variable", f"{k}={v}") for k, v in variables.items())),
    ]
    await client.originate(headers)


async def member_pause(client: AMIClient, interface: str) -> tuple[str, str]:
    """(Paused, PausedReason) of ``interface`` in intake on this PBX."""
    status = await client.action("QueueStatus", {"Queue": "intake"})
    assert isinstance(status, EventList)
    found: list[Message] = [
        m for m in status.events if m.name == "QueueMember" and m.get("Location") == interface
    ]
    assert found, f"{interface} is not in intake"
    return found[0].get("Paused") or "", found[0].get("PausedReason") or ""


async def add(client: AMIClient, interface: str, name: str) -> None:
    await client.action("QueueAdd", {"Queue": "intake", "Interface": interface, "MemberName": name})


async def notice_on(client: AMIClient) -> str:
    """The IVR announcement in force on this PBX (the global HOTLINE_NOTICE)."""
    reply = await client.action("Getvar", {"Variable": NOTICE_VARIABLE})
    assert isinstance(reply, Message)
    return reply.get("Value") or ""


def notice(value: str) -> Command:
    return Command(id=uuid.uuid4().hex, verb=Verb.NOTICE, agent="", actor="banzhang01",
                   supervisor=True, notice=value)  # fmt: skip


@pytest_asyncio.fixture
async def no_notice(pbx_running: Settings, second_pbx: Settings) -> AsyncIterator[None]:
    """Whatever the test did, both PBXs end with no announcement (the IVR of the tests
    that follow would play it before the menu and lose their digits)."""
    yield
    for one in (pbx_running, second_pbx):
        with contextlib.suppress(OSError, AMIError):
            client = AMIClient(pbx.endpoint(one))
            await client.connect()
            try:
                await client.action("Setvar", {"Variable": NOTICE_VARIABLE, "Value": ""})
            finally:
                await client.close()


async def test_two_pbxs_one_centre(
    centre: Centre, ami: AMIClient, env: dict[str, str], second_pbx: Settings,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_notice: None,
) -> None:  # fmt: skip
    controller, history = centre.controller, centre.history
    two = AMIClient(pbx.endpoint(second_pbx))
    await two.connect()
    await bed.reset(two)
    for client in (ami, two):
        await add(client, AGENT, "agent8001")
    await add(two, OTHER, "agent8002")

    # 0. her own commands go to both PBXs (王芳, PJSIP/1001: intake and labour)
    for verb, reason in ((Verb.LOGIN, ""), (Verb.PAUSE, "meal")):
        cmd = Command(id=uuid.uuid4().hex, verb=verb, agent="1001", actor="1001", reason=reason)
        reply = await controller.agent_actions.carry_out(cmd)
        assert reply.ok, reply.message
    for client in (ami, two):
        assert await member_pause(client, "PJSIP/1001") == ("1", "meal")

    # 1. the same Uniqueid on both PBXs; agent8001 connected on pbx1 is held on pbx2
    uid = f"multi-{time.time_ns() % 10**9}-i"
    rung, paused = ami.subscribe("AgentCalled"), two.subscribe("QueueMemberPause")
    await dial_as(ami, uid, "1-4", TALK="14", __AGENT_TALK="8")
    await until(lambda: (c := controller.calls.get(uid)) is not None and c.t_answer, 20,
                "pbx1 answers")  # fmt: skip
    deadline = time.monotonic() + 5
    while await member_pause(two, AGENT) != ("1", "hotline:held:pbx1"):
        assert time.monotonic() < deadline, await member_pause(two, AGENT)
        await asyncio.sleep(0.05)
    # from the ring on pbx1 to the hold on pbx2, by the PBXs' own event times (one host)
    t_rung = event_ms(await rung.get(timeout=1))
    held_at = event_ms(await paused.get(timeout=1))
    assert t_rung is not None
    assert held_at is not None
    with capsys.disabled():
        print(f"hold latency: {held_at - t_rung} ms")
    assert 0 <= held_at - t_rung < 1000
    rung.close()
    paused.close()
    await dial_as(two, uid, "1-4", TALK="10", __AGENT_TALK="3")  # held: agent8002 answers
    twin = f"pbx2:{uid}"
    deadline = time.monotonic() + 60
    while history.call(uid) is None or history.call(twin) is None:
        assert time.monotonic() < deadline, "both calls in the history"
        await controller.flush()
        await asyncio.sleep(0.2)
    one, other = history.call(uid), history.call(twin)
    assert one is not None
    assert other is not None
    assert (one.pbx, one.end_reason, one.agent) == ("pbx1", EndReason.ANSWERED, "agent8001")
    assert (other.pbx, other.end_reason, other.agent) == ("pbx2", EndReason.ANSWERED, "agent8002")
    # pbx2's legs catalogued from pbx2's spool, under its call's key
    deadline = time.monotonic() + 20
    while len(legs := history.recordings(twin)) < 2:
        assert time.monotonic() < deadline, legs
        await asyncio.sleep(0.2)
    assert {leg.leg.value for leg in legs} == {"rx", "tx"}
    assert all(leg.path.startswith(str(second_pbx.pbx_dir)) for leg in legs), legs
    # the hold is lifted once the call (and its wrap-up: 0 s here) has ended
    deadline = time.monotonic() + 5
    while (await member_pause(two, AGENT))[0] != "0":
        assert time.monotonic() < deadline, "the hold on pbx2 was not lifted"
        await asyncio.sleep(0.1)
    await controller.flush()
    held = [c for c in history.journal() if "hotline:held" in (c.reason or "")]
    assert held == [], "a hold entered the agents' journal"

    # 2. stopping pbx2: its call cut by the PBX, its holds lifted, pbx1 goes on
    await two.action("QueueRemove", {"Queue": "intake", "Interface": OTHER})
    await add(ami, OTHER, "agent8002")
    cut = f"cut-{time.time_ns() % 10**9}-i"
    await dial_as(two, cut, "1-4", TALK="60", __AGENT_TALK="60")  # agent8001 on pbx2
    await until(lambda: (c := controller.calls.get(f"pbx2:{cut}")) is not None and c.t_answer,
                20, "pbx2 answers")  # fmt: skip
    deadline = time.monotonic() + 5
    while await member_pause(ami, AGENT) != ("1", "hotline:held:pbx2"):
        assert time.monotonic() < deadline, await member_pause(ami, AGENT)
        await asyncio.sleep(0.05)
    view = controller.agents.view("agent8001")
    assert view is not None
    assert view.status is AgentStatus.TALKING  # on pbx2: the agents' model knows it
    goes_on = f"on-{time.time_ns() % 10**9}-i"
    await dial_as(ami, goes_on, "1-4", TALK="20", __AGENT_TALK="12")  # agent8002 on pbx1
    await until(lambda: (c := controller.calls.get(goes_on)) is not None and c.t_answer, 20,
                "pbx1 answers while 8001 is held")  # fmt: skip
    await two.close()
    stopped = time.monotonic()
    await asyncio.to_thread(pbx.stop, second_pbx)
    try:
        deadline = time.monotonic() + 15
        while (record := history.call(f"pbx2:{cut}")) is None:
            assert time.monotonic() < deadline, "the cut call is not in the history"
            await controller.flush()
            await asyncio.sleep(0.2)
        assert (record.pbx, record.end_reason, record.agent) == (
            "pbx2", EndReason.PBX_DOWN, "agent8001",
        )  # fmt: skip
        await until(lambda: not controller.pbx_links_up()["pbx2"], 10, "pbx2 link down")
        # the IVR notice switched while pbx2 is down: set on pbx1, pbx2 named as missed
        reply = await controller.commands.execute(notice("water-cut"))
        assert (reply.ok, reply.key) == (True, "notice_partial"), reply.message
        assert (reply.details["set"], reply.details["missed"]) == ("pbx1", "pbx2")
        assert await notice_on(ami) == "water-cut"
        await until(
            lambda: (v := controller.agents.view("agent8001")) is not None
            and v.status is not AgentStatus.TALKING, 10, "agent8001's call on pbx2 ended",
        )  # fmt: skip
        while (await member_pause(ami, AGENT))[0] != "0":
            assert time.monotonic() - stopped < 20, "pbx2's hold on pbx1 was not lifted"
            await asyncio.sleep(0.1)
        live = LiveStore(centre.redis)
        deadline = time.monotonic() + 5
        while (await live.docs("setting")).get("pbxs", {}).get("pbxs") != [
            {"name": "pbx1", "up": True}, {"name": "pbx2", "up": False},
        ]:  # fmt: skip
            assert time.monotonic() < deadline, await live.docs("setting")
            await asyncio.sleep(0.2)
        assert goes_on in controller.calls  # pbx1's call is still going
        deadline = time.monotonic() + 40
        while (done := history.call(goes_on)) is None:
            assert time.monotonic() < deadline, "pbx1's call did not end"
            await controller.flush()
            await asyncio.sleep(0.2)
        assert (done.pbx, done.end_reason, done.agent) == ("pbx1", EndReason.ANSWERED, "agent8002")
    finally:
        await asyncio.to_thread(pbx.start, second_pbx)  # the module's bed stays usable
    # pbx2 restarted empty (persistentmembers = no): the controller re-adds its members
    await until(lambda: controller.others["pbx2"].resyncs >= 2, 20, "pbx2 resync")
    again = AMIClient(pbx.endpoint(second_pbx))
    await again.connect()
    try:
        assert (await member_pause(again, AGENT))[0] == "0"
        # and the notice in force, which the restarted pbx2 had lost, is set at its resync
        assert await notice_on(again) == "water-cut"
        reply = await controller.commands.execute(notice(""))  # both up: off on both
        assert (reply.ok, reply.key) == (True, "notice_off"), reply.message
        assert [await notice_on(c) for c in (ami, again)] == ["", ""]
    finally:
        await again.close()

    # 3. per-PBX figures add up to the centre's
    for key, value in centre_env(env, second_pbx).items():
        monkeypatch.setenv(key, value)
    db = str(history.connection.execute("PRAGMA database_list").fetchone()[2])
    span = ["--from", "2020-01-01", "--to", "2099-12-31"]
    capsys.readouterr()
    assert main(["metrics", "report", *span, "--by", "pbx", "--format", "json", "--db", db]) == 0
    doc = json.loads(capsys.readouterr().out)
    groups = {g["key"]: g["counts"] for g in doc["groups"]}
    assert set(groups) == {"pbx1", "pbx2"}
    assert (groups["pbx1"]["A"], groups["pbx2"]["A"]) == (2, 2)  # the cut call was answered
    for name in ("R", "A", "A15", "Ab", "L"):
        assert doc["total"]["counts"][name] == groups["pbx1"][name] + groups["pbx2"][name], name


async def test_supervision_the_notice_and_the_sweep_reach_pbx2(
    ami: AMIClient, env: dict[str, str], second_pbx: Settings, redis_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, no_notice: None,
) -> None:  # fmt: skip
    """What the controller does on a PBX, it does on pbx2 too: the legs of a call that ended
    there while the controller was away are swept and linked to ``pbx2:<uid>``; a supervisor
    joins 王芳's call on pbx2 through ChanSpy on pbx2, logged; the notice is set on both."""
    settings = Settings.from_env(centre_env(env, second_pbx))
    two = AMIClient(pbx.endpoint(second_pbx))
    await two.connect()
    redis = aredis.Redis.from_url(redis_url, socket_timeout=30)
    history = History.open(tmp_path / "history.sqlite3")
    try:
        await bed.reset(two)
        await redis.flushdb()
        await from_here(redis, settings, second_pbx)

        # 1. a call on pbx2 while no controller runs: queue_log has it, its legs are on disk
        await add(two, OTHER, "agent8002")
        away = f"away-{time.time_ns() % 10**9}-i"
        hangups = two.subscribe("Hangup")
        await dial_as(two, away, "1-4", TALK="2", __AGENT_TALK="1")
        while (await hangups.get(timeout=30)).get("Uniqueid") != away:
            pass
        hangups.close()
        monkeypatch.setattr(sweep, "QUIET_S", 0.5)  # its files are quiet sooner than 10 s
        center = load_center(settings.center.read_text(encoding="utf-8"))
        wang = dataclasses.replace(center.agents["1001"], interface=AGENT)  # a Local agent
        center = dataclasses.replace(center, agents={**center.agents, "1001": wang})
        async with running_centre(settings, history, redis, center) as running:
            controller = running.controller
            twin = f"pbx2:{away}"

            def linked() -> CallRecord | None:
                record = history.call(twin)
                return record if record is not None and record.recording else None

            record = await until(linked, 20, "the away call linked to its legs", in_thread=True)
            assert record is not None
            assert record.pbx == "pbx2"
            assert record.recording.startswith("/srv/hotline/spool/recordings/")
            assert record.recording.endswith(f"/{away}")  # as pbx2 wrote it
            legs = history.recordings(twin)
            assert {leg.leg.value for leg in legs} >= {"rx", "tx"}
            assert all(leg.path.startswith(str(second_pbx.pbx_dir)) for leg in legs), legs
            assert history.recordings(away) == []  # not taken for pbx1's

            # 2. 王芳 talks on pbx2; the supervisor's phone is rung into ChanSpy there
            await two.action("QueueRemove", {"Queue": "intake", "Interface": OTHER})
            await add(two, AGENT, "王芳")
            boss_tone = tone(tmp_path / "supervisor.wav", 2500, 40)
            with Softphone(second_pbx, "1902", tmp_path / "supervisor", boss_tone):
                spied = f"spied-{time.time_ns() % 10**9}-i"
                await dial_as(two, spied, "1-4", TALK="12", __AGENT_TALK="6")
                call = f"pbx2:{spied}"
                await until(lambda: (c := controller.calls.get(call)) is not None and c.t_answer,
                            20, "pbx2 answers")  # fmt: skip
                spy = Command(id=uuid.uuid4().hex, verb=Verb.SUPERVISE, agent="1001",
                              actor="banzhang01", supervisor=True, mode="listen", phone="1902",
                              call=call)  # fmt: skip
                reply = await controller.commands.execute(spy)
                assert reply.ok, reply.message
                assert reply.details["pbx"] == "pbx2"
                assert reply.details["channel"].startswith("Local/8001@hotline-test-agent-")
                deadline = time.monotonic() + 10
                while not [c for c in await bed.channels(two) if c.get("Application") == "ChanSpy"]:
                    assert time.monotonic() < deadline, "no ChanSpy on pbx2"
                    await asyncio.sleep(0.2)
                assert not [c for c in await bed.channels(ami) if c.get("Application") == "ChanSpy"]
                # her call ends, ChanSpy (E) ends, the supervisor's channel hangs up on pbx2
                await until(lambda: not controller.supervision.sessions, 30, "the session's end")

            def both() -> list[Logged] | None:
                entries = controller.access.entries(target=call)
                return entries if len(entries) == 2 else None

            logged = await until(both, 5, "both access-log entries", in_thread=True)
            assert logged is not None
            started, ended = (x.entry for x in logged)
            assert (started.action, ended.action) == ("supervise-listen", "supervise-end")
            assert json.loads(started.detail)["pbx"] == "pbx2"
            assert json.loads(ended.detail)["joined"] is True

            # 3. the notice reaches both PBXs
            reply = await controller.commands.execute(notice("water-cut"))
            assert (reply.ok, reply.key) == (True, "notice"), reply.message
            assert [await notice_on(c) for c in (ami, two)] == ["water-cut", "water-cut"]
            assert (await controller.commands.execute(notice(""))).ok
            assert [await notice_on(c) for c in (ami, two)] == ["", ""]
    finally:
        await two.close()
        history.close()
        await redis.aclose()
