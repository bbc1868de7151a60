"""Carry out an agent command (login, logout, pause, unpause) on Asterisk, attributed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.ami.errors import AMIError
from hotline.commands.bus import Reply
from hotline.commands.plan import Command, CommandError, Verb, plan

if TYPE_CHECKING:
    from hotline.controller.core import Controller

EXPECT = {Verb.LOGIN: "login", Verb.LOGOUT: "logout", Verb.PAUSE: "pause", Verb.UNPAUSE: "unpause"}


async def carry_out(controller: Controller, command: Command) -> Reply:
    """Plan, announce (so the journal says who did it), send; report what Asterisk said."""
    try:
        planned = plan(command, controller.center)
    except CommandError as exc:
        return Reply(False, str(exc))
    if not controller.client.connected:
        return Reply(False, "the controller is not connected to Asterisk right now")
    now = controller.clock()
    for _, headers in planned.actions:
        controller.agents.expect(
            planned.agent.name, EXPECT[command.verb],  # type: ignore[arg-type]
            set_by=planned.set_by, actor=command.actor, queue=headers["Queue"], now=now,
        )  # fmt: skip
    failed = []
    for name, headers in planned.actions:
        try:
            await controller.client.action(name, headers)
        except AMIError as exc:
            failed.append(f"{headers['Queue']}: {exc}")
    done = len(planned.actions) - len(failed)
    verb = command.verb.value
    if failed:
        return Reply(done > 0, f"{verb} {planned.agent.name}: {'; '.join(failed)}")
    queues = ", ".join(h["Queue"] for _, h in planned.actions)
    return Reply(True, f"{verb} {planned.agent.name} ({queues})")
