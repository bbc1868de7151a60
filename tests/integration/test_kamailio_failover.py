"""The controller over the two-PBX centre behind Kamailio, with failover (issue 16, done when).

The session's bed of tests/integration/multibed.py, after test_kamailio (Kamailio on
127.0.0.1, pbx-a on 127.0.0.2 and pbx-b on 127.0.0.3, SIPp agents registered at Kamailio,
SIPp citizens sent to Kamailio),
plus one in-process controller following both PBXs (default PBX pbx-a, HOTLINE_PBXS=pbx-b),
a private Redis and a SQLite history. What must hold:

1. the agents log in through the controller's command path, and are members of ``intake``
   on both PBXs;
2. citizens land on both PBXs and are answered by the agents; no agent's phone ever has two
   calls at once; a ring Kamailio refused (486) is not an agent's ring-no-answer;
3. stopping pbx-b with a call talking on it: new calls are answered by pbx-a within 5 s, the
   cut call is recorded ``pbx_down``, every citizen's call is in the history exactly once
   (counted per PBX), the live setting ``pbxs`` shows pbx-b down, and ``metrics report
   --by pbx`` adds up to the centre's total.

Figures go to ``centre-figures.json`` beside the bed (and are printed) for
docs/architecture.md "Scale-out".
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aredis

from hotline.ami.client import AMIClient, ClientOptions, Endpoint
from hotline.ami.message import EventList
from hotline.center.config import load_center
from hotline.cli.main import main
from hotline.commands.plan import Command, Verb
from hotline.controller.core import Controller
from hotline.core.records import EndReason
from hotline.host.settings import Settings
from hotline.pbx import kamailio_run
from hotline.pbx import runner as pbx
from hotline.stores.history import History
from hotline.stores.live import LiveStore
from tests.integration import bed, sip
from tests.integration.multibed import (
    ADDRESSES,
    Centre,
    answered_by,
    call,
    most_at_once,
    place,
    setup_seconds,
)
from tests.integration.waiting import until

pytestmark = [pytest.mark.timeout(300)]

EXTS = ("1001", "1002")
NAMES = {"1001": "王芳", "1002": "李娜"}
OPTIONS = ClientOptions(backoff_initial=0.1, backoff_max=0.5, ping_interval=1.0, ping_timeout=1.0)
FIGURES: dict[str, object] = {}


@pytest.fixture(scope="module")
def centre(kamailio_bed: Centre) -> Iterator[Centre]:
    """The session's bed, running again (test_kamailio stopped pbx-b), every agent's phone
    qualified; this module is the bed's last user: it stops it at its end."""
    kamailio_bed.ensure_running()
    try:
        began = time.monotonic()
        for settings in kamailio_bed.pbxs:
            wait_avail(settings)
        FIGURES["qualify_settled_s"] = round(time.monotonic() - began, 1)
        yield kamailio_bed
    finally:
        (kamailio_bed.base / "centre-figures.json").write_text(json.dumps(FIGURES, indent=2))
        print("figures:", json.dumps(FIGURES, ensure_ascii=False))
        kamailio_bed.stop()
    for settings in kamailio_bed.pbxs:
        assert pbx.status(settings).state is pbx.PBXState.STOPPED


def wait_avail(settings: Settings, timeout: float = 5) -> None:
    """Until the PBX's qualify (through Kamailio) finds every agent's phone: Avail. `pbx
    start` qualified them (runner._qualify_now), else it takes up to qualify_frequency."""
    deadline = time.monotonic() + timeout
    while True:
        shown = pbx.cli(settings, "pjsip show contacts")
        found = [re.search(rf"{ext}/sip:{ext}@\S+\s+\S+\s+(\w+)", shown) for ext in EXTS]
        if all(m and m.group(1) == "Avail" for m in found):
            return
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)


def controller_env(centre: Centre) -> dict[str, str]:
    """pbx-a's environment plus pbx-b (HOTLINE_PBXS): the controller's."""
    b = centre.pbxs[1]
    assert b.ami_secret is not None
    return centre.envs[0] | {
        "HOTLINE_PBXS": "pbx-b",
        "HOTLINE_PBX_PBX_B_AMI_HOST": b.ami_host,
        "HOTLINE_PBX_PBX_B_AMI_PORT": str(b.ami_port),
        "HOTLINE_PBX_PBX_B_AMI_SECRET": b.ami_secret,
        "HOTLINE_PBX_PBX_B_QUEUE_LOG": str(b.pbx_dir / "log" / "queue_log"),
        "HOTLINE_PBX_PBX_B_RECORDINGS": str(b.pbx_dir / "spool" / "recordings"),
    }


async def members(settings: Settings) -> dict[str, str]:
    """intake's members on this PBX: interface -> Paused."""
    async with pbx.session(settings) as client:
        status = await client.action("QueueStatus", {"Queue": "intake"})
    assert isinstance(status, EventList)
    return {
        str(m.get("Location")): str(m.get("Paused"))
        for m in status.events
        if m.name == "QueueMember"
    }


def routed(centre: Centre, since: int) -> dict[str, int]:
    lines = centre.log_lines("hotline: at=", since)
    to = [re.search(r"to PBX sip:([\d.]+):", ln) for ln in lines if " call " in ln]
    return {a: sum(1 for m in to if m and m.group(1) == a) for a in ADDRESSES}


def test_the_controller_over_two_pbxs_behind_kamailio(
    centre: Centre, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    env = controller_env(centre)
    settings = Settings.from_env(env)
    history = History.open(tmp_path / "history.sqlite3")
    try:
        asyncio.run(scenario(centre, settings, history, redis_url))
        # every citizen's call is in the history once, on the PBX whose IVR answered it
        records = history.calls()
        by_pbx = {name: sum(1 for r in records if r.pbx == name) for name in ("pbx-a", "pbx-b")}
        FIGURES["history_by_pbx"] = by_pbx
        answered = FIGURES["answered_by_pbx"]
        assert len({r.call_id for r in records}) == len(records)
        assert by_pbx == answered, (by_pbx, answered)
        assert sum(by_pbx.values()) == FIGURES["citizens"]
        # ``metrics report --by pbx``: the PBXs add up to the centre
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        span = ["--from", "2020-01-01", "--to", "2099-12-31"]
        db = str(tmp_path / "history.sqlite3")
        capsys.readouterr()
        argv = ["metrics", "report", *span, "--by", "pbx", "--format", "json", "--db", db]
        assert main(argv) == 0
        doc = json.loads(capsys.readouterr().out)
        groups = {g["key"]: g["counts"] for g in doc["groups"]}
        assert set(groups) == {"pbx-a", "pbx-b"}
        FIGURES["metrics_by_pbx"] = {
            k: {n: v[n] for n in ("R", "A", "L")} for k, v in groups.items()
        }
        for name in ("R", "A", "A15", "Ab", "L"):
            total = doc["total"]["counts"][name]
            assert total == groups["pbx-a"][name] + groups["pbx-b"][name], name
        # queued: the citizens who pressed 0 (the ones after the stop only reached the IVR)
        assert doc["total"]["counts"]["R"] == FIGURES["queued"]
        # no agent had a ring-no-answer, in the whole run
        rna = [c for c in history.journal() if c.kind == "ring_no_answer"]
        assert rna == [], rna
    finally:
        history.close()


async def scenario(centre: Centre, settings: Settings, history: History, redis_url: str) -> None:
    redis = aredis.Redis.from_url(redis_url, socket_timeout=30)
    await redis.flushdb()
    # each queue_log is read from where it ends now: test_kamailio's calls are not ours
    await bed.queue_logs_from_here(redis, (
        ("hotline:queuelog:position", centre.pbxs[0].pbx_dir / "log" / "queue_log"),
        ("hotline:pbx:pbx-b:queuelog:position", centre.pbxs[1].pbx_dir / "log" / "queue_log"),
    ))  # fmt: skip
    one = AMIClient(pbx.endpoint(centre.pbxs[0]), OPTIONS)
    (link,) = settings.other_pbxs
    assert link.ami_secret is not None
    two = AMIClient(Endpoint(link.ami_host, link.ami_port, link.ami_user, link.ami_secret), OPTIONS)
    center = load_center(settings.center.read_text(encoding="utf-8"))
    controller = Controller(
        settings, center, client=one, redis=redis, history=history, others={"pbx-b": two}
    )
    task = asyncio.create_task(controller.run())
    try:
        await asyncio.wait_for(controller.ready.wait(), 20)
        await until(lambda: controller.others["pbx-b"].resyncs >= 1, 20, "pbx-b resync")
        await log_in(centre, controller)
        await calls_on_both(centre, controller, history)
        await busy_elsewhere(centre, controller, history)
        await failover(centre, controller, history, redis)
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=15)
        await redis.aclose()


async def log_in(centre: Centre, controller: Controller) -> None:
    """1. Each agent logs in through the controller: she is in intake on both PBXs."""
    for ext in EXTS:
        cmd = Command(id=uuid.uuid4().hex, verb=Verb.LOGIN, agent=ext, actor=ext)
        reply = await controller.agent_actions.carry_out(cmd)
        assert reply.ok, reply.message
    for settings in centre.pbxs:
        shown = await members(settings)
        assert {f"PJSIP/{ext}": "0" for ext in EXTS}.items() <= shown.items(), (
            settings.pbx_name,
            shown,
        )


async def calls_on_both(centre: Centre, controller: Controller, history: History) -> None:
    """2. Citizens on both PBXs, two agents in both queues: never two calls on a phone."""
    since, began = centre.log_size(), controller.clock()
    done = await asyncio.gather(*await place(centre, 8, "callers", 60000, timeout=100))
    await settle(controller, history, len(done))
    busy = centre.log_lines(" 486 agent=", since)
    FIGURES["citizens"] = FIGURES["queued"] = len(done)
    FIGURES["answered_by_pbx"] = count_by_pbx(done)
    per_agent = {a.ext: a.calls() for a in centre.agents}
    FIGURES["calls"] = {
        "citizens": len(done),
        "routed_to": routed(centre, since),
        "agent_calls": {
            ext: {addr: sum(1 for c in calls if c.pbx == addr) for addr in ADDRESSES}
            for ext, calls in per_agent.items()
        },
        "agent_most_at_once": {ext: most_at_once(calls) for ext, calls in per_agent.items()},
        "kamailio_486": len(busy),
    }
    journal = [c for c in history.journal(since=began) if c.agent in NAMES.values()]
    rna = [c for c in journal if c.kind == "ring_no_answer"]
    FIGURES["calls"]["journal_ring_busy"] = sum(  # type: ignore[index]
        1 for c in journal if c.kind == "ring_end" and c.reason == "busy"
    )
    why = json.dumps(FIGURES["calls"]) + "\n" + "\n".join(centre.log_lines("hotline:", since)[-40:])
    assert set(FIGURES["calls"]["routed_to"].values()) == {4}, why  # type: ignore[index]
    # every citizen was answered by an agent, and each agent took calls
    assert sum(len(c) for c in per_agent.values()) == len(done), why
    assert all(len(c) >= 2 for c in per_agent.values()), why
    # both agents answered calls of both PBXs between them
    assert {c.pbx for calls in per_agent.values() for c in calls} == set(ADDRESSES), why
    # never two calls at once on one phone
    assert all(most_at_once(c) == 1 for c in per_agent.values()), why
    # a ring Kamailio refused is not a ring-no-answer in the agents' journal
    assert rna == [], (rna, why)
    records = history.calls(since=began)
    assert [r.end_reason for r in records] == [EndReason.ANSWERED] * len(done), records
    assert {r.agent for r in records} == set(NAMES.values()), records


async def command(controller: Controller, verb: Verb, ext: str, reason: str = "") -> None:
    cmd = Command(id=uuid.uuid4().hex, verb=verb, agent=ext, actor=ext, reason=reason)
    reply = await controller.agent_actions.carry_out(cmd)
    assert reply.ok, reply.message


async def busy_elsewhere(centre: Centre, controller: Controller, history: History) -> None:
    """2b. 王芳 talks on pbx-a outside the queues (no hold for it): pbx-b rings her,
    Kamailio refuses (486), and her journal has a busy ring_end, no ring_no_answer."""
    # the agents talk long from now on (here, and a call still going on pbx-b when it stops)
    for agent in list(centre.agents):
        agent.stop()
        centre.agents.remove(agent)
        centre.agent(agent.ext, centre.base / "agents-long", talk_ms=20000)
    await command(controller, Verb.PAUSE, "1002", "meal")
    before = len(history.calls())
    since, began = centre.log_size(), controller.clock()
    async with pbx.session(centre.pbxs[0]) as a:
        direct = {
            "Channel": "PJSIP/1001", "Application": "Wait", "Data": "30",
            "CallerID": "direct <8888>",
        }  # fmt: skip
        await a.originate(list(direct.items()))
        # one lands on each PBX; both wait in intake, then give up
        done = await asyncio.gather(*await place(centre, 2, "busy", 7000))
        await a.action("Hangup", {"Channel": "/^PJSIP/1001-/"})
    await command(controller, Verb.UNPAUSE, "1002")
    await settle(controller, history, before + len(done))
    busy = centre.log_lines(" 486 agent=1001", since)
    mine = history.journal(agent=NAMES["1001"], since=began)
    FIGURES["busy_elsewhere"] = {
        "kamailio_486": len(busy),
        "journal": [[c.kind, c.reason] for c in mine if c.kind.startswith("ring")],
    }
    FIGURES["citizens"] = int(FIGURES["citizens"]) + len(done)  # type: ignore[call-overload]
    FIGURES["queued"] = int(FIGURES["queued"]) + len(done)  # type: ignore[call-overload]
    for name, n in count_by_pbx(done).items():
        FIGURES["answered_by_pbx"][name] += n  # type: ignore[index]
    why = json.dumps(FIGURES["busy_elsewhere"], ensure_ascii=False)
    assert busy, why
    assert any(c.kind == "ring_end" and c.reason == "busy" for c in mine), why
    assert not [c for c in mine if c.kind == "ring_no_answer"], why


def count_by_pbx(runs: list[sip.SippRun]) -> dict[str, int]:
    names = dict(zip(ADDRESSES, ("pbx-a", "pbx-b"), strict=True))
    out = {"pbx-a": 0, "pbx-b": 0}
    for run in runs:
        address = answered_by(run)
        assert address in names, run.logs.get("messages", "")[-2000:]
        out[names[address]] += 1
    return out


async def settle(controller: Controller, history: History, count: int, timeout: float = 30) -> None:
    """Until the history holds ``count`` ended calls more than before (or time is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await controller.flush()
        if len(controller.calls) == 0 and len(history.calls()) >= count:
            return
        await asyncio.sleep(0.2)


async def failover(
    centre: Centre, controller: Controller, history: History, redis: aredis.Redis
) -> None:
    """3. pbx-b stopped with a call talking on it."""
    before = len(history.calls())
    since = centre.log_size()
    runs = await place(centre, 2, "cut", 60000, timeout=100)

    def talking(prefix: bool) -> list[str]:
        return [
            c.call_id
            for c in controller.calls.records()
            if c.t_answer and c.call_id.startswith("pbx-b:") is prefix
        ]

    await until(lambda: talking(True) and talking(False), 40, "a call talking on each PBX")
    (cut,) = talking(True)
    FIGURES["routed_before_stop"] = routed(centre, since)
    stopping = time.monotonic()
    await asyncio.to_thread(centre.stop_pbx, 1)
    gone = time.monotonic()
    stop_took = gone - stopping
    dead = centre.pbxs[1]
    watch = asyncio.create_task(marked_down(centre, f"sip:{dead.sip_address}:{dead.sip_port}"))
    late = []
    for n in range(3):
        late.append(asyncio.create_task(timed_call(centre, n, gone)))
        await asyncio.sleep(1.0)
    marked = await watch
    detected = None if marked is None else marked - gone
    after = await asyncio.gather(*late)
    cut_runs = await asyncio.gather(*runs)
    await settle(controller, history, before + 5, timeout=40)
    record = history.call(cut)
    live = LiveStore(redis)
    shown = (await live.docs("setting")).get("pbxs", {}).get("pbxs")
    FIGURES["failover"] = {
        "detected_down_s": None if detected is None else round(detected, 2),
        "detected_from_stop_begin_s": None if marked is None else round(marked - stopping, 2),
        "new_calls_answered_after_stop_s": [round(t, 2) for _, t in after],
        "answered_by": [answered_by(r) for r, _ in after],
        "stop_took_s": round(stop_took, 2),
        "setup_s": [setup_seconds(r) for r, _ in after],
        "cut_call": None
        if record is None
        else [record.pbx, record.end_reason and record.end_reason.value, record.agent],
        "pbxs_setting": shown,
    }
    answered = FIGURES["answered_by_pbx"]
    for name, n in count_by_pbx([*cut_runs, *(r for r, _ in after)]).items():
        answered[name] += n  # type: ignore[index]
    FIGURES["citizens"] = int(FIGURES["citizens"]) + len(cut_runs) + len(after)  # type: ignore[call-overload]
    FIGURES["queued"] = int(FIGURES["queued"]) + len(cut_runs)  # type: ignore[call-overload]
    why = json.dumps(FIGURES["failover"], ensure_ascii=False)
    assert all(r is not None and answered_by(r) == ADDRESSES[0] for r, _ in after), why
    assert all(t < 5 for _, t in after), why
    assert detected is not None, why
    assert detected < 5, why
    assert record is not None, why
    assert (record.pbx, record.end_reason) == ("pbx-b", EndReason.PBX_DOWN), why
    assert record.agent in NAMES.values(), why
    assert shown == [{"name": "pbx-a", "up": True}, {"name": "pbx-b", "up": False}], why
    # from the busy phase on too, no phone ever had two calls at once
    at_once = {a.ext: most_at_once(a.calls()) for a in centre.agents}
    FIGURES["failover"]["agent_most_at_once"] = at_once  # type: ignore[index]
    assert set(at_once.values()) == {1}, at_once


async def marked_down(centre: Centre, uri: str, timeout: float = 10) -> float | None:
    """When (monotonic) Kamailio's dispatcher first shows ``uri`` down, polled every 0.1 s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = await asyncio.to_thread(kamailio_run.destinations, centre.kamailio)
        if not {d.uri: d.up for d in shown}.get(uri, True):
            return time.monotonic()
        await asyncio.sleep(0.1)
    return None


async def timed_call(centre: Centre, n: int, gone: float) -> tuple[sip.SippRun, float]:
    """A citizen after pbx-b stopped; seconds from the stop to her IVR's 200 OK."""
    started = time.monotonic()
    run = await call(centre, "", centre.base / "failover", 1500, f"f{n}")
    setup = setup_seconds(run)
    assert setup is not None, run.logs.get("messages", "")[-2000:]
    return run, started - gone + setup
