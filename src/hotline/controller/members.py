"""What each agent should be on every PBX (her queues, her pause), and whose word the
agents' model follows.

    members = DesiredMembers(redis, agents, clock)
    await members.remember({"王芳"})               # after her login, pause, ...: kept in Redis
    await members.readd(client, status)            # a PBX that restarted lost its members
    await members.repause(client, status, "pbx-b") # a PBX that was away missed pauses
    members_source("pbx-a", links_up)              # "pbx-a", or the first other PBX up

An agent is a member of her queues on every PBX of the centre, paused or not alike on each
(her commands go to every PBX: ``agent_actions``). The agents' model follows the member
events of one PBX: the default while its link is up, else the first other PBX whose link
is up (:func:`members_source`), so an agent can still log in and pause while the default
PBX is down. A PBX that was away while the others took her commands is brought back in
line at its resync: missing members re-added (a restart), pauses set as they should be
(:meth:`DesiredMembers.repause`). A member held by the controller (``hotline:held:<pbx>``)
is left alone: its holds are the hold keeper's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import redis.asyncio as aredis

from hotline.agents.holds import HOLD_PREFIX
from hotline.agents.model import AgentView, Membership
from hotline.ami.errors import AMIError
from hotline.ami.message import EventList, Message
from hotline.controller.agent_actions import Asterisk, Expectations
from hotline.core.records import PauseSetBy
from hotline.stores.keys import KEYS

log = logging.getLogger(__name__)


def members_source(default: str, up: Mapping[str, bool]) -> str:
    """The PBX whose member events the agents' model follows: ``default`` while its link
    is up, else the first PBX in ``up`` (the settings' order) whose link is up, else
    ``default`` (nothing to follow)."""
    if up.get(default, False):
        return default
    return next((name for name, link in up.items() if link), default)


def intent(view: AgentView, m: Membership) -> dict[str, Any]:
    """What one of her memberships should be, as kept in Redis."""
    return {
        "name": view.name,
        "queue": m.queue,
        "interface": m.interface,
        "state_interface": m.state_interface,
        "paused": m.paused,
        "reason": m.reason,
    }


def pause_drift(
    status: Iterable[Message], intents: Iterable[dict[str, Any]]
) -> list[dict[str, str]]:
    """The QueuePause headers that bring a PBX's members (its QueueStatus) to what they
    should be: paused or not, with the reason; a member the controller holds there is left
    alone, and so is one the PBX does not have (:meth:`DesiredMembers.readd`'s)."""
    wanted = {(i["queue"], i["interface"]): i for i in intents}
    actions = []
    for m in status:
        if m.name != "QueueMember":
            continue
        want = wanted.get((m.get("Queue"), m.get("Location")))
        if want is None or (m.get("PausedReason") or "").startswith(HOLD_PREFIX):
            continue
        if (m.get("Paused") == "1") == bool(want["paused"]):
            continue
        headers = {"Queue": want["queue"], "Interface": want["interface"],
                   "Paused": "true" if want["paused"] else "false"}  # fmt: skip
        if want["paused"]:
            headers["Reason"] = want.get("reason") or ""
        actions.append(headers)
    return actions


class Views(Protocol):
    def view(self, name: str) -> AgentView | None: ...

    def views(self) -> Mapping[str, AgentView]: ...


class DesiredMembers:
    """The agents' intended memberships in Redis (``KEYS.members``), and the actions that
    restore them on a PBX."""

    def __init__(
        self, redis: aredis.Redis, agents: Views, expectations: Expectations,
        clock: Callable[[], int],
    ) -> None:  # fmt: skip
        self.redis = redis
        self.agents = agents
        self.expectations = expectations
        self.clock = clock

    async def remember(self, names: set[str]) -> None:
        """Keep what each agent should be (queues, pause) for a PBX that lost it."""
        keys = KEYS.members
        current = await self.redis.hgetall(keys)
        pipe = self.redis.pipeline(transaction=True)
        for raw_key, raw in current.items():
            if json.loads(raw).get("name") in names:
                pipe.hdel(keys, raw_key)
        for name in names:
            view = self.agents.view(name)
            if view is None:
                continue
            for m in view.memberships:
                pipe.hset(keys, f"{m.queue}|{m.interface}", json.dumps(intent(view, m)))
        await pipe.execute()

    async def intents(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in (await self.redis.hgetall(KEYS.members)).values()]

    async def readd(self, client: Asterisk, status: EventList, *, expect: bool = True) -> int:
        """Re-add the members Asterisk lost in its restart, paused as they were.

        ``expect``: the agents' model follows this PBX's member events, so it is told who
        re-adds (the journal says the controller did).
        """
        present = {
            (m.get("Queue"), m.get("Location")) for m in status.events if m.name == "QueueMember"
        }
        added = 0
        for want in await self.intents():
            if (want["queue"], want["interface"]) in present:
                continue
            if expect:
                self.expectations.expect(
                    want["name"], "login", set_by=PauseSetBy.SYSTEM, actor="controller",
                    queue=want["queue"], now=self.clock(),
                )  # fmt: skip
            headers = {
                "Queue": want["queue"],
                "Interface": want["interface"],
                "MemberName": want["name"],
                "Paused": "true" if want["paused"] else "false",
            }
            if want.get("state_interface"):
                headers["StateInterface"] = want["state_interface"]
            if want["paused"]:
                headers["Reason"] = want.get("reason", "")
            try:
                await client.action("QueueAdd", headers)
                added += 1
            except AMIError as exc:
                log.warning("re-adding %s to %s failed: %s", want["name"], want["queue"], exc)
        log.info("Asterisk restarted: re-added %d members", added)
        return added

    def now_intents(self) -> list[dict[str, Any]]:
        """What every agent should be now, from the agents' model itself (Redis has it only
        after the next flush)."""
        views = self.agents.views()
        return [intent(view, m) for view in views.values() for m in view.memberships]

    async def repause(self, client: Asterisk, status: EventList, pbx: str) -> int:
        """Pause or unpause the members of a PBX that was away while the others took the
        agents' commands, as the agents' model has them; how many were changed."""
        changed = 0
        for headers in pause_drift(status.events, self.now_intents()):
            try:
                await client.action("QueuePause", headers)
                changed += 1
            except AMIError as exc:
                log.warning("setting %s on %s failed: %s", headers, pbx, exc)
        if changed:
            log.info(
                "PBX %s was away: %d members paused or unpaused as they should be", pbx, changed
            )
        return changed
