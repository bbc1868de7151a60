"""The chase on the controller's timer, on a real SQLite file with a clock the test moves:
each step is taken once, by the centre's system actor, and shows on the order's timeline."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

import hotline.center
from hotline.casework import views
from hotline.casework.desk import Desk
from hotline.center.config import load_center
from hotline.controller.chaser import SYSTEM, Chaser
from hotline.core.localtime import CHINA
from hotline.orders.errors import OrderError
from hotline.orders.model import Action, Actor, OrderType, Side
from hotline.stores.orders import OrderStore

from .parts import Clock

CENTER = load_center((Path(hotline.center.__file__).parent / "center.yaml").read_text("utf-8"))
AGENT = Actor("wangfang", Side.INTAKE)
CENTRE = Actor("banzhang01", Side.CENTRE)


def at(month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA).timestamp()) * 1000


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    store = OrderStore.open(tmp_path / "h.sqlite3")
    yield Desk(store, CENTER.orders)
    assert store.verify() is None
    store.close()


def test_the_timer_chases_each_step_once_as_the_system(desk: Desk) -> None:
    order = desk.create(AGENT, OrderType.HELP, "路灯", "路灯不亮一周了",
                        now=at(11, 2, 9), phone="13800000009").order  # fmt: skip
    closed = desk.create(AGENT, OrderType.HELP, "路灯", "另一盏路灯不亮",
                         now=at(11, 2, 9), phone="13800000008").order  # fmt: skip
    assert desk.dispatch(CENTRE, order.id, "housing", now=at(11, 2, 9)).deadline == at(11, 4, 17)
    clock = Clock(at(11, 4, 12))
    chaser = Chaser(desk, clock)
    assert chaser.once() == []  # five hours before the deadline: nothing due
    clock.now = at(11, 4, 13)  # 4 h before: 催办
    assert [(c.order, c.step.name) for c in chaser.once()] == [(order.id, "催办")]
    assert chaser.once() == []  # the next minute: taken already
    clock.now = at(11, 5, 18)  # past the deadline and 24 h later: 督办, 通报
    assert [c.step.name for c in chaser.once()] == ["督办", "通报"]
    assert chaser.once() == []
    timeline = desk.store.timeline(order.id)
    urges = [e for e in timeline if e.action is Action.URGE]
    assert [(e.user, e.side, e.t) for e in urges] == [
        (SYSTEM.user, Side.CENTRE, at(11, 4, 13)),
        (SYSTEM.user, Side.CENTRE, at(11, 5, 18)),
        (SYSTEM.user, Side.CENTRE, at(11, 5, 18)),
    ]
    chased = [line for line in views.timeline_lines(timeline) if "  urge  " in line]
    assert len(chased) == 3
    assert all("system-chase" in line for line in chased)
    assert chased[0].endswith("「[催办] 4 h before the deadline」")
    assert desk.store.timeline(closed.id)[-1].action is Action.CREATE  # 受理: not chased


def test_serve_runs_every_tick_and_survives_a_failure(desk: Desk) -> None:
    order = desk.create(AGENT, OrderType.HELP, "路灯", "路灯不亮一周了",
                        now=at(11, 2, 9), phone="13800000009").order  # fmt: skip
    desk.dispatch(CENTRE, order.id, "housing", now=at(11, 2, 9))
    clock = Clock(at(11, 6, 9))
    chaser = Chaser(desk, clock, every_s=0.01)
    calls = 0
    real = desk.chase

    def flaky(*args: object, **kw: object) -> list[object]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OrderError("order changed meanwhile: show it and retry")
        return real(*args, **kw)  # type: ignore[arg-type]

    desk.chase = flaky  # type: ignore[method-assign]

    async def run() -> None:
        task = asyncio.create_task(chaser.serve())
        while calls < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    names = [e.text for e in desk.store.timeline(order.id) if e.action is Action.URGE]
    assert names == ["[催办] 4 h before the deadline", "[督办] 0 h past the deadline",
                     "[通报] 24 h past the deadline"]  # fmt: skip
