"""Recall tasks: unserved callers become tasks, attempts move them on (pure).

A citizen who asked for a human and was not served (gave up in the queue after
``min_wait``, hung up while an agent rang, timed out, refused at the door, left when every
agent did, cut off by the PBX before an answer) or who asked to be called back becomes a
task with a deadline (:meth:`RecallRules.deadline`). One number has at most one open task:
later misses fold into it. A later call from the number that got through closes it
(``got_through``). Attempts are dialled by agents; each ends with an :class:`Outcome`::

    action = decide(record, open_task_for(record.caller), rules)
    task = after_attempt(task, Outcome.BUSY, at=now, rules=rules)
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from hotline.core.records import CallRecord, EndReason
from hotline.recall.rules import RecallRules

__all__ = [
    "Close",
    "Fold",
    "Missed",
    "New",
    "Origin",
    "Outcome",
    "State",
    "Task",
    "after_attempt",
    "at_the_front",
    "decide",
    "dialable",
    "expire",
    "missed",
    "next_offer",
    "outcome_of",
    "virtual_hold",
]


class Origin(Enum):
    MISSED = "missed"  # asked for a human, not served
    CALLBACK = "callback"  # pressed for a call back


class State(Enum):
    OPEN = "open"
    DONE = "done"
    EXPIRED = "expired"


class Outcome(Enum):
    """How an attempt ended, and why a task was closed."""

    REACHED = "reached"  # the citizen answered the recall
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    INVALID = "invalid"  # no such number: not retried
    REFUSED = "refused"  # the citizen's side rejected the call (retried)
    FAILED = "failed"  # the network failed (congestion, unreachable)
    CANCELLED = "cancelled"  # the agent hung up before the citizen answered
    AGENT_MISSED = "agent_missed"  # the agent's phone did not answer: not an attempt
    GOT_THROUGH = "got_through"  # closing only: a later call from the number was answered
    BY_HAND = "by_hand"  # closing only: an agent marked it done
    ATTEMPTS_USED = "attempts_used"  # closing only: every attempt failed
    GAVE_UP = "gave_up"  # closing only: open too long past the deadline

    @property
    def counts(self) -> bool:
        """Whether it used one of the task's attempts (the citizen's phone was tried)."""
        return self in ATTEMPTS


ATTEMPTS = frozenset({Outcome.REACHED, Outcome.NO_ANSWER, Outcome.BUSY, Outcome.INVALID,
                      Outcome.REFUSED, Outcome.FAILED, Outcome.CANCELLED})  # fmt: skip

UNSERVED = frozenset(
    {
        EndReason.ABANDONED_IN_QUEUE,
        EndReason.ABANDONED_RINGING,
        EndReason.TIMEOUT,
        EndReason.LEAVE_EMPTY,
        EndReason.REFUSED_NO_AGENT,
        EndReason.REFUSED_FULL,
        EndReason.LEFT_WITH_KEY,
        EndReason.FAILED,
        EndReason.PBX_DOWN,
        EndReason.PBX_LOST,
        EndReason.VANISHED,
        EndReason.CALLBACK,
    }
)
"""End reasons of a caller owed a call back (PBX_DOWN, PBX_LOST and VANISHED only before an
answer)."""

_CUT_OR_UNKNOWN = frozenset({EndReason.PBX_DOWN, EndReason.PBX_LOST, EndReason.VANISHED})
_NUMBER = re.compile(r"\+?\d{3,20}")


def dialable(number: str) -> bool:
    """A number the trunk can dial: digits (3 to 20, a leading + allowed); an anonymous or
    withheld caller (``anonymous``, ``<unknown>``, "") cannot be recalled."""
    return bool(_NUMBER.fullmatch(number))


@dataclass(frozen=True, slots=True)
class Missed:
    """One unserved call."""

    call_id: str
    number: str
    t: int  # when the call ended: the recall clock starts
    reason: str  # the EndReason's value
    queue: str
    waited_ms: int
    origin: Origin
    place: int  # the caller's place in the queue: when they first joined it (or asked)


def missed(r: CallRecord, rules: RecallRules) -> Missed | None:
    """The unserved call in ``r``, or None (served, never asked for a human, too short a
    wait, no number to call, not ended)."""
    if r.end_reason not in UNSERVED or r.t_end is None:
        return None
    if r.end_reason in _CUT_OR_UNKNOWN and r.t_answer is not None:
        return None
    asked = r.t_q if r.t_q is not None else r.t_request
    if asked is None:
        return None
    waited = max(0, r.t_end - asked)
    if r.end_reason is EndReason.ABANDONED_IN_QUEUE and waited < rules.min_wait_ms:
        return None
    callback = r.end_reason is EndReason.CALLBACK
    number = (r.callback_number or r.caller) if callback else r.caller
    if not dialable(number):
        return None
    origin = Origin.CALLBACK if callback else Origin.MISSED
    queue = r.visits[-1].queue if callback and r.visits else r.first_queue
    place = min((v.t_enter for v in r.visits if v.queue == queue), default=asked)
    return Missed(r.call_id, number, r.t_end, r.end_reason.value, queue, waited, origin, place)


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    number: str
    origin: Origin
    queue: str
    t_first: int  # the first unserved call's end
    deadline: int
    calls: tuple[str, ...]  # the unserved calls folded into it, first first
    state: State = State.OPEN
    outcome: Outcome | None = None  # why it was closed (None while open)
    attempts: int = 0  # attempts that reached the citizen's network (Outcome.counts)
    t_next: int = 0  # not dialled before (0: at once)
    t_closed: int | None = None
    closed_by: str = ""  # the agent, or the call that got through
    t_place: int | None = None  # the caller's place in the queue (a callback keeps it)
    t_offered: int | None = None  # first dialled: a callback's wait spared ends here

    @property
    def open(self) -> bool:
        return self.state is State.OPEN

    @property
    def spared_ms(self) -> int | None:
        """The wait a caller who asked for a callback did not spend on hold: from pressing
        for it to the recall reaching an agent."""
        if self.origin is not Origin.CALLBACK or self.t_offered is None:
            return None
        return max(0, self.t_offered - self.t_first)


@dataclass(frozen=True, slots=True)
class New:
    missed: Missed
    deadline: int


@dataclass(frozen=True, slots=True)
class Fold:
    task: int
    missed: Missed


@dataclass(frozen=True, slots=True)
class Close:
    task: int
    outcome: Outcome
    at: int
    by: str


Action = New | Fold | Close


def decide(r: CallRecord, task: Task | None, rules: RecallRules) -> Action | None:
    """What the ended call ``r`` does to the recall list, given the open task of its
    caller's number (if any): a new task, a fold into it, or its closing because the
    caller got through."""
    m = missed(r, rules)
    if m is not None:
        if task is not None and task.number == m.number and task.open:
            return Fold(task.id, m)
        return New(m, rules.deadline(m.t))
    if (
        task is not None
        and task.open
        and r.t_answer is not None
        and r.caller == task.number
        and r.t_answer > task.t_first
    ):
        return Close(task.id, Outcome.GOT_THROUGH, r.t_answer, r.call_id)
    return None


def outcome_of(status: str, cause: str = "") -> Outcome:
    """An attempt's outcome from the dialplan's DIALSTATUS and HANGUPCAUSE (Q.850); no
    status: the agent hung up before the dial. Unallocated (1), no route (3) and invalid
    format (28) are invalid numbers; call rejected (21) is a refusal."""
    status = status.upper()
    if status in ("", "CANCEL"):  # the agent hung up before (or while) the citizen rang
        return Outcome.CANCELLED
    if status == "ANSWER":
        return Outcome.REACHED
    if status == "BUSY":
        return Outcome.BUSY
    if status == "NOANSWER":
        return Outcome.NO_ANSWER
    if cause in ("1", "3", "28"):
        return Outcome.INVALID
    if cause == "21":
        return Outcome.REFUSED
    return Outcome.FAILED


def after_attempt(task: Task, outcome: Outcome, at: int, by: str, rules: RecallRules) -> Task:
    """The task after an attempt that ended at ``at`` with ``outcome``."""
    if not task.open:
        return task
    if outcome is Outcome.AGENT_MISSED:
        return task
    attempts = task.attempts + 1
    if outcome is Outcome.REACHED:
        return replace(task, state=State.DONE, outcome=outcome, attempts=attempts,
                       t_closed=at, closed_by=by)  # fmt: skip
    if outcome is Outcome.INVALID:
        return replace(task, state=State.EXPIRED, outcome=outcome, attempts=attempts,
                       t_closed=at, closed_by=by)  # fmt: skip
    wait = rules.retry_after(attempts)
    if wait is None:
        return replace(task, state=State.EXPIRED, outcome=Outcome.ATTEMPTS_USED,
                       attempts=attempts, t_closed=at, closed_by=by)  # fmt: skip
    return replace(task, attempts=attempts, t_next=at + wait)


def expire(task: Task, now: int, rules: RecallRules) -> Task:
    """An open task past its deadline by more than ``give_up`` expires."""
    if task.open and now > task.deadline + rules.give_up_ms:
        return replace(task, state=State.EXPIRED, outcome=Outcome.GAVE_UP,
                       t_closed=task.deadline + rules.give_up_ms)  # fmt: skip
    return task


def at_the_front(task: Task, waiting_since: Iterable[int]) -> bool:
    """A callback keeps the caller's place: it is at the front of its queue once no caller
    waiting there now joined before it."""
    place = task.t_place if task.t_place is not None else task.t_first
    return all(since >= place for since in waiting_since)


def virtual_hold(
    tasks: Iterable[Task],
    waiting: Mapping[str, Sequence[int]],
    ready: Mapping[str, Sequence[str]],
    now: int,
    busy: Collection[int] = (),
) -> list[tuple[Task, str]]:
    """The callbacks to dial now, each with the agent to ring: open callback tasks (not
    ``busy``: being dialled) at the front of their queue, whose retry wait has passed,
    oldest place first, each given the first ready agent of its queue (``ready``: by
    queue, longest idle first) not given to an earlier one."""
    due = sorted(
        (t for t in tasks if t.open and t.origin is Origin.CALLBACK and t.id not in busy
         and t.t_next <= now and at_the_front(t, waiting.get(t.queue, ()))),
        key=lambda t: (t.t_place if t.t_place is not None else t.t_first, t.id),
    )  # fmt: skip
    taken: set[str] = set()
    out = []
    for task in due:
        agent = next((a for a in ready.get(task.queue, ()) if a not in taken), None)
        if agent is not None:
            taken.add(agent)
            out.append((task, agent))
    return out


def next_offer(
    tasks: Iterable[Task], now: int, longest_wait_ms: int, service_level_ms: int
) -> Task | None:
    """The task to offer a ready agent between inbound calls: none while any caller has
    waited longer than the service level; else the open task due soonest (deadline, then
    the oldest miss) whose retry wait has passed."""
    if longest_wait_ms > service_level_ms:
        return None
    due = [t for t in tasks if t.open and t.t_next <= now]
    return min(due, key=lambda t: (t.deadline, t.t_first, t.id), default=None)
