"""Carry out the commands sent over the bus (``hotline agent ...``, ``hotline alerts ...``,
``hotline notice ...``, ``hotline recall dial``, ``hotline supervise ...``, ``hotline
transfer ...``, the web): one at a time, each with a reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Protocol

from hotline.ami.errors import AMIError
from hotline.commands.bus import Reply
from hotline.commands.plan import ALERT_VERBS, Command, CommandError, Verb, plan_notice
from hotline.controller.agent_actions import NOT_CONNECTED_REPLY, Asterisk
from hotline.controller.outbox import Publish
from hotline.core.records import AgentChange
from hotline.ivr.loader import FlowError
from hotline.pbx.errors import PBXError
from hotline.pbx.install import read_flow
from hotline.stores.live import Change

log = logging.getLogger(__name__)
Handler = Callable[[Command], Awaitable[Reply]]


class CommandInbox(Protocol):
    """Where commands come from and replies go (:class:`hotline.commands.bus.Inbox`)."""

    def __aiter__(self) -> AsyncIterator[Command | tuple[str, CommandError]]: ...
    async def reply(self, command_id: str, reply: Reply) -> None: ...


class Commands:
    """Each command to its handler: an agent's (``agent_actions``), an alert's lifecycle
    (``alerts``), or the IVR announcement, switched here: the ``Setvar`` to ``asterisk``,
    the announcements known from the flow file ``flow``."""

    def __init__(
        self,
        *,
        agent_actions: Handler,
        alerts: Handler,
        recall: Handler | None = None,
        visit: Handler | None = None,
        asterisk: Asterisk,
        flow: Path,
        outbox: Publish,
        clock: Callable[[], int],
        supervise: Handler | None = None,
        transfer: Handler | None = None,
    ) -> None:
        self.agent_actions = agent_actions
        self.supervise = supervise
        self.transfer = transfer
        self.alerts = alerts
        self.recall = recall
        self.visit = visit
        self.asterisk = asterisk
        self.flow = flow
        self.outbox = outbox
        self.clock = clock

    async def execute(self, command: Command) -> Reply:
        """Carry out any command: an agent's, an alert's lifecycle, the IVR announcement."""
        if command.verb.on_agent:
            return await self.agent_actions(command)
        if command.verb in ALERT_VERBS:
            return await self.alerts(command)
        if command.verb is Verb.RECALL:
            if self.recall is None:
                return Reply(False, "this controller does not dial recalls")
            return await self.recall(command)
        if command.verb is Verb.VISIT:
            if self.visit is None:
                return Reply(False, "this controller does not make 回访 calls")
            return await self.visit(command)
        if command.verb is Verb.SUPERVISE:
            if self.supervise is None:
                return Reply(False, "this controller does not carry out supervision")
            return await self.supervise(command)
        if command.verb is Verb.TRANSFER:
            if self.transfer is None:
                return Reply(False, "this controller does not transfer calls")
            return await self.transfer(command)
        return await self.switch_notice(command)

    async def switch_notice(self, command: Command) -> Reply:
        """Set HOTLINE_NOTICE (the IVR plays that announcement) and show it live."""
        try:
            flow, _ = await asyncio.to_thread(read_flow, self.flow)
            action, headers = plan_notice(command, flow.announcements)
        except (CommandError, FlowError, PBXError) as exc:
            return Reply(False, str(exc))
        if not self.asterisk.connected:
            return NOT_CONNECTED_REPLY
        try:
            await self.asterisk.action(action, headers)
        except AMIError as exc:
            return Reply(False, f"notice: {exc}")
        now = self.clock()
        doc = {"value": command.notice, "by": command.actor, "t": now}
        self.outbox.put(Change("setting", "notice", doc))
        self.outbox.journal(
            AgentChange(t=now, agent="", kind="notice", reason=command.notice, actor=command.actor)
        )
        if not command.notice:
            return Reply(True, "announcement off", key="notice_off")
        return Reply(True, f"announcement {command.notice}", {"notice": command.notice}, "notice")

    async def serve(self, inbox: CommandInbox) -> None:
        """Reply to each command of ``inbox`` (a malformed one: with its error).

        The inbox (its stream position) outlives a restart of this loop after a Redis
        error, so commands sent during the back-off are still served.
        """
        async for item in inbox:
            if isinstance(item, tuple):
                command_id, error = item
                await inbox.reply(command_id, Reply(False, str(error)))
                continue
            reply = await self.execute(item)
            log.info(
                "command %s %s by %s: %s", item.verb.value, item.agent, item.actor, reply.message
            )
            await inbox.reply(item.id, reply)
