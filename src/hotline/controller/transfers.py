"""Transfers on Asterisk: an agent's call to a queue, an agent or a department, journaled.

    transfers = Transfers(center, links, journal=outbox.journal, queues=flow_queues, clock)
    reply = await transfers.carry_out(command)    # Verb.TRANSFER: finds the agent's and the
                                                  # citizen's channels, starts the transfer

Who may transfer is checked where the request comes in (the CLI and the web know the
accounts). Here the call is checked against Asterisk itself (CoreShowChannels): the citizen's
channel must exist and be bridged with the agent's, so a call that ended, or that no agent
answered yet, gets a clear error instead of an action on a stale channel. Each transfer goes
into the agent-state journal (kind ``transfer``, by whom, to what) and, as the UserEvent
``HotlineTransfer``, into the call's notes.

An attended transfer is the agent's atxfer keys and then the target's digits, as if she
pressed them, half a second apart (``digit_pause``). A conference is an attended transfer
made three-way once the target answers: a task waits
(at most ``answer_timeout`` seconds) for another channel up in the agent's new bridge.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hotline.ami.errors import AMIError
from hotline.ami.message import EventList, Message
from hotline.calls.namespace import SEPARATOR
from hotline.center.config import Center
from hotline.commands.bus import Reply
from hotline.commands.plan import Command, CommandError
from hotline.commands.supervise import agent_channel
from hotline.commands.transfer import (
    COMPLETE_KEYS,
    JOURNAL_KIND,
    Action,
    Mode,
    Target,
    plan_cancel,
    plan_keys,
    plan_note,
    plan_threeway,
    plan_transfer,
    resolve_target,
)
from hotline.controller.agent_actions import NOT_CONNECTED_REPLY, Asterisk
from hotline.controller.links import Links, one_or_many
from hotline.core.records import AgentChange

log = logging.getLogger(__name__)
UP = "6"  # CoreShowChannel ChannelState of an answered channel (AST_STATE_UP)
FINISH = ("complete", "cancel")
"""Command modes that finish the agent's attended transfer instead of starting one."""


@dataclass(frozen=True, slots=True)
class Channels:
    """What CoreShowChannels says of one call: the citizen's and the agent's channels."""

    caller: Message | None
    agent: str | None
    agent_bridge: str


def channels_of(listing: Iterable[Message], call: str, agent_chan: str | None) -> Channels:
    caller = None
    bridge = ""
    for ch in listing:
        if ch.get("Uniqueid") == call:
            caller = ch
        if agent_chan is not None and ch.get("Channel") == agent_chan:
            bridge = ch.get("BridgeId") or ""
    return Channels(caller, agent_chan, bridge)


def queue_peer(listing: Iterable[Message], caller: Message) -> str | None:
    """The queue member's channel bridged with the citizen (``AppQueue``: the leg app_queue
    dialled and connected), whatever its interface: the agent's channel when the roster's
    interface does not name it (a Local member under the agent's name)."""
    bridge = caller.get("BridgeId") or ""
    if not bridge:
        return None
    for ch in listing:
        if (
            ch.get("BridgeId") == bridge
            and ch.get("Uniqueid") != caller.get("Uniqueid")
            and ch.get("Application") == "AppQueue"
        ):
            return ch.get("Channel") or None
    return None


def answered_peer(listing: Iterable[Message], agent_chan: str, call: str) -> str | None:
    """The channel that answered in the agent's bridge during an attended transfer (not the
    citizen, who waits in the old one), or None yet."""
    items = list(listing)
    bridge = next((c.get("BridgeId") for c in items if c.get("Channel") == agent_chan), "")
    if not bridge:
        return None
    for ch in items:
        name = ch.get("Channel") or ""
        if (
            name != agent_chan
            and ch.get("BridgeId") == bridge
            and ch.get("Uniqueid") != call
            and ch.get("ChannelState") == UP
        ):
            return name
    return None


class Transfers:
    """Transfers started by commands; the three-way step of a conference as a task."""

    def __init__(
        self,
        center: Center,
        asterisk: Asterisk | Links[Asterisk],
        *,
        journal: Callable[[AgentChange], object],
        queues: Callable[[], Iterable[str]],
        clock: Callable[[], int],
        answer_timeout: float = 45.0,
        poll: float = 0.3,
        digit_pause: float = 0.5,
    ) -> None:
        self.center = center
        self.links = one_or_many(asterisk)  # a call on another PBX is transferred there
        self.journal = journal
        self.queues = queues  # the flow's queues, read when asked (the flow may change)
        self.clock = clock
        self.answer_timeout = answer_timeout
        self.poll = poll
        self.digit_pause = digit_pause
        self.tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    async def _listing(asterisk: Asterisk) -> list[Message]:
        reply = await asterisk.action("CoreShowChannels")
        return list(reply.events) if isinstance(reply, EventList) else []

    @staticmethod
    async def _send(asterisk: Asterisk, actions: list[Action]) -> None:
        for name, headers in actions:
            await asterisk.action(name, headers)

    def _where(self, call: str) -> tuple[Asterisk, str] | Reply:
        """The link of the PBX that carries CALL and the call's Uniqueid there, or why not."""
        pbx = self.links.owner(call)
        asterisk = self.links.get(pbx) if pbx is not None else None
        if asterisk is None:
            return Reply(
                False, f"no such call {call!r}: it is on no PBX this controller follows",
                {"call": call}, "no_such_call",
            )  # fmt: skip
        if not asterisk.connected:
            if not self.links.several:
                return NOT_CONNECTED_REPLY
            return Reply(
                False, f"call {call} is on PBX {pbx}, whose link is down",
                {"call": call, "pbx": str(pbx)}, "transfer_pbx_down",
            )  # fmt: skip
        prefix = f"{pbx}{SEPARATOR}"
        return asterisk, call[len(prefix) :] if call.startswith(prefix) else call

    async def carry_out(self, command: Command) -> Reply:
        """Check the call on Asterisk, start (or finish) the transfer, journal it."""
        agent = self.center.agent(command.agent)
        if agent is None:
            return Reply(False, f"unknown agent {command.agent!r} (see center.yaml)")
        finish = command.mode in FINISH
        try:
            mode = Mode.ATTENDED if finish else Mode(command.mode)
        except ValueError:
            return Reply(False, f"unknown transfer mode {command.mode!r}")
        try:
            target = None if finish else await asyncio.to_thread(self._target, command.target)
        except (CommandError, ValueError) as exc:  # FlowError is a ValueError too
            return Reply(False, str(exc))
        where = self._where(command.call)
        if isinstance(where, Reply):
            return where
        asterisk, uid = where
        try:
            listing = await self._listing(asterisk)
        except AMIError as exc:
            return Reply(False, f"transfer {command.call}: {exc}")
        chans = channels_of(listing, uid, agent_channel(listing, agent))
        caller = chans.caller
        if caller is None:
            return Reply(
                False, f"no such call {command.call!r} in progress",
                {"call": command.call}, "no_such_call",
            )  # fmt: skip
        bridged = caller.get("BridgeId") or ""
        if not finish and bridged and chans.agent_bridge != bridged:
            peer = queue_peer(listing, caller)
            if peer is not None:
                chans = channels_of(listing, uid, peer)
        if chans.agent is None:
            return Reply(
                False, f"{agent.name} is in no call right now", {"agent": agent.name}, "no_call"
            )
        if not finish and bridged != chans.agent_bridge:
            return Reply(
                False, f"call {command.call} is not answered by {agent.name} (not bridged)",
                {"call": command.call, "agent": agent.name}, "not_answered_by",
            )  # fmt: skip
        try:
            if finish:
                return await self._finish(asterisk, command, chans.agent)
            assert target is not None
            steps = plan_transfer(mode, chans.agent, target)
            for i, step in enumerate(steps):
                if i:  # the transfer has begun collecting the target's digits
                    await asyncio.sleep(self.digit_pause)
                await self._send(asterisk, step)
            await self._send(asterisk, [plan_note(uid, mode, target, command.actor)])
        except (AMIError, CommandError) as exc:
            return Reply(False, f"transfer {command.call} to {command.target}: {exc}")
        self._journal(command, agent.name, f"{mode.value}:{target.kind.value}:{target.name}")
        if mode is Mode.CONFERENCE:
            task = asyncio.create_task(self._threeway(asterisk, uid, chans.agent))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return Reply(
            True,
            f"{mode.value} transfer of {command.call} from {agent.name} to {target}",
            {"mode": mode.value, "kind": target.kind.value, "target": target.name,
             "label": target.label, "channel": chans.agent},
            f"transfer_{mode.value}",
        )  # fmt: skip

    def _target(self, to: str) -> Target:
        return resolve_target(to, self.center.agents, self.queues(), self.center.orders.departments)

    async def _finish(self, asterisk: Asterisk, command: Command, channel: str) -> Reply:
        if command.mode == "cancel":
            await self._send(asterisk, plan_cancel(channel))
        else:
            await self._send(asterisk, plan_keys(channel, COMPLETE_KEYS))
        self._journal(command, command.agent, command.mode)
        return Reply(
            True, f"attended transfer of {command.call}: {command.mode}",
            {"call": command.call}, f"transfer_{command.mode}",
        )  # fmt: skip

    def _journal(self, command: Command, agent: str, what: str) -> None:
        self.journal(
            AgentChange(
                t=self.clock(), agent=agent, kind=JOURNAL_KIND, reason=what,
                actor=command.actor, call_id=command.call,
            )
        )  # fmt: skip

    async def _threeway(self, asterisk: Asterisk, call: str, channel: str) -> None:
        """Once the target answers the agent, make it three-way (or give up, logged)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.answer_timeout
        try:
            while loop.time() < deadline:
                await asyncio.sleep(self.poll)
                listing = await self._listing(asterisk)
                if not any(c.get("Channel") == channel for c in listing):
                    log.info("conference on %s: the agent's channel is gone", call)
                    return
                if answered_peer(listing, channel, call) is not None:
                    await self._send(asterisk, plan_threeway(channel))
                    log.info("conference on %s: three-way", call)
                    return
            log.warning("conference on %s: the target did not answer in time", call)
        except AMIError as exc:
            log.warning("conference on %s: %s", call, exc)
