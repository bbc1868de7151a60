"""Carry out agent and supervisor commands sent with ``hotline agent ...`` (hotline.bus)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hotline.ami.errors import AMIError
from hotline.bus import Inbox, Reply
from hotline.commands import Command, CommandError, Verb, plan

if TYPE_CHECKING:
    from hotline.controller.core import Controller

log = logging.getLogger(__name__)
EXPECT = {Verb.LOGIN: "login", Verb.LOGOUT: "logout", Verb.PAUSE: "pause", Verb.UNPAUSE: "unpause"}


async def execute(controller: Controller, command: Command) -> Reply:
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


async def serve_commands(controller: Controller) -> None:
    # the inbox (its stream position) outlives a restart of this loop after a Redis error,
    # so commands sent during the back-off are still served
    if controller.inbox is None:
        controller.inbox = Inbox(controller.redis)
    inbox = controller.inbox
    async for item in inbox:
        if isinstance(item, tuple):
            command_id, error = item
            await inbox.reply(command_id, Reply(False, str(error)))
            continue
        reply = await execute(controller, item)
        log.info("command %s %s by %s: %s", item.verb.value, item.agent, item.actor, reply.message)
        await inbox.reply(item.id, reply)
