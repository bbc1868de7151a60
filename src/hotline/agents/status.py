"""An agent's visible status, derived from what is modelled apart (pure, a table).

Asterisk keeps three things apart, and so do we (docs/domain.md, agent states):

- **membership and pause** per queue (QueueMemberAdded/Removed, QueueMemberPause);
- **device state** of the member's StateInterface (QueueMemberStatus ``Status``);
- **call phase** from the Agent* events (ringing, talking) plus our wrap-up time.

What a supervisor sees is one :class:`~hotline.core.records.AgentStatus`, looked up in
:data:`STATUS_RULES` (first matching row wins)::

    status(logged_in=True, phase=Phase.IDLE, pause=PauseKind.BREAK, reachable=True)
    # AgentStatus.BREAK
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Protocol

from hotline.core.records import AgentStatus, PauseSetBy

__all__ = [
    "STATUS_RULES",
    "DeviceState",
    "PauseKind",
    "PausePolicy",
    "Phase",
    "status",
]


class DeviceState(IntEnum):
    """QueueMemberStatus / QueueMember ``Status``: Asterisk's ``enum ast_device_state``."""

    UNKNOWN = 0
    NOT_INUSE = 1
    INUSE = 2
    BUSY = 3
    INVALID = 4
    UNAVAILABLE = 5
    RINGING = 6
    RINGINUSE = 7
    ONHOLD = 8

    @classmethod
    def parse(cls, value: str | None) -> DeviceState:
        try:
            return cls(int(value or 0))
        except ValueError:
            return cls.UNKNOWN

    @property
    def reachable(self) -> bool:
        """False for a phone Asterisk cannot reach (unregistered, no such device)."""
        return self not in (DeviceState.INVALID, DeviceState.UNAVAILABLE)


class Phase(Enum):
    """Where the agent is in a call, from the Agent* events (not the device state: a Local
    member with no StateInterface shows Status 2 while it merely rings)."""

    IDLE = "idle"
    RINGING = "ringing"  # AgentCalled, until AgentConnect / AgentRingNoAnswer / caller gone
    TALKING = "talking"  # AgentConnect until AgentComplete
    WRAP_UP = "wrap_up"  # AgentComplete + the queue's wrap-up time


class PauseKind(Enum):
    """What a pause means (from its reason and who set it; see :class:`PausePolicy`)."""

    NONE = "none"
    BUSY = "busy"  # 示忙: no reason, or a reason that is not a break
    BREAK = "break"  # 小休 with a break reason (meal, meeting, ...)
    FORCED = "forced"  # 强制示忙: set by a supervisor, or a forced reason code


class _Reason(Protocol):
    """What :meth:`PausePolicy.from_reasons` reads (hotline.center.config.PauseReason has it)."""

    @property
    def code(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def is_break(self) -> bool: ...
    @property
    def supervisor_only(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class PausePolicy:
    """How a PausedReason maps to a :class:`PauseKind`: data from center.yaml.

    ``PausePolicy.from_reasons(center.reasons.values())``. Codes and labels both count: a
    pause set outside hotline carries whatever text the agent typed (``午饭``).
    """

    breaks: frozenset[str] = frozenset()
    forced: frozenset[str] = frozenset()

    @classmethod
    def from_reasons(cls, reasons: Iterable[_Reason]) -> PausePolicy:
        reasons = list(reasons)
        return cls(
            breaks=frozenset(x for r in reasons if r.is_break for x in (r.code, r.label)),
            forced=frozenset(x for r in reasons if r.supervisor_only for x in (r.code, r.label)),
        )

    def kind(self, paused: bool, reason: str, set_by: PauseSetBy | None) -> PauseKind:
        if not paused:
            return PauseKind.NONE
        if set_by is PauseSetBy.SUPERVISOR or reason in self.forced:
            return PauseKind.FORCED
        if reason in self.breaks:
            return PauseKind.BREAK
        return PauseKind.BUSY


_ANY = None
# (logged_in, phase, pause, reachable) -> status; None matches anything; first row wins.
# A call in progress shows over a pause (pausing mid-call stops the next call, not this one)
# and over a logout (removed from the queues mid-call, the agent still talks).
_Rule = tuple[bool | None, Phase | None, PauseKind | None, bool | None, AgentStatus]
STATUS_RULES: tuple[_Rule, ...] = (
    (_ANY, Phase.TALKING, _ANY, _ANY, AgentStatus.TALKING),
    (_ANY, Phase.RINGING, _ANY, _ANY, AgentStatus.RINGING),
    (False, _ANY, _ANY, _ANY, AgentStatus.LOGGED_OUT),
    (True, Phase.WRAP_UP, _ANY, _ANY, AgentStatus.WRAP_UP),
    (True, Phase.IDLE, PauseKind.FORCED, _ANY, AgentStatus.FORCED_BUSY),
    (True, Phase.IDLE, PauseKind.BREAK, _ANY, AgentStatus.BREAK),
    (True, Phase.IDLE, PauseKind.BUSY, _ANY, AgentStatus.BUSY),
    (True, Phase.IDLE, PauseKind.NONE, False, AgentStatus.UNAVAILABLE),
    (True, Phase.IDLE, PauseKind.NONE, True, AgentStatus.READY),
)


def _lookup() -> dict[tuple[bool, Phase, PauseKind, bool], AgentStatus]:
    table = {}
    for key in itertools.product((False, True), Phase, PauseKind, (False, True)):
        for *pattern, result in STATUS_RULES:
            if all(p is None or p == k for p, k in zip(pattern, key, strict=True)):
                table[key] = result
                break
        else:  # pragma: no cover - the rules cover every combination (tested)
            raise AssertionError(f"no status rule for {key}")
    return table


_TABLE = _lookup()


def status(*, logged_in: bool, phase: Phase, pause: PauseKind, reachable: bool) -> AgentStatus:
    """The visible status for one combination (a dict lookup in the expanded table)."""
    return _TABLE[(logged_in, phase, pause, reachable)]
