"""``hotline agents list|audit|report`` and ``hotline agent VERB AGENT``.

``agents list`` shows the agents as the controller sees them now (Redis); ``agents audit``
and ``agents report`` judge past data (:mod:`hotline.cli.agents_audit`); ``agent`` logs an
agent in or out, pauses or unpauses them through the controller (QueueAdd, QueueRemove,
QueuePause over AMI), which journals who asked.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from hotline.cli import agents_audit
from hotline.cli.common import print_json, read_center
from hotline.cli.live import send_command, snapshot
from hotline.commands.plan import AGENT_VERBS, Command, Verb
from hotline.core.termtable import table
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings

__all__ = ["add_parsers", "run_agent", "run_agents"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("agents", help="agents as the controller sees them now")
    p.set_defaults(handler=run_agents)
    ps = p.add_subparsers(dest="agents_command", required=True)
    ps.add_parser("list").add_argument("--format", choices=["table", "json"], default="table")
    agents_audit.add_parsers(ps)

    p = sub.add_parser(
        "agent", help="log an agent in or out, pause or unpause (via the controller)"
    )
    p.set_defaults(handler=run_agent)
    p.add_argument("verb", choices=[v.value for v in AGENT_VERBS])
    p.add_argument("agent", help="extension or name (center.yaml)")
    p.add_argument("--queue")
    p.add_argument("--reason", help="a pause reason code (center.yaml)")
    p.add_argument("--as", dest="actor", default="", help="who asks (default: the agent)")
    p.add_argument("--supervisor", action="store_true", help="a supervisor's forced action")


def run_agents(settings: Settings, args: argparse.Namespace) -> int:
    if args.agents_command == "audit":
        return agents_audit.run_audit(settings, args)
    if args.agents_command == "report":
        return agents_audit.run_report(settings, args)
    return _list(settings, args)


def _list(settings: Settings, args: argparse.Namespace) -> int:
    agents = snapshot(settings).agents
    if args.format == "json":
        print_json(agents)
        return 0
    now = wall_ms()
    rows = []
    for name, a in sorted(agents.items()):
        reasons = {m["reason"] for m in a["memberships"] if m["paused"] and m["reason"]}
        seconds = max(0, (now - a["since"]) // 1000) if a.get("since") else 0
        rows.append([
            name, a["status"], f"{seconds // 60}:{seconds % 60:02d}",
            ",".join(sorted(reasons)) or "-", ",".join(a["queues"]),
        ])  # fmt: skip
    print(table(["agent", "status", "for", "reason", "queues"], rows, right={2}))
    return 0


def run_agent(settings: Settings, args: argparse.Namespace) -> int:
    center = read_center(settings)
    agent = center.agent(args.agent)
    command = Command(
        id=uuid.uuid4().hex,
        verb=Verb(args.verb),
        agent=args.agent,
        actor=args.actor or (agent.name if agent else args.agent),
        queue=args.queue,
        reason=args.reason,
        supervisor=args.supervisor,
        issued_at=wall_ms(),
    )
    return send_command(settings, command)
