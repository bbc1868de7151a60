"""Replay a recorded scenario (tests/fixtures/ami/scenarios) through the three reducers.

    scenario = load("answered_agent_hangs_up")
    run = replay(scenario)                 # run.ended["<call id>"] is its final CallRecord
    run.snapshots                          # at each QueueStatus + CoreShowChannels pair:
                                           # the model's and Asterisk's views

``python -m tests.unit.core.replay [ROUNDS]`` measures the reducers' throughput on the
captures (fresh messages each round, so each header index is built as in production).
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hotline.agents import Agents, PausePolicy
from hotline.agents import diff as agents_diff
from hotline.ami import EventList, Message, Protocol
from hotline.ami.message import MessageKind
from hotline.calls.state import CallAmended, CallEnded, Calls, CallUpdated
from hotline.core.records import AgentChange, CallRecord
from hotline.queues.state import Queues
from hotline.queues.state import diff as queues_diff

SCENARIOS = Path(__file__).resolve().parents[2] / "fixtures" / "ami" / "scenarios"
NAMES = sorted(p.stem for p in SCENARIOS.glob("*.raw"))
POLICY = PausePolicy(breaks=frozenset({"午饭", "培训", "会议", "meal"}))


@dataclass(frozen=True)
class QueueLogLine:
    epoch: int
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]


@dataclass(frozen=True)
class Scenario:
    name: str
    items: tuple[Message | EventList, ...]  # in stream order
    queue_log: tuple[QueueLogLine, ...]

    @property
    def events(self) -> list[Message]:
        return [m for m in self.items if isinstance(m, Message) and m.kind is MessageKind.EVENT]

    def log_of(self, callid: str) -> list[QueueLogLine]:
        return [line for line in self.queue_log if line.callid == callid]


@functools.cache
def load(name: str) -> Scenario:
    items = Protocol().receive_data((SCENARIOS / f"{name}.raw").read_bytes())
    lines = []
    for text in (SCENARIOS / f"{name}.queue_log").read_text(encoding="utf-8").splitlines():
        epoch, callid, queue, agent, event, *data = text.split("|")
        lines.append(QueueLogLine(int(epoch), callid, queue, agent, event, tuple(data)))
    return Scenario(name, tuple(items), tuple(lines))


@dataclass(frozen=True)
class Snapshot:
    queues: list[str]  # diff(model, Asterisk): empty when equal
    agents: list[str]
    calls: set[str]  # the model's calls in progress
    asterisk_calls: set[str]  # caller channels Asterisk listed


@dataclass
class Run:
    calls: Calls
    queues: Queues
    agents: Agents
    ended: dict[str, CallRecord] = field(default_factory=dict)
    updates: list[CallRecord] = field(default_factory=list)
    journal: list[AgentChange] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)


def replay(scenario: Scenario, *, wrapup_ms: dict[str, int] | None = None) -> Run:
    run = Run(Calls(), Queues(), Agents(policy=POLICY, wrapup_ms=wrapup_ms))
    status: EventList | None = None
    for item in scenario.items:
        if isinstance(item, EventList):
            if item.complete.name == "QueueStatusComplete":
                status = item
            elif item.complete.name == "CoreShowChannelsComplete" and status is not None:
                run.snapshots.append(_compare(run, status, item))
            continue
        if item.kind is not MessageKind.EVENT:
            continue
        apply(run, item)
    return run


def apply(run: Run, event: Message) -> None:
    for effect in run.calls.apply(event):
        if isinstance(effect, CallEnded | CallAmended):
            run.ended[effect.record.call_id] = effect.record
        else:
            assert isinstance(effect, CallUpdated)
            run.updates.append(effect.record)
    run.queues.apply(event)
    run.journal += run.agents.apply(event)


def _compare(run: Run, status: EventList, channels: EventList) -> Snapshot:
    now = run.calls.now
    theirs_q = Queues.from_status(status.events, channels.events, now=now)
    theirs_a = Agents.from_status(status.events, now=now, policy=POLICY)
    probe = Calls()
    probe.resync(channels.events, status.events, now=now)
    return Snapshot(
        queues_diff(run.queues, theirs_q),
        agents_diff(run.agents, theirs_a),
        {r.call_id for r in run.calls.records()},
        {r.call_id for r in probe.records()},
    )


def throughput(rounds: int = 50) -> tuple[int, float]:
    """(events, seconds) for Calls + Queues + Agents over every capture, ``rounds`` times."""
    raws = [(SCENARIOS / f"{name}.raw").read_bytes() for name in NAMES]
    batches = [
        [[m for m in Protocol().receive_data(raw) if isinstance(m, Message)] for raw in raws]
        for _ in range(rounds)
    ]
    count = sum(len(b) for r in batches for b in r)
    start = time.perf_counter()
    for batch in batches:
        for messages in batch:
            calls, queues, agents = Calls(), Queues(), Agents()
            for m in messages:
                if m.kind is MessageKind.EVENT:
                    calls.apply(m)
                    queues.apply(m)
                    agents.apply(m)
    return count, time.perf_counter() - start


if __name__ == "__main__":
    events, seconds = throughput(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
    print(f"{events} events in {seconds:.3f} s: {events / seconds:,.0f} events/s")
