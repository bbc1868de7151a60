"""The forms an order's page offers: exactly the steps the state machine then takes."""

from __future__ import annotations

from hotline.orders.chase import ChaseStep
from hotline.orders.machine import Step, fold, step
from hotline.orders.model import Action, Actor, OrderType, Rating, Side
from hotline.web.orders_web import offered, urgency
from tests.unit.orders.test_machine import CENTRE, INTAKE, new

GREENING = Actor("lvhua01", Side.DEPARTMENT, "greening")
HOUSING = Actor("zhujian01", Side.DEPARTMENT, "housing")
AUDIT = Actor("jijian01", Side.AUDIT)


def test_each_side_is_offered_its_own_steps() -> None:
    order, _ = new()
    assert offered(order, INTAKE, 1) == ["merge"]
    assert offered(order, CENTRE, 1) == ["dispatch", "merge"]
    assert offered(order, GREENING, 1) == []
    order = fold(order, step(order, Step(Action.DISPATCH, CENTRE, 1, department="greening",
                                         deadline=100)))  # fmt: skip
    assert offered(order, GREENING, 2) == ["sign", "return"]
    assert offered(order, HOUSING, 2) == []  # not theirs
    assert offered(order, CENTRE, 2) == ["urge"]
    assert offered(order, AUDIT, 2) == []


def test_a_consult_is_offered_closing_on_the_spot_and_reopen_only_after_a_bad_visit() -> None:
    consult, _ = new(OrderType.CONSULT)
    assert "close-on-spot" in offered(consult, INTAKE, 1)
    complaint, _ = new()
    assert "close-on-spot" not in offered(complaint, INTAKE, 1)
    closed = fold(consult, step(consult, Step(Action.CLOSE_ON_SPOT, INTAKE, 1, text="答复")))
    assert offered(closed, CENTRE, 2) == ["visit"]
    for rating, resolved, reopen in ((Rating.SATISFIED, True, False),
                                     (Rating.DISSATISFIED, True, True),
                                     (Rating.FAIRLY, False, True)):  # fmt: skip
        rated = fold(closed, step(closed, Step(Action.VISIT, CENTRE, 3, resolved=resolved,
                                               rating=rating)))  # fmt: skip
        assert ("reopen" in offered(rated, CENTRE, 4)) is reopen


def test_the_near_due_and_the_overdue_are_told_apart() -> None:
    hour = 3_600_000
    order, _ = new()
    assert urgency(order, 0) == ""  # no deadline yet
    deadline = 100 * hour
    order = fold(order, step(order, Step(Action.DISPATCH, CENTRE, 1, department="greening",
                                         deadline=deadline)))  # fmt: skip
    assert urgency(order, deadline - 5 * hour) == ""
    assert urgency(order, deadline - 4 * hour) == "due_soon"  # 催办 is due 4 h before
    assert urgency(order, deadline) == "due_soon"
    assert urgency(order, deadline + 1) == "overdue"
    steps = (ChaseStep("催办", -24), ChaseStep("督办", 0))
    assert urgency(order, deadline - 5 * hour, steps) == "due_soon"
    assert urgency(order, deadline - 5 * hour, (ChaseStep("督办", 0),)) == ""
