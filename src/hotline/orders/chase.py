"""催办 and 督办: chasing orders near or past their deadline, the steps as data (pure).

    steps = (ChaseStep("催办", -4), ChaseStep("督办", 0), ChaseStep("通报", 24))
    for c in due(order, timeline, steps, now=now_ms): ...   # then urge with c.text()

A step is due once ``now`` reaches the deadline plus ``hours`` (negative: before it) while
the department still holds the order (派单, 签收, 答复, 重办). Each step is taken once per
spell with a department: an urge entry whose text starts with ``[name]`` since the order
came to it means the step was taken, so running the chase again adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hotline.orders.model import Action, Entry, Order, State

__all__ = ["CHASED", "DEFAULT_STEPS", "Chase", "ChaseStep", "due"]

CHASED = (State.DISPATCHED, State.SIGNED, State.REPLIED, State.REDO)
_HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class ChaseStep:
    name: str  # 催办, 督办, 通报 ...
    hours: int  # from the deadline: negative before, positive after


DEFAULT_STEPS = (ChaseStep("催办", -4), ChaseStep("督办", 0))


@dataclass(frozen=True, slots=True)
class Chase:
    order: str
    department: str
    step: ChaseStep
    t_due: int
    deadline: int

    def text(self) -> str:
        """The urge entry's text (its ``[name]`` marks the step as taken)."""
        late = "past" if self.step.hours >= 0 else "before"
        return f"[{self.step.name}] {abs(self.step.hours)} h {late} the deadline"


def _spell(timeline: Sequence[Entry]) -> Sequence[Entry]:
    starts = [i for i, e in enumerate(timeline)
              if e.action in (Action.DISPATCH, Action.ACCEPT) and e.department]  # fmt: skip
    return timeline[starts[-1] :] if starts else ()


def due(
    order: Order, timeline: Sequence[Entry], steps: Sequence[ChaseStep], *, now: int
) -> list[Chase]:
    """The chase steps due on ORDER at NOW and not taken yet in its current spell."""
    if order.state not in CHASED or order.deadline is None or not order.department:
        return []
    taken = {e.text.split("]", 1)[0][1:] for e in _spell(timeline)
             if e.action is Action.URGE and e.text.startswith("[")}  # fmt: skip
    out = []
    for s in steps:
        t_due = order.deadline + s.hours * _HOUR_MS
        if now >= t_due and s.name not in taken:
            out.append(Chase(order.id, order.department, s, t_due, order.deadline))
    return out
