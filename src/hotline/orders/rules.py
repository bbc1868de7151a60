"""Bounce findings over an order's journal (pure), configured like the watchdog's rules.

    found = findings(order, timeline, thresholds, now=now_ms, related=[(other, its_timeline)])

Each rule reads the order's entries and says what it saw; a finding carries the order's
whole timeline as evidence, and the entries that made it (``marks``, indexes into the
timeline). The rules (thresholds in center.yaml ``orders.rules``; 0 turns a rule off):

    returns           退单 requested ``returns`` times or more
    refused_finishes  办结 requested and refused ``refused_finishes`` times or more
    passed_around     踢皮球: 改派 back to a department that had passed it on already, or
                      ``handoffs`` 改派 or more
    no_contact        办结 requested with no reply since the order came that says how the
                      citizen was reached (``contact``)
    contradiction     an answer that takes the opposite stance of an earlier answer on the
                      same matter (this order, and orders of the same matter: ``related``)
    repeat_calls      ``repeat_calls`` more calls about the order while it was open
    overdue           办结 (or now, if still open) more than ``overdue_hours`` after the deadline

A stance is found by words (:data:`STANCES`): "不在管辖范围" is *not ours*, "已修剪" *done*;
two answers contradict when their stances are a pair of :data:`CONFLICTS`. Simple on
purpose: an inspector sees the two sentences side by side and judges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hotline.orders.model import Action, Entry, Order, State

__all__ = ["CONFLICTS", "STANCES", "Finding", "Thresholds", "findings", "stances"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    returns: int = 2
    refused_finishes: int = 2
    handoffs: int = 3
    passed_around: int = 1  # 1: on; 0: off
    no_contact: int = 1
    contradiction: int = 1
    repeat_calls: int = 1
    overdue_hours: int = 0
    overdue: int = 1


# checked in this order; a stance's words are taken out before the next is looked for, so
# "不可以" is refused, never granted
STANCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("not_ours", ("不在管辖", "不归我", "不属于我", "非我单位", "不是我们", "不在我单位",
                  "不属本单位", "不在职责")),
    ("refused", ("不可以", "不能", "无法", "不予", "不允许", "必须", "不同意", "办不了")),
    ("done", ("已修剪", "已处理", "已解决", "已完成", "已整改", "已办结", "已落实", "已清理",
              "已维修", "已修复")),
    ("granted", ("可以", "同意", "允许", "无需", "不用", "暂缓")),
)  # fmt: skip
CONFLICTS: frozenset[frozenset[str]] = frozenset(
    {frozenset({"not_ours", "done"}), frozenset({"refused", "granted"})}
)
ANSWERS = (Action.CLOSE_ON_SPOT, Action.REPLY, Action.RETURN, Action.FINISH)


def stances(text: str) -> frozenset[str]:
    found = set()
    for name, words in STANCES:
        for w in words:
            if w in text:
                found.add(name)
                text = text.replace(w, " ")
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    order: str
    departments: tuple[str, ...]
    summary: str
    timeline: tuple[Entry, ...]
    marks: tuple[int, ...] = ()  # the entries of the timeline that made the finding
    related: tuple[Entry, ...] = ()  # other orders' entries cited (contradiction)

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule, "order": self.order, "departments": list(self.departments),
            "summary": self.summary, "marks": list(self.marks),
            "timeline": [e.fields() for e in self.timeline],
            "related": [e.fields() for e in self.related],
        }  # fmt: skip


def _by(timeline: Sequence[Entry], marks: Sequence[int]) -> tuple[str, ...]:
    """The departments that acted in the marked entries (or were named in them)."""
    seen: dict[str, None] = {}
    holder = ""
    for i, e in enumerate(timeline):
        if e.department:
            holder = e.department
        if i in marks and holder:
            seen[holder] = None
    return tuple(seen)


def _handlers(timeline: Sequence[Entry]) -> list[str]:
    """Whoever held the order when each entry was made."""
    out, holder = [], ""
    for e in timeline:
        if e.action is Action.REOPEN:
            holder = ""
        out.append(holder if not e.department else holder or e.department)
        if e.department:
            holder = e.department
    return out


def findings(
    order: Order,
    timeline: Sequence[Entry],
    th: Thresholds,
    *,
    now: int,
    related: Sequence[tuple[Order, Sequence[Entry]]] = (),
) -> list[Finding]:
    """What the rules find in ORDER's TIMELINE (its entries, oldest first)."""
    out: list[Finding] = []
    tl = tuple(timeline)
    held = _handlers(tl)

    def add(rule: str, marks: Sequence[int], summary: str, rel: tuple[Entry, ...] = ()) -> None:
        depts = tuple(dict.fromkeys(held[i] for i in marks if held[i]))
        out.append(Finding(rule, order.id, depts, summary, tl, tuple(marks), rel))

    returns = [i for i, e in enumerate(tl) if e.action is Action.RETURN]
    if th.returns and len(returns) >= th.returns:
        add("returns", returns, f"退单 requested {len(returns)} times")

    refused = [
        i for i, e in enumerate(tl)
        if e.action is Action.REJECT and e.before is State.FINISH_REQUESTED
    ]  # fmt: skip
    if th.refused_finishes and len(refused) >= th.refused_finishes:
        add("refused_finishes", refused, f"办结 refused {len(refused)} times (依据不充分)")

    handoffs = [i for i, e in enumerate(tl) if e.action is Action.ACCEPT and e.department]
    passed_on: set[str] = set()
    back = []
    for i in handoffs:
        passed_on.add(held[i])
        if tl[i].department in passed_on:
            back.append(i)
    if th.passed_around and (back or (th.handoffs and len(handoffs) >= th.handoffs)):
        path = " → ".join(
            [held[handoffs[0]]] + [tl[i].department for i in handoffs]
        )  # fmt: skip
        add("passed_around", [*returns, *handoffs] if back else handoffs,
            f"踢皮球: passed {len(handoffs)} times between departments ({path})")  # fmt: skip

    if th.no_contact:
        contacted, marks = False, []
        for i, e in enumerate(tl):
            if e.action in (Action.DISPATCH, Action.ACCEPT) and e.department:
                contacted = False
            if e.action is Action.REPLY and e.contact:
                contacted = True
            if e.action is Action.FINISH and not contacted:
                marks.append(i)
        if marks:
            add("no_contact", marks, f"办结 requested {len(marks)} times with no contact with "
                "the citizen recorded")  # fmt: skip

    if th.contradiction:
        answers = [(order.id, i, e) for i, e in enumerate(tl) if e.action in ANSWERS]
        cited: list[Entry] = []
        for other, entries in related:
            for e in entries:
                if e.action in ANSWERS:
                    answers.append((other.id, -1, e))
        answers.sort(key=lambda a: a[2].t)
        pairs: list[tuple[Entry, Entry, int]] = []
        for n, (_, j, later) in enumerate(answers):
            if j < 0:
                continue
            for _, i, earlier in answers[:n]:
                clash = [
                    c for c in CONFLICTS if len(c & stances(earlier.text)) == 1
                    and c - stances(earlier.text) <= stances(later.text)
                    and len(c & stances(later.text)) == 1
                ]  # fmt: skip
                if clash:
                    pairs.append((earlier, later, j))
                    if i < 0:
                        cited.append(earlier)
                    break
        if pairs:
            said = "; ".join(f"「{a.text}」 then 「{b.text}」" for a, b, _ in pairs)
            add("contradiction", sorted({j for _, _, j in pairs}),
                f"answers contradict: {said}", tuple(dict.fromkeys(cited)))  # fmt: skip

    if th.repeat_calls:
        repeat, open_ = [], True
        for i, e in enumerate(tl):
            if e.action is Action.LINK and open_ and not e.target:
                repeat.append(i)
            open_ = e.after.is_open
        if len(repeat) >= th.repeat_calls:
            add(
                "repeat_calls",
                repeat,
                f"the citizen called {len(repeat)} more times while the order was open",
            )

    if th.overdue and order.deadline is not None and order.department:
        until = order.t_closed if order.t_closed is not None else now
        late = until - order.deadline
        if late > th.overdue_hours * 3_600_000:
            marks = [max(i for i, e in enumerate(tl) if e.deadline is not None)]
            if order.t_closed is not None:
                marks.append(max(i for i, e in enumerate(tl) if e.after is State.CLOSED))
            hours = late / 3_600_000
            state = "closed" if order.t_closed is not None else "still open"
            add("overdue", marks, f"{state} {hours:.1f} h after its deadline")
    return out
