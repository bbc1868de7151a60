"""Play a :class:`~hotline.sim.plan.TrafficPlan` against the running PBX over AMI.

Citizens are Local channels into the IVR (``Local/<did>@hotline-ivr``) whose other half
runs ``hotline-test-dialer`` (dialplan/extensions.conf): it presses the route's digits and
stays on the line for its patience. Agents are queue members
``Local/<ext>@hotline-test-agent/n`` that answer and talk ``AGENT_TALK`` seconds (the
``__`` prefix makes the variable reach the agent's channel through the queue).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from hotline.ami.client import AMIClient
from hotline.ami.errors import ActionFailed, AMIError
from hotline.ivr.asterisk import ENTRY
from hotline.ivr.model import Flow
from hotline.sim.plan import AgentPlan, Citizen, Pause, TrafficPlan

log = logging.getLogger(__name__)


DIALER = "hotline-test-dialer"
"""The context a simulated citizen's half of the call runs (the bundled extensions.conf)."""


async def missing_dialplan(client: AMIClient, flow: Flow) -> list[str]:
    """What simulated calls need that the PBX's dialplan lacks (``exten@context``): the
    flow's number in the IVR, the citizens' dialer. Without them every Originate fails
    with nothing better than "Reason 0"."""
    missing = []
    for exten, context in ((flow.did, ENTRY), ("s", DIALER)):
        try:
            await client.action("ShowDialPlan", {"Context": context, "Extension": exten})
        except ActionFailed:  # "Did not find context ..." / "... extension ..."
            missing.append(f"{exten}@{context}")
    return missing


def interface(ext: str) -> str:
    return f"Local/{ext}@hotline-test-agent/n"


@dataclass
class SimStats:
    placed: int = 0
    failed: int = 0
    pauses: int = 0


async def login(client: AMIClient, agents: tuple[AgentPlan, ...]) -> None:
    for agent in agents:
        for queue in agent.queues:
            try:
                await client.action(
                    "QueueAdd",
                    {"Queue": queue, "Interface": interface(agent.ext), "MemberName": agent.name},
                )
            except AMIError as exc:  # already a member after a restart of the simulator
                log.info("QueueAdd %s %s: %s", queue, agent.name, exc)


async def _call(client: AMIClient, flow: Flow, citizen: Citizen, stats: SimStats) -> None:
    digits = "-".join(citizen.route.digits)
    try:
        await client.originate(
            [
                ("Channel", f"Local/{flow.did}@hotline-ivr"),
                ("Context", DIALER),
                ("Exten", "s"),
                ("Priority", "1"),
                ("CallerID", f'"{citizen.name}" <{citizen.number}>'),
                ("Variable", f"DIGITS={digits}"),
                ("Variable", f"TALK={citizen.patience + citizen.talk:.1f}"),
                ("Variable", f"__AGENT_TALK={citizen.talk:.1f}"),
            ]
        )
        stats.placed += 1
    except AMIError as exc:
        stats.failed += 1
        log.warning("simulated call failed: %s", exc)


async def _pause(client: AMIClient, pause: Pause, stats: SimStats) -> None:
    iface = interface(pause.agent)
    try:
        await client.action(
            "QueuePause", {"Interface": iface, "Paused": "true", "Reason": pause.reason}
        )
        stats.pauses += 1
        await asyncio.sleep(pause.seconds)
        await client.action("QueuePause", {"Interface": iface, "Paused": "false"})
    except AMIError as exc:
        log.warning("simulated pause failed: %s", exc)


async def play(client: AMIClient, flow: Flow, plan: TrafficPlan, *, speed: float = 1.0) -> SimStats:
    """Log the agents in, then place calls and pauses at their planned times."""
    stats = SimStats()
    await login(client, plan.agents)
    loop = asyncio.get_running_loop()
    start = loop.time()
    events: list[tuple[float, Citizen | Pause]] = sorted(
        [(c.at, c) for c in plan.citizens] + [(p.at, p) for p in plan.pauses],
        key=lambda item: item[0],
    )
    tasks: set[asyncio.Task[None]] = set()
    for at, item in events:
        delay = start + at / speed - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if isinstance(item, Citizen):
            coro = _call(client, flow, item, stats)
        else:
            coro = _pause(client, item, stats)
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    return stats
