"""Close the calls of a PBX whose AMI link stays down; reopen those it comes back with.

    lost = LostPbxs(clients, owners, lost_s=settings.pbx_lost_s, calls=calls,
                    agents=agents, queues=queues_of)
    for closed in lost.tick(now):           # the controller's ticker, under its lock
        ...                                 # closed.calls, .agents, .queues: to the outbox
    lost.resumed(record, now)               # a CallResumed: her talk goes on

A PBX killed outright, frozen or cut off sends no Hangup and no Shutdown: the link drops
on the Ping's timeout and its calls would stay open, in the live store, on the wallboard
and out of the history, until it came back, or for ever. The rule of when a PBX is lost
is :class:`hotline.calls.lost.LinkWatch` (pure); this component reads each link's state
from its AMI client (connected, how long quiet, how long down: the client's monotonic
clock, turned into the controller's milliseconds here) and, for a lost PBX, ends its
calls (:meth:`hotline.calls.state.Calls.lost`: PBX_LOST at the moment it was last heard),
its agents' rings and talks, and its callers on the queue tiles. Holds it put on the
other PBXs were lifted when its link dropped (:class:`hotline.controller.holds.HoldKeeper`).
The default PBX is watched like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from hotline.agents.state import Agents
from hotline.calls.lost import LinkWatch, Lost
from hotline.calls.state import Calls, Effect
from hotline.core.records import AgentChange, CallRecord
from hotline.queues.state import Queues

log = logging.getLogger(__name__)


class Link(Protocol):
    """A PBX's AMI link as this component reads it (:class:`hotline.ami.client.AMIClient`)."""

    @property
    def connected(self) -> bool: ...
    def quiet_s(self) -> float: ...
    def down_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Closed:
    """What a lost PBX ended: its calls' effects (CallLost), its agents' journal entries,
    and the queues whose tiles changed."""

    lost: Lost
    calls: list[Effect]
    agents: list[AgentChange]
    queues: list[str]


class LostPbxs:
    """Watches every PBX's link (``links``: name -> AMI client, the default PBX included);
    ``owners``: which calls are each PBX's (:meth:`hotline.calls.namespace.Namespace.owns`);
    ``queues``: a PBX's queue model, looked up when needed (it is replaced at a resync)."""

    def __init__(
        self,
        links: Mapping[str, Link],
        owners: Mapping[str, Callable[[str], bool]],
        *,
        lost_s: float,
        calls: Calls,
        agents: Agents,
        queues: Callable[[str], Queues | None],
    ) -> None:
        self.links = dict(links)
        self.owners = dict(owners)
        self.watch = LinkWatch(round(lost_s * 1000))
        self.calls = calls
        self.agents = agents
        self.queues = queues
        self.closed = 0
        """Calls closed with a lost PBX (for the logs and tests)."""

    def tick(self, now: int) -> list[Closed]:
        """Look at every link (about once a second); close the calls of a PBX just lost."""
        out = []
        for name, client in self.links.items():
            lost = self.watch.observe(
                name, client.connected, heard_at=now - round(client.quiet_s() * 1000),
                down_at=now - round(client.down_s() * 1000), now=now,
            )  # fmt: skip
            if lost is not None:
                out.append(self._close(lost))
        return out

    def _close(self, lost: Lost) -> Closed:
        note = (
            f"PBX {lost.pbx} last heard {lost.down_at - lost.heard_at} ms before its link "
            f"dropped, lost {lost.now - lost.down_at} ms after: the true end is no earlier"
        )
        effects = self.calls.lost(self.owners[lost.pbx], at=lost.heard_at, note=note)
        ids = [effect.record.call_id for effect in effects]
        changes = self.agents.calls_lost(ids, now=lost.now)
        model = self.queues(lost.pbx)
        queues = [c.view.name for c in model.calls_gone(ids)] if model is not None else []
        self.closed += len(ids)
        log.warning(
            "PBX %s lost: AMI link down %.1f s (last heard %.1f s ago): %d calls closed "
            "as pbx_lost, %d agent changes", lost.pbx, (lost.now - lost.down_at) / 1000,
            lost.silent_ms / 1000, len(ids), len(changes),
        )  # fmt: skip
        return Closed(lost, effects, changes, queues)

    def resumed(self, record: CallRecord, now: int) -> list[AgentChange]:
        """A call closed as lost that its PBX came back with: its agent talks again."""
        if not record.agent or record.t_answer is None or record.talk_end is not None:
            return []
        return self.agents.resume(record.agent, record.call_id, now=now)
