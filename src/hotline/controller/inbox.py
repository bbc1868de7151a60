"""Carry out the commands sent over the bus (``hotline agent ...``, ``hotline alerts ...``,
``hotline notice ...``, ``hotline recall dial``, ``hotline supervise ...``, ``hotline
transfer ...``, the web): one at a time, each with a reply.

The IVR notice is a global of each Asterisk: it is set on every PBX whose link is up, and a
PBX that (re)connects later gets the current one at its resync (:meth:`Commands.resend_notice`,
from the live setting ``notice``), so that callers on any PBX hear the same announcement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from hotline.ami.errors import AMIError
from hotline.commands.bus import Reply
from hotline.commands.plan import ALERT_VERBS, Command, CommandError, Verb, plan_notice
from hotline.controller.agent_actions import Asterisk
from hotline.controller.links import Links, none_up, one_or_many
from hotline.controller.outbox import Publish
from hotline.core.records import AgentChange
from hotline.ivr.loader import FlowError
from hotline.pbx.errors import PBXError
from hotline.pbx.install import read_flow
from hotline.stores.live import Change, Kind

log = logging.getLogger(__name__)
Handler = Callable[[Command], Awaitable[Reply]]


class CommandInbox(Protocol):
    """Where commands come from and replies go (:class:`hotline.commands.bus.Inbox`)."""

    def __aiter__(self) -> AsyncIterator[Command | tuple[str, CommandError]]: ...
    async def reply(self, command_id: str, reply: Reply) -> None: ...


class LiveSettings(Protocol):
    """The live settings (:class:`hotline.stores.live.LiveStore`): the notice in force."""

    async def docs(self, kind: Kind) -> dict[str, dict[str, Any]]: ...


class Commands:
    """Each command to its handler: an agent's (``agent_actions``), an alert's lifecycle
    (``alerts``), or the IVR announcement, switched here: the ``Setvar`` to ``asterisk``
    (every PBX's link when it is :class:`Links`), the announcements known from the flow
    file ``flow``; ``live``: where the notice in force is read back for a PBX that
    (re)connects."""

    def __init__(
        self,
        *,
        agent_actions: Handler,
        alerts: Handler,
        recall: Handler | None = None,
        visit: Handler | None = None,
        asterisk: Asterisk | Links[Asterisk],
        flow: Path,
        outbox: Publish,
        clock: Callable[[], int],
        supervise: Handler | None = None,
        transfer: Handler | None = None,
        live: LiveSettings | None = None,
    ) -> None:
        self.agent_actions = agent_actions
        self.supervise = supervise
        self.transfer = transfer
        self.alerts = alerts
        self.recall = recall
        self.visit = visit
        self.links = one_or_many(asterisk)
        self.live = live
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
        """Set HOTLINE_NOTICE on every PBX whose link is up (the IVR plays that
        announcement) and show it live; a PBX whose link is down gets it at its resync."""
        try:
            flow, _ = await asyncio.to_thread(read_flow, self.flow)
            action, headers = plan_notice(command, flow.announcements)
        except (CommandError, FlowError, PBXError) as exc:
            return Reply(False, str(exc))
        up = self.links.up()
        if not up:
            return none_up(self.links)
        done, failed = [], []
        for pbx, asterisk in up:
            try:
                await asterisk.action(action, headers)
                done.append(pbx)
            except AMIError as exc:
                failed.append(f"{pbx}: {exc}" if pbx else str(exc))
        if not done:
            return Reply(False, f"notice: {'; '.join(failed)}")
        now = self.clock()
        doc = {"value": command.notice, "by": command.actor, "t": now}
        self.outbox.put(Change("setting", "notice", doc))
        self.outbox.journal(
            AgentChange(t=now, agent="", kind="notice", reason=command.notice, actor=command.actor)
        )
        shown = f"announcement {command.notice}" if command.notice else "announcement off"
        missed = [p for p in self.links if p not in done]
        if missed:
            # the live setting above says what is in force: their resync sets it
            details = {"notice": command.notice, "set": ", ".join(done),
                       "missed": ", ".join(missed)}  # fmt: skip
            why = f" ({'; '.join(failed)})" if failed else ""
            return Reply(
                True, f"{shown} on {details['set']}; not yet on {details['missed']}{why}: "
                "set when its link is back", details,
                "notice_partial" if command.notice else "notice_off_partial",
            )  # fmt: skip
        if not command.notice:
            return Reply(True, "announcement off", key="notice_off")
        return Reply(True, f"announcement {command.notice}", {"notice": command.notice}, "notice")

    async def resend_notice(self, pbx: str, asterisk: Asterisk) -> None:
        """Give a PBX that (re)connected the notice in force (the live setting ``notice``):
        a restarted Asterisk lost its globals, and one whose link was down missed a switch.
        Nothing when no notice was ever switched (the dialplan's own default stands)."""
        if self.live is None:
            return
        doc = (await self.live.docs("setting")).get("notice")
        if doc is None:
            return
        value = str(doc.get("value") or "")
        command = Command(id="resync", verb=Verb.NOTICE, agent="", actor="controller",
                          supervisor=True, notice=value)  # fmt: skip
        try:
            flow, _ = await asyncio.to_thread(read_flow, self.flow)
            action, headers = plan_notice(command, flow.announcements)
            await asterisk.action(action, headers)
        except (CommandError, FlowError, PBXError, AMIError) as exc:
            log.warning("the notice %r was not set on %s: %s", value, pbx or "the PBX", exc)
            return
        log.info("notice %r set on %s at its resync", value, pbx or "the PBX")

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
