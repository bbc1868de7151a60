"""``hotline sim``: simulated citizens and agents against the running PBX (a planned,
seeded traffic of calls, digits, answers and pauses, played over AMI)."""

from __future__ import annotations

import argparse
import asyncio
import random
from typing import Any

from hotline.ami.errors import AMIError
from hotline.host.settings import Settings
from hotline.pbx import install
from hotline.pbx import runner as pbx
from hotline.pbx.errors import PBXError
from hotline.sim.plan import plan_traffic
from hotline.sim.runner import DIALER, SimStats, missing_dialplan, play

__all__ = ["add_parsers", "run_sim"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("sim", help="simulated citizens and agents (needs the running PBX)")
    p.set_defaults(handler=run_sim)
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--rate", type=float, default=6.0, help="calls per minute")
    p.add_argument("--agents", type=int, default=4)
    p.add_argument("--seed", type=int, default=12345)


def no_flow(settings: Settings, missing: list[str]) -> str:
    """What is missing from the PBX for simulated calls, and the command that fixes it."""
    lacks = ", ".join(missing)
    if any(m.endswith("@" + DIALER) for m in missing):
        if settings.pbx == "bundled":
            fix = "`hotline pbx reload` renders the bundled templates again"
        else:
            fix = f"sim needs the [{DIALER}] context of hotline's extensions.conf in that Asterisk"
        return f"the PBX's dialplan lacks {lacks}: {fix}"
    if settings.pbx == "bundled":
        fix = f"`hotline ivr apply` installs the configured flow ({settings.flow}) and reloads"
    else:
        fix = (
            f"`hotline ivr render {settings.flow} --out DIR`, copy the files into that "
            "Asterisk's configuration, then `dialplan reload` and `queue reload all`"
        )
    return f"no IVR flow is installed in the PBX (it lacks {lacks}): {fix}"


def run_sim(settings: Settings, args: argparse.Namespace) -> int:
    """Simulated citizens and agents against the running PBX."""
    flow, _ = install.read_flow(settings.flow)
    traffic = plan_traffic(
        flow, random.Random(args.seed), calls=args.calls, rate=args.rate, agents=args.agents
    )

    async def go() -> SimStats:
        async with pbx.session(settings) as client:
            missing = await missing_dialplan(client, flow)
            if missing:
                raise PBXError(no_flow(settings, missing))
            return await play(client, flow, traffic)

    print(
        f"simulating {args.calls} calls at {args.rate}/min with {args.agents} agents "
        f"(seed {args.seed})",
        flush=True,
    )
    try:
        stats = asyncio.run(go())
    except AMIError as exc:
        raise PBXError(f"simulation stopped: {exc}") from exc
    print(f"placed {stats.placed} calls ({stats.failed} failed), {stats.pauses} pauses")
    return 0 if stats.failed == 0 else 1
