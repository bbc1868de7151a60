"""The work orders as the web sees them: the one Desk (:mod:`hotline.casework.desk`), the
signed-in user as an order actor, and every step a page or the API takes, by name.

    desk, actor = orders_web.desk_for(ctx)
    order = orders_web.take(ctx, "sign", order_id, {})        # the same for forms and JSON

No rule lives here: who may do what is the state machine's, what each step needs is the
Desk's; this module turns fields into the Desk's arguments and its errors into HTTP ones
(no such order, or another department's: 404; a step refused: 409; a bad field: 400).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TypeVar

from hotline.casework.desk import Created, Desk
from hotline.orders.chase import DEFAULT_STEPS, ChaseStep
from hotline.orders.errors import OrderError
from hotline.orders.machine import TABLE, Step, step
from hotline.orders.model import Action, Actor, Order, OrderType, Rating, State
from hotline.stores.access import AccessError
from hotline.stores.dialect import DatabaseError
from hotline.stores.orders import OrderStore
from hotline.web.context import SignedIn
from hotline.web.errors import BadRequest, Conflict, Forbidden, NotFound, Unavailable
from hotline.web.roles import order_actor

T = TypeVar("T")
HOUR_MS = 3_600_000


VERBS = ("dispatch", "sign", "reply", "return", "finish", "accept", "reject", "visit",
         "close-on-spot", "merge", "link", "urge", "reopen")  # fmt: skip
"""Every step a page or the API takes on an existing order (the Desk's verbs)."""


def store(ctx: SignedIn) -> OrderStore:
    if ctx.app.orders is None:
        ctx.app.orders = OrderStore.open(ctx.app.settings.db)
    return ctx.app.orders


def _actor(ctx: SignedIn) -> Actor:
    made = order_actor(ctx.user, ctx.app.center.orders)
    if isinstance(made, str):
        raise Forbidden(made)
    return made


def desk_for(ctx: SignedIn) -> tuple[Desk, Actor]:
    """The Desk, logging reads to the access log as ``web`` with the session's purpose (an
    auditor's case, when set), and who acts."""
    desk = Desk(store(ctx), ctx.app.center.orders, ctx.app.access_log, "web",
                ctx.session.purpose)  # fmt: skip
    return desk, _actor(ctx)


@contextmanager
def errors() -> Iterator[None]:
    """The Desk's errors as the web's: a missing (or hidden) order 404, a refused step 409;
    a read that cannot be logged is not served (503)."""
    try:
        yield
    except OrderError as exc:
        text = str(exc)
        if text.startswith("no order") or text.startswith("no department"):
            raise (NotFound if text.startswith("no order") else BadRequest)(text) from None
        raise Conflict(text) from None
    except (*DatabaseError, AccessError) as exc:
        raise Unavailable(f"the orders or the access log cannot be used ({exc})") from None


def run(ctx: SignedIn, work: Callable[[Desk, Actor, int], T]) -> T:
    desk, actor = desk_for(ctx)
    with errors():
        return work(desk, actor, ctx.app.clock())


def offered(order: Order, actor: Actor, now: int) -> list[str]:
    """The steps ACTOR may take on ORDER now (the forms a page shows): those the state
    machine's table lists for the order's state and the actor's side, and that the machine
    itself accepts when tried with their fields filled in (a reopen after 满意 is not)."""
    out = []
    for (state, action), move in TABLE.items():
        if state is not order.state or actor.side not in move.sides or action is Action.LINK:
            continue
        sends = action is Action.DISPATCH or (
            action is Action.ACCEPT and state is State.RETURN_REQUESTED
        )
        trial = Step(action, actor, now, text="·", department="·" if sends else "",
                     deadline=now if sends else None, resolved=True, rating=Rating.SATISFIED,
                     target="·")  # fmt: skip
        try:
            step(order, trial)
        except OrderError:
            continue
        out.append(action.value)
    return out


def _field(fields: Mapping[str, object], name: str) -> str:
    value = fields.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"{name}: a string, not {type(value).__name__}")
    return value.strip()


def _choice(fields: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> str:
    value = _field(fields, name)
    if value not in allowed:
        raise BadRequest(f"{name}: one of {', '.join(allowed)} (not {value!r})")
    return value


def create(ctx: SignedIn, fields: Mapping[str, object], *, phone: str = "") -> Created:
    """受理 from FIELDS (type, category, content, place, call_id, phone; answer: 直接办结)."""
    type_ = OrderType(_choice(fields, "type", tuple(t.value for t in OrderType)))
    answer = _field(fields, "answer")
    made = run(ctx, lambda desk, actor, now: desk.create(
        actor, type_, _field(fields, "category"), _field(fields, "content"), now=now,
        place=_field(fields, "place"), phone=phone or _field(fields, "phone"),
        call_id=_field(fields, "call_id")))  # fmt: skip
    if not answer:
        return made
    try:
        closed = take(ctx, "close-on-spot", made.order.id, {"text": answer})
    except Conflict as exc:  # taken all the same: say so, with its id
        raise Conflict(f"order {made.order.id} was taken (受理) but not closed on the spot: "
                       f"{exc}") from None  # fmt: skip
    return Created(closed, made.proposals)


def take(ctx: SignedIn, verb: str, order_id: str, fields: Mapping[str, object]) -> Order:
    """The step VERB on ORDER_ID, its arguments from FIELDS, through the Desk."""
    if verb not in VERBS:
        raise BadRequest(f"no step {verb!r}: one of {', '.join(VERBS)}")
    text = _field(fields, "text")

    def work(desk: Desk, actor: Actor, now: int) -> Order:
        if verb == "dispatch":
            return desk.dispatch(actor, order_id, _field(fields, "to"), now=now)
        if verb in ("accept", "reject"):
            return desk.review(actor, order_id, verb == "accept", why=text, now=now,
                               to=_field(fields, "to"))  # fmt: skip
        if verb == "visit":
            resolved = _choice(fields, "resolved", ("yes", "no")) == "yes"
            rating = Rating(_choice(fields, "rating", tuple(r.value for r in Rating)))
            return desk.visit(actor, order_id, resolved=resolved, rating=rating, now=now,
                              text=text)  # fmt: skip
        if verb == "merge":
            return desk.merge(actor, order_id, _field(fields, "into"), now=now)
        if verb == "link":
            return desk.link(actor, order_id, now=now, phone=_field(fields, "phone"),
                             call_id=_field(fields, "call_id"))  # fmt: skip
        step = Step(Action(verb), actor, now, text=text, contact=_field(fields, "contact"))
        return desk.act(actor, order_id, step)

    return run(ctx, work)


def urgency(order: Order, now: int, steps: Sequence[ChaseStep] = DEFAULT_STEPS) -> str:
    """How late the open ORDER is: ``overdue`` past its deadline, ``due_soon`` once the
    earliest chase step before the deadline (center.yaml ``orders.chase``, 催办 4 h before by
    default) has come, else ""."""
    if not order.state.is_open or order.deadline is None:
        return ""
    if now > order.deadline:
        return "overdue"
    before = min((s.hours for s in steps if s.hours < 0), default=0)
    return "due_soon" if before and now >= order.deadline + before * HOUR_MS else ""


def state_of(raw: str) -> State | None:
    if not raw:
        return None
    try:
        return State(raw)
    except ValueError:
        raise BadRequest(f"state: one of {', '.join(s.value for s in State)}") from None
