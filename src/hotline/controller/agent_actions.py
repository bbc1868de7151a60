"""Carry out an agent command (login, logout, pause, unpause) on Asterisk, attributed.

The command is planned from the centre's roster (center.yaml), announced to the
agents reducer (so the events Asterisk sends back are journaled as done by the command's
actor), then sent; the reply says what Asterisk did, queue by queue.

In a centre on several PBXs an agent is a member on each: the same actions go to every
other PBX (``mirrors``) after the default one, except an unpause where a hold keeps her
(``held``: another PBX rings or connects her; the hold's lift frees her there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Protocol

from hotline.agents.model import Kind
from hotline.agents.roster import Roster
from hotline.ami.client import Headers
from hotline.ami.errors import AMIError
from hotline.ami.message import EventList, Message
from hotline.commands.bus import Reply
from hotline.commands.plan import Command, CommandError, Verb, plan
from hotline.core.records import PauseSetBy

EXPECT: dict[Verb, Kind] = {
    Verb.LOGIN: "login",
    Verb.LOGOUT: "logout",
    Verb.PAUSE: "pause",
    Verb.UNPAUSE: "unpause",
}
NOT_CONNECTED = "the controller is not connected to Asterisk right now"
NOT_CONNECTED_REPLY = Reply(False, NOT_CONNECTED, key="not_connected")
log = logging.getLogger(__name__)


class Asterisk(Protocol):
    """Where actions go: :class:`hotline.ami.client.AMIClient` (or
    :class:`hotline.ami.stand_in.StandInAMI`)."""

    @property
    def connected(self) -> bool: ...

    async def action(self, name: str, headers: Headers = ...) -> Message | EventList: ...


async def device_state(asterisk: Asterisk, interface: str) -> str:
    """Asterisk's DEVICE_STATE of a phone (``PJSIP/1001``): NOT_INUSE, INUSE, RINGING,
    UNAVAILABLE (not registered), ...; "" when Asterisk gave no value. AMIError if the
    action failed."""
    reply = await asterisk.action("Getvar", {"Variable": f"DEVICE_STATE({interface})"})
    return (reply.get("Value") or "") if isinstance(reply, Message) else ""


class Expectations(Protocol):
    """Who is about to change an agent (:class:`hotline.agents.state.Agents`)."""

    def expect(
        self, agent: str, kind: Kind, *, set_by: PauseSetBy, actor: str = "", queue: str = "",
        now: int,
    ) -> None: ...  # fmt: skip


class AgentActions:
    """Agent commands on Asterisk, each announced to ``agents`` before it is sent."""

    def __init__(
        self,
        roster: Roster,
        asterisk: Asterisk,
        agents: Expectations,
        clock: Callable[[], int],
        *,
        mirrors: Mapping[str, Asterisk] | None = None,
        held: Callable[[str, str], bool] = lambda pbx, interface: False,
        name: str = "",
    ) -> None:
        self.roster = roster
        self.asterisk = asterisk
        self.agents = agents
        self.clock = clock
        self.mirrors = dict(mirrors or {})
        self.held = held
        self.name = name  # the default PBX's (replies name a PBX not reached)

    async def carry_out(self, command: Command) -> Reply:
        """Plan, announce (so the journal says who did it), send; report what Asterisk
        said."""
        try:
            planned = plan(command, self.roster)
        except CommandError as exc:
            return Reply(False, str(exc))
        # the default PBX first; while it is down, the first other PBX up (its events then
        # feed the agents' model: controller/members.py), and the rest mirror it
        links = [(self.name, self.asterisk), *self.mirrors.items()]
        up = [(pbx, a) for pbx, a in links if a.connected]
        if not up:
            return NOT_CONNECTED_REPLY
        first, primary = up[0]
        rest = [link for link in links if link[0] != first]
        now = self.clock()
        for _, headers in planned.actions:
            self.agents.expect(
                planned.agent.name, EXPECT[command.verb],
                set_by=planned.set_by, actor=command.actor, queue=headers["Queue"], now=now,
            )  # fmt: skip
        failed = []
        for name, headers in planned.actions:
            if first != self.name and self._held_there(first, headers):
                continue
            try:
                await primary.action(name, headers)
            except AMIError as exc:
                failed.append(f"{headers['Queue']}: {exc}")
        done = len(planned.actions) - len(failed)
        if done:
            failed += await self._mirror(planned.actions, rest)
        verb = command.verb.value
        if failed:
            return Reply(done > 0, f"{verb} {planned.agent.name}: {'; '.join(failed)}")
        queues = ", ".join(h["Queue"] for _, h in planned.actions)
        return Reply(
            True, f"{verb} {planned.agent.name} ({queues})",
            {"agent": planned.agent.name, "queues": queues}, key=verb,
        )  # fmt: skip

    def _held_there(self, pbx: str, headers: dict[str, str]) -> bool:
        """An unpause of a member the controller holds on ``pbx``: the hold's lift frees her."""
        return headers.get("Paused") == "false" and self.held(pbx, headers["Interface"])

    async def _mirror(
        self, actions: tuple[tuple[str, dict[str, str]], ...], to: list[tuple[str, Asterisk]]
    ) -> list[str]:
        """The same actions on the other PBXs; what failed there, named by PBX."""
        failed = []
        for pbx, asterisk in to:
            if not asterisk.connected:
                failed.append(f"{pbx or 'PBX'}: {NOT_CONNECTED}")
                continue
            for name, headers in actions:
                if self._held_there(pbx, headers):
                    continue  # held there: the hold's lift will free her
                try:
                    await asterisk.action(name, headers)
                except AMIError as exc:
                    log.warning("%s %s on %s failed: %s", name, headers, pbx, exc)
                    failed.append(f"{pbx} {headers['Queue']}: {exc}")
        return failed
