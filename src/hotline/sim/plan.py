"""Plan simulated traffic (pure): who calls when, what they press, how long they wait.

Arrivals are a Poisson process at ``rate`` calls per minute; each citizen picks a route of
the flow (menus and digits), has a patience (exponential, mean ``patience``) after which
they hang up if nobody answered, and a talk time once answered. Agents pause now and then
with a reason. Everything comes from one seeded ``random.Random``, so a plan is
reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hotline.ivr.model import Flow, Route, routes

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
PAUSE_REASONS = ("午饭", "培训", "会议", "如厕", "示忙")


@dataclass(frozen=True, slots=True)
class Citizen:
    at: float  # seconds after the start
    number: str
    name: str
    route: Route
    patience: float  # seconds they stay on the line after choosing
    talk: float  # seconds the agent talks once answered


@dataclass(frozen=True, slots=True)
class AgentPlan:
    ext: str
    name: str
    queues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pause:
    at: float
    agent: str  # ext
    seconds: float
    reason: str


@dataclass(frozen=True, slots=True)
class TrafficPlan:
    citizens: tuple[Citizen, ...]
    agents: tuple[AgentPlan, ...]
    pauses: tuple[Pause, ...]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def plan_traffic(
    flow: Flow,
    rng: random.Random,
    *,
    calls: int,
    rate: float,
    agents: int,
    patience: float = 60.0,
    talk: float = 20.0,
    pause_every: float = 300.0,
) -> TrafficPlan:
    """A reproducible plan of ``calls`` citizens and ``agents`` agents."""
    # routes that press a key at every menu: the no-input routes take the menus' full timeouts
    choices = [r for r in routes(flow) if all(r.digits)]
    queues = sorted(flow.queues)
    team = tuple(
        AgentPlan(
            ext=str(8001 + n),
            name=f"{_name(rng)}{8001 + n}",
            # everyone serves the operator queue and one or two specialities
            queues=tuple(sorted({flow.operator_queue, *rng.sample(queues, k=min(2, len(queues)))})),
        )
        for n in range(agents)
    )
    t = 0.0
    citizens = []
    for _ in range(calls):
        t += rng.expovariate(rate / 60.0)
        citizens.append(
            Citizen(
                at=round(t, 3),
                number=f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
                name=_name(rng),
                route=rng.choice(choices),
                patience=round(min(600.0, rng.expovariate(1 / patience) + 5), 1),
                talk=round(min(600.0, rng.expovariate(1 / talk) + 3), 1),
            )
        )
    horizon = t
    pauses = []
    for agent in team:
        at = rng.expovariate(1 / pause_every)
        while at < horizon:
            seconds = round(rng.uniform(10, 60), 1)
            pauses.append(Pause(round(at, 3), agent.ext, seconds, rng.choice(PAUSE_REASONS)))
            at += seconds + rng.expovariate(1 / pause_every)
    return TrafficPlan(tuple(citizens), team, tuple(sorted(pauses, key=lambda p: p.at)))
