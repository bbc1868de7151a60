"""The 回访 call's keys as an order's 评价."""

from __future__ import annotations

from hotline.orders.model import Rating
from hotline.orders.survey import survey_answer


def test_the_keys_become_resolved_and_the_three_level_rating() -> None:
    got = {(r, s): survey_answer(r, s) for r in "12" for s in "12345"}
    assert {k: (a.resolved, a.rating) for k, a in got.items() if a} == {
        ("1", "5"): (True, Rating.SATISFIED), ("1", "4"): (True, Rating.SATISFIED),
        ("1", "3"): (True, Rating.FAIRLY), ("1", "2"): (True, Rating.DISSATISFIED),
        ("1", "1"): (True, Rating.DISSATISFIED), ("2", "5"): (False, Rating.SATISFIED),
        ("2", "4"): (False, Rating.SATISFIED), ("2", "3"): (False, Rating.FAIRLY),
        ("2", "2"): (False, Rating.DISSATISFIED), ("2", "1"): (False, Rating.DISSATISFIED),
    }  # fmt: skip
    answer = survey_answer("2", "1")
    assert answer is not None
    assert answer.text() == "回访电话（按键）：未解决，评分 1/5（不满意）"


def test_a_half_answered_survey_records_nothing() -> None:
    for resolved, rating in [("", "4"), ("1", ""), ("3", "4"), ("1", "6"), ("1", "*"), ("", "")]:
        assert survey_answer(resolved, rating) is None
