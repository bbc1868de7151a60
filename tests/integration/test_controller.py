"""The controller on the real Asterisk and Redis: scenarios, commands, and faults.

After each fault the model must equal Asterisk's own view (QueueStatus/CoreShowChannels)
within 2 s of reconnecting, and the history must hold every call queue_log knows, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio as aredis
from bench.load_check import legs_on_disk

from hotline.agents import state as agents_state
from hotline.ami.client import AMIClient, ClientOptions
from hotline.ami.message import EventList
from hotline.center.config import Center, load_center
from hotline.commands import bus
from hotline.commands.plan import Command, Verb
from hotline.controller.core import Controller
from hotline.core.records import AgentStatus, CallRecord, EndReason, PauseSetBy
from hotline.host.settings import Settings
from hotline.pbx import process
from hotline.pbx import runner as pbx
from hotline.queuelog.build import build
from hotline.queuelog.parse import QueueLogEntry, parse_lines
from hotline.queues.state import Queues
from hotline.queues.state import diff as queue_diff
from hotline.recordings.leg import Leg
from hotline.stores import redis_server
from hotline.stores.history import History
from hotline.stores.live import LiveStore
from tests.integration import bed
from tests.integration.test_ivr_calls import Watcher, dial

pytestmark = pytest.mark.asyncio


def center(settings: Settings) -> Center:
    return load_center(settings.center.read_text(encoding="utf-8"))


class Running:
    """A controller in this process, with what it needs."""

    def __init__(self, settings: Settings, db: Path) -> None:
        self.settings = settings
        self.redis = aredis.Redis.from_url(redis_server.url(settings), socket_timeout=30)
        self.history_path = db
        self.history = History.open(db)
        options = ClientOptions(backoff_initial=0.1, backoff_max=0.5, ping_interval=1.0,
                                ping_timeout=1.0)  # fmt: skip
        self.client = AMIClient(pbx.endpoint(settings), options)
        self.controller = Controller(
            settings, center(settings), client=self.client, redis=self.redis,
            history=self.history,
        )  # fmt: skip
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> Controller:
        self.task = asyncio.create_task(self.controller.run())
        await asyncio.wait_for(self.controller.ready.wait(), 15)
        return self.controller

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            done, _ = await asyncio.wait([self.task], timeout=15)
            if not done:  # say where it hangs instead of hanging the test run
                for task in asyncio.all_tasks():
                    print("task", task.get_name(), *_awaiting(task), file=sys.stderr)
                raise AssertionError("the controller did not stop within 15 s of a cancel")
        self.history.close()
        await self.redis.aclose()


def _awaiting(task: asyncio.Task[object]) -> list[str]:
    """Where a task waits: file:line of each coroutine down its await chain."""
    where, coro = [], task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            where.append(f"{frame.f_code.co_filename}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
    return where


@contextlib.asynccontextmanager
async def controller_on(
    settings: Settings, redis_url: str, tmp_path: Path
) -> AsyncIterator[Running]:
    """A controller on an empty Redis and a new history, reading queue_log from its end."""
    redis = aredis.Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    # start reading queue_log where it ends now: earlier tests' calls are not ours
    log = settings.pbx_dir / "log" / "queue_log"
    run = Running(settings, tmp_path / "history.sqlite3")
    st = log.stat()
    position = {"offset": st.st_size, "identity": [st.st_dev, st.st_ino]}
    await run.redis.set("hotline:queuelog:position", json.dumps(position))
    await run.start()
    try:
        yield run
    finally:
        await run.stop()


@pytest_asyncio.fixture
async def running(
    ami: AMIClient, pbx_running: Settings, redis_url: str, tmp_path: Path
) -> AsyncIterator[Running]:
    async with controller_on(pbx_running, redis_url, tmp_path) as run:
        yield run


async def asterisk_view(client: AMIClient) -> tuple[EventList, EventList]:
    status = await client.action("QueueStatus")
    channels = await client.action("CoreShowChannels")
    assert isinstance(status, EventList)
    assert isinstance(channels, EventList)
    return status, channels


async def model_equals_asterisk(controller: Controller, client: AMIClient) -> list[str]:
    status, channels = await asterisk_view(client)
    now = controller.clock()
    async with controller.lock:
        problems = queue_diff(
            controller.queues, Queues.from_status(status.events, channels.events, now=now)
        )
        theirs = agents_state.Agents.from_status(status.events, now=now)
        problems += agents_state.diff(controller.agents, theirs, calls=False)
    return problems


async def settle(controller: Controller, client: AMIClient, timeout: float = 2.0) -> float:
    """Seconds until the model equals Asterisk's view; fails after ``timeout``."""
    start = time.monotonic()
    while problems := await model_equals_asterisk(controller, client):
        if time.monotonic() - start > timeout:
            pytest.fail(f"model differs from Asterisk after {timeout} s: {problems}")
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def wait_calls_done(controller: Controller, ids: list[str], timeout: float) -> None:
    """Until every call has ended and is in the history (a call may not have started yet)."""
    deadline = time.monotonic() + timeout
    while True:
        await controller.flush()
        missing = [i for i in ids if controller.history.call(i) is None]
        if not missing:
            return
        assert time.monotonic() < deadline, f"not in the history: {missing}"
        await asyncio.sleep(0.2)


async def test_an_answered_call_is_recorded_live_then_in_history(
    ami: AMIClient, running: Running
) -> None:
    controller = running.controller
    await bed.add_members(ami, ["labour"], paused=False)
    live = LiveStore(running.redis)
    uid = await dial(ami, "1-3-1", TALK="20", __AGENT_TALK="3")  # help > unpaid wages
    deadline = time.monotonic() + 20
    while uid not in (await live.snapshot()).calls:
        assert time.monotonic() < deadline, "the call never appeared in the live store"
        await asyncio.sleep(0.1)
    await wait_calls_done(controller, [uid], 40)
    record = running.history.call(uid)
    assert record is not None
    assert record.end_reason is EndReason.ANSWERED
    assert (record.first_queue, record.agent, record.tag) == ("labour", "agent8001", "unpaid-wages")
    assert record.ivr_path == "language:1>main:3>help:1"
    assert record.t_arrival is not None
    assert record.t_q is not None
    assert record.t_answer is not None
    assert record.t_arrival <= record.t_q <= record.t_answer
    assert record.t_answer % 1000 != 0 or record.t_q % 1000 != 0  # milliseconds, not seconds
    assert record.recording.endswith(uid)
    assert uid not in (await live.snapshot()).calls
    kinds = [c.kind for c in running.history.journal("agent8001")]
    assert "connect" in kinds
    assert "complete" in kinds
    # the legs are catalogued once MixMonitor closed them, and queued for speech-to-text
    deadline = time.monotonic() + 20
    while len(legs := running.history.recordings(uid)) < 2:
        assert time.monotonic() < deadline, legs
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)  # a mixed copy, if the PBX still wrote one, would be in by now
    legs = running.history.recordings(uid)
    assert {leg.leg.value for leg in legs} == {"rx", "tx"}  # two files per call, no mixed copy
    assert not list(Path(legs[0].path).parent.glob(f"{uid}.wav"))
    for leg in legs:
        data = Path(leg.path).read_bytes()
        assert leg.size == len(data)
        assert leg.sha256 == hashlib.sha256(data).hexdigest()
        assert leg.duration_ms > 2000  # talked about 3 s
    jobs = await running.redis.xrange("hotline:stt:jobs")
    assert sorted(f[b"leg"].decode() for _, f in jobs if f[b"call_id"].decode() == uid) == [
        "rx",
        "tx",
    ]


async def test_an_abandon_in_queue(ami: AMIClient, running: Running) -> None:
    await bed.add_members(ami, ["intake"], paused=True)
    uid = await dial(ami, "1-4", TALK="6")
    await wait_calls_done(running.controller, [uid], 40)
    record = running.history.call(uid)
    assert record is not None
    assert record.end_reason is EndReason.ABANDONED_IN_QUEUE
    assert record.agent == ""


async def send(running: Running, verb: Verb, agent: str, **kw: object) -> bus.Reply:
    actor = str(kw.pop("actor", agent))
    command = Command(id=uuid.uuid4().hex, verb=verb, agent=agent, actor=actor, **kw)  # type: ignore[arg-type]
    return await bus.send(running.redis, command, timeout=10)


async def test_commands_log_in_pause_and_force(ami: AMIClient, running: Running) -> None:
    controller = running.controller
    reply = await send(running, Verb.LOGIN, "1002")
    assert reply.ok, reply.message
    reply = await send(running, Verb.PAUSE, "李娜", reason="meal")
    assert reply.ok, reply.message
    # the same answer keyed for the pages, through Redis: its words come from web.i18n
    assert (reply.key, reply.details["agent"]) == ("pause", "李娜"), reply
    forced = await send(running, Verb.PAUSE, "1001", reason="forced", actor="班长01",
                        supervisor=True)  # fmt: skip
    assert not forced.ok  # 王芳 is not logged in
    refused = await send(running, Verb.PAUSE, "1002", reason="forced")
    assert not refused.ok
    assert "only a supervisor" in refused.message
    await settle(controller, ami)
    view = controller.agents.view("李娜")
    assert view is not None
    assert view.status is AgentStatus.BREAK
    assert {m.reason for m in view.memberships} == {"meal"}
    status, _ = await asterisk_view(ami)
    assert {m.get("PausedReason") for m in status.events if m.get("Name") == "李娜"} == {"meal"}
    forced = await send(running, Verb.PAUSE, "1002", reason="forced", actor="班长01",
                        supervisor=True)  # fmt: skip
    assert forced.ok, forced.message
    await settle(controller, ami)
    await controller.flush()
    journal = [c for c in running.history.journal("李娜") if c.kind == "pause"]
    assert journal[-1].set_by is PauseSetBy.SUPERVISOR
    assert journal[-1].actor == "班长01"
    assert journal[0].set_by is PauseSetBy.SELF
    assert controller.agents.view("李娜").status is AgentStatus.FORCED_BUSY  # type: ignore[union-attr]


async def test_commands_without_a_controller_fail_clearly(redis_url: str) -> None:
    redis = aredis.Redis.from_url(redis_url)
    try:
        command = Command(id=uuid.uuid4().hex, verb=Verb.LOGIN, agent="1001", actor="王芳")
        with pytest.raises(bus.NoController, match="is `hotline controller` running"):
            await bus.send(redis, command, timeout=0.5)
    finally:
        await redis.aclose()


def queue_log_records(settings: Settings, since: int) -> list[CallRecord]:
    """The calls queue_log has after byte ``since``."""
    with (settings.pbx_dir / "log" / "queue_log").open() as f:
        f.seek(since)
        entries = [e for e in parse_lines(f.readlines()) if isinstance(e, QueueLogEntry)]
    return list(build(entries).calls)


def queue_log_calls(settings: Settings, since: int) -> set[str]:
    """Call ids queue_log saw enter a queue after byte ``since``."""
    return {r.call_id for r in queue_log_records(settings, since) if r.visits}


async def test_cutting_the_ami_link_during_20_calls(ami: AMIClient, running: Running) -> None:
    controller = running.controller
    settings = running.settings
    log_start = (settings.pbx_dir / "log" / "queue_log").stat().st_size
    await bed.add_members(ami, ["intake", "labour", "property", "environment"], paused=False)
    await bed.add_members(ami, ["intake"] * 3, paused=False, first_ext=8101)
    ids = [await dial(ami, "1-4", TALK="12", __AGENT_TALK="4") for _ in range(20)]
    took = []
    for _ in range(3):
        await asyncio.sleep(1.5)
        writer = controller.client._writer  # the test cuts the link under the client
        assert writer is not None
        writer.transport.abort()
        await asyncio.sleep(0.05)
        await asyncio.wait_for(controller.client.wait_ready(), 10)
        took.append(await settle(controller, ami))
    await wait_calls_done(controller, ids, 60)
    assert controller.resyncs >= 4
    await asyncio.sleep(2)  # the last queue_log lines
    await controller.flush()
    expected = queue_log_calls(settings, log_start)
    stored = {r.call_id for r in running.history.calls()}
    assert expected <= stored, f"missing from history: {expected - stored}"
    assert len(running.history.calls()) == len(stored)  # no duplicates
    assert max(took) < 2.0


async def test_kill_9_asterisk_mid_calls(ami: AMIClient, running: Running) -> None:
    controller = running.controller
    settings = running.settings
    assert (await send(running, Verb.LOGIN, "1004")).ok
    assert (await send(running, Verb.PAUSE, "1004", reason="toilet", queue="labour")).ok
    await bed.add_members(ami, ["intake"], paused=True)
    watcher = Watcher(ami)
    ids = [await dial(ami, "1-4", TALK="60") for _ in range(3)]
    await watcher.until(lambda: all(watcher.callers[i].joined for i in ids), 15)
    watcher.close()
    asterisk = process.asterisk_pid(settings.pbx_dir)
    assert asterisk is not None
    os.kill(asterisk, signal.SIGKILL)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(pbx.start, settings)
    await asyncio.wait_for(controller.client.wait_ready(), 20)
    check = AMIClient(pbx.endpoint(settings))
    await check.connect()
    try:
        await settle(controller, check)
        # persistentmembers = no emptied the queues: the controller put 刘洋 back, paused
        status, _ = await asterisk_view(check)
        members = {
            (m.get("Queue"), m.get("Paused"), m.get("PausedReason"))
            for m in status.events
            if m.get("Name") == "刘洋"
        }
        assert members == {("intake", "0", ""), ("labour", "1", "toilet"), ("property", "0", "")}
    finally:
        await check.close()
    await controller.flush()
    for uid in ids:
        record = running.history.call(uid)
        assert record is not None, uid
        # Asterisk came back with a new start time: the calls were cut off, not lost sight of
        assert record.end_reason is EndReason.PBX_DOWN, record


async def test_redis_restart(ami: AMIClient, running: Running) -> None:
    controller = running.controller
    settings = running.settings
    await bed.add_members(ami, ["intake"], paused=True)
    redis_server.stop(settings)
    uid = await dial(ami, "1-4", TALK="30")  # while Redis is down
    await asyncio.sleep(3)
    redis_server.start(settings)
    live = LiveStore(running.redis)
    deadline = time.monotonic() + 20
    while uid not in (await live.snapshot()).calls:
        assert time.monotonic() < deadline, (
            f"live store not rebuilt; failures {controller.failures}"
        )
        await asyncio.sleep(0.2)
    snap = await live.snapshot()
    assert "agent8001" in snap.agents
    assert controller.failures


async def test_kill_9_the_controller_while_calls_go_on(
    ami: AMIClient, pbx_running: Settings, redis_url: str, env: dict[str, str], tmp_path: Path
) -> None:
    """The controller killed under 15 calls (waiting, talking, in the survey) and started
    again 10 s later: every call is stored with the end reason, agent, answer and
    completed_by queue_log proves, and every leg on disk is catalogued and queued for
    speech-to-text once, its call linked to it."""
    settings = pbx_running
    log = settings.pbx_dir / "log" / "queue_log"
    redis = aredis.Redis.from_url(redis_url)
    await redis.flushdb()
    st = log.stat()
    position = {"offset": st.st_size, "identity": [st.st_dev, st.st_ino]}
    await redis.set("hotline:queuelog:position", json.dumps(position))
    db = tmp_path / "history.sqlite3"
    child_env = {**os.environ, **env, "HOTLINE_DB": str(db)}
    argv = [sys.executable, "-m", "hotline", "controller"]

    def start() -> subprocess.Popen[bytes]:
        with (tmp_path / "controller.log").open("ab") as out:
            return subprocess.Popen(argv, env=child_env, stdout=out, stderr=subprocess.STDOUT)

    async def wait_resynced(count: int) -> None:
        deadline = time.monotonic() + 20
        text = ""
        while (text := (tmp_path / "controller.log").read_text()).count("core: resync") < count:
            assert time.monotonic() < deadline, text[-2000:]
            await asyncio.sleep(0.1)

    await bed.add_members(ami, ["intake"] * 4, paused=False)
    controller = start()
    try:
        await wait_resynced(1)
        # four answered at once, their agents hang up after 6 s (the callers go on to the
        # survey), four more answered then, two still waiting when the controller dies
        before = [await dial(ami, "1-4", TALK="14", __AGENT_TALK="6") for _ in range(10)]
        await asyncio.sleep(9)
        controller.send_signal(signal.SIGKILL)
        controller.wait()
        during = [await dial(ami, "1-4", TALK="8", __AGENT_TALK="3") for _ in range(5)]
        await asyncio.sleep(10)
        controller = start()
        await wait_resynced(2)
        deadline = time.monotonic() + 90
        while [c for c in await bed.channels(ami) if "hotline-ivr" in (c.get("Channel") or "")]:
            assert time.monotonic() < deadline, "calls still up"
            await asyncio.sleep(0.5)
        ids = before + during
        truth = {r.call_id: r for r in queue_log_records(settings, st.st_size)}
        assert set(ids) <= set(truth)
        recorded = {u: legs_on_disk(settings, u) for u in ids}
        assert sum(1 for legs in recorded.values() if legs) >= 10  # answered calls
        jobs: dict[tuple[str, str], int] = {}
        deadline = time.monotonic() + 60
        while True:  # queue_log's last lines, the reconciliation, the recording sweep
            history = History.open(db)
            try:
                stored = {r.call_id: r for r in history.calls()}
                catalogued = {u: {r.leg.value for r in history.recordings(u)} for u in ids}
            finally:
                history.close()
            jobs = await stt_jobs(redis)
            done = set(ids) <= set(stored) and all(catalogued[u] == set(recorded[u]) for u in ids)
            if done or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    finally:
        controller.send_signal(signal.SIGTERM)
        controller.wait(20)
        await redis.aclose()
    assert set(ids) <= set(stored), f"missing: {set(ids) - set(stored)}"
    wrong = []
    for uid in ids:
        ours, theirs = stored[uid], truth[uid]
        seen = (ours.end_reason, ours.agent, ours.t_answer is not None, ours.completed_by)
        proven = (theirs.end_reason, theirs.agent, theirs.t_answer is not None,
                  theirs.completed_by)  # fmt: skip
        if seen != proven:
            wrong.append((uid, seen, proven, ours.notes))
        if recorded[uid] and not ours.recording.endswith(uid):
            wrong.append((uid, "no recording link", ours.recording))
    assert not wrong, wrong
    missing = {
        u: (catalogued[u], sorted(recorded[u])) for u in ids if catalogued[u] != set(recorded[u])
    }
    assert not missing, f"legs on disk not catalogued: {missing}"
    expected_jobs = {(u, leg) for u in ids for leg in recorded[u] if leg != "mixed"}
    assert set(jobs) >= expected_jobs
    assert all(n == 1 for key, n in jobs.items() if key in expected_jobs), jobs


async def stt_jobs(redis: aredis.Redis) -> dict[tuple[str, str], int]:
    """How many speech-to-text jobs are queued per (call id, leg)."""
    jobs: dict[tuple[str, str], int] = {}
    for _, fields in await redis.xrange("hotline:stt:jobs"):
        key = (fields[b"call_id"].decode(), fields[b"leg"].decode())
        jobs[key] = jobs.get(key, 0) + 1
    return jobs


async def test_legs_catalogued_while_redis_is_down_are_queued_once_it_is_back(
    ami: AMIClient, running: Running
) -> None:
    """Redis stopped as a call ends, until the recorder's three tries have failed: its legs
    are catalogued (SQLite) but their jobs wait; the sweep queues each once Redis is back."""
    controller = running.controller
    settings = running.settings
    await bed.add_members(ami, ["intake"], paused=False)
    uid = await dial(ami, "1-4", TALK="6", __AGENT_TALK="3")
    deadline = time.monotonic() + 30
    while uid not in controller.calls:
        assert time.monotonic() < deadline, "the call never started"
        await asyncio.sleep(0.1)
    while uid in controller.calls:
        assert time.monotonic() < deadline + 30, "the call never ended"
        await asyncio.sleep(0.1)
    redis_server.stop(settings)
    try:
        # the tries (1 + 3 + 5 s apart, each refused at once) end; until then the call is
        # the recorder's (it used to be a blind minute)
        await asyncio.sleep(1.0)
        deadline = time.monotonic() + 60
        while uid in controller.recorder.cataloguing:
            assert time.monotonic() < deadline, "the recorder kept trying"
            await asyncio.sleep(0.2)
        assert {r.leg.value for r in running.history.recordings(uid)} == {"rx", "tx"}
        assert running.history.queued_legs(uid) == set()  # nothing reached the stream
    finally:
        redis_server.start(settings)
    deadline = time.monotonic() + 40
    while running.history.queued_legs(uid) != {Leg.CALLER, Leg.AGENT}:
        assert time.monotonic() < deadline, running.history.queued_legs(uid)
        await asyncio.sleep(0.5)
    jobs = await stt_jobs(running.redis)
    assert {k: n for k, n in jobs.items() if k[0] == uid} == {(uid, "rx"): 1, (uid, "tx"): 1}
    assert len(running.history.recordings(uid)) == 2  # each leg catalogued once


async def test_asterisk_stopped_mid_calls_cuts_them_off(ami: AMIClient, running: Running) -> None:
    """A clean stop (SIGTERM) hangs every call up with ordinary-looking events and
    queue_log lines (COMPLETECALLER, ABANDON): the calls are PBX_DOWN, answered or not."""
    controller = running.controller
    settings = running.settings
    await bed.add_members(ami, ["intake"] * 2, paused=False)
    watcher = Watcher(ami)
    ids = [await dial(ami, "1-4", TALK="60", __AGENT_TALK="60") for _ in range(4)]
    await watcher.until(lambda: all(watcher.callers[i].joined for i in ids), 15)
    watcher.close()
    await asyncio.sleep(3)
    await asyncio.to_thread(pbx.stop, settings)
    await asyncio.to_thread(pbx.start, settings)
    await asyncio.wait_for(controller.client.wait_ready(), 20)
    await wait_calls_done(controller, ids, 20)
    records = [running.history.call(uid) for uid in ids]
    assert all(r is not None and r.end_reason is EndReason.PBX_DOWN for r in records), records
    answered = [r for r in records if r is not None and r.t_answer is not None]
    assert len(answered) == 2, records


async def test_the_watchdog_raises_a_live_alert_while_callers_wait(
    ami: AMIClient, running: Running
) -> None:
    """The Wuyi case, live: an agent sits in 示忙 while a citizen waits in her queue."""
    controller = running.controller
    assert (await send(running, Verb.LOGIN, "1001")).ok  # 王芳: intake, labour
    assert (await send(running, Verb.PAUSE, "1001", reason="busy")).ok
    # another member, paused too, so the queue takes callers (王芳's phone is not registered)
    await bed.add_members(ami, ["intake"], paused=True)
    await dial(ami, "1-4", TALK="60")
    live = LiveStore(running.redis)
    deadline = time.monotonic() + 45
    while True:
        await controller.flush()
        alerts = [a for a in (await live.alerts()).values() if a["agent"] == "王芳"]
        if any(a["rule"] == "paused_while_waiting" for a in alerts):
            break
        assert time.monotonic() < deadline, f"no alert; seen {[a['rule'] for a in alerts]}"
        await asyncio.sleep(0.5)
    alert = next(a for a in alerts if a["rule"] == "paused_while_waiting")
    assert alert["severity"] == "critical"
    waiting = alert["evidence"]["waiting"]
    assert waiting["count"] + waiting["still_waiting"] >= 1
    stored = {a["id"]: a for a in running.history.alerts("王芳")}
    assert alert["id"] in stored
