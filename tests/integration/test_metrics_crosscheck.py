"""The metrics against Asterisk itself: a scripted run with known timings on a fresh PBX.

One queue (``xcheck``, servicelevel 15, Queue() timeout 50 s) on a second PBX instance, so
QueueParams counts only these calls. First a caller while nobody is logged in (JOINEMPTY:
refused, then a callback). Then four members join, paused, and seven callers queue at
once; the conductor acts from each caller's own QueueCallerJoin: members are unpaused for
answers at about 5, 14, 16 and 40 s (and paused again at their AgentConnect, so each takes
one call), callers hang up at about 3 and 20 s, and the last one times out at 50 s.

Checked: Asterisk's ServicelevelPerf and ServicelevelPerf2 for the queue equal our
answered-only and SL2 before the timeout; after it Asterisk's SL2 counts the timeout as an
abandon (app_queue's record_abandoned) while ours counts it as a system loss, and our model
of Asterisk's counters equals QueueParams at both moments. Our counts equal queue_log's;
the strict rate equals the value computed by hand; ``import-queue-log`` of this run's
queue_log gives the same figures and each call's wait to the second.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio as aredis

from hotline.ami.client import AMIClient
from hotline.ami.message import EventList, Message
from hotline.core.records import EndReason
from hotline.host.settings import Settings
from hotline.metrics import Params, classify
from hotline.metrics.asterisk import servicelevel_counts
from hotline.metrics.populations import Population
from hotline.pbx import install
from hotline.pbx import runner as pbx
from hotline.queuelog.counts import counts
from hotline.stores.history import History
from tests.integration import bed
from tests.integration.test_controller import Running, queue_log_records, wait_calls_done
from tests.integration.test_ivr_calls import dial

pytestmark = pytest.mark.asyncio
Q = "xcheck"
FLOW = """
line: {name: 交叉核对, did: "12345", operator_queue: xcheck, hours: always}
languages: [zh]
queues:
  xcheck: {label: 交叉核对, servicelevel: 15, timeout: 50, when_empty: callback}
callback: {offer_when_waiting: 20, digit: "1", prompt: callback-offer, confirm: callback-confirm}
start: main
menus:
  main:
    prompt: main-menu
    options:
      "1": {queue: xcheck, tag: xcheck}
prompts:
  main-menu: {zh: 请按一。}
  invalid: {zh: 输入有误。}
  no-input: {zh: 没有收到。}
  to-operator: {zh: 请稍候。}
  callback-offer: {zh: 如需回电请按一，继续等候请不要挂机。}
  callback-confirm: {zh: 已登记回电，再见。}
"""
# (what happens, seconds after the caller's own queue entry); queue order = this order
PLAN = [("answer", 5.0), ("answer", 14.0), ("answer", 16.0), ("answer", 40.0),
        ("hangup", 3.0), ("hangup", 20.0), ("timeout", 50.0)]  # fmt: skip


@pytest_asyncio.fixture
async def xcheck(
    other_env: dict[str, str], redis_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Settings, Running, AMIClient]]:
    env = {**other_env, "HOTLINE_REDIS_URL": redis_url}
    settings = Settings.from_env(env)
    flow = tmp_path / "xcheck.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    await asyncio.to_thread(install.install, settings, flow)
    await asyncio.to_thread(pbx.start, settings)
    redis = aredis.Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    run = Running(settings, tmp_path / "history.sqlite3")
    await run.start()
    client = AMIClient(pbx.endpoint(settings))
    await client.connect()
    try:
        yield settings, run, client
    finally:
        await client.close()
        await run.stop()


async def queue_params(client: AMIClient) -> Message:
    reply = await client.action("QueueStatus", {"Queue": Q})
    assert isinstance(reply, EventList)
    [params] = [e for e in reply.events if e.name == "QueueParams"]
    return params


def _timed_out(e: Message) -> bool:
    return e.get("UserEvent") == "HotlineQueueExit" and e.get("Status") == "TIMEOUT"


class Conductor:
    """Acts on each caller relative to the arrival of its own QueueCallerJoin event."""

    def __init__(self, client: AMIClient, members: list[str]) -> None:
        self.client = client
        self.members = members  # interfaces, one per planned answer, in order
        self.joined: dict[str, asyncio.Future[tuple[float, str]]] = {}
        self.order: list[str] = []  # uniqueids of the seven, in plan order
        self.timed_out: dict[str, asyncio.Event] = {}
        self.sub = client.subscribe("QueueCallerJoin", "AgentConnect", "UserEvent")
        self.listener = asyncio.create_task(self._listen())
        self.tasks: list[asyncio.Task[None]] = []

    def expect(self, uid: str) -> None:
        """The next caller of the plan: its act starts now, timed from its own join."""
        what, after = PLAN[len(self.order)]
        member = (
            self.members[sum(w == "answer" for w, _ in PLAN[: len(self.order)])]
            if what == "answer"
            else None
        )
        self.joined[uid] = asyncio.get_running_loop().create_future()
        self.timed_out[uid] = asyncio.Event()
        self.order.append(uid)
        self.tasks.append(asyncio.create_task(self._act(uid, what, after, member)))

    async def _listen(self) -> None:
        async for e in self.sub:
            uid = e.get("Uniqueid") or ""
            if e.name == "QueueCallerJoin" and uid in self.joined:
                if not self.joined[uid].done():
                    self.joined[uid].set_result((time.monotonic(), e.get("Channel") or ""))
            elif e.name == "AgentConnect":
                # each member takes one call: paused again as soon as it is connected
                await self.pause(e.get("Interface") or "", True)
            elif _timed_out(e) and uid in self.timed_out:
                self.timed_out[uid].set()

    async def pause(self, interface: str, paused: bool) -> None:
        await self.client.action(
            "QueuePause",
            {"Queue": Q, "Interface": interface, "Paused": "true" if paused else "false"},
        )

    async def _act(self, uid: str, what: str, after: float, member: str | None) -> None:
        joined, channel = await asyncio.wait_for(self.joined[uid], 30)
        if what == "timeout":
            await asyncio.wait_for(self.timed_out[uid].wait(), after + 15)
            await asyncio.sleep(1.0)  # in the callback offer: leave before it re-queues
        else:
            await asyncio.sleep(max(0.0, joined + after - time.monotonic()))
        if what == "answer":
            assert member is not None
            await self.pause(member, False)
        else:  # the citizen hangs up: the ;1 half of the Local channel that runs the IVR
            await self.client.action("Hangup", {"Channel": channel.replace(";2", ";1")})

    async def close(self) -> None:
        self.sub.close()
        self.listener.cancel()
        await asyncio.gather(self.listener, return_exceptions=True)


def report(settings: Settings, db: Path, since: int, until: int) -> dict[str, object]:
    def iso(ms: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ms / 1000))

    out = subprocess.run(
        [sys.executable, "-m", "hotline", "metrics", "report", "--db", str(db),
         "--from", iso(since), "--to", iso(until + 1000), "--by", "queue", "--format", "json"],
        check=True, capture_output=True, text=True, env=_env(settings),
    )  # fmt: skip
    doc: dict[str, object] = json.loads(out.stdout)
    return doc


def _env(settings: Settings) -> dict[str, str]:
    import os

    return {**os.environ, "HOTLINE_RUN_DIR": str(settings.run_dir)}


def shown(fig: dict[str, object]) -> str:
    """A registry ratio printed as app_queue prints ServicelevelPerf (%2.1f of a percent)."""
    value = fig["value"]
    assert isinstance(value, float)
    return f"{100 * value:2.1f}"


def figures(doc: dict[str, object]) -> dict[str, dict[str, object]]:
    total = doc["total"]
    assert isinstance(total, dict)
    return total["figures"]  # type: ignore[no-any-return]


async def test_our_figures_equal_asterisk_s_and_queue_log_s(
    xcheck: tuple[Settings, Running, AMIClient], tmp_path: Path
) -> None:
    settings, run, client = xcheck
    controller = run.controller
    log = settings.pbx_dir / "log" / "queue_log"
    log_start = log.stat().st_size
    t_start = controller.clock()

    # 1. nobody logged in: refused at the door (JOINEMPTY), then a callback is registered
    refused = await dial(client, "1", caller="13900000000", TALK="30")
    await wait_calls_done(controller, [refused], 40)

    # 2. four members, paused; seven callers queue in plan order
    members = await bed.add_members(client, [Q] * 4, paused=True)
    conductor = Conductor(client, members)
    try:
        for n in range(len(PLAN)):
            uid = await dial(client, "1", caller=f"1390000000{n + 1}", TALK="120")
            conductor.expect(uid)
            await asyncio.wait_for(asyncio.shield(conductor.joined[uid]), 20)  # keep the order
        await asyncio.gather(*conductor.tasks[:6])  # the answers and the hang-ups are done
        ids = conductor.order
        answered_or_left = [u for u, (w, _) in zip(ids, PLAN, strict=True) if w != "timeout"]
        await wait_calls_done(controller, answered_or_left, 30)
        before = await queue_params(client)  # the timeout caller still waits
        await asyncio.gather(*conductor.tasks[6:])
        await wait_calls_done(controller, [*ids, refused], 30)
        after = await queue_params(client)
    finally:
        await conductor.close()
    await asyncio.sleep(1.5)  # queue_log's last lines
    t_end = controller.clock()
    await controller.flush()
    ours = {r.call_id: r for r in run.history.calls(since=t_start - 60_000)}
    all_ids = [refused, *ids]
    assert set(all_ids) <= set(ours)
    records = [ours[u] for u in all_ids]
    params = Params()
    verdicts = {r.call_id: classify(r, params) for r in records}

    # the timings came out as planned (waits to the ms, from AMI)
    waits = [verdicts[u].wait_ms or 0 for u in ids[:6]]
    for (what, planned), wait in zip(PLAN[:6], waits, strict=True):
        assert planned <= wait / 1000 < planned + 1.5, (what, planned, wait)
    kinds = [ours[u].end_reason for u in all_ids]
    assert kinds == [EndReason.CALLBACK] + [EndReason.ANSWERED] * 4 + [
        EndReason.ABANDONED_IN_QUEUE
    ] * 2 + [EndReason.TIMEOUT]

    # the strict rate by hand: R = 8 (the refusal counts), A15 = 2 (5 s and 14 s), S = 0
    doc = report(settings, run_db(run), t_start, t_end)
    f = figures(doc)
    assert (f["sl_strict"]["numerator"], f["sl_strict"]["denominator"]) == (2, 8)
    assert f["sl_strict"]["value"] == 2 / 8
    assert (f["sl_answered_only"]["numerator"], f["sl_answered_only"]["denominator"]) == (2, 4)
    assert (f["sl2"]["numerator"], f["sl2"]["denominator"]) == (3, 6)  # A15 + Ab≤15 / A + Ab
    counts_doc = doc["total"]["counts"]  # type: ignore[index]
    assert {k: counts_doc[k] for k in ("R", "A", "A15", "Ab", "Ab15", "L")} == {
        "R": 8, "A": 4, "A15": 2, "Ab": 2, "Ab15": 1, "L": 2,
    }  # fmt: skip

    # Asterisk before the timeout: the same answered-only and SL2 as ours for these calls
    done = [ours[u] for u in answered_or_left]
    early = {p: sum(p in classify(r, params) for r in done) for p in Population}
    assert (
        before.get("ServicelevelPerf")
        == f"{100 * early[Population.A15] / early[Population.A]:2.1f}"
    )
    sl2_early = (early[Population.A15] + early[Population.AB15]) / (
        early[Population.A] + early[Population.AB]
    )
    assert before.get("ServicelevelPerf2") == f"{100 * sl2_early:2.1f}"
    assert (before.get("Completed"), before.get("Abandoned")) == ("4", "2")
    # after: Asterisk's ServicelevelPerf is still ours; its SL2 counts the timeout as an
    # abandon (3 / 7 = 42.9) where ours keeps it in L (3 / 6 = 50.0)
    assert after.get("ServicelevelPerf") == shown(f["sl_answered_only"]) == "50.0"
    assert after.get("ServicelevelPerf2") == "42.9"
    assert shown(f["sl2"]) == "50.0"
    assert after.get("Abandoned") == "3"
    # and our model of app_queue's counters equals QueueParams at both moments
    model = servicelevel_counts(records, 15)[Q]
    assert model.shown() == (after.get("ServicelevelPerf"), after.get("ServicelevelPerf2"))
    assert (model.completed, model.abandoned) == (4, 3)

    # our counts equal queue_log's, line by line
    theirs = queue_log_records(settings, log_start)
    lines = log.read_text().splitlines()
    mine = [line for line in lines if any(f"|{u}|" in line for u in all_ids)]
    events = [line.split("|")[4] for line in mine]
    assert events.count("ENTERQUEUE") == 7
    assert events.count("CONNECT") == counts_doc["A"] == 4
    assert events.count("ABANDON") == counts_doc["Ab"] == 2
    assert events.count("EXITWITHTIMEOUT") == 1
    assert events.count("CALLBACK") == 1  # the refusal's callback: stock queue_log has no JOINEMPTY
    assert events.count("ENTERQUEUE") + events.count("CALLBACK") == counts_doc["R"]
    ours_counts = counts(records)[Q]
    theirs_counts = counts([r for r in theirs if r.call_id in set(all_ids)])[Q]
    for name in ("answered", "abandoned", "timeout", "callback"):
        assert getattr(ours_counts, name) == getattr(theirs_counts, name), name
    # the refusal at the door is a visit only AMI saw (stock queue_log has no JOINEMPTY line)
    assert (ours_counts.refused, theirs_counts.refused) == (1, 0)
    assert ours_counts.visits - ours_counts.refused == theirs_counts.visits == 8

    # import-queue-log of this run's queue_log: the same figures, each wait to the second
    imported = tmp_path / "imported.sqlite3"
    subprocess.run(
        [sys.executable, "-m", "hotline", "metrics", "import-queue-log", str(log),
         "--db", str(imported)],
        check=True, capture_output=True, text=True, env=_env(settings),
    )  # fmt: skip
    doc2 = report(settings, imported, t_start, t_end)
    g = figures(doc2)
    for fid in ("sl_strict", "sl_answered_only", "sl2", "answer_rate", "abandon_rate"):
        assert (g[fid]["numerator"], g[fid]["denominator"]) == (
            f[fid]["numerator"], f[fid]["denominator"],
        ), fid  # fmt: skip
    history = History.open(imported)
    try:
        for uid in all_ids:
            rec = history.call(uid)
            assert rec is not None, uid
            v1, v2 = verdicts[uid], classify(rec, params)
            # from queue_log: no arrival (no nav.*), and the refusal is a callback only
            lost = {Population.L} if uid == refused else set()
            assert v1.populations - lost - _nav() == v2.populations, uid
            if v1.wait_ms is not None:
                assert v2.wait_ms is not None
                assert abs(v1.wait_ms - v2.wait_ms) < 1000, (uid, v1.wait_ms, v2.wait_ms)
    finally:
        history.close()
    # the one difference, as documented: the refusal is not in L from queue_log alone
    assert figures(doc2)["system_loss_rate"]["numerator"] == 1
    assert f["system_loss_rate"]["numerator"] == 2


def run_db(run: Running) -> Path:
    row = run.history.connection.execute("PRAGMA database_list").fetchone()
    return Path(row[2])


def _nav() -> set[Population]:
    return {p for p in Population if p.value.startswith("nav.")}
