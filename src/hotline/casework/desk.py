"""The work orders' service: every verb of ``hotline orders`` and of the order pages.

    desk = Desk(OrderStore.open(settings.db), center.orders)
    made = desk.create(actor, OrderType.COMPLAINT, "绿化", "树枝压电线", now=now_ms,
                       phone="13812345678", call_id="1733555000.12", place="嘉定区xx路")
    desk.dispatch(centre, made.order.id, "greening", now=now_ms)    # deadline from the limits
    desk.act(dept, order_id, Step(Action.SIGN, dept, t=now_ms))
    desk.findings(actor, now=now_ms)

Who may see what: the centre, intake agents and auditors see every order; a department's
handler only the orders their department holds or held. Who may do what is the state
machine's table (:data:`hotline.orders.machine.TABLE`). ``now`` is always given: the
service reads no clock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from hotline.core.localtime import CHINA
from hotline.orders.chase import CHASED, Chase, due
from hotline.orders.config import OrdersConfig
from hotline.orders.duplicates import Proposal, propose
from hotline.orders.errors import OrderError
from hotline.orders.figures import DepartmentMonth, figures
from hotline.orders.machine import Step, fold, replay, step
from hotline.orders.model import Action, Actor, Entry, Order, OrderType, Rating, Side, State
from hotline.orders.rules import Finding, findings
from hotline.stores.access import AccessEntry, AccessLog
from hotline.stores.orders import OrderStore

__all__ = ["Created", "Desk", "Shown"]


@dataclass(frozen=True, slots=True)
class Created:
    order: Order
    proposals: tuple[Proposal, ...]  # possible duplicates, for the agent to merge or not


@dataclass(frozen=True, slots=True)
class Shown:
    order: Order
    timeline: tuple[Entry, ...]
    findings: tuple[Finding, ...]


def _day(t_ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t_ms // 1000, CHINA).strftime("%Y%m%d")


@dataclass
class Desk:
    store: OrderStore
    config: OrdersConfig
    access: AccessLog | None = None
    """Where reads of orders are logged (who, when, which order or filter); None: nowhere."""
    via: str = ""
    """How the reader came (``cli:OS_USER``, ``web``): the access log entry's detail."""
    purpose: str = ""
    """The case the reader gave for their session (an auditor's), logged with each read."""

    def _log(self, actor: Actor, action: str, target: str, now: int, **detail: object) -> None:
        if self.access is None:
            return
        doc = {"via": self.via, **detail} if self.via else detail
        self.access.append(AccessEntry(
            t=now, user=actor.user, role=f"orders:{actor.side.value}", action=action,
            target=target, purpose=self.purpose, detail=json.dumps(doc, ensure_ascii=False,
                                                         sort_keys=True),
        ))  # fmt: skip

    # -- reading --------------------------------------------------------------------------

    def _held_by(self, timeline: Sequence[Entry]) -> set[str]:
        return {e.department for e in timeline if e.department}

    def _may_see(self, actor: Actor, timeline: Sequence[Entry]) -> bool:
        return actor.side is not Side.DEPARTMENT or actor.department in self._held_by(timeline)

    def _visible(self, actor: Actor, order_id: str) -> list[Entry]:
        timeline = self.store.timeline(order_id)
        if not timeline or not self._may_see(actor, timeline):
            raise OrderError(f"no order {order_id!r}")  # another department's: not there
        return timeline

    def show(self, actor: Actor, order_id: str, *, now: int) -> Shown:
        """The order, its whole timeline and what the rules find in it."""
        timeline = self._visible(actor, order_id)
        order = self.store.order(order_id)
        self._log(actor, "order.show", order_id, now)
        return Shown(order, tuple(timeline), tuple(self._findings_of(order, timeline, now)))

    def orders(
        self,
        actor: Actor,
        *,
        now: int,
        state: State | None = None,
        department: str | None = None,
    ) -> list[Order]:
        """Orders the actor may see, oldest first, in STATE and held by DEPARTMENT."""
        if department is not None and department not in self.config.departments:
            raise OrderError(f"no department {department!r} (see hotline orders departments)")
        timelines = self.store.timelines()
        out = []
        for order_id in self.store.ids(state=state.value if state else None,
                                       department=department):  # fmt: skip
            timeline = timelines.get(order_id, [])
            if timeline and self._may_see(actor, timeline):
                out.append(replay(timeline))
        self._log(actor, "order.list", f"{state or ''}/{department or ''}", now,
                  orders=len(out))  # fmt: skip
        return out

    def _related(self, order: Order, all_orders: Sequence[Order]) -> list[Order]:
        """Orders on the same matter: merged into it, or a duplicate by the proposal rule."""
        cfg = self.config
        near = propose(order, all_orders, days=cfg.duplicate_days,
                       min_similarity=cfg.duplicate_similarity)  # fmt: skip
        ids = {p.order for p in near}
        return [o for o in all_orders if o.id in ids or o.id in order.merged]

    def _findings_of(self, order: Order, timeline: Sequence[Entry], now: int) -> list[Finding]:
        timelines = self.store.timelines()
        others = [replay(t) for i, t in timelines.items() if i != order.id]
        related = [(o, timelines[o.id]) for o in self._related(order, others)]
        return findings(order, timeline, self.config.thresholds, now=now, related=related)

    def findings(self, actor: Actor, *, now: int, department: str | None = None) -> list[Finding]:
        """Every bounce finding on the orders the actor may see, for DEPARTMENT if given."""
        if actor.side is Side.INTAKE:
            raise OrderError(f"{actor.user}: the findings are for the centre and auditors")
        timelines = self.store.timelines()
        orders = {i: replay(t) for i, t in timelines.items()}
        out: list[Finding] = []
        for order_id, timeline in timelines.items():
            order = orders[order_id]
            if order.state is State.MERGED or not self._may_see(actor, timeline):
                continue
            others = [o for i, o in orders.items() if i != order_id]
            related = [(o, timelines[o.id]) for o in self._related(order, others)]
            for f in findings(order, timeline, self.config.thresholds, now=now,
                              related=related):  # fmt: skip
                wanted = department is None or department in f.departments
                theirs = actor.side is not Side.DEPARTMENT or actor.department in f.departments
                if wanted and theirs:
                    out.append(f)
        self._log(actor, "order.findings", department or "", now, findings=len(out))
        return out

    def report(self, actor: Actor, month: str, *, now: int) -> dict[str, DepartmentMonth]:
        """Each department's figures for MONTH (YYYY-MM), order by order."""
        if actor.side not in (Side.CENTRE, Side.AUDIT):
            raise OrderError(f"{actor.user}: the department report is for the centre and "
                             "auditors")  # fmt: skip
        self._log(actor, "order.report", month, now)
        found: dict[str, list[Finding]] = {}
        for f in self.findings(actor, now=now):
            found.setdefault(f.order, []).append(f)
        return figures(self.store.timelines(), month=month, calendar=self.config.calendar,
                       sign_limit=self.config.sign_limit, found=found)  # fmt: skip

    # -- acting ---------------------------------------------------------------------------

    def create(
        self,
        actor: Actor,
        type_: OrderType,
        category: str,
        content: str,
        *,
        now: int,
        place: str = "",
        phone: str = "",
        call_id: str = "",
    ) -> Created:
        """受理: a new order (its id: the day and a number); possible duplicates proposed."""
        if actor.side not in (Side.INTAKE, Side.CENTRE):
            raise OrderError(f"{actor.user}: orders are taken by the centre's agents")
        if not content.strip() or not category.strip():
            raise OrderError("an order needs its category and content")

        def make(order_id: str) -> Entry:
            return Entry(
                order=order_id, t=now, user=actor.user, side=actor.side, action=Action.CREATE,
                before=None, after=State.RECEIVED, text=content, call_id=call_id,
                phone=phone, type=type_, category=category, place=place,
            )  # fmt: skip

        order = self.store.create(make, day=_day(now))
        timelines = self.store.timelines()
        others = [replay(t) for i, t in timelines.items() if i != order.id]
        proposals = propose(order, others, days=self.config.duplicate_days,
                            min_similarity=self.config.duplicate_similarity)  # fmt: skip
        return Created(order, tuple(proposals))

    def act(self, actor: Actor, order_id: str, s: Step) -> Order:
        """Apply the step S (by ACTOR) to the order; the order after it."""
        if actor.side is Side.AUDIT:
            raise OrderError(f"{actor.user} is an auditor: they read orders, never act on them")
        sends = s.department and s.action in (Action.DISPATCH, Action.ACCEPT)
        if sends and s.department not in self.config.departments:
            raise OrderError(f"no department {s.department!r} (see hotline orders "
                             "departments)")  # fmt: skip
        self._visible(actor, order_id)
        order = self.store.order(order_id)
        entry = step(order, s)
        after = fold(order, entry)
        self.store.append([entry], {order_id: order.entries})
        return after

    def _deadline(self, order: Order, now: int) -> int:
        return self.config.calendar.add(now, self.config.limit(order.type, order.category))

    def dispatch(self, actor: Actor, order_id: str, to: str, *, now: int) -> Order:
        """派单 to TO, with 限时办结 from the order's type and category."""
        order = self.store.order(order_id)
        deadline = self._deadline(order, now)
        return self.act(actor, order_id, Step(Action.DISPATCH, actor, now, department=to,
                                              deadline=deadline))  # fmt: skip

    def review(
        self, actor: Actor, order_id: str, accept: bool, *, why: str, now: int, to: str = ""
    ) -> Order:
        """审核 of the pending request: accept (a return: 改派 TO) or reject (重办)."""
        order = self.store.order(order_id)
        if order.pending is None:
            raise OrderError(f"order {order_id} has no request waiting for review "
                             f"(it is {order.state})")  # fmt: skip
        if order.pending is Action.FINISH and to:
            raise OrderError("--to is for accepting a return (改派), not a 办结")
        deadline = self._deadline(order, now) if accept and to else None
        action = Action.ACCEPT if accept else Action.REJECT
        return self.act(actor, order_id, Step(action, actor, now, department=to, text=why,
                                              deadline=deadline))  # fmt: skip

    def visit(
        self, actor: Actor, order_id: str, *, resolved: bool, rating: Rating, now: int,
        text: str = "",
    ) -> Order:  # fmt: skip
        """回访 and 评价."""
        return self.act(actor, order_id, Step(Action.VISIT, actor, now, resolved=resolved,
                                              rating=rating, text=text))  # fmt: skip

    def link(
        self, actor: Actor, order_id: str, *, now: int, phone: str = "", call_id: str = ""
    ) -> Order:
        """Another call about the order (the citizen called again): kept as its caller."""
        if not phone and not call_id:
            raise OrderError("link needs the call (--call) or the caller's number (--phone)")
        return self.act(actor, order_id, Step(Action.LINK, actor, now, phone=phone,
                                              call_id=call_id))  # fmt: skip

    def chase(self, actor: Actor, *, now: int, apply: bool = False) -> list[Chase]:
        """The 催办/督办 steps due now (center.yaml ``orders.chase``); with APPLY, each is
        recorded on its order as an urge by ACTOR (so it is not due again)."""
        if actor.side is not Side.CENTRE:
            raise OrderError(f"{actor.user}: chasing orders is the centre's")
        out: list[Chase] = []
        # only the orders a department holds (the orders table's index): the controller
        # runs this every minute, and closed orders are most of the journal
        held = sorted({i for state in CHASED for i in self.store.ids(state=state.value)})
        for order_id in held:
            timeline = self.store.timeline(order_id)
            order = replay(timeline)
            found = due(order, timeline, self.config.chase, now=now)
            if apply:
                for c in found:
                    order = self.act(actor, order_id, Step(Action.URGE, actor, now,
                                                           text=c.text()))  # fmt: skip
            out.extend(found)
        return out

    def merge(self, actor: Actor, order_id: str, into: str, *, now: int) -> Order:
        """Fold ORDER_ID (a duplicate) into INTO: INTO keeps every caller of both."""
        dup = self.store.order(order_id)
        kept = self.store.order(into)
        if kept.state is State.MERGED:
            raise OrderError(f"order {into} was merged into {kept.merged_into}: merge there")
        merge = step(dup, Step(Action.MERGE, actor, now, target=into))
        links = []
        current = kept
        for c in dup.callers:
            e = step(current, Step(Action.LINK, actor, now, phone=c.phone, call_id=c.call_id,
                                   target=order_id))  # fmt: skip
            links.append(e)
            current = fold(current, e)
        self.store.append([merge, *links], {order_id: dup.entries, into: kept.entries})
        return current
