"""The agents' values: a membership, an agent as seen, a command's expectation (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hotline.agents.status import DeviceState, PauseKind, Phase
from hotline.core.records import AgentStatus, PauseSetBy

__all__ = ["AUTOPAUSE_REASON", "AgentView", "Expectation", "Kind", "Membership"]

AUTOPAUSE_REASON = "Auto-Pause"  # app_queue's reason when autopause pauses a member
Kind = Literal["login", "logout", "pause", "unpause"]


@dataclass(frozen=True, slots=True)
class Membership:
    """One agent in one queue."""

    queue: str
    interface: str = ""  # Interface (QueueStatus: Location)
    state_interface: str = ""
    paused: bool = False
    reason: str = ""  # PausedReason, while paused
    since: int = 0  # ms: login, or the last pause/unpause
    set_by: PauseSetBy | None = None  # who paused, when known
    actor: str = ""
    wrapuptime: int = 0  # s, the member's own (Wrapuptime); 0: the queue's


@dataclass(frozen=True, slots=True)
class AgentView:
    """One agent as a supervisor sees it, with what the status was derived from."""

    name: str
    memberships: tuple[Membership, ...]  # by queue name
    device: DeviceState
    phase: Phase
    call_id: str  # the call talking, else the first ringing ("" if none or unknown)
    wrap_up_until: int | None
    pause: PauseKind
    status: AgentStatus
    since: int  # ms: the status since

    @property
    def queues(self) -> tuple[str, ...]:
        return tuple(m.queue for m in self.memberships)


@dataclass(frozen=True, slots=True)
class Expectation:
    agent: str
    kind: Kind
    queue: str  # "" = every queue of the agent (QueuePause without Queue)
    set_by: PauseSetBy
    actor: str
    until: int
