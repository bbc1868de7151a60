"""``hotline supervise listen|whisper|barge CALL_OR_AGENT --from EXT --as USER``.

A supervisor joins an agent's live call from their own softphone: the controller rings
``EXT`` (a phone of ``supervision.phones`` in center.yaml) and, once answered, it listens
(nobody hears the supervisor), whispers (only the agent hears them) or barges (both the
agent and the citizen do); the keys 4, 5 and 6 switch mode during the call. ``USER`` must
be an enabled supervisor account (``hotline users``) whose teams include the agent's; the
session goes into the access log (``hotline access list``) when the phone is rung and
when it hangs up.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from hotline.agents.roster import Agent
from hotline.center.config import Center
from hotline.cli.common import CLIError, account, grant_of, read_center
from hotline.cli.live import send_command, snapshot
from hotline.commands.plan import Command, CommandError, Verb
from hotline.commands.supervise import MODES, check_supervisor
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings

__all__ = ["add_parsers", "grant_of", "resolve", "run"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("supervise", help="listen to, whisper to or barge into an agent's live call")
    p.set_defaults(handler=run)
    p.add_argument("mode", choices=MODES)
    p.add_argument(
        "target", metavar="CALL_OR_AGENT", help="a call id, or an agent's extension or name"
    )
    p.add_argument("--from", dest="phone", required=True, metavar="EXT",
                   help="the supervisor's softphone (center.yaml supervision.phones)")  # fmt: skip
    p.add_argument("--as", dest="user", required=True, metavar="USER",
                   help="the supervisor's account (hotline users)")  # fmt: skip


def resolve(key: str, center: Center, calls: dict[str, dict[str, Any]] | None) -> tuple[Agent, str]:
    """The agent and the call id (or "") that ``key`` names: an agent's extension or name,
    else a call the controller follows now (``calls``: the live store's calls)."""
    agent = center.agent(key)
    if agent is not None:
        return agent, ""
    call = (calls or {}).get(key)
    if call is None:
        raise CLIError(f"{key!r} is neither an agent (center.yaml) nor a call in progress")
    name = str(call.get("agent") or "")
    agent = center.agent(name) if name else None
    if agent is None:
        raise CLIError(f"call {key} has no agent yet (it is not answered)")
    return agent, key


def run(settings: Settings, args: argparse.Namespace) -> int:
    center = read_center(settings)
    if args.phone not in center.supervision.phones:
        known = ", ".join(sorted(center.supervision.phones)) or "none"
        raise CLIError(f"--from {args.phone}: not a supervisor's phone (center.yaml: {known})", 2)
    calls = None if center.agent(args.target) else snapshot(settings).calls
    agent, call = resolve(args.target, center, calls)
    user = account(settings.db, args.user)
    try:
        check_supervisor(grant_of(user), agent)
    except CommandError as exc:
        raise CLIError(str(exc)) from None
    command = Command(
        id=uuid.uuid4().hex,
        verb=Verb.SUPERVISE,
        agent=agent.name,
        actor=user.username,
        supervisor=True,
        issued_at=wall_ms(),
        mode=args.mode,
        phone=args.phone,
        call=call,
    )
    return send_command(settings, command)
