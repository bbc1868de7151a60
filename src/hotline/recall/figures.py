"""The recall figures, each explainable task by task (pure).

Every task in the period (by its first missed call) gets one verdict at ``now``:

    in_time      recalled (reached, or marked done by hand) by its deadline
    late         recalled after its deadline
    got_through  the citizen called again and was answered before being recalled
    not_reached  expired (attempts used, invalid number, given up) or open past its deadline
    pending      open, its deadline not yet come

    recall rate within the deadline = in_time / (tasks - got_through - pending)

``pending`` tasks are not yet decided, and a citizen who got through was served: neither
counts for or against the centre. Time to recall runs from the first missed call to the
answered recall; attempts per task count dialled attempts (the agent's phone failing is not
one) over the tasks dialled at least once; a callback's wait spared runs from pressing for it
to the recall reaching an agent (the time the caller would have spent on hold).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from hotline.core.localtime import CHINA
from hotline.recall.tasks import Outcome, State, Task

__all__ = ["VERDICTS", "Figures", "figures", "group", "verdict"]

VERDICTS = ("in_time", "late", "got_through", "not_reached", "pending")


def verdict(task: Task, now: int) -> str:
    """The task's verdict at ``now`` (see the module's table)."""
    if task.state is State.DONE and task.outcome is Outcome.GOT_THROUGH:
        return "got_through"
    if task.state is State.DONE:
        closed = task.t_closed if task.t_closed is not None else now
        return "in_time" if closed <= task.deadline else "late"
    if task.state is State.EXPIRED or now > task.deadline:
        return "not_reached"
    return "pending"


@dataclass(frozen=True, slots=True)
class Figures:
    tasks: int
    counts: Mapping[str, int]  # per verdict
    rate: float | None  # in_time / decided (None: nothing decided)
    attempts_per_task: float | None
    median_recall_ms: int | None  # first miss to the answered recall
    never_reached: int  # expired without ever reaching the citizen
    median_spared_ms: int | None = None  # callbacks: the wait on hold the caller was spared

    def shown(self) -> tuple[str, str, str]:
        """The rate in time, attempts per task and median time to recall as people read
        them ("-" where there is nothing to count)."""
        rate = "-" if self.rate is None else f"{self.rate:.1%}"
        tries = "-" if self.attempts_per_task is None else f"{self.attempts_per_task:.1f}"
        median = ("-" if self.median_recall_ms is None
                  else f"{self.median_recall_ms / 60000:.1f} min")  # fmt: skip
        return rate, tries, median

    def line(self) -> str:
        """The figures in one paragraph (the end of ``hotline metrics report``)."""
        rate, tries, median = self.shown()
        counts = ", ".join(f"{v} {self.counts.get(v, 0)}" for v in VERDICTS)
        return (
            f"recall (missed callers called back): {self.tasks} tasks ({counts}); "
            f"in time {rate}; {tries} attempts per task; median time to recall {median}; "
            f"never reached {self.never_reached}"
            + (
                ""
                if self.median_spared_ms is None
                else f"; callbacks spared a median {self.median_spared_ms / 60000:.1f} min on hold"
            )
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "tasks": self.tasks,
            **{v: self.counts.get(v, 0) for v in VERDICTS},
            "rate": self.rate,
            "attempts_per_task": self.attempts_per_task,
            "median_recall_s": None
            if self.median_recall_ms is None
            else round(self.median_recall_ms / 1000, 1),
            "never_reached": self.never_reached,
            "median_spared_s": None
            if self.median_spared_ms is None
            else round(self.median_spared_ms / 1000, 1),
        }


def figures(tasks: Iterable[Task], now: int) -> Figures:
    tasks = list(tasks)
    counts = {v: 0 for v in VERDICTS}
    for t in tasks:
        counts[verdict(t, now)] += 1
    decided = len(tasks) - counts["got_through"] - counts["pending"]
    dialled = [t.attempts for t in tasks if t.attempts]
    spared = [t.spared_ms for t in tasks if t.spared_ms is not None]
    recalls = [
        t.t_closed - t.t_first
        for t in tasks
        if t.outcome is Outcome.REACHED and t.t_closed is not None
    ]
    return Figures(
        tasks=len(tasks),
        counts=counts,
        rate=counts["in_time"] / decided if decided else None,
        attempts_per_task=sum(dialled) / len(dialled) if dialled else None,
        median_recall_ms=int(statistics.median(recalls)) if recalls else None,
        never_reached=sum(1 for t in tasks if t.state is State.EXPIRED),
        median_spared_ms=int(statistics.median(spared)) if spared else None,
    )


def local_day(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d")


KEYS: dict[str, Callable[[Task], str]] = {
    "queue": lambda t: t.queue or "-",
    "day": lambda t: local_day(t.t_first),
}


def group(
    tasks: Iterable[Task], by: str, now: int, team_of: Mapping[str, str] | None = None
) -> dict[str, Figures]:
    """Figures per queue, local day of the first miss, or team (of the agent who closed
    the task; ``-`` for tasks nobody recalled)."""
    if by == "team":
        teams = team_of or {}
        key: Callable[[Task], str] = lambda t: teams.get(t.closed_by, "-")  # noqa: E731
    else:
        key = KEYS[by]
    groups: dict[str, list[Task]] = {}
    for t in tasks:
        groups.setdefault(key(t), []).append(t)
    return {k: figures(v, now) for k, v in sorted(groups.items())}


def board_doc(open_tasks: Iterable[Task], today: Iterable[Task], now: int) -> dict[str, object]:
    """What the wallboard shows of the recall list: open tasks, those past their deadline,
    those that may be dialled now, and today's figures (tasks first missed today)."""
    tasks = list(open_tasks)
    return {
        "t": now,
        "open": len(tasks),
        "overdue": sum(1 for t in tasks if now > t.deadline),
        "due": sum(1 for t in tasks if t.t_next <= now),
        "next_deadline": min((t.deadline for t in tasks), default=None),
        "today": figures(today, now).as_dict(),
    }
