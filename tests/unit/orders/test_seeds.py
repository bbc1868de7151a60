"""The three seed cases replayed through the service on a real SQLite file: each raises what
a discipline inspector would expect, and a normally handled order raises nothing.

Hengshui: a citizen called three times about a property fee and got contradictory answers.
Jiading: the greening bureau returned an order as "not ours" (退单), then twice asked to close
it (办结) without contacting the citizen or looking; every request refused (依据不充分).
Yanggu: two bureaus returned one order five times between them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

import hotline.center
from hotline.casework.desk import Desk
from hotline.center.config import load_center
from hotline.core.localtime import CHINA
from hotline.orders.errors import OrderError
from hotline.orders.figures import Assignment, assignments
from hotline.orders.machine import Step
from hotline.orders.model import Action, Actor, OrderType, Rating, Side, State
from hotline.orders.rules import Finding
from hotline.stores.orders import OrderStore

CENTER = load_center((Path(hotline.center.__file__).parent / "center.yaml").read_text("utf-8"))
AGENT = Actor("wangfang", Side.INTAKE)
CENTRE = Actor("banzhang01", Side.CENTRE)
AUDIT = Actor("jijian01", Side.AUDIT)
HOUSING = Actor("zhujian01", Side.DEPARTMENT, "housing")
GREENING = Actor("lvhua01", Side.DEPARTMENT, "greening")
REALTY = Actor("fangchan01", Side.DEPARTMENT, "realty")
LAND = Actor("ziran01", Side.DEPARTMENT, "land")
PHONE = "13931812345"


def at(month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA).timestamp()) * 1000


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    store = OrderStore.open(tmp_path / "h.sqlite3")
    yield Desk(store, CENTER.orders)
    assert store.verify() is None
    store.close()


def rules(found: list[Finding], order: str) -> set[str]:
    return {f.rule for f in found if f.order == order}


def normal(desk: Desk) -> str:
    o = desk.create(AGENT, OrderType.COMPLAINT, "噪音", "夜间工地施工噪音扰民，希望停工",
                    now=at(11, 2, 9, 30), phone="13700000000",
                    place="桃城区和平路").order  # fmt: skip
    desk.dispatch(CENTRE, o.id, "housing", now=at(11, 2, 10))
    desk.act(HOUSING, o.id, Step(Action.SIGN, HOUSING, at(11, 2, 10, 30)))
    desk.act(HOUSING, o.id, Step(Action.REPLY, HOUSING, at(11, 3, 15), contact="电话",
                                 text="已电话联系市民，已责令工地夜间停工"))  # fmt: skip
    desk.act(HOUSING, o.id, Step(Action.FINISH, HOUSING, at(11, 4, 10),
                                 text="执法记录", attachments=("停工通知.pdf",)))  # fmt: skip
    desk.review(CENTRE, o.id, True, why="依据充分", now=at(11, 4, 11))
    desk.visit(CENTRE, o.id, resolved=True, rating=Rating.SATISFIED, now=at(11, 5, 10))
    return o.id


def test_a_normally_handled_order_raises_nothing(desk: Desk) -> None:
    order = normal(desk)
    assert desk.store.order(order).state is State.RATED
    assert desk.findings(CENTRE, now=at(11, 30, 12)) == []
    month = desk.report(CENTRE, "2026-11", now=at(11, 30, 12))["housing"]
    for name in ("signed on time", "answered on time", "按时办结率", "解决率", "满意率"):
        assert (month.figures[name].numerator, month.figures[name].denominator) == (1, 1), name
    assert month.figures["findings"].numerator == 0
    (row,) = month.figures["按时办结率"].rows  # explained order by order
    assert (row.order, row.counted) == (order, True)
    assert row.why == "办结 11-04 11:00, deadline 11-09 10:00"


def hengshui(desk: Desk) -> tuple[str, str]:
    first = desk.create(AGENT, OrderType.CONSULT, "物业", "小区物业费缴纳问题，物业要求补缴物业费",
                        now=at(11, 2, 10), phone=PHONE, call_id="c1",
                        place="高新区某小区").order  # fmt: skip
    desk.act(AGENT, first.id, Step(Action.CLOSE_ON_SPOT, AGENT, at(11, 2, 10, 5),
                                   text="物业费可以暂缓缴纳，等住建局核实后再说"))  # fmt: skip
    made = desk.create(AGENT, OrderType.COMPLAINT, "物业", "小区物业费问题，物业强制要求补缴物业费",
                       now=at(11, 4, 10), phone=PHONE, call_id="c2",
                       place="高新区某小区")  # fmt: skip
    assert [p.order for p in made.proposals] == [first.id]  # same number, alike
    second = made.order.id
    desk.dispatch(CENTRE, second, "housing", now=at(11, 4, 10, 30))
    desk.act(HOUSING, second, Step(Action.SIGN, HOUSING, at(11, 4, 11)))
    desk.act(HOUSING, second, Step(Action.REPLY, HOUSING, at(11, 5, 16),
                                   text="物业费必须按时缴纳，不能缓缴"))  # fmt: skip
    desk.link(AGENT, second, now=at(11, 6, 10), phone=PHONE, call_id="c3")
    return first.id, second


def test_hengshui_three_calls_and_contradictory_answers(desk: Desk) -> None:
    first, second = hengshui(desk)
    found = desk.findings(AUDIT, now=at(11, 6, 12))
    assert rules(found, second) == {"contradiction", "repeat_calls"}
    assert rules(found, first) == set()
    clash = next(f for f in found if f.rule == "contradiction")
    assert "可以暂缓缴纳" in clash.summary
    assert "不能缓缴" in clash.summary
    assert [e.order for e in clash.related] == [first]  # the earlier answer, cited
    assert clash.departments == ("housing",)
    repeat = next(f for f in found if f.rule == "repeat_calls")
    assert [clash.timeline[i].call_id for i in repeat.marks] == ["c3"]
    assert [c.call_id for c in desk.store.order(second).callers] == ["c2", "c3"]


def jiading(desk: Desk) -> str:
    o = desk.create(AGENT, OrderType.COMPLAINT, "绿化",
                    "人行道上部分树木歪枝和高压线十分接近，存在安全隐患，希望修剪",
                    now=at(10, 28, 14), phone="13600000001", place="嘉定区某路").order  # fmt: skip
    desk.dispatch(CENTRE, o.id, "greening", now=at(10, 28, 14, 10))
    desk.act(GREENING, o.id, Step(Action.SIGN, GREENING, at(10, 28, 14, 30)))
    desk.act(GREENING, o.id, Step(Action.RETURN, GREENING, at(10, 28, 16),
                                  text="不在管辖范围"))  # fmt: skip
    desk.review(CENTRE, o.id, False, why="依据不充分，确属管辖范围", now=at(10, 29, 9))
    for day in (29, 30):
        desk.act(GREENING, o.id, Step(Action.REPLY, GREENING, at(10, day, 10),
                                      text="该处树木已修剪，不存在压倒高压线情况"))  # fmt: skip
        desk.act(GREENING, o.id, Step(Action.FINISH, GREENING, at(10, day, 10, 5),
                                      text="该处树木已修剪"))  # fmt: skip
        desk.review(CENTRE, o.id, False, why="依据不充分", now=at(10, day, 11))
    return o.id


def test_jiading_not_ours_then_finished_twice_without_looking(desk: Desk) -> None:
    order = jiading(desk)
    found = desk.findings(CENTRE, now=at(10, 30, 12))
    assert rules(found, order) == {"refused_finishes", "no_contact", "contradiction"}
    by_rule = {f.rule: f for f in found}
    assert len(by_rule["refused_finishes"].marks) == 2
    assert len(by_rule["no_contact"].marks) == 2  # both 办结 requests, no contact recorded
    assert "不在管辖范围" in by_rule["contradiction"].summary
    assert all(f.departments == ("greening",) for f in found)
    assert all(len(f.timeline) == 11 for f in found)  # the whole timeline, every time
    month = desk.report(CENTRE, "2026-10", now=at(10, 30, 12))["greening"]
    assert month.figures["退单率 refused"].numerator == 1
    assert month.figures["重办率"].numerator == 1
    assert month.figures["按时办结率"].numerator == 0
    assert month.figures["findings"].numerator == 3
    # the department sees its own findings; another department sees neither order nor them
    assert {f.rule for f in desk.findings(GREENING, now=at(10, 30, 12))} == rules(found, order)
    assert desk.findings(HOUSING, now=at(10, 30, 12)) == []


def yanggu(desk: Desk) -> str:
    o = desk.create(AGENT, OrderType.COMPLAINT, "不动产", "购房多年无法办理不动产权证，办证难",
                    now=at(11, 9, 9), phone="13500000002", place="阳谷县某小区").order  # fmt: skip
    desk.dispatch(CENTRE, o.id, "realty", now=at(11, 9, 9, 30))
    holder, other = REALTY, LAND
    for n in range(5):
        t = at(11, 10 + n, 10)
        desk.act(holder, o.id, Step(Action.SIGN, holder, t))
        desk.act(holder, o.id, Step(Action.RETURN, holder, t + 600_000,
                                    text="不属本单位职责，应由对方单位办理"))  # fmt: skip
        if n < 4:
            desk.review(CENTRE, o.id, True, why="改派", to=other.department, now=t + 3_600_000)
            holder, other = other, holder
    return o.id


def test_yanggu_two_bureaus_return_one_order_five_times(desk: Desk) -> None:
    order = yanggu(desk)
    found = desk.findings(CENTRE, now=at(11, 20, 12))
    assert rules(found, order) == {"returns", "passed_around", "overdue"}
    by_rule = {f.rule: f for f in found}
    assert "5 times" in by_rule["returns"].summary
    assert set(by_rule["passed_around"].departments) == {"realty", "land"}
    assert "realty → land → realty → land → realty" in by_rule["passed_around"].summary
    assert desk.store.order(order).state is State.RETURN_REQUESTED
    spells: list[Assignment] = assignments(desk.store.timeline(order))
    assert [a.department for a in spells] == ["realty", "land", "realty", "land", "realty"]


def test_all_three_and_a_normal_order_in_one_history(desk: Desk) -> None:
    normal_id = normal(desk)
    hengshui(desk)
    jiading(desk)
    yanggu(desk)
    found = desk.findings(CENTRE, now=at(11, 20, 12))
    assert rules(found, normal_id) == set()
    assert {f.order for f in found} == {o for o in desk.store.ids() if rules(found, o)}
    assert len({f.order for f in found}) == 3


def test_the_chase_reminds_then_supervises_once_each(desk: Desk) -> None:
    order = desk.create(AGENT, OrderType.HELP, "路灯", "路灯不亮一周了",
                        now=at(11, 2, 9), phone="13800000009").order  # fmt: skip
    # 3 working days from Monday 09:00: Wednesday 11-04 17:00
    assert desk.dispatch(CENTRE, order.id, "housing", now=at(11, 2, 9)).deadline == at(11, 4, 17)
    assert desk.chase(CENTRE, now=at(11, 4, 12)) == []
    early = desk.chase(CENTRE, now=at(11, 4, 14), apply=True)  # 4 h before
    assert [c.step.name for c in early] == ["催办"]
    late = desk.chase(CENTRE, now=at(11, 5, 18), apply=True)
    assert [c.step.name for c in late] == ["督办", "通报"]
    assert desk.chase(CENTRE, now=at(11, 9, 10), apply=True) == []  # each once
    urges = [e.text for e in desk.store.timeline(order.id) if e.action is Action.URGE]
    assert urges == ["[催办] 4 h before the deadline", "[督办] 0 h past the deadline",
                     "[通报] 24 h past the deadline"]  # fmt: skip
    with pytest.raises(OrderError, match="centre's"):
        desk.chase(HOUSING, now=at(11, 9, 10))
    # a 改派 starts a new spell: its deadline is chased afresh
    desk.act(HOUSING, order.id, Step(Action.RETURN, HOUSING, at(11, 9, 11), text="应由绿化"))
    desk.review(CENTRE, order.id, True, why="改派", to="greening", now=at(11, 9, 12))
    assert desk.chase(CENTRE, now=at(11, 30, 12)) != []
