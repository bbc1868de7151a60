"""Live supervision on Asterisk: a supervisor's phone joins an agent's call, logged.

    sessions = Supervision(center, client, access_log.append, clock)   # or Links(...)
    reply = await sessions.carry_out(command)   # Verb.SUPERVISE: finds the agent's channel,
                                                # rings the supervisor's phone into ChanSpy
    await sessions.follow(client.subscribe(*Supervision.EVENTS))   # ends sessions, logged
    await sessions.follow(client2.subscribe(*Supervision.EVENTS), pbx="pbx2")  # each PBX

Who may listen is checked where the request comes in (the CLI and the web know the
accounts); here the command is carried out as asked, like every command on the bus. Each
session is two access-log entries: ``supervise-<mode>`` when the supervisor's phone is
rung (who, which agent, which call, from which phone), and ``supervise-end`` when the
supervisor's channel hangs up (whether they joined, how long, the modes they switched to
with the keys 4, 5 and 6, each with its time).

In a centre on several PBXs (:class:`~hotline.controller.links.Links`) the agent's channel
is looked for on every PBX whose link is up, and the supervisor's phone is rung into
ChanSpy on the PBX that carries her call (ChanSpy sees only its own Asterisk's channels;
the phone is reached from any PBX through Kamailio). Each PBX's events are followed with
its name: an Originate's ActionID is only unique on its own link.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass, field

from hotline.agents.roster import Agent
from hotline.ami.errors import AMIError
from hotline.ami.message import EventList, Message
from hotline.center.config import Center
from hotline.commands.bus import Reply
from hotline.commands.plan import Command, CommandError
from hotline.commands.supervise import (
    ACCESS_END,
    SUPERVISOR_ROLE,
    Mode,
    agent_channel,
    plan_notify,
    plan_spy,
)
from hotline.controller.agent_actions import Asterisk, device_state
from hotline.controller.links import Links, none_up, one_or_many
from hotline.stores.access import AccessEntry

log = logging.getLogger(__name__)
KEYS = {m.key: m for m in Mode}
UNREACHABLE = frozenset({"UNAVAILABLE", "INVALID", "UNKNOWN"})
"""Device states of a phone that cannot be rung (Asterisk would log an ERROR trying)."""


@dataclass
class Session:
    """One supervisor on one agent's call, from the ring of their phone to its hang-up."""

    id: str
    actor: str
    agent: str
    call: str
    phone: str
    channel: str  # the agent's channel spied on
    mode: Mode
    t_rung: int
    pbx: str = ""  # the PBX carrying the agent's call ("" for a bare client)
    t_joined: int | None = None  # ChanSpy started (the dialplan's UserEvent HotlineSpy)
    modes: list[tuple[str, int]] = field(default_factory=list)  # (mode, t) after each switch

    def target(self) -> str:
        return self.call or self.agent

    def started(self) -> AccessEntry:
        detail = {"session": self.id, "agent": self.agent, "call": self.call,
                  "phone": self.phone, "channel": self.channel}  # fmt: skip
        if self.pbx:
            detail["pbx"] = self.pbx
        return AccessEntry(
            t=self.t_rung, user=self.actor, role=SUPERVISOR_ROLE,
            action=self.mode.access_action, target=self.target(), purpose="",
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
        )  # fmt: skip

    def ended(self, now: int, *, unseen: bool = False) -> AccessEntry:
        """The end entry; ``unseen``: the hang-up came while the PBX's link was down (found
        at its resync: ``seconds`` runs to then)."""
        joined = self.t_joined is not None
        seconds = round((now - (self.t_joined or now)) / 1000, 1)
        detail: dict[str, object] = {
            "session": self.id, "agent": self.agent, "call": self.call, "joined": joined,
            "seconds": seconds, "modes": self.modes,
        }  # fmt: skip
        if unseen:
            detail["end_unseen"] = True
        return AccessEntry(
            t=now, user=self.actor, role=SUPERVISOR_ROLE, action=ACCESS_END,
            target=self.target(), purpose="",
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
        )  # fmt: skip


class Supervision:
    """Supervision sessions: started by commands, followed through AMI events."""

    EVENTS = ("UserEvent", "DTMFEnd", "Hangup", "OriginateResponse")

    def __init__(
        self,
        center: Center,
        asterisk: Asterisk | Links[Asterisk],
        record: Callable[[AccessEntry], object],
        clock: Callable[[], int],
    ) -> None:
        self.center = center
        self.links = one_or_many(asterisk)
        self.record = record  # AccessLog.append (blocking: run in a thread)
        self.clock = clock
        self.sessions: dict[str, Session] = {}
        # (the PBX, the Originate's ActionID) -> session id
        self.originates: dict[tuple[str, str], str] = {}

    async def carry_out(self, command: Command) -> Reply:
        """Find the agent's channel, ring the supervisor's phone into ChanSpy, log it."""
        try:
            mode = Mode(command.mode)
        except ValueError:
            return Reply(False, f"unknown mode {command.mode!r} (listen, whisper or barge)")
        agent = self.center.agent(command.agent)
        if agent is None:
            return Reply(False, f"unknown agent {command.agent!r} (see center.yaml)")
        if command.phone not in self.center.supervision.phones:
            known = ", ".join(sorted(self.center.supervision.phones)) or "none"
            return Reply(
                False, f"{command.phone!r} is no supervisor's phone (center.yaml: {known})"
            )
        up = self.links.up()
        if not up:
            return none_up(self.links)
        found = await self._find(agent, up)
        if isinstance(found, Reply):
            return found
        if found is None:
            return self._not_found(agent, command.call)
        pbx, asterisk, channel = found
        try:
            state = await device_state(asterisk, f"PJSIP/{command.phone}")
        except AMIError as exc:
            return Reply(False, f"supervise {agent.name}: {exc}")
        if state in UNREACHABLE:
            return Reply(
                False, f"phone {command.phone} is not registered (not reachable)",
                {"phone": command.phone}, "spy_phone_unreachable",
            )  # fmt: skip
        session = Session(
            f"spy-{uuid.uuid4().hex}", command.actor, agent.name, command.call,
            command.phone, channel, mode, self.clock(), pbx,
        )  # fmt: skip
        try:
            action, headers = plan_spy(
                session.id, mode, channel, agent, command.phone, command.actor
            )
        except CommandError as exc:
            return Reply(False, str(exc))
        self.sessions[session.id] = session  # before the Originate: its Hangup may be quick
        try:
            queued = await asterisk.action(action, headers)
        except AMIError as exc:
            self.sessions.pop(session.id, None)
            return Reply(False, f"supervise {agent.name}: {exc}")
        action_id = queued.action_id if isinstance(queued, Message) else None
        if action_id:  # a phone that cannot be rung: the OriginateResponse says Failure
            self.originates[(pbx, action_id)] = session.id
        await asyncio.to_thread(self.record, session.started())
        if self.center.supervision.notify_agent:
            try:
                await asterisk.action(*plan_notify(channel))
            except AMIError as exc:  # the session goes on; the agent was not told
                log.warning("could not tell %s a supervisor joined: %s", agent.name, exc)
        on = f" on {pbx}" if self.links.several else ""
        return Reply(
            True,
            f"{mode.value} {agent.name} from {command.phone} ({channel}{on}); "
            "keys 4 listen, 5 whisper, 6 barge",
            {"session": session.id, "channel": channel, "agent": agent.name, "pbx": pbx},
        )

    async def _find(
        self, agent: Agent, up: list[tuple[str, Asterisk]]
    ) -> tuple[str, Asterisk, str] | Reply | None:
        """The PBX carrying the agent's call, its link and her channel there (None: in no
        call on any PBX whose link is up)."""
        for pbx, asterisk in up:
            try:
                listing = await asterisk.action("CoreShowChannels")
            except AMIError as exc:
                return Reply(False, f"supervise {agent.name}: {exc}")
            events = listing.events if isinstance(listing, EventList) else []
            channel = agent_channel(events, agent)
            if channel is not None:
                return pbx, asterisk, channel
        return None

    def _not_found(self, agent: Agent, call: str) -> Reply:
        """Why the agent's call was not found: on no PBX, or maybe on one whose link is down
        (the call the supervisor picked names its PBX)."""
        down = self.links.down()
        owner = self.links.owner(call) if call else None
        if down and (owner is None or owner in down):
            where = owner if owner in down else ", ".join(down)
            return Reply(
                False, f"{agent.name}'s call cannot be joined now: the controller is not "
                f"connected to PBX {where}", {"agent": agent.name, "pbx": where}, "spy_pbx_down",
            )  # fmt: skip
        return Reply(
            False, f"{agent.name} is in no call right now", {"agent": agent.name}, "no_call"
        )

    def apply(self, event: Message, now: int, pbx: str = "") -> AccessEntry | None:
        """Follow one event of PBX ``pbx`` (its name in :class:`Links`, "" for a bare
        client); the end entry when it ends a session."""
        if event.name == "OriginateResponse":
            key = (pbx, event.get("ActionID") or "")
            failed = self.sessions.get(self.originates.pop(key, ""))
            if failed is None or (event.get("Response") or "").lower() != "failure":
                return None
            del self.sessions[failed.id]  # never rung or never answered: no channel is left
            return failed.ended(now)
        session = self.sessions.get(event.get("Uniqueid") or "")
        if session is None:
            return None
        if event.name == "UserEvent" and event.get("UserEvent") == "HotlineSpy":
            if event.get("Step") == "start" and session.t_joined is None:
                session.t_joined = now
                session.modes.append((session.mode.value, now))
        elif event.name == "DTMFEnd" and session.t_joined is not None:
            mode = KEYS.get(event.get("Digit") or "")
            if mode is not None and event.get("Direction", "Received") == "Received":
                session.modes.append((mode.value, now))
        elif event.name == "Hangup":
            del self.sessions[session.id]
            return session.ended(now)
        return None

    def lost(self, pbx: str, channels: Iterable[Message], now: int) -> list[AccessEntry]:
        """At PBX ``pbx``'s resync (its CoreShowChannels): the sessions there whose
        supervisor's channel is gone (it hung up while the link was down), ended."""
        alive = {c.get("Uniqueid") for c in channels if c.name == "CoreShowChannel"}
        gone = [s for s in self.sessions.values() if s.pbx == pbx and s.id not in alive]
        for session in gone:
            del self.sessions[session.id]
        return [session.ended(now, unseen=True) for session in gone]

    async def resynced(self, pbx: str, channels: Iterable[Message]) -> None:
        """End (in the access log) the sessions that ended on ``pbx`` while its link was
        down: the Hangup event was never seen."""
        for entry in self.lost(pbx, channels, self.clock()):
            await asyncio.to_thread(self.record, entry)

    async def follow(self, events: AsyncIterable[Message], pbx: str = "") -> None:
        """End sessions as their channels hang up on PBX ``pbx`` (its name in
        :class:`Links`); each end goes into the access log."""
        async for event in events:
            entry = self.apply(event, self.clock(), pbx)
            if entry is not None:
                await asyncio.to_thread(self.record, entry)
