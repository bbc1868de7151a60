"""The transition table, property-tested: random steps never leave it, and nothing reaches
办结 without a reply and the centre's review (or 直接办结 with the answer given)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.orders.errors import OrderError
from hotline.orders.machine import TABLE, Step, fold, replay, step
from hotline.orders.model import Action, Actor, Entry, Order, OrderType, Rating, Side, State

CENTRE = Actor("banzhang", Side.CENTRE)
INTAKE = Actor("wangfang", Side.INTAKE)
DEPTS = ("greening", "housing")


def new(type_: OrderType = OrderType.COMPLAINT) -> tuple[Order, Entry]:
    e = Entry(order="O1", t=0, user="wangfang", side=Side.INTAKE, action=Action.CREATE,
              before=None, after=State.RECEIVED, type=type_, category="绿化", place="嘉定",
              text="树枝压电线", phone="13812345678", call_id="c1")  # fmt: skip
    return replay([e]), e


def test_a_normal_order_goes_round_the_loop() -> None:
    order, _ = new()
    dept = Actor("zhang", Side.DEPARTMENT, "greening")
    for s in (
        Step(Action.DISPATCH, CENTRE, 1, department="greening", deadline=100),
        Step(Action.SIGN, dept, 2),
        Step(Action.REPLY, dept, 3, text="已修剪", contact="电话"),
        Step(Action.FINISH, dept, 4, text="现场照片", attachments=("a.jpg",)),
        Step(Action.ACCEPT, CENTRE, 5, text="ok"),
        Step(Action.VISIT, CENTRE, 6, resolved=True, rating=Rating.SATISFIED),
    ):
        order = fold(order, step(order, s))
    assert order.state is State.RATED
    assert order.t_closed == 5
    assert order.department == "greening"


def test_refusals_say_why() -> None:
    order, _ = new()
    with pytest.raises(OrderError, match="finish is not allowed"):
        step(order, Step(Action.FINISH, Actor("z", Side.DEPARTMENT, "greening"), 1, text="x"))
    with pytest.raises(OrderError, match="needs the department"):
        step(order, Step(Action.DISPATCH, CENTRE, 1, deadline=5))
    with pytest.raises(OrderError, match="is for the centre"):
        step(order, Step(Action.DISPATCH, INTAKE, 1, department="greening", deadline=5))
    with pytest.raises(OrderError, match="only a 咨询"):
        step(order, Step(Action.CLOSE_ON_SPOT, INTAKE, 1, text="答了"))
    order = fold(order, step(order, Step(Action.DISPATCH, CENTRE, 1, department="greening",
                                         deadline=9)))  # fmt: skip
    with pytest.raises(OrderError, match="not housing"):
        step(order, Step(Action.SIGN, Actor("li", Side.DEPARTMENT, "housing"), 2))


def test_a_consultation_is_closed_on_the_spot() -> None:
    order, _ = new(OrderType.CONSULT)
    order = fold(order, step(order, Step(Action.CLOSE_ON_SPOT, INTAKE, 1, text="可以缓缴")))
    assert order.state is State.CLOSED


def test_reopen_only_after_a_bad_visit() -> None:
    order, _ = new(OrderType.CONSULT)
    order = fold(order, step(order, Step(Action.CLOSE_ON_SPOT, INTAKE, 1, text="答")))
    good = fold(order, step(order, Step(Action.VISIT, CENTRE, 2, resolved=True,
                                        rating=Rating.FAIRLY)))  # fmt: skip
    with pytest.raises(OrderError, match="不满意 or 未解决"):
        step(good, Step(Action.REOPEN, CENTRE, 3, text="again"))
    bad = fold(order, step(order, Step(Action.VISIT, CENTRE, 2, resolved=False,
                                       rating=Rating.FAIRLY)))  # fmt: skip
    assert fold(bad, step(bad, Step(Action.REOPEN, CENTRE, 3))).state is State.RECEIVED


ACTORS = st.sampled_from([
    CENTRE, INTAKE, Actor("zhang", Side.DEPARTMENT, "greening"),
    Actor("li", Side.DEPARTMENT, "housing"),
])  # fmt: skip
STEPS = st.builds(
    Step,
    action=st.sampled_from([a for a in Action if a is not Action.CREATE]),
    actor=ACTORS,
    t=st.integers(1, 10**6),
    department=st.sampled_from(("", *DEPTS)),
    text=st.sampled_from(("", "已修剪", "不在管辖范围")),
    attachments=st.sampled_from(((), ("p.jpg",))),
    contact=st.sampled_from(("", "电话")),
    deadline=st.one_of(st.none(), st.integers(1, 10**6)),
    resolved=st.one_of(st.none(), st.booleans()),
    rating=st.one_of(st.none(), st.sampled_from(Rating)),
    target=st.sampled_from(("", "O2")),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(OrderType), st.lists(STEPS, max_size=60))
def test_random_steps_never_leave_the_table(type_: OrderType, steps: list[Step]) -> None:
    order, first = new(type_)
    journal = [first]
    for s in steps:
        try:
            e = step(order, s)
        except OrderError:
            continue
        assert (e.before, e.action) in TABLE
        expected = TABLE[(order.state, s.action)].after
        assert e.after is (expected or order.state)
        order = fold(order, e)
        journal.append(e)
        if e.after is State.CLOSED and e.before is not State.CLOSED:
            # 办结: the centre accepted a 办结 request that followed a reply in this spell,
            # or a 咨询 was answered on the spot
            if e.action is Action.CLOSE_ON_SPOT:
                assert type_ is OrderType.CONSULT
                assert e.text
            else:
                assert e.action is Action.ACCEPT
                assert e.side is Side.CENTRE
                assert e.before is State.FINISH_REQUESTED
                since = max(i for i, x in enumerate(journal) if x.action in
                            (Action.DISPATCH, Action.CREATE, Action.REOPEN) or
                            (x.action is Action.ACCEPT and x.department))  # fmt: skip
                actions = [x.action for x in journal[since:]]
                assert Action.REPLY in actions
                assert Action.FINISH in actions
    assert replay(journal) == order


def guided(order: Order, pick: int, flags: int) -> Step:
    """A step among those the table allows now, mostly well-formed (FLAGS spoil some)."""
    allowed = sorted((a for (s, a) in TABLE if s is order.state), key=lambda a: a.value)
    action = allowed[pick % len(allowed)] if allowed else Action.LINK  # 合并 is the end
    side = TABLE[(order.state, action)].sides if allowed else frozenset({Side.CENTRE})
    if Side.DEPARTMENT in side:
        dept = order.department if flags & 1 == 0 else "housing"
        actor = Actor("h", Side.DEPARTMENT, dept)
    else:
        actor = CENTRE if flags & 2 == 0 else INTAKE
    other = "housing" if order.department == "greening" else "greening"
    return Step(
        action, actor, t=order.entries, department=other if flags & 4 == 0 else "",
        text="" if flags & 8 else "已处理", contact="电话" if flags & 16 else "",
        deadline=order.entries + 100, resolved=bool(flags & 32),
        rating=Rating.DISSATISFIED if flags & 64 else Rating.SATISFIED,
        target="" if flags & 8 else "O2",
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(OrderType), st.lists(st.tuples(st.integers(0, 20), st.integers(0, 127)),
                                            max_size=80))  # fmt: skip
def test_guided_walks_close_only_after_review_and_reply(
    type_: OrderType, picks: list[tuple[int, int]]
) -> None:
    order, first = new(type_)
    journal = [first]
    for pick, flags in picks:
        try:
            e = step(order, guided(order, pick, flags))
        except OrderError:
            continue
        order = fold(order, e)
        journal.append(e)
        if e.after is State.CLOSED and e.before is not State.CLOSED:
            if e.action is Action.CLOSE_ON_SPOT:
                assert type_ is OrderType.CONSULT
                continue
            assert (e.action, e.before, e.side) == (
                Action.ACCEPT, State.FINISH_REQUESTED, Side.CENTRE)  # fmt: skip
            spell = [x.action for x in journal[_spell_start(journal) :]]
            assert Action.REPLY in spell
            assert spell.index(Action.REPLY) < len(spell) - 2
    assert replay(journal) == order


def _spell_start(journal: list[Entry]) -> int:
    return max(
        i for i, x in enumerate(journal)
        if x.action in (Action.CREATE, Action.REOPEN) or (
            x.action in (Action.DISPATCH, Action.ACCEPT) and x.department)
    )  # fmt: skip


def test_the_guided_walk_reaches_every_state() -> None:
    """The properties above mean something only if such walks get everywhere (seeded)."""
    rng = random.Random(18)
    seen: set[State] = set()
    for n in range(200):
        order, _ = new(list(OrderType)[n % 4])
        for _ in range(80):
            try:
                order = fold(order, step(order, guided(order, rng.randint(0, 20),
                                                       rng.randint(0, 127))))  # fmt: skip
            except OrderError:
                continue
            seen.add(order.state)
    assert seen == set(State)
