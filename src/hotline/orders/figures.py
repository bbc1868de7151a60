"""Each department's figures for a month, explainable order by order (pure).

    rows = figures(timelines, month="2026-11", calendar=cal, sign_limit=Limit(2, "h"),
                   found=findings_by_order)
    rows["greening"].figures["按时办结率"].rows    # every order counted, and how

An *assignment* is one spell of an order with a department: from 派单 or 改派 to the next
改派 or reopen. A department's month holds the assignments that started in that month
(the centre's local month). Per assignment:

    received          counted once
    signed on time    签收 within ``sign_limit`` of working time after it came
    answered on time  the first 答复 before the deadline
    按时办结率         closed (办结 accepted) by the deadline, of those received
    退单率             退单 requested, split by the centre's answer: accepted, refused
    重办率             sent back to redo (a request refused) at least once
    解决率 / 满意率     of the 回访 after its 办结: resolved; 满意 or 基本满意
    findings          bounce findings naming the department on the order
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hotline.core.localtime import CHINA
from hotline.orders.model import Action, Entry, Rating, State
from hotline.orders.rules import Finding
from hotline.orders.workdays import Limit, WorkCalendar

__all__ = ["Assignment", "DepartmentMonth", "Figure", "assignments", "figures", "month_of"]

NAMES = ("received", "signed on time", "answered on time", "按时办结率", "退单率 accepted",
         "退单率 refused", "重办率", "解决率", "满意率", "findings")  # fmt: skip


def month_of(t_ms: int) -> str:
    return dt.datetime.fromtimestamp(t_ms // 1000, CHINA).strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class Assignment:
    order: str
    department: str
    t: int
    deadline: int | None
    entries: tuple[Entry, ...]  # from its start (派单, 改派) to its end (改派 away, reopen)


def assignments(timeline: Sequence[Entry]) -> list[Assignment]:
    """The spells of TIMELINE with one department each."""
    out: list[Assignment] = []
    cur: list[Entry] = []
    for e in timeline:
        starts = e.action in (Action.DISPATCH, Action.ACCEPT) and bool(e.department)
        if starts or e.action is Action.REOPEN:
            if cur:
                if starts:
                    cur.append(e)  # the 改派 ends this spell as well as starting the next
                out.append(_assignment(cur))
            cur = [e] if starts else []
            if starts:
                continue
        if cur:
            cur.append(e)
    if cur:
        out.append(_assignment(cur))
    return out


def _assignment(es: list[Entry]) -> Assignment:
    head = es[0]
    return Assignment(head.order, head.department, head.t, head.deadline, tuple(es))


@dataclass(frozen=True, slots=True)
class Counted:
    order: str
    counted: bool  # in the numerator
    why: str


@dataclass(slots=True)
class Figure:
    name: str
    rows: list[Counted] = field(default_factory=list)

    @property
    def numerator(self) -> int:
        return sum(r.counted for r in self.rows)

    @property
    def denominator(self) -> int:
        return len(self.rows)

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.rows else None

    def to_json(self) -> dict[str, object]:
        rows = [{"order": r.order, "counted": r.counted, "why": r.why} for r in self.rows]
        return {"numerator": self.numerator, "denominator": self.denominator,
                "rate": self.rate, "rows": rows}  # fmt: skip


@dataclass(slots=True)
class DepartmentMonth:
    department: str
    month: str
    figures: dict[str, Figure] = field(default_factory=dict)

    def figure(self, name: str) -> Figure:
        return self.figures.setdefault(name, Figure(name))


def _first(entries: Sequence[Entry], action: Action) -> Entry | None:
    return next((e for e in entries if e.action is action), None)


def _hhmm(t: int | None) -> str:
    if t is None:
        return "-"
    return dt.datetime.fromtimestamp(t // 1000, CHINA).strftime("%m-%d %H:%M")


def _one(dm: DepartmentMonth, a: Assignment, cal: WorkCalendar, sign_limit: Limit) -> None:
    es, o = a.entries[1:], a.order  # what happened after it came
    dm.figure("received").rows.append(Counted(o, True, f"came {_hhmm(a.t)}"))
    sign = _first(es, Action.SIGN)
    due = cal.add(a.t, sign_limit)
    dm.figure("signed on time").rows.append(Counted(
        o, sign is not None and sign.t <= due,
        f"signed {_hhmm(sign.t if sign else None)}, due {_hhmm(due)}"))  # fmt: skip
    reply = _first(es, Action.REPLY)
    said = _hhmm(reply.t if reply else None)
    dm.figure("answered on time").rows.append(Counted(
        o, reply is not None and a.deadline is not None and reply.t <= a.deadline,
        f"first reply {said}, deadline {_hhmm(a.deadline)}"))  # fmt: skip
    closed = next((e for e in es if e.after is State.CLOSED), None)
    dm.figure("按时办结率").rows.append(Counted(
        o, closed is not None and a.deadline is not None and closed.t <= a.deadline,
        f"办结 {_hhmm(closed.t if closed else None)}, deadline {_hhmm(a.deadline)}"))  # fmt: skip
    returns = [e for e in es if e.before is State.RETURN_REQUESTED]
    accepted = sum(e.action is Action.ACCEPT for e in returns)
    dm.figure("退单率 accepted").rows.append(Counted(o, accepted > 0, f"{accepted} accepted"))
    refused = sum(e.action is Action.REJECT for e in returns)
    dm.figure("退单率 refused").rows.append(Counted(o, refused > 0, f"{refused} refused"))
    redo = [e for e in es if e.action is Action.REJECT]
    dm.figure("重办率").rows.append(Counted(o, bool(redo), f"sent back {len(redo)} times"))
    visit = next((e for e in es if e.action is Action.VISIT), None)
    if visit is not None:
        dm.figure("解决率").rows.append(
            Counted(o, bool(visit.resolved), "解决" if visit.resolved else "未解决")
        )
        good = visit.rating in (Rating.SATISFIED, Rating.FAIRLY)
        dm.figure("满意率").rows.append(Counted(o, good, str(visit.rating)))


def figures(
    timelines: Mapping[str, Sequence[Entry]],
    *,
    month: str,
    calendar: WorkCalendar,
    sign_limit: Limit,
    found: Mapping[str, Sequence[Finding]] | None = None,
) -> dict[str, DepartmentMonth]:
    """Each department's figures for MONTH (YYYY-MM) from every order's timeline."""
    out: dict[str, DepartmentMonth] = {}
    for order in sorted(timelines):
        for a in assignments(timelines[order]):
            if month_of(a.t) != month:
                continue
            dm = out.setdefault(a.department, DepartmentMonth(a.department, month))
            for name in NAMES:
                dm.figure(name)
            _one(dm, a, calendar, sign_limit)
    for order, fs in (found or {}).items():
        for f in fs:
            for d in f.departments:
                if d in out:
                    out[d].figure("findings").rows.append(Counted(order, True, f.rule))
    return out
