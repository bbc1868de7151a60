"""The state machine of an order: a table of allowed transitions, and the function that
applies one step (pure).

    entry = step(order, Step(Action.SIGN, actor, t=now))   # the journal entry, or OrderError
    order = fold(order, entry)                              # the order after it
    order = replay(entries)                                 # an order from its whole journal

The table says, for a state and an action, the state after and who may act. What the
table cannot say (a department acts only on its own orders; a 办结 request needs evidence;
直接办结 only for a 咨询) is checked in :func:`step`, each with its own message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple

from hotline.orders.errors import OrderError
from hotline.orders.model import (
    Action,
    Actor,
    Caller,
    Entry,
    Order,
    OrderType,
    Rating,
    Side,
    State,
)  # fmt: skip

__all__ = ["TABLE", "Move", "Step", "fold", "replay", "step"]

A, S = Action, State
CENTRE = frozenset({Side.CENTRE})
INTAKE = frozenset({Side.INTAKE, Side.CENTRE})
DEPT = frozenset({Side.DEPARTMENT})
HANDLING = (S.DISPATCHED, S.SIGNED, S.REPLIED, S.REDO)


class Move(NamedTuple):
    after: State | None  # None: the state stays
    sides: frozenset[Side]


TABLE: dict[tuple[State, Action], Move] = {
    (S.RECEIVED, A.CLOSE_ON_SPOT): Move(S.CLOSED, INTAKE),
    (S.RECEIVED, A.DISPATCH): Move(S.DISPATCHED, CENTRE),
    (S.RECEIVED, A.MERGE): Move(S.MERGED, INTAKE),
    (S.DISPATCHED, A.SIGN): Move(S.SIGNED, DEPT),
    (S.DISPATCHED, A.RETURN): Move(S.RETURN_REQUESTED, DEPT),
    (S.SIGNED, A.REPLY): Move(S.REPLIED, DEPT),
    (S.SIGNED, A.RETURN): Move(S.RETURN_REQUESTED, DEPT),
    (S.REDO, A.REPLY): Move(S.REPLIED, DEPT),
    (S.REDO, A.RETURN): Move(S.RETURN_REQUESTED, DEPT),
    (S.REPLIED, A.REPLY): Move(S.REPLIED, DEPT),
    (S.REPLIED, A.FINISH): Move(S.FINISH_REQUESTED, DEPT),
    (S.REPLIED, A.RETURN): Move(S.RETURN_REQUESTED, DEPT),
    (S.RETURN_REQUESTED, A.ACCEPT): Move(S.DISPATCHED, CENTRE),  # 改派
    (S.RETURN_REQUESTED, A.REJECT): Move(S.REDO, CENTRE),
    (S.FINISH_REQUESTED, A.ACCEPT): Move(S.CLOSED, CENTRE),
    (S.FINISH_REQUESTED, A.REJECT): Move(S.REDO, CENTRE),
    (S.CLOSED, A.VISIT): Move(S.RATED, CENTRE),
    (S.RATED, A.REOPEN): Move(S.RECEIVED, CENTRE),
    **{(s, A.LINK): Move(None, INTAKE) for s in State if s is not S.MERGED},
    **{(s, A.URGE): Move(None, CENTRE) for s in (*HANDLING, S.RETURN_REQUESTED,
                                                 S.FINISH_REQUESTED)},
}  # fmt: skip
"""(state, action) → the state after and who may act. Nothing else is allowed."""


@dataclass(frozen=True, slots=True)
class Step:
    """A request to act on an order; ``step`` checks it and makes the journal entry."""

    action: Action
    actor: Actor
    t: int
    department: str = ""
    text: str = ""
    attachments: tuple[str, ...] = ()
    contact: str = ""
    deadline: int | None = None
    resolved: bool | None = None
    rating: Rating | None = None
    call_id: str = ""
    phone: str = ""
    target: str = ""


def _check(order: Order, s: Step) -> None:
    a = s.action
    if s.actor.side is Side.DEPARTMENT and s.actor.department != order.department:
        raise OrderError(
            f"order {order.id} is with {order.department or 'no department'}, "
            f"not {s.actor.department or '(no department)'}: {s.actor.user} may not act on it"
        )
    needs_text = {
        A.CLOSE_ON_SPOT: "the answer given on the call",
        A.REPLY: "the reply (--text)",
        A.RETURN: "the reason for returning it (--reason)",
        A.REJECT: "why the request is refused (--why)",
    }
    if a in needs_text and not s.text.strip():
        raise OrderError(f"{a.value} needs {needs_text[a]}")
    if a is A.FINISH and not (s.text.strip() or s.attachments):
        raise OrderError("finish needs its evidence (--evidence text or attachments)")
    if a is A.CLOSE_ON_SPOT and order.type is not OrderType.CONSULT:
        raise OrderError(f"only a {OrderType.CONSULT} is closed on the spot, not a {order.type}")
    if a is A.DISPATCH or (a is A.ACCEPT and order.state is S.RETURN_REQUESTED):
        if not s.department:
            what = "dispatch" if a is A.DISPATCH else "accepting a return (改派)"
            raise OrderError(f"{what} needs the department to send it to (--to)")
        if a is A.ACCEPT and s.department == order.department:
            raise OrderError(f"the return was accepted: 改派 to another department than "
                             f"{order.department}")  # fmt: skip
    if (s.department and a not in (A.DISPATCH, A.ACCEPT)) or (
        a is A.ACCEPT and s.department and order.state is not S.RETURN_REQUESTED
    ):
        raise OrderError(f"{a.value} sends the order nowhere: a department (--to) is for "
                         "dispatch and for accepting a return (改派)")  # fmt: skip
    if s.deadline is None and (
        a is A.DISPATCH or (a is A.ACCEPT and order.state is S.RETURN_REQUESTED)
    ):
        raise OrderError(f"{a.value} needs a deadline (限时办结)")
    if a is A.VISIT and (s.resolved is None or s.rating is None):
        raise OrderError("visit needs --resolved yes|no and --rating 满意|基本满意|不满意")
    if (
        a is A.REOPEN
        and order.last_resolved is not False
        and (order.last_rating is not Rating.DISSATISFIED)
    ):
        raise OrderError("only an order rated 不满意 or 未解决 is reopened")
    if a is A.MERGE and (not s.target or s.target == order.id):
        raise OrderError("merge needs the order to keep (another order's id)")


def step(order: Order, s: Step) -> Entry:
    """The journal entry for S on ORDER, or :class:`OrderError` saying why it is refused."""
    move = TABLE.get((order.state, s.action))
    if move is None:
        allowed = sorted(a.value for (st, a) in TABLE if st is order.state)
        raise OrderError(
            f"order {order.id} is {order.state}: {s.action.value} is not allowed "
            f"(allowed: {', '.join(allowed) or 'nothing'})"
        )
    if s.actor.side not in move.sides:
        who = " or ".join(sorted(x.value for x in move.sides))
        raise OrderError(f"{s.action.value} is for the {who}, not {s.actor.user} "
                         f"({s.actor.side.value})")  # fmt: skip
    _check(order, s)
    department = s.department if s.action in (A.DISPATCH, A.ACCEPT) else ""
    return Entry(
        order=order.id, t=s.t, user=s.actor.user, side=s.actor.side, action=s.action,
        before=order.state, after=move.after or order.state, department=department,
        text=s.text, attachments=s.attachments, contact=s.contact, deadline=s.deadline,
        resolved=s.resolved, rating=s.rating, call_id=s.call_id, phone=s.phone,
        target=s.target,
    )  # fmt: skip


def created(e: Entry, content: str) -> Order:
    """The order a create entry starts (``content`` is the entry's text)."""
    if e.action is not A.CREATE or e.type is None:
        raise OrderError(f"an order's journal starts with create, not {e.action.value}")
    return Order(
        id=e.order, t_created=e.t, type=e.type, category=e.category, place=e.place,
        content=content, state=S.RECEIVED,
        callers=(Caller(e.phone, e.call_id, e.t),) if e.phone or e.call_id else (), entries=1,
    )  # fmt: skip


def fold(order: Order, e: Entry) -> Order:
    """ORDER after the entry E (made by :func:`step`)."""
    a = e.action
    o = replace(order, state=e.after, entries=order.entries + 1)
    if a in (A.DISPATCH, A.ACCEPT) and e.department:
        o = replace(o, department=e.department, deadline=e.deadline, t_assigned=e.t)
    if a is A.REJECT and e.deadline is not None:
        o = replace(o, deadline=e.deadline)
    if a in (A.RETURN, A.FINISH):
        o = replace(o, pending=a)
    if a in (A.ACCEPT, A.REJECT):
        o = replace(o, pending=None)
    if e.after is S.CLOSED:
        o = replace(o, t_closed=e.t)
    if a is A.VISIT:
        o = replace(o, last_resolved=e.resolved, last_rating=e.rating)
    if a is A.REOPEN:
        o = replace(o, department="", deadline=None, t_assigned=None, t_closed=None)
    if a is A.MERGE:
        o = replace(o, merged_into=e.target)
    if a is A.LINK:
        o = replace(o, callers=(*o.callers, Caller(e.phone, e.call_id, e.t)))
        if e.target:  # a merged order's caller, carried over
            o = replace(o, merged=(*o.merged, e.target))
    return o


def replay(entries: Iterable[Entry]) -> Order:
    """The order its journal (oldest first, starting with create) leaves."""
    it = iter(entries)
    first = next(it, None)
    if first is None:
        raise OrderError("an order's journal is empty")
    order = created(first, first.text)
    for e in it:
        order = fold(order, e)
    return order
