"""Carry out the commands sent over the bus (``hotline agent ...``, ``hotline alerts ...``,
``hotline notice ...``, the web): one at a time, each with a reply."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from hotline.ami.errors import AMIError
from hotline.commands.bus import Inbox, Reply
from hotline.commands.plan import ALERT_VERBS, Command, CommandError, plan_notice
from hotline.core.records import AgentChange
from hotline.ivr.loader import FlowError
from hotline.pbx.errors import PBXError
from hotline.pbx.install import read_flow
from hotline.stores.live import Change

if TYPE_CHECKING:
    from hotline.controller.core import Controller

log = logging.getLogger(__name__)


async def execute(controller: Controller, command: Command) -> Reply:
    """Carry out any command: an agent's, an alert's lifecycle, the IVR announcement."""
    if command.verb.on_agent:
        return await controller.agent_actions.carry_out(command)
    if command.verb in ALERT_VERBS:
        return await controller.alerting.handle(command)
    return await switch_notice(controller, command)


async def switch_notice(controller: Controller, command: Command) -> Reply:
    """Set HOTLINE_NOTICE (the IVR plays that announcement) and show it live."""
    try:
        flow, _ = await asyncio.to_thread(read_flow, controller.settings.flow)
        action, headers = plan_notice(command, flow.announcements)
    except (CommandError, FlowError, PBXError) as exc:
        return Reply(False, str(exc))
    if not controller.client.connected:
        return Reply(False, "the controller is not connected to Asterisk right now")
    try:
        await controller.client.action(action, headers)
    except AMIError as exc:
        return Reply(False, f"notice: {exc}")
    now = controller.clock()
    doc = {"value": command.notice, "by": command.actor, "t": now}
    controller.pending.live[("setting", "notice")] = Change("setting", "notice", doc)
    controller.pending.journal.append(
        AgentChange(t=now, agent="", kind="notice", reason=command.notice, actor=command.actor)
    )
    return Reply(True, f"announcement {command.notice or 'off'}")


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
