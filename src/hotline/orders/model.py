"""The order, the entries of its journal, and the names the centre uses for them (pure).

Times are epoch milliseconds; ids and ``now`` come from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Action", "Actor", "Caller", "Entry", "Order", "OrderType", "Rating", "Side", "State"]


class OrderType(StrEnum):
    CONSULT = "咨询"
    HELP = "求助"
    COMPLAINT = "投诉举报"
    SUGGESTION = "建议"


class State(StrEnum):
    RECEIVED = "受理"  # taken on a call, waiting to be dispatched
    DISPATCHED = "派单"  # assigned to a department, not signed for yet
    SIGNED = "签收"
    REPLIED = "答复"  # the department answered (the citizen, when ``contact`` says how)
    FINISH_REQUESTED = "办结申请"
    RETURN_REQUESTED = "退单申请"
    REDO = "重办"  # a request refused: the same department handles it again
    CLOSED = "办结"
    RATED = "评价"  # 回访 done: resolved or not, and the citizen's rating
    MERGED = "合并"  # a duplicate folded into another order

    @property
    def is_open(self) -> bool:
        return self not in (State.CLOSED, State.RATED, State.MERGED)


class Action(StrEnum):
    """What someone does to an order; the value is the CLI's and the journal's word."""

    CREATE = "create"  # 受理
    CLOSE_ON_SPOT = "close-on-spot"  # 直接办结: a 咨询 answered on the call
    LINK = "link"  # another call (a caller) about the same order
    MERGE = "merge"  # this order is a duplicate of ``target``
    DISPATCH = "dispatch"  # 派单
    SIGN = "sign"  # 签收
    REPLY = "reply"  # 答复
    RETURN = "return"  # 退单申请
    FINISH = "finish"  # 办结申请
    ACCEPT = "accept"  # 审核 passed: 退单 → 改派 to ``department``; 办结 → closed
    REJECT = "reject"  # 审核 refused (依据不充分): 重办
    URGE = "urge"  # 催办 / 督办
    VISIT = "visit"  # 回访 with 评价
    REOPEN = "reopen"  # after 不满意 or 未解决: taken again


class Side(StrEnum):
    """Who acts: the intake agent, the centre (dispatch, review, visit), a department, or
    an auditor (who only reads)."""

    INTAKE = "intake"
    CENTRE = "centre"
    DEPARTMENT = "department"
    AUDIT = "audit"  # reads every order, its findings and figures; acts on none


class Rating(StrEnum):
    SATISFIED = "满意"
    FAIRLY = "基本满意"
    DISSATISFIED = "不满意"


@dataclass(frozen=True, slots=True)
class Actor:
    user: str
    side: Side
    department: str = ""  # for Side.DEPARTMENT: the department acted for


@dataclass(frozen=True, slots=True)
class Caller:
    """A citizen who called about the order (a merged order keeps every one)."""

    phone: str
    call_id: str = ""
    t: int = 0


@dataclass(frozen=True, slots=True)
class Entry:
    """One step in an order's journal: who did what, when, from which state to which, why.

    The fields an action does not use stay empty. ``create`` carries the order's facts."""

    order: str
    t: int
    user: str
    side: Side
    action: Action
    before: State | None  # None for create
    after: State
    department: str = ""  # dispatch / 改派: where it goes
    text: str = ""  # the reply, the reason, the evidence, the review's why
    attachments: tuple[str, ...] = ()
    contact: str = ""  # reply: how the citizen was reached (电话, 上门, ...); "" none
    deadline: int | None = None  # dispatch / 改派 / 重办: 限时办结
    resolved: bool | None = None  # visit
    rating: Rating | None = None  # visit
    call_id: str = ""  # create / link
    phone: str = ""  # create / link
    target: str = ""  # merge: the order kept
    type: OrderType | None = None  # create
    category: str = ""  # create
    place: str = ""  # create

    def fields(self) -> dict[str, object]:
        """The entry as JSON values (the journal's body and hash input)."""
        return {
            "order": self.order, "t": self.t, "user": self.user, "side": self.side.value,
            "action": self.action.value, "before": self.before.value if self.before else None,
            "after": self.after.value, "department": self.department, "text": self.text,
            "attachments": list(self.attachments), "contact": self.contact,
            "deadline": self.deadline, "resolved": self.resolved,
            "rating": self.rating.value if self.rating else None, "call_id": self.call_id,
            "phone": self.phone, "target": self.target,
            "type": self.type.value if self.type else None, "category": self.category,
            "place": self.place,
        }  # fmt: skip

    @classmethod
    def from_fields(cls, f: dict[str, object]) -> Entry:
        def s(key: str) -> str:
            return str(f.get(key) or "")

        deadline, resolved, atts = f.get("deadline"), f.get("resolved"), f.get("attachments")
        return cls(
            order=s("order"), t=int(str(f["t"])), user=s("user"), side=Side(s("side")),
            action=Action(s("action")), before=State(s("before")) if f.get("before") else None,
            after=State(s("after")), department=s("department"), text=s("text"),
            attachments=tuple(str(a) for a in atts) if isinstance(atts, list) else (),
            contact=s("contact"), deadline=int(str(deadline)) if deadline is not None else None,
            resolved=bool(resolved) if resolved is not None else None,
            rating=Rating(s("rating")) if f.get("rating") else None, call_id=s("call_id"),
            phone=s("phone"), target=s("target"),
            type=OrderType(s("type")) if f.get("type") else None, category=s("category"),
            place=s("place"),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Order:
    """An order as its journal leaves it (:func:`hotline.orders.machine.replay`)."""

    id: str
    t_created: int
    type: OrderType
    category: str
    place: str
    content: str
    state: State
    callers: tuple[Caller, ...] = ()
    department: str = ""  # who holds it now ("" before 派单)
    deadline: int | None = None
    t_assigned: int | None = None  # when the current department got it
    merged_into: str = ""
    merged: tuple[str, ...] = ()  # orders folded into this one
    pending: Action | None = None  # RETURN or FINISH while waiting for 审核
    last_resolved: bool | None = None
    last_rating: Rating | None = None
    t_closed: int | None = None
    entries: int = 0

    @property
    def phone(self) -> str:
        return self.callers[0].phone if self.callers else ""

    @property
    def call_ids(self) -> tuple[str, ...]:
        return tuple(c.call_id for c in self.callers if c.call_id)
