"""The traffic plan: reproducible, Poisson-paced, every citizen on a real route."""

from __future__ import annotations

import random
import statistics

from hotline.host.settings import DEFAULT_FLOW
from hotline.ivr.loader import load_flow
from hotline.ivr.model import routes
from hotline.sim.plan import plan_traffic

FLOW = load_flow((DEFAULT_FLOW).read_text())


def test_the_same_seed_gives_the_same_plan() -> None:
    a = plan_traffic(FLOW, random.Random(7), calls=50, rate=10, agents=4)
    b = plan_traffic(FLOW, random.Random(7), calls=50, rate=10, agents=4)
    c = plan_traffic(FLOW, random.Random(8), calls=50, rate=10, agents=4)
    assert a == b
    assert a != c


def test_arrivals_follow_the_rate() -> None:
    plan = plan_traffic(FLOW, random.Random(1), calls=2000, rate=30, agents=2)
    gaps = [b.at - a.at for a, b in zip(plan.citizens, plan.citizens[1:], strict=False)]
    assert 1.8 < statistics.mean(gaps) < 2.2  # 30 per minute: one every 2 s on average
    assert all(gap >= 0 for gap in gaps)


def test_every_citizen_takes_a_route_of_the_flow_and_presses_keys() -> None:
    valid = {r.digits for r in routes(FLOW)}
    plan = plan_traffic(FLOW, random.Random(2), calls=300, rate=10, agents=3)
    assert {c.route.digits for c in plan.citizens} <= valid
    assert all(all(c.route.digits) for c in plan.citizens)
    assert len({c.route.queue for c in plan.citizens}) == len(FLOW.queues)
    assert all(len(c.number) == 11 and c.number.startswith("1") for c in plan.citizens)


def test_agents_serve_the_operator_queue_and_pause_with_reasons() -> None:
    plan = plan_traffic(FLOW, random.Random(3), calls=200, rate=10, agents=5, pause_every=60)
    assert len(plan.agents) == 5
    assert all(FLOW.operator_queue in a.queues for a in plan.agents)
    assert plan.pauses
    assert {p.agent for p in plan.pauses} <= {a.ext for a in plan.agents}
    assert all(p.reason for p in plan.pauses)
    assert [p.at for p in plan.pauses] == sorted(p.at for p in plan.pauses)
