"""The Wuyi case on the real Asterisk, through the real controller, in about a minute.

王芳 logs in and sets herself 示忙 (busy) again and again while citizens wait in her queues;
李娜 takes an approved meal break inside its budget, then answers. With thresholds scaled
from minutes to seconds (the rules are the shipped ones), the controller must raise the
right alerts within seconds, with the right cost (the abandoned and the late-answered
callers), escalate (a note to her, a note to the supervisor, then a forced logout), let a
supervisor acknowledge; 李娜 raises nothing. Then ``hotline agents audit`` over the same
run's queue_log must give the same alerts (ids, rules, cost calls) as the live run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from hotline.ami.client import AMIClient
from hotline.ami.message import EventList
from hotline.commands import bus
from hotline.commands.plan import Command, Verb
from hotline.core.records import PauseSetBy
from hotline.host.settings import Settings
from hotline.stores.live import LiveStore
from tests.integration import test_controller as tc
from tests.integration.test_ivr_calls import dial

pytestmark = pytest.mark.asyncio

# The shipped reasons and teams; thresholds in seconds instead of minutes, shift changes and
# short talks out of the way (the test runs at any hour; the Local agent talks 2 s).
CENTER = """
pause_reasons:
  busy:   {label: 示忙}
  meal:   {label: 用餐, break: true, max_minutes: 40}
  forced: {label: 强制示忙, supervisor_only: true}
teams:
  team-a:
    label: 一班
    supervisor: 班长01
    shifts:
      - {name: day, from: "00:00", to: "24:00"}
agents:
  "1001": {name: 王芳, team: team-a, queues: [intake, labour]}
  "1002": {name: 李娜, team: team-a, queues: [intake, property],
           interface: "Local/1002@hotline-test-agent/n"}
watchdog:
  thresholds:
    busy_max_minutes: 0.25      # 15 s
    wait_seconds: 4
    shift_busy_minutes: 0.5     # 30 s
    flip_seconds: 3
    flips: 2
    shift_change_minutes: 0
    short_talks: 50
  rules:
    paused_while_waiting:
      severity: critical
      escalation:
        - {action: note_agent, after_seconds: 0}
        - {action: alert_supervisor, after_seconds: 3}
        - {action: force_logout, after_seconds: 30}
"""


@pytest_asyncio.fixture
async def wuyi(
    ami: AMIClient, pbx_running: Settings, redis_url: str, tmp_path: Path
) -> AsyncIterator[tc.Running]:
    center = tmp_path / "center.yaml"
    center.write_text(CENTER, encoding="utf-8")
    settings = dataclasses.replace(pbx_running, center=center)
    async with tc.controller_on(settings, redis_url, tmp_path) as run:
        yield run


async def send(run: tc.Running, verb: Verb, agent: str = "", **kw: Any) -> bus.Reply:
    actor = str(kw.pop("actor", agent))
    command = Command(id=uuid.uuid4().hex, verb=verb, agent=agent, actor=actor, **kw)
    reply = await bus.send(run.redis, command, timeout=10)
    assert reply.ok, reply.message
    return reply


async def until(run: tc.Running, what: str, check: Any, timeout: float) -> Any:
    """Poll ``check()`` (flushing the controller first) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        await run.controller.flush()
        got = await check()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.25)


def rules_of(alerts: dict[str, dict[str, Any]], agent: str) -> dict[str, dict[str, Any]]:
    return {a["rule"]: a for a in alerts.values() if a["agent"] == agent}


async def test_the_wuyi_case_live_escalated_and_the_same_from_queue_log(
    ami: AMIClient, wuyi: tc.Running, tmp_path: Path, env: dict[str, str]
) -> None:
    run = wuyi
    live = LiveStore(run.redis)
    queue_log = run.settings.pbx_dir / "log" / "queue_log"
    log_start = queue_log.stat().st_size

    async def alerts() -> dict[str, dict[str, Any]]:
        return await live.alerts()

    await send(run, Verb.LOGIN, "1001")
    await send(run, Verb.LOGIN, "1002")
    await send(run, Verb.PAUSE, "1001", reason="busy")
    t0 = time.monotonic()
    await send(run, Verb.PAUSE, "1002", reason="meal")
    abandoned = await dial(ami, "1-4", caller="13800000001", TALK="10")  # gives up waiting

    # rule 2 within seconds of the caller's 4th second in the queue, escalated at once
    found = await until(
        run, "paused_while_waiting",
        lambda: _with(alerts, "王芳", "paused_while_waiting"), timeout=20,
    )  # fmt: skip
    raised_after = time.monotonic() - t0
    waiting = found["paused_while_waiting"]
    assert waiting["severity"] == "critical"
    notes = await until(run, "notes", lambda: live.docs("note"), timeout=8)
    to_agent = [n for n in notes.values() if n["role"] == "agent" and n["agent"] == "王芳"]
    assert to_agent
    assert to_agent[0]["alert"] == waiting["id"]
    late = await dial(ami, "1-4", caller="13800000002", TALK="30")  # answered after ~18 s
    supervisor = await until(
        run, "supervisor note",
        lambda: _notes(live, "supervisor", waiting["id"]), timeout=10,
    )  # fmt: skip
    assert supervisor[0]["to"] == "班长01"

    # she flips twice (back within 3 s): the timer does not reset, rule 3 sees it
    for _ in range(2):
        await asyncio.sleep(1.0)
        await send(run, Verb.UNPAUSE, "1001")
        await asyncio.sleep(0.5)
        await send(run, Verb.PAUSE, "1001", reason="busy")

    # 李娜's meal ends after ~30 s (40 min allowed): she answers the waiting caller late
    await asyncio.sleep(max(0.0, 31 - (time.monotonic() - t0)))
    await send(run, Verb.UNPAUSE, "1002")
    await asyncio.sleep(3)
    on_time = await dial(ami, "1-4", caller="13800000003", TALK="4")  # answered at once

    found = await until(
        run, "long pause, shift total and flips",
        lambda: _with(alerts, "王芳", "long_pause", "shift_busy_total", "pause_flip"),
        timeout=20,
    )  # fmt: skip

    # the forced logout, 30 s after the waiting alert was raised: QueueRemove, journaled
    async def logged_out() -> bool:
        status = await ami.action("QueueStatus")
        assert isinstance(status, EventList)
        return not any(m.get("Name") == "王芳" for m in status.events if m.name == "QueueMember")

    await until(run, "forced logout", logged_out, timeout=40)
    await tc.wait_calls_done(run.controller, [abandoned, late, on_time], 60)
    await run.controller.flush()
    journal = run.history.journal("王芳")
    logout = [c for c in journal if c.kind == "logout"]
    assert logout, [c.kind for c in journal]
    assert logout[-1].set_by is PauseSetBy.SUPERVISOR
    assert logout[-1].actor == "watchdog"
    steps = [c for c in journal if c.kind == "escalation"]
    assert {c.reason for c in steps} >= {"note_agent", "alert_supervisor", "force_logout"}
    assert [r["action"] for r in run.history.escalations(alert=waiting["id"])] == [
        "note_agent", "alert_supervisor", "force_logout",
    ]  # fmt: skip

    # the cost: the caller who gave up and the one answered after 15 s; not the one on time
    final = rules_of(await live.alerts(), "王芳")
    cost = final["paused_while_waiting"]["cost"]
    assert set(cost["calls"]) == {abandoned, late}, cost
    assert (cost["abandoned"], cost["answered_late"]) == (1, 1)
    assert rules_of(await live.alerts(), "李娜") == {}  # an approved break inside its budget

    # a supervisor acknowledges (the CLI, through the controller); the journal says who and
    # why; the history keeps it
    cli_env = {**os.environ, **env, "HOTLINE_DB": str(run.history_path)}
    code, out, err = await hotline(
        cli_env, "alerts", "ack", waiting["id"], "-m", "已电话提醒", "--as", "班长01"
    )
    assert code == 0, err
    assert "acknowledged" in out
    code, out, err = await hotline(
        cli_env, "alerts", "list", "--state", "acknowledged", "--format", "json"
    )
    assert code == 0, err
    assert [a["id"] for a in json.loads(out)] == [waiting["id"]]
    stored = run.history.alert(waiting["id"])
    assert stored is not None
    assert stored["state"] == "acknowledged"
    assert stored["history"][0]["by"] == "班长01"
    await run.controller.flush()
    acks = [c for c in run.history.journal("王芳") if c.kind == "alert_acknowledge"]
    assert acks
    assert acks[0].actor == "班长01"
    assert "已电话提醒" in acks[0].note
    assert run.history.verify_journal() is None

    # the same alerts from the queue_log alone (what an inspector has for past months)
    part = tmp_path / "queue_log"
    with queue_log.open("rb") as f:
        f.seek(log_start)
        part.write_bytes(f.read())
    code, out, err = await hotline(
        cli_env, "agents", "audit", "--queue-log", str(part), "--config",
        str(run.settings.center), "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    audited = {a["id"]: a for a in json.loads(out)["alerts"]}
    lived = {a["id"]: a for a in run.history.alerts()}
    assert _facts(audited) == _facts(lived)
    print(f"paused_while_waiting raised {raised_after:.1f} s after the pause; "
          f"{len(lived)} alerts, the same from queue_log")  # fmt: skip


async def hotline(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run the CLI without blocking the loop (the controller under test runs in it)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def _with(alerts: Any, agent: str, *rules: str) -> dict[str, dict[str, Any]] | None:
    found = rules_of(await alerts(), agent)
    return found if all(r in found for r in rules) else None


async def _notes(live: LiveStore, role: str, alert: str) -> list[dict[str, Any]]:
    return [n for n in (await live.docs("note")).values() if n["role"] == role
            and n["alert"] == alert]  # fmt: skip


def _facts(alerts: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """What the rules found, comparable across ms (AMI) and whole seconds (queue_log)."""
    return {
        i: (a["rule"], a["agent"], a["severity"], sorted(a["cost"]["calls"]),
            a["cost"]["abandoned"], a["cost"]["answered_late"])
        for i, a in alerts.items()
    }  # fmt: skip
