"""``hotline transfer CALL --to QUEUE|EXT|DEPT [--attended|--conference] --as USER``.

The controller transfers the citizen of call ``CALL`` (a call in progress, answered) away
from its agent: to another queue (the citizen waits there again), an agent's extension,
or a department's duty line (``orders.departments.<code>.phone`` in center.yaml, dialled
through the trunk). Blind by default; ``--attended`` puts the citizen on hold while the
agent talks to the target first, then ``--complete`` (or the agent hanging up) hands the
citizen over and ``--cancel`` takes them back; ``--conference`` makes it a three-way call
(三方通话) once the target answers. The call stays one call in the history and metrics.
``USER`` is the call's agent (an agent account) or a supervisor of the agent's team; the
transfer goes into the agent-state journal.
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
from hotline.commands.transfer import Mode, check_transferer
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings

__all__ = ["add_parsers", "call_agent", "run"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "transfer", help="transfer a call to a queue, an agent or a department (or three-way)"
    )
    p.set_defaults(handler=run)
    p.add_argument("call", metavar="CALL", help="a call in progress (hotline calls list)")
    p.add_argument(
        "--to", dest="target", metavar="QUEUE|EXT|DEPT",
        help="a queue, an agent's extension or name, a department's code or name",
    )  # fmt: skip
    how = p.add_mutually_exclusive_group()
    for flag, const, text in (
        (
            "--attended",
            Mode.ATTENDED.value,
            "talk to the target first; then --complete or --cancel",
        ),
        ("--conference", Mode.CONFERENCE.value, "citizen, agent and target in one call (三方通话)"),
        ("--complete", "complete", "hand the citizen over to an attended transfer's target"),
        ("--cancel", "cancel", "take the citizen back from an attended transfer"),
    ):
        how.add_argument(flag, dest="mode", action="store_const", const=const, help=text)
    p.set_defaults(mode=Mode.BLIND.value)
    p.add_argument(
        "--as", dest="user", required=True, metavar="USER",
        help="the call's agent or a supervisor of their team (hotline users)",
    )  # fmt: skip


def call_agent(call_id: str, center: Center, calls: dict[str, dict[str, Any]]) -> Agent:
    """The agent talking on ``call_id`` now; CLIError if there is no such call or no agent."""
    call = calls.get(call_id)
    if call is None:
        raise CLIError(f"no call {call_id!r} in progress (hotline calls list)")
    name = str(call.get("agent") or "")
    agent = center.agent(name) if name else None
    if agent is None or not call.get("t_answer"):
        raise CLIError(f"call {call_id} is not answered: there is nobody to transfer it from")
    if call.get("talk_end"):
        raise CLIError(f"call {call_id} is not talking with an agent now (transferred or ending)")
    return agent


def run(settings: Settings, args: argparse.Namespace) -> int:
    finishing = args.mode in ("complete", "cancel")
    if not finishing and not args.target:
        raise CLIError("--to QUEUE|EXT|DEPT: where to transfer the call", 2)
    if finishing and args.target:
        raise CLIError(f"--{args.mode} finishes an attended transfer: no --to", 2)
    center = read_center(settings)
    agent = call_agent(args.call, center, snapshot(settings).calls)
    user = account(settings.db, args.user)
    try:
        check_transferer(grant_of(user), agent, user.agent)
    except CommandError as exc:
        raise CLIError(str(exc)) from None
    command = Command(
        id=uuid.uuid4().hex,
        verb=Verb.TRANSFER,
        agent=agent.name,
        actor=user.username,
        supervisor=user.role.value == "supervisor",
        issued_at=wall_ms(),
        mode=args.mode,
        call=args.call,
        target=args.target or "",
    )
    return send_command(settings, command)
