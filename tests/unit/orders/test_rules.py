"""The bounce rules on their own: stances, thresholds as data, a rule turned off."""

from __future__ import annotations

from dataclasses import replace

from hotline.orders.machine import Step, fold, replay, step
from hotline.orders.model import Action, Actor, Entry, Order, OrderType, Side, State
from hotline.orders.rules import Thresholds, findings, stances

CENTRE = Actor("c", Side.CENTRE)
A = Actor("a", Side.DEPARTMENT, "a")
B = Actor("b", Side.DEPARTMENT, "b")


def test_stances_read_negation_first() -> None:
    assert stances("不可以缓缴") == {"refused"}
    assert stances("可以缓缴") == {"granted"}
    assert stances("此事不在管辖范围") == {"not_ours"}
    assert stances("树木已修剪") == {"done"}
    assert stances("您好，已收到") == frozenset()


def walk(*steps: Step) -> tuple[list[Entry], Order]:
    first = Entry(order="O", t=0, user="w", side=Side.INTAKE, action=Action.CREATE,
                  before=None, after=State.RECEIVED, type=OrderType.HELP, category="x",
                  text="路灯不亮")  # fmt: skip
    order = replay([first])
    journal = [first]
    for s in steps:
        e = step(order, s)
        order = fold(order, e)
        journal.append(e)
    return journal, order


def test_thresholds_are_data_and_zero_turns_a_rule_off() -> None:
    steps = [Step(Action.DISPATCH, CENTRE, 1, department="a", deadline=10**9)]
    for n, (holder, other) in enumerate([(A, B), (B, A)]):
        steps += [
            Step(Action.RETURN, holder, 10 + n, text="不属于我单位"),
            Step(Action.ACCEPT, CENTRE, 20 + n, department=other.department, deadline=10**9),
        ]
    journal, order = walk(*steps)
    got = {f.rule for f in findings(order, journal, Thresholds(), now=100)}
    assert got == {"returns", "passed_around"}
    off = replace(Thresholds(), returns=0, passed_around=0)
    assert findings(order, journal, off, now=100) == []
    three = replace(Thresholds(), returns=3)
    assert {f.rule for f in findings(order, journal, three, now=100)} == {"passed_around"}


def test_a_reply_with_contact_counts_only_for_its_department() -> None:
    journal, order = walk(
        Step(Action.DISPATCH, CENTRE, 1, department="a", deadline=10**9),
        Step(Action.SIGN, A, 2),
        Step(Action.REPLY, A, 3, text="已电话联系", contact="电话"),
        Step(Action.RETURN, A, 4, text="应由b办理"),
        Step(Action.ACCEPT, CENTRE, 5, department="b", deadline=10**9),
        Step(Action.SIGN, B, 6),
        Step(Action.REPLY, B, 7, text="已处理"),
        Step(Action.FINISH, B, 8, text="已处理"),
    )
    found = findings(order, journal, Thresholds(), now=9)
    (no_contact,) = [f for f in found if f.rule == "no_contact"]
    assert no_contact.departments == ("b",)
    assert no_contact.marks == (8,)
