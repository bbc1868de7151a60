from __future__ import annotations

from hotline.core.localtime import DAY_MS
from hotline.orders.duplicates import propose, similarity
from hotline.orders.model import Caller, Order, OrderType, State


def order(id_: str, text: str, phone: str = "", place: str = "", t: int = 0) -> Order:
    return Order(id_, t, OrderType.COMPLAINT, "物业", place, text, State.RECEIVED,
                 callers=(Caller(phone),) if phone else ())  # fmt: skip


def test_bigram_similarity() -> None:
    assert similarity("小区物业费问题", "小区物业费问题") == 1.0
    assert similarity("小区物业费问题", "路灯不亮") == 0.0
    assert 0.3 < similarity("小区物业费怎么交", "物业费怎么交？小区的") < 1


def test_same_number_or_place_and_similar_text_within_the_window() -> None:
    new = order("N", "高新区小区物业费收费问题", phone="13800000001", place="高新区", t=10 * DAY_MS)
    others = [
        order("A", "小区物业费收费不合理", phone="13800000001", t=9 * DAY_MS),
        order("B", "物业费收费问题", place="高新区", t=8 * DAY_MS),
        order("C", "路灯不亮", phone="13800000001", t=9 * DAY_MS),  # not alike
        order("D", "小区物业费收费问题", phone="13899999999", place="别处", t=9 * DAY_MS),
        order("E", "高新区小区物业费收费问题", phone="13800000001", t=-30 * DAY_MS),  # too old
    ]
    found = propose(new, others, days=30, min_similarity=0.3)
    assert sorted(p.order for p in found) == ["A", "B"]
    a = next(p for p in found if p.order == "A")
    assert a.same_number
    assert not a.same_place
    assert "same number" in a.why()
