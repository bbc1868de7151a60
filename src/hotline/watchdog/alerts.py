"""What the watchdog says: alerts with their evidence, cost and lifecycle (pure values).

An :class:`Alert` is one rule's finding about one agent (or one team) over one episode::

    alert.rule, alert.agent, alert.team, alert.start, alert.end   # end None: goes on
    alert.evidence.journal       # the agent's journal entries during the episode
    alert.evidence.waiting       # callers who waited in the agent's queues meanwhile
    alert.cost.calls             # calls that entered then and missed 15 s or were lost

The engine re-issues an alert (same ``id``) as its episode goes on and as the calls of the
episode end: the latest version is the alert. Its lifecycle is a small state machine whose
transitions are data (:data:`TRANSITIONS`)::

    acked = transition(alert, Action.ACKNOWLEDGE, by="班长01", at=now, comment="已提醒")
    closed = transition(acked, Action.CLOSE, by="班长01", at=later, comment="核实: 离岗")

Every figure can be re-derived from the evidence: the journal excerpt, the waiting calls and
the ids of the calls counted in the cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from typing import Any

from hotline.core.records import AgentChange

__all__ = [
    "TRANSITIONS",
    "Action",
    "Alert",
    "AlertState",
    "Cost",
    "Evidence",
    "LifecycleError",
    "RuleId",
    "Severity",
    "Transition",
    "Waiting",
    "alert_id",
    "lifecycle_of",
    "step",
    "transition",
]


class RuleId(StrEnum):
    """The rules (docs/domain.md, "Agent states and the busy abuse", rules 1-7)."""

    LONG_PAUSE = "long_pause"  # 1: one 示忙 episode too long
    LONG_BREAK = "long_break"  # 1: one break longer than its reason allows
    SHIFT_BUSY_TOTAL = "shift_busy_total"  # 1: 示忙 time in a shift
    SHIFT_BUSY_SHARE = "shift_busy_share"  # 1: 示忙 share of logged-in time in a shift
    SHIFT_BREAK_TOTAL = "shift_break_total"  # 1: break time in a shift
    PAUSED_WHILE_WAITING = "paused_while_waiting"  # 2: the harmful case
    PAUSE_AFTER_RING_NO_ANSWER = "pause_after_ring_no_answer"  # 3
    PAUSE_FLIP = "pause_flip"  # 3: unpause and re-pause to reset the timer
    RING_NO_ANSWER_COUNT = "ring_no_answer_count"  # 4
    TEAM_PAUSED_TOGETHER = "team_paused_together"  # 5
    PAUSE_NEAR_SHIFT_CHANGE = "pause_near_shift_change"  # 5
    PAUSE_WITHOUT_REASON = "pause_without_reason"  # 6
    UNAVAILABLE_WHILE_READY = "unavailable_while_ready"  # 6
    SHORT_TALKS = "short_talks"  # 7

    @property
    def label(self) -> str:
        """What a supervisor reads."""
        return _LABELS[self]


_LABELS = {
    RuleId.LONG_PAUSE: "单次示忙过长",
    RuleId.LONG_BREAK: "休息超时",
    RuleId.SHIFT_BUSY_TOTAL: "班次示忙累计过长",
    RuleId.SHIFT_BUSY_SHARE: "班次示忙率过高",
    RuleId.SHIFT_BREAK_TOTAL: "班次休息累计过长",
    RuleId.PAUSED_WHILE_WAITING: "有来电排队时示忙",
    RuleId.PAUSE_AFTER_RING_NO_ANSWER: "振铃未接后示忙",
    RuleId.PAUSE_FLIP: "反复示忙/示闲",
    RuleId.RING_NO_ANSWER_COUNT: "振铃未接次数过多",
    RuleId.TEAM_PAUSED_TOGETHER: "同班组多人同时示忙",
    RuleId.PAUSE_NEAR_SHIFT_CHANGE: "交接班前后示忙",
    RuleId.PAUSE_WITHOUT_REASON: "示忙无原因代码",
    RuleId.UNAVAILABLE_WHILE_READY: "示闲但话机不可用",
    RuleId.SHORT_TALKS: "频繁短时挂断",
}


class Severity(Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Waiting:
    """Callers who waited in the alert's queues during its periods.

    ``longest_ms`` is the longest whole wait (entry to leaving the queue) of those who have
    left; callers still waiting are counted in ``still_waiting`` only, so the figure does
    not depend on when it was computed.
    """

    count: int = 0
    longest_ms: int = 0
    still_waiting: int = 0


@dataclass(frozen=True, slots=True)
class Cost:
    """Calls that entered the alert's queues (``t_q``) during its periods and were failed.

    ``answered_late``: answered more than 15 s (the threshold ``answer_ms``) after ``t_q``;
    ``abandoned``: the caller hung up waiting or ringing; ``lost``: any other end without an
    answer (timeout, leave-empty, callback, ...). Calls still open are not counted yet.
    """

    calls: tuple[str, ...] = ()
    answered_late: int = 0
    abandoned: int = 0
    lost: int = 0

    @property
    def missed(self) -> int:
        return len(self.calls)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the alert rests on."""

    journal: tuple[AgentChange, ...] = ()
    """The agent's journal entries from the alert's start to its end (the first ``limit``)."""
    omitted: int = 0
    """Journal entries of that span left out of ``journal`` (too many to carry)."""
    waiting: Waiting = Waiting()
    others: tuple[str, ...] = ()
    """Other agents involved (the team members paused at the same time)."""
    reasons: tuple[str, ...] = ()
    """The pause reasons seen in the episode, in order."""
    note: str = ""
    """A fact the numbers do not say ("shift change 16:00", "flips at 09:35:40, ...")."""


class AlertState(Enum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class Action(Enum):
    ACKNOWLEDGE = "acknowledge"
    CLOSE = "close"
    REOPEN = "reopen"


TRANSITIONS: dict[tuple[AlertState, Action], AlertState] = {
    (AlertState.OPEN, Action.ACKNOWLEDGE): AlertState.ACKNOWLEDGED,
    (AlertState.OPEN, Action.CLOSE): AlertState.CLOSED,
    (AlertState.ACKNOWLEDGED, Action.CLOSE): AlertState.CLOSED,
    (AlertState.CLOSED, Action.REOPEN): AlertState.OPEN,
}
"""(state, action) → the new state; a pair not here is refused."""

NEEDS_COMMENT = frozenset({Action.ACKNOWLEDGE, Action.CLOSE, Action.REOPEN})
"""Actions that must say why (the journal records who, when and why)."""


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    by: str
    at: int  # ms
    comment: str
    before: AlertState
    after: AlertState


class LifecycleError(ValueError):
    """A lifecycle action that is not allowed (wrong state, no actor, no comment)."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One rule's finding over one episode; ``id`` is stable across its versions."""

    id: str  # alert_id(rule, agent or team, start)
    rule: RuleId
    agent: str  # the agent (for a team alert: the one whose pause made it too many)
    team: str
    severity: Severity
    start: int  # ms: the episode (or shift, or first ring-no-answer) began
    end: int | None  # ms; None while it goes on
    t_raised: int  # ms: when the threshold was reached (exact, not when it was noticed)
    value: int  # what was measured at the last update (unit: ``unit``)
    limit: int  # the threshold (same unit)
    unit: str  # "ms", "count", "permille"
    queues: tuple[str, ...]
    periods: tuple[tuple[int, int | None], ...]
    """The spans the cost and the waiting are taken over (the pauses themselves)."""
    evidence: Evidence = Evidence()
    cost: Cost = Cost()
    state: AlertState = AlertState.OPEN
    history: tuple[Transition, ...] = field(default=())

    @property
    def label(self) -> str:
        return self.rule.label

    def facts(self) -> Alert:
        """The alert without its lifecycle: what the rules said (to compare two runs)."""
        return replace(self, state=AlertState.OPEN, history=())

    def with_lifecycle_of(self, other: Alert) -> Alert:
        """These facts with ``other``'s lifecycle (a newer version of a handled alert)."""
        return replace(self, state=other.state, history=other.history)


def alert_id(rule: RuleId, who: str, start: int) -> str:
    """``rule/who/start-in-seconds``: the same episode gets the same id after a restart,
    whose resync knows the pause's start to the second only (QueueStatus LastPause)."""
    return f"{rule.value}/{who}/{start // 1000}"


def step(
    state: AlertState,
    history: tuple[Transition, ...],
    action: Action,
    *,
    by: str,
    at: int,
    comment: str = "",
) -> Transition:
    """The lifecycle step ``action`` makes from ``state``; :class:`LifecycleError` if refused."""
    after = TRANSITIONS.get((state, action))
    if after is None:
        raise LifecycleError(f"cannot {action.value} an alert that is {state.value}")
    if not by.strip():
        raise LifecycleError(f"{action.value}: who does it must be named")
    if action in NEEDS_COMMENT and not comment.strip():
        raise LifecycleError(f"{action.value}: a comment is required")
    if history and at < history[-1].at:
        raise LifecycleError(f"{action.value}: at {at} is before the last change")
    return Transition(action, by, at, comment, state, after)


def transition(alert: Alert, action: Action, *, by: str, at: int, comment: str = "") -> Alert:
    """The alert after ``action`` by ``by`` at ``at``; :class:`LifecycleError` if refused."""
    s = step(alert.state, alert.history, action, by=by, at=at, comment=comment)
    return replace(alert, state=s.after, history=(*alert.history, s))


def lifecycle_of(doc: Mapping[str, Any]) -> tuple[AlertState, tuple[Transition, ...]]:
    """The lifecycle of a stored alert document (as ``alert_doc`` wrote it)."""
    try:
        history = tuple(
            Transition(
                Action(t["action"]),
                str(t["by"]),
                int(t["at"]),
                str(t["comment"]),
                AlertState(t["before"]),
                AlertState(t["after"]),
            )
            for t in doc.get("history") or ()
        )
        return AlertState(doc.get("state", "open")), history
    except (KeyError, TypeError, ValueError) as exc:
        raise LifecycleError(f"alert {doc.get('id')!r}: unreadable lifecycle ({exc})") from None
